package proxy

import (
	"sync/atomic"
	"testing"
	"time"
)

// fakeRelease is a memoryRelease on a fake clock and allocation counter
// that counts its releases.
func fakeRelease() (m *memoryRelease, alloc *uint64, clock *time.Time, releases *atomic.Int32) {
	alloc, clock, releases = new(uint64), new(time.Time), new(atomic.Int32)
	*clock = time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	m = &memoryRelease{
		threshold: 64 << 20,
		interval:  time.Minute,
		now:       func() time.Time { return *clock },
		allocated: func() uint64 { return *alloc },
		release:   func() { releases.Add(1) },
	}
	return m, alloc, clock, releases
}

func TestMemoryReleaseOnlyAfterLargeBuildsAndRateLimited(t *testing.T) {
	m, alloc, clock, releases := fakeRelease()
	publish := func(allocated uint64, after time.Duration) bool {
		t.Helper()
		*alloc += allocated
		*clock = clock.Add(after)
		done := m.afterPublish()
		if done != nil {
			<-done
		}
		return done != nil
	}
	steps := []struct {
		name      string
		allocated uint64
		after     time.Duration
		want      bool
	}{
		{"small first build", 10 << 20, 0, false},
		{"large first build", 100 << 20, time.Second, true},
		{"large build 30s later: rate-limited", 100 << 20, 30 * time.Second, false},
		{"small build after the interval", 1 << 20, 31 * time.Second, false},
		{"large build after the interval", 64 << 20, time.Second, true},
		{"large build at once after", 200 << 20, 0, false},
		{"large build a minute after the last release", 64 << 20, time.Minute, true},
	}
	for _, s := range steps {
		if got := publish(s.allocated, s.after); got != s.want {
			t.Fatalf("%s: released %v, want %v", s.name, got, s.want)
		}
	}
	if n := releases.Load(); n != 3 {
		t.Fatalf("%d releases, want 3", n)
	}
}

func TestMemoryReleaseOneAtATime(t *testing.T) {
	m, alloc, clock, releases := fakeRelease()
	m.interval = 0
	unblock := make(chan struct{})
	m.release = func() { releases.Add(1); <-unblock }
	*alloc += 100 << 20
	first := m.afterPublish()
	if first == nil {
		t.Fatal("no release after a large build")
	}
	*alloc += 100 << 20
	*clock = clock.Add(time.Hour)
	if m.afterPublish() != nil {
		t.Fatal("a second release started while one runs")
	}
	close(unblock)
	<-first
	*alloc += 100 << 20
	if done := m.afterPublish(); done == nil {
		t.Fatal("no release once the first finished")
	} else {
		<-done
	}
	if n := releases.Load(); n != 2 {
		t.Fatalf("%d releases, want 2", n)
	}
}
