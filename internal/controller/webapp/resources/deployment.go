package resources

import (
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
)

// MakeDeployment builds the stable Deployment. With autoscaling it leaves
// spec.replicas unset: the HPA owns the number, and setting it would make
// Pylon and the HPA fight over it.
func MakeDeployment(app *pylonv1alpha1.WebApp) *appsv1.Deployment {
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: objectMeta(app, names.Deployment(app)),
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: SelectorLabels(app, TrackStable)},
			// Keep capacity during a rollout: start a new Pod before stopping an old one.
			Strategy: appsv1.DeploymentStrategy{
				Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxUnavailable: intOrInt(0),
					MaxSurge:       intOrPercent("25%"),
				},
			},
			Template: podTemplate(app, TrackStable, app.Spec.Image),
		},
	}
	if n, ok := StableReplicas(app); ok {
		d.Spec.Replicas = ptr.To(n)
	}
	return d
}

// podTemplate is the Pod template of one track running image.
func podTemplate(app *pylonv1alpha1.WebApp, track, image string) corev1.PodTemplateSpec {
	spec := app.Spec
	c := corev1.Container{
		Name:    ContainerName,
		Image:   image,
		Command: spec.Command,
		Args:    spec.Args,
		Ports: []corev1.ContainerPort{{
			Name:          PortName,
			ContainerPort: port(app),
			Protocol:      corev1.ProtocolTCP,
		}},
		Env:             spec.Env,
		EnvFrom:         spec.EnvFrom,
		ReadinessProbe:  readinessProbe(spec.ReadinessProbe),
		LivenessProbe:   httpProbe(spec.LivenessProbe),
		Lifecycle:       lifecycle(app),
		SecurityContext: containerSecurityContext(app),
	}
	volumes, mounts := tmpVolume(app)
	c.VolumeMounts = mounts
	if spec.Resources != nil {
		c.Resources = *spec.Resources
	}
	t := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: PodLabels(app, track)},
		Spec: corev1.PodSpec{
			Containers:         []corev1.Container{c},
			ServiceAccountName: spec.ServiceAccountName,
			ImagePullSecrets:   spec.ImagePullSecrets,
			// Service links inject an environment variable per Service in the
			// namespace: noise at best, a name clash at worst.
			EnableServiceLinks:            ptr.To(false),
			SecurityContext:               podSecurityContext(app),
			TerminationGracePeriodSeconds: ptr.To(TerminationGracePeriodSeconds(app)),
			Volumes:                       volumes,
		},
	}
	if len(spec.PodAnnotations) > 0 {
		t.Annotations = maps.Clone(spec.PodAnnotations)
	}
	return t
}

// readinessProbe is an HTTP GET when the WebApp names a path, else a TCP
// connection: a plain GET / would fail apps that answer 404 there.
func readinessProbe(p *pylonv1alpha1.ProbeSpec) *corev1.Probe {
	if p != nil {
		return httpProbe(p)
	}
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString(PortName)}},
	}
}

func httpProbe(p *pylonv1alpha1.ProbeSpec) *corev1.Probe {
	if p == nil {
		return nil
	}
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path:   p.Path,
			Port:   intstr.FromString(PortName),
			Scheme: corev1.URISchemeHTTP,
		}},
		InitialDelaySeconds: p.InitialDelaySeconds,
		PeriodSeconds:       p.PeriodSeconds,
		TimeoutSeconds:      p.TimeoutSeconds,
		FailureThreshold:    p.FailureThreshold,
	}
}
