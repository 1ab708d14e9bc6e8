package memlimit

import (
	"testing"
	"time"
)

func TestQuietReleaseWaitsForTheBurstToEnd(t *testing.T) {
	var alloc uint64
	clock := time.Unix(0, 0)
	q := &QuietRelease{Burst: 64, Quiet: 4, Tick: time.Second, Interval: time.Minute,
		allocated: func() uint64 { return alloc }, now: func() time.Time { return clock }}
	step := func(allocated uint64, d time.Duration) bool {
		alloc += allocated
		clock = clock.Add(d)
		_, ok := q.tick()
		return ok
	}
	for i, c := range []struct {
		alloc uint64
		after time.Duration
		want  bool
		why   string
	}{
		{30, time.Second, false, "a small allocation is no burst"},
		{40, time.Second, false, "70 allocated, but 40 in this tick: the burst goes on"},
		{2, time.Second, true, "72 allocated since the start, quiet now: release"},
		{0, time.Second, false, "nothing allocated since the release"},
		{100, time.Second, false, "a new burst under way"},
		{0, time.Second, false, "quiet again, but the last release is 2 s old"},
		{0, time.Minute, true, "a minute later: release"},
		{3, time.Second, false, "3 since the release: no burst"},
	} {
		if got := step(c.alloc, c.after); got != c.want {
			t.Errorf("step %d (%s): release %v, want %v", i, c.why, got, c.want)
		}
	}
}
