package proxy

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// lineWriter hands each access log record to a channel: the record is
// written after the response may have reached the client.
type lineWriter struct {
	mu    sync.Mutex
	lines chan map[string]any
	t     *testing.T
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		w.t.Errorf("access log line %q is not JSON: %v", b, err)
	}
	w.lines <- m
	return len(b), nil
}

func (w *lineWriter) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case m := <-w.lines:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no access log record")
		return nil
	}
}

// TestAccessLogFields sends real requests through the gateway's handler to
// a loopback backend and checks every documented field of the access log
// (docs/observability.md) against what the client sent and the backend saw.
func TestAccessLogFields(t *testing.T) {
	const backendDelay = 30 * time.Millisecond
	var seenID, seenBody string
	be := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seenID, seenBody = r.Header.Get("X-Request-Id"), string(b)
		time.Sleep(backendDelay)
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "created by stable\n")
	}))
	logs := &lineWriter{lines: make(chan map[string]any, 16), t: t}
	for _, idle := range []time.Duration{0, -1} { // body idle timeout on (default) and off: both count bytes received
		t.Run("bodyIdleTimeout="+idle.String(), func(t *testing.T) {
			_, url := gateway(t, table(t, prefixRoute(t, "shop", "/", forward(svc("stable", 1, be)))),
				Options{AccessLog: slog.New(slog.NewJSONHandler(logs, nil)), RequestBodyIdleTimeout: idle})

			req, _ := http.NewRequest(http.MethodPost, url+"/cart/items?x=1", strings.NewReader("twelve bytes"))
			req.Host = "shop.example"
			req.Header.Set("User-Agent", "pylon-test/1.0")
			before := time.Now()
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			_ = res.Body.Close()
			m := logs.next(t)

			id := res.Header.Get("X-Request-Id")
			if len(id) != 32 || seenID != id {
				t.Errorf("request id: client got %q, backend saw %q; want the same generated id", id, seenID)
			}
			if seenBody != "twelve bytes" {
				t.Errorf("backend got body %q", seenBody)
			}
			want := map[string]any{
				"msg": "request", "client_ip": "127.0.0.1", "method": "POST", "host": "shop.example",
				"path": "/cart/items", "protocol": "HTTP/1.1", "status": float64(201),
				"bytes_received": float64(12), "bytes_sent": float64(len(body)),
				"upstream_address": "127.0.0.1:" + strconv.Itoa(int(be.Port)),
				"user_agent":       "pylon-test/1.0", "request_id": id, "route": "httproute/ns/shop", "backend": "ns/stable",
				"error": "", "error_detail": "",
			}
			for k, v := range want {
				if m[k] != v {
					t.Errorf("access log %s = %#v, want %#v", k, m[k], v)
				}
			}
			ts, err := time.Parse(time.RFC3339Nano, m["time"].(string))
			if err != nil || ts.Before(before.Add(-time.Second)) {
				t.Errorf("access log time %v (%v)", m["time"], err)
			}
			// The backend took at least backendDelay to answer: both
			// durations include it, and the total includes the upstream one.
			up, _ := m["upstream_duration_ms"].(float64)
			total, _ := m["duration_ms"].(float64)
			if up < float64(backendDelay.Milliseconds()) || total < up {
				t.Errorf("upstream_duration_ms %v, duration_ms %v; want upstream >= %d and total >= upstream", up, total, backendDelay.Milliseconds())
			}
		})
	}

	// A client's own id is kept; a request no route answers has no
	// upstream and no route, and still a client IP and a user agent.
	_, url := gateway(t, table(t, prefixRoute(t, "shop", "/shop", forward(svc("stable", 1, be)))),
		Options{AccessLog: slog.New(slog.NewJSONHandler(logs, nil))})
	res, _ := get(t, http.DefaultClient, url+"/elsewhere", "X-Request-Id", "client-chose-this", "User-Agent", "curl/8")
	m := logs.next(t)
	if res.StatusCode != 404 || res.Header.Get("X-Request-Id") != "client-chose-this" || m["request_id"] != "client-chose-this" {
		t.Errorf("incoming request id not kept: %d %q, logged %v", res.StatusCode, res.Header.Get("X-Request-Id"), m["request_id"])
	}
	for k, v := range map[string]any{"status": float64(404), "route": "none", "backend": "", "upstream_address": "",
		"upstream_duration_ms": float64(0), "user_agent": "curl/8", "client_ip": "127.0.0.1", "bytes_received": float64(0)} {
		if m[k] != v {
			t.Errorf("404 access log %s = %#v, want %#v", k, m[k], v)
		}
	}
}

func TestClientIP(t *testing.T) {
	for in, want := range map[string]string{"127.0.0.1:5000": "127.0.0.1", "[fd00::1]:443": "fd00::1", "@": "@", "": ""} {
		if got := clientIP(in); got != want {
			t.Errorf("clientIP(%q) = %q, want %q", in, got, want)
		}
	}
}
