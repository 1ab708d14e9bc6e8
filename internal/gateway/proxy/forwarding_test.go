package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// A client cannot tell the backend who it is: whatever it sends in the
// forwarding headers is replaced (X-Forwarded-For, X-Real-Ip, X-Forwarded-
// Host/Proto) or dropped (Forwarded, X-Forwarded-Port/Prefix), on the fast
// path with and without a header filter and on ReverseProxy's path (a body);
// a route's filter may still set one.
func TestClientForwardingHeadersAreReplaced(t *testing.T) {
	be := startBackend(t, echo("a"))
	filtered := forward(svc("a", 1, be))
	filtered.RequestHeaders = &ir.HeaderModifier{Set: []ir.Header{{Name: "X-Forwarded-Prefix", Value: "/by-route"}}}
	_, base := gateway(t, table(t,
		prefixRoute(t, "plain", "/plain", forward(svc("a", 1, be))),
		prefixRoute(t, "filtered", "/filtered", filtered),
	), Options{})
	spoof := map[string]string{
		"X-Real-Ip": "6.6.6.6", "X-Forwarded-For": "6.6.6.6", "Forwarded": "for=6.6.6.6",
		"X-Forwarded-Port": "6666", "X-Forwarded-Prefix": "/evil", "X-Forwarded-Host": "evil.example",
		"X-Forwarded-Proto": "https",
	}
	for _, tc := range []struct {
		name, method, path, wantPrefix string
	}{
		{"fast path", http.MethodGet, "/plain", ""},
		{"fast path with a filter", http.MethodGet, "/filtered", "/by-route"},
		{"with a body", http.MethodPost, "/plain", ""},
		{"with a body and a filter", http.MethodPost, "/filtered", "/by-route"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.method == http.MethodPost {
				body = strings.NewReader("payload")
			}
			req, err := http.NewRequest(tc.method, base+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = "app.example.com"
			for k, v := range spoof {
				req.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			_ = res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", res.StatusCode, b)
			}
			h := decode(t, string(b)).Headers
			want := map[string]string{
				"X-Real-Ip": "127.0.0.1", "X-Forwarded-For": "127.0.0.1",
				"X-Forwarded-Host": "app.example.com", "X-Forwarded-Proto": "http",
				"X-Forwarded-Prefix": tc.wantPrefix, "X-Forwarded-Port": "", "Forwarded": "",
			}
			for k, v := range want {
				got := h[k]
				if v == "" {
					if got != nil {
						t.Errorf("%s = %q reached the backend", k, got)
					}
				} else if len(got) != 1 || got[0] != v {
					t.Errorf("%s = %q, want [%s]", k, got, v)
				}
			}
		})
	}
}

// An HTTP/2 client can put a space or bytes ≥ 0x80 in :path's query, which
// no HTTP/1.1 request line may carry: the backend gets them percent-encoded
// (a raw space would split its request line), on both paths.
func TestQueryFromHTTP2ClientIsEscapedForHTTP11Backends(t *testing.T) {
	lines := make(chan string, 4)
	ep, _ := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			h, err := readHead(br)
			if err != nil {
				return
			}
			line, _, _ := strings.Cut(h, "\r\n")
			lines <- line
			if strings.Contains(h, "Content-Length: 7\r\n") {
				if _, err := io.ReadFull(br, make([]byte, 7)); err != nil {
					return
				}
			}
			if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"); err != nil {
				return
			}
		}
	})
	p := New(Options{})
	p.Publish(table(t, prefixRoute(t, "r", "/", forward(svc("raw", 1, ep)))))
	s := httptest.NewUnstartedServer(p.Handler(ir.ListenerKey{Port: 80}, "http"))
	s.Config.Protocols = new(http.Protocols)
	s.Config.Protocols.SetHTTP1(true)
	s.Config.Protocols.SetUnencryptedHTTP2(true)
	s.Start()
	t.Cleanup(s.Close)
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr}

	for _, method := range []string{http.MethodGet, http.MethodPost} {
		u := &url.URL{Scheme: "http", Host: s.Listener.Addr().String(), Path: "/q", RawQuery: "a=x y&u=\xc3\xa9&ok=%41"}
		req := &http.Request{Method: method, URL: u, Host: "app.example.com", Header: http.Header{}}
		if method == http.MethodPost {
			req.Body = io.NopCloser(strings.NewReader("payload"))
			req.ContentLength = 7
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.ProtoMajor != 2 {
			t.Fatalf("%s: the client spoke %s, not HTTP/2", method, res.Proto)
		}
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", method, res.StatusCode)
		}
		want := method + " /q?a=x%20y&u=%C3%A9&ok=%41 HTTP/1.1"
		if got := <-lines; got != want {
			t.Errorf("request line %q, want %q", got, want)
		}
	}
}

func TestEscapeQuery(t *testing.T) {
	for in, want := range map[string]string{
		"":              "",
		"a=1&b=2":       "a=1&b=2",
		"a=%20&b=|{}":   "a=%20&b=|{}",
		"a=x y":         "a=x%20y",
		"\x7f\x00\xff ": "%7F%00%FF%20",
	} {
		if got := escapeQuery(in); got != want {
			t.Errorf("escapeQuery(%q) = %q, want %q", in, got, want)
		}
		if queryIsClean(in) != (in == want) {
			t.Errorf("queryIsClean(%q) = %v", in, in != want)
		}
	}
}
