package webapp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/capabilities"
	"github.com/pylon-dev/pylon/internal/controller/applier"
	"github.com/pylon-dev/pylon/internal/controller/claims"
	"github.com/pylon-dev/pylon/internal/controller/monitoring"
	"github.com/pylon-dev/pylon/internal/controller/traffic"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
)

// Reconciler reconciles WebApps.
type Reconciler struct {
	client.Client
	// APIReader reads past the cache: to check that no object of a child's
	// name exists before creating it, and to read TLS Secrets (only their
	// metadata is cached).
	APIReader client.Reader
	Recorder  recorder.EventRecorder
	// Caps says which optional APIs the cluster serves.
	Caps *capabilities.Set
	// Claims decides who holds a hostname.
	Claims *claims.Claims
	// ClusterDomain is the cluster's DNS domain, for in-cluster URLs.
	ClusterDomain string
	// MaxConcurrentReconciles is how many WebApps are reconciled at once.
	MaxConcurrentReconciles int
	// Clock returns the time; nil means time.Now. Tests set it.
	Clock func() time.Time
	// Traffic keeps the readings canary windows start from.
	Traffic *traffic.Tracker
	// GatewayMetrics reads the bundled gateway's counters; nil when the
	// manager was not told where the gateway's replicas are.
	GatewayMetrics traffic.Source
	// CanaryDrain is how long a retiring canary gets no requests before
	// its children are deleted; zero means 10 s.
	CanaryDrain time.Duration
	// PodsRecheck is how often the Pods of a Deployment that is not
	// available are read again; zero: 30 s.
	PodsRecheck time.Duration

	// Metrics counts reconciles; nil: not counted.
	Metrics *monitoring.Metrics

	prometheus prometheusSources
	// Verified remembers which children were found up to date, so that
	// cached copies without a spec suffice; nil: a new, empty one.
	Verified *applier.Verified

	watches *watches
}

// +kubebuilder:rbac:groups=pylon.dev,resources=webapps,verbs=get;list;watch
// +kubebuilder:rbac:groups=pylon.dev,resources=webapps/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=pylon.dev,resources=exposureclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods,verbs=list
// +kubebuilder:rbac:groups=apps,resources=replicasets,verbs=list
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingressclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes;listenersets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gateways;gatewayclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=list;watch
// +kubebuilder:rbac:groups=cert-manager.io,resources=certificates,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=cert-manager.io,resources=issuers;clusterissuers,verbs=get;list;watch
// +kubebuilder:rbac:groups=externaldns.k8s.io,resources=dnsendpoints,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile observes a WebApp, applies its children and reports their health.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, err error) {
	app := &pylonv1alpha1.WebApp{}
	if err := r.Get(ctx, req.NamespacedName, app); err != nil {
		if apierrors.IsNotFound(err) {
			r.Verified.Forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !app.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // owner references garbage-collect the children
	}
	// The outcome's reason: where it stopped, or Ready's reason once computed.
	reason := monitoring.ReasonExposureFailed
	defer func() { r.Metrics.Reconciled(err, reason) }()

	view, err := r.exposure(ctx, app)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("exposure: %w", err)
	}
	reason = monitoring.ReasonCanaryPlanFailed
	canary, err := r.planCanary(ctx, app, view)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("plan canary: %w", err)
	}
	view.exp.Canary = canary.plan
	obs, applyErr := r.applyChildren(ctx, app, view.exp)
	obs.exposure, obs.canary = view, canary
	looked := []string{names.Deployment(app)}
	if canaryWanted(app) {
		looked = append(looked, names.Canary(app))
	}
	podsAgain := r.lookAtPods(ctx, &obs, looked...)

	now := r.now()
	next := computeStatus(app, obs, r.ClusterDomain)
	next = mergeConditions(app.Status, next, metav1.NewTime(now))
	for _, c := range next.Conditions {
		if c.Type == pylonv1alpha1.ConditionReady {
			reason = c.Reason
		}
	}
	statusErr := r.writeStatus(ctx, app, next)
	if err := errors.Join(applyErr, statusErr); err != nil {
		return ctrl.Result{}, err
	}
	// Clock-driven work, which no event would announce: a good certificate
	// of the team's own goes bad at a known time; a canary step, drain or
	// measurement is due; the Pods of a Deployment that is not available
	// may start or stop failing.
	var res ctrl.Result
	if s := view.secret; s != nil && s.OK {
		res.RequeueAfter = min(s.NotAfter.Sub(now)+time.Second, 24*time.Hour)
	}
	if d := canary.requeue; d > 0 && (res.RequeueAfter == 0 || d < res.RequeueAfter) {
		res.RequeueAfter = d
	}
	if d := r.podsRecheckAfter(meta.FindStatusCondition(next.Conditions, pylonv1alpha1.ConditionAvailable), now); podsAgain && (res.RequeueAfter == 0 || d < res.RequeueAfter) {
		res.RequeueAfter = d
	}
	return res, nil
}

// applyChildren applies every declared child and deletes those no longer
// declared. Errors that a retry may cure are returned; a child Pylon must not
// touch is only recorded as a failure.
func (r *Reconciler) applyChildren(ctx context.Context, app *pylonv1alpha1.WebApp, e resources.Exposure) (observation, error) {
	obs := observation{live: map[string]client.Object{}}
	var errs []error
	// One event per reconcile names every child created (or deleted), not
	// one per child: a WebApp's first reconcile creates five to ten, and
	// the event recorder keeps each event it sent for minutes.
	var created, removed []string
	defer func() {
		if len(created) > 0 {
			r.event(app, corev1.EventTypeNormal, "Created", "Create", "created %s", strings.Join(created, ", "))
		}
		if len(removed) > 0 {
			r.event(app, corev1.EventTypeNormal, "Deleted", "Delete", "deleted %s: no longer declared", strings.Join(removed, ", "))
		}
	}()
	ap := &applier.Applier{Client: r.Client, APIReader: r.APIReader, Verified: r.Verified, Read: r.Metrics.ChildRead, Applied: r.Metrics.ChildApplied}
	for _, c := range desiredChildren(app, e) {
		key := types.NamespacedName{Namespace: app.Namespace, Name: c.name}
		if c.desired == nil {
			deleted, err := ap.Delete(ctx, app, c.gvk, key)
			if err != nil {
				obs.failures = append(obs.failures, failure{id: c.id(), reason: pylonv1alpha1.ReasonApplyFailed, message: err.Error()})
				errs = append(errs, err)
			} else if deleted {
				removed = append(removed, c.gvk.Kind+" "+c.name)
			}
			continue
		}
		if d, ok := c.desired.(*appsv1.Deployment); ok && d.Spec.Replicas == nil {
			if err := r.prepareAutoscaling(ctx, app, key); err != nil {
				obs.failures = append(obs.failures, failure{id: c.id(), reason: pylonv1alpha1.ReasonApplyFailed, message: err.Error()})
				errs = append(errs, err)
				continue
			}
		}
		res, err := ap.Apply(ctx, app, c.desired)
		if notOwned := (*applier.NotOwnedError)(nil); errors.As(err, &notOwned) {
			obs.failures = append(obs.failures, failure{id: c.id(), reason: pylonv1alpha1.ReasonNotOwned, message: notOwned.Error(), terminal: true})
			continue
		}
		if apierrors.IsInvalid(err) {
			// Retrying the same body cannot help; the WebApp must change,
			// and a change starts a new reconcile.
			obs.failures = append(obs.failures, failure{id: c.id(), reason: pylonv1alpha1.ReasonChildRejected, message: err.Error(), terminal: true})
			continue
		}
		if err != nil {
			obs.failures = append(obs.failures, failure{id: c.id(), reason: pylonv1alpha1.ReasonApplyFailed, message: err.Error()})
			errs = append(errs, err)
			continue
		}
		if res.Created {
			created = append(created, c.gvk.Kind+" "+c.name)
		}
		obs.live[c.id()] = res.Live
	}
	return obs, errors.Join(errs...)
}

// prepareAutoscaling hands spec.replicas of a live Deployment Pylon controls
// over before Pylon stops declaring it.
func (r *Reconciler) prepareAutoscaling(ctx context.Context, app *pylonv1alpha1.WebApp, key types.NamespacedName) error {
	live := &appsv1.Deployment{}
	if err := r.Get(ctx, key, live); err != nil {
		return client.IgnoreNotFound(err)
	}
	if !metav1.IsControlledBy(live, app) {
		return nil // Apply reports it as not owned
	}
	return handOffReplicas(ctx, r.Client, live)
}

// writeStatus writes next as the WebApp's status if it differs from the
// current one, and records events for the transitions.
func (r *Reconciler) writeStatus(ctx context.Context, app *pylonv1alpha1.WebApp, next pylonv1alpha1.WebAppStatus) error {
	if equality.Semantic.DeepEqual(app.Status, next) {
		return nil
	}
	prev := app.Status
	if err := applier.ApplyStatus(ctx, r.Client, app, pylonv1alpha1.GroupVersion.WithKind("WebApp"), &next); err != nil {
		return err
	}
	app.Status = next
	r.recordTransitions(app, prev.Conditions, next.Conditions)
	r.recordCanaryTransitions(app, prev.Canary, next.Canary)
	return nil
}
