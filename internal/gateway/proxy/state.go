package proxy

import (
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// State is one published table with the balancing state that belongs to it.
// It is immutable apart from the counters inside, which are safe for
// concurrent use.
type State struct {
	Table      *ir.Table
	Generation int64

	actions  map[*ir.Action]*wrr
	backends map[*ir.Backend]*backendState
	metrics  map[*ir.Route]*routeMetrics
}

// backendState is what a request needs to reach one backend of this table.
type backendState struct {
	key       string
	transport http.RoundTripper
	next      atomic.Uint64 // round-robin position over the endpoints
}

// newState indexes every action and backend of t. Transports come from the
// long-lived pool, so connections survive the swap.
func newState(t *ir.Table, gen int64, pool *transportPool) *State {
	s := &State{Table: t, Generation: gen, actions: map[*ir.Action]*wrr{}, backends: map[*ir.Backend]*backendState{}, metrics: indexRouteMetrics(t)}
	for _, l := range t.Listeners {
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				a := r.Action
				if a == nil || s.actions[a] != nil {
					continue
				}
				s.actions[a] = newWRR(a.Backends)
				for _, b := range a.Backends {
					if _, ok := s.backends[b]; ok || b.Invalid {
						continue
					}
					key, tr := pool.get(b)
					s.backends[b] = &backendState{key: key, transport: tr}
				}
			}
		}
	}
	return s
}

// usedTransportKeys lists the pool keys this state refers to.
func (s *State) usedTransportKeys() map[string]bool {
	keys := make(map[string]bool, len(s.backends))
	for _, b := range s.backends {
		keys[b.key] = true
	}
	return keys
}

// wrr is smooth weighted round robin (as in nginx): over any window of
// TotalWeight picks each backend is chosen exactly Weight times, and picks
// are spread out rather than bunched.
type wrr struct {
	mu       sync.Mutex
	backends []*ir.Backend
	current  []int64
	total    int64
}

func newWRR(bs []*ir.Backend) *wrr {
	w := &wrr{backends: bs, current: make([]int64, len(bs))}
	for _, b := range bs {
		w.total += int64(b.Weight)
	}
	return w
}

// pick returns the next backend, or nil when all weights are zero.
func (w *wrr) pick() *ir.Backend {
	if len(w.backends) == 1 {
		if w.total > 0 {
			return w.backends[0]
		}
		return nil
	}
	if w.total == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	best := -1
	for i, b := range w.backends {
		w.current[i] += int64(b.Weight)
		if best < 0 || w.current[i] > w.current[best] {
			best = i
		}
	}
	w.current[best] -= w.total
	return w.backends[best]
}
