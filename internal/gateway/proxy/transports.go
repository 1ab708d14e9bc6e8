package proxy

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
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

	mu sync.Mutex
	m  map[string]*backendTransport
}

// backendTransport is a backend's http.Transport and, for plain HTTP/1.1
// backends, the lean client of the fast path (fastpath.go).
type backendTransport struct {
	t  *http.Transport
	h1 *h1Pool
}

func newTransportPool(o TransportOptions) *transportPool {
	return &transportPool{opts: o.withDefaults(), m: map[string]*backendTransport{}}
}

func backendKey(b *ir.Backend) (string, bool) {
	h2c := strings.EqualFold(b.AppProtocol, appProtocolH2C)
	proto := "h1"
	if h2c {
		proto = "h2c"
	}
	return fmt.Sprintf("%s/%s:%d/%s", b.Namespace, b.Name, b.Port, proto), h2c
}

func (p *transportPool) get(b *ir.Backend) (string, *http.Transport, *h1Pool) {
	key, h2c := backendKey(b)
	p.mu.Lock()
	defer p.mu.Unlock()
	bt, ok := p.m[key]
	if !ok {
		bt = &backendTransport{t: p.newTransport(h2c)}
		if !h2c {
			bt.h1 = newH1Pool(p.opts)
		}
		p.m[key] = bt
	}
	return key, bt.t, bt.h1
}

// prune closes the idle connections of transports no longer in use. A
// request still running on an old table keeps its transport reference and
// completes normally.
func (p *transportPool) prune(used map[string]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, t := range p.m {
		if !used[k] {
			t.t.CloseIdleConnections()
			if t.h1 != nil {
				t.h1.closeIdle(true)
			}
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
