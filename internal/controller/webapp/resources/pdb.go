package resources

import (
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
)

// MakePodDisruptionBudget builds the stable Pods' PDB. Without
// spec.availability: maxUnavailable 1 when the app runs at least 2 Pods, and
// no budget for a single Pod (a budget there would block every node drain).
// Unhealthy Pods may always be evicted, so a crash-looping app never blocks
// a drain either.
func MakePodDisruptionBudget(app *pylonv1alpha1.WebApp) *policyv1.PodDisruptionBudget {
	spec := policyv1.PodDisruptionBudgetSpec{
		Selector:                   &metav1.LabelSelector{MatchLabels: SelectorLabels(app, TrackStable)},
		UnhealthyPodEvictionPolicy: ptr.To(policyv1.AlwaysAllow),
	}
	switch av := app.Spec.Availability; {
	case av != nil && av.MinAvailable != nil:
		spec.MinAvailable = ptr.To(*av.MinAvailable)
	case av != nil && av.MaxUnavailable != nil:
		spec.MaxUnavailable = ptr.To(*av.MaxUnavailable)
	case minimumStableReplicas(app) >= 2:
		spec.MaxUnavailable = intOrInt(1)
	default:
		return nil
	}
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: objectMeta(app, names.PodDisruptionBudget(app)),
		Spec:       spec,
	}
}
