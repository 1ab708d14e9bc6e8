package main

import (
	"fmt"
	"math"

	dto "github.com/prometheus/client_model/go"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// reconcileStats reads controller-runtime's reconcile histogram and counter
// for one controller from its global registry.
type reconcileStats struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50Seconds"`
	P99   float64 `json:"p99Seconds"`
}

type histogram struct {
	bounds []float64
	counts []uint64 // cumulative per bound
	total  uint64
}

func readReconcile(controller string) (reconcileStats, error) {
	mfs, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		return reconcileStats{}, fmt.Errorf("gather metrics: %w", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "controller_runtime_reconcile_time_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label(m, "controller") != controller {
				continue
			}
			h := histogram{total: m.GetHistogram().GetSampleCount()}
			for _, b := range m.GetHistogram().GetBucket() {
				h.bounds = append(h.bounds, b.GetUpperBound())
				h.counts = append(h.counts, b.GetCumulativeCount())
			}
			return reconcileStats{Count: h.total, P50: h.quantile(0.5), P99: h.quantile(0.99)}, nil
		}
	}
	return reconcileStats{}, nil
}

// quantile interpolates linearly inside the bucket, as PromQL's
// histogram_quantile does.
func (h histogram) quantile(q float64) float64 {
	if h.total == 0 {
		return math.NaN()
	}
	rank := q * float64(h.total)
	lower, below := 0.0, uint64(0)
	for i, c := range h.counts {
		if float64(c) >= rank {
			if c == below {
				return h.bounds[i]
			}
			return lower + (h.bounds[i]-lower)*(rank-float64(below))/float64(c-below)
		}
		lower, below = h.bounds[i], c
	}
	return math.Inf(1) // in the +Inf bucket: beyond the largest bound
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// reconcileTotal is how many reconciles the webapp controller finished.
func reconcileTotal() (float64, error) {
	const controller = "webapp"
	mfs, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		return 0, fmt.Errorf("gather metrics: %w", err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label(m, "controller") == controller {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n, nil
}
