package translate

import (
	"fmt"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// gatewayInfo is one Gateway of a class we own.
type gatewayInfo struct {
	gw        *gwv1.Gateway
	class     *classInfo
	listeners []*listenerInfo    // the Gateway's own, in spec order
	sets      []*listenerSetInfo // accepted ListenerSets, precedence order
	// bindAddr is the Gateway's own IP ("" for the shared address); placed
	// is false when it should have one but none was assigned.
	bindAddr string
	placed   bool
	// unsupportedAddress names a spec.addresses entry of a type this data
	// plane cannot provide; such a Gateway is not accepted.
	unsupportedAddress string
}

func (g *gatewayInfo) key() string { return g.gw.Namespace + "/" + g.gw.Name }

// accepted is the Gateway's Accepted condition: its class is accepted and
// at least one listener (its own or from a ListenerSet) is valid.
func (g *gatewayInfo) accepted() bool {
	if !g.class.accepted || g.unsupportedAddress != "" {
		return false
	}
	for _, l := range g.allListeners() {
		if l.valid() {
			return true
		}
	}
	return false
}

// allListeners is the merged listener list in Gateway API precedence: the
// Gateway's own, then each attached ListenerSet's, oldest set first.
func (g *gatewayInfo) allListeners() []*listenerInfo {
	out := append([]*listenerInfo(nil), g.listeners...)
	for _, s := range g.sets {
		out = append(out, s.listeners...)
	}
	return out
}

// processGateways collects the Gateways of our classes, oldest first, and
// validates each listener on its own.
func (t *translator) processGateways() {
	for _, gw := range sortedObjects(t.snap.Gateways) {
		ci := t.classes[string(gw.Spec.GatewayClassName)]
		if ci == nil {
			continue
		}
		g := &gatewayInfo{gw: gw, class: ci, placed: true}
		if own := t.snap.Options.GatewayBindAddresses; own != nil {
			g.bindAddr, g.placed = own[nn(gw.Namespace, gw.Name)]
			g.placed = g.placed && g.bindAddr != ""
		}
		g.unsupportedAddress = t.unsupportedAddress(gw)
		if g.unsupportedAddress != "" {
			g.placed = false
		}
		for _, spec := range gw.Spec.Listeners {
			l := newListenerInfo(g, kindGateway, gw.Namespace, gw.Name, spec)
			t.validateListenerSpec(l)
			g.listeners = append(g.listeners, l)
		}
		t.gateways = append(t.gateways, g)
		t.gwByKey[g.key()] = g
	}
}

// unsupportedAddress returns the first spec.addresses entry whose type this
// data plane cannot provide: IP addresses always (from the pool, or the
// shared address), hostnames only when Gateways share the data plane's
// address (a pool holds IPs only).
func (t *translator) unsupportedAddress(gw *gwv1.Gateway) string {
	for _, a := range gw.Spec.Addresses {
		typ := gwv1.IPAddressType
		if a.Type != nil {
			typ = *a.Type
		}
		switch {
		case typ == gwv1.IPAddressType:
		case typ == gwv1.HostnameAddressType && t.snap.Options.GatewayBindAddresses == nil:
		default:
			return fmt.Sprintf("%s %q", typ, a.Value)
		}
	}
	return ""
}
