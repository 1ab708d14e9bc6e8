package watch

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/gateway/ir"
	"github.com/pylon-dev/pylon/internal/gateway/translate"
)

// Builder rebuilds and publishes the routing table on every change.
type Builder struct {
	// Cache provides the informers; Reader reads the snapshot (normally
	// the same cache).
	Cache  cache.Cache
	Reader client.Reader
	// GatewayAPI says whether the Gateway API CRDs are installed at start.
	GatewayAPI bool
	// Detect, when set and the CRDs are not installed, is polled every
	// DetectEvery (default 10 s) until it reports them served; then the
	// builder watches the Gateway API too and calls OnGatewayAPI. No
	// restart is needed when the CRDs are installed after the gateway.
	Detect       func() bool
	DetectEvery  time.Duration
	OnGatewayAPI func()
	// HostnameClaims says whether Pylon's HostnameClaim CRD is installed:
	// the translator then reads claims to decide hostname ownership.
	// Without it, ownership falls back to the oldest object.
	HostnameClaims bool
	Addresses      Addresses
	// IngressHTTPPort and IngressHTTPSPort: zero means 80 and 443.
	IngressHTTPPort, IngressHTTPSPort int32

	// Publish receives each valid table (proxy swap, then listener
	// reconcile); Status receives the matching status. Either may be nil.
	Publish func(*ir.Table) error
	// PublishRetry is how soon a table Publish could not apply in full
	// (an error) is handed over again; zero means 5 s.
	PublishRetry time.Duration
	Status       func(translate.StatusUpdates)
	// Applied observes the time from the first event to publication.
	Applied func(time.Duration)

	Debounce, MaxDelay time.Duration
	Logger             *slog.Logger

	generations atomic.Int64
	failures    atomic.Int64
	// published is the fingerprint of the live table; only rebuild writes
	// it, and rebuilds never run concurrently.
	published    [sha256.Size]byte
	hasPublished bool
	gatewayAPI   atomic.Bool
	deb          *debouncer
}

// NeedLeaderElection is false: every replica serves traffic.
func (b *Builder) NeedLeaderElection() bool { return false }

// Generations is how many tables have been published. A rebuild whose
// table equals the live one publishes nothing and does not count.
func (b *Builder) Generations() int64 { return b.generations.Load() }

// Start registers event handlers, waits for the caches and rebuilds on
// every change until ctx ends.
func (b *Builder) Start(ctx context.Context) error {
	if b.Debounce == 0 {
		b.Debounce = 75 * time.Millisecond
	}
	if b.MaxDelay == 0 {
		b.MaxDelay = time.Second
	}
	if b.Logger == nil {
		b.Logger = slog.Default()
	}
	b.deb = newDebouncer(b.Debounce, b.MaxDelay)
	handler := toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { b.deb.trigger() },
		UpdateFunc: func(oldObj, newObj any) {
			if relevantUpdate(oldObj, newObj) {
				b.deb.trigger()
			}
		},
		DeleteFunc: func(any) { b.deb.trigger() },
	}
	b.gatewayAPI.Store(b.GatewayAPI)
	types := watchedTypes(b.GatewayAPI)
	if b.HostnameClaims {
		types = append(types, &pylonv1alpha1.HostnameClaim{})
	}
	if err := b.watch(ctx, types, handler); err != nil {
		return err
	}
	if !b.Cache.WaitForCacheSync(ctx) {
		return fmt.Errorf("caches did not sync: %w", ctx.Err())
	}
	if !b.GatewayAPI && b.Detect != nil {
		go b.detectGatewayAPI(ctx, handler)
	}
	// The first table is built from synced caches, never from a partial
	// view, so nothing is served or reported before the world is known.
	b.rebuild(ctx, time.Now())
	b.deb.loop(ctx, func(first time.Time) { b.rebuild(ctx, first) })
	return nil
}

func (b *Builder) watch(ctx context.Context, objs []client.Object, handler toolscache.ResourceEventHandler) error {
	for _, obj := range objs {
		inf, err := b.Cache.GetInformer(ctx, obj)
		if err != nil {
			return fmt.Errorf("informer for %T: %w", obj, err)
		}
		if _, err := inf.AddEventHandler(handler); err != nil {
			return fmt.Errorf("event handler for %T: %w", obj, err)
		}
	}
	return nil
}

// detectGatewayAPI polls Detect until the Gateway API CRDs are served, then
// watches them (GetInformer waits for the new informers to sync) and
// rebuilds with them.
func (b *Builder) detectGatewayAPI(ctx context.Context, handler toolscache.ResourceEventHandler) {
	every := b.DetectEvery
	if every == 0 {
		every = 10 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !b.Detect() {
			continue
		}
		if err := b.watch(ctx, gatewayAPITypes(), handler); err != nil {
			b.Logger.Error("Gateway API CRDs appeared but cannot be watched yet; retrying", "error", err)
			continue
		}
		b.gatewayAPI.Store(true)
		if b.OnGatewayAPI != nil {
			b.OnGatewayAPI()
		}
		b.Logger.Info("Gateway API CRDs installed; serving Gateways and HTTPRoutes too")
		b.deb.trigger()
		return
	}
}

// rebuild publishes a new table, or keeps the previous one when the
// snapshot cannot be read or the table is invalid (a translator bug).
func (b *Builder) rebuild(ctx context.Context, first time.Time) {
	snap, err := b.snapshot(ctx)
	if err != nil {
		b.failures.Add(1)
		b.Logger.Error("reading the snapshot failed; keeping the previous table", "error", err)
		b.deb.trigger() // retry after the debounce
		return
	}
	table, status := translate.Translate(snap)
	if err := table.Validate(); err != nil {
		b.failures.Add(1)
		b.Logger.Error("translator produced an invalid table; keeping the previous one", "error", err)
		return
	}
	// Status is reported either way: a route's observedGeneration
	// advances even when its new generation compiles to the same table.
	if b.publish(table) {
		if b.Applied != nil {
			b.Applied(time.Since(first))
		}
		b.Logger.Debug("routing table published", "generation", b.generations.Load(), "listeners", len(table.Listeners))
	}
	if b.Status != nil {
		b.Status(status)
	}
}

// publish hands table to Publish unless it equals the live one: a new
// table costs the proxy a swap and the server a listener reconcile, and
// an equal one would change nothing. It reports whether it published.
func (b *Builder) publish(table *ir.Table) bool {
	fp, err := table.Fingerprint()
	if err != nil {
		// Cannot tell: publishing is always correct.
		b.Logger.Error("fingerprinting the table failed; publishing it anyway", "error", err)
	} else if b.hasPublished && fp == b.published {
		return false
	}
	b.published, b.hasPublished = fp, err == nil
	if b.Publish != nil {
		if perr := b.Publish(table); perr != nil {
			// Served only in part (a listener could not be opened): the
			// same table is handed over again until it takes, not only
			// when the next change arrives.
			b.hasPublished = false
			retry := b.PublishRetry
			if retry == 0 {
				retry = 5 * time.Second
			}
			b.Logger.Error("the table was not applied in full; retrying", "error", perr, "in", retry)
			time.AfterFunc(retry, b.deb.trigger)
		}
	}
	b.generations.Add(1)
	return true
}
