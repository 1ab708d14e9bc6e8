package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/http2"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
	"github.com/pylon-dev/pylon/internal/gateway/proxy"
)

// listener is one bound port serving one table listener.
type listener struct {
	at       ir.ListenerKey
	protocol ir.Protocol
	addr     string
	opts     Options

	raw  net.Listener
	h1ln *chanListener
	h1   *http.Server
	h2   *http2.Server
	tls  *tls.Config
	// h2opts serves HTTP/2 connections (HTTPS listeners only); goAway
	// sends GOAWAY on all of them.
	h2opts *http2.ServeConnOpts
	goAway func()
	wg     sync.WaitGroup
	// acceptDone is closed when the accept loop has returned; handshakes
	// counts TLS handshakes of accepted connections not yet handed over.
	acceptDone chan struct{}
	handshakes sync.WaitGroup

	// streams is done when event streams on this listener are to end
	// (drain timeout); the proxy ends them cleanly (proxy.WithStreamStop).
	streams    context.Context
	endStreams context.CancelFunc

	// tracked holds the connections http.Server.Shutdown does not wait
	// for: hijacked HTTP/1 connections (WebSocket tunnels) and HTTP/2
	// connections served by ServeConn.
	trackMu sync.Mutex
	h1conns map[net.Conn]struct{}
	tunnels map[*framedConn]struct{}
	h2conns map[net.Conn]struct{}

	// lean serves HTTP/1 connections with the lean engine (lean.go);
	// leanConns are its connections, keepAlivesOff is set with
	// h1.SetKeepAlivesEnabled(false) for them.
	lean          bool
	leanConns     map[*leanConn]struct{}
	keepAlivesOff atomic.Bool
	// leanServed counts requests the lean engine served, leanHandedOver
	// connections it handed to net/http (tests read them).
	leanServed, leanHandedOver atomic.Int64

	// closing is set by shutdown; a closed socket is then expected.
	closing atomic.Bool
	// broken holds the error that stopped the accept loop on its own: the
	// port no longer takes connections and readiness must say so.
	broken atomic.Pointer[error]
	// onBroken is called once the accept loop stopped on an error.
	onBroken func()
}

type connKey struct{}

// connFrom returns the framed HTTP/1 connection a request came on, or nil
// for HTTP/2.
func connFrom(ctx context.Context) *framedConn {
	c, _ := ctx.Value(connKey{}).(*framedConn)
	return c
}

func (s *Server) openListener(at ir.ListenerKey, proto ir.Protocol, addr string) (*listener, error) {
	raw, err := s.listen(addr, at.Address != "")
	if err != nil {
		return nil, err
	}
	o := s.opts
	l := &listener{
		at: at, protocol: proto, addr: addr, opts: o, raw: raw, h1ln: newChanListener(raw.Addr()), onBroken: s.listenerBroken,
		acceptDone: make(chan struct{}), h1conns: map[net.Conn]struct{}{}, tunnels: map[*framedConn]struct{}{}, h2conns: map[net.Conn]struct{}{},
		lean: o.HTTP1Engine != EngineNetHTTP, leanConns: map[*leanConn]struct{}{},
	}
	l.streams, l.endStreams = context.WithCancel(context.Background())
	streamCtx := proxy.WithStreamStop(context.Background(), l.streams)
	scheme := "http"
	if proto == ir.ProtocolHTTPS {
		scheme = "https"
	}
	handler := &checks{s: s, at: at, https: proto == ir.ProtocolHTTPS, next: s.proxy.Handler(at, scheme)}
	l.h1 = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    o.MaxHeaderBytes,
		ErrorLog:          newErrorLog(o.Logger),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return proxy.WithStreamStop(context.WithValue(ctx, connKey{}, c), l.streams)
		},
		ConnState: l.connState,
	}
	// HTTP/1 only on this server: no client h2c upgrade or prior knowledge.
	l.h1.Protocols = new(http.Protocols)
	l.h1.Protocols.SetHTTP1(true)
	if proto == ir.ProtocolHTTPS {
		l.h2 = &http2.Server{
			MaxConcurrentStreams:      o.MaxConcurrentStreams,
			MaxReadFrameSize:          o.MaxReadFrameSize,
			MaxDecoderHeaderTableSize: 4096,
			MaxEncoderHeaderTableSize: 4096,
			IdleTimeout:               o.IdleTimeout,
			ReadIdleTimeout:           o.IdleTimeout,
			PingTimeout:               15 * time.Second,
			WriteByteTimeout:          30 * time.Second,
			MaxUploadBufferPerStream:  1 << 20,
		}
		// The drain never calls h1.Shutdown (see stopAccepting), so the
		// GOAWAY hook of HTTP/2 connections is registered on a server of
		// its own, whose Shutdown does nothing else.
		goAway := &http.Server{}
		if err := http2.ConfigureServer(goAway, l.h2); err != nil {
			_ = raw.Close()
			return nil, err
		}
		l.goAway = func() { _ = goAway.Shutdown(context.Background()) }
		l.tls = s.tlsConfig(at)
		l.h2opts = &http2.ServeConnOpts{Context: streamCtx, BaseConfig: l.h1, Handler: handler}
	}
	l.wg.Add(2)
	go func() {
		defer l.wg.Done()
		if err := l.h1.Serve(l.h1ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !l.closing.Load() {
			o.Logger.Error("listener stopped", "listener", at.String(), "error", err)
		}
	}()
	go func() {
		defer l.wg.Done()
		defer close(l.acceptDone)
		l.acceptLoop()
	}()
	return l, nil
}

func (l *listener) acceptLoop() {
	var delay time.Duration
	for {
		c, err := l.raw.Accept()
		if err != nil {
			if l.closing.Load() {
				return
			}
			if temporaryAcceptError(err) {
				// Out of file descriptors or a connection reset before
				// accept: wait and try again, as net/http's Serve does,
				// instead of giving the port up.
				delay = nextAcceptDelay(delay)
				l.opts.Logger.Warn("accept failed; retrying", "listener", l.at.String(), "error", err, "retryIn", delay)
				time.Sleep(delay)
				continue
			}
			l.broken.Store(&err)
			l.opts.Logger.Error("listener stopped accepting", "listener", l.at.String(), "error", err)
			if l.onBroken != nil {
				l.onBroken()
			}
			return
		}
		delay = 0
		if l.tls == nil {
			fc := newFramedConn(c, nil, l.opts.MaxHeaderBytes+4096)
			if l.lean {
				go l.newLeanConn(fc).serve()
				continue
			}
			l.h1ln.push(fc)
			continue
		}
		l.handshakes.Add(1)
		go l.serveTLS(c)
	}
}

// nextAcceptDelay doubles the wait between failed accepts from 5ms up to 1s.
func nextAcceptDelay(d time.Duration) time.Duration {
	if d == 0 {
		return 5 * time.Millisecond
	}
	return min(2*d, time.Second)
}

// temporaryAcceptError reports whether an accept error is expected to
// clear up on its own: descriptor or memory exhaustion, a connection that
// went away while queued, an interrupted call, or a timeout.
func temporaryAcceptError(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, e := range []syscall.Errno{
		syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EAGAIN, syscall.EINTR, syscall.EPROTO,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// failure returns why the listener stopped accepting, or nil.
func (l *listener) failure() error {
	if p := l.broken.Load(); p != nil {
		return *p
	}
	return nil
}

// serveTLS completes the handshake within ReadHeaderTimeout, then hands
// HTTP/2 connections to the HTTP/2 server and HTTP/1 ones to h1.
func (l *listener) serveTLS(c net.Conn) {
	handedOver := false
	defer func() {
		if !handedOver {
			l.handshakes.Done()
		}
	}()
	_ = c.SetDeadline(time.Now().Add(l.opts.ReadHeaderTimeout))
	tc := tls.Server(c, l.tls)
	if err := tc.Handshake(); err != nil {
		_ = c.Close()
		return
	}
	_ = c.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	if st.NegotiatedProtocol == http2.NextProtoTLS {
		// Tracked before the handshake counts as done, so that a drain
		// waiting for handshakes then sees this connection.
		l.trackH2(tc, true)
		defer l.trackH2(tc, false)
		handedOver = true
		l.handshakes.Done()
		l.h2.ServeConn(tc, l.h2opts)
		return
	}
	fc := newFramedConn(tc, &st, l.opts.MaxHeaderBytes+4096)
	handedOver = true
	if l.lean {
		lc := l.newLeanConn(fc) // tracked before the handshake counts as done
		l.handshakes.Done()
		lc.serve()
		return
	}
	defer l.handshakes.Done()
	l.h1ln.push(fc)
}
