package proxy

import (
	"sync"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// liveSeries is the set of routes and backends in the published table.
// Series are created only for members (under mu), and retain deletes the
// series of those a new table dropped (under mu too), so a request still
// running on an older table cannot bring a deleted series back.
type liveSeries struct {
	mu       sync.Mutex
	routes   map[routeKey]bool
	backends map[routeBackendKey]bool
}

// retain makes the routes and backends of idx, the index of a table about
// to be published, the live ones, and deletes the series of the routes and
// backends that are not in it any more. Series of those still present keep
// their values. It runs before the table is served, so requests on it find
// their series live.
func (m *Metrics) retain(idx map[*ir.Route]*routeMetrics) {
	routes := make(map[routeKey]bool, len(idx))
	backends := map[routeBackendKey]bool{}
	for _, rm := range idx {
		routes[rm.key] = true
		rm.backends.each(func(bm *backendMetrics) { backends[bm.key] = true })
	}
	m.live.mu.Lock()
	defer m.live.mu.Unlock()
	for k := range m.live.backends {
		if !backends[k] {
			m.deleteBackend(k)
		}
	}
	for k := range m.live.routes {
		if !routes[k] {
			m.deleteRoute(k)
		}
	}
	m.live.routes, m.live.backends = routes, backends
}

// Each label set that can exist is deleted by name: DeletePartialMatch
// would scan every series of the vector once per gone route.
func (m *Metrics) deleteRoute(k routeKey) {
	for _, class := range classLabels[1:] {
		m.requests.DeleteLabelValues(k.kind, k.namespace, k.name, class)
		m.latency.DeleteLabelValues(k.kind, k.namespace, k.name, class)
	}
}

func (m *Metrics) deleteBackend(k routeBackendKey) {
	r := k.route
	for _, class := range classLabels[1:] {
		for _, origin := range origins {
			m.backendRequests.DeleteLabelValues(r.kind, r.namespace, r.name, k.namespace, k.name, class, origin)
		}
	}
	m.backendLatency.DeleteLabelValues(r.kind, r.namespace, r.name, k.namespace, k.name)
}

// routeSeries returns the series of route k and status class c, or nil when
// k is not live. The zero key (no route) is always live.
func (m *Metrics) routeSeries(k routeKey, c int) *classSeries {
	m.live.mu.Lock()
	defer m.live.mu.Unlock()
	if k != (routeKey{}) && !m.live.routes[k] {
		return nil
	}
	class := classLabels[c]
	return &classSeries{
		requests: m.requests.WithLabelValues(k.kind, k.namespace, k.name, class),
		latency:  m.latency.WithLabelValues(k.kind, k.namespace, k.name, class),
	}
}

// backendCounter returns the request counter of backend k for status class
// c and origin o, or nil when k is not live.
func (m *Metrics) backendCounter(k routeBackendKey, c, o int) *counterSeries {
	m.live.mu.Lock()
	defer m.live.mu.Unlock()
	if !m.live.backends[k] {
		return nil
	}
	r := k.route
	return &counterSeries{m.backendRequests.WithLabelValues(r.kind, r.namespace, r.name, k.namespace, k.name, classLabels[c], origins[o])}
}

// backendObserver returns the latency histogram of backend k, or nil when k
// is not live.
func (m *Metrics) backendObserver(k routeBackendKey) *observerSeries {
	m.live.mu.Lock()
	defer m.live.mu.Unlock()
	if !m.live.backends[k] {
		return nil
	}
	r := k.route
	return &observerSeries{m.backendLatency.WithLabelValues(r.kind, r.namespace, r.name, k.namespace, k.name)}
}
