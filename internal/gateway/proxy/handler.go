package proxy

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// listenerHandler serves one table listener (address, port).
type listenerHandler struct {
	p      *Proxy
	at     ir.ListenerKey
	scheme string
}

// exchange is the per-request state shared by the handler, Rewrite, the
// round tripper and the error handler through the request context.
type exchange struct {
	route    *ir.Route
	metrics  *routeMetrics // the route's cached series; nil: none
	backend  *ir.Backend
	bstate   *backendState
	endpoint string
	timeout  time.Duration
	// upstream is the time the last backend attempt took to return
	// response headers (or fail); zero: no attempt.
	upstream time.Duration
	// bytesIn counts request body bytes read from the client (and
	// forwarded); the transport may still be reading when the handler
	// returns, hence atomic.
	bytesIn atomic.Int64
	// errKind names what failed for the access log; errDetail says
	// which backend and why. Neither reaches the client: replies name the
	// failure, never a namespace, Service or ReferenceGrant.
	errKind   string
	errDetail string
	// bodyIdle: the client's request body stopped arriving (idleBody).
	bodyIdle bool
	// byGateway: the gateway wrote the response itself (reply), not the
	// backend; the backend series count it with origin "gateway".
	byGateway bool
	// id holds the request's X-Request-Id (takeRequestID): the header
	// values set on the request and the response are windows on it, not
	// allocations.
	id [1]string
}

// requestID is the request's X-Request-Id.
func (x *exchange) requestID() string { return x.id[0] }

// idHeader is the X-Request-Id header's value slice (capacity one: an
// append copies).
func (x *exchange) idHeader() []string { return x.id[:1:1] }

// recordedExchange holds a request's recorder and exchange in one
// allocation.
type recordedExchange struct {
	rec recorder
	x   exchange
}

// newExchange starts the record of one request answered on w: its
// recorder, and its exchange with the request's id taken.
func newExchange(w http.ResponseWriter, r *http.Request) (*recorder, *exchange) {
	rx := &recordedExchange{rec: recorder{ResponseWriter: w}}
	rx.x.takeRequestID(r)
	return &rx.rec, &rx.x
}

type exchangeKey struct{}

func exchangeFrom(ctx context.Context) *exchange {
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	return x
}

func (h *listenerHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec, x := newExchange(w, r)
	defer func() { h.p.finish(rec, r, x, start) }()

	// One load: the whole request runs on this state.
	st := h.p.state.Load()
	if st == nil {
		h.p.reply(rec, x, http.StatusServiceUnavailable, "gateway has no routing table yet")
		return
	}
	np := normalizePath(r.URL.EscapedPath())
	switch np.verdict {
	case pathBad:
		x.errKind = "bad_path"
		h.p.reply(rec, x, http.StatusBadRequest, "request path cannot be served")
		return
	case pathRedirect:
		// An encoded slash means different paths to different parsers:
		// the client asks again with one that means the same to all.
		loc := np.escaped
		if r.URL.RawQuery != "" {
			loc += "?" + r.URL.RawQuery
		}
		rec.Header().Set("Location", loc)
		h.p.reply(rec, x, http.StatusTemporaryRedirect, "")
		return
	}
	if np.escaped != r.URL.EscapedPath() {
		setEscapedPath(r.URL, np.escaped) // the backend gets the normalised path
	}
	res := ir.Match(st.Table, h.at, &ir.Request{
		Host: r.Host, Path: np.match, Method: r.Method, Header: r.Header, RawQuery: r.URL.RawQuery,
	})
	if res.Route == nil {
		h.p.reply(rec, x, http.StatusNotFound, fmt.Sprintf("no route for host %q path %q", hostOnly(r.Host), r.URL.Path))
		return
	}
	x.route = res.Route
	x.metrics = st.metrics[res.Route]
	a := res.Route.Action
	switch {
	case a.Redirect != nil:
		applyHeaders(rec.Header(), a.ResponseHeaders)
		rec.Header().Set("Location", redirectLocation(a.Redirect, res.Route, r, h.scheme, h.at.Port))
		h.p.reply(rec, x, a.Redirect.StatusCode, "")
		return
	case a.DirectResponse != nil:
		applyHeaders(rec.Header(), a.ResponseHeaders)
		msg := a.DirectResponse.Reason
		if msg == "" {
			msg = ir.NoBackendReason
		}
		h.p.reply(rec, x, a.DirectResponse.Status, msg)
		return
	}
	i := st.actions[a].pick()
	if i < 0 {
		h.p.reply(rec, x, http.StatusInternalServerError, ir.NoBackendReason)
		return
	}
	b := a.Backends[i]
	x.backend = b
	if b.Invalid {
		x.errKind, x.errDetail = "invalid_backend", fmt.Sprintf("backend %s/%s is invalid: %s", b.Namespace, b.Name, b.InvalidReason)
		h.p.reply(rec, x, http.StatusInternalServerError, msgInvalidBackend)
		return
	}
	if !hasEndpoints(b) {
		h.p.metrics.upstreamErrs.WithLabelValues("no_endpoints").Inc()
		x.errKind, x.errDetail = "no_endpoints", fmt.Sprintf("no ready endpoints for backend %s/%s port %d", b.Namespace, b.Name, b.Port)
		h.p.reply(rec, x, http.StatusServiceUnavailable, msgNoEndpoints)
		return
	}
	x.bstate = st.backends[b]

	sanitizeUpgrade(r.Header)
	// The fast path gets x as an argument; ReverseProxy's callbacks find
	// it in the request context.
	fast := fastEligible(r, x.bstate)
	ctx := r.Context()
	if !fast {
		ctx = context.WithValue(ctx, exchangeKey{}, x)
	}
	if d := routeTimeout(a.Timeouts); d > 0 {
		x.timeout = d
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	if fast {
		h.p.forwardFast(ctx, rec, r, x)
		return
	}
	rec.progress = h.p.boundBody(w, r, x)
	h.p.rp.ServeHTTP(rec, r.WithContext(ctx))
	if rec.status == 0 && r.Header.Get("Upgrade") != "" {
		rec.status = http.StatusSwitchingProtocols // hijacked by ReverseProxy
	}
}

// routeTimeout is the tighter of the request and backend-request timeouts:
// there is one backend attempt per request once connected.
func routeTimeout(t ir.Timeouts) time.Duration {
	d := t.Request
	if t.BackendRequest > 0 && (d == 0 || t.BackendRequest < d) {
		d = t.BackendRequest
	}
	return d
}

// reply writes a short plain-text response that says what happened.
func (p *Proxy) reply(w http.ResponseWriter, x *exchange, code int, msg string) {
	x.byGateway = true
	h := w.Header()
	h[headerRequestID] = x.idHeader()
	if msg == "" {
		w.WriteHeader(code)
		return
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg + "\n"))
}

// Reject answers a request the server refused before routing (400, 421),
// with the same logging and metrics as routed requests.
func (p *Proxy) Reject(w http.ResponseWriter, r *http.Request, code int, msg string) {
	start := time.Now()
	rec, x := newExchange(w, r)
	p.reply(rec, x, code, msg)
	p.finish(rec, r, x, start)
}

// finish records metrics and the access log line.
func (p *Proxy) finish(rec *recorder, r *http.Request, x *exchange, start time.Time) {
	d := time.Since(start)
	status := rec.status
	if status == 0 {
		status = 499 // client went away before any response
	}
	rm := x.metrics
	switch {
	case rm == nil && x.route != nil:
		rm = newRouteMetrics(keyOf(x.route), routeLabel(x.route)) // not in the state's index: uncached
	case rm == nil:
		rm = p.noRoute
	}
	rm.observe(p.metrics, status, d.Seconds())
	if b := x.backend; b != nil {
		bm := rm.backends.get(b)
		if bm == nil {
			bm = newBackendMetrics(routeBackendKey{route: rm.key, namespace: b.Namespace, name: b.Name}) // uncached
		}
		// No status at all means nobody answered: the client left first.
		bm.observe(p.metrics, status, x.byGateway || rec.status == 0, d.Seconds())
	}
	if p.opts.AccessLog == nil {
		return
	}
	p.logAccess(rec, r, x, rm.label, status, d)
}

// logAccess writes the access log record of one request; docs/observability.md
// lists the fields. Typed attributes and LogAttrs keep it free of
// reflection; the strings are the request's own (no copies) except the
// backend name.
func (p *Proxy) logAccess(rec *recorder, r *http.Request, x *exchange, route string, status int, d time.Duration) {
	backend := ""
	if x.backend != nil {
		backend = x.backend.Namespace + "/" + x.backend.Name
	}
	p.opts.AccessLog.LogAttrs(r.Context(), 0, "request",
		slogString("client_ip", clientIP(r.RemoteAddr)),
		slogString("method", r.Method), slogString("host", r.Host), slogString("path", r.URL.Path),
		slogString("protocol", r.Proto), slogInt("status", status),
		slogInt64("bytes_received", x.bytesIn.Load()), slogInt64("bytes_sent", rec.bytes), slogDuration("duration", d),
		slogString("upstream_address", x.endpoint), slogDuration("upstream_duration", x.upstream),
		slogString("user_agent", r.UserAgent()), slogString("request_id", x.requestID()),
		slogString("route", route), slogString("backend", backend),
		slogString("error", x.errKind), slogString("error_detail", x.errDetail))
}

// clientIP is the IP of the connection's peer (not X-Forwarded-For, which
// the client controls), or the whole address when it has no port.
func clientIP(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return remoteAddr
}

func routeLabel(r *ir.Route) string {
	return strings.ToLower(r.Source.Kind) + "/" + r.Source.Namespace + "/" + r.Source.Name
}
