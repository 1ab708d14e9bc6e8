package webapp

import (
	"context"
	"fmt"
	"strings"
	"sync"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/capabilities"
	"github.com/pylon-dev/pylon/internal/controller/applier"
	"github.com/pylon-dev/pylon/internal/controller/claims"
	"github.com/pylon-dev/pylon/internal/controller/index"
	"github.com/pylon-dev/pylon/internal/controller/traffic"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
	externaldnsv1alpha1 "github.com/pylon-dev/pylon/internal/externaldns/v1alpha1"
)

// tlsSecretIndex indexes WebApps by the name of the TLS Secret they use.
const tlsSecretIndex = "pylon.dev/tls-secret"

// watches holds what is needed to start watches after the manager started.
type watches struct {
	ctrl    controller.Controller
	cache   cache.Cache
	indexer client.FieldIndexer
	kick    chan event.GenericEvent
	mu      sync.Mutex
	on      map[string]bool
}

// SetupWithManager registers the reconciler, its indexes and its watches.
// Children are watched by name, not only by owner reference, so that
// removing an object Pylon refused to adopt brings the WebApp back to work
// at once. Kinds of optional APIs are watched from when the API is served.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.Traffic == nil {
		r.Traffic = traffic.NewTracker()
	}
	if r.Verified == nil {
		r.Verified = applier.NewVerified()
	}
	// Hostname, holder and route host lookups span namespaces; TLS Secret
	// lookups stay in the Secret's: each index keeps the one form its
	// lookups use (package index).
	wide := index.ClusterWide(mgr.GetCache())
	if err := claims.SetupIndex(ctx, wide); err != nil {
		return err
	}
	if err := index.Namespaced(mgr.GetCache()).IndexField(ctx, &pylonv1alpha1.WebApp{}, tlsSecretIndex, func(o client.Object) []string {
		app := o.(*pylonv1alpha1.WebApp)
		if app.Spec.Hostname == "" || (app.Spec.TLS != nil && app.Spec.TLS.Mode == pylonv1alpha1.TLSDisabled) {
			return nil // served without TLS whatever its class says: no Secret of its changes anything
		}
		if app.Spec.TLS != nil && app.Spec.TLS.SecretName != "" {
			return []string{app.Spec.TLS.SecretName}
		}
		return []string{names.TLSSecret(app)}
	}); err != nil {
		return err
	}
	idx := mgr.GetFieldIndexer()
	for _, i := range []struct {
		obj   client.Object
		field string
		fn    client.IndexerFunc
	}{
		{&pylonv1alpha1.WebApp{}, classIndex, classIndexValue},
		{&pylonv1alpha1.WebApp{}, issuerIndex, issuerIndexValue},
	} {
		if err := idx.IndexField(ctx, i.obj, i.field, i.fn); err != nil {
			return fmt.Errorf("index %T by %s: %w", i.obj, i.field, err)
		}
	}
	if err := wide.IndexField(ctx, &networkingv1.Ingress{}, ingressHostIndex, routeHostnames); err != nil {
		return fmt.Errorf("index Ingresses by %s: %w", ingressHostIndex, err)
	}
	byName := handler.EnqueueRequestsFromMapFunc(r.webAppsNamedLike)
	byNameOrHost := handler.EnqueueRequestsFromMapFunc(r.webAppsNamedLikeOrWanting)
	kick := make(chan event.GenericEvent)
	c, err := ctrl.NewControllerManagedBy(mgr).
		For(&pylonv1alpha1.WebApp{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&appsv1.Deployment{}, byName).
		Watches(&corev1.Service{}, byName).
		// A canary gets a share once its Service lists a ready endpoint.
		Watches(&discoveryv1.EndpointSlice{}, handler.EnqueueRequestsFromMapFunc(r.webAppOfCanaryEndpoints)).
		Watches(&autoscalingv2.HorizontalPodAutoscaler{}, byName).
		Watches(&policyv1.PodDisruptionBudget{}, byName).
		Watches(&networkingv1.Ingress{}, byNameOrHost).
		Watches(&pylonv1alpha1.ExposureClass{}, handler.EnqueueRequestsFromMapFunc(r.webAppsOfClass), builder.WithPredicates(specOrAnnotationsChanged)).
		Watches(&networkingv1.IngressClass{}, handler.EnqueueRequestsFromMapFunc(r.webAppsOfIngressClass), builder.WithPredicates(specOrAnnotationsChanged)).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.webAppsInNamespace)).
		Watches(&pylonv1alpha1.HostnameClaim{}, handler.EnqueueRequestsFromMapFunc(r.Claims.WebAppsWanting)).
		// A WebApp that was due to claim a hostname first may go away or
		// change hostname before it ever claims: wake those waiting behind it.
		Watches(&pylonv1alpha1.WebApp{}, handler.EnqueueRequestsFromMapFunc(r.Claims.WebAppsWanting), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.webAppsUsingSecret)).
		WatchesRawSource(source.Channel(kick, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(r.MaxConcurrentReconciles, 1)}).
		Named("webapp").
		Build(r)
	if err != nil {
		return err
	}
	r.watches = &watches{ctrl: c, cache: mgr.GetCache(), indexer: wide, kick: kick, on: map[string]bool{}}
	for _, api := range capabilities.All {
		if r.Caps.Has(api) {
			if err := r.watchAPI(api); err != nil {
				return err
			}
		}
	}
	return nil
}

// APIAdded starts watching the kinds of an API installed after start-up, and
// reconciles every WebApp again: those waiting for it can now proceed.
func (r *Reconciler) APIAdded(ctx context.Context, api capabilities.API) error {
	if err := r.watchAPI(api); err != nil {
		return err
	}
	list := &pylonv1alpha1.WebAppList{}
	if err := r.List(ctx, list); err != nil {
		return err
	}
	go func() {
		for i := range list.Items {
			select {
			case r.watches.kick <- event.GenericEvent{Object: &list.Items[i]}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return nil
}

func (r *Reconciler) watchAPI(api capabilities.API) error {
	w := r.watches
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.on[api.Name] {
		return nil
	}
	byNameOrHost := handler.EnqueueRequestsFromMapFunc(r.webAppsNamedLikeOrWanting)
	byName := handler.EnqueueRequestsFromMapFunc(r.webAppsNamedLike)
	var srcs []source.Source
	switch api.Name {
	case capabilities.GatewayAPI.Name:
		// Indexes may be added to an informer that already runs.
		ctx := context.Background()
		if err := w.indexer.IndexField(ctx, &gwv1.HTTPRoute{}, httpRouteHostIndex, routeHostnames); err != nil {
			return fmt.Errorf("index HTTPRoutes by hostname: %w", err)
		}
		if err := w.indexer.IndexField(ctx, &gwv1.ListenerSet{}, listenerSetHostIndex, routeHostnames); err != nil {
			return fmt.Errorf("index ListenerSets by hostname: %w", err)
		}
		srcs = []source.Source{
			source.Kind(w.cache, client.Object(&gwv1.HTTPRoute{}), byNameOrHost),
			source.Kind(w.cache, client.Object(&gwv1.ListenerSet{}), byNameOrHost),
			source.Kind(w.cache, client.Object(&gwv1.Gateway{}), handler.EnqueueRequestsFromMapFunc(r.webAppsOfGateway), gatewayChanged),
			source.Kind(w.cache, client.Object(&gwv1.GatewayClass{}), handler.EnqueueRequestsFromMapFunc(r.webAppsOfGatewayClass), specOrAnnotationsChanged),
		}
	case capabilities.CertManager.Name:
		// CertificateReady names an issuer cert-manager reports not ready;
		// its recovery (or failure) wakes the WebApps using it.
		byIssuer := handler.EnqueueRequestsFromMapFunc(r.webAppsOfIssuer)
		srcs = []source.Source{
			source.Kind(w.cache, client.Object(&certmanagerv1.Certificate{}), byName),
			source.Kind(w.cache, client.Object(&certmanagerv1.Issuer{}), byIssuer, issuerChanged),
			source.Kind(w.cache, client.Object(&certmanagerv1.ClusterIssuer{}), byIssuer, issuerChanged),
		}
	case capabilities.ExternalDNS.Name:
		srcs = []source.Source{source.Kind(w.cache, client.Object(&externaldnsv1alpha1.DNSEndpoint{}), byName)}
	}
	for _, s := range srcs {
		if err := w.ctrl.Watch(s); err != nil {
			return fmt.Errorf("watch %s: %w", api.Name, err)
		}
	}
	w.on[api.Name] = true
	return nil
}

// webAppsNamedLike maps a child-kind object to the WebApp whose child it is
// or would be, if such a WebApp exists.
func (r *Reconciler) webAppsNamedLike(ctx context.Context, obj client.Object) []reconcile.Request {
	candidates := []string{obj.GetName()}
	for _, suffix := range []string{names.CanarySuffix, "-redirect"} {
		if base, ok := strings.CutSuffix(obj.GetName(), suffix); ok {
			candidates = append(candidates, base)
		}
	}
	var out []reconcile.Request
	for _, n := range candidates {
		key := types.NamespacedName{Namespace: obj.GetNamespace(), Name: n}
		err := r.Get(ctx, key, &pylonv1alpha1.WebApp{})
		switch {
		case err == nil:
			out = append(out, reconcile.Request{NamespacedName: key})
		case !apierrors.IsNotFound(err):
			ctrl.LoggerFrom(ctx).Error(err, "read the WebApp a watched object may belong to", "webapp", key)
		}
	}
	return out
}

// webAppOfCanaryEndpoints maps an EndpointSlice of a canary Service to its
// WebApp. Slices of other Services decide nothing: they wake nobody.
func (r *Reconciler) webAppOfCanaryEndpoints(ctx context.Context, obj client.Object) []reconcile.Request {
	svc := obj.GetLabels()[discoveryv1.LabelServiceName]
	base, ok := strings.CutSuffix(svc, names.CanarySuffix)
	if !ok || base == "" {
		return nil
	}
	key := types.NamespacedName{Namespace: obj.GetNamespace(), Name: base}
	switch err := r.Get(ctx, key, &pylonv1alpha1.WebApp{}); {
	case err == nil:
		return []reconcile.Request{{NamespacedName: key}}
	case !apierrors.IsNotFound(err):
		ctrl.LoggerFrom(ctx).Error(err, "read the WebApp a canary EndpointSlice may belong to", "webapp", key)
	}
	return nil
}

func (r *Reconciler) webAppsInNamespace(ctx context.Context, ns client.Object) []reconcile.Request {
	return r.requestsFor(ctx, client.InNamespace(ns.GetName()))
}

func (r *Reconciler) webAppsUsingSecret(ctx context.Context, s client.Object) []reconcile.Request {
	return r.requestsFor(ctx, client.InNamespace(s.GetNamespace()), client.MatchingFields{tlsSecretIndex: s.GetName()})
}

// webAppsNamedLikeOrWanting maps a route object to the WebApp whose child
// it would be and to every WebApp of another namespace wanting one of its
// hostnames: an HTTPRoute, ListenerSet or Ingress of another namespace
// serving a hostname keeps a WebApp from claiming it, and its removal
// lets the WebApp claim.
func (r *Reconciler) webAppsNamedLikeOrWanting(ctx context.Context, obj client.Object) []reconcile.Request {
	out := r.webAppsNamedLike(ctx, obj)
	for _, h := range hostnamesOf(obj) {
		for _, req := range r.requestsFor(ctx, client.MatchingFields{claims.HostnameIndex: claims.Normalize(h)}) {
			if req.Namespace != obj.GetNamespace() {
				out = append(out, req)
			}
		}
	}
	return out
}

// hostnamesOf lists the hostnames a route object asks for.
func hostnamesOf(obj client.Object) []string {
	var out []string
	switch o := obj.(type) {
	case *gwv1.HTTPRoute:
		for _, h := range o.Spec.Hostnames {
			out = append(out, string(h))
		}
	case *gwv1.ListenerSet:
		for _, l := range o.Spec.Listeners {
			if l.Hostname != nil {
				out = append(out, string(*l.Hostname))
			}
		}
	case *networkingv1.Ingress:
		for _, rule := range o.Spec.Rules {
			if rule.Host != "" {
				out = append(out, rule.Host)
			}
		}
		for _, tl := range o.Spec.TLS {
			out = append(out, tl.Hosts...)
		}
	}
	return out
}

// requestsFor lists WebApps as requests. A map function cannot return an
// error: a failed List is logged, and the WebApps concerned are retried
// by their own events and resyncs.
func (r *Reconciler) requestsFor(ctx context.Context, opts ...client.ListOption) []reconcile.Request {
	list := &pylonv1alpha1.WebAppList{}
	if err := r.List(ctx, list, opts...); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "list WebApps to reconcile after a watched object changed")
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return out
}
