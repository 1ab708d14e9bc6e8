package proxy

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pylon-dev/pylon/internal/contract"
	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// sample sums the series of metric name whose labels include want, as the
// manager would read them from /metrics: counter values, or observation
// counts of histograms. found is false when no series matches.
func sample(t *testing.T, g prometheus.Gatherer, name string, want map[string]string) (sum float64, found bool) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue series
				}
			}
			found = true
			if h := m.GetHistogram(); h != nil {
				sum += float64(h.GetSampleCount())
			} else {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum, found
}

// backendOf selects the series of one backend of route ns/name.
func backendOf(route, backend string, more ...string) map[string]string {
	l := map[string]string{
		contract.LabelRouteKind: "HTTPRoute", contract.LabelRouteNamespace: "ns", contract.LabelRouteName: route,
		contract.LabelBackendNamespace: "ns", contract.LabelBackendName: backend,
	}
	for i := 0; i+1 < len(more); i += 2 {
		l[more[i]] = more[i+1]
	}
	return l
}

func routeOf(route string, more ...string) map[string]string {
	l := map[string]string{contract.LabelRouteKind: "HTTPRoute", contract.LabelRouteNamespace: "ns", contract.LabelRouteName: route}
	for i := 0; i+1 < len(more); i += 2 {
		l[more[i]] = more[i+1]
	}
	return l
}

// Each backend's series count what that backend answered. The canary
// answers 500 itself: a backend's own error has origin "backend".
func TestBackendSeriesCountWhatEachBackendAnswered(t *testing.T) {
	stable := startBackend(t, echo("stable"))
	canary := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Backend", "canary")
		http.Error(w, "canary is broken", http.StatusInternalServerError)
	}))
	reg := prometheus.NewRegistry()
	tb := table(t,
		prefixRoute(t, "web", "/", forward(svc("stable", 70, stable), svc("canary", 30, canary))),
		prefixRoute(t, "moved", "/moved", &ir.Action{Redirect: &ir.Redirect{StatusCode: 301, Hostname: "elsewhere.example"}}),
	)
	_, url := gateway(t, tb, Options{Metrics: NewMetrics(reg)})
	got := map[string]int{}
	for range 200 {
		res, _ := get(t, http.DefaultClient, url+"/")
		got[res.Header.Get("X-Backend")+" "+res.Status[:1]]++
	}
	if got["stable 2"]+got["canary 5"] != 200 || got["stable 2"] < 120 || got["canary 5"] < 40 {
		t.Fatalf("responses %v: want about 140 stable 2xx and 60 canary 5xx", got)
	}
	if res, _ := get(t, noRedirect, url+"/moved"); res.StatusCode != 301 {
		t.Fatalf("redirect: %d", res.StatusCode)
	}
	for _, tc := range []struct {
		labels map[string]string
		want   int
	}{
		{backendOf("web", "stable", "code", "2xx", "origin", "backend"), got["stable 2"]},
		{backendOf("web", "canary", "code", "5xx", "origin", "backend"), got["canary 5"]},
		{backendOf("web", "stable"), got["stable 2"]},
		{backendOf("web", "canary"), got["canary 5"]},
	} {
		if n, _ := sample(t, reg, contract.MetricBackendRequests, tc.labels); int(n) != tc.want {
			t.Errorf("%s%v = %v, want %d", contract.MetricBackendRequests, tc.labels, n, tc.want)
		}
	}
	for name, want := range map[string]int{"stable": got["stable 2"], "canary": got["canary 5"]} {
		if n, _ := sample(t, reg, contract.MetricBackendDuration, backendOf("web", name)); int(n) != want {
			t.Errorf("%s{backend=%s} observed %v requests, want %d", contract.MetricBackendDuration, name, n, want)
		}
	}
	if n, found := sample(t, reg, contract.MetricBackendRequests, map[string]string{"origin": "gateway"}); found {
		t.Errorf("%v requests counted with origin gateway, want none", n)
	}
	// The redirect has a route series but no backend.
	if n, _ := sample(t, reg, "pylon_gateway_requests_total", routeOf("moved", "code", "3xx")); n != 1 {
		t.Errorf("redirect route counted %v, want 1", n)
	}
	if _, found := sample(t, reg, contract.MetricBackendRequests, routeOf("moved")); found {
		t.Error("a redirect was counted for a backend")
	}
	// The route series split kind, namespace and name.
	if n, _ := sample(t, reg, "pylon_gateway_requests_total", routeOf("web", "code", "5xx")); int(n) != got["canary 5"] {
		t.Errorf("route 5xx = %v, want %d", n, got["canary 5"])
	}
	if n, _ := sample(t, reg, "pylon_gateway_request_duration_seconds", routeOf("web", "code", "2xx")); int(n) != got["stable 2"] {
		t.Errorf("route 2xx latency observed %v, want %d", n, got["stable 2"])
	}
}

// Answers the gateway gives in a backend's place count for that backend
// with origin "gateway"; a request no route matched counts on the empty
// route and for no backend.
func TestGatewayAnswersCountWithGatewayOrigin(t *testing.T) {
	slow := startBackend(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	timeout := forward(svc("slow", 1, slow))
	timeout.Timeouts = ir.Timeouts{BackendRequest: 150 * time.Millisecond}
	reg := prometheus.NewRegistry()
	tb := table(t,
		prefixRoute(t, "empty", "/empty", forward(svc("empty", 1))),
		prefixRoute(t, "refused", "/refused", forward(svc("refused", 1, deadEndpoint(t)))),
		prefixRoute(t, "timeout", "/timeout", timeout),
		prefixRoute(t, "invalid", "/invalid", forward(&ir.Backend{Namespace: "ns", Name: "gone", Port: 80, Weight: 1, Invalid: true})),
	)
	_, url := gateway(t, tb, Options{Metrics: NewMetrics(reg)})
	for _, tc := range []struct{ route, backend, code string }{
		{"empty", "empty", "503"},
		{"refused", "refused", "502"},
		{"timeout", "slow", "504"},
		{"invalid", "gone", "500"},
	} {
		res, body := get(t, http.DefaultClient, url+"/"+tc.route)
		if res.Status[:3] != tc.code {
			t.Errorf("/%s: %s %q, want %s", tc.route, res.Status, body, tc.code)
			continue
		}
		if n, _ := sample(t, reg, contract.MetricBackendRequests, backendOf(tc.route, tc.backend, "code", "5xx", "origin", "gateway")); n != 1 {
			t.Errorf("/%s: %s{origin=gateway,code=5xx} = %v, want 1", tc.route, contract.MetricBackendRequests, n)
		}
		if _, found := sample(t, reg, contract.MetricBackendRequests, backendOf(tc.route, tc.backend, "origin", "backend")); found {
			t.Errorf("/%s: counted with origin backend", tc.route)
		}
		if n, _ := sample(t, reg, contract.MetricBackendDuration, backendOf(tc.route, tc.backend)); n != 1 {
			t.Errorf("/%s: latency observed %v times, want 1", tc.route, n)
		}
	}
	res, _ := get(t, http.DefaultClient, url+"/nothing")
	if res.StatusCode != 404 {
		t.Fatalf("/nothing: %d", res.StatusCode)
	}
	noRoute := map[string]string{"kind": "", "namespace": "", "name": "", "code": "4xx"}
	if n, _ := sample(t, reg, "pylon_gateway_requests_total", noRoute); n != 1 {
		t.Errorf("no-route requests = %v, want 1", n)
	}
	if n, _ := sample(t, reg, contract.MetricBackendRequests, nil); n != 4 {
		t.Errorf("backend requests in all = %v, want 4 (the 404 has no backend)", n)
	}
	// Failed attempts by reason; the invalid backend is never tried. A POST
	// with a body takes the ReverseProxy path instead of the lean one and
	// counts its refused connection once as well.
	res, err := http.Post(url+"/refused", "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusBadGateway {
		t.Fatalf("POST /refused: %d, want 502", res.StatusCode)
	}
	const upstreamErrors = "pylon_gateway_upstream_errors_total"
	for reason, want := range map[string]float64{"no_endpoints": 1, "connect": 2, "timeout": 1} {
		if n, _ := sample(t, reg, upstreamErrors, map[string]string{"reason": reason}); n != want {
			t.Errorf("%s{reason=%q} = %v, want %v", upstreamErrors, reason, n, want)
		}
	}
	if n, _ := sample(t, reg, upstreamErrors, nil); n != 4 {
		t.Errorf("%s in all = %v, want 4 (no other reason)", upstreamErrors, n)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == upstreamErrors && (len(m.GetLabel()) != 1 || m.GetLabel()[0].GetName() != "reason") {
				t.Errorf("%s series labelled %v, want reason only", upstreamErrors, m.GetLabel())
			}
		}
	}
}

// Publishing a table without a route deletes its series and those of
// backends a remaining route no longer has; the remaining series keep
// their values and go on counting.
func TestSeriesOfDroppedRoutesAndBackendsAreDeleted(t *testing.T) {
	a := startBackend(t, echo("a"))
	b := startBackend(t, echo("b"))
	c := startBackend(t, echo("c"))
	reg := prometheus.NewRegistry()
	p, url := gateway(t, table(t,
		prefixRoute(t, "keep", "/keep", forward(svc("a", 1, a), svc("b", 1, b))),
		prefixRoute(t, "gone", "/gone", forward(svc("c", 1, c))),
	), Options{Metrics: NewMetrics(reg)})
	for _, path := range []string{"/keep", "/keep", "/keep", "/keep", "/gone"} {
		if res, _ := get(t, http.DefaultClient, url+path); res.StatusCode != 200 {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
	}
	if n, _ := sample(t, reg, contract.MetricBackendRequests, backendOf("keep", "b")); n != 2 {
		t.Fatalf("keep/b = %v before the publish, want 2", n)
	}
	// The translator builds new objects for every table: so does this one.
	p.Publish(table(t, prefixRoute(t, "keep", "/keep", forward(svc("a", 1, a)))))

	for _, gone := range []struct {
		name   string
		labels map[string]string
	}{
		{"pylon_gateway_requests_total", routeOf("gone")},
		{"pylon_gateway_request_duration_seconds", routeOf("gone")},
		{contract.MetricBackendRequests, routeOf("gone")},
		{contract.MetricBackendDuration, routeOf("gone")},
		{contract.MetricBackendRequests, backendOf("keep", "b")},
		{contract.MetricBackendDuration, backendOf("keep", "b")},
	} {
		if _, found := sample(t, reg, gone.name, gone.labels); found {
			t.Errorf("%s%v still exported after the publish", gone.name, gone.labels)
		}
	}
	if res, _ := get(t, http.DefaultClient, url+"/keep"); res.StatusCode != 200 || res.Header.Get("X-Backend") != "a" {
		t.Fatalf("/keep: %d from %q", res.StatusCode, res.Header.Get("X-Backend"))
	}
	for _, kept := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"pylon_gateway_requests_total", routeOf("keep", "code", "2xx"), 5},
		{"pylon_gateway_request_duration_seconds", routeOf("keep"), 5},
		{contract.MetricBackendRequests, backendOf("keep", "a", "code", "2xx", "origin", "backend"), 3},
		{contract.MetricBackendDuration, backendOf("keep", "a"), 3},
	} {
		if n, _ := sample(t, reg, kept.name, kept.labels); n != kept.want {
			t.Errorf("%s%v = %v, want %v (counted across the publish)", kept.name, kept.labels, n, kept.want)
		}
	}
	if res, _ := get(t, http.DefaultClient, url+"/gone"); !strings.HasPrefix(res.Status, "404") {
		t.Fatalf("/gone after the publish: %s", res.Status)
	}
}

func TestBackendIndexFewAndMany(t *testing.T) {
	var x backendIndex
	bs := make([]*ir.Backend, 3*fewBackends)
	for i := range bs {
		bs[i] = &ir.Backend{Name: string(rune('a' + i))}
	}
	bms := map[*ir.Backend]*backendMetrics{}
	for i, b := range bs {
		bm := newBackendMetrics(routeBackendKey{name: b.Name})
		x.put(b, bm)
		bms[b] = bm
		for _, c := range bs[:i+1] {
			if x.get(c) != bms[c] {
				t.Fatalf("after %d puts: %s not found", i+1, c.Name)
			}
		}
		if x.get(&ir.Backend{Name: b.Name}) != nil {
			t.Fatal("another pointer to an equal backend was found")
		}
		n := 0
		x.each(func(*backendMetrics) { n++ })
		if n != i+1 {
			t.Fatalf("each visited %d, want %d", n, i+1)
		}
		if (i+1 > fewBackends) != (x.many != nil) {
			t.Fatalf("%d backends: map in use %v", i+1, x.many != nil)
		}
	}
}
