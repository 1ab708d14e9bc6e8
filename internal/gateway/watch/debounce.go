package watch

import (
	"context"
	"time"
)

// debouncer coalesces triggers: run fires quiet after the last trigger, or
// maxDelay after the first pending one, whichever is earlier. The time of
// the first pending trigger is passed to run so apply latency can be
// measured.
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

func (d *debouncer) loop(ctx context.Context, run func(first time.Time)) {
	var (
		timer    *time.Timer
		timerC   <-chan time.Time
		first    time.Time
		deadline time.Time
	)
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
			f := first
			first = time.Time{}
			run(f)
		}
	}
}
