package ir

import "net/http"

// NoBackendReason is the body of the 500 a rule answers when none of its
// backends can take traffic: it has no backends, or every weight is zero.
const NoBackendReason = "rule has no backend with weight > 0"

// NewAction returns the action of a rule: the filters of base (nil: none)
// followed by a weighted choice among backends. It is the one place that
// keeps the invariants Validate checks: TotalWeight is the sum of the
// backends' weights (invalid ones included, their share answers 500), and
// a rule that does not redirect and has no weight to share answers 500
// (Gateway API) instead of picking nothing at request time.
func NewAction(base *Action, backends ...*Backend) *Action {
	a := &Action{}
	if base != nil {
		*a = *base
	}
	a.Backends, a.TotalWeight, a.DirectResponse = nil, 0, nil
	for _, b := range backends {
		a.Backends = append(a.Backends, b)
		a.TotalWeight += int64(b.Weight)
	}
	if a.Redirect == nil && a.TotalWeight == 0 {
		a.DirectResponse = &DirectResponse{Status: http.StatusInternalServerError, Reason: NoBackendReason}
	}
	return a
}
