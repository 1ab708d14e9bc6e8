package proxy

import (
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
	timeout := forward(svc("slow", 1, slow))
	timeout.Timeouts = ir.Timeouts{Request: 5 * time.Second, BackendRequest: 150 * time.Millisecond}
	invalid := forward(&ir.Backend{Namespace: "ns", Name: "gone", Port: 80, Weight: 1, Invalid: true, InvalidReason: "Service ns/gone not found"})
	notReady := svc("notready", 1, ir.Endpoint{Address: "127.0.0.1", Port: 1, Ready: false, Serving: true, Terminating: true})
	tb := table(t,
		prefixRoute(t, "timeout", "/timeout", timeout),
		prefixRoute(t, "invalid", "/invalid", invalid),
		prefixRoute(t, "direct", "/direct", &ir.Action{DirectResponse: &ir.DirectResponse{Status: 500, Reason: "rule has no backendRefs"}}),
		prefixRoute(t, "empty", "/empty", forward(svc("empty", 1))),
		prefixRoute(t, "notready", "/notready", forward(notReady)),
		prefixRoute(t, "refused", "/refused", forward(svc("refused", 1, deadEndpoint(t)))),
		prefixRoute(t, "hangup", "/hangup", forward(svc("hangup", 1, hangup))),
	)
	_, url := gateway(t, tb, Options{})
	for _, tc := range []struct {
		path string
		code int
		body string
	}{
		{"/nothing-here", 404, "no route"},
		{"/invalid", 500, "Service ns/gone not found"},
		{"/direct", 500, "no backendRefs"},
		{"/empty", 503, "no ready endpoints for backend ns/empty"},
		{"/notready", 503, "no ready endpoints"},
		{"/refused", 502, "could not connect to backend ns/refused"},
		{"/hangup", 502, "bad response from backend ns/hangup"},
		{"/timeout", 504, "did not answer within 150ms"},
	} {
		start := time.Now()
		res, body := get(t, http.DefaultClient, url+tc.path)
		if res.StatusCode != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("%s: %d %q, want %d containing %q", tc.path, res.StatusCode, body, tc.code, tc.body)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%s: Content-Type %q", tc.path, ct)
		}
		if d := time.Since(start); tc.code == 504 && d > 2*time.Second {
			t.Errorf("timeout took %s", d)
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
