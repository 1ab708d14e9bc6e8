package memlimit

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// QuietRelease returns the heap's free memory to the system when the
// process goes quiet after a burst of allocation. A burst (a manager's
// first sync of thousands of objects, or thousands of WebApps applied at
// once) leaves the heap's peak in place: the collector frees the objects
// but the runtime keeps the pages and returns them only gradually, so a
// manager idle after converging 5,000 WebApps kept ~15 MiB of free pages
// in its RSS (bench/controller). Once at least Burst bytes were allocated
// since the last release and the last tick allocated at most Quiet bytes,
// it calls debug.FreeOSMemory: one full collection on its own goroutine,
// then every free page returned. At most once per Interval.
//
// It is a manager.Runnable that runs on every replica.
type QuietRelease struct {
	// Burst is how much must have been allocated since the last release.
	Burst uint64
	// Quiet is the most a tick may allocate for the burst to be over.
	Quiet uint64
	// Tick is how often allocation is read; Interval the least time
	// between two releases.
	Tick, Interval time.Duration

	allocated func() uint64
	release   func()
	now       func() time.Time

	lastAlloc, prevTick uint64
	last                time.Time
}

// NewQuietRelease returns a QuietRelease with the manager's thresholds:
// 64 MiB of burst, quiet below 4 MiB per 10 s tick, one release a minute
// at most.
func NewQuietRelease() *QuietRelease {
	return &QuietRelease{Burst: 64 << 20, Quiet: 4 << 20, Tick: 10 * time.Second, Interval: time.Minute,
		allocated: HeapAllocated, release: debug.FreeOSMemory, now: time.Now}
}

// Start ticks until ctx ends.
func (q *QuietRelease) Start(ctx context.Context) error {
	q.prevTick = q.allocated()
	t := time.NewTicker(q.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if since, ok := q.tick(); ok {
				start := time.Now()
				q.release()
				slog.Debug("returned free memory to the system after a burst", "allocated_mib", since>>20, "duration", time.Since(start))
			}
		}
	}
}

// NeedLeaderElection is false: every replica has its own heap.
func (q *QuietRelease) NeedLeaderElection() bool { return false }

// tick reports whether to release now, and how much was allocated since
// the last release.
func (q *QuietRelease) tick() (uint64, bool) {
	total := q.allocated()
	during := total - q.prevTick
	q.prevTick = total
	since := total - q.lastAlloc
	now := q.now()
	if since < q.Burst || during > q.Quiet || (!q.last.IsZero() && now.Sub(q.last) < q.Interval) {
		return since, false
	}
	q.lastAlloc, q.last = total, now
	return since, true
}

// HeapAllocated is the cumulative count of bytes allocated on the heap
// (runtime/metrics reads it without stopping the world, unlike
// runtime.ReadMemStats). The gateway's release after a table build
// reads it too.
func HeapAllocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
