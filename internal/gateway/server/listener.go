package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
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
	wg   sync.WaitGroup
}

type connKey struct{}

// connFrom returns the framed HTTP/1 connection a request came on, or nil
// for HTTP/2.
func connFrom(ctx context.Context) *framedConn {
	c, _ := ctx.Value(connKey{}).(*framedConn)
	return c
}

func (s *Server) openListener(at ir.ListenerKey, proto ir.Protocol, addr string) (*listener, error) {
	raw, err := listen(addr, at.Address != "")
	if err != nil {
		return nil, err
	}
	o := s.opts
	l := &listener{at: at, protocol: proto, addr: addr, opts: o, raw: raw, h1ln: newChanListener(raw.Addr())}
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
			return context.WithValue(ctx, connKey{}, c)
		},
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
		// Registers graceful shutdown of HTTP/2 connections with h1.Shutdown.
		if err := http2.ConfigureServer(l.h1, l.h2); err != nil {
			_ = raw.Close()
			return nil, err
		}
		l.tls = s.tlsConfig(at)
	}
	l.wg.Add(2)
	go func() {
		defer l.wg.Done()
		if err := l.h1.Serve(l.h1ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.Logger.Error("listener stopped", "listener", at.String(), "error", err)
		}
	}()
	go func() {
		defer l.wg.Done()
		l.acceptLoop(handler)
	}()
	return l, nil
}

func (l *listener) acceptLoop(handler http.Handler) {
	for {
		c, err := l.raw.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			l.opts.Logger.Error("accept failed", "listener", l.at.String(), "error", err)
			return
		}
		if l.tls == nil {
			l.h1ln.push(newFramedConn(c, nil, l.opts.MaxHeaderBytes+4096))
			continue
		}
		go l.serveTLS(c, handler)
	}
}

// serveTLS completes the handshake within ReadHeaderTimeout, then hands
// HTTP/2 connections to the HTTP/2 server and HTTP/1 ones to h1.
func (l *listener) serveTLS(c net.Conn, handler http.Handler) {
	_ = c.SetDeadline(time.Now().Add(l.opts.ReadHeaderTimeout))
	tc := tls.Server(c, l.tls)
	if err := tc.Handshake(); err != nil {
		_ = c.Close()
		return
	}
	_ = c.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	if st.NegotiatedProtocol == http2.NextProtoTLS {
		l.h2.ServeConn(tc, &http2.ServeConnOpts{BaseConfig: l.h1, Handler: handler})
		return
	}
	l.h1ln.push(newFramedConn(tc, &st, l.opts.MaxHeaderBytes+4096))
}

// shutdown stops accepting and drains in-flight requests.
func (l *listener) shutdown(ctx context.Context) {
	_ = l.raw.Close()
	_ = l.h1ln.Close()
	if err := l.h1.Shutdown(ctx); err != nil {
		_ = l.h1.Close()
	}
	l.wg.Wait()
}
