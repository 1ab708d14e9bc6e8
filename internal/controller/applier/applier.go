package applier

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
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
	// APIReader reads from the API server directly: when the cache has no
	// object of the name, to be sure none exists before creating, and when
	// a cached child (kept without its spec, see CachedFingerprint)
	// cannot be shown current from memory.
	APIReader client.Reader
	// Verified remembers children found up to date; nil: every cached child
	// is read in full before it is judged.
	Verified *Verified
	// Read, when set, is told the kind of each child read in full from the
	// API server because its cached copy could not show it current.
	Read func(kind string)
	// Applied, when set, is told the kind of each child an apply is sent for.
	Applied func(kind string)
}

// Result says what Apply did.
type Result struct {
	// Live is the object as it is after the apply, typed like the declared
	// one. A child read from the cache lacks what the cache drops of it.
	Live client.Object
	// Wrote is true when a write was sent to the API server.
	Wrote bool
	// Created is true when the object did not exist before.
	Created bool
}

// Apply makes the object named by desired match it, with owner as its
// controller. It returns a *NotOwnedError when an object of that name exists
// and owner does not control it.
//
// A child is up to date when it holds every field Pylon declares with the
// declared value and Pylon's apply still owns each of those fields: then
// nobody changed them, and the fingerprint of what Pylon owns
// (OwnedFingerprint) is remembered. As long as the cached copy shows the
// same fingerprint and Pylon declares the same applied hash, the child is
// not read again; any
// other writer who changes or takes one of Pylon's fields changes the
// fingerprint, and the child is read in full and judged again.
func (a *Applier) Apply(ctx context.Context, owner, desired client.Object) (Result, error) {
	gvk, err := apiutil.GVKForObject(desired, a.Client.Scheme())
	if err != nil {
		return Result{}, err
	}
	key := client.ObjectKeyFromObject(desired)
	live, cached, err := a.get(ctx, gvk, key)
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
	ownerKey, child := memoryKeys(owner, gvk, key)
	hash := declared.GetAnnotations()[AnnotationAppliedHash]
	// Only the cache's transform sets the cached fingerprint (it clears
	// whatever the API server returns in its place); an object read past
	// the cache may carry one a tenant wrote, so it never takes this way.
	if cached {
		if a.Verified.has(ownerKey, child, live.GetUID(), verifiedState(CachedFingerprint(live), hash)) {
			return Result{Live: live}, nil
		}
		if a.Read != nil {
			a.Read(gvk.Kind)
		}
		// Not older than the cached copy: the API server answers from its
		// watch cache, not with a quorum read of etcd. An older answer
		// cannot pass for current: its fingerprint would not be the one
		// the cache shows next time, and the child is read again.
		if live, err = a.read(ctx, gvk, key, live.GetResourceVersion()); err != nil {
			return Result{}, err
		}
		if live != nil && !metav1.IsControlledBy(live, owner) {
			return Result{Live: live}, notOwned(gvk.Kind, live)
		}
	}
	if live != nil {
		// An error here (managedFields that cannot be read) means the
		// child cannot be shown current: apply it, which sets them anew.
		if ok, fingerprint, err := upToDate(declared, live); err == nil && ok {
			a.Verified.remember(ownerKey, child, live.GetUID(), verifiedState(fingerprint, hash))
			return Result{Live: live}, nil
		}
	}
	if a.Applied != nil {
		a.Applied(gvk.Kind)
	}
	if err := a.Client.Apply(ctx, AsApplyConfiguration(a.Client.Scheme(), declared), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return Result{}, fmt.Errorf("apply %s %s/%s: %w", gvk.Kind, desired.GetNamespace(), desired.GetName(), err)
	}
	// declared now holds the API server's answer.
	typed, err := a.Client.Scheme().New(gvk)
	if err != nil {
		return Result{}, err
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(declared.Object, typed); err != nil {
		return Result{}, fmt.Errorf("convert applied %s: %w", gvk.Kind, err)
	}
	applied := typed.(client.Object)
	// Pylon's forced apply owns every field it sent: remember what it owns.
	if fingerprint, err := ObjectFingerprint(applied); err == nil && fingerprint != "" {
		a.Verified.remember(ownerKey, child, applied.GetUID(), verifiedState(fingerprint, hash))
	}
	return Result{Live: applied, Wrote: true, Created: live == nil}, nil
}

// memoryKeys name owner and the child of kind gvk and key in Verified.
func memoryKeys(owner client.Object, gvk schema.GroupVersionKind, key client.ObjectKey) (types.NamespacedName, string) {
	return types.NamespacedName{Namespace: owner.GetNamespace(), Name: owner.GetName()}, gvk.Kind + "/" + key.Name
}

// upToDate judges a child read in full (with its managedFields): it holds
// what declared asks for, and Pylon's apply owns all of it. It returns the
// fingerprint of what Pylon owns when it is.
func upToDate(declared *unstructured.Unstructured, live client.Object) (bool, string, error) {
	liveU, err := runtime.DefaultUnstructuredConverter.ToUnstructured(live)
	if err != nil {
		return false, "", err
	}
	// Typed objects read from the API server come without apiVersion and
	// kind (the cache's copies have them); they are the declared ones.
	liveU["apiVersion"], liveU["kind"] = declared.GetAPIVersion(), declared.GetKind()
	if !UpToDate(declared, &unstructured.Unstructured{Object: liveU}) {
		return false, "", nil
	}
	set, err := ownedSet(live.GetManagedFields())
	if err != nil || set == nil {
		return false, "", err
	}
	obj := withoutIdentity(liveU)
	if !covered(withoutIdentity(declared.Object), obj, set) {
		return false, "", nil
	}
	fingerprint, err := fingerprintOf(obj, set)
	return err == nil, fingerprint, err
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
	a.Verified.forgetChild(memoryKeys(owner, gvk, key))
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
// cached says which.
func (a *Applier) get(ctx context.Context, gvk schema.GroupVersionKind, key client.ObjectKey) (client.Object, bool, error) {
	live, err := a.getCached(ctx, gvk, key)
	if err != nil || live != nil {
		return live, live != nil, err
	}
	live, err = a.read(ctx, gvk, key, "")
	return live, false, err
}

// read reads the object from the API server, at resourceVersion or newer
// ("": the newest, a quorum read); nil when it does not exist.
func (a *Applier) read(ctx context.Context, gvk schema.GroupVersionKind, key client.ObjectKey, resourceVersion string) (client.Object, error) {
	obj, err := a.newObject(gvk)
	if err != nil {
		return nil, err
	}
	var opts []client.GetOption
	if resourceVersion != "" {
		opts = append(opts, &client.GetOptions{Raw: &metav1.GetOptions{ResourceVersion: resourceVersion}})
	}
	if err := a.APIReader.Get(ctx, key, obj, opts...); err != nil {
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
