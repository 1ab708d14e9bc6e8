package claims

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// Claims decides which WebApp holds a hostname, and claims and releases
// hostnames on the WebApps' behalf.
type Claims struct {
	// Client reads from the manager's cache (with HostnameIndex registered)
	// and writes to the API server.
	Client client.Client
	// APIReader reads past the cache. Ensure and Reconciler use it to confirm
	// what the cache says before acting on it: who won a race to create a
	// claim, and that a holder is really gone before its claim is deleted.
	APIReader client.Reader
}

// maxRounds bounds how often Ensure starts over when the claim changes
// under it (deleted as stale, then created by someone else...). Each round
// is caused by another writer's progress, so a few are plenty; past them the
// caller's backoff retries.
const maxRounds = 5

// Rules are the caller's policy for Ensure.
type Rules struct {
	// Eligible says whether another WebApp wanting the hostname may hold
	// it, so that one the policy refuses never blocks the others. Nil
	// counts every WebApp as eligible. An error stops Ensure: a WebApp
	// whose eligibility could not be read is never skipped.
	Eligible func(context.Context, *pylonv1alpha1.WebApp) (bool, error)
	// ServedElsewhere returns the oldest object of another namespace that
	// already serves the hostname (a plain HTTPRoute, Ingress or
	// ListenerSet on the same data plane), or nil. It is asked only before
	// creating a claim: a WebApp that holds its hostname keeps it, and the
	// data plane then serves the hostname from the holder's namespace
	// alone. Nil: no such objects are considered.
	ServedElsewhere func(context.Context) (*Foreign, error)
}

// Foreign is an object of another namespace serving a hostname.
type Foreign struct {
	Kind, Namespace, Name string
	Created               metav1.Time
}

func (f Foreign) String() string { return fmt.Sprintf("%s %s/%s", f.Kind, f.Namespace, f.Name) }

// Ensure makes app hold Normalize(app.Spec.Hostname) if it may, and says who
// holds it otherwise. The caller has already decided that app itself may use
// the hostname (class, namespace and domain policy); rules say the same of
// any other WebApp wanting it, and which objects outside Pylon already
// serve it.
//
// Ensure never takes a claim away from a holder that still exists with the
// claimed UID, is not being deleted and still wants the hostname. A claim
// left by anything else is deleted, and the oldest eligible WebApp wanting
// the hostname may then create it, unless another namespace already serves
// the hostname.
func (c *Claims) Ensure(ctx context.Context, app *pylonv1alpha1.WebApp, rules Rules) (Verdict, error) {
	host := Normalize(app.Spec.Hostname)
	if host == "" {
		return Verdict{}, fmt.Errorf("webapp %s/%s has no hostname to claim", app.Namespace, app.Name)
	}
	if errs := validation.IsDNS1123Subdomain(host); len(errs) > 0 {
		return Verdict{}, fmt.Errorf("hostname %q cannot name a HostnameClaim: %s", host, strings.Join(errs, "; "))
	}
	if app.UID == "" {
		return Verdict{}, fmt.Errorf("webapp %s/%s has no UID: pass the WebApp as read from the API server", app.Namespace, app.Name)
	}

	// The cache answers the common cases (already held, held by another)
	// without a request; every decision to write is checked by the API
	// server (UID preconditions, AlreadyExists) or confirmed past the cache.
	claim, err := readClaim(ctx, c.Client, host)
	if err != nil {
		return Verdict{}, err
	}
	for range maxRounds {
		if claim != nil {
			if claim.Spec.WebApp.UID == app.UID {
				return heldVerdict(host), nil
			}
			valid, err := holderWants(ctx, c.Client, c.APIReader, claim)
			if err != nil {
				return Verdict{}, err
			}
			if valid {
				return heldByVerdict(claim), nil
			}
			if err := deleteClaim(ctx, c.Client, claim); err != nil {
				return Verdict{}, err
			}
		}

		first, err := c.firstClaimant(ctx, app, host, rules.Eligible)
		if err != nil {
			return Verdict{}, err
		}
		if first != app {
			return goesFirstVerdict(host, first), nil
		}
		if rules.ServedElsewhere != nil {
			f, err := rules.ServedElsewhere(ctx)
			if err != nil {
				return Verdict{}, fmt.Errorf("hostname %s: look for objects of other namespaces serving it: %w", host, err)
			}
			if f != nil {
				// The cache may not show a claim this WebApp just made:
				// confirm past it before reporting a conflict.
				live, err := readClaim(ctx, c.APIReader, host)
				if err != nil {
					return Verdict{}, err
				}
				if live != nil {
					claim = live
					continue
				}
				return servedElsewhereVerdict(host, f), nil
			}
		}
		err = c.Client.Create(ctx, newClaim(app, host))
		if err == nil {
			return heldVerdict(host), nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return Verdict{}, fmt.Errorf("create HostnameClaim %s: %w", host, err)
		}
		// Another reconcile created it since we looked (or the cache is
		// behind, or our stale-claim delete lost to a newer claim): see whose
		// it is at the API server, and judge again.
		if claim, err = readClaim(ctx, c.APIReader, host); err != nil {
			return Verdict{}, err
		}
	}
	return Verdict{}, fmt.Errorf("hostname %s: the HostnameClaim changed hands %d times while deciding", host, maxRounds)
}

// firstClaimant returns the WebApp that may create the claim for host: the
// oldest eligible one wanting it, app included. It returns app itself (the
// same pointer) when app goes first.
//
// It reads the cache: a WebApp the cache has not seen yet cannot go first,
// which only matters for WebApps created within moments of each other, and
// even then at most one of them can create the claim.
func (c *Claims) firstClaimant(ctx context.Context, app *pylonv1alpha1.WebApp, host string, eligible func(context.Context, *pylonv1alpha1.WebApp) (bool, error)) (*pylonv1alpha1.WebApp, error) {
	list := &pylonv1alpha1.WebAppList{}
	if err := c.Client.List(ctx, list, client.MatchingFields{HostnameIndex: host}); err != nil {
		return nil, fmt.Errorf("list WebApps wanting hostname %s: %w", host, err)
	}
	older := make([]*pylonv1alpha1.WebApp, 0, len(list.Items))
	for i := range list.Items {
		o := &list.Items[i]
		// The app as passed in is the truth for its namespace and name: a
		// cached copy, or a deleted WebApp of the same name the cache still
		// holds, is not a rival.
		if o.Namespace == app.Namespace && o.Name == app.Name {
			continue
		}
		if wants(o, host) && goesBefore(o, app) {
			older = append(older, o)
		}
	}
	slices.SortFunc(older, compare)
	// Eligibility is asked oldest first and only of those older than app:
	// it may read classes and namespaces, and the first yes decides.
	for _, o := range older {
		if eligible == nil {
			return o, nil
		}
		ok, err := eligible(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("decide whether WebApp %s/%s may hold hostname %s: %w", o.Namespace, o.Name, host, err)
		}
		if ok {
			return o, nil
		}
	}
	return app, nil
}

// Release deletes every claim app holds except the one for hostname keep
// ("" releases all). Call it on every reconcile: it is what hands a hostname
// on when its holder moves to another one or stops being routed. It reads
// the cache; a claim the cache has not seen yet is left to Reconciler.
func (c *Claims) Release(ctx context.Context, app *pylonv1alpha1.WebApp, keep string) error {
	if app.UID == "" {
		return fmt.Errorf("webapp %s/%s has no UID: pass the WebApp as read from the API server", app.Namespace, app.Name)
	}
	keep = Normalize(keep)
	list := &pylonv1alpha1.HostnameClaimList{}
	if err := c.Client.List(ctx, list, client.MatchingFields{HolderIndex: string(app.UID)}); err != nil {
		return fmt.Errorf("list HostnameClaims of WebApp %s/%s: %w", app.Namespace, app.Name, err)
	}
	var errs []error
	for i := range list.Items {
		claim := &list.Items[i]
		if claim.Name == keep || claim.Spec.WebApp.UID != app.UID {
			continue
		}
		if err := deleteClaim(ctx, c.Client, claim); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// newClaim is the claim of host by app.
func newClaim(app *pylonv1alpha1.WebApp, host string) *pylonv1alpha1.HostnameClaim {
	return &pylonv1alpha1.HostnameClaim{
		ObjectMeta: metav1.ObjectMeta{
			Name: host,
			Labels: map[string]string{
				LabelWebAppUID: string(app.UID),
				labelManagedBy: managedBy,
			},
		},
		Spec: pylonv1alpha1.HostnameClaimSpec{Hostname: host, WebApp: ref(app)},
	}
}

// readClaim returns the claim of host, or nil when there is none.
func readClaim(ctx context.Context, r client.Reader, host string) (*pylonv1alpha1.HostnameClaim, error) {
	claim := &pylonv1alpha1.HostnameClaim{}
	err := r.Get(ctx, types.NamespacedName{Name: host}, claim)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read HostnameClaim %s: %w", host, err)
	}
	return claim, nil
}

// holderWants reports whether the claim's holder still exists with the
// claimed UID, is not being deleted and still wants the claimed hostname.
// A no from the cache is confirmed with a live read: deleting a claim hands
// the hostname to someone else, and a cache that has not yet seen the holder
// (or its newest hostname) must not cause that.
func holderWants(ctx context.Context, cached, live client.Reader, claim *pylonv1alpha1.HostnameClaim) (bool, error) {
	key := types.NamespacedName{Namespace: claim.Spec.WebApp.Namespace, Name: claim.Spec.WebApp.Name}
	for _, r := range []client.Reader{cached, live} {
		holder := &pylonv1alpha1.WebApp{}
		err := r.Get(ctx, key, holder)
		if err != nil && !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("read WebApp %s holding hostname %s: %w", key, claim.Name, err)
		}
		if err == nil && holds(claim, holder) {
			return true, nil
		}
	}
	return false, nil
}

// holds reports whether app, as read, is the holder the claim names and
// still wants the claimed hostname. The UID, not the name, identifies the
// holder: a WebApp deleted and created again under the same name is a new
// claimant, and waits its turn like any other.
func holds(claim *pylonv1alpha1.HostnameClaim, app *pylonv1alpha1.WebApp) bool {
	return app.UID == claim.Spec.WebApp.UID && wants(app, claim.Name)
}

// deleteClaim deletes the claim if it is still the very object that was
// read (UID precondition). Gone already, or replaced by a newer claim, is
// not an error: either way the claim that was judged no longer exists.
func deleteClaim(ctx context.Context, c client.Writer, claim *pylonv1alpha1.HostnameClaim) error {
	uid := claim.UID
	err := c.Delete(ctx, claim, client.Preconditions{UID: &uid})
	if err == nil || apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return fmt.Errorf("delete HostnameClaim %s: %w", claim.Name, err)
}
