package server

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// Two Gateways with addresses of their own listen on the same port; each
// address serves only its own routes, and the shared address is separate
// from both. 127.0.0.0/8 is local on Linux, so these bind without setup.
func TestListenersOnOwnAddressesShareAPort(t *testing.T) {
	port := freePort(t)
	a, b, shared := backend(t, "gateway-a"), backend(t, "gateway-b"), backend(t, "shared")
	la, lb := httpListener(t, port, a), httpListener(t, port, b)
	la.Address, lb.Address = "127.0.0.2", "127.0.0.3"
	tb := mustTable(t, la, lb, httpListener(t, port, shared))
	_, s := start(t, tb, Options{ShutdownTimeout: time.Second})

	for _, tc := range []struct {
		key  ir.ListenerKey
		want string
	}{
		{ir.ListenerKey{Address: "127.0.0.2", Port: port}, "gateway-a"},
		{ir.ListenerKey{Address: "127.0.0.3", Port: port}, "gateway-b"},
		{ir.ListenerKey{Port: port}, "shared"},
	} {
		addr := s.AddrOf(tc.key)
		if addr == nil {
			t.Fatalf("%s: no listener", tc.key)
		}
		res, err := http.Get("http://" + addr.String() + "/")
		if err != nil {
			t.Fatalf("%s: %v", tc.key, err)
		}
		body, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if string(body) != tc.want {
			t.Errorf("%s (bound %s) answered %q, want %q", tc.key, addr, body, tc.want)
		}
	}
}
