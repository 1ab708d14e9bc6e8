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
	// keeps the chain sorted by precedence. The hosts that can cover a host
	// are few (itself, a wildcard per parent domain, the catch-all), so
	// each chain is built by looking them up instead of scanning every
	// host of the listener: linear in hosts, not quadratic.
	groups := make(map[hostGroup][]int, len(l.VirtualHosts))
	for i, vh := range l.VirtualHosts {
		k := hostGroup{vh.ListenerHostname, vh.Hostname}
		groups[k] = append(groups[k], i)
	}
	var covering []int
	for _, vh := range l.VirtualHosts {
		covering = coveringHosts(groups, vh, covering[:0])
		vh.chain = nil
		for _, i := range covering {
			other := l.VirtualHosts[i]
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

// hostGroup is a listener-isolation group and a hostname in it.
type hostGroup struct{ listenerHostname, hostname string }

// coveringHosts appends to out the indexes (ascending, so in precedence
// order) of the hosts of vh's listener group whose pattern covers vh's
// hostname (PatternCovers): the same hostname, a "*."-wildcard of every
// parent domain, and the catch-all.
func coveringHosts(groups map[hostGroup][]int, vh *VirtualHost, out []int) []int {
	add := func(hostname string) {
		out = append(out, groups[hostGroup{vh.ListenerHostname, hostname}]...)
	}
	h := vh.Hostname
	if h != "" {
		add(h)
		// Parent wildcards: "*" + h[i:] for each dot after the first
		// character. For a wildcard h ("*.a.b") the first dot is h itself,
		// already added; an exact h starting with a dot matches no
		// wildcard (HostnameMatches).
		start := 1
		if IsWildcard(h) {
			start = 2
		}
		if h[0] != '.' {
			for i := start; i < len(h); i++ {
				if h[i] == '.' {
					add("*" + h[i:])
				}
			}
		}
	}
	add("")
	slices.Sort(out)
	return slices.Compact(out)
}
