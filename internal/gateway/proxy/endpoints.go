package proxy

import (
	"net"
	"strconv"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// endpointPasses are the preferences for choosing an endpoint, best first:
// ready endpoints, then serving endpoints that are not terminating (so a
// rollout that only has terminating-but-serving pods still answers), and,
// when every candidate is ejected, the same again ignoring ejection rather
// than failing outright.
var endpointPasses = [...]struct {
	ok          func(ir.Endpoint) bool
	skipEjected bool
}{
	{func(e ir.Endpoint) bool { return e.Ready }, true},
	{func(e ir.Endpoint) bool { return e.Serving && !e.Terminating }, true},
	{func(e ir.Endpoint) bool { return e.Ready }, false},
	{func(e ir.Endpoint) bool { return e.Serving && !e.Terminating }, false},
}

// hasEndpoints reports whether any endpoint of b may receive traffic.
func hasEndpoints(b *ir.Backend) bool {
	for _, e := range b.Endpoints {
		if e.Ready || (e.Serving && !e.Terminating) {
			return true
		}
	}
	return false
}

// pickEndpoint chooses the next endpoint of b round-robin among the
// endpoints of the best pass that has any, skipping addresses in avoid
// (already tried by this request). The rotation counts eligible endpoints
// only: stepping over the whole list and skipping ineligible ones would give
// the endpoint after a not-ready one that one's turns as well.
func (p *Proxy) pickEndpoint(b *ir.Backend, bs *backendState, avoid string) (string, bool) {
	if len(b.Endpoints) == 0 {
		return "", false
	}
	turn := bs.rr.turn()
	var buf [16]int // no allocation for typical backends
	for _, pass := range endpointPasses {
		// Addresses are only formatted when something is to be avoided:
		// the common request formats one, the chosen endpoint's.
		checkAddr := avoid != "" || (pass.skipEjected && p.ejector.active())
		eligible := buf[:0]
		for i, e := range b.Endpoints {
			if !pass.ok(e) {
				continue
			}
			if checkAddr {
				addr := bs.addr(b, i)
				if addr == avoid || (pass.skipEjected && p.ejector.ejected(addr)) {
					continue
				}
			}
			eligible = append(eligible, i)
		}
		if len(eligible) > 0 {
			return bs.addr(b, eligible[turn%uint64(len(eligible))]), true
		}
	}
	return "", false
}

// addr is the dial address of b's endpoint i.
func (bs *backendState) addr(b *ir.Backend, i int) string {
	if bs != nil && i < len(bs.addrs) {
		return bs.addrs[i]
	}
	return endpointAddr(b.Endpoints[i])
}

// endpointAddrs formats the dial addresses of b's endpoints.
func endpointAddrs(b *ir.Backend) []string {
	if len(b.Endpoints) == 0 {
		return nil
	}
	addrs := make([]string, len(b.Endpoints))
	for i, e := range b.Endpoints {
		addrs[i] = endpointAddr(e)
	}
	return addrs
}

func endpointAddr(e ir.Endpoint) string {
	return net.JoinHostPort(e.Address, strconv.Itoa(int(e.Port)))
}
