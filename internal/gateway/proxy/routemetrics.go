package proxy

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// routeMetrics caches one route's request counter and latency histogram
// per status class. WithLabelValues hashes the label values and takes a
// lock on every call; a request only needs an atomic load once the series
// exists. Series are still created on first use, exactly as before, so
// /metrics lists the same series.
type routeMetrics struct {
	label   string
	classes [6]atomic.Pointer[classSeries] // index: status / 100
}

type classSeries struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

func newRouteMetrics(label string) *routeMetrics { return &routeMetrics{label: label} }

// observe counts one request with status and duration seconds.
func (rm *routeMetrics) observe(m *Metrics, status int, seconds float64) {
	c := status / 100
	if c < 1 || c > 5 {
		// Out-of-range codes are rare: no cache slot, the slow path.
		class := codeClass(status)
		m.requests.WithLabelValues(rm.label, class).Inc()
		m.latency.WithLabelValues(rm.label, class).Observe(seconds)
		return
	}
	s := rm.classes[c].Load()
	if s == nil {
		class := codeClasses[c]
		s = &classSeries{requests: m.requests.WithLabelValues(rm.label, class), latency: m.latency.WithLabelValues(rm.label, class)}
		// Racing requests store equal series: the vectors return the same
		// child for the same labels.
		rm.classes[c].Store(s)
	}
	s.requests.Inc()
	s.latency.Observe(seconds)
}

// indexRouteMetrics gives every route of t its cached series, shared by
// routes with the same label (one object attached to several listeners).
func indexRouteMetrics(t *ir.Table) map[*ir.Route]*routeMetrics {
	byLabel := map[string]*routeMetrics{}
	out := map[*ir.Route]*routeMetrics{}
	for _, l := range t.Listeners {
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				label := routeLabel(r)
				rm := byLabel[label]
				if rm == nil {
					rm = newRouteMetrics(label)
					byLabel[label] = rm
				}
				out[r] = rm
			}
		}
	}
	return out
}
