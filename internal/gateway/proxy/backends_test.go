package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

func TestWeightedSplit(t *testing.T) {
	a := startBackend(t, echo("a"))
	b := startBackend(t, echo("b"))
	c := startBackend(t, echo("c"))
	_, url := gateway(t, table(t, prefixRoute(t, "r", "/", forward(svc("a", 70, a), svc("b", 20, b), svc("c", 10, c)))), Options{})
	counts := map[string]int{}
	const n = 1000
	for range n {
		res, _ := get(t, http.DefaultClient, url+"/")
		counts[res.Header.Get("X-Backend")]++
	}
	for name, want := range map[string]float64{"a": 70, "b": 20, "c": 10} {
		got := float64(counts[name]) * 100 / n
		if got < want-5 || got > want+5 {
			t.Errorf("backend %s got %.1f%% of requests, want %.0f%% ± 5", name, got, want)
		}
	}
}

func TestWRRIsSmooth(t *testing.T) {
	bs := []*ir.Backend{{Name: "a", Weight: 5}, {Name: "b", Weight: 1}, {Name: "c", Weight: 1}}
	w := newWRR(bs)
	var seq strings.Builder
	for range 7 {
		seq.WriteString(bs[w.pick()].Name)
	}
	// nginx's documented sequence for weights 5,1,1.
	if seq.String() != "aabacaa" {
		t.Fatalf("sequence %q, want aabacaa", seq.String())
	}
}

func TestWebSocketUpgrade(t *testing.T) {
	// A minimal upgrade endpoint: after 101 it echoes bytes back.
	be := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "want websocket", 400)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		_, _ = io.Copy(c, brw)
	}))
	_, url := gateway(t, table(t, prefixRoute(t, "ws", "/", forward(svc("ws", 1, be)))), Options{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET /chat HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", res.StatusCode)
	}
	for _, msg := range []string{"hello\n", "again\n"} {
		if _, err := conn.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		got, err := br.ReadString('\n')
		if err != nil || got != msg {
			t.Fatalf("echo %q, %v; want %q", got, err, msg)
		}
	}
}

func TestH2CUpgradeIsNotForwarded(t *testing.T) {
	be := startBackend(t, echo("a"))
	_, url := gateway(t, table(t, prefixRoute(t, "r", "/", forward(svc("a", 1, be)))), Options{})
	res, body := get(t, http.DefaultClient, url+"/", "Upgrade", "h2c", "Connection", "Upgrade, HTTP2-Settings", "HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if h := decode(t, body).Headers; h["Upgrade"] != nil || h["Http2-Settings"] != nil {
		t.Fatalf("h2c upgrade headers reached the backend: %v", h)
	}
}

func TestServerSentEventsStream(t *testing.T) {
	release := make(chan struct{})
	be := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		<-release // the handler is not finished until the client saw the event
		_, _ = io.WriteString(w, "data: second\n\n")
	}))
	defer close(release)
	_, url := gateway(t, table(t, prefixRoute(t, "sse", "/", forward(svc("sse", 1, be)))), Options{})
	res, err := http.Get(url + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(res.Body).ReadString('\n')
		got <- line
	}()
	select {
	case line := <-got:
		if line != "data: first\n" {
			t.Fatalf("first line %q", line)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("first event not delivered while the backend handler was still running")
	}
}

func TestH2CBackend(t *testing.T) {
	s := httptest.NewUnstartedServer(echo("h2c"))
	s.Config.Protocols = new(http.Protocols)
	s.Config.Protocols.SetUnencryptedHTTP2(true) // prior knowledge only
	s.Start()
	defer s.Close()
	b := svc("grpc", 1, endpointOf(t, s.Listener.Addr().String()))
	b.AppProtocol = "kubernetes.io/h2c"
	_, url := gateway(t, table(t, prefixRoute(t, "r", "/", forward(b))), Options{})
	res, body := get(t, http.DefaultClient, url+"/")
	if res.StatusCode != 200 {
		t.Fatalf("status %d %q", res.StatusCode, body)
	}
	if e := decode(t, body); e.Proto != "HTTP/2.0" {
		t.Fatalf("backend saw %s, want HTTP/2.0", e.Proto)
	}
}

func TestPassiveEjection(t *testing.T) {
	dead := deadEndpoint(t)
	live := startBackend(t, echo("live"))
	p, url := gateway(t, table(t, prefixRoute(t, "r", "/", forward(svc("a", 1, dead, live)))), Options{EjectBase: time.Minute, EjectMax: time.Minute})
	for i := range 20 {
		res, body := get(t, http.DefaultClient, url+"/")
		if res.StatusCode != 200 {
			t.Fatalf("request %d: %d %q (a connect failure must be retried on another endpoint)", i, res.StatusCode, body)
		}
	}
	if !p.ejector.ejected(endpointAddr(dead)) {
		t.Fatal("dead endpoint not ejected")
	}
	if p.ejector.ejected(endpointAddr(live)) {
		t.Fatal("live endpoint ejected")
	}
	// Bounded: the ejection expires.
	e := newEjector(10*time.Millisecond, 40*time.Millisecond)
	for range 10 {
		if d := e.fail("x"); d > 40*time.Millisecond {
			t.Fatalf("ejection %s exceeds the bound", d)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if e.ejected("x") {
		t.Fatal("ejection did not expire")
	}
}
