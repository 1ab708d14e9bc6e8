package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// writeCounter counts the manager's API write requests at the client, by
// kind of write. It wraps the rest.Config transport, so every client the
// manager builds from that config (cache, client, event recorder,
// discovery) is counted.
type writeCounter struct {
	create, apply, status, del, events, reads atomic.Int64

	// trace, when set, receives the method, path and body of every write
	// (-trace-writes): what the manager still writes when it should not.
	traceMu sync.Mutex
	trace   io.Writer
}

// traceTo sends every later write to w (nil: stop).
func (c *writeCounter) traceTo(w io.Writer) {
	c.traceMu.Lock()
	defer c.traceMu.Unlock()
	c.trace = w
}

func (c *writeCounter) traceWrite(r *http.Request) {
	c.traceMu.Lock()
	defer c.traceMu.Unlock()
	if c.trace == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return
	}
	body := []byte("(no body)")
	if r.GetBody != nil {
		if rc, err := r.GetBody(); err == nil {
			body, _ = io.ReadAll(rc)
			_ = rc.Close()
		}
	}
	fmt.Fprintf(c.trace, "%s %s %s\n", r.Method, r.URL.Path, body)
}

// writes is one reading of the counter.
type writes struct {
	Create int64 `json:"create"`
	Apply  int64 `json:"updateOrApply"`
	Status int64 `json:"status"`
	Delete int64 `json:"delete"`
	Events int64 `json:"events"`
	// Reads are GET requests other than watches: single objects, lists
	// and discovery. Not in Total.
	Reads int64 `json:"reads"`
}

// Total excludes events: they are the recorder's, not reconciliation's.
func (w writes) Total() int64 { return w.Create + w.Apply + w.Status + w.Delete }

func (w writes) minus(o writes) writes {
	return writes{w.Create - o.Create, w.Apply - o.Apply, w.Status - o.Status, w.Delete - o.Delete, w.Events - o.Events, w.Reads - o.Reads}
}

func (c *writeCounter) read() writes {
	return writes{c.create.Load(), c.apply.Load(), c.status.Load(), c.del.Load(), c.events.Load(), c.reads.Load()}
}

func (c *writeCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		c.count(r)
		c.traceWrite(r)
		return rt.RoundTrip(r)
	})
}

func (c *writeCounter) count(r *http.Request) {
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		if r.URL.Query().Get("watch") != "true" {
			c.reads.Add(1)
		}
	case strings.Contains(p, "/events"):
		c.events.Add(1)
	case r.Method == http.MethodPost:
		c.create.Add(1)
	case r.Method == http.MethodDelete:
		c.del.Add(1)
	case strings.HasSuffix(p, "/status"):
		c.status.Add(1)
	default: // PUT, PATCH (server-side apply)
		c.apply.Add(1)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
