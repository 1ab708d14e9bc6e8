package translate

import (
	"fmt"
	"reflect"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/internal/contract"
)

// routeEntry is one HTTPRoute with a parent of ours and the plan for each
// such parent.
type routeEntry struct {
	hr      *gwv1.HTTPRoute
	cr      *compiledRoute
	parents []parentPlan
}

// parentPlan is what one parentRef resolved to before hostname ownership:
// either a rejection (Accepted=False with reason and message) or the
// listeners that take the route with the hosts it serves through each.
type parentPlan struct {
	ref      gwv1.ParentReference
	rejected bool
	reason   gwv1.RouteConditionReason
	msg      string
	hits     []hit
}

type hit struct {
	l     *listenerInfo
	hosts []string
}

// planHTTPRoutes resolves every HTTPRoute's parentRefs to listeners and
// effective hostnames, oldest route first. Routes are compiled once per
// translation, lazily: only routes with a parent of ours.
func (t *translator) planHTTPRoutes() []*routeEntry {
	var out []*routeEntry
	for _, hr := range sortedObjects(t.snap.HTTPRoutes) {
		var e *routeEntry
		var seen []gwv1.ParentReference
		for _, ref := range hr.Spec.ParentRefs {
			candidates, ok := t.parentListeners(hr.Namespace, ref)
			if !ok || containsRef(seen, ref) {
				continue
			}
			seen = append(seen, ref)
			if e == nil {
				e = &routeEntry{hr: hr, cr: t.compiled(hr)}
			}
			e.parents = append(e.parents, t.planParent(e.cr, ref, candidates))
		}
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

func (t *translator) compiled(hr *gwv1.HTTPRoute) *compiledRoute {
	if cr := t.compiledRoutes[hr]; cr != nil {
		return cr
	}
	cr := t.compileHTTPRoute(hr)
	t.compiledRoutes[hr] = cr
	return cr
}

// processHTTPRoutes attaches every HTTPRoute to the listeners its parentRefs
// select, writes the routes of usable listeners into the table for the
// hostnames the route's namespace owns, and computes status.parents
// entries for parents that are ours.
func (t *translator) processHTTPRoutes() {
	entries := t.planHTTPRoutes()
	out := make([]HTTPRouteStatus, 0, len(entries))
	for _, e := range entries {
		parents := make([]gwv1.RouteParentStatus, 0, len(e.parents))
		for _, p := range e.parents {
			parents = append(parents, t.attach(e.cr, p))
		}
		out = append(out, HTTPRouteStatus{Namespace: e.hr.Namespace, Name: e.hr.Name, Parents: parents})
	}
	t.status.HTTPRoutes = sortStatuses(out)
}

func containsRef(seen []gwv1.ParentReference, ref gwv1.ParentReference) bool {
	for _, s := range seen {
		if reflect.DeepEqual(s, ref) {
			return true
		}
	}
	return false
}

// parentCandidates is what a parentRef resolved to.
type parentCandidates struct {
	listeners []*listenerInfo
	// notAccepted explains why the parent cannot take routes at all.
	notAccepted string
}

// parentListeners resolves a parentRef to the listeners of a Gateway or
// ListenerSet of ours. ok is false for parents that belong to someone else
// (or do not exist): those get no status entry from us.
func (t *translator) parentListeners(routeNS string, ref gwv1.ParentReference) (parentCandidates, bool) {
	group, kind := gatewayGroup, kindGateway
	if ref.Group != nil {
		group = string(*ref.Group)
	}
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	ns := routeNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	if group != gatewayGroup {
		return parentCandidates{}, false
	}
	key := ns + "/" + string(ref.Name)
	switch kind {
	case kindGateway:
		g := t.gwByKey[key]
		if g == nil {
			return parentCandidates{}, false
		}
		pc := parentCandidates{listeners: g.listeners}
		switch {
		case !g.class.accepted:
			pc.notAccepted = fmt.Sprintf("GatewayClass %s is not accepted", g.class.gc.Name)
		case !g.accepted():
			// Nothing of the route could be implemented; reporting it
			// Accepted would mislead.
			pc.notAccepted = "Gateway is not accepted: it has no valid listener"
		}
		return pc, true
	case kindListenerSet:
		s := t.setByKey[key]
		if s == nil {
			return parentCandidates{}, false
		}
		pc := parentCandidates{listeners: s.listeners}
		if !s.accepted {
			pc.notAccepted = "ListenerSet is not accepted: " + s.message
		}
		return pc, true
	}
	return parentCandidates{}, false
}

// planParent decides one parentRef up to hostname ownership: which
// listeners take the route, with the spec's reasons when none do.
func (t *translator) planParent(cr *compiledRoute, ref gwv1.ParentReference, pc parentCandidates) parentPlan {
	hr := cr.route
	p := parentPlan{ref: ref}
	reject := func(reason gwv1.RouteConditionReason, msg string) parentPlan {
		p.rejected, p.reason, p.msg = true, reason, msg
		return p
	}
	if pc.notAccepted != "" {
		return reject(gwv1.RouteReasonNoMatchingParent, pc.notAccepted)
	}
	var selected []*listenerInfo
	for _, l := range pc.listeners {
		if ref.SectionName != nil && *ref.SectionName != l.name {
			continue
		}
		if ref.Port != nil && *ref.Port != l.port {
			continue
		}
		selected = append(selected, l)
	}
	if len(selected) == 0 {
		return reject(gwv1.RouteReasonNoMatchingParent, "no listener matches the parentRef's sectionName and port")
	}
	var allowed []*listenerInfo
	for _, l := range selected {
		if l.allowsHTTPRoute() && t.allowsNamespace(l, hr.Namespace) {
			allowed = append(allowed, l)
		}
	}
	if len(allowed) == 0 {
		return reject(gwv1.RouteReasonNotAllowedByListeners, fmt.Sprintf("no listener allows HTTPRoutes from namespace %s", hr.Namespace))
	}
	for _, l := range allowed {
		if hosts := effectiveHostnames(l.hostname, cr.hostnames); len(hosts) > 0 {
			p.hits = append(p.hits, hit{l, hosts})
		}
	}
	if len(p.hits) == 0 {
		return reject(gwv1.RouteReasonNoMatchingListenerHostname, "no listener hostname intersects the route's hostnames")
	}
	if len(cr.validRules()) == 0 {
		p.hits = nil
		return reject(cr.invalidReason(), "no valid rules: "+strings.Join(cr.invalidMessages(), "; "))
	}
	return p
}

// attach finishes one parentRef: it keeps the hosts the route's namespace
// owns, records accepted attachments, adds them to the table and builds
// the parent's status. A route that asks only for hostnames of other
// namespaces is not accepted (ReasonHostnameOwnedByAnotherNamespace); one
// that keeps some is accepted and says in its Served condition which it
// lost.
func (t *translator) attach(cr *compiledRoute, p parentPlan) gwv1.RouteParentStatus {
	hr := cr.route
	gen := hr.Generation
	st := gwv1.RouteParentStatus{ParentRef: explicitParentRef(p.ref), ControllerName: ControllerName}
	accepted := func(ok bool, reason gwv1.RouteConditionReason, msg string) {
		st.Conditions = append(st.Conditions, condition(gwv1.RouteConditionAccepted, ok, reason, msg, gen))
	}
	served := func(ok bool, reason, msg string) {
		st.Conditions = append(st.Conditions, condition(contract.ConditionServed, ok, reason, msg, gen))
	}
	if p.rejected {
		accepted(false, p.reason, p.msg)
		st.Conditions = append(st.Conditions, cr.resolvedRefsCondition())
		return st
	}
	var kept []hit
	var denied []string
	for _, h := range p.hits {
		hosts, lost := t.ownedHosts(h.l, hr.Namespace, h.hosts)
		denied = append(denied, lost...)
		if len(hosts) > 0 {
			kept = append(kept, hit{h.l, hosts})
		}
	}
	if len(kept) == 0 {
		msg := t.deniedMessage(denied)
		accepted(false, contract.ReasonHostnameOwnedByAnotherNamespace, msg)
		st.Conditions = append(st.Conditions, cr.resolvedRefsCondition())
		served(false, contract.ReasonHostnameOwnedByAnotherNamespace, msg)
		return st
	}
	anyServed := false
	for _, h := range kept {
		if !cr.attachedTo[h.l] {
			cr.attachedTo[h.l] = true
			h.l.attached++
			if h.l.usable() {
				t.addRouteToTable(cr, h.l, h.hosts)
			}
		}
		anyServed = anyServed || h.l.served()
	}
	accepted(true, gwv1.RouteReasonAccepted, "accepted")
	st.Conditions = append(st.Conditions, cr.resolvedRefsCondition())
	if c, ok := cr.partiallyInvalidCondition(); ok {
		st.Conditions = append(st.Conditions, c)
	}
	switch {
	case len(denied) > 0:
		served(false, contract.ReasonHostnameOwnedByAnotherNamespace, "not served for: "+t.deniedMessage(denied))
	case !anyServed:
		served(false, contract.ReasonListenerNotServed, "no listener the route attached to is served: it has no address or is not programmed")
	default:
		served(true, contract.ReasonServed, "served for every hostname the route attached with")
	}
	return st
}

// explicitParentRef spells out group and kind, so readers need not know the
// defaults; everything else stays as the user wrote it, so the status writer
// can pair the entry with its spec parentRef.
func explicitParentRef(ref gwv1.ParentReference) gwv1.ParentReference {
	out := *ref.DeepCopy()
	if out.Group == nil {
		out.Group = ptrTo(gwv1.Group(gatewayGroup))
	}
	if out.Kind == nil {
		out.Kind = ptrTo(gwv1.Kind(kindGateway))
	}
	return out
}
