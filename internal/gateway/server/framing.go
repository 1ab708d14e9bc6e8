package server

import (
	"bytes"
	"crypto/tls"
	"net"
	"strconv"
	"sync"
)

// framedConn is an HTTP/1 connection whose inbound bytes are followed by a
// small framing parser. Go's server accepts a request with both
// Content-Length and Transfer-Encoding by dropping Content-Length; by the
// time a handler runs the evidence is gone. The parser records, per
// request in order, whether the header block had both, and the handler
// pops that verdict.
type framedConn struct {
	net.Conn
	tlsState *tls.ConnectionState

	mu       sync.Mutex
	verdicts []bool
	sc       framer
}

func newFramedConn(c net.Conn, st *tls.ConnectionState, maxLine int) *framedConn {
	fc := &framedConn{Conn: c, tlsState: st}
	fc.sc.maxLine = maxLine
	return fc
}

func (c *framedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.mu.Lock()
		c.sc.feed(b[:n], func(bad bool) { c.verdicts = append(c.verdicts, bad) })
		c.mu.Unlock()
	}
	return n, err
}

// popConflict reports whether the oldest unhandled request had both
// Content-Length and Transfer-Encoding.
func (c *framedConn) popConflict() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.verdicts) == 0 {
		return false
	}
	v := c.verdicts[0]
	c.verdicts = c.verdicts[1:]
	return v
}

type framerState int

const (
	stHeaders framerState = iota
	stBody
	stChunkSize
	stChunkData
	stChunkEnd
	stTrailers
	stOpaque // upgraded, CONNECT, or unparsable: Go's parser decides
)

// framer tracks HTTP/1 request boundaries: header block, then a body by
// Content-Length or chunked coding, then the next request.
type framer struct {
	state     framerState
	maxLine   int
	line      []byte
	started   bool // request line seen
	hasCL     bool
	hasTE     bool
	chunked   bool
	upgrade   bool
	connect   bool
	cl        int64
	remaining int64
}

func (f *framer) feed(b []byte, verdict func(bool)) {
	for len(b) > 0 {
		switch f.state {
		case stOpaque:
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
					f.state = stOpaque
				}
				return
			}
			f.line = append(f.line, b[:i]...)
			b = b[i+1:]
			line := bytes.TrimSuffix(f.line, []byte("\r"))
			f.onLine(line, verdict)
			f.line = f.line[:0]
		}
	}
}

func (f *framer) onLine(line []byte, verdict func(bool)) {
	switch f.state {
	case stHeaders:
		f.onHeaderLine(line, verdict)
	case stChunkSize:
		sz, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(sz)), 16, 64)
		switch {
		case err != nil || n < 0:
			f.state = stOpaque
		case n == 0:
			f.state = stTrailers
		default:
			f.remaining, f.state = n, stChunkData
		}
	case stChunkEnd:
		f.state = stChunkSize
	case stTrailers:
		if len(line) == 0 {
			f.state = stHeaders
		}
	}
}

func (f *framer) onHeaderLine(line []byte, verdict func(bool)) {
	if !f.started {
		if len(line) == 0 {
			return // stray CRLF between requests is allowed
		}
		f.started = true
		f.connect = bytes.HasPrefix(line, []byte("CONNECT "))
		return
	}
	if len(line) > 0 {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			f.hasCL = true
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 {
				f.state = stOpaque // Go answers 400 itself
			}
			f.cl = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			f.hasTE = true
			f.chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case bytes.EqualFold(name, []byte("Upgrade")):
			f.upgrade = true
		}
		return
	}
	// End of the header block: one request.
	verdict(f.hasCL && f.hasTE)
	switch {
	case f.state == stOpaque:
	case f.upgrade || f.connect:
		// The connection may stop being HTTP/1 after this request.
		f.state = stOpaque
	case f.hasTE && f.chunked:
		f.state = stChunkSize
	case f.hasTE:
		f.state = stOpaque // Go rejects it; the connection closes
	case f.hasCL && f.cl > 0:
		f.remaining, f.state = f.cl, stBody
	}
	f.started, f.hasCL, f.hasTE, f.chunked, f.upgrade, f.connect, f.cl = false, false, false, false, false, false, 0
}
