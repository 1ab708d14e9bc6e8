package ir

import (
	"errors"
	"fmt"
	"net"
	"slices"
)

// Validate checks the invariants the proxy relies on. Translate only emits
// valid tables, so an error here is a translator bug: the caller should keep
// serving the previous table and report it.
func (t *Table) Validate() error {
	if t == nil {
		return errors.New("table is nil")
	}
	if !t.finalized {
		return errors.New("table is not finalized")
	}
	var errs []error
	keys := map[ListenerKey]bool{}
	for _, l := range t.Listeners {
		if l.Port < 1 || l.Port > 65535 {
			errs = append(errs, fmt.Errorf("listener port %d out of range", l.Port))
		}
		if l.Address != "" && net.ParseIP(l.Address) == nil {
			errs = append(errs, fmt.Errorf("listener %s: address %q is not an IP", l.Key(), l.Address))
		}
		if keys[l.Key()] {
			errs = append(errs, fmt.Errorf("duplicate listener %s", l.Key()))
		}
		keys[l.Key()] = true
		errs = append(errs, l.validate()...)
	}
	return errors.Join(errs...)
}

func (l *Listener) validate() []error {
	var errs []error
	switch l.Protocol {
	case ProtocolHTTP:
		if len(l.Certificates) > 0 {
			errs = append(errs, fmt.Errorf("port %d: HTTP listener has certificates", l.Port))
		}
	case ProtocolHTTPS:
		if len(l.Certificates) == 0 {
			errs = append(errs, fmt.Errorf("port %d: HTTPS listener has no certificate", l.Port))
		}
	default:
		errs = append(errs, fmt.Errorf("port %d: unsupported protocol %q", l.Port, l.Protocol))
	}
	for _, c := range l.Certificates {
		if len(c.Pairs) == 0 {
			errs = append(errs, fmt.Errorf("port %d: certificate %q has no key pair", l.Port, c.Hostname))
		}
	}
	seen := map[string]bool{}
	groups := map[string]bool{}
	for _, vh := range l.VirtualHosts {
		if seen[vh.Hostname] {
			errs = append(errs, fmt.Errorf("port %d: duplicate virtual host %q", l.Port, vh.Hostname))
		}
		seen[vh.Hostname] = true
		groups[vh.ListenerHostname] = true
		if !PatternCovers(vh.ListenerHostname, vh.Hostname) {
			errs = append(errs, fmt.Errorf("port %d: host %q outside its listener hostname %q", l.Port, vh.Hostname, vh.ListenerHostname))
		}
		for _, r := range vh.Routes {
			errs = append(errs, r.validate(l.Port, vh)...)
		}
	}
	// Listener isolation needs a host for every listener hostname, so that a
	// request for it never falls through to a less specific listener.
	for g := range groups {
		if !seen[g] {
			errs = append(errs, fmt.Errorf("port %d: listener hostname %q has no virtual host", l.Port, g))
		}
	}
	return errs
}

func (r *Route) validate(port int32, vh *VirtualHost) []error {
	var errs []error
	where := fmt.Sprintf("port %d host %q route %s/%s rule %d", port, vh.Hostname, r.Source.Namespace, r.Source.Name, r.Source.Rule)
	if !slices.Contains(vh.Listeners, r.Listener) {
		errs = append(errs, fmt.Errorf("%s: listener %q not among the host's listeners", where, r.Listener))
	}
	if r.Path.Type == PathRegex && r.Path.re == nil {
		errs = append(errs, fmt.Errorf("%s: path regex not compiled", where))
	}
	for _, m := range append(slices.Clip(r.Headers), r.Query...) {
		if m.Type == ValueRegex && m.re == nil {
			errs = append(errs, fmt.Errorf("%s: %q regex not compiled", where, m.Name))
		}
	}
	a := r.Action
	if a == nil {
		return append(errs, fmt.Errorf("%s: no action", where))
	}
	var sum int64
	for _, b := range a.Backends {
		if b.Weight < 0 {
			errs = append(errs, fmt.Errorf("%s: negative weight for %s/%s", where, b.Namespace, b.Name))
		}
		sum += int64(b.Weight)
	}
	if sum != a.TotalWeight {
		errs = append(errs, fmt.Errorf("%s: total weight %d, backends sum to %d", where, a.TotalWeight, sum))
	}
	if a.Redirect == nil && a.DirectResponse == nil && a.TotalWeight == 0 {
		errs = append(errs, fmt.Errorf("%s: nothing can answer the request", where))
	}
	if a.Redirect != nil && a.Rewrite != nil {
		errs = append(errs, fmt.Errorf("%s: redirect and rewrite are exclusive", where))
	}
	for _, pm := range []*PathModifier{pathOf(a.Redirect), rewritePath(a.Rewrite)} {
		if pm != nil && pm.Type == ReplacePrefixMatch && r.Path.Type != PathPrefix {
			errs = append(errs, fmt.Errorf("%s: ReplacePrefixMatch needs a PathPrefix match", where))
		}
	}
	return errs
}

func pathOf(r *Redirect) *PathModifier {
	if r == nil {
		return nil
	}
	return r.Path
}

func rewritePath(r *Rewrite) *PathModifier {
	if r == nil {
		return nil
	}
	return r.Path
}
