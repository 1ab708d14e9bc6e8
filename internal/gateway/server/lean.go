package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/httphead"
	"github.com/pylon-dev/pylon/internal/gateway/proxy"
)

// The lean HTTP/1.1 engine serves a plain connection, or a TLS one whose
// ALPN is not h2, on one goroutine: read a request head, call the same
// handler the http.Server has, write the response, repeat. There is no
// background read per request and no hand-off between goroutines; the
// Request, its header map and the response writer are reused for every
// request of the connection. A request head the strict parser does not
// take (leanparse.go), and everything after it, is served by net/http on
// the same connection: the bytes already read are replayed to it first
// (framedConn.replay), so the framing parser has seen every byte once and
// net/http sees the stream as the client sent it.

// EngineLean and EngineNetHTTP name the HTTP/1.1 engines (Options.HTTP1Engine).
const (
	EngineLean    = "lean"
	EngineNetHTTP = "net/http"
)

// leanReadBufferSize is the lean engine's read buffer: a request head
// must fit in it (else net/http takes the connection).
const leanReadBufferSize = 4096

// leanWatchAfter is how long a request may run before the engine starts
// watching its connection for the client going away (net/http watches
// from the start, at the price of a background read and two goroutine
// wake-ups per request). A client that closes its connection while its
// request waits for a slow backend has the request's context canceled
// within about this time, as net/http cancels it at once: the backend
// request, its connection and the client's are released then.
const leanWatchAfter = 50 * time.Millisecond

// leanState is where a lean connection is, for the drain.
type leanState int

const (
	leanNew    leanState = iota // waiting for its first request
	leanActive                  // reading or serving a request
	leanIdle                    // between keep-alive requests
)

var (
	leanReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, leanReadBufferSize) }}
	leanWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4<<10) }}
	leanBodies  = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, bufferBeforeChunkingSize) }}
)

type leanConn struct {
	l   *listener
	fc  *framedConn
	br  *bufio.Reader
	bw  *bufio.Writer
	tpl *http.Request // carries the connection's context; copied per request

	mu    sync.Mutex
	state leanState

	failed     bool // a write failed: the connection is done
	handedOver bool // net/http serves the connection now
	hdr        http.Header
	vals       []string
	rw         leanResponse

	// headAt is when the current request's head began to arrive (or the
	// connection was accepted, for its first).
	headAt time.Time
	// headDeadline is the read deadline of the request head being read;
	// a hand-over carries it to net/http (framedConn.headDeadline). It is
	// set on the connection only when the head's first read did not bring
	// all of it (headTimed): a head that arrives whole needs no deadline.
	headDeadline time.Time
	headTimed    bool
	// idleDeadline is the read deadline setState last set for the wait
	// between requests, while nothing else has set one since (under mu;
	// zero: none such). A later wait whose deadline is at most
	// idleSlack(IdleTimeout) after it keeps it, so a busy connection does
	// not reset its timer per request.
	idleDeadline time.Time
	// writeDeadlineSet: the handler set a write deadline, cleared once
	// its response is done (as net/http clears it).
	writeDeadlineSet bool

	// The watch for a client going away while a request runs (state
	// under wmu): armed per request, started by the timer once the request
	// has run for leanWatchAfter, stopped when the handler returns. The
	// timer is not stopped per request: when it fires during a later
	// request it is reset for the rest of that one's leanWatchAfter, and
	// when it fires between requests it is left off (wpending: it is set).
	wmu      sync.Mutex
	wstate   watchState
	wpending bool
	wstart   time.Time // when the watched request's head arrived
	wtimer   *time.Timer
	wreq     *leanRequestContext
	wdone    chan struct{}
	wgone    bool // the watch saw the client close (or fail) the connection
	wbyte    []byte
}

type watchState int

const (
	watchOff     watchState = iota // no request runs, or it runs unwatched
	watchArmed                     // the timer may start the watch
	watchRunning                   // a read on the connection waits for the client
)

func (l *listener) newLeanConn(fc *framedConn) *leanConn {
	c := &leanConn{l: l, fc: fc, hdr: make(http.Header, 8), vals: make([]string, 0, 16)}
	ctx := context.WithValue(context.Background(), http.ServerContextKey, l.h1)
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, fc.LocalAddr())
	ctx = l.h1.ConnContext(ctx, fc)
	c.tpl = (&http.Request{RemoteAddr: fc.RemoteAddr().String(), TLS: fc.tlsState}).WithContext(ctx)
	c.rw.c = c
	c.rw.cw.r = &c.rw
	c.rw.handlerHeader = make(http.Header, 8)
	c.wtimer = time.AfterFunc(time.Hour, c.watch)
	c.wtimer.Stop()
	c.wdone = make(chan struct{}, 1)
	c.wbyte = make([]byte, 1)
	l.trackMu.Lock()
	l.leanConns[c] = struct{}{}
	l.trackMu.Unlock()
	return c
}

func (l *listener) untrackLean(c *leanConn) {
	l.trackMu.Lock()
	delete(l.leanConns, c)
	l.trackMu.Unlock()
}

// serve runs the connection until it closes or is handed to net/http.
func (c *leanConn) serve() {
	o := c.l.opts
	c.br = leanReaders.Get().(*bufio.Reader)
	c.br.Reset(c.fc)
	c.bw = leanWriters.Get().(*bufio.Writer)
	c.bw.Reset(c.fc)
	defer func() {
		c.release()
		if !c.handedOver {
			_ = c.fc.Close()
			c.l.untrackLean(c)
		}
	}()
	c.headAt = time.Now()
	c.headDeadline = c.headAt.Add(o.ReadHeaderTimeout)
	c.headTimed = true
	_ = c.fc.SetReadDeadline(c.headDeadline)
	for {
		n, ok, err := c.readHead()
		if err != nil {
			if c.br.Buffered() > 0 && errors.Is(err, io.EOF) {
				// A partial request and the client's FIN: net/http answers it.
				c.handedOver = c.handOver()
			}
			return
		}
		if !ok {
			c.handedOver = c.handOver()
			return
		}
		// The header deadline stays: nothing reads the connection until
		// the next request, whose wait sets its own.
		if c.state == leanNew {
			c.setActive() // later requests are active from their first byte
		}
		if !c.serveOne(n) {
			return
		}
		if !c.setState(leanIdle, time.Now().Add(o.IdleTimeout)) {
			return // draining: no next request on this connection
		}
		// The wait for the next request starts with a read that usually
		// finds nothing yet: unlike the backend exchange's wait
		// (proxy.SendWaiter), it cannot be replaced by a wait for the
		// connection to become readable, because the client may have sent
		// its next request while this one was served, after the last read:
		// its readiness was reported then and a wait would not see it.
		if _, err := c.br.Peek(1); err != nil {
			return // idle timeout, drain, or the client closed
		}
		// From its first byte the request is active (as net/http's is),
		// so the drain no longer takes the connection for idle: a
		// hand-over to net/http included. The head's deadline is set if
		// its first read did not bring all of it (readHead).
		c.setActive()
		c.headAt = time.Now()
		c.headDeadline = c.headAt.Add(o.ReadHeaderTimeout)
		c.headTimed = false
	}
}

// idleSlack is how much later than the one already set an idle deadline
// may be and still be kept: a 64th of the idle timeout (under 2 s of the
// default 120 s). An idle connection may so be closed that much earlier
// than IdleTimeout after its last request.
func idleSlack(idle time.Duration) time.Duration { return idle / 64 }

// setState records the connection's state and sets its read deadline
// (zero: none) under the lock the drain takes to close idle connections.
// Going idle fails once keep-alives are off.
func (c *leanConn) setState(s leanState, deadline time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s == leanIdle && c.l.keepAlivesOff.Load() {
		return false
	}
	c.state = s
	if s == leanIdle {
		if !c.idleDeadline.IsZero() && deadline.Sub(c.idleDeadline) < idleSlack(c.l.opts.IdleTimeout) {
			return true // the deadline set for an earlier wait stands
		}
		c.idleDeadline = deadline
	} else {
		c.idleDeadline = time.Time{}
	}
	_ = c.fc.SetReadDeadline(deadline)
	return true
}

// readDeadlineChanged records that something other than setState set
// the connection's read deadline.
func (c *leanConn) readDeadlineChanged() {
	c.mu.Lock()
	c.idleDeadline = time.Time{}
	c.mu.Unlock()
}

// closeIfIdle wakes an idle connection's wait for its next request; it
// then sees keep-alives off and closes.
func (c *leanConn) closeIfIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == leanIdle {
		c.idleDeadline = time.Time{}
		_ = c.fc.SetReadDeadline(aLongTimeAgo)
	}
}

// setActive records that a request is being served.
func (c *leanConn) setActive() {
	c.mu.Lock()
	c.state = leanActive
	c.mu.Unlock()
}

var aLongTimeAgo = time.Unix(1, 0)

// readHead waits until the buffer holds a complete request head and
// returns its length; ok is false when the head is not the engine's: too
// long for the buffer or for MaxHeaderBytes, or a line ends in a bare LF
// (which net/http accepts, and the framing parser follows its way).
func (c *leanConn) readHead() (n int, ok bool, err error) {
	limit := min(leanReadBufferSize, c.l.opts.MaxHeaderBytes)
	from := 0
	for {
		buf, _ := c.br.Peek(c.br.Buffered())
		end, next, clean := httphead.Scan(buf, from)
		switch {
		case !clean:
			return 0, false, nil
		case end > 0:
			return end, end <= limit, nil
		case len(buf) >= limit:
			return 0, false, nil
		}
		if !c.headTimed {
			// The head did not arrive whole: the rest is due by its
			// deadline (and the connection is serving a request now, for
			// the drain, as net/http's is from a request's first byte).
			c.headTimed = true
			c.setState(leanActive, c.headDeadline)
		}
		from = next
		if _, err := c.br.Peek(len(buf) + 1); err != nil {
			return 0, false, err
		}
	}
}

// serveOne parses the head of n bytes and serves it; false ends the
// connection (or it was handed to net/http).
//
// Each request gets its own Request and a context canceled when the
// handler returns, or earlier when the client goes away (watch); the
// header map and its value slice are the connection's, reused for the
// next request: a handler must not keep r.Header past its return (none
// of the gateway's does: the fast path writes the request before it
// returns, ReverseProxy clones it, the access log copies strings).
func (c *leanConn) serveOne(n int) bool {
	head, _ := c.br.Peek(n)
	ctx, cancel := context.WithCancel(c.tpl.Context())
	rc := &leanRequestContext{Context: ctx, cancel: cancel}
	defer rc.end()
	r := c.tpl.WithContext(rc)
	var ok bool
	c.vals, ok = parseLean(head, r, c.hdr, c.vals)
	if !ok {
		c.handedOver = c.handOver()
		return false
	}
	_, _ = c.br.Discard(n)
	c.rw.w = leanBodies.Get().(*bufio.Writer)
	c.rw.reset(r)
	c.l.leanServed.Add(1)
	c.armWatch(rc)
	handled := c.runHandler(r)
	c.stopWatch()
	more := handled && c.rw.finish()
	c.idle()
	return more && !c.wgone
}

// idle drops what the finished request held, so that an idle connection
// keeps only its read and write buffers (as net/http's does): the header
// map's strings (which hold the request head), the body buffer (back to
// its pool), and a write deadline the handler set.
func (c *leanConn) idle() {
	clear(c.hdr)
	clear(c.vals)
	c.vals = c.vals[:0]
	c.rw.req = nil
	clear(c.rw.handlerHeader)
	if c.rw.w != nil {
		c.rw.w.Reset(nil)
		leanBodies.Put(c.rw.w)
		c.rw.w = nil
	}
	if c.writeDeadlineSet {
		c.writeDeadlineSet = false
		_ = c.fc.SetWriteDeadline(time.Time{})
	}
}

// armWatch arms the timer that starts watching the connection while the
// request runs. With more bytes already buffered (a pipelined request)
// the client has not gone away before sending them: nothing to watch.
func (c *leanConn) armWatch(rc *leanRequestContext) {
	if c.br.Buffered() > 0 {
		return
	}
	c.wmu.Lock()
	c.wstate = watchArmed
	c.wreq = rc
	c.wstart = c.headAt
	if !c.wpending {
		c.wpending = true
		c.wtimer.Reset(leanWatchAfter)
	}
	c.wmu.Unlock()
}

// watch runs on the timer's goroutine; once the armed request has run
// for leanWatchAfter it reads one byte from the connection, as net/http's
// background read does. EOF or an error means the client is gone: the
// request's context is canceled. A byte is the start of the next request,
// kept for it (the framing parser has seen it).
func (c *leanConn) watch() {
	c.wmu.Lock()
	c.wpending = false
	if c.wstate != watchArmed {
		c.wmu.Unlock()
		return
	}
	if rest := leanWatchAfter - time.Since(c.wstart); rest > 0 {
		// Armed by an earlier request: this one's time is not up yet.
		c.wpending = true
		c.wtimer.Reset(rest)
		c.wmu.Unlock()
		return
	}
	c.wstate = watchRunning
	rc := c.wreq
	// No deadline while the request runs (the head's may pass during a
	// long poll); stopWatch sets a past one, under wmu, to end the read.
	_ = c.fc.SetReadDeadline(time.Time{})
	c.wmu.Unlock()
	n, err := c.fc.Read(c.wbyte)
	switch {
	case n == 1:
		c.fc.replay = c.wbyte
	case err != nil && !errors.Is(err, os.ErrDeadlineExceeded):
		c.wgone = true
		rc.end()
	}
	c.wdone <- struct{}{}
}

// stopWatch disarms the watch once the handler returned, ending its read
// if it started, and waits for it.
func (c *leanConn) stopWatch() {
	c.wmu.Lock()
	running := c.wstate == watchRunning
	c.wstate = watchOff
	c.wreq = nil
	if running {
		_ = c.fc.SetReadDeadline(aLongTimeAgo)
	}
	c.wmu.Unlock()
	if !running {
		return // the timer, if pending, finds no request armed
	}
	<-c.wdone
	c.readDeadlineChanged()
}

// runHandler calls the listener's handler; a panic ends the connection
// as net/http ends it (bytes already buffered are sent, then close).
func (c *leanConn) runHandler(r *http.Request) (ok bool) {
	defer func() {
		if err := recover(); err != nil {
			ok = false
			_ = c.bw.Flush()
			if e, ok := err.(error); !ok || !errors.Is(e, http.ErrAbortHandler) {
				const size = 64 << 10
				buf := make([]byte, size)
				buf = buf[:runtime.Stack(buf, false)]
				c.l.h1.ErrorLog.Printf("http: panic serving %v: %v\n%s", c.fc.RemoteAddr(), err, buf)
			}
		}
	}()
	c.l.h1.Handler.ServeHTTP(&c.rw, r)
	return true
}

func (c *leanConn) writeFailed() {
	c.failed = true
}

// handOver gives the connection, with the bytes read and not consumed, to
// net/http. It returns whether net/http took it (when the listener's
// server is closed it did not, and the caller closes it).
func (c *leanConn) handOver() bool {
	if b := c.br.Buffered(); b > 0 {
		buf, _ := c.br.Peek(b)
		c.fc.replay = append([]byte(nil), buf...)
	}
	_ = c.fc.SetDeadline(time.Time{})
	// The head being read keeps its deadline: net/http's first read
	// deadline, its header timeout, is capped by it (no second
	// ReadHeaderTimeout for a head that goes to net/http part-way).
	c.fc.setHeadDeadline(c.headDeadline)
	// net/http's Serve returns after recording the connection (StateNew),
	// which the drain then counts; only then is it untracked here.
	err := c.l.h1.Serve(&oneConnListener{c: c.fc})
	if !errors.Is(err, errOneConnDone) {
		c.fc.replay = nil
		return false
	}
	c.l.leanHandedOver.Add(1)
	c.l.untrackLean(c)
	return true
}

func (c *leanConn) release() {
	c.br.Reset(nil)
	leanReaders.Put(c.br)
	c.bw.Reset(nil)
	leanWriters.Put(c.bw)
	c.br, c.bw = nil, nil
	c.wtimer.Stop()
}

var errOneConnDone = errors.New("connection handed over")

// oneConnListener hands one connection to http.Server.Serve, then ends it.
type oneConnListener struct {
	c    net.Conn
	done bool
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	if l.done {
		return nil, errOneConnDone
	}
	l.done = true
	return l.c, nil
}

func (l *oneConnListener) Close() error   { return nil }
func (l *oneConnListener) Addr() net.Addr { return l.c.LocalAddr() }

// closeIdleLean closes idle lean connections (keep-alives are off by then).
func (l *listener) closeIdleLean() {
	l.trackMu.Lock()
	defer l.trackMu.Unlock()
	for c := range l.leanConns {
		c.closeIfIdle()
	}
}

// closeLean closes every lean connection hard (end of a drain).
func (l *listener) closeLean() {
	l.trackMu.Lock()
	defer l.trackMu.Unlock()
	for c := range l.leanConns {
		_ = c.fc.Conn.Close()
	}
}

// leanRequestContext is a lean request's context: canceled when the
// handler returns, or earlier when the client goes away (watch), with one
// slot for a function to run then. The proxy's fast path puts the abort of
// its backend exchange there (OnCancel) instead of registering it with
// context.AfterFunc, which costs a child context, a goroutine-safe map
// entry on the parent and half a dozen allocations per request. Children
// and context.AfterFunc work as on any context: the embedded one is a
// context.WithCancel's. Only end cancels it (the connection's own context
// never ends), so the slot's Fire there is the whole story.
type leanRequestContext struct {
	context.Context
	cancel context.CancelFunc
	proxy.CancelSlot
}

// end cancels the request (its client left, or its handler returned),
// then runs the function in the slot.
func (rc *leanRequestContext) end() {
	rc.cancel()
	rc.Fire()
}
