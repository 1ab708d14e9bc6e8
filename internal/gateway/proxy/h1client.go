package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// h1Pool is the lean HTTP/1.1 client of one plain-HTTP backend: a stack of
// idle keep-alive connections per endpoint. Unlike http.Transport it runs
// each exchange on the caller's goroutine (one buffered write of the
// request, the response parsed from a bufio.Reader on the same
// connection), so a request costs no goroutine hand-offs. It serves only
// what fastEligible admits: body-less idempotent requests without
// upgrades; everything else uses the backend's http.Transport.
type h1Pool struct {
	dialer      *net.Dialer // shared, read-only
	maxIdle     int
	idleTimeout time.Duration

	mu     sync.Mutex
	idle   map[string][]*h1Conn // endpoint → idle connections, most recent last; nil until one is kept
	closed bool
	// sweeping: a sweep is scheduled; it closes connections idle for
	// longer than idleTimeout, also those of endpoints nobody asks for
	// any more.
	sweeping bool
}

// newH1Pool returns the pool of one backend; d is the dialer (its timeout
// is o.DialTimeout), shared by the pools of a transportPool.
func newH1Pool(o TransportOptions, d *net.Dialer) *h1Pool {
	return &h1Pool{dialer: d, maxIdle: o.MaxIdleConnsPerHost, idleTimeout: o.IdleConnTimeout}
}

// maxResponseHeaderBytes bounds a backend's status line and headers
// (http.Transport's default is 10 MiB; a backend that needs more than
// 1 MiB of headers is broken or hostile).
const maxResponseHeaderBytes = 1 << 20

// h1Conn is one backend connection. lr limits what the response header
// parser may read; the body is read without a limit.
type h1Conn struct {
	nc       net.Conn
	fd       int // nc's descriptor, for unsolicited (-1: none)
	sw       SendWaiter
	lr       limitReader
	br       *bufio.Reader
	bw       *bufio.Writer
	endpoint string
	idleAt   time.Time
	// reused: it carried an exchange before, so a failure before any
	// response byte may be the backend having closed it while idle.
	reused bool
	// abort makes the connection's pending I/O fail: it runs when the
	// exchange's context is canceled. One per connection, made at dial.
	abort func()
	// stop ends the current exchange's watch of its context (from
	// context.AfterFunc), or hook does (a cancelHook's slot).
	stop func() bool
	hook cancelHook
}

// cancelHook is a request context that runs one function when it is
// canceled, more cheaply than context.AfterFunc: the lean server engine's
// (server.leanRequestContext, which embeds a CancelSlot). OnCancel is
// false when the slot is taken or the context is already canceled;
// StopOnCancel is false when the function already ran (or runs), as
// context.AfterFunc's stop.
type cancelHook interface {
	OnCancel(f func()) bool
	StopOnCancel() bool
}

// CancelSlot implements cancelHook for a context whose owner alone
// cancels it: the owner calls Fire after canceling, and Fire runs the
// registered function, as context.AfterFunc would, once.
type CancelSlot struct {
	mu    sync.Mutex
	f     func()
	fired bool // Fire ran: the function (if any) ran, none is taken
}

// OnCancel registers f; false when the slot is taken or Fire already ran.
func (s *CancelSlot) OnCancel(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fired || s.f != nil {
		return false
	}
	s.f = f
	return true
}

// StopOnCancel removes the registered function; false when there is none
// (it ran, is running, or was never registered).
func (s *CancelSlot) StopOnCancel() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return false
	}
	s.f = nil
	return true
}

// Fire runs the registered function, if any, and takes no more.
func (s *CancelSlot) Fire() {
	s.mu.Lock()
	f := s.f
	s.f, s.fired = nil, true
	s.mu.Unlock()
	if f != nil {
		f()
	}
}

// watch arranges for the exchange's I/O to fail once ctx is canceled.
func (c *h1Conn) watch(ctx context.Context) {
	if h, ok := ctx.(cancelHook); ok && h.OnCancel(c.abort) {
		c.hook = h
		return
	}
	c.stop = context.AfterFunc(ctx, c.abort)
}

// unwatch ends watch; false when the abort already ran (or runs).
func (c *h1Conn) unwatch() bool {
	stopped := true
	switch {
	case c.hook != nil:
		stopped = c.hook.StopOnCancel()
	case c.stop != nil:
		stopped = c.stop()
	}
	c.hook, c.stop = nil, nil
	return stopped
}

// limitReader reads from r and fails once n reaches zero (n < 0: no limit).
type limitReader struct {
	r net.Conn
	n int64
	// got counts the bytes read in the current exchange.
	got int64
}

var errHeaderTooLarge = errors.New("backend response headers exceed 1 MiB")

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n == 0 {
		return 0, errHeaderTooLarge
	}
	if l.n > 0 && int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.got += int64(n)
	if l.n > 0 {
		l.n -= int64(n)
	}
	return n, err
}

var bufReaders, bufWriters sync.Pool

// get returns an idle connection to endpoint, or dials one.
func (p *h1Pool) get(ctx context.Context, endpoint string) (*h1Conn, error) {
	now := time.Now()
	p.mu.Lock()
	for list := p.idle[endpoint]; len(list) > 0; list = p.idle[endpoint] {
		c := list[len(list)-1]
		list[len(list)-1] = nil
		if len(list) == 1 {
			delete(p.idle, endpoint)
		} else {
			p.idle[endpoint] = list[:len(list)-1]
		}
		if now.Sub(c.idleAt) < p.idleTimeout {
			// roundTrip looks at it for stray bytes (unsolicited).
			p.mu.Unlock()
			return c, nil
		}
		p.mu.Unlock()
		c.close()
		p.mu.Lock()
	}
	p.mu.Unlock()
	return p.dial(ctx, endpoint)
}

func (p *h1Pool) dial(ctx context.Context, endpoint string) (*h1Conn, error) {
	nc, err := p.dialer.DialContext(ctx, "tcp", endpoint)
	if err != nil {
		return nil, err
	}
	c := &h1Conn{nc: nc, fd: peekFD(nc), endpoint: endpoint, lr: limitReader{r: nc, n: -1}}
	c.abort = func() { _ = nc.SetDeadline(aLongTimeAgo) }
	c.sw.Init(nc, c.fd)
	if v := bufReaders.Get(); v != nil {
		c.br = v.(*bufio.Reader)
		c.br.Reset(&c.lr)
	} else {
		c.br = bufio.NewReaderSize(&c.lr, 4<<10)
	}
	if v := bufWriters.Get(); v != nil {
		c.bw = v.(*bufio.Writer)
		c.bw.Reset(nc)
	} else {
		c.bw = bufio.NewWriterSize(nc, 4<<10)
	}
	return c, nil
}

// put returns a connection whose last exchange completed cleanly.
func (p *h1Pool) put(c *h1Conn) {
	if c.br.Buffered() > 0 {
		// The backend sent bytes nobody asked for: its framing cannot be
		// trusted for the next exchange.
		c.close()
		return
	}
	c.reused = true
	c.idleAt = time.Now()
	p.mu.Lock()
	list := p.idle[c.endpoint]
	if p.closed || len(list) >= p.maxIdle {
		p.mu.Unlock()
		c.close()
		return
	}
	// Drop connections idle for too long from the bottom of the stack.
	var stale []*h1Conn
	for len(list) > 0 && c.idleAt.Sub(list[0].idleAt) >= p.idleTimeout {
		stale = append(stale, list[0])
		list = list[1:]
	}
	if p.idle == nil {
		p.idle = map[string][]*h1Conn{}
	}
	p.idle[c.endpoint] = append(list, c)
	if !p.sweeping {
		p.sweeping = true
		time.AfterFunc(p.idleTimeout, p.sweep)
	}
	p.mu.Unlock()
	for _, s := range stale {
		s.close()
	}
}

// sweep closes the connections idle for longer than idleTimeout and
// schedules the next sweep while any stay idle.
func (p *h1Pool) sweep() {
	now := time.Now()
	p.mu.Lock()
	stale := make([]*h1Conn, 0, len(p.idle))
	for ep, list := range p.idle {
		i := 0
		for i < len(list) && now.Sub(list[i].idleAt) >= p.idleTimeout {
			i++
		}
		stale = append(stale, list[:i]...)
		if i == len(list) {
			delete(p.idle, ep)
		} else if i > 0 {
			p.idle[ep] = append(list[:0:0], list[i:]...)
		}
	}
	p.sweeping = len(p.idle) > 0
	if p.sweeping {
		time.AfterFunc(p.idleTimeout/2, p.sweep)
	}
	p.mu.Unlock()
	for _, c := range stale {
		c.close()
	}
}

// closeIdle closes every idle connection and the pool: it keeps no new ones.
func (p *h1Pool) closeIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.closed = true
	p.mu.Unlock()
	for _, list := range idle {
		for _, c := range list {
			c.close()
		}
	}
}

func (c *h1Conn) close() {
	_ = c.nc.Close()
	// The buffers go back to the pools only from here: nothing reads or
	// writes a closed connection.
	c.br.Reset(nil)
	bufReaders.Put(c.br)
	c.bw.Reset(nil)
	bufWriters.Put(c.bw)
}

// isStaleConnError reports whether err is how a reused connection fails
// when the backend had closed it while idle: the request went nowhere
// and no response byte came back.
func isStaleConnError(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isConnReset(err) || errors.Is(err, errUnsolicited)
}

// errUnsolicited: a pooled connection had bytes nobody asked for (or its
// backend's FIN) before the request was written; it is not used.
var errUnsolicited = errors.New("backend sent bytes on an idle connection")
