package proxy

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pylon-dev/pylon/internal/contract"
)

// Metrics are the gateway's Prometheus series. Labels are bounded: a route
// is the kind, namespace and name of a configured route (all empty for
// requests no route answered), code is a status class such as "2xx", kind
// is from a fixed set.
type Metrics struct {
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	upstreamErrs  *prometheus.CounterVec
	generation    prometheus.Gauge
	applyDuration prometheus.Histogram
}

var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Label names come from the contract: the manager reads these series.
const (
	lKind, lNamespace, lRoute = contract.LabelRouteKind, contract.LabelRouteNamespace, contract.LabelRouteName
	lCode                     = contract.LabelCode
)

var routeCodeLabels = []string{lKind, lNamespace, lRoute, lCode}

// NewMetrics registers the series with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pylon_gateway_requests_total",
			Help: "Requests handled, by route (kind, namespace and name of the HTTPRoute or Ingress) and status class. " +
				"Requests no route answered (404, or refused before routing) have empty kind, namespace and route.",
		}, routeCodeLabels),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pylon_gateway_request_duration_seconds",
			Help:    "Time to the end of the response, by route and status class (labels as pylon_gateway_requests_total).",
			Buckets: latencyBuckets,
		}, routeCodeLabels),
		upstreamErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pylon_gateway_upstream_errors_total", Help: "Failed backend attempts, by kind (connect, timeout, protocol, no_endpoints).",
		}, []string{"kind"}),
		generation: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pylon_gateway_table_generation", Help: "Generation of the routing table being served.",
		}),
		applyDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "pylon_gateway_config_apply_duration_seconds", Help: "Time from the first change event to the new table being served.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.latency, m.upstreamErrs, m.generation, m.applyDuration)
	}
	return m
}

// ObserveApply records how long a configuration change took to be served.
func (m *Metrics) ObserveApply(seconds float64) { m.applyDuration.Observe(seconds) }

// classLabels are the status class label values, indexed by status / 100.
// net/http only lets codes 100..999 through, so nine classes cover every
// response and the label stays bounded; 6xx..9xx are non-standard codes a
// backend sent.
var classLabels = [...]string{"", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "7xx", "8xx", "9xx"}

// statusClass is the index of status in classLabels, clamped so that no
// code can index out of range.
func statusClass(status int) int {
	return min(max(status/100, 1), len(classLabels)-1)
}
