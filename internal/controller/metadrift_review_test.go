package controller_test

import (
	"maps"
	"testing"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/applier"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources"
)

// TestReviewMetadataDriftIsReverted: the cache keeps no labels and no
// annotations of a WebApp's children, so a hand edit of only those (a
// tenant with the edit role changes Pylon's label, drops another, drops
// the applied-hash annotation) must still show through the fingerprint
// and be reverted, on every kind.
func TestReviewMetadataDriftIsReverted(t *testing.T) {
	class, gw := gatewayClass(t, nil)
	ingClass := ingressClass(t, "k8s.io/ingress-nginx", nil)
	ns := newNamespace(t)
	tc := tenantClient(t, ns)
	g := NewWithT(t)
	setGatewayAddress(g, gw, "192.0.2.21")
	newWebApp(t, ns, "shop", func(a *pylonv1alpha1.WebApp) {
		a.Spec.Hostname = "shop." + ns + ".example.com"
		a.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: class}
		a.Spec.TLS = &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSAuto}
		a.Spec.Autoscaling = &pylonv1alpha1.AutoscalingSpec{MinReplicas: 2, MaxReplicas: 5}
	})
	newWebApp(t, ns, "blog", func(a *pylonv1alpha1.WebApp) {
		a.Spec.Hostname = "blog." + ns + ".example.com"
		a.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: ingClass}
	})
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	for _, obj := range []client.Object{
		&appsv1.Deployment{ObjectMeta: meta("shop")},
		&corev1.Service{ObjectMeta: meta("shop")},
		&autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: meta("shop")},
		&policyv1.PodDisruptionBudget{ObjectMeta: meta("shop")},
		&certmanagerv1.Certificate{ObjectMeta: meta("shop")},
		&gwv1.HTTPRoute{ObjectMeta: meta("shop")},
		&networkingv1.Ingress{ObjectMeta: meta("blog")},
	} {
		kind := kindOf(t, obj)
		t.Run(kind, func(t *testing.T) {
			g := NewWithT(t)
			// Settled: the cache shows Pylon's fingerprint on it.
			g.Eventually(func(g Gomega) {
				get(g, obj)
				c := obj.DeepCopyObject().(client.Object)
				g.Expect(cached.Get(ctx, client.ObjectKeyFromObject(obj), c)).To(Succeed())
				g.Expect(applier.CachedFingerprint(c)).NotTo(BeEmpty())
				g.Expect(obj.GetAnnotations()).To(HaveKey(applier.AnnotationAppliedHash))
			}, timeout, poll).Should(Succeed(), "%s exists and is cached", kind)
			wantLabels, wantHash := maps.Clone(obj.GetLabels()), obj.GetAnnotations()[applier.AnnotationAppliedHash]
			g.Expect(wantLabels).To(HaveKey(resources.LabelWebApp))
			g.Eventually(func() error {
				// The edit role covers the built-in kinds; cert-manager's and
				// Gateway API's kinds are edited as an admin would.
				editor := tc
				switch obj.(type) {
				case *certmanagerv1.Certificate, *gwv1.HTTPRoute:
					editor = k8s
				}
				if err := editor.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
					return err
				}
				l, a := obj.GetLabels(), obj.GetAnnotations()
				l[resources.LabelWebApp] = "evil"
				delete(l, resources.LabelManagedBy)
				delete(a, applier.AnnotationAppliedHash)
				obj.SetLabels(l)
				obj.SetAnnotations(a)
				return editor.Update(ctx, obj, client.FieldOwner("kubectl-edit"))
			}, timeout, poll).Should(Succeed())
			g.Expect(obj.GetLabels()[resources.LabelWebApp]).To(Equal("evil"), "the edit landed")
			g.Expect(obj.GetAnnotations()).NotTo(HaveKey(applier.AnnotationAppliedHash), "the edit landed")
			g.Eventually(func(g Gomega) {
				get(g, obj)
				g.Expect(obj.GetLabels()).To(Equal(wantLabels))
				g.Expect(obj.GetAnnotations()[applier.AnnotationAppliedHash]).To(Equal(wantHash))
			}, timeout, poll).Should(Succeed(), "Pylon reverts a hand edit of %s's labels and annotations", kind)
		})
	}
}
