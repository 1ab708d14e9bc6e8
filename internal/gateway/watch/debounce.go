package watch

import (
	"context"
	"time"
)

// debouncer coalesces triggers. A trigger after at least quiet without a
// run starts a run at once (leading edge): a lone change, the common case,
// is served without waiting out the quiet period. Triggers that follow
// within quiet of a run are coalesced as before: run fires quiet after the
// last of them, or maxDelay after the first, whichever is earlier. So a
// burst costs at most one leading and one trailing rebuild per quiet
// period, never one per event. The time of the first pending trigger is
// passed to run so apply latency can be measured.
type debouncer struct {
	quiet, maxDelay time.Duration
	kick            chan struct{}
}

func newDebouncer(quiet, maxDelay time.Duration) *debouncer {
	return &debouncer{quiet: quiet, maxDelay: maxDelay, kick: make(chan struct{}, 1)}
}

// trigger never blocks: a pending kick already covers this event.
func (d *debouncer) trigger() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// loop runs until ctx ends. The caller has just run (the initial build),
// so the first trigger is debounced.
func (d *debouncer) loop(ctx context.Context, run func(first time.Time)) {
	var (
		timer    *time.Timer
		timerC   <-chan time.Time
		first    time.Time
		deadline time.Time
		lastRun  = time.Now()
	)
	fire := func() {
		f := first
		first = time.Time{}
		run(f)
		lastRun = time.Now()
	}
	for {
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case <-d.kick:
			now := time.Now()
			if first.IsZero() {
				first, deadline = now, now.Add(d.maxDelay)
				if now.Sub(lastRun) >= d.quiet {
					fire()
					continue
				}
			}
			wait := min(d.quiet, max(time.Until(deadline), 0))
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			timerC = timer.C
		case <-timerC:
			timerC = nil
			fire()
		}
	}
}
