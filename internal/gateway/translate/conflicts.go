package translate

import (
	"fmt"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// portClaim records which Gateway first took a port on an address and with
// what protocol. Gateways on the shared address may share a port only if
// they speak the same protocol on it; Gateways with addresses of their own
// never meet.
type portClaim struct {
	protocol gwv1.ProtocolType
	owner    string
}

// validateListeners runs the checks that need more than one listener:
// conflicts inside each Gateway's merged listener list, then port claims
// across Gateways in precedence order.
func (t *translator) validateListeners() {
	for _, g := range t.gateways {
		markConflicts(g.listeners, nil)
		higher := append([]*listenerInfo(nil), g.listeners...)
		for _, s := range g.sets {
			markConflicts(s.listeners, higher)
			higher = append(higher, s.listeners...)
		}
	}
	for _, g := range t.gateways {
		if !g.class.accepted {
			continue
		}
		for _, l := range g.allListeners() {
			if !l.valid() {
				continue
			}
			c, taken := t.ports[l.at()]
			switch {
			case !taken:
				t.ports[l.at()] = portClaim{protocol: l.protocol, owner: g.key()}
			case c.protocol != l.protocol && c.owner != g.key():
				l.accepted = false
				l.acceptedReason = string(gwv1.ListenerReasonPortUnavailable)
				l.acceptedMsg = fmt.Sprintf("port %d is already used with protocol %s by Gateway %s", l.port, c.protocol, c.owner)
			}
		}
	}
}

// markConflicts flags listeners that are not distinct. Within one list
// (a Gateway's own listeners, or one ListenerSet's) every party to a
// conflict is flagged, because the spec forbids picking a winner. Against
// higher-precedence listeners (a ListenerSet versus its Gateway and older
// ListenerSets) only the lower-precedence listener is flagged, even one
// already rejected for another reason: a TCP listener on a port the Gateway
// serves HTTP on is reported as ProtocolConflict, not UnsupportedProtocol
// (Gateway API conformance, ListenerSetProtocolConflict).
func markConflicts(list, higher []*listenerInfo) {
	candidates := func(ls []*listenerInfo) []*listenerInfo {
		var out []*listenerInfo
		for _, l := range ls {
			if l.accepted {
				out = append(out, l)
			}
		}
		return out
	}
	own, above := candidates(list), candidates(higher)
	for i, a := range own {
		for j, b := range own {
			if i != j {
				conflict(a, b)
			}
		}
	}
	for _, a := range list {
		for _, b := range above {
			conflict(a, b)
		}
	}
}

// conflict flags a when it cannot be told apart from b. A protocol conflict
// outranks a hostname conflict.
func conflict(a, b *listenerInfo) {
	if a.port != b.port {
		return
	}
	if a.protocol != b.protocol {
		a.conflicted = true
		a.conflictReason = string(gwv1.ListenerReasonProtocolConflict)
		a.conflictMsg = fmt.Sprintf("port %d is also used with protocol %s by listener %s", a.port, b.protocol, b.key())
		return
	}
	if a.hostname == b.hostname && a.conflictReason != string(gwv1.ListenerReasonProtocolConflict) {
		a.conflicted = true
		a.conflictReason = string(gwv1.ListenerReasonHostnameConflict)
		a.conflictMsg = fmt.Sprintf("port %d and hostname %q are also used by listener %s", a.port, a.hostname, b.key())
	}
}
