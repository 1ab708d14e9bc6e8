package proxy

import (
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// The cached series are the vectors' own children: counts land on the
// same route/code series WithLabelValues would give, concurrently too.
func TestRouteMetricsCacheUsesTheSameSeries(t *testing.T) {
	m := NewMetrics(nil)
	r := &ir.Route{Source: ir.Source{Kind: "HTTPRoute", Namespace: "ns", Name: "web"}}
	idx := indexRouteMetrics(&ir.Table{Listeners: []*ir.Listener{{VirtualHosts: []*ir.VirtualHost{{Routes: []*ir.Route{r}}}}}})
	m.retain(idx)
	rm := idx[r]
	if rm == nil || rm.key != (routeKey{kind: "HTTPRoute", namespace: "ns", name: "web"}) || rm.label != "httproute/ns/web" {
		t.Fatalf("route not indexed: %+v", rm)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				rm.observe(m, 200, 0.001)
			}
		})
	}
	wg.Wait()
	rm.observe(m, 503, 0.002)
	rm.observe(m, 999, 0.002) // non-standard, still one bounded class
	for code, want := range map[string]float64{"2xx": 800, "5xx": 1, "9xx": 1} {
		if got := testutil.ToFloat64(m.requests.WithLabelValues("HTTPRoute", "ns", "web", code)); got != want {
			t.Errorf("requests{code=%s} = %v, want %v", code, got, want)
		}
	}
}

// A request that finishes on an older table after its route was dropped
// must not recreate the series the publish deleted.
func TestRouteMetricsOfADroppedRouteCreateNoSeries(t *testing.T) {
	m := NewMetrics(nil)
	r := &ir.Route{Source: ir.Source{Kind: "Ingress", Namespace: "ns", Name: "old"}, Action: &ir.Action{Backends: []*ir.Backend{{Namespace: "ns", Name: "svc"}}}}
	idx := indexRouteMetrics(&ir.Table{Listeners: []*ir.Listener{{VirtualHosts: []*ir.VirtualHost{{Routes: []*ir.Route{r}}}}}})
	m.retain(idx)
	m.retain(map[*ir.Route]*routeMetrics{}) // a table without it was published
	idx[r].observe(m, 200, 0.001)
	idx[r].backends.get(r.Action.Backends[0]).observe(m, 200, false, 0.001)
	for name, n := range map[string]int{
		"requests": testutil.CollectAndCount(m.requests), "latency": testutil.CollectAndCount(m.latency),
		"backend requests": testutil.CollectAndCount(m.backendRequests), "backend latency": testutil.CollectAndCount(m.backendLatency),
	} {
		if n != 0 {
			t.Errorf("%s: %d series of a dropped route, want none", name, n)
		}
	}
}

// BenchmarkRequestSeries is the metrics work of one request: the route's
// series alone (what the gateway did before per-backend series), and with
// its backend's series too, as finish does for a forwarded request.
func BenchmarkRequestSeries(b *testing.B) {
	m := NewMetrics(nil)
	be := &ir.Backend{Namespace: "ns", Name: "stable", Weight: 1}
	r := &ir.Route{Source: ir.Source{Kind: "HTTPRoute", Namespace: "ns", Name: "web"}, Action: &ir.Action{Backends: []*ir.Backend{be}}}
	idx := indexRouteMetrics(&ir.Table{Listeners: []*ir.Listener{{VirtualHosts: []*ir.VirtualHost{{Routes: []*ir.Route{r}}}}}})
	m.retain(idx)
	rm := idx[r]
	b.Run("route", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				rm.observe(m, 200, 0.003)
			}
		})
	})
	b.Run("route+backend", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				rm.observe(m, 200, 0.003)
				rm.backends.get(be).observe(m, 200, false, 0.003)
			}
		})
	})
}
