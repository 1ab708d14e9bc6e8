package conditions

import (
	"sort"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Merge returns the conditions a status should carry: exactly the types in
// want, in want's order of type name, each keeping the LastTransitionTime of
// the same type in old when its status did not change and taking now when it
// did. old is not modified. Types in old but not in want are dropped, which is
// how an abnormal-true condition (Reconciling, Stalled) disappears once false.
func Merge(old, want []metav1.Condition, now metav1.Time) []metav1.Condition {
	out := make([]metav1.Condition, 0, len(want))
	for _, w := range want {
		c := w
		if prev := meta.FindStatusCondition(old, w.Type); prev != nil && prev.Status == w.Status {
			c.LastTransitionTime = prev.LastTransitionTime
		} else {
			c.LastTransitionTime = now
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// Transitioned reports whether condType has a different status in next than
// in prev (absent counts as a status of its own).
func Transitioned(prev, next []metav1.Condition, condType string) bool {
	p, n := meta.FindStatusCondition(prev, condType), meta.FindStatusCondition(next, condType)
	switch {
	case p == nil && n == nil:
		return false
	case p == nil || n == nil:
		return true
	default:
		return p.Status != n.Status
	}
}
