package resources

import (
	"k8s.io/apimachinery/pkg/util/intstr"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// Defaults applied by the builders where the API leaves a field unset.
const (
	// DefaultReplicas is the size of a WebApp that sets neither replicas nor autoscaling.
	DefaultReplicas int32 = 1
	// DefaultTargetCPUUtilization is the HPA target when autoscaling sets no target.
	DefaultTargetCPUUtilization int32 = 80
	// ContainerName is the name of the app's container.
	ContainerName = "app"
	// PortName names the container port and the Service's target port.
	PortName = "http"
	// ServicePort is the port the Service listens on.
	ServicePort int32 = 80
	// DefaultPreStopSleepSeconds is how long a terminating Pod keeps
	// serving before SIGTERM, so EndpointSlices and routers stop sending it
	// requests first. The API's CEL rule repeats this default.
	DefaultPreStopSleepSeconds int32 = 5
	// DefaultTerminationGracePeriodSeconds is the time from a Pod's
	// deletion until its container is killed (Kubernetes' own default).
	// The API's CEL rule repeats this default.
	DefaultTerminationGracePeriodSeconds int64 = 30
	// TmpVolumeName is the emptyDir mounted at /tmp when the root
	// filesystem is read-only.
	TmpVolumeName = "tmp"
	// TmpPath is where that volume is mounted.
	TmpPath = "/tmp"
)

// StableReplicas is the number of stable Pods Pylon asks for, and whether
// Pylon sets it at all (false when an HPA owns the number).
func StableReplicas(app *pylonv1alpha1.WebApp) (int32, bool) {
	if app.Spec.Autoscaling != nil {
		return 0, false
	}
	if app.Spec.Replicas != nil {
		return *app.Spec.Replicas, true
	}
	return DefaultReplicas, true
}

// minimumStableReplicas is the fewest stable Pods the app runs in normal
// operation: the fixed size, or the autoscaler's minimum.
func minimumStableReplicas(app *pylonv1alpha1.WebApp) int32 {
	if a := app.Spec.Autoscaling; a != nil {
		return max(a.MinReplicas, 1)
	}
	n, _ := StableReplicas(app)
	return n
}

// port is the container port, 8080 when the API default was not applied.
func port(app *pylonv1alpha1.WebApp) int32 {
	if app.Spec.Port == 0 {
		return 8080
	}
	return app.Spec.Port
}

func intOrPercent(s string) *intstr.IntOrString {
	v := intstr.FromString(s)
	return &v
}

func intOrInt(i int32) *intstr.IntOrString {
	v := intstr.FromInt32(i)
	return &v
}
