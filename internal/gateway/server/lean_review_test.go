package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// hangBackend answers /hang only when its request context ends (or after
// 10s): it reports on canceled whether the gateway gave the request up.
func hangBackend(t *testing.T) (ir.Endpoint, chan struct{}, chan bool) {
	t.Helper()
	started := make(chan struct{}, 16)
	canceled := make(chan bool, 16)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		select {
		case <-r.Context().Done():
			canceled <- true
		case <-time.After(10 * time.Second):
			canceled <- false
			_, _ = io.WriteString(w, "late")
		}
	}))
	t.Cleanup(s.Close)
	host, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return ir.Endpoint{Address: host, Port: int32(p), Ready: true, Serving: true}, started, canceled
}

// TestReviewClientGoneCancelsBackendRequest: a client that sends a GET and
// closes its connection while the backend thinks must make the gateway
// give the backend request up (net/http cancels the request context when
// its background read sees EOF). On the lean engine nothing reads the
// connection while the handler runs, and the request context is the
// connection's, never canceled: the backend request (a goroutine, a
// backend connection, a tracked client connection that holds a drain)
// lives on until the backend answers or the route timeout, if any.
func TestReviewClientGoneCancelsBackendRequest(t *testing.T) {
	for _, engine := range []string{EngineNetHTTP, EngineLean} {
		t.Run(engine, func(t *testing.T) {
			ep, started, canceled := hangBackend(t)
			port := freePort(t)
			_, s := start(t, mustTable(t, httpListener(t, port, ep)), Options{HTTP1Engine: engine})
			c, err := net.Dial("tcp", s.Addr(port).String())
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.WriteString(c, "GET /hang HTTP/1.1\r\n"+localHost+"\r\n")
			<-started
			_ = c.Close()
			select {
			case ok := <-canceled:
				if !ok {
					t.Fatal("the backend request ran its 10s: the client's close was not noticed")
				}
			case <-time.After(3 * time.Second):
				t.Fatalf("%s: the backend request still runs 3s after the client closed its connection", engine)
			}
		})
	}
}

// TestReviewRequestContextEndsWithHandler: net/http cancels a request's
// context when its handler returns; anything the handler left waiting on
// it (context.AfterFunc, a goroutine selecting on Done) is released then.
// The lean engine passes the connection's context, never canceled.
func TestReviewRequestContextEndsWithHandler(t *testing.T) {
	for _, engine := range []string{EngineNetHTTP, EngineLean} {
		t.Run(engine, func(t *testing.T) {
			got := make(chan error, 1)
			s, port := echoListener(t, engine)
			l := s.listenerOn(port)
			inner := l.h1.Handler
			l.h1.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx := r.Context()
				go func() {
					select {
					case <-ctx.Done():
						got <- ctx.Err()
					case <-time.After(3 * time.Second):
						got <- nil
					}
				}()
				inner.ServeHTTP(w, r)
			})
			c, err := net.Dial("tcp", s.Addr(port).String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, _ = io.WriteString(c, "GET / HTTP/1.1\r\n"+localHost+"\r\n")
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			_ = c.Close()
			if err := <-got; err == nil {
				t.Fatalf("%s: the request context was not canceled 3s after the handler returned and the client left", engine)
			}
		})
	}
}

// TestReviewHeaderTimeoutSpansHandOver: ReadHeaderTimeout bounds how long
// a client may take to send a request head (slowloris). A client that
// trickles a head to the lean engine and, just before the timeout, sends a
// bare LF (which makes the engine hand the connection to net/http) gets a
// fresh ReadHeaderTimeout from net/http: the head may take twice as long
// as configured. net/http alone closes at ReadHeaderTimeout.
func TestReviewHeaderTimeoutSpansHandOver(t *testing.T) {
	const rht = 600 * time.Millisecond
	for _, engine := range []string{EngineNetHTTP, EngineLean} {
		t.Run(engine, func(t *testing.T) {
			port := freePort(t)
			_, s := start(t, mustTable(t, httpListener(t, port, echoBackend(t))), Options{HTTP1Engine: engine, ReadHeaderTimeout: rht})
			c, err := net.Dial("tcp", s.Addr(port).String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			begin := time.Now()
			closed := make(chan time.Duration, 1)
			go func() {
				_, _ = io.Copy(io.Discard, c)
				closed <- time.Since(begin)
			}()
			head := "GET / HTTP/1.1\r\nHost: a.example\r\nX-A: "
			_, _ = io.WriteString(c, head)
			// Trickle until just before the timeout, then a bare LF ends
			// the X-A line (net/http takes bare LF), then trickle on.
			for time.Since(begin) < rht-150*time.Millisecond {
				_, _ = c.Write([]byte{'a'})
				time.Sleep(50 * time.Millisecond)
			}
			_, _ = c.Write([]byte("\nX-B: "))
			for i := 0; i < 40; i++ {
				if _, err := c.Write([]byte{'b'}); err != nil {
					break
				}
				select {
				case d := <-closed:
					if d > rht+300*time.Millisecond {
						t.Fatalf("%s: a head still arriving was cut off after %v; ReadHeaderTimeout is %v", engine, d, rht)
					}
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
			t.Fatalf("%s: a head still trickling after %v; ReadHeaderTimeout is %v", engine, time.Since(begin), rht)
		})
	}
}

// TestReviewIdleConnectionMemory: what an idle keep-alive connection keeps
// on the heap after one request with a 3 KiB cookie, lean engine against
// net/http's. The lean engine keeps the last Request (and through it the
// request head's string), its header map and the 2 KiB body buffer for the
// connection's life; net/http drops the request and returns the buffer to
// a pool after each response.
func TestReviewIdleConnectionMemory(t *testing.T) {
	const conns = 300
	ep := echoBackend(t)
	req := "GET /204 HTTP/1.1\r\n" + localHost + "Cookie: " + strings.Repeat("c", 3000) + "\r\n\r\n"
	perConn := map[string]float64{}
	for _, engine := range []string{EngineNetHTTP, EngineLean} {
		port := freePort(t)
		_, s := start(t, mustTable(t, httpListener(t, port, ep)), Options{HTTP1Engine: engine})
		addr := s.Addr(port).String()
		heap := func() uint64 {
			var ms runtime.MemStats
			runtime.GC()
			runtime.GC()
			runtime.ReadMemStats(&ms)
			return ms.HeapAlloc
		}
		// Warm up pools and the backend connection.
		_ = rawExchange(t, addr, req, 100*time.Millisecond)
		before := heap()
		cs := make([]net.Conn, 0, conns)
		for range conns {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			cs = append(cs, c)
			_, _ = io.WriteString(c, req)
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			_ = res.Body.Close()
		}
		time.Sleep(200 * time.Millisecond)
		after := heap()
		perConn[engine] = float64(int64(after)-int64(before)) / conns
		for _, c := range cs {
			_ = c.Close()
		}
		runtime.KeepAlive(cs)
	}
	t.Logf("heap per idle connection: net/http %.0f B, lean %.0f B", perConn[EngineNetHTTP], perConn[EngineLean])
	// The lean engine keeps, per connection, two header maps and a value
	// slice it reuses for every request (about 1 KiB); the 3 KiB request
	// head or the 2 KiB body buffer kept as well would exceed 2 KiB.
	if perConn[EngineLean] > perConn[EngineNetHTTP]+2048 {
		t.Fatalf("an idle lean connection keeps %.0f B more on the heap than net/http's", perConn[EngineLean]-perConn[EngineNetHTTP])
	}
}

// TestReviewWriteDeadlineDoesNotOutliveRequest: net/http clears a write
// deadline a handler set (http.ResponseController) once its response is
// done; the lean engine leaves it on the connection, so the next request
// on it fails to write once the old deadline passes. No handler of the
// gateway sets one today (bodyIdle only sets read deadlines, and only on
// bodies, which the lean engine never has): latent.
func TestReviewWriteDeadlineDoesNotOutliveRequest(t *testing.T) {
	for _, engine := range []string{EngineNetHTTP, EngineLean} {
		t.Run(engine, func(t *testing.T) {
			s, port := echoListener(t, engine)
			l := s.listenerOn(port)
			l.h1.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/first" {
					_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
				}
				_, _ = io.WriteString(w, "ok")
			})
			c, err := net.Dial("tcp", s.Addr(port).String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			for _, path := range []string{"/first", "/second"} {
				_, _ = io.WriteString(c, "GET "+path+" HTTP/1.1\r\n"+localHost+"\r\n")
				_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
				res, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("%s: %s: %v", engine, path, err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				time.Sleep(200 * time.Millisecond)
			}
		})
	}
}

// echoListener starts a server on engine with one plain listener routed to
// an echo backend; the tests then wrap or replace its handler.
func echoListener(t *testing.T, engine string) (*Server, int32) {
	t.Helper()
	p, s := newServer(t, Options{HTTP1Engine: engine})
	port := freePort(t)
	tb := mustTable(t, httpListener(t, port, echoBackend(t)))
	p.Publish(tb)
	if err := s.Reconcile(tb); err != nil {
		t.Fatal(err)
	}
	return s, port
}

// TestClientGoneOnLaterRequestIsNoticed: the lean engine's watch timer is
// not stopped when a request ends; it fires during a later request of the
// connection and must then wait out that request's own leanWatchAfter and
// start the watch. A client that leaves during the second request of a
// keep-alive connection, before and after the first one's timer fires,
// must still have its backend request given up.
func TestClientGoneOnLaterRequestIsNoticed(t *testing.T) {
	started := make(chan struct{}, 4)
	canceled := make(chan bool, 4)
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/quick" {
			_, _ = io.WriteString(w, "quick")
			return
		}
		started <- struct{}{}
		select {
		case <-r.Context().Done():
			canceled <- true
		case <-time.After(10 * time.Second):
			canceled <- false
		}
	}))
	t.Cleanup(b.Close)
	host, bport, _ := net.SplitHostPort(b.Listener.Addr().String())
	bp, _ := strconv.Atoi(bport)
	ep := ir.Endpoint{Address: host, Port: int32(bp), Ready: true, Serving: true}
	port := freePort(t)
	_, s := start(t, mustTable(t, httpListener(t, port, ep)), Options{HTTP1Engine: EngineLean})
	for _, leaveAfter := range []time.Duration{0, 10 * time.Millisecond, 120 * time.Millisecond} {
		t.Run("leave after "+leaveAfter.String(), func(t *testing.T) {
			c, err := net.Dial("tcp", s.Addr(port).String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			_, _ = io.WriteString(c, "GET /quick HTTP/1.1\r\n"+localHost+"\r\n")
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			if string(body) != "quick" {
				t.Fatalf("first request: %d %q", res.StatusCode, body)
			}
			// The first request's timer fires about 30 ms into the second.
			time.Sleep(20 * time.Millisecond)
			_, _ = io.WriteString(c, "GET /hang HTTP/1.1\r\n"+localHost+"\r\n")
			<-started
			time.Sleep(leaveAfter)
			_ = c.Close()
			select {
			case ok := <-canceled:
				if !ok {
					t.Fatal("the backend request ran its 10s: the client's close was not noticed")
				}
			case <-time.After(3 * time.Second):
				t.Fatal("the backend request still runs 3s after the client closed its connection")
			}
		})
	}
	if n := s.listenerOn(port).leanServed.Load(); n < 6 {
		t.Fatalf("the lean engine served %d requests, want all 6", n)
	}
}

// TestNextRequestSentBeforeTheResponse: a client may send its next request
// while the previous one is still being served (pipelining, or a client
// that does not wait). Those bytes arrive after the engine's last read and
// before the response goes out; the engine must still see them and answer
// the next request at once. A wait for "readable" that starts only after
// they arrived would wait for the idle timeout.
func TestNextRequestSentBeforeTheResponse(t *testing.T) {
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(30 * time.Millisecond)
		}
		_, _ = io.WriteString(w, r.URL.Path)
	}))
	t.Cleanup(b.Close)
	host, bport, _ := net.SplitHostPort(b.Listener.Addr().String())
	bp, _ := strconv.Atoi(bport)
	ep := ir.Endpoint{Address: host, Port: int32(bp), Ready: true, Serving: true}
	port := freePort(t)
	_, s := start(t, mustTable(t, httpListener(t, port, ep)), Options{HTTP1Engine: EngineLean})
	for _, gap := range []time.Duration{time.Millisecond, 10 * time.Millisecond} {
		t.Run("next request "+gap.String()+" after the first", func(t *testing.T) {
			c, err := net.Dial("tcp", s.Addr(port).String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			_, _ = io.WriteString(c, "GET /slow HTTP/1.1\r\n"+localHost+"\r\n")
			time.Sleep(gap)
			_, _ = io.WriteString(c, "GET /second HTTP/1.1\r\n"+localHost+"\r\n")
			_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
			for _, want := range []string{"/slow", "/second"} {
				res, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("waiting for the answer to %s: %v", want, err)
				}
				body, _ := io.ReadAll(res.Body)
				if string(body) != want {
					t.Fatalf("answer %q, want %q", body, want)
				}
			}
		})
	}
	if n := s.listenerOn(port).leanServed.Load(); n < 4 {
		t.Fatalf("the lean engine served %d requests, want 4", n)
	}
}
