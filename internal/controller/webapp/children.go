package webapp

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
)

var (
	deploymentGVK = appsv1.SchemeGroupVersion.WithKind("Deployment")
	serviceGVK    = corev1.SchemeGroupVersion.WithKind("Service")
	hpaGVK        = autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler")
	pdbGVK        = policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget")
)

// child is one object a WebApp may have.
type child struct {
	gvk  schema.GroupVersionKind
	name string
	// desired is what the builders declare; nil means it must not exist.
	desired client.Object
}

// desiredChildren lists every child kind Pylon manages for app, in the order
// they are applied: workload before the objects that point at it.
func desiredChildren(app *pylonv1alpha1.WebApp) []child {
	out := []child{
		{gvk: deploymentGVK, name: names.Deployment(app), desired: resources.MakeDeployment(app)},
		{gvk: serviceGVK, name: names.Service(app), desired: resources.MakeService(app)},
		{gvk: hpaGVK, name: names.HorizontalPodAutoscaler(app)},
		{gvk: pdbGVK, name: names.PodDisruptionBudget(app)},
	}
	if hpa := resources.MakeHorizontalPodAutoscaler(app); hpa != nil {
		out[2].desired = hpa
	}
	if pdb := resources.MakePodDisruptionBudget(app); pdb != nil {
		out[3].desired = pdb
	}
	return out
}
