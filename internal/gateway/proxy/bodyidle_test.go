package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// A client that sends its body one byte at a time, slower than the idle
// timeout, is cut off and the backend's request ends: it cannot hold a
// backend connection for ever.
func TestTricklingRequestBodyIsCutOff(t *testing.T) {
	released := make(chan error, 1)
	be := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		released <- err
		_, _ = io.WriteString(w, "got it")
	}))
	tb := table(t, prefixRoute(t, "up", "/", forward(svc("upload", 1, be))))
	_, url := gateway(t, tb, Options{RequestBodyIdleTimeout: 150 * time.Millisecond})

	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nA"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(400 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := c.Write([]byte("A")); err != nil {
					return
				}
			}
		}
	}()
	start := time.Now()
	select {
	case err := <-released:
		if err == nil {
			t.Fatal("the backend read a whole body that was never sent")
		}
	case <-time.After(4 * time.Second):
		t.Fatal("a trickling body still holds the backend's request after 4s")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cut off after %s with a 150ms idle timeout", d)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err == nil {
		_ = res.Body.Close()
		t.Logf("client got %d", res.StatusCode)
		if res.StatusCode != http.StatusRequestTimeout {
			t.Fatalf("status %d, want 408 (or a closed connection)", res.StatusCode)
		}
	}
}

// A body that keeps arriving, each part within the timeout, is not cut off
// however long it takes in total.
func TestSteadyRequestBodyIsNotCutOff(t *testing.T) {
	be := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = w.Write(b)
	}))
	tb := table(t, prefixRoute(t, "up", "/", forward(svc("upload", 1, be))))
	_, url := gateway(t, tb, Options{RequestBodyIdleTimeout: 300 * time.Millisecond})
	pr, pw := io.Pipe()
	go func() {
		for range 8 {
			time.Sleep(100 * time.Millisecond)
			_, _ = pw.Write([]byte("chunk"))
		}
		_ = pw.Close()
	}()
	res, err := http.Post(url+"/", "text/plain", pr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || string(b) != strings.Repeat("chunk", 8) {
		t.Fatalf("%d %q", res.StatusCode, b)
	}
}

// A stream whose client pauses longer than the idle timeout while the
// backend keeps answering is not idle: response progress moves the body's
// deadline (gRPC bidirectional streams, uploads answered with progress).
func TestBidirectionalStreamIsNotIdle(t *testing.T) {
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		w.WriteHeader(http.StatusOK)
		_ = rc.Flush()
		var mu sync.Mutex
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			tick := time.NewTicker(40 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					mu.Lock()
					_, _ = io.WriteString(w, ".")
					_ = rc.Flush()
					mu.Unlock()
				}
			}
		})
		b, err := io.ReadAll(r.Body)
		close(stop)
		wg.Wait()
		if err != nil {
			_, _ = io.WriteString(w, "|error "+err.Error())
			return
		}
		_, _ = io.WriteString(w, "|"+string(b))
	}))
	be.Config.Protocols = new(http.Protocols)
	be.Config.Protocols.SetUnencryptedHTTP2(true)
	be.Start()
	t.Cleanup(be.Close)
	b := svc("stream", 1, endpointOf(t, be.Listener.Addr().String()))
	b.AppProtocol = "kubernetes.io/h2c"
	p := New(Options{RequestBodyIdleTimeout: 200 * time.Millisecond})
	p.Publish(table(t, prefixRoute(t, "r", "/", forward(b))))
	gw := httptest.NewUnstartedServer(p.Handler(ir.ListenerKey{Port: 80}, "https"))
	gw.EnableHTTP2 = true
	gw.StartTLS()
	t.Cleanup(gw.Close)

	pr, pw := io.Pipe()
	go func() {
		for i := range 4 {
			if i > 0 {
				time.Sleep(400 * time.Millisecond) // twice the idle timeout
			}
			_, _ = pw.Write([]byte("a"))
		}
		_ = pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, gw.URL+"/", pr)
	c := gw.Client()
	c.Timeout = 10 * time.Second
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil || res.ProtoMajor != 2 || !strings.HasSuffix(string(got), "|aaaa") {
		t.Fatalf("%s %d %q %v: the stream was cut off", res.Proto, res.StatusCode, got, err)
	}
}
