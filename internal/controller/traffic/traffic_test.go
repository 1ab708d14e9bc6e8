package traffic

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pylon-dev/pylon/internal/contract"
)

// gatewayLike registers the per-backend series under the contract's names
// and labels, as the gateway does, so the parser is tested against what
// client_golang really writes.
type gatewayLike struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newGatewayLike() *gatewayLike {
	g := &gatewayLike{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: contract.MetricBackendRequests, Help: "h"},
			[]string{contract.LabelRouteKind, contract.LabelRouteNamespace, contract.LabelRouteName, contract.LabelBackendNamespace, contract.LabelBackendName, contract.LabelCode, contract.LabelOrigin}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: contract.MetricBackendDuration, Help: "h", Buckets: []float64{.001, .01, .1, 1}},
			[]string{contract.LabelRouteKind, contract.LabelRouteNamespace, contract.LabelRouteName, contract.LabelBackendNamespace, contract.LabelBackendName}),
	}
	g.reg.MustRegister(g.requests, g.latency)
	return g
}

// serve records n answers of code from backend through a route in routeNS,
// each taking d.
func (g *gatewayLike) serve(routeNS, backendNS, backend, code, origin string, n int, d time.Duration) {
	for range n {
		g.requests.WithLabelValues("httproute", routeNS, "r", backendNS, backend, code, origin).Inc()
		g.latency.WithLabelValues("httproute", routeNS, "r", backendNS, backend).Observe(d.Seconds())
	}
}

func (g *gatewayLike) server(t *testing.T) *httptest.Server {
	s := httptest.NewServer(promhttp.HandlerFor(g.reg, promhttp.HandlerOpts{}))
	t.Cleanup(s.Close)
	return s
}

func TestGatewaySourceSumsReplicasAndCountsErrors(t *testing.T) {
	a, b := newGatewayLike(), newGatewayLike()
	a.serve("shop", "shop", "web", "2xx", contract.OriginBackend, 90, 5*time.Millisecond)
	a.serve("shop", "shop", "web-canary", "2xx", contract.OriginBackend, 8, 50*time.Millisecond)
	b.serve("shop", "shop", "web-canary", "5xx", contract.OriginGateway, 2, time.Millisecond)
	// Another namespace's route naming the same Service is not the WebApp's
	// traffic and must not count.
	b.serve("intruder", "shop", "web-canary", "2xx", contract.OriginBackend, 1000, time.Millisecond)
	now := time.Unix(1000, 0)
	src := &GatewaySource{URLs: []string{a.server(t).URL + "/metrics", b.server(t).URL + "/metrics"}, Clock: func() time.Time { return now }}
	tr := NewTracker()
	start := now
	w, err := tr.Window(context.Background(), src, "uid", "shop", []string{"shop/web", "shop/web-canary"}, start, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Backends["shop/web-canary"].Requests; got != 0 {
		t.Fatalf("a window that starts now has %d canary requests, want 0", got)
	}
	a.serve("shop", "shop", "web-canary", "2xx", contract.OriginBackend, 18, 50*time.Millisecond)
	b.serve("shop", "shop", "web-canary", "5xx", contract.OriginGateway, 2, time.Millisecond)
	a.serve("shop", "shop", "web-canary", "5xx", contract.OriginBackend, 1, 50*time.Millisecond)
	a.serve("shop", "shop", "web", "2xx", contract.OriginBackend, 180, 5*time.Millisecond)
	now = now.Add(10 * time.Second)
	w, err = tr.Window(context.Background(), src, "uid", "shop", []string{"shop/web", "shop/web-canary"}, start, true)
	if err != nil {
		t.Fatal(err)
	}
	c, s := w.Backends["shop/web-canary"], w.Backends["shop/web"]
	if c.Requests != 21 || c.Errors != 3 || s.Requests != 180 || s.Errors != 0 {
		t.Fatalf("window: canary %d requests %d errors, stable %d/%d; want 21/3 and 180/0", c.Requests, c.Errors, s.Requests, s.Errors)
	}
	// The gateway's own answers are told apart from the backend's.
	if c.GatewayErrors != 2 || s.GatewayErrors != 0 {
		t.Fatalf("window: canary %d, stable %d errors answered by the gateway; want 2 and 0", c.GatewayErrors, s.GatewayErrors)
	}
	if got := c.ErrorRate(); math.Abs(got-300.0/21) > 1e-9 {
		t.Errorf("canary error rate %.2f%%, want 3 of 21", got)
	}
	// 19 of 21 canary answers took 50 ms (bucket 10–100 ms): p99 lies in it.
	if c.P99 <= 10*time.Millisecond || c.P99 > 100*time.Millisecond {
		t.Errorf("canary p99 %v, want within (10ms, 100ms]", c.P99)
	}
	if s.P99 <= time.Millisecond || s.P99 > 10*time.Millisecond {
		t.Errorf("stable p99 %v, want within (1ms, 10ms]", s.P99)
	}
	if !w.Start.Equal(start) || !w.End.Equal(now) {
		t.Errorf("window %v–%v, want %v–%v", w.Start, w.End, start, now)
	}
}

func TestWindowTreatsACounterThatWentDownAsAReset(t *testing.T) {
	base := Reading{At: time.Unix(0, 0), Replicas: map[string]map[string]Counts{
		"gw-1": {"ns/c": {Requests: 500, Errors: 5}},
		"gw-2": {"ns/c": {Requests: 100}},
	}}
	cur := Reading{At: time.Unix(60, 0), Replicas: map[string]map[string]Counts{
		"gw-1": {"ns/c": {Requests: 30, Errors: 3}}, // restarted
		"gw-2": {"ns/c": {Requests: 150}},           // went on
		"gw-3": {"ns/c": {Requests: 7, Errors: 1}},  // new replica
	}}
	got := between(base, cur, []string{"ns/c"}).Backends["ns/c"]
	if got.Requests != 30+50+7 || got.Errors != 3+0+1 {
		t.Fatalf("got %d requests %d errors, want 87 and 4", got.Requests, got.Errors)
	}
}

func TestQuantileInterpolatesLikePrometheus(t *testing.T) {
	b := map[float64]float64{0.1: 50, 0.2: 100, math.Inf(1): 100}
	if got := quantile(0.5, b); got != 100*time.Millisecond {
		t.Errorf("median %v, want 100ms", got)
	}
	if got := quantile(0.99, b); got < 195*time.Millisecond || got > 200*time.Millisecond {
		t.Errorf("p99 %v, want 198ms", got)
	}
	if got := quantile(0.99, map[float64]float64{0.1: 1, math.Inf(1): 100}); got != 100*time.Millisecond {
		t.Errorf("p99 in the +Inf bucket: %v, want the highest finite bound 100ms", got)
	}
	if got := quantile(0.99, nil); got != 0 {
		t.Errorf("no buckets: %v, want 0", got)
	}
}

func TestSlidingWindowStartsAtTheOldestReadingKept(t *testing.T) {
	g := newGatewayLike()
	now := time.Unix(0, 0)
	src := &GatewaySource{URLs: []string{g.server(t).URL}, Clock: func() time.Time { return now }, CacheFor: time.Nanosecond}
	tr := NewTracker()
	keys := []string{"ns/web"}
	for i := range 10 {
		g.serve("ns", "ns", "web", "2xx", contract.OriginBackend, 10, time.Millisecond)
		now = time.Unix(int64(i+1)*10, 0)
		if _, err := tr.Window(context.Background(), src, "uid", "ns", keys, now.Add(-30*time.Second), false); err != nil {
			t.Fatal(err)
		}
	}
	g.serve("ns", "ns", "web", "2xx", contract.OriginBackend, 10, time.Millisecond)
	now = now.Add(10 * time.Second)
	w, err := tr.Window(context.Background(), src, "uid", "ns", keys, now.Add(-30*time.Second), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Backends["ns/web"].Requests; got != 30 {
		t.Fatalf("30 s window holds %d requests, want 30 (10 per 10 s)", got)
	}
}

func TestGatewaySourceFailsWhenNoReplicaAnswers(t *testing.T) {
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	defer dead.Close()
	src := &GatewaySource{URLs: []string{dead.URL}}
	if _, err := src.Read(context.Background(), "ns"); err == nil {
		t.Fatal("a source whose only replica answers 500 returned a reading")
	}
	if _, err := (&GatewaySource{}).Read(context.Background(), "ns"); err == nil {
		t.Fatal("a source with no replica returned a reading")
	}
}

// TestPrometheusSource runs the client against a minimal HTTP stand-in for
// Prometheus' query API (no Prometheus server can run in a unit test); the
// stand-in checks the queries name the contract's series.
func TestPrometheusSource(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("query")
		w.Header().Set("Content-Type", "application/json")
		switch q {
		case `sum by (backend, code, origin) (pylon_gateway_backend_requests_total{backend_namespace="shop",namespace="shop"})`:
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{"backend":"web","code":"2xx","origin":"backend"},"value":[1,"95"]},
				{"metric":{"backend":"web","code":"5xx","origin":"backend"},"value":[1,"3"]},
				{"metric":{"backend":"web","code":"5xx","origin":"gateway"},"value":[1,"2"]}]}}`))
		case `sum by (backend, le) (pylon_gateway_backend_request_duration_seconds_bucket{backend_namespace="shop",namespace="shop"})`:
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{"backend":"web","le":"0.1"},"value":[1,"100"]},
				{"metric":{"backend":"web","le":"+Inf"},"value":[1,"100"]}]}}`))
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"status":"error","error":"unexpected query ` + q + `"}`))
		}
	}))
	defer srv.Close()
	r, err := (&PrometheusSource{URL: srv.URL}).Read(context.Background(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	c := r.Replicas["prometheus"]["shop/web"]
	if c.Requests != 100 || c.Errors != 5 || c.GatewayErrors != 2 || c.Buckets[0.1] != 100 || c.Buckets[math.Inf(1)] != 100 {
		t.Fatalf("got %+v", c)
	}
	if _, err := (&PrometheusSource{URL: srv.URL}).Read(context.Background(), "other"); err == nil {
		t.Fatal("an error answer from Prometheus was not reported")
	}
}
