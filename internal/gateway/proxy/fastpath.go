package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/http/httpguts"
)

// The fast path forwards the common request — body-less, idempotent, no
// upgrade, to a plain HTTP/1.1 backend — with h1Pool instead of
// ReverseProxy and http.Transport: the outbound request is written
// straight from the inbound one (no Request or Header clone when the route
// has no request header filter) and the response is read on the handler's
// goroutine. Every other request takes the ReverseProxy path, whose
// behaviour this one reproduces: hop-by-hop stripping, X-Forwarded-*,
// header filters, 1xx forwarding, trailers, flushing of streams, the
// error replies and the connect-failure retries.

// fastEligible reports whether r may take the fast path to bs.
func fastEligible(r *http.Request, bs *backendState) bool {
	if bs.h1 == nil || (r.Body != nil && r.Body != http.NoBody) {
		return false
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
	default:
		// Only idempotent requests: a pooled connection the backend
		// closed while idle is retried on a fresh one, which is safe
		// for these alone.
		return false
	}
	h := r.Header
	if h["Upgrade"] != nil || h["Expect"] != nil {
		return false
	}
	return queryIsClean(r.URL.RawQuery)
}

// queryIsClean reports whether ReverseProxy would forward q unchanged (its
// cleanQueryParams re-encodes queries with ';', bad escapes or too many
// parameters); others take that path so that both forward the same query.
func queryIsClean(q string) bool {
	if strings.Count(q, "&") >= 1000 {
		return false
	}
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case ';':
			return false
		case '%':
			if i+2 >= len(q) || !isHex(q[i+1]) || !isHex(q[i+2]) {
				return false
			}
		default:
			if !queryByteOK(q[i]) {
				return false // escapeQuery's work
			}
		}
	}
	return true
}

// queryByteOK reports whether c may stand unescaped in an HTTP/1.1
// request-target's query: not a space, a control byte or a byte ≥ 0x80,
// which HTTP/2 clients can send in :path (HTTP/1.1 clients cannot) and
// which would split or corrupt the request line to the backend.
func queryByteOK(c byte) bool { return c > ' ' && c < 0x7f }

// escapeQuery percent-encodes the bytes queryByteOK refuses, as a browser
// would before sending them, and leaves the rest of q as it came.
func escapeQuery(q string) string {
	i := 0
	for i < len(q) && queryByteOK(q[i]) {
		i++
	}
	if i == len(q) {
		return q
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(q)+16)
	b = append(b, q[:i]...)
	for ; i < len(q); i++ {
		if c := q[i]; queryByteOK(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}

// hopHeaders are removed in both directions (RFC 9110 section 7.6.1 and
// the headers RFC 2616 listed), as ReverseProxy does.
var hopHeaders = [...]string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

func isHopHeader(k string) bool {
	for _, h := range hopHeaders {
		if k == h {
			return true
		}
	}
	return false
}

// connectionListed reports whether the Connection header values name k.
func connectionListed(conn []string, k string) bool {
	for _, v := range conn {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(textproto.TrimString(f), k) {
				return true
			}
		}
	}
	return false
}

func removeHopHeaders(h http.Header) {
	for _, v := range h["Connection"] {
		for f := range strings.SplitSeq(v, ",") {
			if f = textproto.TrimString(f); f != "" {
				h.Del(f)
			}
		}
	}
	if len(h) <= len(hopHeaders) {
		// A header with fewer fields than there are hop-by-hop names (the
		// common response) is cheaper to walk than to probe nine times.
		for k := range h {
			if isHopHeader(k) {
				delete(h, k)
			}
		}
		return
	}
	for _, k := range hopHeaders {
		delete(h, k)
	}
}

// excluded from the header block: the request line's Host and the framing
// headers are the client's own (http.Transport's reqWriteExcludeHeader).
func excludedOutbound(k string) bool {
	switch k {
	case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
		return true
	}
	return false
}

var reqBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// buildRequest appends the outbound request head for r to b.
func buildRequest(b []byte, r *http.Request, x *exchange) ([]byte, error) {
	a := x.route.Action
	host := r.Host
	uri := ""
	if rw := a.Rewrite; rw != nil {
		if rw.Hostname != "" {
			host = rw.Hostname
		}
		if rw.Path != nil {
			u := *r.URL
			setEscapedPath(&u, modifyPath(r.URL.EscapedPath(), rw.Path, x.route.Path.Value))
			uri = u.RequestURI()
		}
	}
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	if !httpguts.ValidHostHeader(host) {
		return b, fmt.Errorf("invalid Host %q", host)
	}
	b = append(b, r.Method...)
	b = append(b, ' ')
	b = append(b, uri...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\n"...)

	clientIP, _, ipErr := net.SplitHostPort(r.RemoteAddr)
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	teTrailers := httpguts.HeaderValuesContainsToken(r.Header["Te"], "trailers")

	if a.RequestHeaders != nil {
		// Filters see the header as ReverseProxy's Rewrite does: hop-by-hop
		// and client forwarding headers gone, the gateway's own set.
		h := r.Header.Clone()
		removeHopHeaders(h)
		if teTrailers {
			h["Te"] = []string{"trailers"}
		}
		for _, k := range clientForwarding {
			delete(h, k)
		}
		if ipErr == nil {
			h["X-Forwarded-For"] = []string{clientIP}
			h["X-Real-Ip"] = []string{clientIP}
		}
		h["X-Forwarded-Host"] = []string{r.Host}
		h["X-Forwarded-Proto"] = []string{proto}
		applyHeaders(h, a.RequestHeaders)
		for k, vv := range h {
			if excludedOutbound(k) {
				continue
			}
			if !httpguts.ValidHeaderFieldName(k) {
				return b, fmt.Errorf("invalid header field name %q", k)
			}
			for _, v := range vv {
				if !httpguts.ValidHeaderFieldValue(v) {
					return b, fmt.Errorf("invalid header field value for %q", k)
				}
				b = appendHeader(b, k, v)
			}
		}
		return append(b, "\r\n"...), nil
	}

	conn := r.Header["Connection"]
	for k, vv := range r.Header {
		switch k {
		case "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
			"X-Real-Ip", "X-Forwarded-Port", "X-Forwarded-Prefix":
			continue // clientForwarding
		}
		if isHopHeader(k) || excludedOutbound(k) || (conn != nil && connectionListed(conn, k)) {
			continue
		}
		for _, v := range vv {
			b = appendHeader(b, k, v)
		}
	}
	if teTrailers {
		b = append(b, "Te: trailers\r\n"...)
	}
	if ipErr == nil {
		b = appendHeader(b, "X-Forwarded-For", clientIP)
		b = appendHeader(b, "X-Real-Ip", clientIP)
	}
	b = appendHeader(b, "X-Forwarded-Host", r.Host)
	b = appendHeader(b, "X-Forwarded-Proto", proto)
	return append(b, "\r\n"...), nil
}

func appendHeader(b []byte, k, v string) []byte {
	b = append(b, k...)
	b = append(b, ": "...)
	b = append(b, textproto.TrimString(v)...)
	return append(b, "\r\n"...)
}

// Requests ReadResponse needs only for the method (HEAD responses have no
// body); shared and never modified.
var (
	headRequest = &http.Request{Method: http.MethodHead}
	getRequest  = &http.Request{Method: http.MethodGet}
)

// forwardFast sends r to x's backend through its h1Pool and relays the
// response to w. ctx carries the route timeout and the client's
// cancellation.
func (p *Proxy) forwardFast(ctx context.Context, w *recorder, r *http.Request, x *exchange) {
	bp := reqBufs.Get().(*[]byte)
	head, err := buildRequest((*bp)[:0], r, x)
	defer func() {
		if cap(head) <= 64<<10 {
			*bp = head[:0]
			reqBufs.Put(bp)
		}
	}()
	if err != nil {
		p.fail(ctx, w, x, err)
		return
	}
	rreq := getRequest
	if r.Method == http.MethodHead {
		rreq = headRequest
	}
	var lastErr error
	tried := ""
	for range p.opts.ConnectAttempts {
		ep, ok := p.pickEndpoint(x.backend, x.bstate, tried)
		if !ok {
			break
		}
		x.endpoint = ep
		sent := time.Now()
		c, res, err := exchangeH1(ctx, w, x.bstate.h1, ep, head, rreq)
		x.upstream = time.Since(sent)
		if err == nil {
			p.ejector.succeed(ep)
			p.relay(ctx, w, x, c, res)
			return
		}
		lastErr = err
		if !isConnectError(err) || ctx.Err() != nil {
			break
		}
		p.ejector.fail(ep)
		p.metrics.upstreamErrs.WithLabelValues("connect").Inc()
		tried = ep
	}
	if lastErr == nil {
		lastErr = errNoEndpoint
	}
	p.fail(ctx, w, x, lastErr)
}

// exchangeH1 writes head on a pooled (or new) connection and reads the
// response head. A reused connection that fails before any response byte
// arrived was most likely closed by the backend while idle; the request is
// idempotent and body-less, so it is sent again on another connection.
func exchangeH1(ctx context.Context, w http.ResponseWriter, pool *h1Pool, ep string, head []byte, rreq *http.Request) (*h1Conn, *http.Response, error) {
	for {
		c, err := pool.get(ctx, ep)
		if err != nil {
			return nil, nil, err
		}
		res, err := c.roundTrip(ctx, w, head, rreq)
		if err == nil {
			return c, res, nil
		}
		stale := c.reused && c.lr.got == 0 && isStaleConnError(err)
		c.finish(false, nil)
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		if !stale {
			return nil, nil, err
		}
	}
}

// aLongTimeAgo is a deadline that makes pending I/O fail at once.
var aLongTimeAgo = time.Unix(1, 0)

func (c *h1Conn) roundTrip(ctx context.Context, w http.ResponseWriter, head []byte, rreq *http.Request) (*http.Response, error) {
	c.lr.got = 0
	c.watch(ctx)
	// On a pooled connection the response is read once it is there,
	// without a read that finds nothing first (SendWaiter, which also
	// looks for stray bytes). Not on a new one, which may already hold
	// bytes the backend sent on accepting it (a banner: not HTTP), nor
	// with a head larger than the write buffer, which bufio.Writer would
	// send before the wait began: the wait would not see an answer that
	// came before it. Nor where a connection cannot be looked at
	// (peekFD -1).
	wait := c.reused && c.fd >= 0 && len(head) <= c.bw.Available()
	if c.reused && !wait && unsolicited(c.fd) {
		return nil, errUnsolicited
	}
	if _, err := c.bw.Write(head); err != nil {
		return nil, err
	}
	var err error
	if wait {
		err = c.sw.FlushAndWait(c.bw)
	} else {
		err = c.bw.Flush()
	}
	if err != nil {
		return nil, err
	}
	c.lr.n = maxResponseHeaderBytes
	for {
		res, ok := readLeanResponse(c.br, rreq)
		if !ok {
			var err error
			if res, err = http.ReadResponse(c.br, rreq); err != nil {
				return nil, err
			}
		}
		code := res.StatusCode
		if code < 100 {
			// ReadResponse takes any three digits; net/http panics on
			// writing such a code.
			return nil, fmt.Errorf("backend answered status %03d", code)
		}
		if code == http.StatusSwitchingProtocols {
			return nil, errors.New("backend switched protocols on a request without Upgrade")
		}
		if code >= 100 && code < 200 {
			// Informational (103 Early Hints, 100): forward and read on.
			// The headers set before (a draining listener's Connection:
			// close) are the final response's again afterwards.
			h := w.Header()
			saved := h.Clone()
			for k, vv := range res.Header {
				h[k] = vv
			}
			w.WriteHeader(code)
			clear(h)
			maps.Copy(h, saved)
			continue
		}
		c.lr.n = -1
		return res, nil
	}
}

// finish ends an exchange: the connection goes back to the pool when its
// response was read completely and the backend keeps it open, else it is
// closed.
func (c *h1Conn) finish(reuse bool, pool *h1Pool) {
	if c.unwatch() && reuse {
		pool.put(c)
		return
	}
	c.close()
}

// relay writes the backend's response to the client.
func (p *Proxy) relay(ctx context.Context, w *recorder, x *exchange, c *h1Conn, res *http.Response) {
	removeHopHeaders(res.Header)
	res.Header[headerRequestID] = x.idHeader()
	applyHeaders(res.Header, x.route.Action.ResponseHeaders)
	h := w.Header()
	for k, vv := range res.Header {
		if old, ok := h[k]; ok {
			h[k] = append(old, vv...)
		} else {
			h[k] = vv
		}
	}
	announced := len(res.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range res.Trailer {
			keys = append(keys, k)
		}
		h.Add("Trailer", strings.Join(keys, ", "))
	}
	w.WriteHeader(res.StatusCode)

	eventStream := isEventStream(res.Header)
	flush := res.ContentLength == -1 || eventStream
	// A draining listener ends event streams cleanly (see WithStreamStop):
	// the backend read is unblocked by a past deadline, the client gets
	// the end of the response, and the connection is not reused.
	// stopped reports (and from then on prevents) the stop having fired.
	stopped := func() bool { return false }
	if stop := streamStopFrom(ctx); stop != nil && eventStream {
		release := context.AfterFunc(stop, func() { _ = c.nc.SetReadDeadline(time.Unix(1, 0)) })
		stopped = func() bool { return !release() }
		defer release()
	}
	bp := p.bufs.p.Get().(*[]byte)
	buf := *bp
	var rerr, werr error
	for {
		var n int
		n, rerr = res.Body.Read(buf)
		if n > 0 {
			if _, werr = w.Write(buf[:n]); werr != nil {
				break
			}
			if flush {
				w.Flush()
			}
		}
		if rerr != nil {
			break
		}
	}
	p.bufs.p.Put(bp)
	if stopped() {
		// The drain ended the stream (or its deadline may be set on the
		// connection): end the response cleanly, never reuse the connection.
		c.finish(false, nil)
		if werr == nil {
			return
		}
		panic(http.ErrAbortHandler)
	}
	if werr != nil || !errors.Is(rerr, io.EOF) {
		// The client or the backend broke off mid-body: all that is left
		// is to abort the client's response, as ReverseProxy does.
		c.finish(false, nil)
		panic(http.ErrAbortHandler)
	}
	_ = res.Body.Close() // populates res.Trailer
	c.finish(!res.Close, x.bstate.h1)
	if len(res.Trailer) > 0 {
		w.Flush() // chunked, so the trailers can follow
		if len(res.Trailer) == announced {
			for k, vv := range res.Trailer {
				h[k] = append(h[k], vv...)
			}
			return
		}
		for k, vv := range res.Trailer {
			for _, v := range vv {
				h.Add(http.TrailerPrefix+k, v)
			}
		}
	}
}

func isEventStream(h http.Header) bool {
	ct := h["Content-Type"]
	if len(ct) == 0 {
		return false
	}
	if base, ok := plainMediaType(ct[0]); ok {
		return base
	}
	base, _, _ := mime.ParseMediaType(ct[0])
	return base == "text/event-stream"
}

// plainMediaType answers isEventStream without mime.ParseMediaType (which
// allocates a parameter map) for a value without parameters in printable
// ASCII, where ParseMediaType's answer is its lower-cased, trimmed self;
// ok is false for every other value.
func plainMediaType(v string) (eventStream, ok bool) {
	const want = "text/event-stream"
	v = strings.Trim(v, " \t")
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == ';' || c < ' ' || c > '~' {
			return false, false
		}
	}
	if len(v) != len(want) {
		return false, true
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != want[i] {
			return false, true
		}
	}
	return true, true
}

func isConnReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
