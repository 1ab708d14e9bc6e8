package proxy

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// appProtocolH2C is the Service appProtocol that asks for cleartext HTTP/2
// with prior knowledge.
const appProtocolH2C = "kubernetes.io/h2c"

// TransportOptions size the backend connection pools.
type TransportOptions struct {
	// DialTimeout bounds connection setup; a failure ejects the endpoint.
	DialTimeout time.Duration
	// MaxIdleConnsPerHost is the idle keep-alive pool per endpoint. It must
	// cover the expected concurrency or connections churn under load.
	MaxIdleConnsPerHost int
	// IdleConnTimeout closes pooled connections nobody used for this long.
	IdleConnTimeout time.Duration
}

func (o TransportOptions) withDefaults() TransportOptions {
	if o.DialTimeout == 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.MaxIdleConnsPerHost == 0 {
		o.MaxIdleConnsPerHost = 256
	}
	if o.IdleConnTimeout == 0 {
		o.IdleConnTimeout = 90 * time.Second
	}
	return o
}

// transportPool keeps one long-lived transport per backend and protocol.
// Table swaps reuse them, so keep-alive connections survive configuration
// changes; transports of backends that disappeared are released by prune.
type transportPool struct {
	opts TransportOptions
	// dialer is shared by every h1Pool: its settings are the pool's.
	dialer *net.Dialer

	mu sync.Mutex
	m  map[string]*backendTransport
}

// backendTransport is a backend's http.Transport and, for plain HTTP/1.1
// backends, the lean client of the fast path (fastpath.go).
//
// The http.Transport is created on first use: a plain HTTP/1.1 backend
// needs it only for what the fast path does not take (bodies, upgrades,
// non-idempotent methods), and an idle http.Transport is ~0.5 KiB, which
// a table of many routes paid per backend whether it was used or not.
type backendTransport struct {
	key  string // in transportPool.m
	h2c  bool
	pool *transportPool

	mu sync.Mutex // serializes the creation of t
	t  atomic.Pointer[http.Transport]
	h1 *h1Pool
}

// transport returns the backend's http.Transport, created on first use.
func (bt *backendTransport) transport() *http.Transport {
	if t := bt.t.Load(); t != nil {
		return t
	}
	bt.mu.Lock()
	defer bt.mu.Unlock()
	t := bt.t.Load()
	if t == nil {
		t = bt.pool.newTransport(bt.h2c)
		bt.t.Store(t)
	}
	return t
}

// RoundTrip sends req with the backend's http.Transport.
func (bt *backendTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return bt.transport().RoundTrip(req)
}

// closeIdle closes the idle connections of both clients; the h1Pool keeps
// no new ones after.
func (bt *backendTransport) closeIdle() {
	if t := bt.t.Load(); t != nil {
		t.CloseIdleConnections()
	}
	if bt.h1 != nil {
		bt.h1.closeIdle()
	}
}

func newTransportPool(o TransportOptions) *transportPool {
	o = o.withDefaults()
	return &transportPool{opts: o, dialer: &net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}, m: map[string]*backendTransport{}}
}

func backendKey(b *ir.Backend) (string, bool) {
	h2c := strings.EqualFold(b.AppProtocol, appProtocolH2C)
	proto := "h1"
	if h2c {
		proto = "h2c"
	}
	return fmt.Sprintf("%s/%s:%d/%s", b.Namespace, b.Name, b.Port, proto), h2c
}

// get returns the transport of b, created on first use; its key names it.
func (p *transportPool) get(b *ir.Backend) *backendTransport {
	key, h2c := backendKey(b)
	p.mu.Lock()
	defer p.mu.Unlock()
	bt, ok := p.m[key]
	if !ok {
		bt = &backendTransport{key: key, h2c: h2c, pool: p}
		if !h2c {
			bt.h1 = newH1Pool(p.opts, p.dialer)
		}
		p.m[key] = bt
	}
	return bt
}

// prune closes the idle connections of transports no longer in use. A
// request still running on an old table keeps its transport reference and
// completes normally.
func (p *transportPool) prune(used map[string]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, t := range p.m {
		if !used[k] {
			t.closeIdle()
			delete(p.m, k)
		}
	}
}

func (p *transportPool) newTransport(h2c bool) *http.Transport {
	d := &net.Dialer{Timeout: p.opts.DialTimeout, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		DialContext:         d.DialContext,
		MaxIdleConns:        0, // no global cap: the per-host cap bounds it
		MaxIdleConnsPerHost: p.opts.MaxIdleConnsPerHost,
		IdleConnTimeout:     p.opts.IdleConnTimeout,
		// The client's Accept-Encoding is forwarded as is; the transport
		// must not add gzip and transparently decompress.
		DisableCompression:    true,
		ExpectContinueTimeout: time.Second,
	}
	if h2c {
		t.Protocols = new(http.Protocols)
		t.Protocols.SetUnencryptedHTTP2(true)
	}
	return t
}
