package echo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

type stoppingKey struct{}

// WithStopping returns ctx carrying stop, a channel the server closes when
// it begins to shut down: the long-lived exchanges the handler serves (SSE
// streams, WebSockets) then end cleanly, as a well-behaved app ends them on
// SIGTERM, instead of waiting for the connection to be cut. Put it in the
// server's BaseContext.
func WithStopping(ctx context.Context, stop <-chan struct{}) context.Context {
	return context.WithValue(ctx, stoppingKey{}, stop)
}

// stopping is the channel WithStopping put in ctx, or nil (never closes).
func stopping(ctx context.Context) <-chan struct{} {
	c, _ := ctx.Value(stoppingKey{}).(<-chan struct{})
	return c
}

// Event is the data of one server-sent event of /sse.
type Event struct {
	ID        int    `json:"id"`
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"`
	Image     string `json:"image"`
}

// Bounds of /sse's query parameters.
const (
	minEventInterval     = 10 * time.Millisecond
	defaultEventInterval = 100 * time.Millisecond
	maxEvents            = 1_000_000
)

// serveEvents answers GET /sse with a stream of server-sent events, one
// every ?interval= (default 100ms, at least 10ms), numbered from the
// request's Last-Event-ID plus one (or 1), so a client that reconnects
// resumes where it left off and can tell a lost event from a late one.
// ?count=N ends the stream cleanly after N events. The stream also ends
// cleanly, after a whole event, when the server begins to shut down (see
// WithStopping) or the client goes away.
func serveEvents(w http.ResponseWriter, r *http.Request, id Identity) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "/sse takes GET", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	interval := defaultEventInterval
	if v := q.Get("interval"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < minEventInterval || d > maxDelay {
			http.Error(w, fmt.Sprintf("interval=%q: want a duration from %s to %s", v, minEventInterval, maxDelay), http.StatusBadRequest)
			return
		}
		interval = d
	}
	count := maxEvents
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxEvents {
			http.Error(w, fmt.Sprintf("count=%q: want 1 to %d", v, maxEvents), http.StatusBadRequest)
			return
		}
		count = n
	}
	next := 1
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n >= maxEvents {
			http.Error(w, fmt.Sprintf("Last-Event-ID %q: want 0 to %d", v, maxEvents-1), http.StatusBadRequest)
			return
		}
		next = n + 1
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	stop := stopping(r.Context())
	for sent := 0; sent < count; sent++ {
		select {
		case <-tick.C:
		case <-stop:
			return
		case <-r.Context().Done():
			return
		}
		data, err := json.Marshal(Event{ID: next, Namespace: id.Namespace, Pod: id.Pod, Image: id.Image})
		if err != nil {
			return
		}
		if _, err := fmt.Fprintf(w, "id: %d\ndata: %s\n\n", next, data); err != nil {
			return
		}
		flusher.Flush()
		next++
	}
}
