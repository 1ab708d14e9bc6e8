package proxy

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pylon-dev/pylon/internal/contract"
	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// routeBackendKey names one backend of one route in the series. The Service
// port is not part of it: the manager asks what a Service received.
type routeBackendKey struct {
	route           routeKey
	namespace, name string
}

// Origins of an answer, as indexes of origins.
const (
	fromBackend = iota
	fromGateway
)

var origins = [...]string{fromBackend: contract.OriginBackend, fromGateway: contract.OriginGateway}

// backendMetrics caches the series of one backend of one route, the same
// way routeMetrics does for the route: created on first use, an atomic
// load afterwards.
type backendMetrics struct {
	key routeBackendKey
	// series is allocated by the first request given to the backend, as
	// routeMetrics does.
	series atomic.Pointer[backendSeries]
}

// backendSeries holds the series of one backend of one route, each created
// on first use.
type backendSeries struct {
	requests [len(classLabels)][len(origins)]atomic.Pointer[counterSeries]
	latency  atomic.Pointer[observerSeries]
}

// backendIndex finds the series of a route's backends by their pointer in
// the table. Most routes have a few backends: a short slice scanned in
// order is smaller than a map (a map of one entry takes ~200 B) and no
// slower for them; a route with more than fewBackends uses a map.
type backendIndex struct {
	few  []backendEntry
	many map[*ir.Backend]*backendMetrics
}

type backendEntry struct {
	b  *ir.Backend
	bm *backendMetrics
}

const fewBackends = 8

// get returns the series of b, or nil when b is not indexed.
func (x *backendIndex) get(b *ir.Backend) *backendMetrics {
	if x.many != nil {
		return x.many[b]
	}
	for _, e := range x.few {
		if e.b == b {
			return e.bm
		}
	}
	return nil
}

// put indexes b, which is not indexed yet.
func (x *backendIndex) put(b *ir.Backend, bm *backendMetrics) {
	switch {
	case x.many != nil:
		x.many[b] = bm
	case len(x.few) < fewBackends:
		x.few = append(x.few, backendEntry{b, bm})
	default:
		x.many = make(map[*ir.Backend]*backendMetrics, len(x.few)+1)
		for _, e := range x.few {
			x.many[e.b] = e.bm
		}
		x.many[b] = bm
		x.few = nil
	}
}

// each calls f with every indexed series (a series shared by several
// backend pointers once per pointer).
func (x *backendIndex) each(f func(*backendMetrics)) {
	for _, e := range x.few {
		f(e.bm)
	}
	for _, bm := range x.many {
		f(bm)
	}
}

// The vectors hand out interfaces; atomic.Pointer needs a struct.
type (
	counterSeries  struct{ prometheus.Counter }
	observerSeries struct{ prometheus.Observer }
)

func newBackendMetrics(k routeBackendKey) *backendMetrics { return &backendMetrics{key: k} }

// observe counts one request given to the backend: its status, whether the
// gateway answered instead of the backend, and its duration in seconds.
func (bm *backendMetrics) observe(m *Metrics, status int, byGateway bool, seconds float64) {
	c, o := statusClass(status), fromBackend
	if byGateway {
		o = fromGateway
	}
	s := loadOrNew(&bm.series)
	req := s.requests[c][o].Load()
	if req == nil {
		if req = m.backendCounter(bm.key, c, o); req == nil {
			return // the backend left the route while this request ran
		}
		s.requests[c][o].Store(req)
	}
	lat := s.latency.Load()
	if lat == nil {
		if lat = m.backendObserver(bm.key); lat == nil {
			return
		}
		s.latency.Store(lat)
	}
	req.Inc()
	lat.Observe(seconds)
}

// indexBackendMetrics gives every backend of every indexed route its cached
// series, shared by the backend pointers that name the same Service in
// routes with the same key (several rules sending to one Service).
func indexBackendMetrics(idx map[*ir.Route]*routeMetrics) {
	byKey := map[routeBackendKey]*backendMetrics{}
	for r, rm := range idx {
		if r.Action == nil {
			continue
		}
		for _, b := range r.Action.Backends {
			if rm.backends.get(b) != nil {
				continue
			}
			k := routeBackendKey{route: rm.key, namespace: b.Namespace, name: b.Name}
			bm := byKey[k]
			if bm == nil {
				bm = newBackendMetrics(k)
				byKey[k] = bm
			}
			rm.backends.put(b, bm)
		}
	}
}
