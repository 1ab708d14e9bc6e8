package ir

import (
	"net/http"
	"net/url"
	"strings"
)

// Request carries the parts of an HTTP request that routing looks at. It is a
// plain struct so callers can fill it from *http.Request without copying
// headers.
type Request struct {
	// Host is the Host header (":port" and a trailing dot are ignored).
	Host string
	// Path is the request path as routes see it: normalised (dot
	// segments resolved, slashes merged), decoded, and without ";"
	// parameters; the proxy's normalizePath produces it.
	Path   string
	Method string
	Header http.Header
	// RawQuery is the undecoded query string without "?".
	RawQuery string
}

// Result is the outcome of Match. A nil Route means 404 (or, when Listener
// is nil, that nothing listens on the port).
type Result struct {
	Listener    *Listener
	VirtualHost *VirtualHost
	Route       *Route
}

// Match finds the route for a request that arrived on a local (address,
// port). Lookup is by map (exact host, then each wildcard suffix from the
// longest, then the catch-all) and then a linear scan of a pre-sorted slice,
// first match wins.
func Match(t *Table, at ListenerKey, req *Request) Result {
	l := t.Listener(at)
	if l == nil {
		return Result{}
	}
	vh := l.virtualHost(normalizeHost(req.Host))
	if vh == nil {
		return Result{Listener: l}
	}
	for _, r := range vh.chain {
		if r.matches(req) {
			return Result{Listener: l, VirtualHost: vh, Route: r}
		}
	}
	return Result{Listener: l, VirtualHost: vh}
}

func (l *Listener) virtualHost(host string) *VirtualHost {
	if vh, ok := l.exact[host]; ok {
		return vh
	}
	// Each dot (not the first byte) starts a candidate wildcard suffix; the
	// leftmost one is the longest, most specific wildcard.
	for i := 1; i < len(host); i++ {
		if host[i] == '.' {
			if vh, ok := l.wildcard[host[i:]]; ok {
				return vh
			}
		}
	}
	return l.catchAll
}

func (r *Route) matches(req *Request) bool {
	if r.Method != "" && r.Method != req.Method {
		return false
	}
	if !r.Path.matches(req.Path) {
		return false
	}
	for i := range r.Headers {
		if !headerMatches(&r.Headers[i], req.Header) {
			return false
		}
	}
	for i := range r.Query {
		if !queryMatches(&r.Query[i], req.RawQuery) {
			return false
		}
	}
	return true
}

// headerMatches is true when any value of the (canonical) header matches.
func headerMatches(m *ValueMatch, h http.Header) bool {
	for _, v := range h[m.Name] {
		if m.matchesValue(v) {
			return true
		}
	}
	return false
}

// queryMatches compares the first occurrence of the parameter, scanning the
// raw query so that the common unescaped case does not allocate.
func queryMatches(m *ValueMatch, raw string) bool {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, okK := unescape(k)
		if !okK || k != m.Name {
			continue
		}
		v, okV := unescape(v)
		return okV && m.matchesValue(v)
	}
	return false
}

func unescape(s string) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	u, err := url.QueryUnescape(s)
	return u, err == nil
}
