package claims

import (
	"strings"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// goesBefore reports whether a has the better right to a hostname than b:
// the older WebApp first. Creation timestamps have a resolution of one
// second, so WebApps created in the same second are ordered by namespace,
// then name, and every reconcile of every claimant agrees on one order.
// The UID only separates a WebApp from an earlier one of the same name
// (which is never a claimant at the same time, but the order stays total).
func goesBefore(a, b *pylonv1alpha1.WebApp) bool { return compare(a, b) < 0 }

// compare orders WebApps as goesBefore does, for slices.SortFunc.
func compare(a, b *pylonv1alpha1.WebApp) int {
	if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return strings.Compare(string(a.UID), string(b.UID))
}
