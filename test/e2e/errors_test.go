package e2e

import (
	"context"
	"net/http"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/test/localcluster"
)

// A hostname no route serves gets 404 from the gateway.
func TestUnknownHostIs404(t *testing.T) {
	g := NewWithT(t)
	r, err := do(gatewayClient(), http.MethodGet, "http://nobody-serves-this.e2e.test/", nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(r.Status).To(Equal(http.StatusNotFound))
}

// Without a ready Pod the gateway answers 503, and the WebApp says why.
func TestNoReadyPodsIs503(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t, "unready")
	app := newWebApp(ns, "broken", "broken.e2e.test")
	// The echo backend answers /status/503 with 503: the readiness probe
	// never passes, as with an app that cannot reach its database.
	app.Spec.ReadinessProbe = &pylonv1alpha1.ProbeSpec{Path: "/status/503", PeriodSeconds: 1}
	g.Expect(env.Client.Create(context.Background(), app)).To(Succeed())

	cur := waitCondition(t, app, "Available", metav1.ConditionFalse, "")
	t.Logf("Available=False %s: %s", condition(cur, "Available").Reason, condition(cur, "Available").Message)
	g.Expect(condition(cur, "Available").Message).NotTo(BeEmpty())
	cur = waitCondition(t, app, "Routed", metav1.ConditionTrue, "")
	g.Expect(condition(cur, "Ready").Status).To(Equal(metav1.ConditionFalse))

	c := gatewayClient()
	NewWithT(t).Eventually(func(g Gomega) {
		r, err := do(c, http.MethodGet, "http://broken.e2e.test/", nil)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(r.Status).To(Equal(http.StatusServiceUnavailable))
	}).WithTimeout(readyTimeout).Should(Succeed())
}

// A TLS Secret that does not cover the hostname is refused:
// CertificateReady False, HostnameNotCovered.
func TestTLSSecretForWrongHost(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t, "wrong-cert")
	crt, key, err := env.CA.Issue(localcluster.CertRequest{CommonName: "elsewhere", DNSNames: []string{"elsewhere.e2e.test"}, Server: true})
	g.Expect(err).NotTo(HaveOccurred())
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "mine-tls", Namespace: ns}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: crt, corev1.TLSPrivateKeyKey: key},
	}
	g.Expect(env.Client.Create(context.Background(), secret)).To(Succeed())
	app := newWebApp(ns, "mine", "mine.e2e.test")
	app.Spec.TLS = &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSSecret, SecretName: "mine-tls"}
	g.Expect(env.Client.Create(context.Background(), app)).To(Succeed())

	cur := waitCondition(t, app, "CertificateReady", metav1.ConditionFalse, pylonv1alpha1.ReasonHostnameNotCovered)
	t.Logf("CertificateReady=False: %s", condition(cur, "CertificateReady").Message)
	g.Expect(condition(cur, "Ready").Status).To(Equal(metav1.ConditionFalse))
}
