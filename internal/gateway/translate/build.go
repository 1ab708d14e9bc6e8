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
	// owners is the hostname ownership decision (ownership.go).
	owners owners
}

type portBuilder struct {
	listener *ir.Listener
	certs    map[string]*ir.Certificate
	// hosts by listener hostname (isolation group), then effective hostname.
	hosts map[string]map[string]*ir.VirtualHost
	// strict lists the listener hostname groups where hostname ownership
	// applies; groupOwner gives the namespace of a tenant's (ListenerSet)
	// listener group, which never hides hosts of other namespaces.
	strict     map[string]bool
	groupOwner map[string]string
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

			strict:     map[string]bool{},
			groupOwner: map[string]string{},
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

// addRoute adds a route for host; owner, when set, is the namespace that
// owns host and the only one whose routes may serve it.
func (p *portBuilder) addRoute(listenerHost, key, host string, r *ir.Route, owner string) {
	r.Listener = key
	vh := p.host(listenerHost, host, key)
	vh.Routes = append(vh.Routes, r)
	if owner != "" {
		vh.Owner = owner
	}
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
		b.protectOwnedHosts(p, groups)
		for _, g := range groups {
			for h, vh := range p.hosts[g] {
				if !b.hidden(p, g, h, groups) {
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

// A tenant's listener group never hides a host another namespace owns.
func (b *tableBuilder) hidden(p *portBuilder, group, host string, groups []string) bool {
	for _, g2 := range groups {
		if g2 == group || !moreSpecific(g2, group) || !ir.PatternCovers(g2, host) {
			continue
		}
		if gns := p.groupOwner[g2]; gns != "" {
			if o := b.owners.ownerOf(host); o != "" && o != gns {
				continue
			}
		}
		return true
	}
	return false
}

// protectOwnedHosts keeps wildcard and catch-all hosts of strict groups
// from serving a hostname owned by another namespace: for every such owned
// hostname they cover that has no host of its own on the port, it adds an
// empty host owned by its owner. Its chain then holds only the owner's
// routes of the less specific hosts (none: 404).
func (b *tableBuilder) protectOwnedHosts(p *portBuilder, groups []string) {
	exists := map[string]bool{}
	for _, g := range groups {
		for h := range p.hosts[g] {
			exists[h] = true
		}
	}
	for _, g := range groups {
		if !p.strict[g] {
			continue
		}
		var broad []*ir.VirtualHost
		for h, vh := range p.hosts[g] {
			if h == "" || ir.IsWildcard(h) {
				broad = append(broad, vh)
			}
		}
		// Most specific first, so the result never depends on map order.
		slices.SortFunc(broad, func(a, c *ir.VirtualHost) int {
			switch {
			case moreSpecific(a.Hostname, c.Hostname):
				return -1
			case moreSpecific(c.Hostname, a.Hostname):
				return 1
			}
			return cmp.Compare(a.Hostname, c.Hostname)
		})
		for h, c := range b.owners {
			if h == "" || ir.IsWildcard(h) || exists[h] {
				continue
			}
			for _, vh := range broad {
				if !ir.PatternCovers(vh.Hostname, h) || !servesOtherNamespace(vh, c.ns) {
					continue
				}
				nv := p.host(g, h, "")
				nv.Listeners = slices.Clone(vh.Listeners)
				nv.Owner = c.ns
				exists[h] = true
				break
			}
		}
	}
}

func servesOtherNamespace(vh *ir.VirtualHost, ns string) bool {
	for _, r := range vh.Routes {
		if r.Source.Namespace != ns {
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
	strict := !l.gw.class.sharing
	for _, h := range hosts {
		owner := ""
		if strict {
			owner = t.owners.ownerOf(h)
		}
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
				}, owner)
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
				p := t.table.port(l.at(), l.irProtocol())
				p.addListener(l.hostname, l.key(), l.pairs)
				if !g.class.sharing {
					p.strict[l.hostname] = true
					if l.ownerKind == kindListenerSet && l.hostname != "" {
						p.groupOwner[l.hostname] = l.ownerNS
					}
				}
			}
		}
	}
}
