package translate

import (
	"cmp"
	"slices"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// tableBuilder accumulates listeners, hosts and routes; build applies
// listener isolation and produces the finalized table.
type tableBuilder struct {
	ports map[ir.ListenerKey]*portBuilder
}

type portBuilder struct {
	listener *ir.Listener
	certs    map[string]*ir.Certificate
	// hosts by listener hostname (isolation group), then effective hostname.
	hosts map[string]map[string]*ir.VirtualHost
}

func newTableBuilder() *tableBuilder { return &tableBuilder{ports: map[ir.ListenerKey]*portBuilder{}} }

// port returns the builder for an (address, port); the first caller fixes
// the protocol (port claims make sure later callers agree).
func (b *tableBuilder) port(at ir.ListenerKey, proto ir.Protocol) *portBuilder {
	p := b.ports[at]
	if p == nil {
		p = &portBuilder{
			listener: &ir.Listener{Address: at.Address, Port: at.Port, Protocol: proto},
			certs:    map[string]*ir.Certificate{},
			hosts:    map[string]map[string]*ir.VirtualHost{},
		}
		b.ports[at] = p
	}
	return p
}

// addListener registers a listener hostname group, so that requests for it
// stop there even when no route is attached (listener isolation), and its
// certificates (the first listener with a given SNI name wins).
func (p *portBuilder) addListener(listenerHost, key string, pairs []ir.KeyPair) {
	p.host(listenerHost, listenerHost, key)
	p.addCertificate(listenerHost, pairs)
}

// addCertificate adds a certificate for an SNI pattern unless one exists.
func (p *portBuilder) addCertificate(host string, pairs []ir.KeyPair) {
	if _, taken := p.certs[host]; !taken && len(pairs) > 0 {
		p.certs[host] = &ir.Certificate{Hostname: host, Pairs: pairs}
	}
}

func (p *portBuilder) host(listenerHost, host, key string) *ir.VirtualHost {
	group := p.hosts[listenerHost]
	if group == nil {
		group = map[string]*ir.VirtualHost{}
		p.hosts[listenerHost] = group
	}
	vh := group[host]
	if vh == nil {
		vh = &ir.VirtualHost{Hostname: host, ListenerHostname: listenerHost}
		group[host] = vh
	}
	if !slices.Contains(vh.Listeners, key) {
		vh.Listeners = append(vh.Listeners, key)
	}
	return vh
}

func (p *portBuilder) addRoute(listenerHost, key, host string, r *ir.Route) {
	r.Listener = key
	vh := p.host(listenerHost, host, key)
	vh.Routes = append(vh.Routes, r)
}

// build drops hosts that listener isolation hides and finalizes the table.
// A host H of listener group G is hidden when another group G2 on the port
// is more specific than G and covers H: every request for H belongs to G2.
func (b *tableBuilder) build() *ir.Table {
	t := &ir.Table{}
	for _, p := range b.ports {
		groups := make([]string, 0, len(p.hosts))
		for g := range p.hosts {
			groups = append(groups, g)
		}
		for _, g := range groups {
			for h, vh := range p.hosts[g] {
				if !hidden(g, h, groups) {
					p.listener.VirtualHosts = append(p.listener.VirtualHosts, vh)
				}
			}
		}
		for _, c := range p.certs {
			p.listener.Certificates = append(p.listener.Certificates, c)
		}
		t.Listeners = append(t.Listeners, p.listener)
	}
	// Finalize sorts listeners, hosts, certificates and routes, so map
	// iteration order above does not leak into the result.
	t.Finalize()
	return t
}

func hidden(group, host string, groups []string) bool {
	for _, g2 := range groups {
		if g2 != group && moreSpecific(g2, group) && ir.PatternCovers(g2, host) {
			return true
		}
	}
	return false
}

// moreSpecific orders listener hostnames: exact, then longer wildcards, then
// the catch-all.
func moreSpecific(a, b string) bool {
	rank := func(h string) int {
		switch {
		case h == "":
			return 2
		case ir.IsWildcard(h):
			return 1
		}
		return 0
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return ra < rb
	}
	return cmp.Compare(len(a), len(b)) > 0
}

// addRouteToTable stamps the valid rules of a route into a listener's
// hosts.
func (t *translator) addRouteToTable(cr *compiledRoute, l *listenerInfo, hosts []string) {
	if !l.gw.placed {
		return
	}
	p := t.table.port(l.at(), l.irProtocol())
	for _, h := range hosts {
		for _, ri := range cr.validRules() {
			rule := cr.rules[ri]
			for mi, ms := range rule.matches {
				p.addRoute(l.hostname, l.key(), h, &ir.Route{
					Source: ir.Source{
						Kind: kindHTTPRoute, Namespace: cr.route.Namespace, Name: cr.route.Name,
						CreationTimestamp: cr.route.CreationTimestamp.UTC(), Rule: ri, Match: mi,
					},
					Path: ms.path, Method: ms.method, Headers: ms.headers, Query: ms.query,
					Action: rule.action,
				})
			}
		}
	}
}

// programListeners registers every usable listener of our Gateways, even
// those without routes: their hosts answer 404 rather than falling through
// to another listener.
func (t *translator) programListeners() {
	for _, g := range t.gateways {
		if !g.class.accepted {
			continue
		}
		for _, l := range g.allListeners() {
			if l.served() {
				t.table.port(l.at(), l.irProtocol()).addListener(l.hostname, l.key(), l.pairs)
			}
		}
	}
}
