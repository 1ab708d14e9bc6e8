package resources

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/contract"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
)

// CanaryActive reports whether the spec declares a running canary: a
// weight above 0 or a header match. A canary at weight 0 without a header
// match is retired.
func CanaryActive(app *pylonv1alpha1.WebApp) bool {
	c := app.Spec.Canary
	return c != nil && (c.Weight > 0 || c.HeaderMatch != nil)
}

// Canary is what the reconciler decided about the canary. The builders read
// nothing else about it, so they stay pure: whether its children exist,
// what it runs, and the effective weight routes give it, which is not the
// declared weight while the canary has no available Pod, while analysis
// steps it up, after a rollback or while it drains before removal.
type Canary struct {
	// Run says the canary's children exist.
	Run bool
	// Image is the image the canary runs.
	Image string
	// Weight is the effective share of requests in percent (0 to 100).
	Weight int32
	// SizeWeight is the share the canary is sized for: the weight it is
	// being brought to (the declared weight or the analysis step), so that
	// its Pods are up before the routes move that share to it. While the
	// canary is rolled back or drains it equals Weight.
	SizeWeight int32
	// HeaderMatch sends matching requests to the canary whatever the weight.
	HeaderMatch *pylonv1alpha1.HeaderMatch
}

// DeclaredCanary is the canary exactly as the spec declares it.
func DeclaredCanary(app *pylonv1alpha1.WebApp) Canary {
	if !CanaryActive(app) {
		return Canary{}
	}
	c := app.Spec.Canary
	return Canary{Run: true, Image: c.Image, Weight: c.Weight, SizeWeight: c.Weight, HeaderMatch: c.HeaderMatch}
}

// proportion is n×weight/100 rounded up, and at least 1: a canary that runs
// runs at least one Pod.
func proportion(n, weight int32) int32 {
	return max(1, (n*weight+contract.WeightTotal-1)/contract.WeightTotal)
}

// CanaryReplicas is the number of canary Pods Pylon asks for, sized by
// c.SizeWeight, and whether Pylon sets it (false when the canary's HPA
// owns the number).
func CanaryReplicas(app *pylonv1alpha1.WebApp, c Canary) (int32, bool) {
	if app.Spec.Autoscaling != nil {
		return 0, false
	}
	n, _ := StableReplicas(app)
	return proportion(n, c.SizeWeight), true
}

// MakeCanaryDeployment builds the canary Deployment: the stable Pod template
// with the canary image, sized in proportion to the weight.
func MakeCanaryDeployment(app *pylonv1alpha1.WebApp, c Canary) *appsv1.Deployment {
	if !c.Run {
		return nil
	}
	d := MakeDeployment(app)
	d.ObjectMeta = objectMeta(app, names.Canary(app))
	d.Spec.Selector = &metav1.LabelSelector{MatchLabels: SelectorLabels(app, TrackCanary)}
	d.Spec.Template = podTemplate(app, TrackCanary, c.Image)
	d.Spec.Replicas = nil
	if n, ok := CanaryReplicas(app, c); ok {
		d.Spec.Replicas = ptr.To(n)
	}
	return d
}

// MakeCanaryService builds the Service of the canary Pods.
func MakeCanaryService(app *pylonv1alpha1.WebApp, c Canary) *corev1.Service {
	if !c.Run {
		return nil
	}
	s := MakeService(app)
	s.ObjectMeta = objectMeta(app, names.Canary(app))
	s.Spec.Selector = SelectorLabels(app, TrackCanary)
	return s
}

// MakeCanaryHorizontalPodAutoscaler builds the canary's HPA when the app
// autoscales: the stable bounds scaled by the weight, at least 1.
func MakeCanaryHorizontalPodAutoscaler(app *pylonv1alpha1.WebApp, c Canary) *autoscalingv2.HorizontalPodAutoscaler {
	if !c.Run || app.Spec.Autoscaling == nil {
		return nil
	}
	h := MakeHorizontalPodAutoscaler(app)
	h.ObjectMeta = objectMeta(app, names.Canary(app))
	h.Spec.ScaleTargetRef.Name = names.Canary(app)
	w := c.SizeWeight
	lo := proportion(max(app.Spec.Autoscaling.MinReplicas, 1), w)
	h.Spec.MinReplicas = ptr.To(lo)
	h.Spec.MaxReplicas = max(lo, proportion(app.Spec.Autoscaling.MaxReplicas, w))
	return h
}

// MakeCanaryPodDisruptionBudget builds the canary's PDB, only when the
// canary runs at least 2 Pods: a budget on a single canary Pod would block
// every node drain.
func MakeCanaryPodDisruptionBudget(app *pylonv1alpha1.WebApp, c Canary) *policyv1.PodDisruptionBudget {
	if !c.Run {
		return nil
	}
	least, fixed := CanaryReplicas(app, c)
	if !fixed {
		least = proportion(max(app.Spec.Autoscaling.MinReplicas, 1), c.SizeWeight)
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
