package ir

import (
	"cmp"
	"slices"
	"strings"
)

// hostRank orders hostnames: exact names first (longer first), then wildcards
// (longer first), then the catch-all. Gateway API: "precedence must be given
// to rules from the HTTPRoute with the largest number of characters in a
// matching non-wildcard hostname, then characters in a matching hostname".
func compareHostnames(a, b string) int {
	ca, cb := hostClass(a), hostClass(b)
	if ca != cb {
		return cmp.Compare(ca, cb)
	}
	if c := cmp.Compare(len(b), len(a)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func hostClass(h string) int {
	switch {
	case h == "":
		return 2
	case IsWildcard(h):
		return 1
	default:
		return 0
	}
}

func pathRank(t PathMatchType) int {
	switch t {
	case PathExact:
		return 0
	case PathPrefix:
		return 1
	default:
		return 2
	}
}

// CompareRoutes orders two routes of the same host by Gateway API match
// precedence: Exact path over prefix, longest prefix, method match, most
// header matches, most query matches, then the oldest object, then
// namespace/name, then rule and match order. Negative means a wins.
func CompareRoutes(a, b *Route) int {
	if c := cmp.Compare(pathRank(a.Path.Type), pathRank(b.Path.Type)); c != 0 {
		return c
	}
	if c := cmp.Compare(len(b.Path.Value), len(a.Path.Value)); c != 0 {
		return c
	}
	if c := cmp.Compare(boolRank(a.Method != ""), boolRank(b.Method != "")); c != 0 {
		return c
	}
	if c := cmp.Compare(len(b.Headers), len(a.Headers)); c != 0 {
		return c
	}
	if c := cmp.Compare(len(b.Query), len(a.Query)); c != 0 {
		return c
	}
	if c := a.Source.CreationTimestamp.Compare(b.Source.CreationTimestamp); c != 0 {
		return c
	}
	if c := strings.Compare(a.Source.Namespace, b.Source.Namespace); c != 0 {
		return c
	}
	if c := strings.Compare(a.Source.Name, b.Source.Name); c != 0 {
		return c
	}
	if c := strings.Compare(a.Source.Kind, b.Source.Kind); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Source.Rule, b.Source.Rule); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Source.Match, b.Source.Match); c != 0 {
		return c
	}
	// Fully identical positions can only differ by path value or listener;
	// keep the order total so sorting is deterministic.
	if c := strings.Compare(a.Path.Value, b.Path.Value); c != 0 {
		return c
	}
	return strings.Compare(a.Listener, b.Listener)
}

func boolRank(b bool) int {
	if b {
		return 0
	}
	return 1
}

// SortRoutes sorts routes in place by CompareRoutes.
func SortRoutes(routes []*Route) { slices.SortStableFunc(routes, CompareRoutes) }
