package translate

import (
	"slices"
	"strings"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// intersectHostname returns the hostname requests must have to reach a
// route hostname r through a listener hostname l ("" = any), and whether
// there is any such host. The more specific of the two wins: listener
// "*.example.com" with route "foo.example.com" gives "foo.example.com";
// listener "foo.example.com" with route "*.example.com" gives
// "foo.example.com"; two nested wildcards give the longer one.
func intersectHostname(l, r string) (string, bool) {
	switch {
	case l == "":
		return r, true
	case r == "":
		return l, true
	case ir.PatternCovers(l, r):
		return r, true
	case ir.PatternCovers(r, l):
		return l, true
	default:
		return "", false
	}
}

// effectiveHostnames lists the hosts a route serves through a listener,
// sorted and without duplicates; nil means the route does not intersect.
func effectiveHostnames(listener string, route []string) []string {
	if len(route) == 0 {
		return []string{listener}
	}
	var out []string
	for _, r := range route {
		if h, ok := intersectHostname(listener, strings.ToLower(r)); ok {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
