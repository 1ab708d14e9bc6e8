package server

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// TestRouteChurn publishes 200 tables (backends and extra routes change
// every time) while a bounded load generator runs: no request may fail.
func TestRouteChurn(t *testing.T) {
	port := freePort(t)
	eps := []ir.Endpoint{backend(t, "a"), backend(t, "b"), backend(t, "c")}
	mk := func(i int) *ir.Table {
		l := httpListener(t, port, eps[i%3])
		r := l.VirtualHosts[0].Routes[0]
		r.Action.Backends[0].Endpoints = []ir.Endpoint{eps[i%3], eps[(i+1)%3]}
		for j := range i % 5 {
			extra := route(t, "L", eps[j%3])
			pm, _ := ir.NewPathMatch(ir.PathPrefix, fmt.Sprintf("/extra%d", j))
			extra.Path = pm
			l.VirtualHosts[0].Routes = append(l.VirtualHosts[0].Routes, extra)
		}
		return mustTable(t, l)
	}
	px, s := start(t, mk(0), Options{})
	url := "http://" + s.Addr(port).String() + "/x"

	var ok, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			c := &http.Client{Timeout: 5 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := c.Get(url)
				if err != nil {
					failed.Add(1)
					t.Log(err)
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				if res.StatusCode != 200 {
					failed.Add(1)
					continue
				}
				ok.Add(1)
			}
		})
	}
	for i := 1; i <= 200; i++ {
		tb := mk(i)
		px.Publish(tb)
		if err := s.Reconcile(tb); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if px.State().Generation != 201 {
		t.Errorf("generation %d, want 201", px.State().Generation)
	}
	if failed.Load() != 0 || ok.Load() < 200 {
		t.Fatalf("%d failed, %d ok", failed.Load(), ok.Load())
	}
	t.Logf("%d requests during 200 table swaps, none failed", ok.Load())
}

func TestAdminEndpoints(t *testing.T) {
	port := freePort(t)
	px, _ := start(t, mustTable(t, httpListener(t, port, backend(t, "ok"))), Options{})

	a := httptest.NewServer(AdminHandler(px, prometheus.DefaultGatherer))
	defer a.Close()
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		res, err := http.Get(a.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
	}
}
