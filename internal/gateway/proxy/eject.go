package proxy

import (
	"sync"
	"time"
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
