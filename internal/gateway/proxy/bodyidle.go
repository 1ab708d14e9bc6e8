package proxy

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// errBodyIdle marks a request body that stopped arriving for longer than
// Options.RequestBodyIdleTimeout.
var errBodyIdle = errors.New("request body idle timeout")

// idleBody bounds the wait for each read of a request body: before every
// Read the client connection's read deadline moves to now+timeout, so a
// body that keeps arriving is never cut off however long it is, while one
// that trickles slower than one read per timeout (or stalls) fails and
// releases the backend connection it holds. Response bytes flowing to the
// client move the deadline too (touch): an exchange is idle only when
// neither direction moves, so a bidirectional stream (gRPC, a long
// upload answered with progress) whose client pauses while the backend
// talks is not cut off.
type idleBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	x       *exchange

	// mu orders deadline changes: Read runs on the transport's goroutine,
	// touch on the handler's. Once done, the deadline is never set again.
	mu      sync.Mutex
	done    bool
	lastSet time.Time
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		return b.x.count(b.ReadCloser.Read(p))
	}
	if err := b.extendLocked(); err != nil {
		// The writer cannot set deadlines: leave the body unbounded.
		b.done = true
		b.mu.Unlock()
		return b.x.count(b.ReadCloser.Read(p))
	}
	b.mu.Unlock()
	n, err := b.x.count(b.ReadCloser.Read(p))
	if err != nil {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.done = true
		if errors.Is(err, os.ErrDeadlineExceeded) {
			b.x.bodyIdle = true
			return n, errors.Join(errBodyIdle, err)
		}
		// Body complete (or broken): the connection's own deadlines
		// apply again, so that reading the next request or noticing the
		// client leave is not cut short.
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// touch notes response progress: the body's deadline moves forward, at
// most every quarter of the timeout so that a fast stream of small writes
// does not pay for a deadline change each.
func (b *idleBody) touch() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done || time.Since(b.lastSet) < b.timeout/4 {
		return
	}
	_ = b.extendLocked()
}

func (b *idleBody) extendLocked() error {
	b.lastSet = time.Now()
	return b.rc.SetReadDeadline(b.lastSet.Add(b.timeout))
}

// countingBody counts the request body bytes read, when no idle timeout
// wraps the body (idleBody counts them then).
type countingBody struct {
	io.ReadCloser
	x *exchange
}

func (b countingBody) Read(p []byte) (int, error) { return b.x.count(b.ReadCloser.Read(p)) }

// count adds n request body bytes to the exchange and passes the result of
// a Read through.
func (x *exchange) count(n int, err error) (int, error) {
	if n > 0 {
		x.bytesIn.Add(int64(n))
	}
	return n, err
}

// boundBody wraps r's body, if it has one, with the idle timeout (or only
// a byte counter, when the timeout is off), and returns the function that
// response progress calls (nil: none).
func (p *Proxy) boundBody(w http.ResponseWriter, r *http.Request, x *exchange) func() {
	d := p.opts.RequestBodyIdleTimeout
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if d <= 0 {
		r.Body = countingBody{ReadCloser: r.Body, x: x}
		return nil
	}
	b := &idleBody{ReadCloser: r.Body, rc: http.NewResponseController(w), timeout: d, x: x}
	r.Body = b
	return b.touch
}
