package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// drainBackend serves what the drain tests send through the gateway:
// "/" answers at once, "/slow" when release is closed, "/upload" counts
// its body, "/sse" is an endless event stream and "/ws" a WebSocket-style
// upgrade that echoes bytes; wsEnd receives how the backend's read of a
// tunnel ended.
type drainBackend struct {
	ep          ir.Endpoint
	release     chan struct{}
	releaseOnce sync.Once
	slowStarted chan struct{}
	wsEnd       chan error
}

func (b *drainBackend) releaseSlow() { b.releaseOnce.Do(func() { close(b.release) }) }

func newDrainBackend(t *testing.T) *drainBackend {
	t.Helper()
	b := &drainBackend{release: make(chan struct{}), slowStarted: make(chan struct{}, 16), wsEnd: make(chan error, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, _ *http.Request) {
		b.slowStarted <- struct{}{}
		<-b.release
		_, _ = io.WriteString(w, "slow done")
	})
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = fmt.Fprintf(w, "got %d", n)
	})
	mux.HandleFunc("/sse", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(w, "data: %d\n\n", i); err != nil {
				return
			}
			if rc.Flush() != nil {
				return
			}
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "upgrade required", http.StatusUpgradeRequired)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		buf := make([]byte, 4096)
		for {
			n, err := brw.Read(buf)
			if n > 0 {
				if _, werr := c.Write(buf[:n]); werr != nil {
					b.wsEnd <- werr
					return
				}
			}
			if err != nil {
				b.wsEnd <- err
				return
			}
		}
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	host, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	b.ep = ir.Endpoint{Address: host, Port: int32(p), Ready: true, Serving: true}
	return b
}

// drainGateway starts a gateway with one HTTP listener routing everything
// to b, and its admin handler.
func drainGateway(t *testing.T, b *drainBackend) (*Server, string, *httptest.Server) {
	t.Helper()
	port := freePort(t)
	p, s := start(t, mustTable(t, httpListener(t, port, b.ep)), Options{})
	admin := httptest.NewServer(AdminHandler(p, prometheus.NewRegistry(), s.Check))
	t.Cleanup(admin.Close)
	// Runs before the server's Shutdown (cleanups run last first), so
	// that a failed test does not leave it waiting for /slow.
	t.Cleanup(b.releaseSlow)
	return s, s.Addr(port).String(), admin
}

func startDrain(s *Server, delay, timeout time.Duration) <-chan DrainReport {
	done := make(chan DrainReport, 1)
	go func() { done <- s.Drain(context.Background(), delay, timeout) }()
	return done
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func getBody(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s body: %v", url, err)
	}
	return res, string(b)
}

// During a drain: readiness fails at once; requests in flight, a POST
// whose body is still arriving, a keep-alive connection and new
// connections are all served during the delay (with Connection: close);
// once the listeners close new connections are refused while the
// requests in flight still complete; and nothing is cut.
func TestDrainServesThenStopsAccepting(t *testing.T) {
	b := newDrainBackend(t)
	s, addr, admin := drainGateway(t, b)
	base := "http://" + addr

	keepAlive := &http.Client{Transport: &http.Transport{}}
	defer keepAlive.CloseIdleConnections()
	if res, body := getBody(t, keepAlive, base+"/"); res.StatusCode != 200 || body != "ok" || res.Close {
		t.Fatalf("before the drain: %d %q close=%v", res.StatusCode, body, res.Close)
	}

	type result struct {
		status int
		body   string
		err    error
	}
	slow := make(chan result, 1)
	go func() {
		c := &http.Client{Transport: &http.Transport{}}
		res, err := c.Get(base + "/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		slow <- result{res.StatusCode, string(body), err}
	}()
	<-b.slowStarted

	// A POST with half of its body sent.
	const size = 200_000
	up, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	if _, err := fmt.Fprintf(up, "POST /upload HTTP/1.1\r\nHost: app.example\r\nContent-Length: %d\r\n\r\n%s", size, strings.Repeat("a", size/2)); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	done := startDrain(s, time.Hour, time.Minute) // the delay ends by cutDelay below
	waitFor(t, "the drain to begin", s.Draining)

	res, body := getBody(t, http.DefaultClient, admin.URL+"/readyz")
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "draining") {
		t.Fatalf("readyz while draining: %d %q", res.StatusCode, body)
	}

	// A new connection during the delay is served and told to close.
	fresh := &http.Client{Transport: &http.Transport{}}
	if res, body := getBody(t, fresh, base+"/"); res.StatusCode != 200 || body != "ok" || !res.Close {
		t.Fatalf("new connection during the delay: %d %q close=%v", res.StatusCode, body, res.Close)
	}
	// The keep-alive connection is reused once more, and told to close.
	reused := false
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused },
	}), http.MethodGet, base+"/", nil)
	res, err = keepAlive.Do(req)
	if err != nil {
		t.Fatalf("keep-alive request during the delay: %v", err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	if res.StatusCode != 200 || !reused || !res.Close {
		t.Fatalf("keep-alive request during the delay: %d reused=%v close=%v", res.StatusCode, reused, res.Close)
	}

	close(s.cutDelay)
	waitFor(t, "the listener to refuse connections", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return false
		}
		return errors.Is(err, syscall.ECONNREFUSED)
	})

	// Both requests were in flight when the listener closed; they complete.
	b.releaseSlow()
	if r := <-slow; r.err != nil || r.status != 200 || r.body != "slow done" {
		t.Fatalf("request in flight: %+v", r)
	}
	if _, err := io.WriteString(up, strings.Repeat("b", size/2)); err != nil {
		t.Fatalf("rest of the upload: %v", err)
	}
	ures, err := http.ReadResponse(bufio.NewReader(up), nil)
	if err != nil {
		t.Fatalf("upload response: %v", err)
	}
	ubody, err := io.ReadAll(ures.Body)
	if err != nil || ures.StatusCode != 200 || string(ubody) != fmt.Sprintf("got %d", size) {
		t.Fatalf("upload: %d %q %v", ures.StatusCode, ubody, err)
	}

	rep := <-done
	t.Logf("drain: accepting for %v after readiness failed, then %v until every connection closed; ended %d, forced %d (total %v)",
		rep.Delay.Round(time.Millisecond), rep.Wait.Round(time.Millisecond), rep.Ended, rep.Forced, time.Since(start).Round(time.Millisecond))
	if rep.Ended != 0 || rep.Forced != 0 {
		t.Fatalf("nothing should have been ended or forced: %+v", rep)
	}
}

// An event stream and a WebSocket tunnel still open at the drain timeout
// are ended cleanly: the stream with its last chunk (the client reads
// io.EOF after complete events, not io.ErrUnexpectedEOF), the tunnel with
// FIN (the client reads io.EOF, not ECONNRESET) and the backend sees EOF.
func TestDrainEndsStreamsAndTunnelsCleanly(t *testing.T) {
	b := newDrainBackend(t)
	s, addr, _ := drainGateway(t, b)

	sse, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer sse.Close()
	_, _ = io.WriteString(sse, "GET /sse HTTP/1.1\r\nHost: app.example\r\n\r\n")
	sres, err := http.ReadResponse(bufio.NewReader(sse), nil)
	if err != nil || sres.StatusCode != 200 || len(sres.TransferEncoding) == 0 {
		t.Fatalf("event stream: %v %+v", err, sres)
	}
	type streamEnd struct {
		events int
		tail   string
		err    error
	}
	sseEnd := make(chan streamEnd, 1)
	go func() {
		data, err := io.ReadAll(sres.Body) // nil error only at a clean end
		s := string(data)
		sseEnd <- streamEnd{strings.Count(s, "\n\n"), s[max(0, len(s)-20):], err}
	}()

	ws, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_, _ = io.WriteString(ws, "GET /ws HTTP/1.1\r\nHost: app.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	wbr := bufio.NewReader(ws)
	wres, err := http.ReadResponse(wbr, nil)
	if err != nil || wres.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %+v", err, wres)
	}
	_, _ = io.WriteString(ws, "hello")
	echo := make([]byte, 5)
	if _, err := io.ReadFull(wbr, echo); err != nil || string(echo) != "hello" {
		t.Fatalf("echo through the tunnel: %q %v", echo, err)
	}

	const timeout = 300 * time.Millisecond
	start := time.Now()
	done := startDrain(s, 0, timeout)

	// The client reads until the gateway ends the tunnel, then closes.
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, werr := io.Copy(io.Discard, wbr) // nil: io.EOF; an error otherwise
	_ = ws.Close()
	if werr != nil {
		t.Fatalf("tunnel did not end with FIN: %v", werr)
	}
	se := <-sseEnd
	if se.err != nil {
		t.Fatalf("event stream did not end cleanly after %d events: %v", se.events, se.err)
	}
	if se.events == 0 || !strings.HasSuffix(se.tail, "\n\n") {
		t.Fatalf("event stream ended with %d events, tail %q", se.events, se.tail)
	}
	select {
	case err := <-b.wsEnd:
		if !errors.Is(err, io.EOF) {
			t.Fatalf("backend end of the tunnel: %v, want EOF", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("backend end of the tunnel stayed open")
	}
	rep := <-done
	t.Logf("drain timeout %v: stream ended cleanly after %d events, tunnel closed with FIN on both sides; drain took %v (ended %d, forced %d)",
		timeout, se.events, time.Since(start).Round(time.Millisecond), rep.Ended, rep.Forced)
	if rep.Ended == 0 || rep.Forced != 0 {
		t.Fatalf("want the stream and tunnel ended, nothing forced: %+v", rep)
	}
}

// With nothing in flight (one idle keep-alive connection) the drain does
// not wait for its timeout.
func TestDrainEndsEarlyWhenNothingIsOpen(t *testing.T) {
	b := newDrainBackend(t)
	s, addr, _ := drainGateway(t, b)
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	if res, _ := getBody(t, c, "http://"+addr+"/"); res.StatusCode != 200 {
		t.Fatal(res.Status)
	}
	const timeout = 10 * time.Minute
	rep := <-startDrain(s, 0, timeout)
	t.Logf("drain with an idle keep-alive connection took %v", rep.Wait.Round(time.Millisecond))
	if rep.Wait > time.Minute || rep.Ended != 0 || rep.Forced != 0 {
		t.Fatalf("drain waited for its timeout or ended something: %+v", rep)
	}
}

// Over HTTPS: an HTTP/2 event stream open at the drain timeout ends with
// END_STREAM (the client reads io.EOF), and a WebSocket tunnel over
// HTTP/1.1 and TLS ends with close_notify and FIN (io.EOF, no reset).
func TestDrainEndsHTTPSStreamsCleanly(t *testing.T) {
	b := newDrainBackend(t)
	_, _, ca, caKey := keyPair(t, nil, nil, "ca")
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	cert, key, _, _ := keyPair(t, ca, caKey, "app.example")
	port := freePort(t)
	l := &ir.Listener{Port: port, Protocol: ir.ProtocolHTTPS,
		Certificates: []*ir.Certificate{{Hostname: "app.example", Pairs: []ir.KeyPair{{Source: "ns/c", CertPEM: cert, KeyPEM: key}}}},
		VirtualHosts: []*ir.VirtualHost{{Hostname: "app.example", ListenerHostname: "app.example", Listeners: []string{"L"}, Routes: []*ir.Route{route(t, "L", b.ep)}}},
	}
	_, s := start(t, mustTable(t, l), Options{})
	t.Cleanup(b.releaseSlow)
	addr := s.Addr(port).String()

	tr := &http.Transport{TLSClientConfig: &tls.Config{ServerName: "app.example", RootCAs: pool}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/sse", nil)
	req.Host = "app.example"
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil || res.ProtoMajor != 2 || res.StatusCode != 200 {
		t.Fatalf("HTTP/2 event stream: %v %+v", err, res)
	}
	type streamEnd struct {
		events int
		err    error
	}
	sseEnd := make(chan streamEnd, 1)
	go func() {
		data, err := io.ReadAll(res.Body)
		sseEnd <- streamEnd{strings.Count(string(data), "\n\n"), err}
	}()

	ws, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "app.example", RootCAs: pool, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_, _ = io.WriteString(ws, "GET /ws HTTP/1.1\r\nHost: app.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	wbr := bufio.NewReader(ws)
	if wres, err := http.ReadResponse(wbr, nil); err != nil || wres.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade over TLS: %v %+v", err, wres)
	}
	_, _ = io.WriteString(ws, "hello")
	echo := make([]byte, 5)
	if _, err := io.ReadFull(wbr, echo); err != nil || string(echo) != "hello" {
		t.Fatalf("echo through the TLS tunnel: %q %v", echo, err)
	}

	done := startDrain(s, 0, 300*time.Millisecond)
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, werr := io.Copy(io.Discard, wbr)
	_ = ws.Close()
	if werr != nil {
		t.Fatalf("TLS tunnel did not end with close_notify and FIN: %v", werr)
	}
	se := <-sseEnd
	if se.err != nil || se.events == 0 {
		t.Fatalf("HTTP/2 event stream did not end cleanly after %d events: %v", se.events, se.err)
	}
	rep := <-done
	t.Logf("HTTPS: HTTP/2 stream ended cleanly after %d events, TLS tunnel closed with close_notify and FIN (ended %d, forced %d)", se.events, rep.Ended, rep.Forced)
	if rep.Ended == 0 || rep.Forced != 0 {
		t.Fatalf("want the stream and tunnel ended, nothing forced: %+v", rep)
	}
}
