package claims

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"shop.example.com":   "shop.example.com",
		"Shop.Example.COM":   "shop.example.com",
		"shop.example.com.":  "shop.example.com",
		"SHOP.EXAMPLE.COM.":  "shop.example.com",
		"shop.example.com..": "shop.example.com.", // one trailing dot only: the rest is not a hostname
		"":                   "",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func webApp(ns, name string, created time.Time, uid string) *pylonv1alpha1.WebApp {
	return &pylonv1alpha1.WebApp{ObjectMeta: metav1.ObjectMeta{
		Namespace: ns, Name: name, UID: types.UID(uid), CreationTimestamp: metav1.NewTime(created),
	}}
}

func TestOrderOlderFirstThenNamespaceThenName(t *testing.T) {
	g := gomega.NewWithT(t)
	t0 := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	// Names and namespaces are chosen so that any order other than
	// (time, namespace, name) puts them differently.
	want := []*pylonv1alpha1.WebApp{
		webApp("zz", "zz", t0, "5"),
		webApp("aa", "zz", t0.Add(time.Second), "4"),
		webApp("bb", "aa", t0.Add(time.Second), "3"),
		webApp("bb", "bb", t0.Add(time.Second), "2"),
		webApp("aa", "aa", t0.Add(2*time.Second), "1"),
	}
	for range 20 {
		got := slices.Clone(want)
		rand.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
		slices.SortFunc(got, compare)
		g.Expect(got).To(gomega.Equal(want))
	}
	g.Expect(goesBefore(want[0], want[1])).To(gomega.BeTrue(), "older goes first whatever its namespace")
	g.Expect(goesBefore(want[1], want[0])).To(gomega.BeFalse())
	g.Expect(goesBefore(want[1], want[2])).To(gomega.BeTrue(), "same second: namespace decides")
	g.Expect(goesBefore(want[2], want[3])).To(gomega.BeTrue(), "same second and namespace: name decides")
	g.Expect(goesBefore(want[2], want[2])).To(gomega.BeFalse(), "strict order")
	// A WebApp deleted and created again under the same name in the same
	// second is still a different claimant: the order stays total.
	a, b := webApp("ns", "shop", t0, "a"), webApp("ns", "shop", t0, "b")
	g.Expect(goesBefore(a, b)).NotTo(gomega.Equal(goesBefore(b, a)))
}

func TestHoldsIdentifiesTheHolderByUID(t *testing.T) {
	claim := &pylonv1alpha1.HostnameClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "shop.example.com"},
		Spec: pylonv1alpha1.HostnameClaimSpec{Hostname: "shop.example.com", WebApp: pylonv1alpha1.WebAppReference{
			Namespace: "team-a", Name: "shop", UID: "uid-1",
		}},
	}
	now := metav1.Now()
	for _, tc := range []struct {
		name   string
		mutate func(*pylonv1alpha1.WebApp)
		want   bool
	}{
		{"holder wanting the hostname", func(*pylonv1alpha1.WebApp) {}, true},
		{"holder spelling it in upper case with a trailing dot", func(a *pylonv1alpha1.WebApp) { a.Spec.Hostname = "SHOP.Example.com." }, true},
		{"new WebApp of the same name", func(a *pylonv1alpha1.WebApp) { a.UID = "uid-2" }, false},
		{"holder being deleted", func(a *pylonv1alpha1.WebApp) { a.DeletionTimestamp = &now }, false},
		{"holder moved to another hostname", func(a *pylonv1alpha1.WebApp) { a.Spec.Hostname = "shop2.example.com" }, false},
		{"holder dropped its hostname", func(a *pylonv1alpha1.WebApp) { a.Spec.Hostname = "" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := &pylonv1alpha1.WebApp{
				ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "shop", UID: "uid-1"},
				Spec:       pylonv1alpha1.WebAppSpec{Hostname: "shop.example.com"},
			}
			tc.mutate(app)
			if got := holds(claim, app); got != tc.want {
				t.Errorf("holds = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestVerdictMessagesNameTheHolder(t *testing.T) {
	g := gomega.NewWithT(t)
	created := metav1.NewTime(time.Date(2026, 7, 1, 14, 0, 5, 0, time.FixedZone("CEST", 2*3600)))
	claim := &pylonv1alpha1.HostnameClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "shop.example.com", CreationTimestamp: created},
		Spec: pylonv1alpha1.HostnameClaimSpec{Hostname: "shop.example.com", WebApp: pylonv1alpha1.WebAppReference{
			Namespace: "team-a", Name: "shop", UID: "uid-1",
		}},
	}
	v := heldByVerdict(claim)
	g.Expect(v.Held).To(gomega.BeFalse())
	g.Expect(v.Reason).To(gomega.Equal(pylonv1alpha1.ReasonHostnameConflict))
	g.Expect(v.Holder).To(gomega.Equal(&claim.Spec.WebApp))
	g.Expect(v.Message).To(gomega.Equal("hostname shop.example.com is held by WebApp team-a/shop (since 2026-07-01T12:00:05Z); " +
		"this WebApp gets no route, certificate or DNS record until it is released"))

	first := webApp("team-b", "shop", created.Time, "uid-2")
	v = goesFirstVerdict("shop.example.com", first)
	g.Expect(v.Held).To(gomega.BeFalse())
	g.Expect(v.Reason).To(gomega.Equal(pylonv1alpha1.ReasonHostnameConflict))
	g.Expect(v.Holder).To(gomega.Equal(&pylonv1alpha1.WebAppReference{Namespace: "team-b", Name: "shop", UID: "uid-2"}))
	g.Expect(v.Message).To(gomega.HavePrefix("hostname shop.example.com is wanted by the older WebApp team-b/shop (created 2026-07-01T12:00:05Z), which goes first; "))

	v = heldVerdict("shop.example.com")
	g.Expect(v).To(gomega.Equal(Verdict{Held: true, Reason: pylonv1alpha1.ReasonHostnameClaimed, Message: "hostname shop.example.com is held by this WebApp"}))
}
