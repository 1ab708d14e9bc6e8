// Package controller wires Pylon's controllers into a controller-runtime
// manager. cmd/manager and the tests use the same wiring.
package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/discovery"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/pylon-dev/pylon/internal/capabilities"
	"github.com/pylon-dev/pylon/internal/controller/claims"
	"github.com/pylon-dev/pylon/internal/controller/exposureclass"
	"github.com/pylon-dev/pylon/internal/controller/monitoring"
	"github.com/pylon-dev/pylon/internal/controller/traffic"
	"github.com/pylon-dev/pylon/internal/controller/webapp"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources"
)

// ClientOptions are the options of the manager's client: reads from the
// cache wait until it has seen Pylon's own earlier writes, so a reconcile
// never acts on a child or status older than what it just wrote (and never
// writes it again). cmd/manager and the tests use the same.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{EnableReadYourWritesConsistency: ptr.To(true)}}
}

// CacheOptions are the options of the manager's cache. Cached objects drop
// their managedFields, a fifth of the cache at scale and read by nothing
// but the replicas hand-over, which reads a Deployment's: Deployments keep
// theirs. Only the EndpointSlices of Pylon's own Services are cached (the
// EndpointSlice controller copies a Service's labels onto its slices): a
// cluster's EndpointSlices are many and change with every Pod.
func CacheOptions() cache.Options {
	keep := func(o any) (any, error) { return o, nil }
	return cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&appsv1.Deployment{}: {Transform: keep},
			&discoveryv1.EndpointSlice{}: {Label: labels.SelectorFromSet(labels.Set{
				resources.LabelManagedBy: resources.ManagedByPylon,
			})},
		},
	}
}

// Options configure the controllers.
type Options struct {
	// ClusterDomain is the cluster's DNS domain, for in-cluster URLs.
	ClusterDomain string
	// Concurrency is how many WebApps are reconciled at once.
	Concurrency int
	// Clock returns the time; nil means time.Now.
	Clock func() time.Time
	// GatewayMetricsService ("namespace/name") and GatewayMetricsPort (a
	// port name) find the bundled gateway's replicas, whose /metrics the
	// manager reads for canary figures; GatewayMetricsURLs are scraped as
	// they are. All empty: canaries on the bundled gateway report no
	// figures and analysis is refused.
	GatewayMetricsService string
	GatewayMetricsPort    string
	GatewayMetricsURLs    []string
	// CanaryDrain is how long a retiring canary gets no requests before it
	// is deleted; zero: 10 s.
	CanaryDrain time.Duration
	// Metrics receives the manager's own series (internal/controller/monitoring);
	// nil: none. cmd/manager passes controller-runtime's registry, which
	// the metrics endpoint serves.
	Metrics prometheus.Registerer
}

// Setup registers Pylon's controllers with mgr. Optional APIs (Gateway API,
// cert-manager, external-dns) served now are watched from the start; those
// installed later are picked up by the capabilities watcher.
func Setup(ctx context.Context, mgr ctrl.Manager, opts Options) error {
	dc, err := discovery.NewDiscoveryClientForConfig(mgr.GetConfig())
	if err != nil {
		return err
	}
	caps := capabilities.NewSet(dc)
	if _, err := caps.Refresh(ctx); err != nil {
		return fmt.Errorf("discover optional APIs: %w", err)
	}
	hostnames := &claims.Claims{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader()}
	var metrics *monitoring.Metrics
	if opts.Metrics != nil {
		if metrics, err = monitoring.Register(opts.Metrics, mgr.GetCache(), mgr.Elected()); err != nil {
			return fmt.Errorf("register metrics: %w", err)
		}
	}
	apps := &webapp.Reconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Recorder:                mgr.GetEventRecorder("pylon"),
		Caps:                    caps,
		Claims:                  hostnames,
		ClusterDomain:           opts.ClusterDomain,
		MaxConcurrentReconciles: opts.Concurrency,
		Clock:                   opts.Clock,
		CanaryDrain:             opts.CanaryDrain,
		Metrics:                 metrics,
	}
	if opts.GatewayMetricsService != "" || len(opts.GatewayMetricsURLs) > 0 {
		apps.GatewayMetrics = &traffic.GatewaySource{
			URLs: opts.GatewayMetricsURLs, Service: opts.GatewayMetricsService, Port: opts.GatewayMetricsPort,
			Reader: mgr.GetAPIReader(), Clock: opts.Clock,
		}
	}
	if err := apps.SetupWithManager(ctx, mgr); err != nil {
		return fmt.Errorf("webapp controller: %w", err)
	}
	classes := &exposureclass.Reconciler{Client: mgr.GetClient(), Caps: caps}
	if err := classes.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("exposureclass controller: %w", err)
	}
	if err := (&claims.Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader()}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("hostname claim controller: %w", err)
	}
	return (&capabilities.Watcher{Set: caps, OnAdded: func(ctx context.Context, api capabilities.API) error {
		ctrl.LoggerFrom(ctx).Info("optional API installed", "api", api.Name)
		return errors.Join(apps.APIAdded(ctx, api), classes.APIAdded(ctx, api))
	}}).SetupWithManager(mgr)
}
