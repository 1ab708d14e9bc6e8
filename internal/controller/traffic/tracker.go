package traffic

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// Source reports cumulative per-backend counters.
type Source interface {
	// Name identifies the source in status, e.g. pylon-gateway.
	Name() string
	// Read returns the counters of the backend Services of namespace (a
	// source may return more); keys are "namespace/name".
	Read(ctx context.Context, namespace string) (Reading, error)
}

// recentFor is how long readings are kept for sliding windows.
const recentFor = 5 * time.Minute

// maxAnchors bounds the window starts kept per WebApp.
const maxAnchors = 4

// Tracker keeps, per WebApp, the readings windows start from: anchors (the
// start of an analysis step, kept as long as the step lasts) and recent
// readings (for sliding windows). It lives in memory: after a restart a
// window starts again from the first reading, and says so by its Start.
type Tracker struct {
	mu   sync.Mutex
	apps map[types.UID]*history
}

type history struct {
	anchors map[time.Time]Reading
	recent  []Reading
}

// NewTracker returns an empty tracker.
func NewTracker() *Tracker { return &Tracker{apps: map[types.UID]*history{}} }

// Window reads src and returns what the backends (namespace/name keys)
// served since the reading taken at since: exactly at since when since was
// an anchor before (pass anchor true for the start of an analysis step),
// else the oldest reading kept at or after since. A window with no earlier
// reading starts now and is empty.
func (t *Tracker) Window(ctx context.Context, src Source, app types.UID, namespace string, backends []string, since time.Time, anchor bool) (Window, error) {
	cur, err := src.Read(ctx, namespace)
	if err != nil {
		return Window{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.apps[app]
	if h == nil {
		h = &history{anchors: map[time.Time]Reading{}}
		t.apps[app] = h
	}
	h.remember(cur)
	var base Reading
	if anchor {
		b, ok := h.anchors[since]
		if !ok {
			b = cur
			h.setAnchor(since, cur)
		}
		base = b
	} else {
		base = cur
		for _, r := range h.recent {
			if !r.At.Before(since) {
				base = r
				break
			}
		}
	}
	return between(base, cur, backends), nil
}

// Forget drops what is kept for a WebApp that no longer has a canary.
func (t *Tracker) Forget(app types.UID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.apps, app)
}

// remember appends a reading not seen yet and drops old ones.
func (h *history) remember(r Reading) {
	if n := len(h.recent); n > 0 && !r.At.After(h.recent[n-1].At) {
		return
	}
	h.recent = append(h.recent, r)
	cut := 0
	for cut < len(h.recent)-1 && r.At.Sub(h.recent[cut].At) > recentFor {
		cut++
	}
	h.recent = h.recent[cut:]
}

// setAnchor keeps r as the reading at since, dropping the oldest anchors
// beyond maxAnchors.
func (h *history) setAnchor(since time.Time, r Reading) {
	h.anchors[since] = r
	for len(h.anchors) > maxAnchors {
		var oldest time.Time
		for at := range h.anchors {
			if oldest.IsZero() || at.Before(oldest) {
				oldest = at
			}
		}
		delete(h.anchors, oldest)
	}
}
