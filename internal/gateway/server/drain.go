package server

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// ErrDraining is what Check reports (and /readyz answers with 503) once a
// drain has begun.
var ErrDraining = errors.New("draining: the gateway is shutting down; it serves for the drain delay, then stops accepting connections")

// lingerTimeout bounds a graceful close of a hijacked connection: after
// our FIN, the client has this long to close its side while its unread
// input is discarded, so that closing never makes the kernel send RST.
const lingerTimeout = 2 * time.Second

// streamEndGrace is the time streams and tunnels ended at the drain
// timeout have to finish cleanly (write the last chunk, exchange FINs)
// before the remaining connections are closed hard.
const streamEndGrace = 2 * time.Second

// DrainReport says how a drain went; the gateway logs it.
type DrainReport struct {
	// Delay is how long connections were still accepted after readiness
	// failed; Wait how long in-flight requests took after that.
	Delay, Wait time.Duration
	// Ended counts responses and tunnels still open at the drain timeout
	// that were ended cleanly (event stream terminated, FIN sent).
	Ended int
	// Forced counts connections closed hard after streamEndGrace.
	Forced int
}

// Draining reports whether Drain has begun.
func (s *Server) Draining() bool { return s.draining.Load() }

// Drain shuts the data plane down without failing requests:
//
//  1. readiness fails at once (Check returns ErrDraining) and HTTP/1
//     responses carry Connection: close (HTTP/2: GOAWAY), so clients and
//     load balancers move to other replicas;
//  2. connections are still accepted and served for delay, the time
//     endpoints and load balancers need to stop sending new ones;
//  3. the listeners close (no new connections);
//  4. in-flight requests finish and idle connections close, for at most
//     timeout; then event streams (text/event-stream) are ended with a
//     complete last chunk, WebSocket tunnels are half-closed (FIN; the
//     client's unread input is discarded so that no RST is sent), and
//     what is left after streamEndGrace is closed hard.
//
// ctx cuts the delay and the wait short. Reconcile does nothing after
// Drain has begun: the published table keeps being served.
func (s *Server) Drain(ctx context.Context, delay, timeout time.Duration) DrainReport {
	var rep DrainReport
	s.draining.Store(true)
	start := time.Now()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		case <-s.cutDelay:
			t.Stop()
		}
	}
	rep.Delay = time.Since(start)
	s.mu.Lock()
	s.closed = true
	ls := s.listeners
	s.listeners = nil
	s.mu.Unlock()
	waitStart := time.Now()
	soft := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		soft, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	// Every port closes first, then the listeners finish their accepts and
	// handshakes side by side: one by one, a client that never sends its
	// ClientHello would hold each for ReadHeaderTimeout while the next
	// port still accepted.
	for _, l := range ls {
		l.closeSocket()
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Go(func() {
			l.finishAccepting()
			ended, forced := l.drain(soft)
			mu.Lock()
			rep.Ended += ended
			rep.Forced += forced
			mu.Unlock()
		})
	}
	wg.Wait()
	rep.Wait = time.Since(waitStart)
	return rep
}

// Shutdown closes every listener at once, draining in-flight requests
// until ctx ends (then streams and tunnels are ended as in Drain).
func (s *Server) Shutdown(ctx context.Context) {
	s.mu.Lock()
	s.closed = true
	ls := s.listeners
	s.listeners = nil
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Go(func() { l.shutdown(ctx) })
	}
	wg.Wait()
}

// shutdown stops accepting and drains in-flight requests until ctx ends.
func (l *listener) shutdown(ctx context.Context) {
	l.stopAccepting()
	l.drain(ctx)
}

// stopAccepting closes the port and hands the connections already
// accepted (and TLS handshakes under way) to the servers. From then on
// every HTTP/1 response closes its connection, idle ones are closed and
// HTTP/2 connections get GOAWAY.
//
// http.Server.Shutdown is not used: a server shutting down drops, without
// an answer, a request it reads after Shutdown began, which is exactly
// the first request of a connection accepted just before the port closed
// (the client reads EOF and does not retry on a new connection).
func (l *listener) stopAccepting() {
	l.closeSocket()
	l.finishAccepting()
}

// closeSocket closes the port: no connection is accepted after it.
func (l *listener) closeSocket() {
	l.closing.Store(true)
	_ = l.raw.Close()
}

// finishAccepting is stopAccepting after closeSocket.
func (l *listener) finishAccepting() {
	<-l.acceptDone
	l.handshakes.Wait() // bounded by ReadHeaderTimeout
	_ = l.h1ln.Close()
	l.h1.SetKeepAlivesEnabled(false)
	l.keepAlivesOff.Store(true)
	l.closeIdleLean()
	if l.goAway != nil {
		l.goAway()
	}
}

// drain waits until every connection of the listener has closed or soft
// ends; then it ends streams and tunnels cleanly and, after
// streamEndGrace, closes what is left. It returns how many responses or
// tunnels had to be ended and how many connections were closed hard.
func (l *listener) drain(soft context.Context) (ended, forced int) {
	defer func() { _ = l.h1.Close() }() // nothing is left by then; frees the server
	// Serve has returned (its listener is closed): every connection it
	// accepted is counted, so none is taken for closed before its
	// StateNew is recorded.
	l.wg.Wait()
	if l.waitClosed(soft) {
		return 0, 0
	}
	// The timeout passed: end what is still open.
	ended = l.openCount()
	l.endStreams()
	for _, c := range l.trackedTunnels() {
		c.halfClose()
	}
	hard, cancel := context.WithTimeout(context.Background(), streamEndGrace)
	defer cancel()
	if !l.waitClosed(hard) {
		forced = l.openCount()
		_ = l.h1.Close()
		l.closeLean()
		for _, c := range l.trackedTunnels() {
			_ = c.Conn.Close()
		}
		l.trackMu.Lock()
		for c := range l.h2conns {
			_ = c.Close()
		}
		l.trackMu.Unlock()
	}
	l.wg.Wait()
	return ended, forced
}

// waitClosed waits until every HTTP/1 connection (each closes after its
// response; a new one after its first), tunnel and HTTP/2 connection
// (GOAWAY) is closed; false when ctx ended first.
func (l *listener) waitClosed(ctx context.Context) bool {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for l.openCount() > 0 {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

// openCount is the number of connections of the listener still open.
func (l *listener) openCount() int {
	l.trackMu.Lock()
	defer l.trackMu.Unlock()
	return len(l.h1conns) + len(l.tunnels) + len(l.h2conns) + len(l.leanConns)
}

// connState tracks HTTP/1 connections; a hijacked one becomes a tunnel.
func (l *listener) connState(c net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		l.trackMu.Lock()
		l.h1conns[c] = struct{}{}
		l.trackMu.Unlock()
	case http.StateHijacked:
		if fc, ok := c.(*framedConn); ok {
			l.trackTunnel(fc)
		}
		fallthrough
	case http.StateClosed:
		l.trackMu.Lock()
		delete(l.h1conns, c)
		l.trackMu.Unlock()
	}
}

func (l *listener) trackTunnel(c *framedConn) {
	c.hijacked.Store(true)
	c.onClose = func() {
		l.trackMu.Lock()
		delete(l.tunnels, c)
		l.trackMu.Unlock()
	}
	l.trackMu.Lock()
	l.tunnels[c] = struct{}{}
	l.trackMu.Unlock()
}

func (l *listener) trackedTunnels() []*framedConn {
	l.trackMu.Lock()
	defer l.trackMu.Unlock()
	out := make([]*framedConn, 0, len(l.tunnels))
	for c := range l.tunnels {
		out = append(out, c)
	}
	return out
}

func (l *listener) trackH2(c net.Conn, open bool) {
	l.trackMu.Lock()
	defer l.trackMu.Unlock()
	if open {
		l.h2conns[c] = struct{}{}
	} else {
		delete(l.h2conns, c)
	}
}

type closeWriter interface{ CloseWrite() error }

// halfClose sends FIN (after a TLS close_notify on TLS connections): the
// client reads EOF and may still send until it closes its side.
func (c *framedConn) halfClose() {
	c.halfOnce.Do(func() {
		raw := c.Conn
		if tc, ok := raw.(*tls.Conn); ok {
			_ = tc.CloseWrite() // close_notify only
			raw = tc.NetConn()
		}
		if cw, ok := raw.(closeWriter); ok {
			_ = cw.CloseWrite()
		}
	})
}

// Close closes the connection. A hijacked connection (a WebSocket tunnel
// ended by either side) is closed gracefully: FIN first, then the client's
// input is read and discarded until it closes its side or lingerTimeout
// passes, so that unread bytes never make the kernel answer with RST.
func (c *framedConn) Close() error {
	c.closeOnce.Do(func() {
		if c.hijacked.Load() {
			c.halfClose()
			_ = c.SetReadDeadline(time.Now().Add(lingerTimeout))
			_, _ = io.Copy(io.Discard, c.Conn)
		}
		c.closeErr = c.Conn.Close()
		if c.onClose != nil {
			c.onClose()
		}
	})
	return c.closeErr
}
