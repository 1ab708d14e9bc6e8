package webapp

import (
	"context"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/applier"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
)

// Reconciler reconciles WebApps.
type Reconciler struct {
	client.Client
	// APIReader reads past the cache, to check that no object of a child's
	// name exists before creating it.
	APIReader client.Reader
	Recorder  recorder.EventRecorder
	// ClusterDomain is the cluster's DNS domain, for in-cluster URLs.
	ClusterDomain string
	// MaxConcurrentReconciles is how many WebApps are reconciled at once.
	MaxConcurrentReconciles int
}

// +kubebuilder:rbac:groups=pylon.dev,resources=webapps,verbs=get;list;watch
// +kubebuilder:rbac:groups=pylon.dev,resources=webapps/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile observes a WebApp, applies its children and reports their health.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	app := &pylonv1alpha1.WebApp{}
	if err := r.Get(ctx, req.NamespacedName, app); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !app.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // owner references garbage-collect the children
	}

	obs, applyErr := r.applyChildren(ctx, app)

	next := computeStatus(app, obs, r.ClusterDomain)
	next = mergeConditions(app.Status, next, metav1.Now())
	statusErr := r.writeStatus(ctx, app, next)
	return ctrl.Result{}, errors.Join(applyErr, statusErr)
}

// applyChildren applies every declared child and deletes those no longer
// declared. Errors that a retry may cure are returned; a child Pylon must not
// touch is only recorded as a failure.
func (r *Reconciler) applyChildren(ctx context.Context, app *pylonv1alpha1.WebApp) (observation, error) {
	var (
		obs  observation
		errs []error
	)
	ap := &applier.Applier{Client: r.Client, APIReader: r.APIReader}
	for _, c := range desiredChildren(app) {
		key := types.NamespacedName{Namespace: app.Namespace, Name: c.name}
		if c.desired == nil {
			deleted, err := ap.Delete(ctx, app, c.gvk, key)
			if err != nil {
				obs.failures = append(obs.failures, failure{kind: c.gvk.Kind, name: c.name, reason: pylonv1alpha1.ReasonApplyFailed, message: err.Error()})
				errs = append(errs, err)
			} else if deleted {
				r.event(app, corev1.EventTypeNormal, "Deleted", "Delete", "deleted %s %s: no longer declared", c.gvk.Kind, c.name)
			}
			continue
		}
		if d, ok := c.desired.(*appsv1.Deployment); ok && d.Spec.Replicas == nil {
			if err := r.prepareAutoscaling(ctx, app, key); err != nil {
				obs.failures = append(obs.failures, failure{kind: c.gvk.Kind, name: c.name, reason: pylonv1alpha1.ReasonApplyFailed, message: err.Error()})
				errs = append(errs, err)
				continue
			}
		}
		res, err := ap.Apply(ctx, app, c.desired)
		if notOwned := (*applier.NotOwnedError)(nil); errors.As(err, &notOwned) {
			obs.failures = append(obs.failures, failure{kind: c.gvk.Kind, name: c.name, reason: pylonv1alpha1.ReasonNotOwned, message: notOwned.Error(), terminal: true})
			continue
		}
		if err != nil {
			obs.failures = append(obs.failures, failure{kind: c.gvk.Kind, name: c.name, reason: pylonv1alpha1.ReasonApplyFailed, message: err.Error()})
			errs = append(errs, err)
			continue
		}
		if res.Created {
			r.event(app, corev1.EventTypeNormal, "Created", "Create", "created %s %s", c.gvk.Kind, c.name)
		}
		if d, ok := res.Live.(*appsv1.Deployment); ok {
			obs.deployment = d
		}
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
	// The whole status is applied, so every field is stored, zeros included
	// (a merge patch would leave out fields equal to the old value).
	st, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&next)
	if err != nil {
		return fmt.Errorf("convert status: %w", err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{"status": st}}
	u.SetGroupVersionKind(pylonv1alpha1.GroupVersion.WithKind("WebApp"))
	u.SetNamespace(app.Namespace)
	u.SetName(app.Name)
	if err := r.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(applier.FieldOwner), client.ForceOwnership); err != nil {
		return client.IgnoreNotFound(err)
	}
	app.Status = next
	r.recordTransitions(app, prev.Conditions, next.Conditions)
	return nil
}

// SetupWithManager registers the reconciler. Children are watched by name,
// not only by owner reference, so that removing an object Pylon refused to
// adopt brings the WebApp back to work at once.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	byName := handler.EnqueueRequestsFromMapFunc(r.webAppsNamedLike)
	return ctrl.NewControllerManagedBy(mgr).
		For(&pylonv1alpha1.WebApp{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&appsv1.Deployment{}, byName).
		Watches(&corev1.Service{}, byName).
		Watches(&autoscalingv2.HorizontalPodAutoscaler{}, byName).
		Watches(&policyv1.PodDisruptionBudget{}, byName).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(r.MaxConcurrentReconciles, 1)}).
		Named("webapp").
		Complete(r)
}

// webAppsNamedLike maps a child-kind object to the WebApp whose child it is
// or would be, if such a WebApp exists.
func (r *Reconciler) webAppsNamedLike(ctx context.Context, obj client.Object) []reconcile.Request {
	candidates := []string{obj.GetName()}
	if base, ok := strings.CutSuffix(obj.GetName(), names.CanarySuffix); ok {
		candidates = append(candidates, base)
	}
	var out []reconcile.Request
	for _, n := range candidates {
		key := types.NamespacedName{Namespace: obj.GetNamespace(), Name: n}
		if err := r.Get(ctx, key, &pylonv1alpha1.WebApp{}); err == nil {
			out = append(out, reconcile.Request{NamespacedName: key})
		}
	}
	return out
}
