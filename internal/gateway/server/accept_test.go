package server

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// flakyListener fails Accept with fail() while it returns an error, then
// accepts from the real listener.
type flakyListener struct {
	net.Listener
	fail func() error
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if err := l.fail(); err != nil {
		return nil, err
	}
	return l.Listener.Accept()
}

// startFlaky is start with every port's listener wrapped in a flakyListener.
func startFlaky(t *testing.T, port int32, fail func() error) (*Server, *httptest.Server) {
	t.Helper()
	tb := mustTable(t, httpListener(t, port, backend(t, "ok")))
	p, s := newServer(t, Options{})
	s.listen = func(addr string, freebind bool) (net.Listener, error) {
		l, err := listen(addr, freebind, false)
		if err != nil {
			return nil, err
		}
		return &flakyListener{Listener: l, fail: fail}, nil
	}
	s.reopenDelay = 50 * time.Millisecond
	p.Publish(tb)
	if err := s.Reconcile(tb); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	admin := httptest.NewServer(AdminHandler(p, reg, s.Check))
	t.Cleanup(admin.Close)
	return s, admin
}

func readyz(t *testing.T, admin *httptest.Server) (int, string) {
	t.Helper()
	res, err := http.Get(admin.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestAcceptRetriesTemporaryErrors(t *testing.T) {
	var failures atomic.Int32
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	port := freePort(t)
	s, admin := startFlaky(t, port, func() error {
		if failures.Add(1) <= 4 {
			return emfile
		}
		return nil
	})
	c := &http.Client{Timeout: 5 * time.Second}
	res, err := c.Get("http://" + s.Addr(port).String() + "/")
	if err != nil {
		t.Fatalf("after %d failed accepts the listener serves no more: %v", failures.Load(), err)
	}
	_ = res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if n := failures.Load(); n < 5 {
		t.Fatalf("only %d accepts", n)
	}
	if code, body := readyz(t, admin); code != 200 {
		t.Fatalf("readyz after recovered accept errors: %d %q", code, body)
	}
}

func TestAcceptBackoffDoublesToOneSecond(t *testing.T) {
	var d time.Duration
	var got []time.Duration
	for range 10 {
		d = nextAcceptDelay(d)
		got = append(got, d)
	}
	if got[0] != 5*time.Millisecond || got[1] != 10*time.Millisecond || got[7] != 640*time.Millisecond || got[8] != time.Second || got[9] != time.Second {
		t.Fatalf("backoff %v", got)
	}
}

func TestListenerThatCannotAcceptFailsReadyz(t *testing.T) {
	for name, err := range map[string]error{
		"permanent": errors.New("accept: invalid argument"),
		"closed":    net.ErrClosed, // closed by something other than shutdown
	} {
		t.Run(name, func(t *testing.T) {
			var broken atomic.Bool
			port := freePort(t)
			s, admin := startFlaky(t, port, func() error {
				if broken.Load() {
					return err
				}
				return nil
			})
			if code, body := readyz(t, admin); code != 200 {
				t.Fatalf("readyz while accepting: %d %q", code, body)
			}
			broken.Store(true)
			// Wake the accept loop so that it sees the failure.
			if c, err := net.Dial("tcp", s.Addr(port).String()); err == nil {
				_ = c.Close()
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				code, body := readyz(t, admin)
				if code == http.StatusServiceUnavailable {
					if want := fmt.Sprintf("listener %d on %s", port, s.Addr(port)); !strings.Contains(body, want) {
						t.Fatalf("readyz does not name the listener: %q", body)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("readyz still %d %q after the listener stopped accepting", code, body)
				}
				time.Sleep(20 * time.Millisecond)
			}
			// Once accepting works again the port is reopened without
			// waiting for the next table.
			broken.Store(false)
			deadline = time.Now().Add(5 * time.Second)
			for {
				code, body := readyz(t, admin)
				if code == 200 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("readyz still %d %q: the listener was not reopened", code, body)
				}
				time.Sleep(20 * time.Millisecond)
			}
			res, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + s.Addr(port).String() + "/")
			if err != nil {
				t.Fatalf("reopened listener: %v", err)
			}
			_ = res.Body.Close()
		})
	}
}
