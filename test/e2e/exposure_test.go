package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/test/localcluster"
)

// A WebApp of the default class is served through the bundled gateway.
func TestDefaultClassServes(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t, "default-class")
	app := newWebApp(ns, "hello", "hello.e2e.test")
	g.Expect(env.Client.Create(context.Background(), app)).To(Succeed())

	start := time.Now()
	cur := waitCondition(t, app, "Ready", metav1.ConditionTrue, "")
	t.Logf("Ready after %s", time.Since(start).Round(time.Millisecond))
	g.Expect(cur.Status.URL).To(Equal("http://hello.e2e.test/"))
	g.Expect(condition(cur, "Routed").Status).To(Equal(metav1.ConditionTrue))

	r := waitServing(t, "http://hello.e2e.test/some/path?q=1", ns)
	g.Expect(r.Echo.Pod).To(HavePrefix("hello-"))
	g.Expect(r.Echo.Path).To(Equal("/some/path?q=1"))
	g.Expect(r.Echo.Host).To(Equal("hello.e2e.test"))
	g.Expect(r.Echo.Image).To(Equal(stableImage))
	t.Logf("served after %s", time.Since(start).Round(time.Millisecond))
}

// TLS Auto: a certificate is issued, HTTPS verifies against the CA, and
// HTTP is redirected to HTTPS.
func TestTLSAuto(t *testing.T) {
	g := NewWithT(t)
	// The default class names no issuer, so it allows none: this class
	// names the local cluster's CA ClusterIssuer (real cert-manager).
	class := &pylonv1alpha1.ExposureClass{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-tls"},
		Spec: pylonv1alpha1.ExposureClassSpec{
			Type:    pylonv1alpha1.ExposureGateway,
			Gateway: &pylonv1alpha1.GatewayReference{Name: "pylon", Namespace: "pylon-system", HTTPListener: "http"},
			TLS:     &pylonv1alpha1.ExposureClassTLS{IssuerRef: &pylonv1alpha1.IssuerReference{Name: localcluster.ClusterIssuerName, Kind: "ClusterIssuer"}},
		},
	}
	g.Expect(env.Client.Create(context.Background(), class)).To(Succeed())
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), class) })
	ns := newNamespace(t, "tls-auto")
	app := newWebApp(ns, "secure", "secure.e2e.test")
	app.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: class.Name}
	app.Spec.TLS = &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSAuto, IssuerRef: &pylonv1alpha1.IssuerReference{Name: localcluster.ClusterIssuerName, Kind: "ClusterIssuer"}}
	g.Expect(env.Client.Create(context.Background(), app)).To(Succeed())

	waitCondition(t, app, "CertificateReady", metav1.ConditionTrue, "")
	cur := waitCondition(t, app, "Ready", metav1.ConditionTrue, "")
	g.Expect(cur.Status.URL).To(Equal("https://secure.e2e.test/"))

	r := waitServing(t, "https://secure.e2e.test/tls", ns)
	g.Expect(r.Echo.Pod).To(HavePrefix("secure-"))
	g.Expect(r.Echo.Path).To(Equal("/tls"))

	c := gatewayClient()
	NewWithT(t).Eventually(func(g Gomega) {
		red, err := do(c, http.MethodGet, "http://secure.e2e.test/x?y=1", nil)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(red.Status).To(BeElementOf(http.StatusMovedPermanently, http.StatusPermanentRedirect))
		g.Expect(red.Header.Get("Location")).To(Equal("https://secure.e2e.test/x?y=1"))
	}).WithTimeout(readyTimeout).Should(Succeed())

	// The certificate is the issued one, valid for the hostname only.
	_, err := do(c, http.MethodGet, "https://other.e2e.test/", nil)
	if err == nil {
		t.Log("note: the gateway answered an unknown SNI name over TLS")
	} else {
		g.Expect(strings.Contains(err.Error(), "certificate") || strings.Contains(err.Error(), "tls")).To(BeTrue(), err.Error())
	}
}
