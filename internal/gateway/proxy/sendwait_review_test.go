package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// slowWriteConn is a TCP connection whose Write returns late (armed): the
// goroutine is descheduled right after the write system call, as under
// CPU contention or a GC pause.
type slowWriteConn struct {
	*net.TCPConn
	armed atomic.Bool
}

func (c *slowWriteConn) Write(p []byte) (int, error) {
	n, err := c.TCPConn.Write(p)
	if c.armed.Load() {
		time.Sleep(50 * time.Millisecond)
	}
	return n, err
}

// reviewHead is a GET head of about size bytes.
func reviewHead(size int) []byte {
	h := "GET / HTTP/1.1\r\nHost: x\r\nCookie: "
	pad := size - len(h) - 4
	if pad < 1 {
		pad = 1
	}
	return []byte(h + strings.Repeat("a", pad) + "\r\n\r\n")
}

// exchangeOnce runs one exchange and returns the connection to the pool.
func exchangeOnce(t *testing.T, ctx context.Context, pool *h1Pool, c *h1Conn, head []byte) (int, error) {
	t.Helper()
	res, err := c.roundTrip(ctx, httptest.NewRecorder(), head, getRequest)
	if err != nil {
		c.finish(false, nil)
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	c.finish(!res.Close, pool)
	return res.StatusCode, nil
}

// A request head larger than the connection's 4 KiB write buffer is
// written by bufio.Writer.Write itself, before FlushAndWait clears the
// read readiness: an answer that arrived (and was reported) in between is
// not seen by the wait.
func TestReviewBigHeadWrittenBeforeTheWait(t *testing.T) {
	ep, _ := rawBackend(t, scripted("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	for _, size := range []int{1000, 5000} {
		t.Run(fmt.Sprintf("head %d B", size), func(t *testing.T) {
			pool := newH1Pool(TransportOptions{MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute}, &net.Dialer{})
			defer pool.closeIdle()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			c, err := pool.get(ctx, endpointAddr(ep))
			if err != nil {
				t.Fatal(err)
			}
			sc := &slowWriteConn{TCPConn: c.nc.(*net.TCPConn)}
			c.nc, c.lr.r = sc, sc
			c.bw.Reset(sc)
			c.sw.Init(sc, c.fd)
			if code, err := exchangeOnce(t, ctx, pool, c, reviewHead(100)); err != nil || code != 200 {
				t.Fatalf("first exchange: %d %v", code, err)
			}
			c2, err := pool.get(ctx, endpointAddr(ep))
			if err != nil || c2 != c || !c2.reused {
				t.Fatalf("want the pooled connection back: %v", err)
			}
			sc.armed.Store(true)
			start := time.Now()
			code, err := exchangeOnce(t, ctx, pool, c2, reviewHead(size))
			if err != nil || code != 200 {
				t.Fatalf("exchange with a %d-byte head on a pooled connection: %d %v after %v (context: %v)",
					size, code, err, time.Since(start).Round(time.Millisecond), ctx.Err())
			}
		})
	}
}

// A backend that answers a huge head early (431 after reading part of
// it), half-closes and reads on: the answer arrives while the gateway is
// still writing the head, outside the wait.
func TestReviewEarlyAnswerToBigHead(t *testing.T) {
	var n atomic.Int32
	ep, _ := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readHead(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		n.Add(1)
		buf := make([]byte, 8<<10)
		if _, err := io.ReadFull(br, buf); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		_ = c.(*net.TCPConn).CloseWrite()
		time.Sleep(200 * time.Millisecond)
		_, _ = io.Copy(io.Discard, br) // lingering: reads until the gateway closes
	})
	pool := newH1Pool(TransportOptions{MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute}, &net.Dialer{})
	defer pool.closeIdle()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := pool.get(ctx, endpointAddr(ep))
	if err != nil {
		t.Fatal(err)
	}
	if code, err := exchangeOnce(t, ctx, pool, c, reviewHead(100)); err != nil || code != 200 {
		t.Fatalf("first exchange: %d %v", code, err)
	}
	c, err = pool.get(ctx, endpointAddr(ep))
	if err != nil || !c.reused {
		t.Fatalf("want the pooled connection: %v", err)
	}
	start := time.Now()
	code, err := exchangeOnce(t, ctx, pool, c, reviewHead(16<<20))
	if err != nil || code != 431 {
		t.Fatalf("huge head answered early: %d %v after %v (context: %v)", code, err, time.Since(start).Round(time.Millisecond), ctx.Err())
	}
}

// The backend half-closes a pooled connection (FIN, keeps reading) right
// after unsolicited looked at it and before the wait: the FIN's readiness
// is cleared by the wait, and no reset comes.
func TestReviewHalfCloseAfterThePeek(t *testing.T) {
	fin := make(chan struct{})
	ep, _ := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readHead(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		<-fin
		_ = c.(*net.TCPConn).CloseWrite()
		_, _ = io.Copy(io.Discard, br)
	})
	pool := newH1Pool(TransportOptions{MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute}, &net.Dialer{})
	defer pool.closeIdle()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := pool.get(ctx, endpointAddr(ep))
	if err != nil {
		t.Fatal(err)
	}
	if code, err := exchangeOnce(t, ctx, pool, c, reviewHead(100)); err != nil || code != 200 {
		t.Fatalf("first exchange: %d %v", code, err)
	}
	c, err = pool.get(ctx, endpointAddr(ep)) // unsolicited: clean
	if err != nil || !c.reused {
		t.Fatalf("want the pooled connection: %v", err)
	}
	close(fin)
	time.Sleep(50 * time.Millisecond) // the FIN arrives and is reported
	start := time.Now()
	_, err = c.roundTrip(ctx, httptest.NewRecorder(), reviewHead(100), getRequest)
	c.finish(false, nil)
	if ctx.Err() != nil || !isStaleConnError(err) {
		t.Fatalf("half-closed pooled connection: %v after %v (context: %v); want EOF at once (retried as stale)", err, time.Since(start).Round(time.Millisecond), ctx.Err())
	}
}

// Status lines the lean reader does not take, or takes split across reads.
func TestReviewResponseStarts(t *testing.T) {
	cases := []struct {
		name   string
		parts  []string
		status int
		fails  bool
	}{
		{"split HT|TP/1.1", []string{"HT", "TP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}, 200, false},
		{"split at the space", []string{"HTTP/1.1", " 200 OK\r\nContent-Length: 2\r\n\r\nok"}, 200, false},
		{"HTTP/1.0", []string{"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"}, 200, false},
		{"HTTP/1.0 split", []string{"HTTP/1.", "0 200 OK\r\nContent-Length: 2\r\n\r\nok"}, 200, false},
		{"lowercase", []string{"http/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}, 0, true},
		{"one byte at a time", strings.Split("HTTP/1.1 204 No Content\r\n\r\n", ""), 204, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ep, _ := rawBackend(t, func(c net.Conn, br *bufio.Reader) {
				for {
					if _, err := readHead(br); err != nil {
						return
					}
					for _, p := range tc.parts {
						_, _ = io.WriteString(c, p)
						time.Sleep(10 * time.Millisecond)
					}
				}
			})
			pool := newH1Pool(TransportOptions{MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute}, &net.Dialer{})
			defer pool.closeIdle()
			for i := range 2 { // new, then pooled
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				c, err := pool.get(ctx, endpointAddr(ep))
				if err != nil {
					t.Fatal(err)
				}
				code, err := exchangeOnce(t, ctx, pool, c, reviewHead(100))
				ctxErr := ctx.Err()
				cancel()
				if tc.fails {
					if err == nil || ctxErr != nil {
						t.Fatalf("exchange %d: %d %v, want a protocol error at once", i, code, err)
					}
					return
				}
				if err != nil || code != tc.status {
					t.Fatalf("exchange %d: %d %v", i, code, err)
				}
			}
		})
	}
}
