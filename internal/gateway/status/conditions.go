package status

import (
	"slices"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// mergeConditions returns next with lastTransitionTime taken from prev
// where the condition's status did not change, and now elsewhere.
func mergeConditions(prev, next []metav1.Condition, now metav1.Time) []metav1.Condition {
	if next == nil {
		return nil
	}
	out := slices.Clone(next)
	for i := range out {
		if p := apimeta.FindStatusCondition(prev, out[i].Type); p != nil && p.Status == out[i].Status && !p.LastTransitionTime.IsZero() {
			out[i].LastTransitionTime = p.LastTransitionTime
		} else {
			out[i].LastTransitionTime = now
		}
	}
	return out
}
