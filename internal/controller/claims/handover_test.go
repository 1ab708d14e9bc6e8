package claims

import (
	"context"
	"testing"

	"github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

func TestHolderDeletedOldestWaiterTakesOver(t *testing.T) {
	g := gomega.NewWithT(t)
	ctx := context.Background()
	host := newHost(t)
	holder := newWebApp(t, newNamespace(t, "m"), "shop", host)
	nextSecond()
	// The first waiter's namespace sorts after the second's: creation time decides.
	first := newWebApp(t, newNamespace(t, "z"), "shop", host)
	nextSecond()
	second := newWebApp(t, newNamespace(t, "a"), "shop", host)
	waitCached(t, host, holder, first, second)

	g.Expect(ensure(t, holder, nil).Held).To(gomega.BeTrue())
	g.Expect(ensure(t, first, nil).Holder).To(gomega.Equal(refOf(holder)))
	g.Expect(ensure(t, second, nil).Holder).To(gomega.Equal(refOf(holder)))
	claim := liveClaim(t, host)
	g.Expect(cl.WebAppsWanting(ctx, claim)).To(gomega.ConsistOf(requestsFor(holder, first, second)))

	g.Expect(k8s.Delete(ctx, holder)).To(gomega.Succeed())
	// Nobody calls Ensure or Release here: only the garbage collector can
	// delete the claim.
	g.Eventually(func() *pylonv1alpha1.HostnameClaim { return liveClaim(t, host) }, timeout, poll).Should(gomega.BeNil())
	waitCached(t, host, first, second)
	g.Expect(cl.WebAppsWanting(ctx, claim)).To(gomega.ConsistOf(requestsFor(first, second)), "the claim's deletion wakes the waiters")
	g.Expect(cl.WebAppsWanting(ctx, holder)).To(gomega.ConsistOf(requestsFor(first, second)), "a WebApp's event wakes the others wanting its hostname")

	// The younger waiter's reconcile may run first: it must leave the
	// hostname to the older one.
	v := ensure(t, second, nil)
	g.Expect(v.Held).To(gomega.BeFalse())
	g.Expect(v.Holder).To(gomega.Equal(refOf(first)))
	g.Expect(liveClaim(t, host)).To(gomega.BeNil())

	g.Expect(ensure(t, first, nil).Held).To(gomega.BeTrue())
	g.Expect(ensure(t, second, nil).Holder).To(gomega.Equal(refOf(first)))
}

func TestHolderBeingDeletedIsStale(t *testing.T) {
	g := gomega.NewWithT(t)
	ctx := context.Background()
	host := newHost(t)
	holder := newWebApp(t, newNamespace(t, "a"), "shop", host)
	nextSecond()
	waiter := newWebApp(t, newNamespace(t, "b"), "shop", host)
	waitCached(t, host, holder, waiter)
	g.Expect(ensure(t, holder, nil).Held).To(gomega.BeTrue())

	// A finalizer of someone else's keeps the holder in deletion.
	holder.Finalizers = []string{"test.pylon.dev/hold"}
	g.Expect(k8s.Update(ctx, holder)).To(gomega.Succeed())
	t.Cleanup(func() {
		_ = k8s.Patch(ctx, holder, client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"finalizers":null}}`)))
	})
	g.Expect(k8s.Delete(ctx, holder)).To(gomega.Succeed())
	g.Eventually(func() *pylonv1alpha1.HostnameClaim { return liveClaim(t, host) }, timeout, poll).Should(gomega.BeNil())
	g.Expect(ensure(t, waiter, nil).Held).To(gomega.BeTrue())
}

func TestHostnameChangeReleasesTheOldOne(t *testing.T) {
	g := gomega.NewWithT(t)
	ctx := context.Background()
	h1, h2 := newHost(t), newHost(t)
	holder := newWebApp(t, newNamespace(t, "a"), "shop", h1)
	nextSecond()
	waiter := newWebApp(t, newNamespace(t, "b"), "shop", h1)
	waitCached(t, h1, holder, waiter)
	g.Expect(ensure(t, holder, nil).Held).To(gomega.BeTrue())
	g.Expect(ensure(t, waiter, nil).Holder).To(gomega.Equal(refOf(holder)))

	// Releasing with the held hostname kept is a no-op.
	g.Expect(cl.Release(ctx, holder, h1)).To(gomega.Succeed())
	g.Expect(liveClaim(t, h1)).NotTo(gomega.BeNil())

	holder.Spec.Hostname = h2
	g.Expect(k8s.Update(ctx, holder)).To(gomega.Succeed())
	g.Expect(ensure(t, holder, nil).Held).To(gomega.BeTrue())
	waitClaimCached(t, h2)
	g.Expect(cl.Release(ctx, holder, h2)).To(gomega.Succeed())
	g.Expect(liveClaim(t, h1)).To(gomega.BeNil(), "the old hostname is released")
	g.Expect(liveClaim(t, h2).Spec.WebApp).To(gomega.Equal(ref(holder)), "the kept one is not")

	waitCached(t, h1, waiter)
	g.Expect(ensure(t, waiter, nil).Held).To(gomega.BeTrue())
}

// TestReleaseAll releases a claim whose holder still wants the hostname
// (its class stopped routing it, say): the garbage collector would keep
// that claim, so only Release can be what deletes it.
func TestReleaseAll(t *testing.T) {
	g := gomega.NewWithT(t)
	ctx := context.Background()
	host := newHost(t)
	holder := newWebApp(t, newNamespace(t, "a"), "shop", host)
	nextSecond()
	waiter := newWebApp(t, newNamespace(t, "b"), "shop", host)
	bystanderHost := newHost(t)
	bystander := newWebApp(t, newNamespace(t, "c"), "shop", bystanderHost)
	waitCached(t, host, holder, waiter)
	g.Expect(ensure(t, holder, nil).Held).To(gomega.BeTrue())
	g.Expect(ensure(t, bystander, nil).Held).To(gomega.BeTrue())
	waitClaimCached(t, host)
	waitClaimCached(t, bystanderHost)

	g.Expect(cl.Release(ctx, holder, "")).To(gomega.Succeed())
	g.Expect(liveClaim(t, host)).To(gomega.BeNil())
	g.Expect(liveClaim(t, bystanderHost)).NotTo(gomega.BeNil(), "only the WebApp's own claims are released")

	// The released holder is no longer eligible (that is why it released).
	g.Expect(ensure(t, waiter, except(holder)).Held).To(gomega.BeTrue())
}

func TestStaleClaimOfSameNameIsNotMistaken(t *testing.T) {
	g := gomega.NewWithT(t)
	ctx := context.Background()
	host := newHost(t)
	ns := newNamespace(t, "a")
	gone := newWebApp(t, ns, "shop", host)
	g.Expect(ensure(t, gone, nil).Held).To(gomega.BeTrue())
	waitClaimCached(t, host)
	g.Expect(k8s.Delete(ctx, gone)).To(gomega.Succeed())

	again := newWebApp(t, ns, "shop", host)
	g.Expect(again.UID).NotTo(gomega.Equal(gone.UID))
	v := ensure(t, again, nil)
	g.Expect(v.Held).To(gomega.BeTrue(), v.Message)
	claim := liveClaim(t, host)
	g.Expect(claim).NotTo(gomega.BeNil())
	g.Expect(claim.Spec.WebApp.UID).To(gomega.Equal(again.UID), "the claim of the deleted WebApp was replaced, not taken for the new one's")
	g.Expect(claim.Labels).To(gomega.HaveKeyWithValue(LabelWebAppUID, string(again.UID)))
}

// waitClaimCached waits until the cache has the claim of host, as Release
// (which reads the cache) would find it in a later reconcile.
func waitClaimCached(t *testing.T, host string) {
	t.Helper()
	gomega.NewWithT(t).Eventually(func() error {
		return cached.Get(context.Background(), client.ObjectKey{Name: host}, &pylonv1alpha1.HostnameClaim{})
	}, timeout, poll).Should(gomega.Succeed())
}

func requestsFor(apps ...*pylonv1alpha1.WebApp) []reconcile.Request {
	out := make([]reconcile.Request, 0, len(apps))
	for _, a := range apps {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(a)})
	}
	return out
}
