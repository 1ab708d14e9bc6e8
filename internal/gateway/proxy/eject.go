package proxy

import (
	"sync"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// ejector remembers endpoints that recently failed to connect. An ejected
// endpoint is skipped while others are available; its ejection time doubles
// with consecutive failures up to a bound, and one success clears it.
// It lives outside the table so that table swaps do not forget failures.
type ejector struct {
	base, max time.Duration
	now       func() time.Time

	mu      sync.RWMutex
	entries map[string]ejection
}

type ejection struct {
	until    time.Time
	failures int
}

func newEjector(base, maxDur time.Duration) *ejector {
	return &ejector{base: base, max: maxDur, now: time.Now, entries: map[string]ejection{}}
}

// ejected reports whether addr should be avoided now.
func (e *ejector) ejected(addr string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if len(e.entries) == 0 {
		return false
	}
	en, ok := e.entries[addr]
	return ok && e.now().Before(en.until)
}

// active reports whether any endpoint is remembered, ejected or recently
// so; when none is, callers need not look addresses up.
func (e *ejector) active() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.entries) > 0
}

// fail records a connect failure and returns how long addr is ejected.
func (e *ejector) fail(addr string) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	en := e.entries[addr]
	en.failures++
	d := e.base << min(en.failures-1, 10)
	if d > e.max || d <= 0 {
		d = e.max
	}
	en.until = e.now().Add(d)
	e.entries[addr] = en
	return d
}

// succeed clears addr; the read lock keeps the common path cheap.
func (e *ejector) succeed(addr string) {
	e.mu.RLock()
	_, ok := e.entries[addr]
	e.mu.RUnlock()
	if !ok {
		return
	}
	e.mu.Lock()
	delete(e.entries, addr)
	e.mu.Unlock()
}

// forgetMissing drops the addresses no endpoint of t has. A Pod that left
// the table takes its failures with it: a new Pod given the same address
// later (addresses are reused) starts clean instead of being skipped for up
// to the longest ejection while its neighbours take its share.
func (e *ejector) forgetMissing(t *ir.Table) {
	if !e.active() {
		return
	}
	present := map[string]bool{}
	for _, l := range t.Listeners {
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				if r.Action == nil {
					continue
				}
				for _, b := range r.Action.Backends {
					for _, ep := range b.Endpoints {
						present[endpointAddr(ep)] = true
					}
				}
			}
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for addr := range e.entries {
		if !present[addr] {
			delete(e.entries, addr)
		}
	}
}
