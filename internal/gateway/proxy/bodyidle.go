package proxy

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"
)

// errBodyIdle marks a request body that stopped arriving for longer than
// Options.RequestBodyIdleTimeout.
var errBodyIdle = errors.New("request body idle timeout")

// idleBody bounds the wait for each read of a request body: before every
// Read the client connection's read deadline moves to now+timeout, so a
// body that keeps arriving is never cut off however long it is, while one
// that trickles slower than one read per timeout (or stalls) fails and
// releases the backend connection it holds.
type idleBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	x       *exchange
	done    bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	if b.done {
		return b.ReadCloser.Read(p)
	}
	if err := b.rc.SetReadDeadline(time.Now().Add(b.timeout)); err != nil {
		// The writer cannot set deadlines: leave the body unbounded.
		b.done = true
		return b.ReadCloser.Read(p)
	}
	n, err := b.ReadCloser.Read(p)
	if err != nil {
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

// boundBody wraps r's body, if it has one, with the idle timeout.
func (p *Proxy) boundBody(w http.ResponseWriter, r *http.Request, x *exchange) {
	d := p.opts.RequestBodyIdleTimeout
	if d <= 0 || r.Body == nil || r.Body == http.NoBody {
		return
	}
	r.Body = &idleBody{ReadCloser: r.Body, rc: http.NewResponseController(w), timeout: d, x: x}
}
