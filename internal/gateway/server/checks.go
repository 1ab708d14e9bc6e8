package server

import (
	"net"
	"net/http"
	"strings"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// checks runs the refusals that need connection knowledge before routing.
type checks struct {
	s     *Server
	at    ir.ListenerKey
	https bool
	next  http.Handler
}

func (c *checks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.s.draining.Load() && r.Header.Get("Upgrade") == "" {
		// The client moves to another replica for its next request:
		// HTTP/1 closes after this response, HTTP/2 gets GOAWAY. Not on
		// an upgrade, whose 101 must say "Connection: Upgrade".
		w.Header().Set("Connection", "close")
	}
	if fc := connFrom(r.Context()); fc != nil {
		if fc.tlsState != nil && r.TLS == nil {
			r.TLS = fc.tlsState // HTTP/1 over TLS terminated by us
		}
		if fc.popConflict() {
			// The body framing is ambiguous, so the connection cannot be
			// reused safely either.
			w.Header().Set("Connection", "close")
			c.s.proxy.Reject(w, r, http.StatusBadRequest, "a request on this connection has both Content-Length and Transfer-Encoding, or cannot be framed")
			return
		}
	}
	if c.https && r.TLS != nil && c.misdirected(r.TLS.ServerName, r.Host) {
		c.s.proxy.Reject(w, r, http.StatusMisdirectedRequest,
			"host "+r.Host+" is not served on a connection for "+r.TLS.ServerName)
		return
	}
	c.next.ServeHTTP(w, r)
}

// misdirected applies Gateway API's rule for HTTPS listeners: when the Host
// would select a different certificate (listener) than the SNI did, the
// client reused a connection it should not have (421). A Host no listener
// matches is left to routing, which answers 404.
func (c *checks) misdirected(sni, hostHeader string) bool {
	if sni == "" {
		return false
	}
	host := hostHeader
	if h, _, err := net.SplitHostPort(hostHeader); err == nil {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	if strings.EqualFold(host, sni) {
		return false
	}
	st := c.s.proxy.State()
	if st == nil {
		return false
	}
	l := st.Table.Listener(c.at)
	if l == nil {
		return false
	}
	byHost := l.Certificate(host)
	return byHost != nil && byHost != l.Certificate(sni)
}
