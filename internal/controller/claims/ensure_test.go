package claims

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

func TestSingleWebAppClaimsItsHostname(t *testing.T) {
	g := gomega.NewWithT(t)
	host := newHost(t)
	app := newWebApp(t, newNamespace(t, "a"), "shop", host)

	v := ensure(t, app, nil)
	g.Expect(v).To(gomega.Equal(Verdict{Held: true, Reason: pylonv1alpha1.ReasonHostnameClaimed, Message: "hostname " + host + " is held by this WebApp"}))
	claim := liveClaim(t, host)
	g.Expect(claim).NotTo(gomega.BeNil())
	g.Expect(claim.Spec).To(gomega.Equal(pylonv1alpha1.HostnameClaimSpec{Hostname: host, WebApp: ref(app)}))
	g.Expect(claim.Labels).To(gomega.HaveKeyWithValue(LabelWebAppUID, string(app.UID)))

	// Idempotent: the same claim, not a new one.
	g.Expect(ensure(t, app, nil).Held).To(gomega.BeTrue())
	g.Expect(liveClaim(t, host).UID).To(gomega.Equal(claim.UID))

	// The garbage collector leaves a valid claim alone.
	g.Consistently(func() *pylonv1alpha1.HostnameClaim { return liveClaim(t, host) }, "1s", poll).
		Should(gomega.HaveField("UID", claim.UID))
}

func TestOlderWebAppHoldsAcrossNamespaces(t *testing.T) {
	g := gomega.NewWithT(t)
	host := newHost(t)
	// The older WebApp's namespace sorts after the younger one's, and the
	// younger one asks first: only creation time makes the older one win.
	older := newWebApp(t, newNamespace(t, "z"), "shop", host)
	nextSecond()
	younger := newWebApp(t, newNamespace(t, "a"), "shop", host)
	waitCached(t, host, older, younger)

	v := ensure(t, younger, nil)
	g.Expect(v.Held).To(gomega.BeFalse())
	g.Expect(v.Reason).To(gomega.Equal(pylonv1alpha1.ReasonHostnameConflict))
	g.Expect(v.Holder).To(gomega.Equal(refOf(older)))
	g.Expect(v.Message).To(gomega.ContainSubstring("older WebApp " + older.Namespace + "/shop"))
	g.Expect(liveClaim(t, host)).To(gomega.BeNil(), "a WebApp that does not go first must not claim")

	g.Expect(ensure(t, older, nil).Held).To(gomega.BeTrue())
	claim := liveClaim(t, host)

	v = ensure(t, younger, nil)
	g.Expect(v.Held).To(gomega.BeFalse())
	g.Expect(v.Holder).To(gomega.Equal(refOf(older)))
	g.Expect(v.Message).To(gomega.Equal(fmt.Sprintf(
		"hostname %s is held by WebApp %s/shop (since %s); this WebApp gets no route, certificate or DNS record until it is released",
		host, older.Namespace, rfc3339(claim.CreationTimestamp.Time))))
}

func TestConcurrentEnsureOldestWins(t *testing.T) {
	g := gomega.NewWithT(t)
	host := newHost(t)
	ns := newNamespace(t, "c")
	// The oldest sorts last by name, so only creation time picks it.
	oldest := newWebApp(t, ns, "zz-oldest", host)
	nextSecond()
	apps := []*pylonv1alpha1.WebApp{oldest}
	for i := range 19 {
		apps = append(apps, newWebApp(t, ns, fmt.Sprintf("app-%02d", i), host))
	}
	waitCached(t, host, apps...)

	verdicts := ensureAll(t, apps, nil)
	for i, v := range verdicts {
		if i == 0 {
			g.Expect(v.Held).To(gomega.BeTrue(), "the oldest holds")
			continue
		}
		g.Expect(v.Held).To(gomega.BeFalse(), apps[i].Name)
		g.Expect(v.Reason).To(gomega.Equal(pylonv1alpha1.ReasonHostnameConflict))
		g.Expect(v.Holder).To(gomega.Equal(refOf(oldest)), apps[i].Name)
	}
	g.Expect(liveClaim(t, host).Spec.WebApp).To(gomega.Equal(ref(oldest)))
	g.Expect(claimsLabelled(t, apps...)).To(gomega.ConsistOf(host), "exactly one claim among all claimants")
}

// TestConcurrentCreateHasExactlyOneWinner makes every claimant believe it
// goes first (each finds the others ineligible), so that all 20 race to
// create the claim: the API server lets one win and the others must report
// that one, whoever it is.
func TestConcurrentCreateHasExactlyOneWinner(t *testing.T) {
	g := gomega.NewWithT(t)
	host := newHost(t)
	var apps []*pylonv1alpha1.WebApp
	for i := range 20 {
		apps = append(apps, newWebApp(t, newNamespace(t, "r"), fmt.Sprintf("app-%02d", i), host))
	}
	waitCached(t, host, apps...)

	none := func(context.Context, *pylonv1alpha1.WebApp) bool { return false }
	verdicts := ensureAll(t, apps, none)
	claim := liveClaim(t, host)
	g.Expect(claim).NotTo(gomega.BeNil())
	held := 0
	for i, v := range verdicts {
		if v.Held {
			held++
			g.Expect(claim.Spec.WebApp).To(gomega.Equal(ref(apps[i])), "the one told it holds is the one the claim names")
			continue
		}
		g.Expect(v.Reason).To(gomega.Equal(pylonv1alpha1.ReasonHostnameConflict))
		g.Expect(v.Holder).To(gomega.Equal(&claim.Spec.WebApp), apps[i].Name)
		g.Expect(v.Message).To(gomega.ContainSubstring("is held by WebApp " + refString(claim.Spec.WebApp)))
	}
	g.Expect(held).To(gomega.Equal(1))
	g.Expect(claimsLabelled(t, apps...)).To(gomega.ConsistOf(host))
}

// ensureAll calls Ensure for every app at once and returns the verdicts in
// the order of apps.
func ensureAll(t *testing.T, apps []*pylonv1alpha1.WebApp, eligible func(context.Context, *pylonv1alpha1.WebApp) bool) []Verdict {
	t.Helper()
	verdicts := make([]Verdict, len(apps))
	errs := make([]error, len(apps))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, app := range apps {
		wg.Go(func() {
			<-start
			verdicts[i], errs[i] = cl.Ensure(context.Background(), app, rulesOf(eligible))
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Ensure %s: %v", apps[i].Name, err)
		}
	}
	return verdicts
}

// claimsLabelled returns the names of the live claims labelled with any of
// the apps' UIDs.
func claimsLabelled(t *testing.T, apps ...*pylonv1alpha1.WebApp) []string {
	t.Helper()
	list := &pylonv1alpha1.HostnameClaimList{}
	if err := k8s.List(context.Background(), list); err != nil {
		t.Fatal(err)
	}
	uids := map[string]bool{}
	for _, a := range apps {
		uids[string(a.UID)] = true
	}
	var out []string
	for _, c := range list.Items {
		if uids[c.Labels[LabelWebAppUID]] || uids[string(c.Spec.WebApp.UID)] {
			out = append(out, c.Name)
		}
	}
	return out
}

func TestIneligibleOlderWebAppDoesNotBlock(t *testing.T) {
	g := gomega.NewWithT(t)
	host := newHost(t)
	older := newWebApp(t, newNamespace(t, "a"), "shop", host)
	nextSecond()
	younger := newWebApp(t, newNamespace(t, "b"), "shop", host)
	waitCached(t, host, older, younger)

	// Had the older one been eligible, it would go first (see
	// TestOlderWebAppHoldsAcrossNamespaces); the policy refuses it.
	v := ensure(t, younger, except(older))
	g.Expect(v.Held).To(gomega.BeTrue(), v.Message)
	g.Expect(liveClaim(t, host).Spec.WebApp).To(gomega.Equal(ref(younger)))
}

func TestEnsureComparesNormalizedHostnames(t *testing.T) {
	g := gomega.NewWithT(t)
	host := newHost(t)
	holder := newWebApp(t, newNamespace(t, "a"), "shop", host)
	nextSecond()
	other := newWebApp(t, newNamespace(t, "b"), "shop", host)
	waitCached(t, host, holder, other)

	// The API refuses these spellings; Ensure must not depend on that.
	shouting := holder.DeepCopy()
	shouting.Spec.Hostname = strings.ToUpper(host) + "."
	g.Expect(ensure(t, shouting, nil).Held).To(gomega.BeTrue())
	claim := liveClaim(t, host)
	g.Expect(claim).NotTo(gomega.BeNil(), "the claim is named after the normalized hostname")
	g.Expect(claim.Spec.Hostname).To(gomega.Equal(host))

	dotted := other.DeepCopy()
	dotted.Spec.Hostname = host + "."
	v := ensure(t, dotted, nil)
	g.Expect(v.Held).To(gomega.BeFalse(), "shop.example.com. is shop.example.com")
	g.Expect(v.Holder).To(gomega.Equal(refOf(holder)))

	g.Expect(ensure(t, shouting, nil).Held).To(gomega.BeTrue(), "the holder recognises its claim in any spelling")
}

func TestEnsureRefusesAWebAppWithoutHostname(t *testing.T) {
	app := newWebApp(t, newNamespace(t, "a"), "shop", "")
	if _, err := cl.Ensure(context.Background(), app, Rules{}); err == nil {
		t.Fatal("Ensure succeeded for a WebApp without hostname")
	}
}

func TestEligibilityReadErrorIsAnError(t *testing.T) {
	g := gomega.NewWithT(t)
	host := newHost(t)
	older := newWebApp(t, newNamespace(t, "a"), "shop", host)
	nextSecond()
	younger := newWebApp(t, newNamespace(t, "b"), "shop", host)
	waitCached(t, host, older, younger)

	// Reading the older WebApp's class failed: that is not "not
	// eligible", or the younger one would take a hostname that may be
	// the older one's.
	boom := errors.New("class not readable")
	_, err := cl.Ensure(context.Background(), younger, Rules{Eligible: func(context.Context, *pylonv1alpha1.WebApp) (bool, error) { return false, boom }})
	g.Expect(err).To(gomega.MatchError(boom))
	g.Expect(liveClaim(t, host)).To(gomega.BeNil(), "nothing is claimed on an error")
}

func TestHostnameServedByAnotherNamespaceIsNotClaimed(t *testing.T) {
	g := gomega.NewWithT(t)
	host := newHost(t)
	app := newWebApp(t, newNamespace(t, "a"), "shop", host)
	waitCached(t, host, app)

	f := &Foreign{Kind: "HTTPRoute", Namespace: "tenant-b", Name: "plain", Created: metav1.NewTime(time.Unix(1700000000, 0))}
	served := Rules{ServedElsewhere: func(context.Context) (*Foreign, error) { return f, nil }}
	v, err := cl.Ensure(context.Background(), app, served)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(v.Held).To(gomega.BeFalse())
	g.Expect(v.Reason).To(gomega.Equal(pylonv1alpha1.ReasonHostnameConflict))
	g.Expect(v.ServedBy).To(gomega.Equal(f))
	g.Expect(v.Message).To(gomega.ContainSubstring("namespace tenant-b"))
	g.Expect(liveClaim(t, host)).To(gomega.BeNil())

	failing := Rules{ServedElsewhere: func(context.Context) (*Foreign, error) { return nil, errors.New("list failed") }}
	_, err = cl.Ensure(context.Background(), app, failing)
	g.Expect(err).To(gomega.HaveOccurred(), "a failed look-up is an error, not a free hostname")

	// Once the foreign object is gone the WebApp claims; from then on a
	// new foreign object does not take the hostname away.
	g.Expect(ensure(t, app, nil).Held).To(gomega.BeTrue())
	v, err = cl.Ensure(context.Background(), app, served)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(v.Held).To(gomega.BeTrue(), "the holder keeps its hostname")
}
