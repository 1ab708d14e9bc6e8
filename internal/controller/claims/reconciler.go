package claims

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// Reconciler garbage-collects HostnameClaims. Claims cannot be owned by the
// namespaced WebApps that hold them, so the Kubernetes garbage collector does
// not delete them; this does: a claim whose holder no longer exists (by
// UID), is being deleted, or wants another hostname is deleted, and its
// deletion lets the oldest waiter take over.
//
// It is the backstop behind Release, which the WebApp reconciler calls on
// every reconcile but which cannot run for a WebApp that is gone.
type Reconciler struct {
	// Client reads from the manager's cache and writes to the API server.
	Client client.Client
	// APIReader confirms, past the cache, that a holder is really gone
	// before its claim is deleted.
	APIReader client.Reader
}

// +kubebuilder:rbac:groups=pylon.dev,resources=hostnameclaims,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=pylon.dev,resources=webapps,verbs=get;list;watch

// Reconcile deletes the claim named in req if its holder no longer wants it.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	claim, err := readClaim(ctx, r.Client, req.Name)
	if err != nil || claim == nil {
		return ctrl.Result{}, err
	}
	valid, err := holderWants(ctx, r.Client, r.APIReader, claim)
	if err != nil || valid {
		return ctrl.Result{}, err
	}
	if err := deleteClaim(ctx, r.Client, claim); err != nil {
		return ctrl.Result{}, err
	}
	logf.FromContext(ctx).V(1).Info("deleted stale HostnameClaim", "hostname", claim.Name,
		"holder", refString(claim.Spec.WebApp), "uid", claim.Spec.WebApp.UID)
	return ctrl.Result{}, nil
}

// SetupWithManager registers the reconciler. It watches HostnameClaims and
// WebApps, and finds a WebApp's claims by HolderIndex (SetupIndex).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	err := ctrl.NewControllerManagedBy(mgr).
		For(&pylonv1alpha1.HostnameClaim{}).
		Watches(&pylonv1alpha1.WebApp{}, handler.EnqueueRequestsFromMapFunc(r.claimsOf), builder.WithPredicates(claimRelevant)).
		Named("hostnameclaim").
		Complete(r)
	if err != nil {
		return fmt.Errorf("set up HostnameClaim garbage collector: %w", err)
	}
	return nil
}

// claimsOf maps a WebApp to the claims it may have made stale: the claim of
// its hostname (which may name an earlier WebApp of the same name) and the
// claims it holds. On an update both the old and the new WebApp are mapped,
// so a change of hostname reaches the claim of the old one.
func (r *Reconciler) claimsOf(ctx context.Context, obj client.Object) []reconcile.Request {
	app, ok := obj.(*pylonv1alpha1.WebApp)
	if !ok {
		return nil
	}
	var out []reconcile.Request
	if h := Normalize(app.Spec.Hostname); h != "" {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: h}})
	}
	if app.UID == "" {
		return out
	}
	list := &pylonv1alpha1.HostnameClaimList{}
	if err := r.Client.List(ctx, list, client.MatchingFields{HolderIndex: string(app.UID)}); err != nil {
		logf.FromContext(ctx).Error(err, "list HostnameClaims of a WebApp", "webapp", client.ObjectKeyFromObject(app))
		return out
	}
	for i := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: list.Items[i].Name}})
	}
	return out
}

// claimRelevant passes the WebApp events that can make a claim stale:
// creation (a WebApp reusing a deleted one's name), deletion, the start of
// deletion and a change of hostname. Status writes and other spec changes
// are dropped.
var claimRelevant = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, okOld := e.ObjectOld.(*pylonv1alpha1.WebApp)
		n, okNew := e.ObjectNew.(*pylonv1alpha1.WebApp)
		if !okOld || !okNew {
			return true
		}
		return Normalize(o.Spec.Hostname) != Normalize(n.Spec.Hostname) ||
			o.DeletionTimestamp.IsZero() != n.DeletionTimestamp.IsZero() ||
			o.UID != n.UID
	},
}
