package proxy

import (
	"context"
	"io"
	"mime"
	"net/http"
	"sync/atomic"
)

type streamStopKey struct{}

// WithStreamStop returns ctx carrying stop. Event streams (responses of
// type text/event-stream) proxied for requests under the returned context
// end cleanly once stop is done: the copy from the backend stops as if
// the backend had ended the response, so the client gets a complete last
// chunk (HTTP/1) or END_STREAM (HTTP/2) instead of a cut connection. The
// server uses it to end streams at the drain timeout. An event stream is
// a series of self-delimited events, and a client discards an incomplete
// last one at the end of the stream, so ending it early is safe; other
// responses are never ended early as if complete: a truncated download
// must look truncated.
func WithStreamStop(ctx, stop context.Context) context.Context {
	return context.WithValue(ctx, streamStopKey{}, stop)
}

func streamStopFrom(ctx context.Context) context.Context {
	c, _ := ctx.Value(streamStopKey{}).(context.Context)
	return c
}

func isEventStream(h http.Header) bool {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && mt == "text/event-stream"
}

// stoppableBody is a backend response body that reads as ended (io.EOF)
// once stop is done: stop closes the body, which unblocks a pending Read.
type stoppableBody struct {
	rc      io.ReadCloser
	stopped atomic.Bool
	release func() bool
}

func newStoppableBody(rc io.ReadCloser, stop context.Context) *stoppableBody {
	b := &stoppableBody{rc: rc}
	b.release = context.AfterFunc(stop, func() {
		b.stopped.Store(true)
		_ = rc.Close()
	})
	return b
}

func (b *stoppableBody) Read(p []byte) (int, error) {
	if b.stopped.Load() {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	if err != nil && b.stopped.Load() {
		return n, io.EOF
	}
	return n, err
}

func (b *stoppableBody) Close() error {
	b.release()
	return b.rc.Close()
}
