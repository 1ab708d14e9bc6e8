package resources

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
)

// CanaryActive reports whether the canary runs: it has a weight above 0 or
// a header match. A canary at weight 0 without a header match is removed.
func CanaryActive(app *pylonv1alpha1.WebApp) bool {
	c := app.Spec.Canary
	return c != nil && (c.Weight > 0 || c.HeaderMatch != nil)
}

// CanaryWeight is the share of traffic, in percent, the canary receives.
func CanaryWeight(app *pylonv1alpha1.WebApp) int32 {
	if !CanaryActive(app) {
		return 0
	}
	return app.Spec.Canary.Weight
}

// proportion is n×weight/100 rounded up, and at least 1: a canary that runs
// runs at least one Pod.
func proportion(n, weight int32) int32 {
	return max(1, (n*weight+99)/100)
}

// CanaryReplicas is the number of canary Pods Pylon asks for, and whether
// Pylon sets it (false when the canary's HPA owns the number).
func CanaryReplicas(app *pylonv1alpha1.WebApp) (int32, bool) {
	if app.Spec.Autoscaling != nil {
		return 0, false
	}
	n, _ := StableReplicas(app)
	return proportion(n, CanaryWeight(app)), true
}

// MakeCanaryDeployment builds the canary Deployment: the stable Pod template
// with the canary image, sized in proportion to the weight.
func MakeCanaryDeployment(app *pylonv1alpha1.WebApp) *appsv1.Deployment {
	if !CanaryActive(app) {
		return nil
	}
	d := MakeDeployment(app)
	d.ObjectMeta = objectMeta(app, names.Canary(app))
	d.Spec.Selector = &metav1.LabelSelector{MatchLabels: SelectorLabels(app, TrackCanary)}
	d.Spec.Template = podTemplate(app, TrackCanary, app.Spec.Canary.Image)
	d.Spec.Replicas = nil
	if n, ok := CanaryReplicas(app); ok {
		d.Spec.Replicas = ptr.To(n)
	}
	return d
}

// MakeCanaryService builds the Service of the canary Pods.
func MakeCanaryService(app *pylonv1alpha1.WebApp) *corev1.Service {
	if !CanaryActive(app) {
		return nil
	}
	s := MakeService(app)
	s.ObjectMeta = objectMeta(app, names.Canary(app))
	s.Spec.Selector = SelectorLabels(app, TrackCanary)
	return s
}

// MakeCanaryHorizontalPodAutoscaler builds the canary's HPA when the app
// autoscales: the stable bounds scaled by the weight, at least 1.
func MakeCanaryHorizontalPodAutoscaler(app *pylonv1alpha1.WebApp) *autoscalingv2.HorizontalPodAutoscaler {
	if !CanaryActive(app) || app.Spec.Autoscaling == nil {
		return nil
	}
	h := MakeHorizontalPodAutoscaler(app)
	h.ObjectMeta = objectMeta(app, names.Canary(app))
	h.Spec.ScaleTargetRef.Name = names.Canary(app)
	w := CanaryWeight(app)
	lo := proportion(max(app.Spec.Autoscaling.MinReplicas, 1), w)
	h.Spec.MinReplicas = ptr.To(lo)
	h.Spec.MaxReplicas = max(lo, proportion(app.Spec.Autoscaling.MaxReplicas, w))
	return h
}

// MakeCanaryPodDisruptionBudget builds the canary's PDB, only when the
// canary runs at least 2 Pods: a budget on a single canary Pod would block
// every node drain.
func MakeCanaryPodDisruptionBudget(app *pylonv1alpha1.WebApp) *policyv1.PodDisruptionBudget {
	if !CanaryActive(app) {
		return nil
	}
	least, fixed := CanaryReplicas(app)
	if !fixed {
		least = proportion(max(app.Spec.Autoscaling.MinReplicas, 1), CanaryWeight(app))
	}
	if least < 2 {
		return nil
	}
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: objectMeta(app, names.Canary(app)),
		Spec: policyv1.PodDisruptionBudgetSpec{
			Selector:                   &metav1.LabelSelector{MatchLabels: SelectorLabels(app, TrackCanary)},
			MaxUnavailable:             intOrInt(1),
			UnhealthyPodEvictionPolicy: ptr.To(policyv1.AlwaysAllow),
		},
	}
}
