package translate

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// finishGatewayStatus computes Gateway conditions and listener status once
// routes have been attached (attachedRoutes needs them).
func (t *translator) finishGatewayStatus() {
	out := make([]GatewayStatus, 0, len(t.gateways))
	for _, g := range t.gateways {
		gw := g.gw
		gen := gw.Generation
		st := gwv1.GatewayStatus{}
		addrs := t.ix.opts.GatewayAddresses[nn(gw.Namespace, gw.Name)]
		st.Addresses = slices.Clone(addrs)

		// Only the Gateway's own listeners are named here: ListenerSets
		// report theirs, and their details are not the Gateway owner's.
		var invalid []string
		for _, l := range g.listeners {
			if !l.valid() {
				invalid = append(invalid, l.key())
			}
		}
		accepted := g.accepted()
		var acc metav1.Condition
		switch {
		case !g.class.accepted:
			acc = condition(gwv1.GatewayConditionAccepted, false, gwv1.GatewayReasonInvalidParameters,
				fmt.Sprintf("GatewayClass %s is not accepted: %s", g.class.gc.Name, g.class.message), gen)
		case g.unsupportedAddress != "":
			acc = condition(gwv1.GatewayConditionAccepted, false, gwv1.GatewayReasonUnsupportedAddress,
				"address "+g.unsupportedAddress+" is not supported: ask for an IPAddress (or leave spec.addresses empty)", gen)
		case !accepted:
			acc = condition(gwv1.GatewayConditionAccepted, false, gwv1.GatewayReasonListenersNotValid,
				"no valid listeners: "+strings.Join(invalid, ", "), gen)
		case len(invalid) > 0:
			acc = condition(gwv1.GatewayConditionAccepted, true, gwv1.GatewayReasonListenersNotValid,
				"some listeners are not valid: "+strings.Join(invalid, ", "), gen)
		default:
			acc = condition(gwv1.GatewayConditionAccepted, true, gwv1.GatewayReasonAccepted, "accepted", gen)
		}

		var prog metav1.Condition
		unusable := requestedAddressesMissing(gw, addrs)
		switch {
		case !accepted:
			prog = condition(gwv1.GatewayConditionProgrammed, false, gwv1.GatewayReasonInvalid, "Gateway is not accepted", gen)
		case !anyUsable(g):
			prog = condition(gwv1.GatewayConditionProgrammed, false, gwv1.GatewayReasonInvalid, "no listener could be programmed", gen)
		case unusable != "":
			prog = condition(gwv1.GatewayConditionProgrammed, false, gwv1.GatewayReasonAddressNotUsable, "requested address "+unusable+" is not among the data plane's addresses", gen)
		case len(addrs) == 0:
			prog = condition(gwv1.GatewayConditionProgrammed, false, gwv1.GatewayReasonAddressNotAssigned, "no address has been assigned to the Gateway yet", gen)
		default:
			prog = condition(gwv1.GatewayConditionProgrammed, true, gwv1.GatewayReasonProgrammed, "programmed", gen)
		}
		st.Conditions = []metav1.Condition{acc, prog}

		for _, l := range g.listeners {
			st.Listeners = append(st.Listeners, gwv1.ListenerStatus{
				Name: l.name, SupportedKinds: supportedKinds(l), AttachedRoutes: l.attached,
				Conditions: listenerConditions(l, gen),
			})
		}
		attachedSets := int32(0)
		for _, s := range g.sets {
			if s.accepted {
				attachedSets++
			}
		}
		st.AttachedListenerSets = &attachedSets
		out = append(out, GatewayStatus{Namespace: gw.Namespace, Name: gw.Name, Status: st})
	}
	t.status.Gateways = sortStatuses(out)
}

// requestedAddressesMissing returns the first spec.addresses value that the
// data plane does not have; the bundled data plane cannot acquire addresses.
func requestedAddressesMissing(gw *gwv1.Gateway, have []gwv1.GatewayStatusAddress) string {
	for _, want := range gw.Spec.Addresses {
		if want.Value == "" {
			continue
		}
		if !slices.ContainsFunc(have, func(a gwv1.GatewayStatusAddress) bool { return a.Value == want.Value }) {
			return want.Value
		}
	}
	return ""
}

func supportedKinds(l *listenerInfo) []gwv1.RouteGroupKind {
	if l.supportedKinds == nil {
		return []gwv1.RouteGroupKind{}
	}
	return slices.Clone(l.supportedKinds)
}

// listenerConditions are the same for Gateway and ListenerSet listeners;
// the condition and reason strings are equal in both APIs.
func listenerConditions(l *listenerInfo, gen int64) []metav1.Condition {
	var conds []metav1.Condition
	if l.conflicted {
		conds = append(conds,
			condition(gwv1.ListenerConditionAccepted, false, l.conflictReason, l.conflictMsg, gen),
			condition(gwv1.ListenerConditionConflicted, true, l.conflictReason, l.conflictMsg, gen))
	} else {
		conds = append(conds,
			condition(gwv1.ListenerConditionAccepted, l.accepted, l.acceptedReason, l.acceptedMsg, gen),
			condition(gwv1.ListenerConditionConflicted, false, gwv1.ListenerReasonNoConflicts, "no conflicts", gen))
	}
	switch {
	case !l.certsOK:
		conds = append(conds, condition(gwv1.ListenerConditionResolvedRefs, false, l.certReason, l.certMsg, gen))
	case !l.kindsOK:
		conds = append(conds, condition(gwv1.ListenerConditionResolvedRefs, false, gwv1.ListenerReasonInvalidRouteKinds, l.kindsMsg, gen))
	default:
		conds = append(conds, condition(gwv1.ListenerConditionResolvedRefs, true, gwv1.ListenerReasonResolvedRefs, "all references resolved", gen))
	}
	switch {
	case l.served():
		conds = append(conds, condition(gwv1.ListenerConditionProgrammed, true, gwv1.ListenerReasonProgrammed, "programmed", gen))
	case l.usable() && l.gw.unsupportedAddress != "":
		conds = append(conds, condition(gwv1.ListenerConditionProgrammed, false, gwv1.ListenerReasonInvalid,
			"Gateway "+l.gw.key()+" is not accepted: address "+l.gw.unsupportedAddress+" is not supported", gen))
	case l.usable():
		conds = append(conds, condition(gwv1.ListenerConditionProgrammed, false, gwv1.ListenerReasonPending,
			"waiting for an address for Gateway "+l.gw.key()+" from the data plane's address pool", gen))
	case l.conflicted:
		// A conflicted listener is not programmed for the same reason it
		// is not accepted (Gateway API conformance, ListenerSet*Conflict).
		conds = append(conds, condition(gwv1.ListenerConditionProgrammed, false, l.conflictReason, l.conflictMsg, gen))
	default:
		conds = append(conds, condition(gwv1.ListenerConditionProgrammed, false, gwv1.ListenerReasonInvalid, "listener is not valid; see the other conditions", gen))
	}
	return conds
}

// sortStatuses orders status entries by namespace/name.
func sortStatuses[T interface{ key() string }](in []T) []T {
	slices.SortStableFunc(in, func(a, b T) int { return strings.Compare(a.key(), b.key()) })
	return in
}

func (s GatewayStatus) key() string     { return s.Namespace + "/" + s.Name }
func (s ListenerSetStatus) key() string { return s.Namespace + "/" + s.Name }
func (s HTTPRouteStatus) key() string   { return s.Namespace + "/" + s.Name }
func (s IngressStatus) key() string     { return s.Namespace + "/" + s.Name }

func anyUsable(g *gatewayInfo) bool {
	for _, l := range g.allListeners() {
		if l.usable() {
			return true
		}
	}
	return false
}
