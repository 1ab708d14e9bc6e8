package translate

import (
	"fmt"
	"reflect"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// processHTTPRoutes attaches every HTTPRoute to the listeners its parentRefs
// select, writes the routes of usable listeners into the table and computes
// status.parents entries for parents that are ours.
func (t *translator) processHTTPRoutes() {
	var out []HTTPRouteStatus
	for _, hr := range sortedObjects(t.snap.HTTPRoutes) {
		var cr *compiledRoute // compiled lazily: only routes with a parent of ours
		var parents []gwv1.RouteParentStatus
		var seen []gwv1.ParentReference
		for _, ref := range hr.Spec.ParentRefs {
			candidates, ok := t.parentListeners(hr.Namespace, ref)
			if !ok || containsRef(seen, ref) {
				continue
			}
			seen = append(seen, ref)
			if cr == nil {
				cr = t.compileHTTPRoute(hr)
			}
			parents = append(parents, t.attach(cr, ref, candidates))
		}
		if parents != nil {
			out = append(out, HTTPRouteStatus{Namespace: hr.Namespace, Name: hr.Name, Parents: parents})
		}
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

// attach decides one parentRef: which listeners take the route, with the
// spec's reasons when none do, and records accepted attachments.
func (t *translator) attach(cr *compiledRoute, ref gwv1.ParentReference, pc parentCandidates) (st gwv1.RouteParentStatus) {
	hr := cr.route
	gen := hr.Generation
	st = gwv1.RouteParentStatus{ParentRef: explicitParentRef(ref), ControllerName: ControllerName}
	accepted := func(ok bool, reason gwv1.RouteConditionReason, msg string) {
		st.Conditions = append(st.Conditions, condition(gwv1.RouteConditionAccepted, ok, reason, msg, gen))
	}
	defer func() {
		st.Conditions = append(st.Conditions, cr.resolvedRefsCondition())
		if c, ok := cr.partiallyInvalidCondition(); ok && st.Conditions[0].Status == "True" {
			st.Conditions = append(st.Conditions, c)
		}
	}()

	if pc.notAccepted != "" {
		accepted(false, gwv1.RouteReasonNoMatchingParent, pc.notAccepted)
		return st
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
		accepted(false, gwv1.RouteReasonNoMatchingParent, "no listener matches the parentRef's sectionName and port")
		return st
	}
	var allowed []*listenerInfo
	for _, l := range selected {
		if l.allowsHTTPRoute() && t.allowsNamespace(l, hr.Namespace) {
			allowed = append(allowed, l)
		}
	}
	if len(allowed) == 0 {
		accepted(false, gwv1.RouteReasonNotAllowedByListeners, fmt.Sprintf("no listener allows HTTPRoutes from namespace %s", hr.Namespace))
		return st
	}
	type hit struct {
		l     *listenerInfo
		hosts []string
	}
	var hits []hit
	for _, l := range allowed {
		if hosts := effectiveHostnames(l.hostname, cr.hostnames); len(hosts) > 0 {
			hits = append(hits, hit{l, hosts})
		}
	}
	if len(hits) == 0 {
		accepted(false, gwv1.RouteReasonNoMatchingListenerHostname, "no listener hostname intersects the route's hostnames")
		return st
	}
	if len(cr.validRules()) == 0 {
		accepted(false, cr.invalidReason(), "no valid rules: "+strings.Join(cr.invalidMessages(), "; "))
		return st
	}
	for _, h := range hits {
		if !cr.attachedTo[h.l] {
			cr.attachedTo[h.l] = true
			h.l.attached++
			if h.l.usable() {
				t.addRouteToTable(cr, h.l, h.hosts)
			}
		}
	}
	accepted(true, gwv1.RouteReasonAccepted, "accepted")
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
