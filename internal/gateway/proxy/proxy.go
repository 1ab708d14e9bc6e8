package proxy

import (
	"log/slog"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// Options configure a Proxy.
type Options struct {
	Transport TransportOptions
	// EjectBase and EjectMax bound passive ejection after connect failures.
	EjectBase, EjectMax time.Duration
	// ConnectAttempts is how many endpoints a request without a body tries
	// when connecting fails (nothing was sent, so retrying is safe).
	ConnectAttempts int
	// RequestBodyIdleTimeout is the longest wait for the next bytes of a
	// request body; a client that trickles or stalls its body is cut off
	// (408) and the backend connection released. 0 means 30s; negative
	// disables it.
	RequestBodyIdleTimeout time.Duration
	// AccessLog receives one record per request; nil disables it.
	AccessLog *slog.Logger
	// Metrics; nil creates unregistered ones.
	Metrics *Metrics
}

// Proxy serves requests from the currently published table.
type Proxy struct {
	opts    Options
	state   atomic.Pointer[State]
	pool    *transportPool
	ejector *ejector
	metrics *Metrics
	// noRoute holds the series of requests no route answered.
	noRoute *routeMetrics
	rp      *httputil.ReverseProxy
	bufs    *bufferPool
	// release returns the memory of large table builds to the system.
	release *memoryRelease

	publishMu sync.Mutex
	gen       int64
}

// New returns a Proxy with no table: it answers 503 until Publish.
func New(o Options) *Proxy {
	if o.EjectBase == 0 {
		o.EjectBase = time.Second
	}
	if o.EjectMax == 0 {
		o.EjectMax = 30 * time.Second
	}
	if o.RequestBodyIdleTimeout == 0 {
		o.RequestBodyIdleTimeout = 30 * time.Second
	}
	if o.ConnectAttempts == 0 {
		o.ConnectAttempts = 3
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	p := &Proxy{
		opts:    o,
		pool:    newTransportPool(o.Transport),
		ejector: newEjector(o.EjectBase, o.EjectMax),
		metrics: o.Metrics,
		noRoute: newRouteMetrics(routeKey{}, "none"),
		release: newMemoryRelease(),
	}
	p.bufs = newBufferPool()
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      roundTripper{p},
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
		BufferPool:     p.bufs,
		// Zero still flushes text/event-stream and unknown-length bodies
		// at once (FlushInterval -1 semantics); other bodies are buffered
		// for throughput.
		FlushInterval: 0,
		ErrorLog:      slog.NewLogLogger(slog.Default().Handler(), slog.LevelDebug),
	}
	return p
}

// Publish makes t the table new requests use and returns its generation.
// t must be finalized and valid. Requests already running finish on the
// table they started with.
func (p *Proxy) Publish(t *ir.Table) int64 {
	p.publishMu.Lock()
	defer p.publishMu.Unlock()
	p.gen++
	// The previous state hands its balancing over: a swap must not reset it.
	s := newState(t, p.gen, p.pool, p.state.Load())
	p.metrics.retain(s.metrics) // before serving: deletes series of routes and backends s dropped
	p.ejector.forgetMissing(t)
	p.state.Store(s)
	p.pool.prune(s.usedTransportKeys())
	p.metrics.generation.Set(float64(p.gen))
	p.release.afterPublish()
	return p.gen
}

// State returns the published state, or nil before the first Publish.
func (p *Proxy) State() *State { return p.state.Load() }

// Ready reports whether a table has been published.
func (p *Proxy) Ready() bool { return p.state.Load() != nil }

// Metrics returns the proxy's metrics.
func (p *Proxy) Metrics() *Metrics { return p.metrics }

// Handler serves requests arriving on a table listener (address, port).
// scheme is "http" or "https" and is what redirects and
// X-Forwarded-Proto default to.
func (p *Proxy) Handler(at ir.ListenerKey, scheme string) http.Handler {
	return &listenerHandler{p: p, at: at, scheme: scheme}
}
