package translate

import (
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

const (
	gatewayGroup    = gwv1.GroupName
	kindGateway     = "Gateway"
	kindListenerSet = "ListenerSet"
	kindHTTPRoute   = "HTTPRoute"
	kindService     = "Service"
	kindSecret      = "Secret"
)

// listenerInfo is one Gateway or ListenerSet listener with everything the
// translator learned about it.
type listenerInfo struct {
	gw            *gatewayInfo
	ownerKind     string // Gateway or ListenerSet
	ownerNS       string
	ownerName     string
	name          gwv1.SectionName
	port          int32
	protocol      gwv1.ProtocolType
	hostname      string
	tls           *gwv1.ListenerTLSConfig
	allowedRoutes *gwv1.AllowedRoutes

	supportedKinds []gwv1.RouteGroupKind
	kindsOK        bool
	kindsMsg       string

	accepted       bool
	acceptedReason string
	acceptedMsg    string

	certsOK    bool
	certReason string
	certMsg    string
	pairs      []ir.KeyPair

	conflicted     bool
	conflictReason string
	conflictMsg    string

	attached int32
}

// key names the listener in the table, e.g. "Gateway/ns/name/http".
func (l *listenerInfo) key() string {
	return l.ownerKind + "/" + l.ownerNS + "/" + l.ownerName + "/" + string(l.name)
}

// valid is "accepted for processing": supported and not conflicted.
func (l *listenerInfo) valid() bool { return l.accepted && !l.conflicted }

// usable means the listener is programmed into the table.
func (l *listenerInfo) usable() bool {
	return l.valid() && l.certsOK && len(l.supportedKinds) > 0
}

// at is where the listener is served: its port on its Gateway's address.
func (l *listenerInfo) at() ir.ListenerKey {
	return ir.ListenerKey{Address: l.gw.bindAddr, Port: l.port}
}

// served means the listener is usable and its Gateway has an address to
// serve it on.
func (l *listenerInfo) served() bool { return l.usable() && l.gw.placed }

func (l *listenerInfo) irProtocol() ir.Protocol {
	if l.protocol == gwv1.HTTPSProtocolType {
		return ir.ProtocolHTTPS
	}
	return ir.ProtocolHTTP
}

func newListenerInfo(gw *gatewayInfo, kind, ns, name string, spec gwv1.Listener) *listenerInfo {
	l := &listenerInfo{
		gw: gw, ownerKind: kind, ownerNS: ns, ownerName: name,
		name: spec.Name, port: spec.Port, protocol: spec.Protocol,
		tls: spec.TLS, allowedRoutes: spec.AllowedRoutes,
		accepted: true, acceptedReason: string(gwv1.ListenerReasonAccepted), acceptedMsg: "listener is valid",
		certsOK: true, certReason: string(gwv1.ListenerReasonResolvedRefs), certMsg: "all references resolved",
	}
	if spec.Hostname != nil {
		l.hostname = strings.ToLower(string(*spec.Hostname))
	}
	return l
}

func entryToListener(e gwv1.ListenerEntry) gwv1.Listener { return gwv1.Listener(e) }

// allowsNamespace applies allowedRoutes.namespaces; "Same" is relative to
// the listener's owner (the ListenerSet for ListenerSet listeners).
func (t *translator) allowsNamespace(l *listenerInfo, routeNS string) bool {
	from := gwv1.NamespacesFromSame
	var sel *gwv1.RouteNamespaces
	if l.allowedRoutes != nil && l.allowedRoutes.Namespaces != nil {
		sel = l.allowedRoutes.Namespaces
		if sel.From != nil {
			from = *sel.From
		}
	}
	switch from {
	case gwv1.NamespacesFromAll:
		return true
	case gwv1.NamespacesFromSame:
		return routeNS == l.ownerNS
	case gwv1.NamespacesFromSelector:
		return sel != nil && t.ix.namespaceSelected(routeNS, sel.Selector)
	default:
		return false
	}
}

// allowsKind reports whether HTTPRoutes may attach.
func (l *listenerInfo) allowsHTTPRoute() bool {
	for _, k := range l.supportedKinds {
		if k.Kind == kindHTTPRoute {
			return true
		}
	}
	return false
}
