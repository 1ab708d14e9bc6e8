package server

import (
	"bytes"
	"crypto/tls"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// framedConn is an HTTP/1 connection whose inbound bytes are followed by a
// small framing parser. Go's server accepts a request with both
// Content-Length and Transfer-Encoding by dropping Content-Length; by the
// time a handler runs the evidence is gone.
//
// The verdict is sticky, not per request: once the parser has seen a
// request with both headers, or has lost track of the framing (a header
// block or chunk it cannot follow the way Go's server does), every request
// the handler sees afterwards on this connection is refused. A queue of
// per-request verdicts would be shifted by any request Go answers without
// calling the handler (OPTIONS *), and a parser that stops following the
// stream would stop refusing; both are ways to smuggle the conflicting
// request past the check. The price is that well-formed requests
// pipelined ahead of a conflicting one in the same read may be refused
// too: the connection is hostile and is closed.
type framedConn struct {
	net.Conn
	tlsState *tls.ConnectionState
	// replay holds bytes the lean engine read (and the framing parser
	// saw) before handing the connection to net/http; Read returns them
	// first.
	replay []byte
	// headDeadline, set at a hand-over, caps the first read deadline
	// net/http sets afterwards (its header timeout for the head the lean
	// engine began to read), then is forgotten.
	headDeadline time.Time

	mu       sync.Mutex
	conflict bool
	sc       framer

	// hijacked is set when a handler took the connection over (WebSocket);
	// Close then closes it gracefully, and onClose untracks it.
	hijacked  atomic.Bool
	onClose   func()
	halfOnce  sync.Once
	closeOnce sync.Once
	closeErr  error
}

func newFramedConn(c net.Conn, st *tls.ConnectionState, maxLine int) *framedConn {
	fc := &framedConn{Conn: c, tlsState: st}
	fc.sc.maxLine = maxLine
	return fc
}

func (c *framedConn) setHeadDeadline(t time.Time) { c.headDeadline = t }

// SetReadDeadline sets the read deadline, capped once by headDeadline.
func (c *framedConn) SetReadDeadline(t time.Time) error {
	if d := c.headDeadline; !d.IsZero() {
		c.headDeadline = time.Time{}
		if t.IsZero() || t.After(d) {
			t = d
		}
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *framedConn) Read(b []byte) (int, error) {
	if len(c.replay) > 0 {
		n := copy(b, c.replay)
		c.replay = c.replay[n:]
		return n, nil
	}
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.mu.Lock()
		if !c.conflict {
			c.sc.feed(b[:n], func() { c.conflict = true })
		}
		c.mu.Unlock()
	}
	return n, err
}

// popConflict reports whether any request read so far on the connection
// had both Content-Length and Transfer-Encoding, or the framing could not
// be followed.
func (c *framedConn) popConflict() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conflict
}

type framerState int

const (
	stHeaders framerState = iota
	stBody
	stChunkSize
	stChunkData
	stChunkEnd
	stTrailers
	stLost // framing no longer followed: every later request is refused
)

// framer tracks HTTP/1 request boundaries the way Go's server does: header
// block (obs-folded lines joined), then a body by chunked coding (HTTP/1.1
// and later only: Go ignores Transfer-Encoding on HTTP/1.0) or by
// Content-Length, then the next request. Upgrade and CONNECT requests are
// framed like any other: the connection stays HTTP/1 unless a handler
// hijacks it, and after a hijack no request reaches the handler again.
type framer struct {
	state     framerState
	maxLine   int
	line      []byte
	header    []byte // the header line being read, until a line that does not continue it; empty: none (the buffer is reused)
	started   bool   // request line seen
	http10    bool
	hasCL     bool
	hasTE     bool
	chunked   bool
	cl        int64
	remaining int64
}

// framerKeptHeader is the largest header line buffer a framer keeps for
// the next line.
const framerKeptHeader = 256

func (f *framer) feed(b []byte, bad func()) {
	for len(b) > 0 {
		switch f.state {
		case stLost:
			bad()
			return
		case stBody, stChunkData:
			n := min(int64(len(b)), f.remaining)
			f.remaining -= n
			b = b[n:]
			if f.remaining == 0 {
				if f.state == stBody {
					f.state = stHeaders
				} else {
					f.state = stChunkEnd
				}
			}
		default:
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				f.line = append(f.line, b...)
				if len(f.line) > f.maxLine {
					f.lose(bad)
				}
				return
			}
			f.line = append(f.line, b[:i]...)
			b = b[i+1:]
			line := bytes.TrimSuffix(f.line, []byte("\r"))
			f.onLine(line, bad)
			f.line = f.line[:0]
		}
	}
}

func (f *framer) lose(bad func()) {
	f.state = stLost
	bad()
}

func (f *framer) onLine(line []byte, bad func()) {
	switch f.state {
	case stHeaders:
		f.onHeaderLine(line, bad)
	case stChunkSize:
		sz, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseUint(string(bytes.TrimSpace(sz)), 16, 63)
		switch {
		case err != nil:
			f.lose(bad)
		case n == 0:
			f.state = stTrailers
		default:
			f.remaining, f.state = int64(n), stChunkData
		}
	case stChunkEnd:
		if len(line) != 0 {
			f.lose(bad) // Go requires CRLF right after the chunk data
			return
		}
		f.state = stChunkSize
	case stTrailers:
		if len(line) == 0 {
			f.state = stHeaders
		}
	}
}

func (f *framer) onHeaderLine(line []byte, bad func()) {
	if !f.started {
		if len(line) == 0 {
			return // stray CRLF between requests is allowed
		}
		f.started = true
		// Go splits the request line at the first two spaces; the rest
		// is the protocol version.
		_, rest, _ := bytes.Cut(line, []byte(" "))
		_, proto, _ := bytes.Cut(rest, []byte(" "))
		f.http10 = string(proto) == "HTTP/1.0"
		return
	}
	if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') && len(f.header) > 0 {
		// obs-fold: Go joins this line to the previous header's value.
		f.header = append(append(f.header, ' '), bytes.TrimSpace(line)...)
		return
	}
	if len(f.header) > 0 {
		f.onHeader(f.header, bad)
		f.header = f.header[:0]
		if cap(f.header) > framerKeptHeader {
			f.header = nil // a long line's buffer is not kept for the connection's life
		}
	}
	if len(line) > 0 {
		f.header = append(f.header[:0], line...)
		return
	}
	// End of the header block: one request.
	if f.hasCL && f.hasTE {
		bad()
	}
	switch {
	case f.state == stLost:
	case f.hasTE && !f.http10 && f.chunked:
		f.state = stChunkSize
	case f.hasTE && !f.http10:
		f.lose(bad) // Go refuses it and closes the connection
	case f.hasCL && f.cl > 0:
		f.remaining, f.state = f.cl, stBody
	}
	f.started, f.http10, f.hasCL, f.hasTE, f.chunked, f.cl = false, false, false, false, false, 0
}

func (f *framer) onHeader(h []byte, bad func()) {
	name, value, ok := bytes.Cut(h, []byte(":"))
	if !ok {
		return // Go refuses the request and closes the connection
	}
	value = bytes.TrimSpace(value)
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		n, err := strconv.ParseUint(string(value), 10, 63)
		if err != nil || (f.hasCL && int64(n) != f.cl) {
			f.lose(bad) // Go answers 400 itself and closes
			return
		}
		f.hasCL, f.cl = true, int64(n)
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		f.chunked = !f.hasTE && bytes.EqualFold(value, []byte("chunked"))
		f.hasTE = true
	}
}
