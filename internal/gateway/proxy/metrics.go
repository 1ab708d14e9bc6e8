package proxy

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pylon-dev/pylon/internal/contract"
)

// Metrics are the gateway's Prometheus series. Labels are bounded: a route
// is the kind, namespace and name of a configured route (all empty for
// requests no route answered), a backend is the namespace and name of one
// of its Services, code is a status class such as "2xx", kind and origin
// are from fixed sets. Series of routes and backends that leave the table
// are deleted when it is published (series.go).
type Metrics struct {
	requests        *prometheus.CounterVec
	latency         *prometheus.HistogramVec
	backendRequests *prometheus.CounterVec
	backendLatency  *prometheus.HistogramVec
	upstreamErrs    *prometheus.CounterVec
	generation      prometheus.Gauge
	applyDuration   prometheus.Histogram

	live liveSeries
}

var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Label names come from the contract: the manager reads these series.
const (
	lKind, lNamespace, lName = contract.LabelRouteKind, contract.LabelRouteNamespace, contract.LabelRouteName
	lBackendNS, lBackend     = contract.LabelBackendNamespace, contract.LabelBackendName
	lCode, lOrigin           = contract.LabelCode, contract.LabelOrigin
)

var (
	routeCodeLabels   = []string{lKind, lNamespace, lName, lCode}
	backendLabels     = []string{lKind, lNamespace, lName, lBackendNS, lBackend}
	backendCodeLabels = []string{lKind, lNamespace, lName, lBackendNS, lBackend, lCode, lOrigin}
)

// NewMetrics registers the series with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pylon_gateway_requests_total",
			Help: "Requests handled, by route (kind, namespace and name of the HTTPRoute or Ingress) and status class. " +
				"Requests no route answered (404, or refused before routing) have empty kind, namespace and name.",
		}, routeCodeLabels),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pylon_gateway_request_duration_seconds",
			Help:    "Time to the end of the response, by route and status class (labels as pylon_gateway_requests_total).",
			Buckets: latencyBuckets,
		}, routeCodeLabels),
		backendRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: contract.MetricBackendRequests,
			Help: "Requests a route gave to one of its backends (Service namespace and name), by status class and origin: " +
				"backend when the backend answered; gateway when the gateway answered for it " +
				"(500 invalid backend, 502 connect or protocol failure, 503 no ready endpoint, 504 timeout, 499 client gone first).",
		}, backendCodeLabels),
		backendLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    contract.MetricBackendDuration,
			Help:    "Time to the end of the response of requests a route gave to one of its backends, whoever answered.",
			Buckets: latencyBuckets,
		}, backendLabels),
		upstreamErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			// "reason", not "kind": kind is the route kind on every route series.
			Name: "pylon_gateway_upstream_errors_total", Help: "Backend failures by reason: connect counts each failed connection (also when another endpoint then answered); timeout, protocol and no_endpoints count requests.",
		}, []string{"reason"}),
		generation: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pylon_gateway_table_generation", Help: "Generation of the routing table being served.",
		}),
		applyDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "pylon_gateway_config_apply_duration_seconds", Help: "Time from the first change event to the new table being served.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.latency, m.backendRequests, m.backendLatency, m.upstreamErrs, m.generation, m.applyDuration)
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
