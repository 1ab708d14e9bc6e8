package latecrds_test

import (
	"context"
	"testing"
	"time"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	. "github.com/onsi/gomega"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller"
	"github.com/pylon-dev/pylon/test/testenv"
)

func TestOptionalAPIsInstalledLater(t *testing.T) {
	g := NewWithT(t)
	env, err := testenv.Start(testenv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	k8s, err := client.New(env.Config, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	mgr, err := env.StartManager(func(ctx context.Context, mgr ctrl.Manager) error {
		return controller.Setup(ctx, mgr, controller.Options{ClusterDomain: "cluster.local", Concurrency: 2})
	})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() {
		if err := mgr.Stop(); err != nil {
			t.Error(err)
		}
	})
	ctx := context.Background()

	// A Gateway class and an Ingress class with TLS Auto, before either API exists.
	g.Expect(k8s.Create(ctx, &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx"}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}})).To(Succeed())
	for _, c := range []*pylonv1alpha1.ExposureClass{
		{ObjectMeta: metav1.ObjectMeta{Name: "gw"}, Spec: pylonv1alpha1.ExposureClassSpec{Type: pylonv1alpha1.ExposureGateway, Gateway: &pylonv1alpha1.GatewayReference{Name: "web", Namespace: "default"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "nginx"}, Spec: pylonv1alpha1.ExposureClassSpec{Type: pylonv1alpha1.ExposureIngress, IngressClassName: "nginx",
			TLS: &pylonv1alpha1.ExposureClassTLS{IssuerRef: &pylonv1alpha1.IssuerReference{Name: "le"}, DefaultMode: pylonv1alpha1.TLSAuto}}},
	} {
		g.Expect(k8s.Create(ctx, c)).To(Succeed())
	}
	viaGateway := &pylonv1alpha1.WebApp{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "a"},
		Spec: pylonv1alpha1.WebAppSpec{Image: "a:1", Hostname: "a.example.com", Exposure: &pylonv1alpha1.ExposureSpec{Class: "gw"}}}
	viaIngress := &pylonv1alpha1.WebApp{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "b"},
		Spec: pylonv1alpha1.WebAppSpec{Image: "b:1", Hostname: "b.example.com", Exposure: &pylonv1alpha1.ExposureSpec{Class: "nginx"}}}
	g.Expect(k8s.Create(ctx, viaGateway)).To(Succeed())
	g.Expect(k8s.Create(ctx, viaIngress)).To(Succeed())

	cond := func(app *pylonv1alpha1.WebApp, t string) func(Gomega) *metav1.Condition {
		return func(g Gomega) *metav1.Condition {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(app), app)).To(Succeed())
			return meta.FindStatusCondition(app.Status.Conditions, t)
		}
	}
	g.Eventually(cond(viaGateway, pylonv1alpha1.ConditionRouted), 20*time.Second, 50*time.Millisecond).Should(And(
		HaveField("Status", metav1.ConditionFalse), HaveField("Reason", pylonv1alpha1.ReasonAPINotInstalled),
		HaveField("Message", ContainSubstring("Gateway API is not installed"))))
	g.Eventually(cond(viaIngress, pylonv1alpha1.ConditionCertificateReady), 20*time.Second, 50*time.Millisecond).Should(And(
		HaveField("Status", metav1.ConditionFalse), HaveField("Reason", pylonv1alpha1.ReasonAPINotInstalled),
		HaveField("Message", ContainSubstring("cert-manager is not installed"))))
	gwClass := &pylonv1alpha1.ExposureClass{ObjectMeta: metav1.ObjectMeta{Name: "gw"}}
	g.Eventually(func(g Gomega) string {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(gwClass), gwClass)).To(Succeed())
		c := meta.FindStatusCondition(gwClass.Status.Conditions, "Accepted")
		g.Expect(c).NotTo(BeNil())
		return c.Reason
	}, 20*time.Second, 50*time.Millisecond).Should(Equal(pylonv1alpha1.ReasonAPINotInstalled))

	// The cluster administrator installs cert-manager, then the Gateway API.
	g.Expect(env.InstallCRDs(testenv.Options{CertManager: true})).To(Succeed())
	crt := &certmanagerv1.Certificate{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "b"}}
	g.Eventually(func() error { return k8s.Get(ctx, client.ObjectKeyFromObject(crt), crt) }, 30*time.Second, 100*time.Millisecond).Should(Succeed(), "Certificate made once cert-manager is installed")
	g.Expect(crt.Spec.DNSNames).To(Equal([]string{"b.example.com"}))
	g.Eventually(cond(viaIngress, pylonv1alpha1.ConditionCertificateReady), 20*time.Second, 50*time.Millisecond).Should(HaveField("Reason", pylonv1alpha1.ReasonPending))

	g.Expect(env.InstallCRDs(testenv.Options{GatewayAPI: true})).To(Succeed())
	route := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "a"}}
	g.Eventually(func() error { return k8s.Get(ctx, client.ObjectKeyFromObject(route), route) }, 30*time.Second, 100*time.Millisecond).Should(Succeed(), "HTTPRoute made once the Gateway API is installed")
	g.Eventually(cond(viaGateway, pylonv1alpha1.ConditionRouted), 20*time.Second, 50*time.Millisecond).Should(HaveField("Reason", pylonv1alpha1.ReasonPending))
	g.Eventually(func(g Gomega) string {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(gwClass), gwClass)).To(Succeed())
		return meta.FindStatusCondition(gwClass.Status.Conditions, "Accepted").Reason
	}, 20*time.Second, 50*time.Millisecond).Should(Equal(pylonv1alpha1.ReasonGatewayNotFound), "the class now looks for its Gateway")
}
