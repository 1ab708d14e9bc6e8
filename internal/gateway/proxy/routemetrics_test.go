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
