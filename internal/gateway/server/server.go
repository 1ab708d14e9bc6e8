package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
	"github.com/pylon-dev/pylon/internal/gateway/proxy"
)

// Server keeps one listener per port of the current table.
type Server struct {
	opts  Options
	proxy *proxy.Proxy
	certs *certCache

	mu        sync.Mutex
	listeners map[int32]*listener
	closed    bool
}

// New returns a Server that serves requests with p.
func New(p *proxy.Proxy, o Options) *Server {
	return &Server{opts: o.withDefaults(), proxy: p, certs: &certCache{m: map[[32]byte]*tls.Certificate{}}, listeners: map[int32]*listener{}}
}

// Reconcile opens listeners for ports the table has and the server does
// not, reopens those whose protocol changed and closes the rest. Unchanged
// listeners keep their sockets and connections. Call it after publishing
// t to the proxy. A port that cannot be bound is reported and retried on
// the next call.
func (s *Server) Reconcile(t *ir.Table) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("server is closed")
	}
	want := map[int32]ir.Protocol{}
	for _, l := range t.Listeners {
		want[l.Port] = l.Protocol
	}
	for port, l := range s.listeners {
		if p, ok := want[port]; !ok || p != l.protocol || l.addr != s.bindAddr(port) {
			delete(s.listeners, port)
			go s.drain(l)
		}
	}
	var errs []error
	for _, l := range t.Listeners {
		if _, ok := s.listeners[l.Port]; ok {
			continue
		}
		nl, err := s.openListener(l.Port, l.Protocol, s.bindAddr(l.Port))
		if err != nil {
			errs = append(errs, fmt.Errorf("listen on port %d: %w", l.Port, err))
			continue
		}
		s.opts.Logger.Info("listener opened", "port", l.Port, "protocol", l.Protocol, "address", nl.raw.Addr().String())
		s.listeners[l.Port] = nl
	}
	return errors.Join(errs...)
}

func (s *Server) bindAddr(port int32) string {
	return net.JoinHostPort(s.opts.BindAddress, strconv.Itoa(int(port+s.opts.PortOffset)))
}

func (s *Server) drain(l *listener) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	l.shutdown(ctx)
	s.opts.Logger.Info("listener closed", "port", l.port, "protocol", l.protocol)
}

// Addr returns the bound address of a table port, or nil.
func (s *Server) Addr(port int32) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.listeners[port]; l != nil {
		return l.raw.Addr()
	}
	return nil
}

// Shutdown closes every listener, draining in-flight requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) {
	s.mu.Lock()
	s.closed = true
	ls := s.listeners
	s.listeners = map[int32]*listener{}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Go(func() { l.shutdown(ctx) })
	}
	wg.Wait()
}

// newErrorLog routes http.Server's internal errors (TLS handshakes, bad
// requests) to slog at debug level: they are client noise, not faults.
func newErrorLog(l *slog.Logger) *log.Logger {
	return slog.NewLogLogger(l.Handler(), slog.LevelDebug)
}
