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
	m  map[string]*http.Transport
}

func newTransportPool(o TransportOptions) *transportPool {
	return &transportPool{opts: o.withDefaults(), m: map[string]*http.Transport{}}
}

func backendKey(b *ir.Backend) (string, bool) {
	h2c := strings.EqualFold(b.AppProtocol, appProtocolH2C)
	proto := "h1"
	if h2c {
		proto = "h2c"
	}
	return fmt.Sprintf("%s/%s:%d/%s", b.Namespace, b.Name, b.Port, proto), h2c
}

func (p *transportPool) get(b *ir.Backend) (string, *http.Transport) {
	key, h2c := backendKey(b)
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.m[key]; ok {
		return key, t
	}
	t := p.newTransport(h2c)
	p.m[key] = t
	return key, t
}

// prune closes the idle connections of transports no longer in use. A
// request still running on an old table keeps its transport reference and
// completes normally.
func (p *transportPool) prune(used map[string]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, t := range p.m {
		if !used[k] {
			t.CloseIdleConnections()
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
