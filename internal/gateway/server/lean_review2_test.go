package server

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

func reviewGet(t *testing.T, c net.Conn, br *bufio.Reader, path string) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, "GET "+path+" HTTP/1.1\r\n"+localHost+"\r\n")
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = c.SetDeadline(time.Time{})
}

// While a keep-alive connection's next head is handed to net/http (a head
// the first read brought too long, or with a bare LF), the connection is
// still tracked as a lean one: it must not be idle then, or the drain's
// closeIfIdle sets a past read deadline on a connection net/http serves.
func TestReviewHandOverAfterKeepAliveIsNotIdle(t *testing.T) {
	s, port := echoListener(t, EngineLean)
	l := s.listenerOn(port)
	var mu sync.Mutex
	var states []leanState
	inner := l.h1.ConnState
	l.h1.ConnState = func(nc net.Conn, st http.ConnState) {
		if st == http.StateNew {
			l.trackMu.Lock()
			for lc := range l.leanConns {
				if lc.fc == nc {
					lc.mu.Lock()
					mu.Lock()
					states = append(states, lc.state)
					mu.Unlock()
					lc.mu.Unlock()
				}
			}
			l.trackMu.Unlock()
		}
		inner(nc, st)
	}
	for _, next := range []string{
		"GET / HTTP/1.1\n" + localHost + "\r\n",                                               // bare LF
		"GET / HTTP/1.1\r\n" + localHost + "X-Big: " + strings.Repeat("a", 5000) + "\r\n\r\n", // longer than the buffer
	} {
		c, err := net.Dial("tcp", s.Addr(port).String())
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		reviewGet(t, c, br, "/")
		_, _ = io.WriteString(c, next)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		c.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(states) != 2 {
		t.Fatalf("%d hand-overs seen, want 2", len(states))
	}
	for i, st := range states {
		if st == leanIdle {
			t.Errorf("hand-over %d: the lean connection is idle (closeIfIdle would act on it) while net/http takes it", i)
		}
	}
}

// A slow head whose first byte comes just before the idle deadline kept
// from an earlier wait must get its full ReadHeaderTimeout; an idle
// connection is closed about IdleTimeout after its last request.
func TestReviewTimeoutsAroundKeptIdleDeadline(t *testing.T) {
	const idle, hdr = 640 * time.Millisecond, 300 * time.Millisecond
	ep := echoBackend(t)
	port := freePort(t)
	_, s := start(t, mustTable(t, httpListener(t, port, ep)), Options{
		HTTP1Engine: EngineLean, IdleTimeout: idle, ReadHeaderTimeout: hdr,
	})
	addr := s.Addr(port).String()
	closedAfter := func(c net.Conn) time.Duration {
		start := time.Now()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := io.ReadAll(c)
		if err != nil && !strings.Contains(err.Error(), "reset") {
			t.Fatalf("not closed: %v", err)
		}
		return time.Since(start)
	}
	t.Run("slow head just before the kept idle deadline", func(t *testing.T) {
		c, _ := net.Dial("tcp", addr)
		defer c.Close()
		br := bufio.NewReader(c)
		first := time.Now()
		for range 5 {
			reviewGet(t, c, br, "/")
		}
		time.Sleep(idle - 40*time.Millisecond - time.Since(first))
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: a.ex")
		if d := closedAfter(c); d < hdr-50*time.Millisecond || d > hdr+200*time.Millisecond {
			t.Fatalf("partial head cut after %v, want ~%v", d, hdr)
		}
	})
	t.Run("idle after a slow request and a quick one", func(t *testing.T) {
		c, _ := net.Dial("tcp", addr)
		defer c.Close()
		br := bufio.NewReader(c)
		reviewGet(t, c, br, "/")
		reviewGet(t, c, br, "/chunked") // ~60 ms: the watch runs
		reviewGet(t, c, br, "/")
		if d := closedAfter(c); d < idle-idle/64-20*time.Millisecond || d > idle+200*time.Millisecond {
			t.Fatalf("idle connection closed after %v, want ~%v", d, idle)
		}
	})
	t.Run("idle after ResponseController set a read deadline", func(t *testing.T) {
		l := s.listenerOn(port)
		inner := l.h1.Handler
		l.h1.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/rd" {
				_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			}
			inner.ServeHTTP(w, r)
		})
		defer func() { l.h1.Handler = inner }()
		c, _ := net.Dial("tcp", addr)
		defer c.Close()
		br := bufio.NewReader(c)
		reviewGet(t, c, br, "/")
		reviewGet(t, c, br, "/rd")
		time.Sleep(100 * time.Millisecond)
		reviewGet(t, c, br, "/")
	})
}

// The drain's closeIdleLean landing while a keep-alive connection's next
// head is handed to net/http (simulated by calling it repeatedly from the
// moment net/http records the connection).
func TestReviewDrainDuringHandOver(t *testing.T) {
	// Backend connections are not reused (Connection: close), so that
	// nothing here depends on the backend exchange's wait.
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Connection", "close")
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(b.Close)
	host, bport, _ := net.SplitHostPort(b.Listener.Addr().String())
	bp, _ := strconv.Atoi(bport)
	ep := ir.Endpoint{Address: host, Port: int32(bp), Ready: true, Serving: true}
	port := freePort(t)
	_, s := start(t, mustTable(t, httpListener(t, port, ep)), Options{HTTP1Engine: EngineLean})
	l := s.listenerOn(port)
	inner := l.h1.ConnState
	l.h1.ConnState = func(nc net.Conn, st http.ConnState) {
		if st == http.StateNew {
			// The drain's closeIfIdle on this connection, for as long as
			// it is still tracked as a lean one.
			l.trackMu.Lock()
			var lc *leanConn
			for c := range l.leanConns {
				if c.fc == nc {
					lc = c
				}
			}
			l.trackMu.Unlock()
			if lc != nil {
				go func() {
					for {
						l.trackMu.Lock()
						_, tracked := l.leanConns[lc]
						l.trackMu.Unlock()
						if !tracked {
							return
						}
						lc.closeIfIdle()
					}
				}()
			}
		}
		inner(nc, st)
	}
	dropped := 0
	for i := range 50 {
		c, err := net.Dial("tcp", s.Addr(port).String())
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		reviewGet(t, c, br, "/")
		head := "GET / HTTP/1.1\r\n" + localHost + "X-Big: " + strings.Repeat("a", 5000)
		_, _ = io.WriteString(c, head)
		time.Sleep(5 * time.Millisecond)
		_, _ = io.WriteString(c, "\r\n\r\n")
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := http.ReadResponse(br, nil); err != nil {
			dropped++
			t.Logf("round %d: the complete request got no answer: %v", i, err)
			if os.Getenv("REVIEW_DUMP") != "" {
				buf := make([]byte, 1<<20)
				t.Logf("%s", buf[:runtime.Stack(buf, true)])
			}
		}
		c.Close()
	}
	if dropped > 0 {
		t.Fatalf("%d of 50 requests dropped", dropped)
	}
}

// End to end: keep-alive clients whose requests carry a 4.5 KB cookie (the
// backend head is over the exchange's 4 KiB write buffer), on pooled
// backend connections. Every request must be answered.
func TestReviewBigCookieThroughTheGateway(t *testing.T) {
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(b.Close)
	host, bport, _ := net.SplitHostPort(b.Listener.Addr().String())
	bp, _ := strconv.Atoi(bport)
	ep := ir.Endpoint{Address: host, Port: int32(bp), Ready: true, Serving: true}
	port := freePort(t)
	_, s := start(t, mustTable(t, httpListener(t, port, ep)), Options{})
	addr := s.Addr(port).String()
	cookie := strings.Repeat("c", 4500)
	var mu sync.Mutex
	var ok, lost int
	var wg sync.WaitGroup
	stop := time.Now().Add(3 * time.Second)
	for range 16 {
		wg.Go(func() {
			cl := &http.Client{Timeout: 2 * time.Second}
			for time.Now().Before(stop) {
				req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
				req.Host = "a.example"
				req.Header.Set("Cookie", "s="+cookie)
				res, err := cl.Do(req)
				mu.Lock()
				if err != nil {
					lost++
				} else {
					ok++
				}
				mu.Unlock()
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d answered, %d not answered within 2 s", ok, lost)
	if lost > 0 {
		t.Fail()
	}
}

// Over TLS (ALPN http/1.1, lean engine): keep-alive requests, a slow head
// after them cut at ReadHeaderTimeout, an idle connection at IdleTimeout.
func TestReviewTLSLeanTimeouts(t *testing.T) {
	const idle, hdr = 640 * time.Millisecond, 300 * time.Millisecond
	_, _, ca, caKey := keyPair(t, nil, nil, "ca")
	certA, keyA, _, _ := keyPair(t, ca, caKey, "a.example")
	ep := backend(t, "ok")
	port := freePort(t)
	l := &ir.Listener{Port: port, Protocol: ir.ProtocolHTTPS,
		Certificates: []*ir.Certificate{{Hostname: "", Pairs: []ir.KeyPair{{Source: "ns/a", CertPEM: certA, KeyPEM: keyA}}}},
		VirtualHosts: []*ir.VirtualHost{{Listeners: []string{"L"}, Routes: []*ir.Route{route(t, "L", ep)}}},
	}
	_, s := start(t, mustTable(t, l), Options{HTTP1Engine: EngineLean, IdleTimeout: idle, ReadHeaderTimeout: hdr})
	addr := s.Addr(port).String()
	dial := func() (*tls.Conn, *bufio.Reader) {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		return c, bufio.NewReader(c)
	}
	closedAfter := func(c net.Conn) time.Duration {
		start := time.Now()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := io.ReadAll(c)
		if err != nil && !strings.Contains(err.Error(), "reset") {
			t.Fatalf("not closed: %v", err)
		}
		return time.Since(start)
	}
	t.Run("slow head after requests", func(t *testing.T) {
		c, br := dial()
		defer c.Close()
		for range 3 {
			reviewGet(t, c, br, "/")
		}
		time.Sleep(200 * time.Millisecond)
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: a.ex")
		if d := closedAfter(c); d < hdr-50*time.Millisecond || d > hdr+200*time.Millisecond {
			t.Fatalf("partial head cut after %v, want ~%v", d, hdr)
		}
	})
	t.Run("idle", func(t *testing.T) {
		c, br := dial()
		defer c.Close()
		for range 3 {
			reviewGet(t, c, br, "/")
		}
		if d := closedAfter(c); d < idle-idle/64-20*time.Millisecond || d > idle+200*time.Millisecond {
			t.Fatalf("idle connection closed after %v, want ~%v", d, idle)
		}
	})
	if s.listenerOn(port).leanServed.Load() == 0 {
		t.Fatal("the lean engine served nothing over TLS")
	}
}

// Keep-alive connections whose requests run from 0 to 90 ms (so the watch
// timer of one request fires during later ones, re-arms, or starts), some
// pipelined, some left mid-request: every answer arrives on a connection
// that stays, every request of a client that left is canceled.
func TestReviewWatchTimerAcrossRequests(t *testing.T) {
	s, port := echoListener(t, EngineLean)
	l := s.listenerOn(port)
	var falseCancel, missedCancel atomic.Int32
	leaving := sync.Map{}
	l.h1.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := strconv.Atoi(r.URL.Query().Get("d"))
		id := r.URL.Query().Get("id")
		select {
		case <-r.Context().Done():
			if _, ok := leaving.Load(id); !ok {
				falseCancel.Add(1)
			}
			return
		case <-time.After(time.Duration(d) * time.Millisecond):
		}
		if _, ok := leaving.Load(id); ok && d >= 300 {
			missedCancel.Add(1)
		}
		_, _ = io.WriteString(w, id)
	})
	var wg sync.WaitGroup
	stop := time.Now().Add(3 * time.Second)
	var n atomic.Int32
	for g := range 6 {
		wg.Go(func() {
			rng := rand.New(rand.NewSource(int64(g)))
			for time.Now().Before(stop) {
				c, err := net.Dial("tcp", s.Addr(port).String())
				if err != nil {
					t.Error(err)
					return
				}
				br := bufio.NewReader(c)
				for k := 0; k < 20; k++ {
					id := fmt.Sprintf("%d-%d", g, n.Add(1))
					d := rng.Intn(90)
					if rng.Intn(10) == 0 { // leave mid-request
						leaving.Store(id, true)
						_, _ = fmt.Fprintf(c, "GET /?d=400&id=%s HTTP/1.1\r\n"+localHost+"\r\n", id)
						time.Sleep(time.Duration(rng.Intn(120)) * time.Millisecond)
						break
					}
					ids := []string{id}
					req := fmt.Sprintf("GET /?d=%d&id=%s HTTP/1.1\r\n"+localHost+"\r\n", d, id)
					if rng.Intn(5) == 0 { // pipeline a second one
						id2 := fmt.Sprintf("%d-%d", g, n.Add(1))
						ids = append(ids, id2)
						req += fmt.Sprintf("GET /?d=%d&id=%s HTTP/1.1\r\n"+localHost+"\r\n", rng.Intn(90), id2)
					}
					_ = c.SetDeadline(time.Now().Add(3 * time.Second))
					_, _ = io.WriteString(c, req)
					for _, want := range ids {
						res, err := http.ReadResponse(br, nil)
						if err != nil {
							t.Errorf("%s: %v", want, err)
							c.Close()
							return
						}
						b, _ := io.ReadAll(res.Body)
						if string(b) != want {
							t.Errorf("answer %q, want %q", b, want)
						}
					}
					time.Sleep(time.Duration(rng.Intn(3)) * time.Millisecond)
				}
				c.Close()
			}
		})
	}
	wg.Wait()
	time.Sleep(500 * time.Millisecond)
	if falseCancel.Load() > 0 || missedCancel.Load() > 0 {
		t.Fatalf("%d requests canceled with their client still there, %d of a client gone not canceled", falseCancel.Load(), missedCancel.Load())
	}
}
