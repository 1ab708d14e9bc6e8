package watch

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// A lone trigger after a quiet period runs at once; a burst right after a
// run is coalesced into one trailing run; a burst that never pauses still
// runs by maxDelay. The test runs in a synctest bubble: time is the
// bubble's fake clock, which moves only when every goroutine in it is
// blocked, so the timings are exact however loaded the machine is.
func TestDebouncerLeadingEdgeAndCoalescing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const quiet, maxDelay = 100 * time.Millisecond, time.Second
		d := newDebouncer(quiet, maxDelay)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var (
			mu  sync.Mutex
			log []time.Time
		)
		go d.loop(ctx, func(time.Time) { mu.Lock(); log = append(log, time.Now()); mu.Unlock() })
		// runs is what ran so far, once every goroutine of the bubble is
		// blocked (the loop waits for its next trigger or timer).
		runs := func() []time.Time { synctest.Wait(); mu.Lock(); defer mu.Unlock(); return slices.Clone(log) }

		// Just after the loop starts (the initial build): debounced by quiet.
		start := time.Now()
		d.trigger()
		time.Sleep(quiet - time.Millisecond)
		if len(runs()) != 0 {
			t.Fatalf("trigger right after a run ran after %s, want after %s", runs()[0].Sub(start), quiet)
		}
		time.Sleep(time.Millisecond)
		if len(runs()) != 1 || runs()[0].Sub(start) != quiet {
			t.Fatalf("runs %v after a trigger at %v, want one at +%s", runs(), start, quiet)
		}

		// Idle for longer than quiet: the next trigger runs at once.
		time.Sleep(2 * quiet)
		start = time.Now()
		d.trigger()
		if len(runs()) != 2 || !runs()[1].Equal(start) {
			t.Fatalf("lone trigger after idle: runs %v, want the second at once (%v)", runs(), start)
		}

		// A burst right after that run (50 triggers 1 ms apart): one
		// trailing run, quiet after the last trigger.
		var last time.Time
		for range 50 {
			d.trigger()
			last = time.Now()
			time.Sleep(time.Millisecond)
		}
		time.Sleep(3 * quiet)
		if len(runs()) != 3 || runs()[2].Sub(last) != quiet {
			t.Fatalf("burst of 50 triggers: runs %v, want one more at %v", runs(), last.Add(quiet))
		}

		// A burst that never pauses for quiet: runs by maxDelay after its
		// first trigger, not never.
		time.Sleep(2 * quiet)
		before := len(runs())
		d.trigger() // leading edge: runs at once
		if n := len(runs()); n != before+1 {
			t.Fatalf("trigger after idle: %d runs, want 1", n-before)
		}
		first := time.Now()
		d.trigger()
		for time.Since(first) < 3*maxDelay {
			time.Sleep(quiet / 2)
			d.trigger()
		}
		got := runs()[before:]
		if len(got) < 3 || got[1].Sub(first) != maxDelay {
			t.Fatalf("unbroken burst: runs %v, want a leading run then one every %s (first trailing at %v)", got, maxDelay, first.Add(maxDelay))
		}
	})
}
