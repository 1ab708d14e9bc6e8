package proxy

import (
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// applyHeaders applies a HeaderModifier in Gateway API order: set, add, remove.
func applyHeaders(h http.Header, m *ir.HeaderModifier) {
	if m == nil {
		return
	}
	for _, s := range m.Set {
		h.Set(s.Name, s.Value)
	}
	for _, a := range m.Add {
		h.Add(a.Name, a.Value)
	}
	for _, r := range m.Remove {
		h.Del(r)
	}
}

// modifyPath returns the escaped path after a ReplaceFullPath or
// ReplacePrefixMatch. path is the request's normalised escaped path;
// prefix is the route's PathPrefix value (no trailing slash except "/"),
// which matched whole segments of it, parameters aside. Working on the
// escaped form keeps the request's percent-encoding.
func modifyPath(path string, pm *ir.PathModifier, prefix string) string {
	if pm == nil {
		return path
	}
	if pm.Type == ir.ReplaceFullPath {
		return pm.Value
	}
	// The prefix matched its first segments, so the rest is empty or
	// starts with "/".
	rest := path
	if prefix != "/" {
		rest = afterSegments(path, strings.Count(prefix, "/"))
	}
	repl := strings.TrimSuffix(pm.Value, "/")
	switch {
	case rest == "" && repl == "":
		return "/"
	case rest == "":
		return repl
	default:
		return repl + rest
	}
}

// afterSegments returns path without its first n segments: "" or a
// string starting with "/".
func afterSegments(path string, n int) string {
	if !strings.HasPrefix(path, "/") {
		return ""
	}
	i := 0
	for ; n > 0; n-- {
		j := strings.IndexByte(path[i+1:], '/')
		if j < 0 {
			return ""
		}
		i += 1 + j
	}
	return path[i:]
}

// redirectLocation builds the Location of a RequestRedirect. Empty fields
// keep the request's values; the port follows Gateway API: explicit, else
// the well-known port of an explicit scheme, else the listener port, and it
// is omitted when it is the scheme's well-known port.
func redirectLocation(rd *ir.Redirect, route *ir.Route, r *http.Request, scheme string, listenerPort int32) string {
	s := scheme
	if rd.Scheme != "" {
		s = rd.Scheme
	}
	host := rd.Hostname
	if host == "" {
		host = hostOnly(r.Host)
	}
	var port int32
	switch {
	case rd.Port != nil:
		port = *rd.Port
	case rd.Scheme != "":
		port = wellKnownPort(s)
	default:
		port = listenerPort
	}
	hostport := host
	if port != wellKnownPort(s) {
		hostport = net.JoinHostPort(host, strconv.Itoa(int(port)))
	}
	path := modifyPath(r.URL.EscapedPath(), rd.Path, route.Path.Value)
	loc := s + "://" + hostport + path
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	return loc
}

func wellKnownPort(scheme string) int32 {
	if scheme == "https" {
		return 443
	}
	return 80
}

// hostOnly strips a port from a Host header value.
func hostOnly(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return h
}

// sanitizeUpgrade drops Upgrade requests other than WebSocket: forwarding
// "Upgrade: h2c" would let a client open an unfiltered HTTP/2 tunnel to
// the backend (h2c smuggling).
func sanitizeUpgrade(h http.Header) {
	up := h.Get("Upgrade")
	if up == "" || strings.EqualFold(up, "websocket") {
		return
	}
	h.Del("Upgrade")
	h.Del("Connection")
	h.Del("Http2-Settings")
}
