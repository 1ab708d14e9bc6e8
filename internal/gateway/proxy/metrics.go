package proxy

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the gateway's Prometheus series. Labels are bounded: route is
// the namespace/name of a configured route (or "none"), code is a class
// such as "2xx", kind is one of a fixed set.
type Metrics struct {
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	upstreamErrs  *prometheus.CounterVec
	generation    prometheus.Gauge
	applyDuration prometheus.Histogram
}

// NewMetrics registers the series with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pylon_gateway_requests_total", Help: "Requests handled, by route and status class.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pylon_gateway_request_duration_seconds", Help: "Time to the end of the response, by route and status class.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "code"}),
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

var codeClasses = [...]string{"1xx", "1xx", "2xx", "3xx", "4xx", "5xx"}

func codeClass(code int) string {
	if c := code / 100; c >= 1 && c <= 5 {
		return codeClasses[c]
	}
	return strconv.Itoa(code)
}
