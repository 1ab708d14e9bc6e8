package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// echoBackend answers what the lean engine's tests send: "/" echoes the
// request as the backend saw it; the other paths give the response kinds
// the engine must frame like net/http.
func echoBackend(t *testing.T) ir.Endpoint {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		keys := make([]string, 0, len(r.Header))
		for k := range r.Header {
			if k != "X-Request-Id" { // differs per request; the response carries it too
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = fmt.Fprintf(w, "%s %s host=%s body=%q\n", r.Method, r.URL.RequestURI(), r.Host, body)
		for _, k := range keys {
			_, _ = fmt.Fprintf(w, "%s: %q\n", k, r.Header[k])
		}
	})
	mux.HandleFunc("/204", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/304", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Etag", `"x"`)
		w.WriteHeader(http.StatusNotModified)
	})
	// Streamed parts are apart in time so that the gateway reads (and
	// frames) each on its own, whichever engine: chunk sizes compare.
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, _ *http.Request) {
		for i := range 3 {
			_, _ = fmt.Fprintf(w, "part %d\n", i)
			http.NewResponseController(w).Flush()
			time.Sleep(20 * time.Millisecond)
		}
	})
	mux.HandleFunc("/bigchunked", func(w http.ResponseWriter, _ *http.Request) {
		for i := range 3 {
			_, _ = w.Write(bytes.Repeat([]byte{'a' + byte(i)}, 3000)) // beyond the 2 KiB buffered before chunking
			http.NewResponseController(w).Flush()
			time.Sleep(20 * time.Millisecond)
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		b := bytes.Repeat([]byte("0123456789abcdef"), 4096)
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
	})
	mux.HandleFunc("/sized", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "5")
		_, _ = io.WriteString(w, "sized")
	})
	mux.HandleFunc("/nocontenttype", func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Content-Type"] = nil // no sniffing by the backend
		_, _ = io.WriteString(w, "<html><body>x</body></html>")
	})
	mux.HandleFunc("/sse", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			_, _ = fmt.Fprintf(w, "data: %d\n\n", i)
			http.NewResponseController(w).Flush()
			time.Sleep(20 * time.Millisecond)
		}
	})
	mux.HandleFunc("/trailer", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		_, _ = io.WriteString(w, "body")
		w.Header().Set("X-Sum", "42")
	})
	mux.HandleFunc("/early", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Link", "</a.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		_, _ = io.WriteString(w, "after hints")
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	host, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return ir.Endpoint{Address: host, Port: int32(p), Ready: true, Serving: true}
}

// enginePair starts two gateways with the same table, one per engine.
func enginePair(t *testing.T, ep ir.Endpoint, o Options) (lean, nethttp *Server, leanPort, nhPort int32) {
	t.Helper()
	leanPort, nhPort = freePort(t), freePort(t)
	o.HTTP1Engine = EngineLean
	_, lean = start(t, mustTable(t, httpListener(t, leanPort, ep)), o)
	o.HTTP1Engine = EngineNetHTTP
	_, nethttp = start(t, mustTable(t, httpListener(t, nhPort, ep)), o)
	return lean, nethttp, leanPort, nhPort
}

func (s *Server) listenerOn(port int32) *listener {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listeners[ir.ListenerKey{Port: port}]
}

// rawExchange writes raw to addr and returns everything the server sends
// until it closes the connection or stays quiet for quiet.
func rawExchange(t *testing.T, addr string, raw string, quiet time.Duration) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	buf := make([]byte, 64<<10)
	for {
		_ = c.SetReadDeadline(time.Now().Add(quiet))
		n, err := c.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			return out.String()
		}
	}
}

var (
	dateLine      = regexp.MustCompile(`(?m)^Date: [^\r]*\r$`)
	requestIDLine = regexp.MustCompile(`(?m)^X-Request-Id: [0-9a-f]*\r$`)
)

// normalize blanks what differs between any two runs: dates, request ids.
func normalize(s string) string {
	s = dateLine.ReplaceAllString(s, "Date: -\r")
	return requestIDLine.ReplaceAllString(s, "X-Request-Id: -\r")
}

const localHost = "Host: a.example\r\n"

// diffCorpus: request bytes, each sent on a fresh connection to both
// engines. Well-formed ones the lean engine serves; the rest it must
// hand to net/http before answering anything.
var diffCorpus = []struct {
	name string
	raw  string
	lean bool // whether the lean engine serves (at least the first request)
}{
	{"get", "GET / HTTP/1.1\r\n" + localHost + "\r\n", true},
	{"query and path", "GET /a/b/../c//d?x=1&y=%20z HTTP/1.1\r\n" + localHost + "User-Agent: t\r\n\r\n", true},
	{"escaped path", "GET /a%2Fb/%7Ec HTTP/1.1\r\n" + localHost + "\r\n", true},
	{"head", "HEAD / HTTP/1.1\r\n" + localHost + "\r\n", true},
	{"head chunked", "HEAD /chunked HTTP/1.1\r\n" + localHost + "\r\n", true},
	{"options", "OPTIONS /x HTTP/1.1\r\n" + localHost + "\r\n", true},
	{"delete cl0", "DELETE /x HTTP/1.1\r\n" + localHost + "Content-Length: 0\r\n\r\n", true},
	{"post cl0", "POST /x HTTP/1.1\r\n" + localHost + "Content-Length: 0\r\n\r\n", true},
	{"lowercase names", "GET / HTTP/1.1\r\nhost: a.example\r\nx-custom-thing: v\r\naccept-encoding: gzip\r\n\r\n", true},
	{"repeated header", "GET / HTTP/1.1\r\n" + localHost + "X-A: 1\r\nX-A: 2\r\nx-a: 3\r\n\r\n", true},
	{"spaces and tabs", "GET / HTTP/1.1\r\n" + localHost + "X-A:\t v w \t\r\nX-Empty:\r\nX-Sp: \r\n\r\n", true},
	{"host with port", "GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\n", true},
	{"connection close", "GET / HTTP/1.1\r\n" + localHost + "Connection: close\r\n\r\n", true},
	{"connection list", "GET / HTTP/1.1\r\n" + localHost + "Connection: keep-alive, Close\r\n\r\n", true},
	{"connection names header", "GET / HTTP/1.1\r\n" + localHost + "Connection: X-Secret\r\nX-Secret: s\r\n\r\n", true},
	{"forwarding headers replaced", "GET / HTTP/1.1\r\n" + localHost + "X-Forwarded-For: 1.2.3.4\r\nForwarded: for=x\r\n\r\n", true},
	{"te trailers", "GET / HTTP/1.1\r\n" + localHost + "Te: trailers\r\n\r\n", true},
	{"pipelined", "GET /1 HTTP/1.1\r\n" + localHost + "\r\nHEAD /2 HTTP/1.1\r\n" + localHost + "\r\nGET /3 HTTP/1.1\r\n" + localHost + "\r\n", true},
	{"204", "GET /204 HTTP/1.1\r\n" + localHost + "\r\n", true},
	{"304", "GET /304 HTTP/1.1\r\n" + localHost + "\r\n", true},
	{"chunked response", "GET /chunked HTTP/1.1\r\n" + localHost + "\r\n", true},
	{"big response", "GET /big HTTP/1.1\r\n" + localHost + "\r\n", true},
	{"big chunked response", "GET /bigchunked HTTP/1.1\r\n" + localHost + "\r\n", true},
	{"sized response", "GET /sized HTTP/1.1\r\n" + localHost + "\r\nHEAD /sized HTTP/1.1\r\n" + localHost + "\r\n", true},
	{"sniffed type", "GET /nocontenttype HTTP/1.1\r\n" + localHost + "\r\n", true},
	{"event stream", "GET /sse HTTP/1.1\r\n" + localHost + "\r\n", true},
	{"trailers", "GET /trailer HTTP/1.1\r\n" + localHost + "\r\n", true},
	{"early hints", "GET /early HTTP/1.1\r\n" + localHost + "\r\n", true},
	{"get then post body then get", "GET /1 HTTP/1.1\r\n" + localHost + "\r\nGET /2 HTTP/1.1\r\n" + localHost + "\r\n" +
		"POST /3 HTTP/1.1\r\n" + localHost + "Content-Length: 5\r\n\r\nhelloGET /4 HTTP/1.1\r\n" + localHost + "\r\n", true},
	{"get then smuggle", "GET /1 HTTP/1.1\r\n" + localHost + "\r\n" +
		"POST /2 HTTP/1.1\r\n" + localHost + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /3 HTTP/1.1\r\n" + localHost + "\r\n", true},
	{"get then partial", "GET /1 HTTP/1.1\r\n" + localHost + "\r\nGET /2 HTTP/1.1\r\nHo", true},

	{"post body", "POST /x HTTP/1.1\r\n" + localHost + "Content-Length: 3\r\n\r\nabc", false},
	{"chunked body", "POST /x HTTP/1.1\r\n" + localHost + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", false},
	{"cl and te", "POST /x HTTP/1.1\r\n" + localHost + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false},
	{"cl plus", "POST /x HTTP/1.1\r\n" + localHost + "Content-Length: +0\r\n\r\n", false},
	{"cl twice", "POST /x HTTP/1.1\r\n" + localHost + "Content-Length: 0\r\nContent-Length: 0\r\n\r\n", false},
	{"cl differ", "POST /x HTTP/1.1\r\n" + localHost + "Content-Length: 0\r\nContent-Length: 1\r\n\r\nx", false},
	{"no host", "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n", false},
	{"two hosts", "GET / HTTP/1.1\r\n" + localHost + "Host: b.example\r\n\r\n", false},
	{"bad host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", false},
	{"empty host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", true}, // an empty Host is valid; routing answers
	{"http 1.0", "GET / HTTP/1.0\r\n" + localHost + "\r\n", false},
	{"http 1.0 keep-alive", "GET / HTTP/1.0\r\n" + localHost + "Connection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n" + localHost + "\r\n", false},
	{"http 2.0", "GET / HTTP/2.0\r\n" + localHost + "\r\n", false},
	{"http 1.2", "GET / HTTP/1.2\r\n" + localHost + "\r\n", false},
	{"lowercase version", "GET / http/1.1\r\n" + localHost + "\r\n", false},
	{"absolute form", "GET http://b.example/x HTTP/1.1\r\n" + localHost + "\r\n", false},
	{"asterisk", "OPTIONS * HTTP/1.1\r\n" + localHost + "\r\n", false},
	{"connect", "CONNECT a.example:443 HTTP/1.1\r\n" + localHost + "\r\n", false},
	{"extension method", "PURGE / HTTP/1.1\r\n" + localHost + "\r\n", false},
	{"lowercase method", "get / HTTP/1.1\r\n" + localHost + "\r\n", false},
	{"trace", "TRACE / HTTP/1.1\r\n" + localHost + "\r\n", false},
	{"bare lf", "GET / HTTP/1.1\n" + "Host: a.example\n\n", false},
	{"bare lf in header", "GET / HTTP/1.1\r\n" + localHost + "X-A: 1\nX-B: 2\r\n\r\n", false},
	{"bare cr", "GET / HTTP/1.1\r\n" + localHost + "X-A: 1\rX-B: 2\r\n\r\n", false},
	{"obs fold", "GET / HTTP/1.1\r\n" + localHost + "X-A: 1\r\n 2\r\n\r\n", false},
	{"space before colon", "GET / HTTP/1.1\r\n" + localHost + "X-A : 1\r\n\r\n", false},
	{"bad name", "GET / HTTP/1.1\r\n" + localHost + "X(A): 1\r\n\r\n", false},
	{"empty name", "GET / HTTP/1.1\r\n" + localHost + ": 1\r\n\r\n", false},
	{"no colon", "GET / HTTP/1.1\r\n" + localHost + "X-A\r\n\r\n", false},
	{"ctl in value", "GET / HTTP/1.1\r\n" + localHost + "X-A: a\x01b\r\n\r\n", false},
	{"del in value", "GET / HTTP/1.1\r\n" + localHost + "X-A: a\x7fb\r\n\r\n", false},
	{"nul in value", "GET / HTTP/1.1\r\n" + localHost + "X-A: a\x00b\r\n\r\n", false},
	{"obs-text value", "GET / HTTP/1.1\r\n" + localHost + "X-A: caf\xc3\xa9\r\n\r\n", false},
	{"high byte path", "GET /caf\xc3\xa9 HTTP/1.1\r\n" + localHost + "\r\n", false},
	{"bad escape", "GET /%zz HTTP/1.1\r\n" + localHost + "\r\n", false},
	{"fragment", "GET /a#b HTTP/1.1\r\n" + localHost + "\r\n", true},
	{"double space", "GET  / HTTP/1.1\r\n" + localHost + "\r\n", false},
	{"trailing space", "GET / HTTP/1.1 \r\n" + localHost + "\r\n", false},
	{"leading crlf", "\r\nGET / HTTP/1.1\r\n" + localHost + "\r\n", false},
	{"garbage", "XYZ\r\n\r\n", false},
	{"expect", "POST /x HTTP/1.1\r\n" + localHost + "Content-Length: 3\r\nExpect: 100-continue\r\n\r\nabc", false},
	{"expect without body", "GET / HTTP/1.1\r\n" + localHost + "Expect: 100-continue\r\n\r\n", false},
	{"upgrade", "GET /ws HTTP/1.1\r\n" + localHost + "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n", false},
	{"h2c upgrade", "GET / HTTP/1.1\r\n" + localHost + "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", false},
	{"h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", false},
	{"pragma", "GET / HTTP/1.1\r\n" + localHost + "Pragma: no-cache\r\n\r\n", false},
	{"long header", "GET / HTTP/1.1\r\n" + localHost + "X-Long: " + strings.Repeat("a", 5000) + "\r\n\r\n", false},
	{"huge header", "GET / HTTP/1.1\r\n" + localHost + "X-Long: " + strings.Repeat("a", 80<<10) + "\r\n\r\n", false},
	{"many headers", "GET / HTTP/1.1\r\n" + localHost + strings.Repeat("X-A: 1\r\n", 70) + "\r\n", false},
	{"partial then eof wait", "GET / HTTP/1.1\r\nHost: a.exa", false},
}

// TestLeanEngineAnswersAsNetHTTP sends every corpus entry to a gateway on
// each engine and requires the same bytes back (dates and request ids
// aside), and that the lean engine served the entries it should, and
// handed the others to net/http before answering.
func TestLeanEngineAnswersAsNetHTTP(t *testing.T) {
	ep := echoBackend(t)
	lean, nh, lp, np := enginePair(t, ep, Options{})
	ll := lean.listenerOn(lp)
	var mu sync.Mutex // the lean listener's counters are shared: one case at a time
	for _, tc := range diffCorpus {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			defer mu.Unlock()
			served, handed := ll.leanServed.Load(), ll.leanHandedOver.Load()
			got := normalize(rawExchange(t, lean.Addr(lp).String(), tc.raw, 300*time.Millisecond))
			want := normalize(rawExchange(t, nh.Addr(np).String(), tc.raw, 300*time.Millisecond))
			if got != want {
				t.Fatalf("lean engine answered\n%q\nnet/http answered\n%q", got, want)
			}
			ds := ll.leanServed.Load() - served
			if tc.lean && ds == 0 {
				t.Fatalf("the lean engine served none of it (handed over %d)", ll.leanHandedOver.Load()-handed)
			}
			if !tc.lean && ds != 0 {
				t.Fatalf("the lean engine served %d request(s) of input it must leave to net/http", ds)
			}
			if want == "" && !strings.Contains(tc.name, "partial") {
				t.Fatal("no answer at all: the case proves nothing")
			}
		})
	}
}

// TestLeanEngineFallsBackMidConnection: two GETs served by the lean
// engine, then a POST with a body, which net/http serves from the bytes
// already read, then a GET net/http serves too, on one connection.
func TestLeanEngineFallsBackMidConnection(t *testing.T) {
	ep := echoBackend(t)
	port := freePort(t)
	_, s := start(t, mustTable(t, httpListener(t, port, ep)), Options{HTTP1Engine: EngineLean})
	l := s.listenerOn(port)
	c, err := net.Dial("tcp", s.Addr(port).String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	get := func(path string) {
		t.Helper()
		if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\n"+localHost+"\r\n"); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		if !strings.HasPrefix(string(b), "GET "+path+" ") {
			t.Fatalf("GET %s answered %d %q", path, res.StatusCode, b)
		}
	}
	get("/1")
	get("/2")
	if n, h := l.leanServed.Load(), l.leanHandedOver.Load(); n != 2 || h != 0 {
		t.Fatalf("lean served %d, handed over %d; want 2, 0", n, h)
	}
	// The body arrives in two writes: net/http reads the rest from the
	// connection after the replayed bytes.
	if _, err := io.WriteString(c, "POST /3 HTTP/1.1\r\n"+localHost+"Content-Length: 10\r\n\r\nhello"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if _, err := io.WriteString(c, "world"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	if !strings.HasPrefix(string(b), `POST /3 host=a.example body="helloworld"`) {
		t.Fatalf("POST answered %d %q", res.StatusCode, b)
	}
	get("/4")
	if n, h := l.leanServed.Load(), l.leanHandedOver.Load(); n != 2 || h != 1 {
		t.Fatalf("lean served %d, handed over %d; want 2, 1", n, h)
	}
}

// TestLeanEngineTimeouts: a connection idle after a response is closed
// after IdleTimeout; one that sends half a head after ReadHeaderTimeout,
// with no answer; both on the lean engine (the counters prove it served).
func TestLeanEngineTimeouts(t *testing.T) {
	ep := echoBackend(t)
	port := freePort(t)
	_, s := start(t, mustTable(t, httpListener(t, port, ep)), Options{
		HTTP1Engine: EngineLean, IdleTimeout: 300 * time.Millisecond, ReadHeaderTimeout: 400 * time.Millisecond,
	})
	addr := s.Addr(port).String()
	closedAfter := func(c net.Conn) (time.Duration, string) {
		start := time.Now()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("not closed within 5s: %v", err)
		}
		return time.Since(start), string(b)
	}
	t.Run("idle", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		br := bufio.NewReader(c)
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\n"+localHost+"\r\n")
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		d, rest := closedAfter(c)
		if rest != "" || d < 200*time.Millisecond {
			t.Fatalf("closed after %v with %q; want after ~300ms, nothing sent", d, rest)
		}
	})
	t.Run("busy for longer than the idle timeout", func(t *testing.T) {
		// A connection keeps the idle deadline of an earlier wait while
		// the next one's is less than idleSlack later: requests back to
		// back for three idle timeouts must all be answered on it, and
		// it must still be closed an idle timeout after the last.
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		br := bufio.NewReader(c)
		n := 0
		for begin := time.Now(); time.Since(begin) < 900*time.Millisecond; n++ {
			_, _ = io.WriteString(c, "GET / HTTP/1.1\r\n"+localHost+"\r\n")
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("request %d, %v into the connection: %v", n, time.Since(begin), err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			if n%50 == 0 {
				time.Sleep(time.Duration(n%7) * time.Millisecond)
			}
		}
		d, rest := closedAfter(c)
		if rest != "" || d < 200*time.Millisecond {
			t.Fatalf("after %d requests: closed after %v with %q; want after ~300ms, nothing sent", n, d, rest)
		}
	})
	t.Run("slow head", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: a.exa")
		d, rest := closedAfter(c)
		if rest != "" || d < 300*time.Millisecond {
			t.Fatalf("closed after %v with %q; want after ~400ms, nothing sent", d, rest)
		}
	})
	t.Run("slow head after a request", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		br := bufio.NewReader(c)
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\n"+localHost+"\r\n")
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		// Trickle a byte every 100ms: the idle timeout never fires, the
		// header timeout must.
		done := make(chan struct{})
		go func() {
			defer close(done)
			for _, b := range []byte("GET / HTTP/1.1\r\nHost: a.example\r\nX-A: 1") {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		rest, err := io.ReadAll(br)
		// A byte the client trickled in after the server's last read is
		// unread when it closes, so the kernel may answer the close with a
		// reset instead of a FIN: a close without an answer all the same.
		if (err != nil && !errors.Is(err, syscall.ECONNRESET)) || len(rest) != 0 {
			t.Fatalf("read %q, %v; want a close without an answer", rest, err)
		}
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Fatalf("closed after %v", d)
		}
		<-done
	})
	if s.listenerOn(port).leanServed.Load() == 0 {
		t.Fatal("the lean engine served nothing")
	}
}

// TestLeanEngineDrain: at a drain an idle lean connection is closed, a
// request in flight finishes with Connection: close, and a connection
// accepted before the port closed still gets its first request answered.
func TestLeanEngineDrain(t *testing.T) {
	b := newDrainBackend(t)
	port := freePort(t)
	_, s := start(t, mustTable(t, httpListener(t, port, b.ep)), Options{HTTP1Engine: EngineLean})
	addr := s.Addr(port).String()
	l := s.listenerOn(port)
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	}
	idle, idleR := dial()
	_, _ = io.WriteString(idle, "GET / HTTP/1.1\r\n"+localHost+"\r\n")
	res, err := http.ReadResponse(idleR, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)

	busy, busyR := dial()
	_, _ = io.WriteString(busy, "GET /slow HTTP/1.1\r\n"+localHost+"\r\n")
	<-b.slowStarted
	fresh, freshR := dial()
	time.Sleep(50 * time.Millisecond) // accepted and waiting for its first request

	drained := make(chan DrainReport, 1)
	go func() { drained <- s.Drain(context.Background(), 0, 5*time.Second) }()

	_ = idle.SetReadDeadline(time.Now().Add(3 * time.Second))
	if rest, err := io.ReadAll(idleR); err != nil || len(rest) != 0 {
		t.Fatalf("idle connection: read %q, %v; want closed without bytes", rest, err)
	}
	_, _ = io.WriteString(fresh, "GET / HTTP/1.1\r\n"+localHost+"\r\n")
	res, err = http.ReadResponse(freshR, nil)
	if err != nil {
		t.Fatalf("first request of a connection accepted before the drain: %v", err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode != 200 || !res.Close {
		t.Fatalf("fresh connection: %d, close=%v; want 200 and Connection: close", res.StatusCode, res.Close)
	}
	b.releaseSlow()
	res, err = http.ReadResponse(busyR, nil)
	if err != nil {
		t.Fatalf("request in flight at the drain: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	if string(body) != "slow done" || !res.Close {
		t.Fatalf("in flight: %q close=%v; want the answer and Connection: close", body, res.Close)
	}
	select {
	case rep := <-drained:
		if rep.Forced != 0 || rep.Ended != 0 {
			t.Fatalf("drain report %+v: nothing should have been cut", rep)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("drain did not end after every connection closed")
	}
	if n := l.openCount(); n != 0 {
		t.Fatalf("%d connections still tracked after the drain", n)
	}
	if l.leanServed.Load() != 3 || l.leanHandedOver.Load() != 0 {
		t.Fatalf("lean served %d, handed over %d; want 3, 0", l.leanServed.Load(), l.leanHandedOver.Load())
	}
}

// TestLeanEngineWriteFailureEndsConnection: a client that leaves during a
// streamed response makes the next write fail; the handler is aborted and
// the connection closed, and the listener forgets it.
func TestLeanEngineWriteFailureEndsConnection(t *testing.T) {
	b := newDrainBackend(t)
	port := freePort(t)
	_, s := start(t, mustTable(t, httpListener(t, port, b.ep)), Options{HTTP1Engine: EngineLean})
	l := s.listenerOn(port)
	c, err := net.Dial("tcp", s.Addr(port).String())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, "GET /sse HTTP/1.1\r\n"+localHost+"\r\n")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Body.Read(make([]byte, 64)); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for l.openCount() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stream's connection is still tracked 5s after the client left")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if l.leanServed.Load() != 1 {
		t.Fatalf("lean served %d", l.leanServed.Load())
	}
}
