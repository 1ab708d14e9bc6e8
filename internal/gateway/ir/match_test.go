package ir

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func mustPath(t testing.TB, typ PathMatchType, v string) PathMatch {
	t.Helper()
	p, err := NewPathMatch(typ, v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustHeader(t testing.TB, typ ValueMatchType, n, v string) ValueMatch {
	t.Helper()
	m, err := NewHeaderMatch(typ, n, v)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustQuery(t testing.TB, n, v string) ValueMatch {
	t.Helper()
	m, err := NewQueryMatch(ValueExact, n, v)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var okAction = &Action{Backends: []*Backend{{Namespace: "ns", Name: "svc", Port: 80, Weight: 1}}, TotalWeight: 1}

func route(name string, p PathMatch) *Route {
	return &Route{Source: Source{Kind: "HTTPRoute", Namespace: "ns", Name: name}, Listener: "l", Path: p, Action: okAction}
}

func table(t testing.TB, hosts ...*VirtualHost) *Table {
	t.Helper()
	for _, vh := range hosts {
		vh.Listeners = []string{"l"}
	}
	tb := &Table{Listeners: []*Listener{{Port: 80, Protocol: ProtocolHTTP, VirtualHosts: hosts}}}
	tb.Finalize()
	if err := tb.Validate(); err != nil {
		t.Fatal(err)
	}
	return tb
}

func matchName(tb *Table, req Request) string {
	r := Match(tb, ListenerKey{Port: 80}, &req)
	if r.Route == nil {
		return "404"
	}
	return r.Route.Source.Name
}

func TestPrefixIsElementWise(t *testing.T) {
	tb := table(t, &VirtualHost{Routes: []*Route{route("foo", mustPath(t, PathPrefix, "/foo/"))}})
	for path, want := range map[string]string{
		"/foo": "foo", "/foo/": "foo", "/foo/bar": "foo", "/foobar": "404", "/fo": "404", "/": "404",
	} {
		if got := matchName(tb, Request{Host: "x", Path: path}); got != want {
			t.Errorf("path %q: got %s, want %s", path, got, want)
		}
	}
}

func TestPrecedence(t *testing.T) {
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	newer := old.Add(time.Hour)
	mk := func(name string, p PathMatch, created time.Time, f func(*Route)) *Route {
		r := route(name, p)
		r.Source.CreationTimestamp = created
		if f != nil {
			f(r)
		}
		return r
	}
	routes := []*Route{
		mk("root", mustPath(t, PathPrefix, "/"), old, nil),
		mk("prefix-newer", mustPath(t, PathPrefix, "/api"), newer, nil),
		mk("prefix-older", mustPath(t, PathPrefix, "/api"), old, nil),
		mk("longer", mustPath(t, PathPrefix, "/api/v1"), newer, nil),
		mk("exact", mustPath(t, PathExact, "/api/v1"), newer, nil),
		mk("method", mustPath(t, PathPrefix, "/api"), newer, func(r *Route) { r.Method = "POST" }),
		mk("one-header", mustPath(t, PathPrefix, "/api"), newer, func(r *Route) { r.Headers = []ValueMatch{mustHeader(t, ValueExact, "a", "1")} }),
		mk("two-headers", mustPath(t, PathPrefix, "/api"), newer, func(r *Route) {
			r.Headers = []ValueMatch{mustHeader(t, ValueExact, "a", "1"), mustHeader(t, ValueRegex, "b", "[0-9]+")}
		}),
		mk("query", mustPath(t, PathPrefix, "/api"), newer, func(r *Route) { r.Query = []ValueMatch{mustQuery(t, "q", "x y")} }),
	}
	tb := table(t, &VirtualHost{Routes: routes})
	cases := []struct {
		req  Request
		want string
	}{
		{Request{Path: "/api/v1", Method: "GET"}, "exact"},
		{Request{Path: "/api/v1/x", Method: "GET"}, "longer"},
		{Request{Path: "/api/x", Method: "POST", Header: http.Header{"A": {"1"}, "B": {"22"}}}, "method"},
		{Request{Path: "/api/x", Method: "GET", Header: http.Header{"A": {"1"}, "B": {"22"}}}, "two-headers"},
		{Request{Path: "/api/x", Method: "GET", Header: http.Header{"A": {"1"}, "B": {"x"}}}, "one-header"},
		{Request{Path: "/api/x", Method: "GET", RawQuery: "z=1&q=x+y"}, "query"},
		{Request{Path: "/api/x", Method: "GET", RawQuery: "q=other"}, "prefix-older"},
		{Request{Path: "/apix", Method: "GET"}, "root"},
	}
	for _, c := range cases {
		if got := matchName(tb, c.req); got != c.want {
			t.Errorf("%+v: got %s, want %s", c.req, got, c.want)
		}
	}
}

func TestHostLookupAndIsolation(t *testing.T) {
	any := route("any", mustPath(t, PathPrefix, "/"))
	wild := route("wild", mustPath(t, PathPrefix, "/w"))
	deep := route("deep", mustPath(t, PathPrefix, "/d"))
	exact := route("exact", mustPath(t, PathPrefix, "/e"))
	other := route("other-group", mustPath(t, PathPrefix, "/"))
	tb := table(t,
		&VirtualHost{Hostname: "", Routes: []*Route{any}},
		&VirtualHost{Hostname: "*.example.com", Routes: []*Route{wild}},
		&VirtualHost{Hostname: "*.a.example.com", Routes: []*Route{deep}},
		&VirtualHost{Hostname: "x.a.example.com", Routes: []*Route{exact}},
		// A separate listener hostname: its host never falls through.
		&VirtualHost{Hostname: "iso.example.com", ListenerHostname: "iso.example.com", Routes: []*Route{other}},
	)
	cases := []struct{ host, path, want string }{
		{"X.A.example.com:8080", "/e", "exact"},
		{"x.a.example.com.", "/d", "deep"},
		{"x.a.example.com", "/w", "wild"},
		{"x.a.example.com", "/zzz", "any"},
		{"y.a.example.com", "/e", "any"},
		{"y.a.example.com", "/d", "deep"},
		{"a.example.com", "/d", "any"}, // "*.a.example.com" needs one more label
		{"example.com", "/w", "any"},
		{"iso.example.com", "/w", "other-group"},
		{"iso.example.com", "/w/x", "other-group"},
	}
	for _, c := range cases {
		if got := matchName(tb, Request{Host: c.host, Path: c.path}); got != c.want {
			t.Errorf("%s%s: got %s, want %s", c.host, c.path, got, c.want)
		}
	}
	if r := Match(tb, ListenerKey{Port: 81}, &Request{Host: "x", Path: "/"}); r.Listener != nil {
		t.Error("unexpected listener on port 81")
	}
}

func TestIsolationGroupDoesNotFallThrough(t *testing.T) {
	tb := table(t,
		&VirtualHost{Hostname: "", Routes: []*Route{route("any", mustPath(t, PathPrefix, "/"))}},
		&VirtualHost{Hostname: "iso.example.com", ListenerHostname: "iso.example.com", Routes: []*Route{route("iso", mustPath(t, PathExact, "/only"))}},
	)
	if got := matchName(tb, Request{Host: "iso.example.com", Path: "/other"}); got != "404" {
		t.Errorf("got %s, want 404: listener isolation", got)
	}
}

func TestCertificateSelection(t *testing.T) {
	pair := []KeyPair{{Source: "s"}}
	l := &Listener{Port: 443, Protocol: ProtocolHTTPS, Certificates: []*Certificate{
		{Hostname: "", Pairs: pair}, {Hostname: "*.example.com", Pairs: pair}, {Hostname: "a.example.com", Pairs: pair},
	}}
	tb := &Table{Listeners: []*Listener{l}}
	tb.Finalize()
	for sni, want := range map[string]string{"a.example.com": "a.example.com", "b.example.com": "*.example.com", "x.b.example.com": "*.example.com", "other.org": "", "": ""} {
		if c := l.Certificate(sni); c == nil || c.Hostname != want {
			t.Errorf("sni %q: got %+v, want %q", sni, c, want)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	bad := []*Table{
		{Listeners: []*Listener{{Port: 443, Protocol: ProtocolHTTPS}}},
		{Listeners: []*Listener{{Port: 80, Protocol: ProtocolHTTP, VirtualHosts: []*VirtualHost{
			{Hostname: "a.b", ListenerHostname: "c.d", Listeners: []string{"l"}},
		}}}},
		{Listeners: []*Listener{{Port: 80, Protocol: ProtocolHTTP, VirtualHosts: []*VirtualHost{
			{Listeners: []string{"l"}, Routes: []*Route{{Listener: "missing", Path: PathMatch{Type: PathPrefix, Value: "/"}, Action: okAction}}},
		}}}},
		{Listeners: []*Listener{{Port: 80, Protocol: ProtocolHTTP, VirtualHosts: []*VirtualHost{
			{Listeners: []string{"l"}, Routes: []*Route{{Listener: "l", Path: PathMatch{Type: PathPrefix, Value: "/"}, Action: &Action{}}}},
		}}}},
	}
	for i, tb := range bad {
		tb.Finalize()
		if err := tb.Validate(); err == nil {
			t.Errorf("table %d: expected a validation error", i)
		}
	}
	if err := (&Table{}).Validate(); err == nil {
		t.Error("unfinalized table must not validate")
	}
}

func BenchmarkMatch(b *testing.B) {
	var routes []*Route
	for i := range 1000 {
		p, err := NewPathMatch(PathPrefix, fmt.Sprintf("/svc-%d/api", i))
		if err != nil {
			b.Fatal(err)
		}
		r := route(fmt.Sprintf("r%d", i), p)
		if i%3 == 0 {
			r.Headers = []ValueMatch{mustHeader(b, ValueExact, "x-tenant", "t1")}
		}
		routes = append(routes, r)
	}
	tb := table(b, &VirtualHost{Hostname: "*.example.com", ListenerHostname: "*.example.com", Routes: routes})
	req := Request{Host: "shop.example.com", Path: "/svc-500/api/items", Method: "GET", Header: http.Header{"X-Tenant": {"t1"}}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if Match(tb, ListenerKey{Port: 80}, &req).Route == nil {
			b.Fatal("no match")
		}
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("shop.example.com", "/foo/bar", "GET", "a=1&b=%20")
	f.Add("[::1]:80", "", "", "%zz")
	f.Add(".", "/", "POST", "&&=")
	tb := table(f,
		&VirtualHost{Hostname: "", Routes: []*Route{route("any", mustPath(f, PathRegex, "/r/[a-z]+"))}},
		&VirtualHost{Hostname: "*.example.com", Routes: []*Route{route("wild", mustPath(f, PathPrefix, "/foo"))}},
	)
	tb.Listeners[0].VirtualHosts[1].Routes[0].Query = []ValueMatch{mustQuery(f, "b", " ")}
	f.Fuzz(func(t *testing.T, host, path, method, query string) {
		req := Request{Host: host, Path: path, Method: method, RawQuery: query}
		r := Match(tb, ListenerKey{Port: 80}, &req)
		if r.Listener == nil || r.VirtualHost == nil {
			t.Fatalf("catch-all must always select a host, got %+v", r)
		}
		if r.Route != nil && !r.Route.matches(&req) {
			t.Fatalf("returned a route that does not match")
		}
	})
}
