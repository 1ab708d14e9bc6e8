package traffic

import (
	"math"
	"slices"
	"time"
)

// Counts are cumulative counters of one backend Service as one replica (or
// Prometheus) reported them.
type Counts struct {
	// Requests answered, and Errors among them (5xx, the gateway's own
	// 502/503/504 included).
	Requests, Errors float64
	// GatewayErrors are the Errors the gateway answered itself (origin
	// gateway: no ready endpoint, connect failure, timeout) rather than
	// the backend.
	GatewayErrors float64
	// Buckets are the cumulative latency histogram: upper bound in seconds
	// to the number of requests at most that slow.
	Buckets map[float64]float64
}

// add adds o into c.
func (c *Counts) add(o Counts) {
	c.Requests += o.Requests
	c.Errors += o.Errors
	c.GatewayErrors += o.GatewayErrors
	if len(o.Buckets) > 0 && c.Buckets == nil {
		c.Buckets = map[float64]float64{}
	}
	for le, n := range o.Buckets {
		c.Buckets[le] += n
	}
}

// since is c minus an earlier reading base of the same counters. A counter
// that went down was reset (the replica restarted): everything it counts
// now came after the reset, so base counts as zero.
func (c Counts) since(base Counts) Counts {
	if c.Requests < base.Requests || c.Errors < base.Errors || c.GatewayErrors < base.GatewayErrors {
		base = Counts{}
	}
	d := Counts{Requests: c.Requests - base.Requests, Errors: c.Errors - base.Errors, GatewayErrors: c.GatewayErrors - base.GatewayErrors}
	if len(c.Buckets) > 0 {
		d.Buckets = make(map[float64]float64, len(c.Buckets))
		for le, n := range c.Buckets {
			d.Buckets[le] = max(n-base.Buckets[le], 0)
		}
	}
	return d
}

// Reading is what a source reported at one time: replica → backend
// Service name → counters.
type Reading struct {
	At       time.Time
	Replicas map[string]map[string]Counts
}

// Track is one track's figures over a window.
type Track struct {
	Requests, Errors int64
	// GatewayErrors are the Errors the gateway answered itself.
	GatewayErrors int64
	// P99 is the 99th percentile latency; zero without requests.
	P99 time.Duration
}

// ErrorRate is Errors/Requests in percent, 0 without requests.
func (t Track) ErrorRate() float64 {
	if t.Requests == 0 {
		return 0
	}
	return float64(t.Errors) * 100 / float64(t.Requests)
}

// Window is what each backend served between Start and End.
type Window struct {
	Start, End time.Time
	// Backends maps backend Service name to its figures.
	Backends map[string]Track
}

// between is the window from base to cur for the named backends.
func between(base, cur Reading, backends []string) Window {
	w := Window{Start: base.At, End: cur.At, Backends: make(map[string]Track, len(backends))}
	for _, b := range backends {
		var sum Counts
		for replica, byBackend := range cur.Replicas {
			c, ok := byBackend[b]
			if !ok {
				continue
			}
			// A replica that was not there at the start counts from zero.
			sum.add(c.since(base.Replicas[replica][b]))
		}
		w.Backends[b] = Track{Requests: int64(sum.Requests), Errors: int64(sum.Errors), GatewayErrors: int64(sum.GatewayErrors), P99: quantile(0.99, sum.Buckets)}
	}
	return w
}

// quantile estimates the q-quantile from cumulative buckets the way
// Prometheus' histogram_quantile does: linear interpolation inside the
// bucket that holds the rank, the lower bound of the first bucket being 0.
// A rank in the +Inf bucket answers the highest finite bound.
func quantile(q float64, buckets map[float64]float64) time.Duration {
	if len(buckets) == 0 {
		return 0
	}
	bounds := make([]float64, 0, len(buckets))
	for le := range buckets {
		bounds = append(bounds, le)
	}
	slices.Sort(bounds)
	total := buckets[bounds[len(bounds)-1]]
	if total <= 0 {
		return 0
	}
	rank := q * total
	prevBound, prevCount := 0.0, 0.0
	for _, le := range bounds {
		n := buckets[le]
		if n >= rank {
			if math.IsInf(le, 1) {
				return seconds(prevBound)
			}
			if n == prevCount {
				return seconds(le)
			}
			return seconds(prevBound + (le-prevBound)*(rank-prevCount)/(n-prevCount))
		}
		prevBound, prevCount = le, n
	}
	return seconds(prevBound)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
