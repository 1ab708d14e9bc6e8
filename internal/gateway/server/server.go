package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
	"github.com/pylon-dev/pylon/internal/gateway/proxy"
)

// Server keeps one listener per (address, port) of the current table.
type Server struct {
	opts  Options
	proxy *proxy.Proxy
	certs *certCache

	// listen binds a port; tests replace it to inject accept failures.
	listen func(addr string, freebind bool) (net.Listener, error)

	mu        sync.Mutex
	listeners map[ir.ListenerKey]*listener
	closed    bool
}

// New returns a Server that serves requests with p.
func New(p *proxy.Proxy, o Options) *Server {
	return &Server{opts: o.withDefaults(), proxy: p, certs: &certCache{m: map[[32]byte]*tls.Certificate{}}, listen: listen, listeners: map[ir.ListenerKey]*listener{}}
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
	want := map[ir.ListenerKey]ir.Protocol{}
	for _, l := range t.Listeners {
		want[l.Key()] = l.Protocol
	}
	for k, l := range s.listeners {
		// A listener that stopped accepting is reopened too.
		if p, ok := want[k]; !ok || p != l.protocol || l.addr != s.bindAddr(k) || l.failure() != nil {
			delete(s.listeners, k)
			go s.drain(l)
		}
	}
	var errs []error
	for _, l := range t.Listeners {
		k := l.Key()
		if _, ok := s.listeners[k]; ok {
			continue
		}
		nl, err := s.openListener(k, l.Protocol, s.bindAddr(k))
		if err != nil {
			errs = append(errs, fmt.Errorf("listen on %s: %w", s.bindAddr(k), err))
			continue
		}
		s.opts.Logger.Info("listener opened", "port", l.Port, "protocol", l.Protocol, "address", nl.raw.Addr().String())
		s.listeners[k] = nl
	}
	return errors.Join(errs...)
}

// bindAddr is where a table listener binds: its own address, or the
// shared BindAddress; the port is shifted by PortOffset.
func (s *Server) bindAddr(k ir.ListenerKey) string {
	host := s.opts.BindAddress
	if k.Address != "" {
		host = k.Address
	}
	return net.JoinHostPort(host, strconv.Itoa(int(k.Port+s.opts.PortOffset)))
}

func (s *Server) drain(l *listener) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	l.shutdown(ctx)
	s.opts.Logger.Info("listener closed", "port", l.at.Port, "protocol", l.protocol, "address", l.addr)
}

// Addr returns the bound address of a table port on the shared address,
// or nil.
func (s *Server) Addr(port int32) net.Addr { return s.AddrOf(ir.ListenerKey{Port: port}) }

// AddrOf returns the bound address of a table listener, or nil.
func (s *Server) AddrOf(k ir.ListenerKey) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.listeners[k]; l != nil {
		return l.raw.Addr()
	}
	return nil
}

// Check reports listeners that can no longer accept connections, naming
// each; nil when every open listener accepts. /readyz fails on it, so a
// port that stopped taking connections is not silently dropped: the Pod
// leaves the Service until the next Reconcile reopens the port.
func (s *Server) Check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, l := range s.listeners {
		if err := l.failure(); err != nil {
			errs = append(errs, fmt.Errorf("listener %s on %s cannot accept connections: %w", l.at.String(), l.addr, err))
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// Shutdown closes every listener, draining in-flight requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) {
	s.mu.Lock()
	s.closed = true
	ls := s.listeners
	s.listeners = map[ir.ListenerKey]*listener{}
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
