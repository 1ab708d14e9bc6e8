package traffic

import (
	"fmt"
	"io"
	"math"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pylon-dev/pylon/internal/contract"
)

// maxScrapeBytes bounds what is read from one replica's /metrics.
const maxScrapeBytes = 64 << 20

// parseGatewayMetrics reads the per-backend series from one gateway
// replica's /metrics (Prometheus text format) into counters per backend
// Service ("namespace/name"). Only requests of routes in the backend's own
// namespace count: a route elsewhere cannot name the Service without a
// ReferenceGrant, and such traffic is not the WebApp's.
func parseGatewayMetrics(r io.Reader) (map[string]Counts, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(io.LimitReader(r, maxScrapeBytes))
	if err != nil {
		return nil, fmt.Errorf("parse gateway metrics: %w", err)
	}
	out := map[string]Counts{}
	if f := families[contract.MetricBackendRequests]; f != nil {
		for _, m := range f.GetMetric() {
			key, ok := backendKey(m)
			if !ok || m.GetCounter() == nil {
				continue
			}
			c := out[key]
			v := m.GetCounter().GetValue()
			c.Requests += v
			if label(m, contract.LabelCode) == "5xx" {
				c.Errors += v
				if label(m, contract.LabelOrigin) == contract.OriginGateway {
					c.GatewayErrors += v
				}
			}
			out[key] = c
		}
	}
	if f := families[contract.MetricBackendDuration]; f != nil {
		for _, m := range f.GetMetric() {
			key, ok := backendKey(m)
			h := m.GetHistogram()
			if !ok || h == nil {
				continue
			}
			c := out[key]
			if c.Buckets == nil {
				c.Buckets = map[float64]float64{}
			}
			inf := false
			for _, b := range h.GetBucket() {
				c.Buckets[b.GetUpperBound()] += float64(b.GetCumulativeCount())
				inf = inf || math.IsInf(b.GetUpperBound(), 1)
			}
			if !inf { // the +Inf bucket is the sample count
				c.Buckets[math.Inf(1)] += float64(h.GetSampleCount())
			}
			out[key] = c
		}
	}
	return out, nil
}

func backendKey(m *dto.Metric) (string, bool) {
	ns := label(m, contract.LabelBackendNamespace)
	name := label(m, contract.LabelBackendName)
	if ns == "" || name == "" || label(m, contract.LabelRouteNamespace) != ns {
		return "", false
	}
	return ns + "/" + name, true
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
