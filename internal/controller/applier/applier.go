package applier

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// FieldOwner is the field manager of every apply Pylon makes.
const FieldOwner = "pylon"

// NotOwnedError says an object with the name Pylon needs exists and is not
// controlled by the owner, so Pylon leaves it alone.
type NotOwnedError struct {
	Kind, Namespace, Name string
	// Controller describes the object's current controller, if any.
	Controller string
}

func (e *NotOwnedError) Error() string {
	who := "no controller"
	if e.Controller != "" {
		who = "controller " + e.Controller
	}
	return fmt.Sprintf("%s %s/%s already exists and is not managed by this WebApp (it has %s); Pylon will not adopt it: delete or rename it, or rename the WebApp", e.Kind, e.Namespace, e.Name, who)
}

// Applier applies declared children of an owner.
type Applier struct {
	// Client reads from the informer cache and writes to the API server.
	Client client.Client
	// APIReader reads from the API server directly. It is used only when the
	// cache has no object of the name, to be sure none exists before creating.
	APIReader client.Reader
}

// Result says what Apply did.
type Result struct {
	// Live is the object as it is after the apply, typed like the declared one.
	Live client.Object
	// Wrote is true when a write was sent to the API server.
	Wrote bool
	// Created is true when the object did not exist before.
	Created bool
}

// Apply makes the object named by desired match it, with owner as its
// controller. It returns a *NotOwnedError when an object of that name exists
// and owner does not control it.
func (a *Applier) Apply(ctx context.Context, owner, desired client.Object) (Result, error) {
	gvk, err := apiutil.GVKForObject(desired, a.Client.Scheme())
	if err != nil {
		return Result{}, err
	}
	live, err := a.get(ctx, gvk, client.ObjectKeyFromObject(desired))
	if err != nil {
		return Result{}, err
	}
	if live != nil && !metav1.IsControlledBy(live, owner) {
		return Result{Live: live}, notOwned(gvk.Kind, live)
	}
	declared, err := Declared(desired)
	if err != nil {
		return Result{}, err
	}
	if live != nil {
		liveU, err := runtime.DefaultUnstructuredConverter.ToUnstructured(live)
		if err != nil {
			return Result{}, fmt.Errorf("convert live %s: %w", gvk.Kind, err)
		}
		if UpToDate(declared, &unstructured.Unstructured{Object: liveU}) {
			return Result{Live: live}, nil
		}
	}
	if err := a.Client.Apply(ctx, AsApplyConfiguration(a.Client.Scheme(), declared), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return Result{}, fmt.Errorf("apply %s %s/%s: %w", gvk.Kind, desired.GetNamespace(), desired.GetName(), err)
	}
	typed, err := a.Client.Scheme().New(gvk)
	if err != nil {
		return Result{}, err
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(declared.Object, typed); err != nil {
		return Result{}, fmt.Errorf("convert applied %s: %w", gvk.Kind, err)
	}
	return Result{Live: typed.(client.Object), Wrote: true, Created: live == nil}, nil
}

// Delete removes the object of kind and key if it exists and owner controls
// it. It reports whether a delete was sent. An object owner does not control
// is left alone.
func (a *Applier) Delete(ctx context.Context, owner client.Object, gvk schema.GroupVersionKind, key client.ObjectKey) (bool, error) {
	live, err := a.getCached(ctx, gvk, key)
	if err != nil || live == nil {
		return false, err
	}
	if !metav1.IsControlledBy(live, owner) {
		return false, nil
	}
	uid := live.GetUID()
	if err := a.Client.Delete(ctx, live, client.Preconditions{UID: &uid}, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("delete %s %s/%s: %w", gvk.Kind, key.Namespace, key.Name, err)
	}
	return true, nil
}

// get reads the object from the cache, and from the API server when the
// cache has none (the cache may lag behind another writer's create).
func (a *Applier) get(ctx context.Context, gvk schema.GroupVersionKind, key client.ObjectKey) (client.Object, error) {
	live, err := a.getCached(ctx, gvk, key)
	if err != nil || live != nil {
		return live, err
	}
	obj, err := a.newObject(gvk)
	if err != nil {
		return nil, err
	}
	if err := a.APIReader.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get %s %s: %w", gvk.Kind, key, err)
	}
	return obj, nil
}

func (a *Applier) getCached(ctx context.Context, gvk schema.GroupVersionKind, key client.ObjectKey) (client.Object, error) {
	obj, err := a.newObject(gvk)
	if err != nil {
		return nil, err
	}
	if err := a.Client.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get %s %s: %w", gvk.Kind, key, err)
	}
	return obj, nil
}

func (a *Applier) newObject(gvk schema.GroupVersionKind) (client.Object, error) {
	o, err := a.Client.Scheme().New(gvk)
	if err != nil {
		return nil, err
	}
	obj, ok := o.(client.Object)
	if !ok {
		return nil, fmt.Errorf("%s is not a client.Object", gvk)
	}
	return obj, nil
}

func notOwned(kind string, live client.Object) error {
	e := &NotOwnedError{Kind: kind, Namespace: live.GetNamespace(), Name: live.GetName()}
	if ref := metav1.GetControllerOf(live); ref != nil {
		e.Controller = ref.Kind + " " + ref.Name
	}
	return e
}

// ApplyStatus writes status as the whole status of obj (of kind gvk) with
// server-side apply under FieldOwner. Every field is sent, zeros included: a
// merge patch would leave out fields equal to their old value, and readers
// would find them missing. A deleted object is not an error.
func ApplyStatus(ctx context.Context, c client.Client, obj client.Object, gvk schema.GroupVersionKind, status any) error {
	st, err := runtime.DefaultUnstructuredConverter.ToUnstructured(status)
	if err != nil {
		return fmt.Errorf("convert %s status: %w", gvk.Kind, err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{"status": st}}
	u.SetGroupVersionKind(gvk)
	u.SetNamespace(obj.GetNamespace())
	u.SetName(obj.GetName())
	if err := c.Status().Apply(ctx, AsApplyConfiguration(c.Scheme(), u), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return client.IgnoreNotFound(err)
	}
	return nil
}
