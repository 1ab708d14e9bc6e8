package proxy

import (
	"net/http"
	"testing"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

func TestRequestAndResponseHeaderModifiers(t *testing.T) {
	a := forward(svc("a", 1, startBackend(t, echo("a"))))
	a.RequestHeaders = &ir.HeaderModifier{
		Set:    []ir.Header{{Name: "X-Set", Value: "set"}},
		Add:    []ir.Header{{Name: "X-Add", Value: "added"}},
		Remove: []string{"X-Remove"},
	}
	a.ResponseHeaders = &ir.HeaderModifier{Set: []ir.Header{{Name: "X-Backend", Value: "replaced"}}, Add: []ir.Header{{Name: "X-Extra", Value: "1"}}}
	_, url := gateway(t, table(t, prefixRoute(t, "r", "/", a)), Options{})
	res, body := get(t, http.DefaultClient, url+"/x", "X-Set", "client", "X-Add", "client", "X-Remove", "gone", "Host", "app.example.com")
	e := decode(t, body)
	if got := e.Headers["X-Set"]; len(got) != 1 || got[0] != "set" {
		t.Errorf("X-Set = %v, want [set]", got)
	}
	if got := e.Headers["X-Add"]; len(got) != 2 || got[1] != "added" {
		t.Errorf("X-Add = %v, want [client added]", got)
	}
	if _, ok := e.Headers["X-Remove"]; ok {
		t.Error("X-Remove reached the backend")
	}
	if e.Host != "app.example.com" {
		t.Errorf("Host = %q, want it preserved", e.Host)
	}
	if got := e.Headers["X-Forwarded-Host"]; len(got) != 1 || got[0] != "app.example.com" {
		t.Errorf("X-Forwarded-Host = %v", got)
	}
	if got := e.Headers["X-Forwarded-Proto"]; len(got) != 1 || got[0] != "http" {
		t.Errorf("X-Forwarded-Proto = %v", got)
	}
	if got := e.Headers["X-Forwarded-For"]; len(got) != 1 || got[0] != "127.0.0.1" {
		t.Errorf("X-Forwarded-For = %v", got)
	}
	if res.Header.Get("X-Backend") != "replaced" || res.Header.Get("X-Extra") != "1" {
		t.Errorf("response headers not modified: %v", res.Header)
	}
}

func TestURLRewrite(t *testing.T) {
	be := startBackend(t, echo("a"))
	full := forward(svc("a", 1, be))
	full.Rewrite = &ir.Rewrite{Hostname: "internal.example", Path: &ir.PathModifier{Type: ir.ReplaceFullPath, Value: "/fixed"}}
	prefix := forward(svc("a", 1, be))
	prefix.Rewrite = &ir.Rewrite{Path: &ir.PathModifier{Type: ir.ReplacePrefixMatch, Value: "/v2"}}
	strip := forward(svc("a", 1, be))
	strip.Rewrite = &ir.Rewrite{Path: &ir.PathModifier{Type: ir.ReplacePrefixMatch, Value: "/"}}
	_, url := gateway(t, table(t,
		prefixRoute(t, "full", "/full", full),
		prefixRoute(t, "prefix", "/api", prefix),
		prefixRoute(t, "strip", "/strip", strip),
	), Options{})
	for _, tc := range []struct{ path, wantPath, wantHost string }{
		{"/full/a/b?q=1", "/fixed", "internal.example"},
		{"/api/users?q=1", "/v2/users", "gw.example"},
		{"/api", "/v2", "gw.example"},
		{"/strip/x/y", "/x/y", "gw.example"},
		{"/strip", "/", "gw.example"},
	} {
		_, body := get(t, http.DefaultClient, url+tc.path, "Host", "gw.example")
		e := decode(t, body)
		if e.Path != tc.wantPath || e.Host != tc.wantHost {
			t.Errorf("%s: backend saw host %q path %q, want %q %q", tc.path, e.Host, e.Path, tc.wantHost, tc.wantPath)
		}
	}
}

func TestRequestRedirect(t *testing.T) {
	port := int32(8443)
	mk := func(rd *ir.Redirect) *ir.Action { return &ir.Action{Redirect: rd} }
	_, url := gateway(t, table(t,
		prefixRoute(t, "https", "/secure", mk(&ir.Redirect{Scheme: "https", StatusCode: 301})),
		prefixRoute(t, "host", "/host", mk(&ir.Redirect{Hostname: "other.example", Port: &port, StatusCode: 302})),
		prefixRoute(t, "path", "/old", mk(&ir.Redirect{Path: &ir.PathModifier{Type: ir.ReplacePrefixMatch, Value: "/new"}, StatusCode: 308})),
	), Options{})
	for _, tc := range []struct {
		path, loc string
		code      int
	}{
		{"/secure/x?a=b", "https://gw.example/secure/x?a=b", 301},
		{"/host/y", "http://other.example:8443/host/y", 302},
		{"/old/z", "http://gw.example/new/z", 308}, // listener port 80 is the scheme default
		// The path is sent back as the client wrote it: decoding it would
		// turn an escaped '?' into the query and a space into a bad URL.
		{"/secure/a%3Fb%20c?q=1", "https://gw.example/secure/a%3Fb%20c?q=1", 301},
	} {
		res, _ := get(t, noRedirect, url+tc.path, "Host", "gw.example:80")
		if res.StatusCode != tc.code || res.Header.Get("Location") != tc.loc {
			t.Errorf("%s: %d %q, want %d %q", tc.path, res.StatusCode, res.Header.Get("Location"), tc.code, tc.loc)
		}
	}
}

func TestModifyPath(t *testing.T) {
	for _, tc := range []struct{ path, prefix, repl, want string }{
		{"/foo/bar", "/foo", "/baz", "/baz/bar"},
		{"/foo", "/foo", "/baz", "/baz"},
		{"/foo/", "/foo", "/baz/", "/baz/"},
		{"/foo/bar", "/foo", "/", "/bar"},
		{"/foo", "/foo", "/", "/"},
		{"/x/y", "/", "/p", "/p/x/y"},
	} {
		got := modifyPath(tc.path, &ir.PathModifier{Type: ir.ReplacePrefixMatch, Value: tc.repl}, tc.prefix)
		if got != tc.want {
			t.Errorf("modifyPath(%q, prefix %q -> %q) = %q, want %q", tc.path, tc.prefix, tc.repl, got, tc.want)
		}
	}
}
