package server

import (
	"bufio"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// TestWatchAbortNeverCrossesRequests: clients that hang up around the
// lean engine's 50 ms watch point (the abort of their backend exchange
// races its answer) run beside keep-alive clients, each of which must get
// every answer for its own request: an abort that reached a pooled
// connection another request had taken would show here as a 502 or
// another request's body.
func TestWatchAbortNeverCrossesRequests(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d, _ := strconv.Atoi(r.URL.Query().Get("d")); d > 0 {
			time.Sleep(time.Duration(d) * time.Microsecond)
		}
		_, _ = io.WriteString(w, r.URL.Path)
	}))
	defer be.Close()
	host, port, _ := net.SplitHostPort(be.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	ep := ir.Endpoint{Address: host, Port: int32(p), Ready: true, Serving: true}
	gp := freePort(t)
	_, srv := start(t, mustTable(t, httpListener(t, gp, ep)), Options{HTTP1Engine: EngineLean})
	addr := srv.Addr(gp).String()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() { // leave near the watch point
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(g)))
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := net.Dial("tcp", addr)
				if err != nil {
					continue
				}
				_, _ = fmt.Fprintf(c, "GET /leave?d=%d HTTP/1.1\r\n"+localHost+"\r\n", 45000+rng.Intn(15000))
				time.Sleep(time.Duration(45000+rng.Intn(15000)) * time.Microsecond)
				_ = c.Close()
			}
		}()
	}
	answered := make([]int, 3)
	for g := range answered {
		wg.Add(1)
		go func() { // every answer must be this client's own
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			br := bufio.NewReader(c)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				path := fmt.Sprintf("/s%d-%d", g, i)
				_, _ = fmt.Fprintf(c, "GET %s HTTP/1.1\r\n"+localHost+"\r\n", path)
				res, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Errorf("%s: %v", path, err)
					return
				}
				b, _ := io.ReadAll(res.Body)
				if res.StatusCode != http.StatusOK || string(b) != path {
					t.Errorf("%s: %d %q", path, res.StatusCode, b)
					return
				}
				answered[g]++
			}
		}()
	}
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()
	for g, n := range answered {
		if n == 0 {
			t.Errorf("keep-alive client %d got no answer", g)
		}
	}
}
