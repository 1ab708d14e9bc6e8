package capabilities

import (
	"context"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// Watcher refreshes a Set when a CRD of an optional API appears, and tells
// OnAdded, so that watches can be started and waiting objects reconciled.
type Watcher struct {
	Set     *Set
	OnAdded func(context.Context, API) error
}

// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;list;watch

// Reconcile runs for each CRD event of an optional API.
func (w *Watcher) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	api, ok := ForCRD(req.Name)
	if !ok || w.Set.Has(api) {
		return ctrl.Result{}, nil
	}
	added, err := w.Set.Refresh(ctx)
	if err != nil {
		return ctrl.Result{}, err
	}
	for _, a := range added {
		if err := w.OnAdded(ctx, a); err != nil {
			return ctrl.Result{}, err
		}
	}
	if !w.Set.Has(api) {
		// The CRD exists but discovery does not serve it yet (not yet
		// Established): a clock-driven retry, it needs no event.
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	return ctrl.Result{}, nil
}

// SetupWithManager watches CRD metadata only: the CRDs of these APIs are
// megabytes each and their content is not needed.
func (w *Watcher) SetupWithManager(mgr ctrl.Manager) error {
	crd := &metav1.PartialObjectMetadata{}
	crd.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
	return ctrl.NewControllerManagedBy(mgr).
		Named("capabilities").
		For(crd, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			_, ok := ForCRD(o.GetName())
			return ok
		}))).
		Complete(w)
}
