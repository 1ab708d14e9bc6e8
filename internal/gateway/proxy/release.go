package proxy

import (
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/pylon-dev/pylon/internal/memlimit"
)

// A large table build (translation, finalization, the proxy's index of the
// table) allocates several times the table it produces: at 10,000 routes
// the gateway benchmark has allocated ~90 MiB by the first publish, for a
// heap of ~26 MiB after it. The garbage collector frees that memory but
// the runtime keeps the pages and returns them only gradually (its
// background scavenger works towards ~10% above the heap goal and only
// runs as collections happen), so an idle gateway's RSS can stay at the
// build's peak: 114 MiB against 64 MiB after a release, at 10,000 routes.
// After a publish that followed a lot of allocation the proxy therefore
// returns the free memory at once, at most once per releaseInterval.
//
// Cost: debug.FreeOSMemory runs one full garbage collection, blocking
// for its own goroutine only (requests keep being served, with the usual
// short stop-the-world pauses), then returns every free page (madvise).
// Measured on the benchmark machine: 25 ms at 10,000 routes, 43 ms at
// 20,000, mostly the marking of the live heap. Pages the heap needs again
// later cost a page fault each. It never runs on the publish path. Under
// traffic the requests' own allocations count towards the threshold too,
// so a busy gateway releases after a publish at most once per
// releaseInterval: under 0.1% of a CPU.
const (
	// releaseAfterAlloc is how much must have been allocated since the
	// previous publish (the build of this table, and whatever else ran)
	// for a release to be worth its collection: a table of a few
	// thousand routes or more.
	releaseAfterAlloc = 64 << 20
	// releaseInterval is the least time between two releases.
	releaseInterval = time.Minute
)

// memoryRelease decides after each publish whether to return free memory
// to the system. Publish calls afterPublish under its lock.
type memoryRelease struct {
	threshold uint64
	interval  time.Duration
	now       func() time.Time
	allocated func() uint64 // bytes allocated by the process so far
	release   func()

	lastAlloc uint64
	last      time.Time // of the last release; zero: none yet
	running   atomic.Bool
}

func newMemoryRelease() *memoryRelease {
	return &memoryRelease{
		threshold: releaseAfterAlloc,
		interval:  releaseInterval,
		now:       time.Now,
		allocated: memlimit.HeapAllocated,
		release:   debug.FreeOSMemory,
	}
}

// afterPublish starts a release on its own goroutine when at least
// threshold bytes were allocated since the previous publish, the last
// release is at least interval ago, and none is running. The returned
// channel is closed when the release is done; nil means none was started.
func (m *memoryRelease) afterPublish() <-chan struct{} {
	total := m.allocated()
	since := total - m.lastAlloc
	m.lastAlloc = total
	if since < m.threshold {
		return nil
	}
	now := m.now()
	if !m.last.IsZero() && now.Sub(m.last) < m.interval {
		return nil
	}
	if !m.running.CompareAndSwap(false, true) {
		return nil
	}
	m.last = now
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer m.running.Store(false)
		start := time.Now()
		m.release()
		slog.Debug("returned free memory to the system after a large table build",
			"allocated_mib", since>>20, "duration", time.Since(start))
	}()
	return done
}
