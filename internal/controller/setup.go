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

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/capabilities"
	"github.com/pylon-dev/pylon/internal/controller/applier"
	"github.com/pylon-dev/pylon/internal/controller/claims"
	"github.com/pylon-dev/pylon/internal/controller/exposureclass"
	"github.com/pylon-dev/pylon/internal/controller/monitoring"
	"github.com/pylon-dev/pylon/internal/controller/traffic"
	"github.com/pylon-dev/pylon/internal/controller/webapp"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources"
	"github.com/pylon-dev/pylon/internal/memlimit"
)

// ClientOptions are the options of the manager's client: reads from the
// cache wait until it has seen Pylon's own earlier writes, so a reconcile
// never acts on a child or status older than what it just wrote (and never
// writes it again). cmd/manager and the tests use the same.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{EnableReadYourWritesConsistency: ptr.To(true)}}
}

// CacheOptions are the options of the manager's cache (cmd/manager, the
// tests and bench/controller use the same). Cached objects drop what no
// reconcile reads: their managedFields (a fifth of the cache at scale) and
// kubectl's last-applied-configuration annotation (a second copy of the
// object for whoever used kubectl apply). Deployments keep one line of
// their managedFields, whether Pylon's apply owns spec.replicas, which the
// replicas hand-over reads (webapp.TrimManagedFields). Only the
// EndpointSlices of Pylon's own Services are cached (the EndpointSlice
// controller copies a Service's labels onto its slices): a cluster's
// EndpointSlices are many and change with every Pod. Condition words and
// namespace names are shared between cached objects (shareStatusWords,
// webapp.InternNamespace), and HostnameClaims are cached without their
// labels.
func CacheOptions() cache.Options {
	return cache.Options{
		DefaultTransform: trim,
		ByObject: map[client.Object]cache.ByObject{
			&appsv1.Deployment{}: {Transform: trimDeployment},
			&discoveryv1.EndpointSlice{}: {Label: labels.SelectorFromSet(labels.Set{
				resources.LabelManagedBy: resources.ManagedByPylon,
			})},
		},
	}
}

// lastApplied is the annotation kubectl apply (client-side) keeps a copy
// of the whole object in.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// trim is the cache transform of every kind but Deployments. Children of
// WebApps also lose what no reconcile reads of their spec
// (webapp.TrimCachedChild); that needs their managedFields, so it comes
// first.
func trim(in any) (any, error) {
	if o, ok := in.(client.Object); ok {
		webapp.TrimCachedChild(o)
		o.SetManagedFields(nil)
		dropLastApplied(o)
		o.SetNamespace(webapp.InternNamespace(o.GetNamespace()))
		shareStatusWords(o)
		if _, ok := o.(*pylonv1alpha1.HostnameClaim); ok {
			// Its labels are for people and tools (kubectl get -l);
			// Pylon finds claims by their spec (claims.HolderIndex).
			o.SetLabels(nil)
		}
	}
	return in, nil
}

func trimDeployment(in any) (any, error) {
	if d, ok := in.(*appsv1.Deployment); ok {
		webapp.TrimCachedChild(d)
		webapp.TrimManagedFields(d)
		dropLastApplied(d)
		d.Namespace = webapp.InternNamespace(d.Namespace)
		shareStatusWords(d)
	}
	return in, nil
}

func dropLastApplied(o client.Object) {
	delete(o.GetAnnotations(), lastApplied)
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
	// PodsRecheck is how often the Pods of a Deployment that is not
	// available are read again to say why; zero: 30 s.
	PodsRecheck time.Duration
	// Metrics receives the manager's own series (internal/controller/monitoring);
	// nil: none. cmd/manager passes controller-runtime's registry, which
	// the metrics endpoint serves.
	Metrics prometheus.Registerer
	// Verified remembers the children found up to date (applier.Verified);
	// nil: a new one. Tests pass their own to forget it, as a restart does.
	Verified *applier.Verified
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
	// Free pages left by a burst (the first sync, thousands of WebApps at
	// once) go back to the system when the burst is over.
	if err := mgr.Add(memlimit.NewQuietRelease()); err != nil {
		return fmt.Errorf("add memory release: %w", err)
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
		PodsRecheck:             opts.PodsRecheck,
		Metrics:                 metrics,
		Verified:                opts.Verified,
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
