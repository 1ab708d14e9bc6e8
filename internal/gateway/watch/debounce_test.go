package watch

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// A lone trigger after a quiet period runs at once; a burst right after a
// run is coalesced into one trailing run.
func TestDebouncerLeadingEdgeAndCoalescing(t *testing.T) {
	const quiet = 100 * time.Millisecond
	d := newDebouncer(quiet, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runs := make(chan time.Time, 100)
	var n atomic.Int32
	go d.loop(ctx, func(time.Time) { n.Add(1); runs <- time.Now() })

	// Just after the loop starts (the initial build): debounced.
	start := time.Now()
	d.trigger()
	if at := <-runs; at.Sub(start) < quiet/2 {
		t.Fatalf("trigger right after a run ran after %s, want about %s", at.Sub(start), quiet)
	}

	// Idle for longer than quiet: the next trigger runs at once.
	time.Sleep(2 * quiet)
	start = time.Now()
	d.trigger()
	if at := <-runs; at.Sub(start) > quiet/2 {
		t.Fatalf("lone trigger after idle ran after %s, want at once", at.Sub(start))
	}

	// A burst right after that run: one trailing run for all of it.
	before := n.Load()
	for range 50 {
		d.trigger()
		time.Sleep(time.Millisecond)
	}
	time.Sleep(3 * quiet)
	if got := n.Load() - before; got != 1 {
		t.Fatalf("burst of 50 triggers made %d runs, want 1", got)
	}
}
