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

// pickEndpoint chooses the next endpoint of b round-robin, skipping
// addresses in avoid (already tried by this request).
func (p *Proxy) pickEndpoint(b *ir.Backend, bs *backendState, avoid string) (string, bool) {
	n := uint64(len(b.Endpoints))
	if n == 0 {
		return "", false
	}
	start := bs.next.Add(1)
	for _, pass := range endpointPasses {
		for i := range n {
			e := b.Endpoints[(start+i)%n]
			if !pass.ok(e) {
				continue
			}
			addr := endpointAddr(e)
			if addr == avoid || (pass.skipEjected && p.ejector.ejected(addr)) {
				continue
			}
			return addr, true
		}
	}
	return "", false
}

func endpointAddr(e ir.Endpoint) string {
	return net.JoinHostPort(e.Address, strconv.Itoa(int(e.Port)))
}
