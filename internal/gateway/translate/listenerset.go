package translate

import (
	"fmt"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// listenerSetInfo is one ListenerSet whose parentRef names a Gateway of
// ours.
type listenerSetInfo struct {
	ls       *gwv1.ListenerSet
	gw       *gatewayInfo
	accepted bool
	// considered is true when the Gateway took the set's listeners into
	// its merged list (allowed and parent accepted).
	considered bool
	reason     gwv1.ListenerSetConditionReason
	message    string
	listeners  []*listenerInfo
}

func (s *listenerSetInfo) key() string { return s.ls.Namespace + "/" + s.ls.Name }

// processListenerSets attaches ListenerSets to their Gateways when the
// Gateway's allowedListeners permits it. ListenerSets whose parent is not
// ours are left alone.
func (t *translator) processListenerSets() {
	for _, ls := range sortedObjects(t.snap.ListenerSets) {
		ref := ls.Spec.ParentRef
		if (ref.Group != nil && string(*ref.Group) != gatewayGroup) || (ref.Kind != nil && string(*ref.Kind) != kindGateway) {
			continue
		}
		ns := ls.Namespace
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		g := t.gwByKey[ns+"/"+string(ref.Name)]
		if g == nil {
			continue
		}
		s := &listenerSetInfo{ls: ls, gw: g, accepted: true, reason: gwv1.ListenerSetReasonAccepted, message: "attached to Gateway " + g.key()}
		for _, e := range ls.Spec.Listeners {
			l := newListenerInfo(g, kindListenerSet, ls.Namespace, ls.Name, entryToListener(e))
			t.validateListenerSpec(l)
			s.listeners = append(s.listeners, l)
		}
		switch {
		case !t.listenerSetAllowed(g, ls.Namespace):
			s.accepted = false
			s.reason = gwv1.ListenerSetReasonNotAllowed
			s.message = fmt.Sprintf("Gateway %s does not allow ListenerSets from namespace %s", g.key(), ls.Namespace)
		case !g.class.accepted:
			s.accepted = false
			s.reason = gwv1.ListenerSetReasonParentNotAccepted
			s.message = fmt.Sprintf("Gateway %s is not accepted", g.key())
		default:
			s.considered = true
			g.sets = append(g.sets, s)
		}
		t.sets = append(t.sets, s)
		t.setByKey[s.key()] = s
	}
}

// listenerSetAllowed applies the Gateway's allowedListeners; the default is
// None.
func (t *translator) listenerSetAllowed(g *gatewayInfo, ns string) bool {
	al := g.gw.Spec.AllowedListeners
	if al == nil || al.Namespaces == nil || al.Namespaces.From == nil {
		return false
	}
	switch *al.Namespaces.From {
	case gwv1.NamespacesFromAll:
		return true
	case gwv1.NamespacesFromSame:
		return ns == g.gw.Namespace
	case gwv1.NamespacesFromSelector:
		return t.ix.namespaceSelected(ns, al.Namespaces.Selector)
	default:
		return false
	}
}
