package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"syscall"
	"time"
)

// errNoEndpoint is returned by the round tripper when every endpoint was
// tried or none is usable any more.
var errNoEndpoint = errors.New("no usable endpoint")

// clientForwarding are the headers by which a proxy tells the backend who
// the client is and how it came in. The gateway is the edge: what a client
// sends in them is dropped (a backend trusting X-Real-Ip, as many
// frameworks do, would otherwise take a spoofed address), and the gateway
// sets X-Forwarded-For, X-Real-Ip, X-Forwarded-Host and X-Forwarded-Proto
// itself. A route's header filter can still set any of them.
var clientForwarding = [...]string{
	"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
	"X-Real-Ip", "X-Forwarded-Port", "X-Forwarded-Prefix",
}

// rewrite turns the inbound request into the outbound one. The URL host is
// a placeholder: the round tripper picks the endpoint, so that a connect
// failure can move on to another one.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	x := exchangeFrom(pr.In.Context())
	pr.Out.URL.Scheme = "http"
	pr.Out.URL.Host = x.backend.Name + "." + x.backend.Namespace
	pr.Out.Host = pr.In.Host // preserved unless a filter changes it
	// ReverseProxy already re-encodes malformed queries (cleanQueryParams)
	// but keeps a space or a byte ≥ 0x80 an HTTP/2 client sent.
	pr.Out.URL.RawQuery = escapeQuery(pr.Out.URL.RawQuery)
	for _, k := range clientForwarding {
		delete(pr.Out.Header, k)
	}
	pr.SetXForwarded()
	if ip := pr.Out.Header["X-Forwarded-For"]; len(ip) == 1 {
		pr.Out.Header["X-Real-Ip"] = ip
	}
	a := x.route.Action
	if rw := a.Rewrite; rw != nil {
		if rw.Hostname != "" {
			pr.Out.Host = rw.Hostname
		}
		if rw.Path != nil {
			setEscapedPath(pr.Out.URL, modifyPath(pr.In.URL.EscapedPath(), rw.Path, x.route.Path.Value))
		}
	}
	applyHeaders(pr.Out.Header, a.RequestHeaders)
}

func (p *Proxy) modifyResponse(res *http.Response) error {
	if res.StatusCode < 100 {
		// http.ReadResponse takes any three digits; net/http panics on
		// writing such a code: a protocol error, 502.
		return fmt.Errorf("backend answered status %03d", res.StatusCode)
	}
	x := exchangeFrom(res.Request.Context())
	res.Header[headerRequestID] = x.idHeader()
	applyHeaders(res.Header, x.route.Action.ResponseHeaders)
	if stop := streamStopFrom(res.Request.Context()); stop != nil && res.StatusCode != http.StatusSwitchingProtocols && isEventStream(res.Header) {
		res.Body = newStoppableBody(res.Body, stop)
	}
	return nil
}

// errorHandler maps a failed backend exchange to 502, 503 or 504. The body
// says what failed in terms a client can act on; which backend and the
// underlying error go to the access log (errDetail).
func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	p.fail(r.Context(), w, exchangeFrom(r.Context()), err)
}

// fail is errorHandler for an exchange whose context is ctx.
func (p *Proxy) fail(ctx context.Context, w http.ResponseWriter, x *exchange, err error) {
	b := x.backend
	x.errDetail = fmt.Sprintf("backend %s/%s port %d: %v", b.Namespace, b.Name, b.Port, err)
	var code int
	var msg string
	switch {
	case x.bodyIdle:
		// The client, not the backend, failed: its connection is past
		// its read deadline and cannot carry another request.
		x.errKind, code, msg = "client_body_timeout", http.StatusRequestTimeout, msgBodyIdle
		w.Header().Set("Connection", "close")
	case errors.Is(err, errNoEndpoint):
		x.errKind, code, msg = "connect", http.StatusServiceUnavailable, msgNoReachableEndpoint
	case ctx.Err() == context.DeadlineExceeded || isTimeout(err):
		x.errKind, code = "timeout", http.StatusGatewayTimeout
		msg = fmt.Sprintf("%s %s", msgTimeout, x.timeout)
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this response.
		x.errKind = "canceled"
		return
	case isConnectError(err):
		x.errKind, code, msg = "connect", http.StatusBadGateway, msgConnect
	default:
		x.errKind, code, msg = "protocol", http.StatusBadGateway, msgProtocol
	}
	if x.errKind != "connect" && !x.bodyIdle { // connect failures are counted per attempt
		p.metrics.upstreamErrs.WithLabelValues(x.errKind).Inc()
	}
	p.reply(w, x, code, msg)
}

// Bodies of the replies the gateway writes in a backend's place. They
// differ per failure so that a client (or its operator) can tell them
// apart, and name no namespace, Service or ReferenceGrant: those are the
// cluster's business, not the Internet's.
const (
	msgInvalidBackend      = "this route's backend is not usable"
	msgNoEndpoints         = "no ready endpoint for this route"
	msgNoReachableEndpoint = "no reachable endpoint for this route"
	msgTimeout             = "the backend did not answer within"
	msgConnect             = "could not connect to the backend"
	msgProtocol            = "bad response from the backend"
	msgBodyIdle            = "request body not received in time"
)

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// isConnectError reports whether the endpoint could not be reached (the
// dial failed, or the host or network is unreachable), so the endpoint
// deserves ejection.
func isConnectError(err error) bool {
	return dialFailed(err) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
}

// dialFailed reports whether no connection was established, so nothing of
// the request was sent.
func dialFailed(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// mayRetry reports whether a request whose attempt failed with a connect
// error may be sent to another endpoint. It must carry no body: the
// transport has read or closed it. And it must not have been processed:
// a failed dial proves that for every method, but an unreachable host
// reported on a connection that already existed (a pooled one) does not,
// since the request may have been delivered and only its answer lost, so
// only an idempotent method (RFC 9110, 9.2.2) is sent again then.
func mayRetry(req *http.Request, err error) bool {
	if req.Body != nil && req.Body != http.NoBody {
		return false
	}
	return dialFailed(err) || idempotent(req.Method)
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// roundTripper picks an endpoint of the chosen backend and sends the
// request with that backend's pooled transport. A connect failure ejects
// the endpoint and, when mayRetry allows it, tries another one.
type roundTripper struct{ p *Proxy }

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	p := rt.p
	x := exchangeFrom(req.Context())
	var lastErr error
	tried := ""
	for range p.opts.ConnectAttempts {
		ep, ok := p.pickEndpoint(x.backend, x.bstate, tried)
		if !ok {
			break
		}
		out := *req
		u := *req.URL
		u.Host = ep
		out.URL = &u
		x.endpoint = ep
		sent := time.Now()
		res, err := x.bstate.transport.RoundTrip(&out)
		x.upstream = time.Since(sent)
		if err == nil {
			p.ejector.succeed(ep)
			return res, nil
		}
		lastErr = err
		if !isConnectError(err) || req.Context().Err() != nil {
			return nil, err
		}
		p.ejector.fail(ep)
		p.metrics.upstreamErrs.WithLabelValues("connect").Inc()
		if !mayRetry(req, err) {
			return nil, err
		}
		tried = ep
	}
	if lastErr == nil {
		return nil, errNoEndpoint
	}
	return nil, lastErr
}
