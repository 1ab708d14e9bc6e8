package proxy

import (
	"strconv"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// State is one published table with the balancing state that belongs to it.
// It is immutable apart from the counters inside, which are safe for
// concurrent use and shared with the states before and after it when the
// identity of what they balance did not change (see balance.go).
type State struct {
	Table      *ir.Table
	Generation int64

	actions  map[*ir.Action]*wrr
	backends map[*ir.Backend]*backendState
	metrics  map[*ir.Route]*routeMetrics

	// wrrs and rotations index the balancing state by identity, for the
	// next state to take over.
	wrrs      map[string]*wrr
	rotations map[string]*rotation
}

// backendState is what a request needs to reach one backend of this table.
type backendState struct {
	// transport is the backend's http.Transport (created on first use);
	// its key names the backend in the pool.
	transport *backendTransport
	// h1 is the lean HTTP/1.1 client (fastpath.go); nil for h2c backends.
	h1 *h1Pool
	rr *rotation
	// addrs are the dial addresses of the backend's endpoints, in order,
	// formatted once per table instead of once per request.
	addrs []string
}

// newState indexes every action and backend of t. Transports come from the
// long-lived pool, so connections survive the swap; weighted picks and
// endpoint rotation continue from prev (nil: none) for every action and
// backend whose identity is unchanged.
func newState(t *ir.Table, gen int64, pool *transportPool, prev *State) *State {
	s := &State{Table: t, Generation: gen, actions: map[*ir.Action]*wrr{}, backends: map[*ir.Backend]*backendState{}, metrics: indexRouteMetrics(t)}
	s.wrrs, s.rotations = map[string]*wrr{}, map[string]*rotation{}
	var prevWRRs map[string]*wrr
	var prevRotations map[string]*rotation
	if prev != nil {
		prevWRRs, prevRotations = prev.wrrs, prev.rotations
	}
	seen := map[string]int{} // action identities so far, for the ordinal
	for _, l := range t.Listeners {
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				a := r.Action
				if a == nil || s.actions[a] != nil {
					continue
				}
				base := actionIdentity(r, a)
				id := base + "#" + strconv.Itoa(seen[base])
				seen[base]++
				w := prevWRRs[id]
				if w == nil {
					w = newWRR(a.Backends)
				}
				s.actions[a], s.wrrs[id] = w, w
				for _, b := range a.Backends {
					if _, ok := s.backends[b]; ok || b.Invalid {
						continue
					}
					bt := pool.get(b)
					key := bt.key // the pool's copy: not one string per table
					rr := s.rotations[key]
					if rr == nil {
						rr = prevRotations[key]
					}
					if rr == nil {
						rr = &rotation{}
					}
					s.rotations[key] = rr
					s.backends[b] = &backendState{transport: bt, h1: bt.h1, rr: rr, addrs: endpointAddrs(b)}
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
		keys[b.transport.key] = true
	}
	return keys
}
