package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

func TestNormalizePath(t *testing.T) {
	for _, tc := range []struct {
		in, escaped, match string
		verdict            pathVerdict
	}{
		{"/", "/", "/", pathOK},
		{"/a/b/", "/a/b/", "/a/b/", pathOK},
		{"/Admin", "/Admin", "/Admin", pathOK},
		{"/x/../admin", "/admin", "/admin", pathOK},
		{"/x/./admin/.", "/x/admin/", "/x/admin/", pathOK},
		{"/a/b/..", "/a/", "/a/", pathOK},
		{"/../../admin", "/admin", "/admin", pathOK},
		{"//admin//x//", "/admin/x/", "/admin/x/", pathOK},
		{"/%61dmin", "/admin", "/admin", pathOK},
		{"/x/%2e%2E/admin", "/admin", "/admin", pathOK},
		{"/a%20b/c%3fd%2c", "/a%20b/c%3Fd%2C", "/a b/c?d,", pathOK},
		{"/admin;x", "/admin;x", "/admin", pathOK},
		{"/admin;x/y;z", "/admin;x/y;z", "/admin/y", pathOK},
		{"/public/..;x/admin", "/admin", "/admin", pathOK},
		{"/;x/admin", "/admin", "/admin", pathOK},
		{"\\admin\\x", "\\admin\\x", "\\admin\\x", pathOK}, // not origin-form: untouched
		{"/x\\..\\admin", "/admin", "/admin", pathOK},
		{"/admin%2Fx", "/admin/x", "/admin/x", pathRedirect},
		{"/public%2f..%2Fadmin", "/admin", "/admin", pathRedirect},
		{"/public%5C..%5cadmin", "/admin", "/admin", pathRedirect},
		{"/a%00b", "", "", pathBad},
		{"/a%zz", "", "", pathBad},
		{"*", "*", "*", pathOK},
		{"", "", "", pathOK},
	} {
		got := normalizePath(tc.in)
		if got.verdict != tc.verdict || got.verdict != pathBad && (got.escaped != tc.escaped || got.match != tc.match) {
			t.Errorf("normalizePath(%q) = %+v, want escaped %q match %q verdict %d", tc.in, got, tc.escaped, tc.match, tc.verdict)
		}
	}
}

// rawGet sends target verbatim as the request target and returns the
// response and body.
func rawGet(t *testing.T, base, target string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET "+target+" HTTP/1.1\r\nHost: gw.example\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// A request that a backend would take for /admin is routed as /admin: it
// reaches the /admin rule's backend, is redirected to a path that does,
// or is refused; it never reaches the catch-all's backend.
func TestHostilePathsCannotSlipPastAdminRule(t *testing.T) {
	_, url := gateway(t, table(t,
		prefixRoute(t, "admin", "/admin", forward(svc("admin", 1, startBackend(t, echo("admin"))))),
		prefixRoute(t, "public", "/", forward(svc("public", 1, startBackend(t, echo("public"))))),
	), Options{})
	for _, target := range []string{
		"/admin", "/admin/", "/x/../admin", "//admin", "///admin/secret", "/./admin", "/admin;x", "/admin;jsessionid=1/secret",
		"/%61dmin", "/%61%64%6D%69%6E/secret", "/public/%2e%2e/admin", "/public/%2E%2E%2fadmin", "/public/..;/admin",
		"/public/..;x=1/admin/", "/;/admin", "/public\\..\\admin", "/admin%2Fsecret", "/public%2F..%2Fadmin", "/public%5c..%5cadmin",
		"/public/../../admin", "/admin/%2e", "/admin/.%2e/admin",
	} {
		res, body := rawGet(t, url, target)
		hops := 0
		for res.StatusCode == http.StatusTemporaryRedirect && hops < 3 {
			loc := res.Header.Get("Location")
			if !strings.HasPrefix(loc, "/") {
				t.Fatalf("%s: redirected off-site to %q", target, loc)
			}
			res, body = rawGet(t, url, loc)
			hops++
		}
		switch {
		case res.StatusCode == http.StatusBadRequest:
		case res.StatusCode == 200 && decode(t, body).Backend == "admin":
			if uri := decode(t, body).URI; !strings.HasPrefix(uri, "/admin") {
				t.Errorf("%s: the admin backend got %q, not the normalised path", target, uri)
			}
		default:
			t.Errorf("%s: %d %q: slipped past the /admin rule", target, res.StatusCode, body)
		}
	}
	// Normalisation does not change how ordinary paths match.
	for target, want := range map[string]string{
		"/administrator": "public", "/Admin": "public", "/admin/x/": "admin", "/public/admin": "public", "/": "public",
	} {
		res, body := rawGet(t, url, target)
		if res.StatusCode != 200 || decode(t, body).Backend != want {
			t.Errorf("%s: %d %q, want backend %s", target, res.StatusCode, body, want)
		}
	}
}

func TestEncodedSlashIsRedirectedUnescaped(t *testing.T) {
	_, url := gateway(t, table(t, prefixRoute(t, "public", "/", forward(svc("public", 1, startBackend(t, echo("public")))))), Options{})
	res, _ := rawGet(t, url, "/files/a%2Fb%5Cc/./d?x=%2F")
	if res.StatusCode != http.StatusTemporaryRedirect || res.Header.Get("Location") != "/files/a/b/c/d?x=%2F" {
		t.Fatalf("%d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, body := rawGet(t, url, "/a//b/../c%20d?q=1")
	if e := decode(t, body); res.StatusCode != 200 || e.URI != "/a/c%20d?q=1" {
		t.Fatalf("%d: backend got %q, want the normalised /a/c%%20d?q=1", res.StatusCode, e.URI)
	}
}

// Percent-encoding a client sent reaches the backend and a redirect's
// Location unchanged, through rewrites too.
func TestRewritesAndRedirectsKeepPercentEncoding(t *testing.T) {
	be := startBackend(t, echo("b"))
	rewrite := forward(svc("b", 1, be))
	rewrite.Rewrite = &ir.Rewrite{Path: &ir.PathModifier{Type: ir.ReplacePrefixMatch, Value: "/v2"}}
	_, url := gateway(t, table(t,
		prefixRoute(t, "old", "/old", &ir.Action{Redirect: &ir.Redirect{Path: &ir.PathModifier{Type: ir.ReplacePrefixMatch, Value: "/new"}, StatusCode: 302}}),
		prefixRoute(t, "api", "/api", rewrite),
		prefixRoute(t, "plain", "/", forward(svc("b", 1, be))),
	), Options{})
	res, _ := rawGet(t, url, "/old/a%20b%2Cc%3F;p=1?q=%2C")
	if want := "http://gw.example/new/a%20b%2Cc%3F;p=1?q=%2C"; res.StatusCode != 302 || res.Header.Get("Location") != want {
		t.Errorf("redirect: %d Location %q, want %q", res.StatusCode, res.Header.Get("Location"), want)
	}
	for target, want := range map[string]string{
		"/api/a%20b%2Cc%3Fd":  "/v2/a%20b%2Cc%3Fd",
		"/api;v=1/x%2C":       "/v2/x%2C",
		"/plain/a%2Cb%40c%3D": "/plain/a%2Cb%40c%3D",
	} {
		res, body := rawGet(t, url, target)
		if e := decode(t, body); res.StatusCode != 200 || e.URI != want {
			t.Errorf("%s: backend got %q, want %q", target, e.URI, want)
		}
	}
}

// Normalising is idempotent and leaves no empty, "." or ".." segment, so
// the path a backend receives routes exactly as the request did.
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"/", "/a/../b", "//a//b/", "/%2e%2E/x", "/a;b/..;c/d", "/a%2Fb", "/%7e%41%20", "\\a\\..\\b", "/a/./"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !strings.HasPrefix(in, "/") {
			return
		}
		n := normalizePath(in)
		if n.verdict == pathBad {
			return
		}
		again := normalizePath(n.escaped)
		if again.verdict != pathOK || again.escaped != n.escaped || again.match != n.match {
			t.Fatalf("%q → %+v → %+v: not idempotent", in, n, again)
		}
		segs := strings.Split(n.escaped, "/")
		for i, s := range segs[1:] {
			name, _, _ := strings.Cut(s, ";")
			if name == "." || name == ".." || (name == "" && i < len(segs)-2) {
				t.Fatalf("%q → %q keeps segment %q", in, n.escaped, s)
			}
		}
	})
}

// The allocation-free fast path answers exactly what the full
// normalisation answers, for every path it accepts, and declines every
// path the full normalisation would change.
func TestFastPathAgreesWithFullNormalisation(t *testing.T) {
	for _, p := range []string{
		"/", "/a", "/a/", "/a/b/c", "/admin", "/admin/", "/a.b/c..d/.e", "/x-y_z~1",
		"//a", "/a//b", "/a/./b", "/a/../b", "/a/.", "/a/..", "/.", "/..", "/a;b", "/a%20b",
		"/a%2Fb", `/a\b`, "/A/B", "/a/b/", "/%41", "/a/.../b",
	} {
		slow := normalizeSlow(p)
		if alreadyNormal(p) {
			if slow.escaped != p || slow.match != p || slow.verdict != pathOK {
				t.Errorf("%q: the fast path keeps it, the full normalisation gives %+v", p, slow)
			}
		} else if slow.escaped == p && slow.match == p && slow.verdict == pathOK {
			// Declining a path that needs no change is only a missed
			// shortcut, but every such case here should be taken.
			t.Errorf("%q needs no change but the fast path declines it", p)
		}
	}
}
