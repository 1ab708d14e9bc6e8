package controller_test

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/internal/controller/applier"
)

// tenantClient is a client for user "tenant" bound in ns to the built-in
// edit ClusterRole as a cluster aggregates it: envtest runs no
// kube-controller-manager, so the rules of every ClusterRole labelled
// aggregate-to-edit (the bootstrap ones and Pylon's, if installed) are
// gathered here into "review-edit", as its aggregation controller would.
func tenantClient(t *testing.T, ns string) client.Client {
	t.Helper()
	edit := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "review-edit"}}
	for _, to := range []string{"edit", "view"} { // edit includes view
		roles := &rbacv1.ClusterRoleList{}
		if err := k8s.List(ctx, roles, client.MatchingLabels{"rbac.authorization.k8s.io/aggregate-to-" + to: "true"}); err != nil {
			t.Fatal(err)
		}
		for _, r := range roles.Items {
			edit.Rules = append(edit.Rules, r.Rules...)
		}
	}
	if len(edit.Rules) == 0 {
		t.Fatal("no ClusterRole aggregates to edit")
	}
	if err := k8s.Create(ctx, edit); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant-edit"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "review-edit"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: "tenant"}},
	}
	if err := k8s.Create(ctx, rb); err != nil {
		t.Fatal(err)
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "tenant"}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestReviewAPIServerClearsSelfLink: the cache keeps Pylon's fingerprint
// in metadata.selfLink; a tenant (edit role) writes one on create, update
// and server-side apply, on a built-in kind and on a CRD kind, and the real
// kube-apiserver must not keep it (and the manager's cache must not show
// one on an object that is no WebApp child).
func TestReviewAPIServerClearsSelfLink(t *testing.T) {
	ns := newNamespace(t)
	tc := tenantClient(t, ns)
	const forged = "0123456789abcdef0123456789abcdef"
	g := NewWithT(t)

	// Create with a selfLink.
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "c"}}
	cm.SetSelfLink(forged)
	g.Eventually(func() error { return tc.Create(ctx, cm) }, timeout, poll).Should(Succeed())
	got := &corev1.ConfigMap{}
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(cm), got)).To(Succeed())
	g.Expect(got.GetSelfLink()).To(BeEmpty(), "create kept a client's selfLink")

	// Update with a selfLink.
	got.SetSelfLink(forged)
	got.Data = map[string]string{"a": "b"}
	g.Expect(tc.Update(ctx, got)).To(Succeed())
	g.Expect(got.GetSelfLink()).To(BeEmpty(), "update answered with a client's selfLink")
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(cm), got)).To(Succeed())
	g.Expect(got.GetSelfLink()).To(BeEmpty(), "update kept a client's selfLink")

	// Server-side apply with a selfLink.
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"namespace": ns, "name": "c2", "selfLink": forged},
	}}
	g.Expect(tc.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(applier.FieldOwner))).To(Succeed())
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "c2"}, got)).To(Succeed())
	g.Expect(got.GetSelfLink()).To(BeEmpty(), "apply kept a client's selfLink")

	// A CRD kind (served by apiextensions-apiserver), and an Ingress the
	// manager caches: neither may show a selfLink, in the API or the cache.
	hr := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "r"},
		Spec: gwv1.HTTPRouteSpec{Hostnames: []gwv1.Hostname{"x.example.com"}}}
	hr.SetSelfLink(forged)
	g.Expect(k8s.Create(ctx, hr)).To(Succeed()) // the edit role has no Gateway API rules in envtest
	gotHR := &gwv1.HTTPRoute{}
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(hr), gotHR)).To(Succeed())
	g.Expect(gotHR.GetSelfLink()).To(BeEmpty(), "a CRD object kept a client's selfLink")

	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "i"},
		Spec: networkingv1.IngressSpec{IngressClassName: ptr.To("x"), Rules: []networkingv1.IngressRule{{Host: "x.example.com"}}}}
	ing.SetSelfLink(forged)
	g.Expect(tc.Create(ctx, ing)).To(Succeed())
	g.Eventually(func(g Gomega) {
		c := &networkingv1.Ingress{}
		g.Expect(cached.Get(ctx, client.ObjectKeyFromObject(ing), c)).To(Succeed())
		g.Expect(applier.CachedFingerprint(c)).To(BeEmpty(), "the cache shows a fingerprint on a tenant's Ingress")
	}, 10*time.Second, poll).Should(Succeed())
}
