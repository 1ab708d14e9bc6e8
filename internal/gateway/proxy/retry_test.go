package proxy

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
)

// A failed attempt goes to another endpoint only when the request cannot
// have been processed and can be sent again whole: no body, and either
// the dial failed or the method is idempotent.
func TestMayRetry(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	// An unreachable host reported on a pooled connection: the request
	// may have been delivered.
	pooled := fmt.Errorf("readLoop: %w", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.EHOSTUNREACH)})
	for _, tc := range []struct {
		method string
		body   bool
		err    error
		want   bool
	}{
		{http.MethodGet, false, dial, true},
		{http.MethodPost, false, dial, true},
		{http.MethodPost, true, dial, false},
		{http.MethodPut, true, dial, false},
		{http.MethodGet, false, pooled, true},
		{http.MethodDelete, false, pooled, true},
		{http.MethodPost, false, pooled, false},
		{http.MethodPatch, false, pooled, false},
	} {
		var body *strings.Reader
		req, err := http.NewRequest(tc.method, "http://backend/", nil)
		if tc.body {
			body = strings.NewReader("payload")
			req, err = http.NewRequest(tc.method, "http://backend/", body)
		}
		if err != nil {
			t.Fatal(err)
		}
		if !isConnectError(tc.err) {
			t.Fatalf("%v is a connect error", tc.err)
		}
		if got := mayRetry(req, tc.err); got != tc.want {
			t.Errorf("%s (body %t) after %v: retry %t, want %t", tc.method, tc.body, tc.err, got, tc.want)
		}
	}
}
