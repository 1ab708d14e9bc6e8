package proxy

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// echo answers with what it received, as JSON, and a header naming itself.
func echo(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", name)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"backend": name, "host": r.Host, "path": r.URL.Path, "uri": r.RequestURI, "query": r.URL.RawQuery,
			"proto": r.Proto, "headers": r.Header,
		})
	}
}

type echoed struct {
	Backend string              `json:"backend"`
	Host    string              `json:"host"`
	Path    string              `json:"path"`
	URI     string              `json:"uri"` // the request target as received
	Query   string              `json:"query"`
	Proto   string              `json:"proto"`
	Headers map[string][]string `json:"headers"`
}

// startBackend serves h on 127.0.0.1 and returns its endpoint.
func startBackend(t testing.TB, h http.Handler) ir.Endpoint {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return endpointOf(t, s.Listener.Addr().String())
}

func endpointOf(t testing.TB, addr string) ir.Endpoint {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return ir.Endpoint{Address: host, Port: int32(p), Ready: true, Serving: true}
}

// deadEndpoint is a 127.0.0.1 port nothing listens on.
func deadEndpoint(t *testing.T) ir.Endpoint {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return endpointOf(t, addr)
}

func svc(name string, weight int32, eps ...ir.Endpoint) *ir.Backend {
	return &ir.Backend{Namespace: "ns", Name: name, Port: 80, Weight: weight, Endpoints: eps}
}

func forward(bs ...*ir.Backend) *ir.Action { return ir.NewAction(nil, bs...) }

func prefixRoute(t testing.TB, name, prefix string, a *ir.Action) *ir.Route {
	t.Helper()
	pm, err := ir.NewPathMatch(ir.PathPrefix, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return &ir.Route{Source: ir.Source{Kind: "HTTPRoute", Namespace: "ns", Name: name}, Listener: "L", Path: pm, Action: a}
}

// table is one HTTP listener on port 80 with a catch-all host.
func table(t testing.TB, routes ...*ir.Route) *ir.Table {
	t.Helper()
	vh := &ir.VirtualHost{Listeners: []string{"L"}, Routes: routes}
	tb := &ir.Table{Listeners: []*ir.Listener{{Port: 80, Protocol: ir.ProtocolHTTP, VirtualHosts: []*ir.VirtualHost{vh}}}}
	tb.Finalize()
	if err := tb.Validate(); err != nil {
		t.Fatal(err)
	}
	return tb
}

// gateway publishes tb and serves the port-80 listener on 127.0.0.1.
func gateway(t testing.TB, tb *ir.Table, o Options) (*Proxy, string) {
	t.Helper()
	p := New(o)
	if tb != nil {
		p.Publish(tb)
	}
	s := httptest.NewServer(p.Handler(ir.ListenerKey{Port: 80}, "http"))
	t.Cleanup(s.Close)
	return p, s.URL
}

func get(t *testing.T, c *http.Client, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b []byte
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b = append(b, buf[:n]...)
		if err != nil {
			break
		}
	}
	return res, string(b)
}

func decode(t *testing.T, body string) echoed {
	t.Helper()
	var e echoed
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return e
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
