package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

func rawRequest(t *testing.T, addr, req string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestContentLengthWithTransferEncodingIsRefused(t *testing.T) {
	port := freePort(t)
	_, s := start(t, mustTable(t, httpListener(t, port, backend(t, "ok"))), Options{})
	addr := s.Addr(port).String()
	res, body := rawRequest(t, addr, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
	if res.StatusCode != 400 || !strings.Contains(body, "both Content-Length and Transfer-Encoding") {
		t.Fatalf("CL+TE: %d %q", res.StatusCode, body)
	}
	// Well-framed requests on one connection still work, and the framing
	// parser keeps request boundaries across chunked and sized bodies.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	reqs := []string{
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nworld",
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
	}
	want := []int{200, 200, 200, 400}
	for i, r := range reqs {
		if _, err := io.WriteString(c, r); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		if res.StatusCode != want[i] {
			t.Fatalf("request %d: status %d, want %d", i, res.StatusCode, want[i])
		}
	}
}

func TestSlowHeadersAreCutOff(t *testing.T) {
	port := freePort(t)
	_, s := start(t, mustTable(t, httpListener(t, port, backend(t, "ok"))), Options{ReadHeaderTimeout: 300 * time.Millisecond})
	c, err := net.Dial("tcp", s.Addr(port).String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n")
	closed := make(chan time.Duration, 1)
	go func() {
		// Trickle a header byte every 100ms, as slowloris does.
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(c, "X-%d: y\r\n", i); err != nil {
				closed <- time.Since(start)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	readDone := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, c) // ends when the server closes
		close(readDone)
	}()
	select {
	case <-readDone:
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Fatalf("closed after %s, before the timeout", d)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("slow client was not cut off")
	}
}

func TestOversizedHeadersAre431(t *testing.T) {
	port := freePort(t)
	_, s := start(t, mustTable(t, httpListener(t, port, backend(t, "ok"))), Options{})
	big := strings.Repeat("a", 80<<10)
	res, _ := rawRequest(t, s.Addr(port).String(), "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+big+"\r\n\r\n")
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431", res.StatusCode)
	}
	res, _ = rawRequest(t, s.Addr(port).String(), "GET / HTTP/1.1\r\nHost: x\r\nX-Ok: "+strings.Repeat("a", 30<<10)+"\r\n\r\n")
	if res.StatusCode != 200 {
		t.Fatalf("30 KiB header: status %d, want 200", res.StatusCode)
	}
}

func TestNoCleartextHTTP2(t *testing.T) {
	port := freePort(t)
	_, s := start(t, mustTable(t, httpListener(t, port, backend(t, "ok"))), Options{})
	c, err := net.Dial("tcp", s.Addr(port).String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	_, _ = io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	b, _ := io.ReadAll(c)
	if strings.Contains(string(b), "HTTP/2") || !strings.HasPrefix(string(b), "HTTP/1.1 4") && len(b) > 0 {
		t.Fatalf("prior-knowledge h2c answered: %q", b)
	}
}

func TestReconcileKeepsUnchangedListeners(t *testing.T) {
	p1, p2 := freePort(t), freePort(t)
	ep := backend(t, "ok")
	px, s := start(t, mustTable(t, httpListener(t, p1, ep)), Options{ShutdownTimeout: time.Second})
	addr1 := s.Addr(p1)
	s.mu.Lock()
	l1 := s.listeners[ir.ListenerKey{Port: p1}]
	s.mu.Unlock()

	tb := mustTable(t, httpListener(t, p1, ep), httpListener(t, p2, ep))
	px.Publish(tb)
	if err := s.Reconcile(tb); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	same := s.listeners[ir.ListenerKey{Port: p1}] == l1
	s.mu.Unlock()
	if !same || s.Addr(p1).String() != addr1.String() || s.Addr(p2) == nil {
		t.Fatal("unchanged listener was reopened or new one missing")
	}
	// Protocol change reopens; removal closes.
	https := mustTable(t, httpListener(t, p2, ep))
	px.Publish(https)
	if err := s.Reconcile(https); err != nil {
		t.Fatal(err)
	}
	if s.Addr(p1) != nil {
		t.Fatal("removed listener still open")
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		c, err := net.Dial("tcp", addr1.String())
		if err != nil {
			break
		}
		_ = c.Close()
		if time.Now().After(deadline) {
			t.Fatal("removed port still accepts connections")
		}
		time.Sleep(20 * time.Millisecond)
	}
	res, _ := rawRequest(t, s.Addr(p2).String(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	_ = ir.ProtocolHTTP
}
