package proxy

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

func TestErrorResponses(t *testing.T) {
	slow := startBackend(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	// Accepts the connection and hangs up without answering: a protocol error.
	hangup := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = c.Close()
		}
	}))
	// Names a client must never learn: the namespace, the Services and why
	// a reference is refused.
	const ns = "tenant-billing"
	private := func(name string, eps ...ir.Endpoint) *ir.Backend {
		return &ir.Backend{Namespace: ns, Name: "ledger-" + name, Port: 8443, Weight: 1, Endpoints: eps}
	}
	timeout := forward(private("slow", slow))
	timeout.Timeouts = ir.Timeouts{Request: 5 * time.Second, BackendRequest: 150 * time.Millisecond}
	gone := private("gone")
	gone.Invalid, gone.InvalidReason = true, "backend tenant-billing/ledger-gone is not permitted by any ReferenceGrant in tenant-billing"
	notReady := private("notready", ir.Endpoint{Address: "127.0.0.1", Port: 1, Ready: false, Serving: true, Terminating: true})
	tb := table(t,
		prefixRoute(t, "timeout", "/timeout", timeout),
		prefixRoute(t, "invalid", "/invalid", forward(gone)),
		prefixRoute(t, "direct", "/direct", forward()),
		prefixRoute(t, "empty", "/empty", forward(private("empty"))),
		prefixRoute(t, "notready", "/notready", forward(notReady)),
		prefixRoute(t, "refused", "/refused", forward(private("refused", deadEndpoint(t)))),
		prefixRoute(t, "hangup", "/hangup", forward(private("hangup", hangup))),
	)
	var logs bytes.Buffer
	_, url := gateway(t, tb, Options{AccessLog: slog.New(slog.NewJSONHandler(&logs, nil))})
	seen := map[string]string{}
	for _, tc := range []struct {
		path string
		code int
		body string
		kind string // the access log's error
	}{
		{"/nothing-here", 404, "no route", ""},
		{"/invalid", 500, "this route's backend is not usable", "invalid_backend"},
		{"/direct", 500, "rule has no backend", ""},
		{"/empty", 503, "no ready endpoint for this route", "no_endpoints"},
		{"/notready", 503, "no ready endpoint for this route", "no_endpoints"},
		{"/refused", 502, "could not connect to the backend", "connect"},
		{"/hangup", 502, "bad response from the backend", "protocol"},
		{"/timeout", 504, "the backend did not answer within 150ms", "timeout"},
	} {
		start := time.Now()
		logs.Reset()
		res, body := get(t, http.DefaultClient, url+tc.path, "Host", "shop.example")
		if res.StatusCode != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("%s: %d %q, want %d containing %q", tc.path, res.StatusCode, body, tc.code, tc.body)
		}
		for _, secret := range []string{ns, "ledger", "8443", "ReferenceGrant", "127.0.0.1"} {
			if strings.Contains(body, secret) {
				t.Errorf("%s: body %q names %q", tc.path, body, secret)
			}
		}
		// Bodies tell failures apart (both not-ready cases are the same failure).
		if other, ok := seen[body]; ok && tc.path != "/notready" {
			t.Errorf("%s answers the same body as %s: %q", tc.path, other, body)
		}
		seen[body] = tc.path
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%s: Content-Type %q", tc.path, ct)
		}
		if d := time.Since(start); tc.code == 504 && d > 2*time.Second {
			t.Errorf("timeout took %s", d)
		}
		// The operator still learns which backend failed and why.
		var line struct{ Error, ErrorDetail string }
		var raw map[string]any
		if err := json.Unmarshal(logs.Bytes(), &raw); err != nil {
			t.Fatalf("%s: access log %q: %v", tc.path, logs.String(), err)
		}
		line.Error, _ = raw["error"].(string)
		line.ErrorDetail, _ = raw["error_detail"].(string)
		if line.Error != tc.kind {
			t.Errorf("%s: access log error %q, want %q", tc.path, line.Error, tc.kind)
		}
		if tc.kind != "" && !strings.Contains(line.ErrorDetail, ns+"/ledger-") {
			t.Errorf("%s: access log error_detail %q does not name the backend", tc.path, line.ErrorDetail)
		}
	}
}

func TestNoTableIs503(t *testing.T) {
	_, url := gateway(t, nil, Options{})
	res, body := get(t, http.DefaultClient, url+"/")
	if res.StatusCode != 503 || !strings.Contains(body, "no routing table") {
		t.Fatalf("%d %q", res.StatusCode, body)
	}
}

func TestRequestID(t *testing.T) {
	_, url := gateway(t, table(t, prefixRoute(t, "r", "/", forward(svc("a", 1, startBackend(t, echo("a")))))), Options{})
	res, body := get(t, http.DefaultClient, url+"/")
	gen := res.Header.Get("X-Request-Id")
	if len(gen) != 32 {
		t.Fatalf("generated X-Request-Id %q", gen)
	}
	if got := decode(t, body).Headers["X-Request-Id"]; len(got) != 1 || got[0] != gen {
		t.Errorf("backend saw %v, client got %q", got, gen)
	}
	res, body = get(t, http.DefaultClient, url+"/", "X-Request-Id", "abc-123")
	if res.Header.Get("X-Request-Id") != "abc-123" || decode(t, body).Headers["X-Request-Id"][0] != "abc-123" {
		t.Errorf("X-Request-Id not propagated: %v", res.Header)
	}
	res, _ = get(t, http.DefaultClient, url+"/", "Host", "x")
	if res.Header.Get("X-Request-Id") == gen {
		t.Error("request ids repeat")
	}
}
