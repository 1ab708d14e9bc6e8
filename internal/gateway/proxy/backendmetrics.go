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
	key      routeBackendKey
	requests [len(classLabels)][len(origins)]atomic.Pointer[counterSeries]
	latency  atomic.Pointer[observerSeries]
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
	req := bm.requests[c][o].Load()
	if req == nil {
		if req = m.backendCounter(bm.key, c, o); req == nil {
			return // the backend left the route while this request ran
		}
		bm.requests[c][o].Store(req)
	}
	lat := bm.latency.Load()
	if lat == nil {
		if lat = m.backendObserver(bm.key); lat == nil {
			return
		}
		bm.latency.Store(lat)
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
			if rm.backends[b] != nil {
				continue
			}
			k := routeBackendKey{route: rm.key, namespace: b.Namespace, name: b.Name}
			bm := byKey[k]
			if bm == nil {
				bm = newBackendMetrics(k)
				byKey[k] = bm
			}
			if rm.backends == nil {
				rm.backends = map[*ir.Backend]*backendMetrics{}
			}
			rm.backends[b] = bm
		}
	}
}
