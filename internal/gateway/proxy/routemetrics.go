package proxy

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// routeKey is the label values that name a route in the series: the kind,
// namespace and name of the object it was compiled from. The zero key is
// the series of requests no route answered.
type routeKey struct{ kind, namespace, name string }

func keyOf(r *ir.Route) routeKey {
	return routeKey{kind: r.Source.Kind, namespace: r.Source.Namespace, name: r.Source.Name}
}

// routeMetrics caches one route's request counter and latency histogram
// per status class, and the series of its backends. WithLabelValues hashes
// the label values and takes a lock on every call; a request only needs an
// atomic load once the series exists. Series are still created on first
// use, so /metrics lists only what was served.
type routeMetrics struct {
	key   routeKey
	label string // kind/namespace/name, for the access log
	// series is allocated by the route's first request: a table of many
	// routes, most of them idle at any time, pays one pointer per route.
	series atomic.Pointer[routeSeries]
	// backends is filled while the table is indexed and read-only after.
	backends backendIndex
}

// routeSeries holds a route's series per status class, each created on
// first use.
type routeSeries [len(classLabels)]atomic.Pointer[classSeries]

type classSeries struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

func newRouteMetrics(k routeKey, label string) *routeMetrics {
	return &routeMetrics{key: k, label: label}
}

// classes returns the route's series array, allocating it on first use.
func (rm *routeMetrics) classes() *routeSeries { return loadOrNew(&rm.series) }

// loadOrNew returns what p points at, first storing a new zero T if p is
// nil. Of racing callers one store wins, and all get its value.
func loadOrNew[T any](p *atomic.Pointer[T]) *T {
	if v := p.Load(); v != nil {
		return v
	}
	p.CompareAndSwap(nil, new(T))
	return p.Load()
}

// observe counts one request with status and duration seconds.
func (rm *routeMetrics) observe(m *Metrics, status int, seconds float64) {
	c := statusClass(status)
	classes := rm.classes()
	s := classes[c].Load()
	if s == nil {
		if s = m.routeSeries(rm.key, c); s == nil {
			return // the route left the table while this request ran
		}
		// Racing requests store equal series: the vectors return the same
		// child for the same labels.
		classes[c].Store(s)
	}
	s.requests.Inc()
	s.latency.Observe(seconds)
}

// indexRouteMetrics gives every route of t its cached series, shared by
// routes with the same key (one object attached to several listeners, or
// several rules and matches of one object), and every backend of those
// routes its own.
func indexRouteMetrics(t *ir.Table) map[*ir.Route]*routeMetrics {
	byKey := map[routeKey]*routeMetrics{}
	out := map[*ir.Route]*routeMetrics{}
	for _, l := range t.Listeners {
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				k := keyOf(r)
				rm := byKey[k]
				if rm == nil {
					rm = newRouteMetrics(k, routeLabel(r))
					byKey[k] = rm
				}
				out[r] = rm
			}
		}
	}
	indexBackendMetrics(out)
	return out
}
