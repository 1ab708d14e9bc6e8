package ir

import (
	"cmp"
	"slices"
	"strings"
)

// Finalize sorts the table into its canonical order and builds the lookup
// indexes Match uses. Call it once, after construction and before Validate
// and publication; the table must not be changed afterwards.
func (t *Table) Finalize() {
	slices.SortFunc(t.Listeners, func(a, b *Listener) int {
		return cmp.Or(strings.Compare(a.Address, b.Address), cmp.Compare(a.Port, b.Port))
	})
	t.byKey = make(map[ListenerKey]*Listener, len(t.Listeners))
	for _, l := range t.Listeners {
		if _, dup := t.byKey[l.Key()]; !dup {
			t.byKey[l.Key()] = l
		}
		l.finalize()
	}
	t.finalized = true
}

func (l *Listener) finalize() {
	slices.SortFunc(l.VirtualHosts, func(a, b *VirtualHost) int {
		if c := compareHostnames(a.Hostname, b.Hostname); c != 0 {
			return c
		}
		return strings.Compare(a.ListenerHostname, b.ListenerHostname)
	})
	l.exact = map[string]*VirtualHost{}
	l.wildcard = map[string]*VirtualHost{}
	l.catchAll = nil
	for _, vh := range l.VirtualHosts {
		slices.Sort(vh.Listeners)
		vh.Listeners = slices.Compact(vh.Listeners)
		SortRoutes(vh.Routes)
		switch {
		case vh.Hostname == "":
			if l.catchAll == nil {
				l.catchAll = vh
			}
		case IsWildcard(vh.Hostname):
			if _, dup := l.wildcard[vh.Hostname[1:]]; !dup {
				l.wildcard[vh.Hostname[1:]] = vh
			}
		default:
			if _, dup := l.exact[vh.Hostname]; !dup {
				l.exact[vh.Hostname] = vh
			}
		}
	}
	// The chain of a host is its own routes followed by those of every less
	// specific host of the same listener group that covers it. VirtualHosts
	// are already in hostname precedence order, so appending in that order
	// keeps the chain sorted by precedence.
	for _, vh := range l.VirtualHosts {
		vh.chain = nil
		for _, other := range l.VirtualHosts {
			if other.ListenerHostname != vh.ListenerHostname || !PatternCovers(other.Hostname, vh.Hostname) {
				continue
			}
			for _, r := range other.Routes {
				if vh.Owner == "" || other == vh || r.Source.Namespace == vh.Owner {
					vh.chain = append(vh.chain, r)
				}
			}
		}
	}

	slices.SortFunc(l.Certificates, func(a, b *Certificate) int { return compareHostnames(a.Hostname, b.Hostname) })
	l.certExact = map[string]*Certificate{}
	l.certWild = map[string]*Certificate{}
	l.certDef = nil
	for _, c := range l.Certificates {
		switch {
		case c.Hostname == "":
			if l.certDef == nil {
				l.certDef = c
			}
		case IsWildcard(c.Hostname):
			if _, dup := l.certWild[c.Hostname[1:]]; !dup {
				l.certWild[c.Hostname[1:]] = c
			}
		default:
			if _, dup := l.certExact[c.Hostname]; !dup {
				l.certExact[c.Hostname] = c
			}
		}
	}
}

// Listener returns the listener for a local (address, port), or nil.
func (t *Table) Listener(k ListenerKey) *Listener {
	if t == nil {
		return nil
	}
	return t.byKey[k]
}

// Certificate picks the certificate for a TLS ClientHello server name: an
// exact name, then the longest matching wildcard, then the default. It
// returns nil when nothing applies (the handshake should fail).
func (l *Listener) Certificate(serverName string) *Certificate {
	host := normalizeHost(serverName)
	if c, ok := l.certExact[host]; ok {
		return c
	}
	for i := 0; i < len(host); i++ {
		if host[i] == '.' && i > 0 {
			if c, ok := l.certWild[host[i:]]; ok {
				return c
			}
		}
	}
	return l.certDef
}

// Chain returns the ordered routes a request for this host scans. Exposed
// for debugging and tests; the slice must not be modified.
func (vh *VirtualHost) Chain() []*Route { return vh.chain }
