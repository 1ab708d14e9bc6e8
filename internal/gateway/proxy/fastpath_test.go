package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math/rand"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// rawBackend accepts connections on 127.0.0.1 and runs serve on each, so
// a test can answer with framing no well-behaved server would send.
// It returns the endpoint and the count of accepted connections.
func rawBackend(t *testing.T, serve func(c net.Conn, br *bufio.Reader)) (ir.Endpoint, *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	var n atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			go func() {
				defer c.Close()
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	return endpointOf(t, l.Addr().String()), &n
}

// readHead reads one request head and returns it.
func readHead(br *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return b.String(), err
		}
		b.WriteString(line)
		if line == "\r\n" {
			return b.String(), nil
		}
	}
}

// scripted answers every request on a connection with resp.
func scripted(resp string) func(net.Conn, *bufio.Reader) {
	return func(c net.Conn, br *bufio.Reader) {
		for {
			if _, err := readHead(br); err != nil {
				return
			}
			if _, err := io.WriteString(c, resp); err != nil {
				return
			}
		}
	}
}

func fastGateway(t *testing.T, ep ir.Endpoint) string {
	t.Helper()
	_, url := gateway(t, table(t, prefixRoute(t, "r", "/", forward(svc("raw", 1, ep)))), Options{})
	return url
}

func TestFastPathHostileResponseFraming(t *testing.T) {
	big := strings.Repeat("a", 2<<20)
	cases := []struct {
		name, resp string
		method     string
		status     int
		body       string
	}{
		{"invalid content-length", "HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\nhello", "GET", 502, msgProtocol + "\n"},
		{"conflicting content-lengths", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", "GET", 502, msgProtocol + "\n"},
		{"oversized headers", "HTTP/1.1 200 OK\r\nX-Big: " + big + "\r\n\r\n", "GET", 502, msgProtocol + "\n"},
		{"not http", "SSH-2.0-OpenSSH\r\n\r\n", "GET", 502, msgProtocol + "\n"},
		{"101 to a plain request", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n", "GET", 502, msgProtocol + "\n"},
		{"chunked wins over content-length", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "GET", 200, "hello"},
		{"head has no body", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HEAD", 200, ""},
		{"204 has no body", "HTTP/1.1 204 No Content\r\n\r\n", "GET", 204, ""},
		{"304 has no body", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", "GET", 304, ""},
		{"status below 100", "HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n", "GET", 502, msgProtocol + "\n"},
		{"status below 100, body path", "HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n", "POST", 502, msgProtocol + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ep, _ := rawBackend(t, scripted(tc.resp))
			url := fastGateway(t, ep)
			for i := range 2 { // the second request reuses or replaces the connection
				req, _ := http.NewRequest(tc.method, url+"/x", nil)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != tc.status || string(b) != tc.body {
					t.Fatalf("request %d: %d %q, want %d %q", i, res.StatusCode, b, tc.status, tc.body)
				}
			}
		})
	}
}

// TestFastPathBackendThatSpeaksFirst: a backend that is not HTTP may send
// a banner as soon as it accepts (SSH, SMTP) and then wait for its own
// protocol. The banner arrives before the request is written; the request
// is answered 502 at once from it, not after waiting for more bytes that
// never come.
func TestFastPathBackendThatSpeaksFirst(t *testing.T) {
	ep, _ := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		_, _ = io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n")
		_, _ = io.Copy(io.Discard, br) // silent from now on
	})
	url := fastGateway(t, ep)
	c := &http.Client{Timeout: 5 * time.Second}
	for i := range 2 {
		res, err := c.Get(url + "/x")
		if err != nil {
			t.Fatalf("request %d: %v (the gateway waited for the backend)", i, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadGateway || string(b) != msgProtocol+"\n" {
			t.Fatalf("request %d: %d %q, want 502 %q", i, res.StatusCode, b, msgProtocol)
		}
	}
}

// The same on the exchange itself, with the banner surely there before
// the request is written (the poller has reported it): a new connection's
// exchange must read it, not wait for the connection to become readable
// again (SendWaiter is for pooled connections only).
func TestFastPathNewConnectionReadsWhatCameFirst(t *testing.T) {
	ep, _ := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		_, _ = io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n")
		_, _ = io.Copy(io.Discard, br)
	})
	pool := newH1Pool(TransportOptions{MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute}, &net.Dialer{})
	defer pool.closeIdle()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := pool.get(ctx, endpointAddr(ep))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the banner arrives, its readiness is reported
	_, err = c.roundTrip(ctx, httptest.NewRecorder(), []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), getRequest)
	c.finish(false, nil)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("exchange with a backend that spoke first: %v (context: %v); want a protocol error at once", err, ctx.Err())
	}
}

func TestFastPathInformationalAndTrailers(t *testing.T) {
	ep, _ := rawBackend(t, scripted("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"+
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 42\r\n\r\n"))
	url := fastGateway(t, ep)
	var hints []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		hints = append(hints, strconv.Itoa(code)+" "+h.Get("Link"))
		return nil
	}}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", url+"/", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "hello" || res.Trailer.Get("X-Sum") != "42" {
		t.Errorf("body %q trailer %v", b, res.Trailer)
	}
	if len(hints) != 1 || hints[0] != "103 </a.css>; rel=preload" {
		t.Errorf("1xx seen by client: %v", hints)
	}
}

// A backend that closes a keep-alive connection right after answering:
// the pooled connection is dead when the next request takes it, and that
// GET must be sent again on a new connection, not fail.
func TestFastPathRetriesOnConnectionClosedWhileIdle(t *testing.T) {
	ep, accepted := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readHead(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		// Returns: the connection closes without Connection: close.
	})
	url := fastGateway(t, ep)
	for i := range 5 {
		res, body := get(t, http.DefaultClient, url+"/")
		if res.StatusCode != 200 || body != "ok" {
			t.Fatalf("request %d: %d %q", i, res.StatusCode, body)
		}
		time.Sleep(20 * time.Millisecond) // let the close arrive
	}
	if n := accepted.Load(); n != 5 {
		t.Errorf("backend accepted %d connections, want 5", n)
	}
}

// A POST without a body goes through ReverseProxy, which does not resend
// it on a fresh connection when the pooled one turns out dead: the
// backend may have acted on it.
func TestFastPathDoesNotTakeNonIdempotentRequests(t *testing.T) {
	var heads atomic.Int32
	ep, _ := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			if _, err := readHead(br); err != nil {
				return
			}
			heads.Add(1)
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	url := fastGateway(t, ep)
	req, _ := http.NewRequest(http.MethodPost, url+"/", nil)
	if fastEligible(req, &backendState{h1: &h1Pool{}}) {
		t.Fatal("POST takes the fast path")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || heads.Load() != 1 {
		t.Errorf("status %d, backend saw %d requests", res.StatusCode, heads.Load())
	}
}

func TestFastPathConnectionReuse(t *testing.T) {
	cases := []struct {
		name  string
		resp  string
		conns int32
	}{
		{"keep-alive is reused", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1},
		{"connection close is not reused", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 3},
		{"http/1.0 is not reused", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 3},
		// Bytes after the response nobody asked for: the framing of the
		// connection is not to be trusted again.
		{"extra bytes are not reused", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil", 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ep, accepted := rawBackend(t, scripted(tc.resp))
			url := fastGateway(t, ep)
			for i := range 3 {
				res, body := get(t, http.DefaultClient, url+"/")
				if res.StatusCode != 200 || body != "ok" {
					t.Fatalf("request %d: %d %q", i, res.StatusCode, body)
				}
			}
			if n := accepted.Load(); n != tc.conns {
				t.Errorf("backend accepted %d connections, want %d", n, tc.conns)
			}
		})
	}
}

// The outbound head: hop-by-hop headers and those the client's
// Connection names are gone, forwarding headers are the gateway's.
func TestFastPathRequestHead(t *testing.T) {
	heads := make(chan string, 1)
	ep, _ := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		h, err := readHead(br)
		if err != nil {
			return
		}
		heads <- h
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	})
	url := fastGateway(t, ep)
	res, _ := get(t, http.DefaultClient, url+"/a/b?x=1&y=2", "Connection", "X-Secret", "X-Secret", "s",
		"Keep-Alive", "timeout=5", "Proxy-Authorization", "Basic x", "X-Forwarded-For", "6.6.6.6",
		"Forwarded", "for=6.6.6.6", "X-Keep", "yes", "Te", "trailers", "Host", "app.example.com")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	h := <-heads
	if !strings.HasPrefix(h, "GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: app.example.com\r\n") {
		t.Errorf("request line and host: %q", h)
	}
	for _, bad := range []string{"X-Secret", "Keep-Alive", "Proxy-Authorization", "6.6.6.6", "Forwarded:", "Connection"} {
		if strings.Contains(h, bad) {
			t.Errorf("outbound head has %q:\n%s", bad, h)
		}
	}
	for _, want := range []string{"X-Keep: yes\r\n", "Te: trailers\r\n", "X-Forwarded-For: 127.0.0.1\r\n", "X-Forwarded-Host: app.example.com\r\n", "X-Forwarded-Proto: http\r\n"} {
		if !strings.Contains(h, want) {
			t.Errorf("outbound head lacks %q:\n%s", want, h)
		}
	}
}

// A route timeout cuts a backend that never answers: 504, and the
// connection is not pooled.
func TestFastPathTimeout(t *testing.T) {
	ep, _ := rawBackend(t, func(_ net.Conn, br *bufio.Reader) {
		_, _ = readHead(br)
		_, _ = io.Copy(io.Discard, br) // never answers
	})
	r := prefixRoute(t, "r", "/", forward(svc("raw", 1, ep)))
	r.Action.Timeouts.Request = 200 * time.Millisecond
	_, url := gateway(t, table(t, r), Options{})
	res, body := get(t, http.DefaultClient, url+"/")
	if res.StatusCode != http.StatusGatewayTimeout || !strings.HasPrefix(body, msgTimeout) {
		t.Errorf("%d %q", res.StatusCode, body)
	}
}

// Idle connections are closed after IdleConnTimeout even when no request
// comes to take or return one.
func TestFastPathIdleConnectionsAreSwept(t *testing.T) {
	closed := make(chan struct{}, 1)
	ep, _ := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readHead(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		if _, err := br.ReadByte(); err == io.EOF {
			closed <- struct{}{}
		}
	})
	r := prefixRoute(t, "r", "/", forward(svc("raw", 1, ep)))
	_, url := gateway(t, table(t, r), Options{Transport: TransportOptions{IdleConnTimeout: 100 * time.Millisecond}})
	if res, body := get(t, http.DefaultClient, url+"/"); res.StatusCode != 200 || body != "ok" {
		t.Fatalf("%d %q", res.StatusCode, body)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the idle backend connection was not closed")
	}
}

// Bytes a backend sends on an idle pooled connection (a HEAD's body sent
// late, a 408 before it closes) are never read as the next request's
// response: the connection is dropped before reuse.
func TestFastPathDropsIdleConnectionsWithUnsolicitedBytes(t *testing.T) {
	for _, tc := range []struct{ name, late string }{
		{"late body of a HEAD response", "hello"},
		{"408 on an idle connection", "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep, accepted := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
				for {
					head, err := readHead(br)
					if err != nil {
						return
					}
					if strings.HasPrefix(head, "HEAD ") {
						_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
						time.Sleep(50 * time.Millisecond)
						_, _ = io.WriteString(c, tc.late)
						continue
					}
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				}
			})
			url := fastGateway(t, ep)
			req, _ := http.NewRequest(http.MethodHead, url+"/x", nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("HEAD: %d", res.StatusCode)
			}
			time.Sleep(300 * time.Millisecond) // the late bytes have arrived
			for i := range 2 {
				res, body := get(t, http.DefaultClient, url+"/x")
				if res.StatusCode != 200 || body != "ok" {
					t.Fatalf("GET %d after the late bytes: %d %q, want 200 \"ok\"", i, res.StatusCode, body)
				}
			}
			if n := accepted.Load(); n != 2 {
				t.Errorf("backend accepted %d connections, want 2 (the tainted one replaced once)", n)
			}
		})
	}
}

// plainMediaType answers as mime.ParseMediaType's media type would for
// every value it takes.
func TestPlainMediaTypeAgreesWithParseMediaType(t *testing.T) {
	for _, v := range []string{
		"text/event-stream", "TEXT/Event-Stream", " text/event-stream\t", "text/event-stream;", "text/event-stream; charset=utf-8",
		"text/event-stream; a=1; a=2", "text/plain", "text/event stream", "text/event-streamx", "", " ", "\vtext/event-stream",
		"text/event-\u017ftream", "text/event-stream\r", "text/event-stream ; x", "text/event-stream\x00", "/", "text/",
	} {
		checkPlainMediaType(t, v)
	}
}

func FuzzPlainMediaType(f *testing.F) {
	f.Add("text/event-stream")
	f.Add("Text/Event-Stream ")
	f.Fuzz(checkPlainMediaType)
}

func checkPlainMediaType(t *testing.T, v string) {
	base, _, _ := mime.ParseMediaType(v)
	want := base == "text/event-stream"
	if got, ok := plainMediaType(v); ok && got != want {
		t.Errorf("plainMediaType(%q) = %v, mime.ParseMediaType says %v", v, got, want)
	}
	if got := isEventStream(http.Header{"Content-Type": {v}}); got != want {
		t.Errorf("isEventStream(%q) = %v, want %v", v, got, want)
	}
}

// slotContext is a context with a cancel slot, as the lean engine's.
type slotContext struct {
	context.Context
	CancelSlot
}

// An exchange on a context with a cancel slot (the lean engine's) puts its
// abort there, not in context.AfterFunc: firing the slot fails the
// pending backend read at once and the connection is not reused; an
// exchange that ends first takes its abort back out.
func TestFastPathAbortsThroughCancelHook(t *testing.T) {
	ep, _ := rawBackend(t, func(_ net.Conn, br *bufio.Reader) {
		_, _ = io.Copy(io.Discard, br) // never answers
	})
	addr := endpointAddr(ep)
	pool := newH1Pool(TransportOptions{MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute}, &net.Dialer{})
	defer pool.closeIdle()

	ctx := &slotContext{Context: context.Background()}
	c, err := pool.get(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	c.watch(ctx)
	if c.hook == nil || c.stop != nil {
		t.Fatal("the exchange did not use the context's cancel slot")
	}
	if !c.unwatch() || ctx.StopOnCancel() {
		t.Fatal("unwatch did not take the abort back out of the slot")
	}

	c.watch(ctx)
	errs := make(chan error, 1)
	go func() {
		_, err := c.br.Peek(1)
		errs <- err
	}()
	time.Sleep(50 * time.Millisecond)
	ctx.Fire()
	select {
	case err := <-errs:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("backend read ended with %v, want a deadline error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("firing the cancel slot did not end the pending backend read")
	}
	c.finish(true, pool)
	if n := len(pool.idle[addr]); n != 0 {
		t.Fatalf("an aborted connection went back to the pool (%d idle)", n)
	}
}

// removeHopHeadersModel is the plain statement of removeHopHeaders: every
// name Connection lists, then every hop-by-hop name, deleted.
func removeHopHeadersModel(h http.Header) {
	for _, v := range h["Connection"] {
		for f := range strings.SplitSeq(v, ",") {
			if f = textproto.TrimString(f); f != "" {
				h.Del(f)
			}
		}
	}
	for _, k := range hopHeaders {
		delete(h, k)
	}
}

// removeHopHeaders (which walks a small header instead of deleting every
// hop-by-hop name) leaves what the model leaves, for random headers that
// mix hop-by-hop, listed, non-canonical and ordinary names.
func TestRemoveHopHeadersAgreesWithModel(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	names := append(hopHeaders[:], "X-A", "X-B", "Date", "Content-Type", "x-a", "connection")
	for range 20000 {
		h := http.Header{}
		for n := rng.Intn(14); n > 0; n-- {
			k, v := names[rng.Intn(len(names))], names[rng.Intn(len(names))]
			if k == "Connection" && rng.Intn(2) == 0 {
				v = names[rng.Intn(len(names))] + ", " + names[rng.Intn(len(names))]
			}
			h[k] = append(h[k], v)
		}
		got, want := h.Clone(), h.Clone()
		removeHopHeaders(got)
		removeHopHeadersModel(want)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%v: removeHopHeaders left %v, the model %v", h, got, want)
		}
	}
}
