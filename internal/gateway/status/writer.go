package status

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/internal/gateway/translate"
)

// Writer writes the latest StatusUpdates. Update may be called at any rate
// from any replica; only the leader's Start loop writes, and it always
// writes the newest value, skipping intermediate ones.
type Writer struct {
	// Client reads (normally from the cache) and patches status.
	Client client.Client
	// GatewayAPI says whether the Gateway API CRDs are installed at start;
	// EnableGatewayAPI says they have been since.
	GatewayAPI bool
	Logger     *slog.Logger
	// Now is the clock for lastTransitionTime; nil means time.Now.
	Now func() time.Time
	// Recorder, when set, records an Event on each object of
	// StatusUpdates.Rejections (Ingresses have no condition to say why
	// they are not served); each rejection is also logged. Both happen
	// once per distinct message.
	Recorder recorder.EventRecorder

	reported map[types.NamespacedName]string

	gatewayAPI atomic.Bool
	mu         sync.Mutex
	latest     *translate.StatusUpdates
	pending    chan struct{}
	once       sync.Once
}

// ReasonIngressRefused is the Event reason of an Ingress refused for an
// ingress-nginx annotation the gateway does not implement.
const ReasonIngressRefused = translate.ReasonUnsupportedAnnotation

func (w *Writer) init() {
	w.once.Do(func() {
		w.pending = make(chan struct{}, 1)
		if w.Logger == nil {
			w.Logger = slog.Default()
		}
		if w.Now == nil {
			w.Now = time.Now
		}
	})
}

// EnableGatewayAPI makes Write handle HTTPRoutes from now on: the Gateway
// API CRDs were installed after the gateway started.
func (w *Writer) EnableGatewayAPI() { w.gatewayAPI.Store(true) }

// Update hands over the status of the table just published.
func (w *Writer) Update(su translate.StatusUpdates) {
	w.init()
	w.mu.Lock()
	w.latest = &su
	w.mu.Unlock()
	select {
	case w.pending <- struct{}{}:
	default:
	}
}

// NeedLeaderElection is true: one writer per cluster avoids replicas
// fighting over lastTransitionTime and resourceVersions. cmd/gateway runs
// it under leaderelection.Elected, which campaigns again after a lost
// lease instead of stopping the process.
func (w *Writer) NeedLeaderElection() bool { return true }

// Start writes status whenever a new value arrives, retrying failures
// with backoff, until ctx ends.
func (w *Writer) Start(ctx context.Context) error {
	w.init()
	// A writer that starts (or leads again after losing the lease) writes
	// the newest value at once: updates that arrived meanwhile were not
	// written by anyone it knows of.
	select {
	case w.pending <- struct{}{}:
	default:
	}
	backoff := 200 * time.Millisecond
	retry := time.NewTimer(0)
	retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.pending:
		case <-retry.C:
		}
		w.mu.Lock()
		su := w.latest
		w.mu.Unlock()
		if su == nil {
			continue
		}
		if err := w.Write(ctx, *su); err != nil {
			w.Logger.Info("status write incomplete; retrying", "error", err, "after", backoff)
			retry.Reset(backoff)
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		backoff = 200 * time.Millisecond
	}
}

// Write brings every object's status in line with su. It returns the
// joined errors of the objects that could not be written.
func (w *Writer) Write(ctx context.Context, su translate.StatusUpdates) error {
	w.init()
	now := metav1.NewTime(w.Now().Truncate(time.Second))
	var errs []error
	for _, s := range su.GatewayClasses {
		errs = append(errs, w.patch(ctx, &gwv1.GatewayClass{}, types.NamespacedName{Name: s.Name}, func(o client.Object) bool {
			gc := o.(*gwv1.GatewayClass)
			next := mergeGatewayClass(gc.Status, s.Status, now)
			return setIfChanged(&gc.Status, next)
		}))
	}
	for _, s := range su.Gateways {
		errs = append(errs, w.patch(ctx, &gwv1.Gateway{}, types.NamespacedName{Namespace: s.Namespace, Name: s.Name}, func(o client.Object) bool {
			g := o.(*gwv1.Gateway)
			return setIfChanged(&g.Status, mergeGateway(g.Status, s.Status, now))
		}))
	}
	for _, s := range su.ListenerSets {
		errs = append(errs, w.patch(ctx, &gwv1.ListenerSet{}, types.NamespacedName{Namespace: s.Namespace, Name: s.Name}, func(o client.Object) bool {
			ls := o.(*gwv1.ListenerSet)
			return setIfChanged(&ls.Status, mergeListenerSet(ls.Status, s.Status, now))
		}))
	}
	if w.GatewayAPI || w.gatewayAPI.Load() {
		errs = append(errs, w.writeRoutes(ctx, su.HTTPRoutes, now))
	}
	for _, s := range su.Ingresses {
		errs = append(errs, w.patch(ctx, &networkingv1.Ingress{}, types.NamespacedName{Namespace: s.Namespace, Name: s.Name}, func(o client.Object) bool {
			in := o.(*networkingv1.Ingress)
			return setIfChanged(&in.Status.LoadBalancer, s.LoadBalancer)
		}))
	}
	errs = append(errs, w.clearIngresses(ctx, su))
	w.report(ctx, su.Rejections)
	return errors.Join(errs...)
}

// report logs and records an Event for each new or changed rejection.
func (w *Writer) report(ctx context.Context, rejections []translate.Rejection) {
	seen := make(map[types.NamespacedName]string, len(rejections))
	for _, r := range rejections {
		if r.Kind != "Ingress" {
			continue
		}
		key := types.NamespacedName{Namespace: r.Namespace, Name: r.Name}
		seen[key] = r.Message
		if w.reported[key] == r.Message {
			continue
		}
		w.Logger.Info("Ingress not served", "ingress", key, "reason", r.Reason, "message", r.Message)
		if w.Recorder != nil {
			in := &networkingv1.Ingress{}
			if err := w.Client.Get(ctx, key, in); err == nil {
				w.Recorder.Eventf(in, nil, corev1.EventTypeWarning, r.Reason, "Route", "%s", r.Message)
			}
		}
	}
	w.reported = seen
}

// clearIngresses empties status.loadBalancer of Ingresses this data plane
// no longer serves (moved to another class, or the class went away) while
// they still show exactly its address: clients and external-dns must not
// keep sending traffic here. An address another controller wrote is left
// alone.
func (w *Writer) clearIngresses(ctx context.Context, su translate.StatusUpdates) error {
	if len(su.IngressLoadBalancer) == 0 {
		return nil
	}
	served := make(map[types.NamespacedName]bool, len(su.Ingresses))
	for _, s := range su.Ingresses {
		served[types.NamespacedName{Namespace: s.Namespace, Name: s.Name}] = true
	}
	var list networkingv1.IngressList
	if err := w.Client.List(ctx, &list); err != nil {
		return fmt.Errorf("list Ingresses: %w", err)
	}
	var errs []error
	for i := range list.Items {
		in := &list.Items[i]
		key := types.NamespacedName{Namespace: in.Namespace, Name: in.Name}
		if served[key] || !equality.Semantic.DeepEqual(in.Status.LoadBalancer.Ingress, su.IngressLoadBalancer) {
			continue
		}
		errs = append(errs, w.patch(ctx, &networkingv1.Ingress{}, key, func(o client.Object) bool {
			in := o.(*networkingv1.Ingress)
			if !equality.Semantic.DeepEqual(in.Status.LoadBalancer.Ingress, su.IngressLoadBalancer) {
				return false
			}
			return setIfChanged(&in.Status.LoadBalancer, networkingv1.IngressLoadBalancerStatus{})
		}))
	}
	return errors.Join(errs...)
}

// writeRoutes visits every HTTPRoute: listed ones get our entries, the
// others lose any entries of ours they still carry.
func (w *Writer) writeRoutes(ctx context.Context, routes []translate.HTTPRouteStatus, now metav1.Time) error {
	ours := make(map[types.NamespacedName][]gwv1.RouteParentStatus, len(routes))
	for _, r := range routes {
		ours[types.NamespacedName{Namespace: r.Namespace, Name: r.Name}] = r.Parents
	}
	var list gwv1.HTTPRouteList
	if err := w.Client.List(ctx, &list); err != nil {
		return fmt.Errorf("list HTTPRoutes: %w", err)
	}
	var errs []error
	for i := range list.Items {
		r := &list.Items[i]
		key := types.NamespacedName{Namespace: r.Namespace, Name: r.Name}
		next := mergeRouteParents(r.Status.Parents, ours[key], now)
		if equality.Semantic.DeepEqual(normalizeParents(r.Status.Parents), normalizeParents(next)) {
			continue
		}
		errs = append(errs, w.patch(ctx, &gwv1.HTTPRoute{}, key, func(o client.Object) bool {
			hr := o.(*gwv1.HTTPRoute)
			return setIfChanged(&hr.Status.Parents, mergeRouteParents(hr.Status.Parents, ours[key], now))
		}))
	}
	return errors.Join(errs...)
}

func normalizeParents(p []gwv1.RouteParentStatus) []gwv1.RouteParentStatus {
	if len(p) == 0 {
		return nil
	}
	return p
}

// setIfChanged assigns next to *cur and reports whether that changed it.
func setIfChanged[T any](cur *T, next T) bool {
	if equality.Semantic.DeepEqual(*cur, next) {
		return false
	}
	*cur = next
	return true
}

// patch reads obj, lets mutate change its status and, if it did, sends a
// merge patch of the status subresource guarded by resourceVersion, so a
// concurrent writer (e.g. another controller's route entry) is never
// overwritten: a conflict is retried from a fresh read.
func (w *Writer) patch(ctx context.Context, obj client.Object, key types.NamespacedName, mutate func(client.Object) bool) error {
	for attempt := 0; ; attempt++ {
		if err := w.Client.Get(ctx, key, obj); err != nil {
			if apierrors.IsNotFound(err) {
				return nil // deleted since the snapshot
			}
			return fmt.Errorf("get %T %s: %w", obj, key, err)
		}
		orig := obj.DeepCopyObject().(client.Object)
		if !mutate(obj) {
			return nil
		}
		err := w.Client.Status().Patch(ctx, obj, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{}))
		if err == nil {
			return nil
		}
		if !apierrors.IsConflict(err) || attempt >= 2 {
			return fmt.Errorf("patch status of %T %s: %w", obj, key, err)
		}
	}
}
