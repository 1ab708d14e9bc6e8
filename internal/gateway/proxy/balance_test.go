package proxy

import (
	"net/http"
	"testing"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// churn publishes a new table before every request, as a busy cluster
// does: alternately one equal to the last and one with an unrelated route
// added. Every table is built from scratch, so no pointer survives a swap.
func churn(t *testing.T, p *Proxy, build func(extra bool) *ir.Table) func(i int) {
	return func(i int) {
		t.Helper()
		p.Publish(build(i%2 == 1))
	}
}

// unrelated is a route of another namespace that no request matches.
func unrelated(t *testing.T, be ir.Endpoint) *ir.Route {
	r := prefixRoute(t, "unrelated", "/elsewhere", forward(svc("other", 1, be)))
	r.Source.Namespace = "other"
	return r
}

func TestCanaryShareHoldsWhileTablesArePublished(t *testing.T) {
	stable := startBackend(t, echo("stable"))
	canary := startBackend(t, echo("canary"))
	other := startBackend(t, echo("other"))
	build := func(extra bool) *ir.Table {
		routes := []*ir.Route{prefixRoute(t, "shop", "/", forward(svc("stable", 90, stable), svc("canary", 10, canary)))}
		if extra {
			routes = append(routes, unrelated(t, other))
		}
		return table(t, routes...)
	}
	p, url := gateway(t, build(false), Options{})
	publish := churn(t, p, build)
	counts := map[string]int{}
	const n = 2000
	for i := range n {
		publish(i)
		res, body := get(t, http.DefaultClient, url+"/")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d %q", i, res.StatusCode, body)
		}
		counts[res.Header.Get("X-Backend")]++
	}
	share := float64(counts["canary"]) * 100 / n
	t.Logf("canary got %d of %d requests (%.1f%%), stable %d", counts["canary"], n, share, counts["stable"])
	if share < 9 || share > 11 {
		t.Errorf("canary got %.1f%% of requests with a table published before each one, want 10%% ± 1", share)
	}
}

func TestEndpointSharesHoldWhileTablesArePublished(t *testing.T) {
	e1 := startBackend(t, echo("e1"))
	e2 := startBackend(t, echo("e2"))
	other := startBackend(t, echo("other"))
	build := func(extra bool) *ir.Table {
		routes := []*ir.Route{prefixRoute(t, "shop", "/", forward(svc("shop", 1, e1, e2)))}
		if extra {
			routes = append(routes, unrelated(t, other))
		}
		return table(t, routes...)
	}
	p, url := gateway(t, build(false), Options{})
	publish := churn(t, p, build)
	counts := map[string]int{}
	const n = 2000
	for i := range n {
		publish(i)
		res, body := get(t, http.DefaultClient, url+"/")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d %q", i, res.StatusCode, body)
		}
		counts[res.Header.Get("X-Backend")]++
	}
	t.Logf("endpoint shares with a table published before each request: e1 %d, e2 %d", counts["e1"], counts["e2"])
	assertEvenShares(t, counts, "e1", "e2")
}

func TestRotationIsFairAroundANotReadyEndpoint(t *testing.T) {
	a := startBackend(t, echo("a"))
	notReady := startBackend(t, echo("not-ready"))
	notReady.Ready, notReady.Serving = false, false
	c := startBackend(t, echo("c"))
	// The not-ready endpoint sits between the ready ones: the endpoint
	// after it must not inherit its turns.
	_, url := gateway(t, table(t, prefixRoute(t, "shop", "/", forward(svc("shop", 1, a, notReady, c)))), Options{})
	counts := map[string]int{}
	for i := range 600 {
		res, body := get(t, http.DefaultClient, url+"/")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d %q", i, res.StatusCode, body)
		}
		counts[res.Header.Get("X-Backend")]++
	}
	t.Logf("shares with one of three endpoints not ready: a %d, c %d, not ready %d", counts["a"], counts["c"], counts["not-ready"])
	if counts["not-ready"] != 0 {
		t.Errorf("the not-ready endpoint got %d requests", counts["not-ready"])
	}
	assertEvenShares(t, counts, "a", "c")
}

// assertEvenShares fails unless the busiest of names got at most 1.2 times
// the requests of the least busy one.
func assertEvenShares(t *testing.T, counts map[string]int, names ...string) {
	t.Helper()
	lo, hi := counts[names[0]], counts[names[0]]
	for _, n := range names[1:] {
		lo, hi = min(lo, counts[n]), max(hi, counts[n])
	}
	if lo == 0 || float64(hi)/float64(lo) > 1.2 {
		t.Errorf("uneven endpoint shares %v: max/min must be at most 1.2", counts)
	}
}

func TestBalancingStateFollowsIdentity(t *testing.T) {
	ep := ir.Endpoint{Address: "127.0.0.1", Port: 1, Ready: true, Serving: true}
	build := func(stable, canary int32) *ir.Table {
		return table(t, prefixRoute(t, "shop", "/", forward(svc("stable", stable, ep), svc("canary", canary, ep))))
	}
	p := New(Options{})
	state := func() (*wrr, *rotation) {
		a := p.State().Table.Listeners[0].VirtualHosts[0].Routes[0].Action
		return p.State().actions[a], p.State().backends[a.Backends[0]].rr
	}
	p.Publish(build(90, 10))
	w1, r1 := state()
	p.Publish(build(90, 10))
	w2, r2 := state()
	if w1 != w2 || r1 != r2 {
		t.Fatal("an equal table started the weighted picks or the endpoint rotation over")
	}
	p.Publish(build(80, 20))
	w3, r3 := state()
	if w3 == w2 {
		t.Error("new weights kept the old weighted-pick state")
	}
	if r3 != r2 {
		t.Error("a weight change started the backend's endpoint rotation over")
	}
}
