package translate

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// compiledRoute is an HTTPRoute turned into table material once, shared by
// all of its parents.
type compiledRoute struct {
	route      *gwv1.HTTPRoute
	hostnames  []string
	rules      []compiledRule
	badRefs    []badRef
	attachedTo map[*listenerInfo]bool
}

// compiledRule is one rule: its matches and its shared action, or why it
// was dropped.
type compiledRule struct {
	matches       []matchSpec
	action        *ir.Action
	invalid       bool
	invalidReason gwv1.RouteConditionReason
	invalidMsg    string
}

// matchSpec is one compiled match; Route entries are stamped from it per
// effective hostname.
type matchSpec struct {
	path    ir.PathMatch
	method  string
	headers []ir.ValueMatch
	query   []ir.ValueMatch
}

// badRef is a backendRef that cannot be used, with its ResolvedRefs reason.
type badRef struct {
	reason gwv1.RouteConditionReason
	msg    string
}

func (t *translator) compileHTTPRoute(hr *gwv1.HTTPRoute) *compiledRoute {
	cr := &compiledRoute{route: hr, attachedTo: map[*listenerInfo]bool{}}
	for _, h := range hr.Spec.Hostnames {
		cr.hostnames = append(cr.hostnames, strings.ToLower(string(h)))
	}
	rules := hr.Spec.Rules
	if len(rules) == 0 {
		// The CRD default: one rule matching everything, with no backends.
		rules = []gwv1.HTTPRouteRule{{}}
	}
	for i := range rules {
		cr.rules = append(cr.rules, t.compileRule(cr, i, &rules[i]))
	}
	return cr
}

func (t *translator) compileRule(cr *compiledRoute, idx int, rule *gwv1.HTTPRouteRule) compiledRule {
	var out compiledRule
	drop := func(reason gwv1.RouteConditionReason, format string, a ...any) compiledRule {
		return compiledRule{invalid: true, invalidReason: reason, invalidMsg: fmt.Sprintf("rule %d: ", idx) + fmt.Sprintf(format, a...)}
	}
	matches := rule.Matches
	if len(matches) == 0 {
		matches = []gwv1.HTTPRouteMatch{{}}
	}
	for _, m := range matches {
		ms, err := compileMatch(m)
		if err != nil {
			return drop(gwv1.RouteReasonUnsupportedValue, "%v", err)
		}
		out.matches = append(out.matches, ms)
	}
	action, reason, err := compileFilters(rule.Filters)
	if err != nil {
		return drop(reason, "%v", err)
	}
	for _, pm := range []*ir.PathModifier{redirectPath(action.Redirect), rewritePath(action.Rewrite)} {
		if pm == nil || pm.Type != ir.ReplacePrefixMatch {
			continue
		}
		for _, ms := range out.matches {
			if ms.path.Type != ir.PathPrefix {
				return drop(gwv1.RouteReasonUnsupportedValue, "ReplacePrefixMatch requires every match to be a PathPrefix match")
			}
		}
	}
	if action.Timeouts, err = compileTimeouts(rule.Timeouts); err != nil {
		return drop(gwv1.RouteReasonUnsupportedValue, "%v", err)
	}
	for j, br := range rule.BackendRefs {
		if len(br.Filters) > 0 {
			return drop(gwv1.RouteReasonUnsupportedValue, "backendRefs[%d]: filters on backendRefs are not supported", j)
		}
	}
	backends := make([]*ir.Backend, 0, len(rule.BackendRefs))
	for j, br := range rule.BackendRefs {
		weight := int32(1)
		if br.Weight != nil {
			weight = *br.Weight
		}
		b, bad := t.resolveBackendRef(cr.route.Namespace, br.BackendObjectReference, weight)
		if bad != nil {
			bad.msg = fmt.Sprintf("rule %d backendRefs[%d]: %s", idx, j, bad.msg)
			cr.badRefs = append(cr.badRefs, *bad)
		}
		backends = append(backends, b)
	}
	out.action = ir.NewAction(action, backends...)
	return out
}

func compileMatch(m gwv1.HTTPRouteMatch) (matchSpec, error) {
	var ms matchSpec
	pt, pv := gwv1.PathMatchPathPrefix, "/"
	if m.Path != nil {
		if m.Path.Type != nil {
			pt = *m.Path.Type
		}
		if m.Path.Value != nil {
			pv = *m.Path.Value
		}
	}
	var err error
	if ms.path, err = ir.NewPathMatch(ir.PathMatchType(pt), pv); err != nil {
		return ms, fmt.Errorf("path: %w", err)
	}
	if m.Method != nil {
		ms.method = string(*m.Method)
	}
	// Only the first entry for a name counts (names are case-insensitive
	// for headers), as the spec requires.
	seen := map[string]bool{}
	for _, h := range m.Headers {
		typ := gwv1.HeaderMatchExact
		if h.Type != nil {
			typ = *h.Type
		}
		vm, err := ir.NewHeaderMatch(ir.ValueMatchType(typ), string(h.Name), h.Value)
		if err != nil {
			return ms, fmt.Errorf("header %q: %w", h.Name, err)
		}
		if !seen[vm.Name] {
			seen[vm.Name] = true
			ms.headers = append(ms.headers, vm)
		}
	}
	seen = map[string]bool{}
	for _, q := range m.QueryParams {
		typ := gwv1.QueryParamMatchExact
		if q.Type != nil {
			typ = *q.Type
		}
		vm, err := ir.NewQueryMatch(ir.ValueMatchType(typ), string(q.Name), q.Value)
		if err != nil {
			return ms, fmt.Errorf("query parameter %q: %w", q.Name, err)
		}
		if !seen[vm.Name] {
			seen[vm.Name] = true
			ms.query = append(ms.query, vm)
		}
	}
	return ms, nil
}

func compileTimeouts(to *gwv1.HTTPRouteTimeouts) (ir.Timeouts, error) {
	var out ir.Timeouts
	if to == nil {
		return out, nil
	}
	parse := func(field string, d *gwv1.Duration) (time.Duration, error) {
		if d == nil {
			return 0, nil
		}
		v, err := time.ParseDuration(string(*d))
		if err != nil || v < 0 {
			return 0, fmt.Errorf("timeouts.%s %q is not a valid duration", field, *d)
		}
		return v, nil
	}
	var err error
	if out.Request, err = parse("request", to.Request); err != nil {
		return out, err
	}
	if out.BackendRequest, err = parse("backendRequest", to.BackendRequest); err != nil {
		return out, err
	}
	if out.Request > 0 && out.BackendRequest > out.Request {
		return out, fmt.Errorf("timeouts.backendRequest %s exceeds timeouts.request %s", out.BackendRequest, out.Request)
	}
	return out, nil
}

func redirectPath(r *ir.Redirect) *ir.PathModifier {
	if r == nil {
		return nil
	}
	return r.Path
}

func rewritePath(r *ir.Rewrite) *ir.PathModifier {
	if r == nil {
		return nil
	}
	return r.Path
}

// validRules lists the indexes of rules that made it into the table.
func (cr *compiledRoute) validRules() []int {
	var out []int
	for i, r := range cr.rules {
		if !r.invalid {
			out = append(out, i)
		}
	}
	return out
}

func (cr *compiledRoute) invalidReason() gwv1.RouteConditionReason {
	for _, r := range cr.rules {
		if r.invalid {
			return r.invalidReason
		}
	}
	return gwv1.RouteReasonUnsupportedValue
}

func (cr *compiledRoute) invalidMessages() []string {
	var out []string
	for _, r := range cr.rules {
		if r.invalid {
			out = append(out, r.invalidMsg)
		}
	}
	return out
}

func (cr *compiledRoute) resolvedRefsCondition() metav1.Condition {
	gen := cr.route.Generation
	if len(cr.badRefs) == 0 {
		return condition(gwv1.RouteConditionResolvedRefs, true, gwv1.RouteReasonResolvedRefs, "all references resolved", gen)
	}
	msgs := make([]string, 0, len(cr.badRefs))
	for _, b := range cr.badRefs {
		msgs = append(msgs, b.msg)
	}
	return condition(gwv1.RouteConditionResolvedRefs, false, cr.badRefs[0].reason, strings.Join(msgs, "; "), gen)
}

// partiallyInvalidCondition is set only when some rules were dropped and
// some kept ("Drop Rule" approach of the spec).
func (cr *compiledRoute) partiallyInvalidCondition() (metav1.Condition, bool) {
	valid := len(cr.validRules())
	if valid == 0 || valid == len(cr.rules) {
		return metav1.Condition{}, false
	}
	return condition(gwv1.RouteConditionPartiallyInvalid, true, gwv1.RouteReasonUnsupportedValue,
		"Dropped Rule(s): "+strings.Join(cr.invalidMessages(), "; "), cr.route.Generation), true
}
