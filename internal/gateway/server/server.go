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
	"sync/atomic"
	"time"

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
	// table is the last one reconciled; a listener that stops accepting
	// is reopened from it without waiting for the next publish.
	table *ir.Table
	// reopenDelay is the wait before the first reopen; it doubles up to
	// 30s while reopening fails.
	reopenDelay time.Duration
	reopening   bool

	// draining is set when Drain begins: readiness fails and HTTP/1
	// responses close their connection.
	draining atomic.Bool
	// cutDelay ends a drain's delay early when closed (tests).
	cutDelay chan struct{}
}

// New returns a Server that serves requests with p.
func New(p *proxy.Proxy, o Options) *Server {
	o = o.withDefaults()
	bind := func(addr string, freebind bool) (net.Listener, error) { return listen(addr, freebind, o.ReusePort) }
	return &Server{opts: o, proxy: p, certs: &certCache{m: map[[32]byte]*tls.Certificate{}}, listen: bind, reopenDelay: time.Second, listeners: map[ir.ListenerKey]*listener{}, cutDelay: make(chan struct{})}
}

// Reconcile opens listeners for ports the table has and the server does
// not, reopens those whose protocol changed and closes the rest. Unchanged
// listeners keep their sockets and connections. Call it after publishing
// t to the proxy. A port that cannot be bound is reported and retried on
// the next call.
func (s *Server) Reconcile(t *ir.Table) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reconcileLocked(t)
}

func (s *Server) reconcileLocked(t *ir.Table) error {
	if s.closed {
		if s.draining.Load() {
			return nil // the last table's listeners are draining; nothing opens now
		}
		return errors.New("server is closed")
	}
	s.table = t
	want := map[ir.ListenerKey]ir.Protocol{}
	for _, l := range t.Listeners {
		want[l.Key()] = l.Protocol
	}
	for k, l := range s.listeners {
		// A listener that stopped accepting is reopened too.
		if p, ok := want[k]; !ok || p != l.protocol || l.addr != s.bindAddr(k) || l.failure() != nil {
			delete(s.listeners, k)
			if l.failure() != nil {
				// Free the port now: it is reopened below.
				l.closing.Store(true)
				_ = l.raw.Close()
			}
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

// listenerBroken is called by a listener whose accept loop stopped on an
// error: the port is reopened from the last table after a delay, and
// again with a longer one while that fails. /readyz fails meanwhile.
func (s *Server) listenerBroken() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reopening || s.closed {
		return
	}
	s.reopening = true
	s.scheduleReopen(s.reopenDelay)
}

func (s *Server) scheduleReopen(d time.Duration) {
	time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed || s.table == nil {
			s.reopening = false
			return
		}
		err := s.reconcileLocked(s.table)
		if err == nil && s.checkLocked() == nil {
			s.reopening = false
			s.opts.Logger.Info("listeners reopened")
			return
		}
		next := min(2*d, 30*time.Second)
		s.opts.Logger.Error("reopening listeners failed; retrying", "error", errors.Join(err, s.checkLocked()), "retryIn", next)
		s.scheduleReopen(next)
	})
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
	if s.draining.Load() {
		return ErrDraining
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checkLocked()
}

func (s *Server) checkLocked() error {
	var errs []error
	for _, l := range s.listeners {
		if err := l.failure(); err != nil {
			errs = append(errs, fmt.Errorf("listener %s on %s cannot accept connections: %w", l.at.String(), l.addr, err))
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// newErrorLog routes http.Server's internal errors (TLS handshakes, bad
// requests) to slog at debug level: they are client noise, not faults.
func newErrorLog(l *slog.Logger) *log.Logger {
	return slog.NewLogLogger(l.Handler(), slog.LevelDebug)
}
