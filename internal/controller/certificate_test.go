package controller_test

import (
	"testing"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// TestCertificateReadyFollowsCertManager: with no cert-manager running,
// the test writes what cert-manager would (the Certificate's Ready and
// Issuing conditions, the Issuer's Ready) and checks that CertificateReady
// follows, read through the manager's watches: an issuer that cannot sign
// makes it False with the issuer's reason while issuance is in progress;
// the issuer's recovery alone (no Certificate change) brings it to
// Issuing; the issued Certificate makes it True.
func TestCertificateReadyFollowsCertManager(t *testing.T) {
	teamCA := pylonv1alpha1.IssuerReference{Name: "team-ca", Kind: "Issuer"}
	class := ingressClass(t, "k8s.io/ingress-nginx", func(c *pylonv1alpha1.ExposureClass) {
		c.Spec.TLS.AllowedIssuers = []pylonv1alpha1.IssuerReference{teamCA}
	})
	ns := newNamespace(t)
	issuer := &certmanagerv1.Issuer{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "team-ca"},
		Spec:       certmanagerv1.IssuerSpec{IssuerConfig: certmanagerv1.IssuerConfig{CA: &certmanagerv1.CAIssuer{SecretName: "team-ca"}}},
	}
	g := NewWithT(t)
	g.Expect(k8s.Create(ctx, issuer)).To(Succeed())
	setIssuerReady := func(status cmmeta.ConditionStatus, reason, msg string) {
		g.Eventually(func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(issuer), issuer); err != nil {
				return err
			}
			issuer.Status.Conditions = []certmanagerv1.IssuerCondition{{Type: certmanagerv1.IssuerConditionReady, Status: status, Reason: reason, Message: msg, ObservedGeneration: issuer.Generation}}
			return k8s.Status().Update(ctx, issuer)
		}, timeout, poll).Should(Succeed())
	}
	setIssuerReady(cmmeta.ConditionFalse, "ErrGetKeyPair", `Error getting keypair for CA issuer: secrets "team-ca" not found`)

	app := newWebApp(t, ns, "shop", func(a *pylonv1alpha1.WebApp) {
		a.Spec.Hostname = "shop." + ns + ".example.com"
		a.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: class}
		a.Spec.TLS = &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSAuto, IssuerRef: &teamCA}
	})
	crt := &certmanagerv1.Certificate{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	setCertificate := func(conds ...certmanagerv1.CertificateCondition) {
		g.Eventually(func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(crt), crt); err != nil {
				return err
			}
			for i := range conds {
				conds[i].ObservedGeneration = crt.Generation
			}
			crt.Status.Conditions = conds
			return k8s.Status().Update(ctx, crt)
		}, timeout, poll).Should(Succeed())
	}
	expectCertificateReady := func(status metav1.ConditionStatus, reason string, msg ...string) {
		g.Eventually(func(g Gomega) {
			get(g, app)
			expectCondition(g, app, pylonv1alpha1.ConditionCertificateReady, status, reason)
			for _, m := range msg {
				g.Expect(condition(app, pylonv1alpha1.ConditionCertificateReady).Message).To(ContainSubstring(m))
			}
		}, timeout, poll).Should(Succeed())
	}

	// What cert-manager writes on a new Certificate: no Secret yet, issuing.
	setCertificate(
		certmanagerv1.CertificateCondition{Type: certmanagerv1.CertificateConditionReady, Status: cmmeta.ConditionFalse, Reason: "DoesNotExist", Message: "Issuing certificate as Secret does not exist"},
		certmanagerv1.CertificateCondition{Type: certmanagerv1.CertificateConditionIssuing, Status: cmmeta.ConditionTrue, Reason: "DoesNotExist", Message: "Issuing certificate as Secret does not exist"},
	)
	expectCertificateReady(metav1.ConditionFalse, "ErrGetKeyPair", "Issuer "+ns+"/team-ca is not ready", `secrets "team-ca" not found`)
	expectCondition(g, app, pylonv1alpha1.ConditionReady, metav1.ConditionFalse, "ErrGetKeyPair")

	// The Secret appears and cert-manager marks the Issuer Ready: only the
	// Issuer changed, and the WebApp follows.
	setIssuerReady(cmmeta.ConditionTrue, "KeyPairVerified", "Signing CA verified")
	expectCertificateReady(metav1.ConditionUnknown, pylonv1alpha1.ReasonCertificateIssuing, "cert-manager is issuing Certificate shop")

	// Issued.
	setCertificate(certmanagerv1.CertificateCondition{Type: certmanagerv1.CertificateConditionReady, Status: cmmeta.ConditionTrue, Reason: "Ready", Message: "Certificate is up to date and has not expired"})
	expectCertificateReady(metav1.ConditionTrue, pylonv1alpha1.ReasonCertificateReady, "up to date")

	// A renewal does not take the served certificate's readiness away.
	setCertificate(
		certmanagerv1.CertificateCondition{Type: certmanagerv1.CertificateConditionReady, Status: cmmeta.ConditionTrue, Reason: "Ready", Message: "Certificate is up to date and has not expired"},
		certmanagerv1.CertificateCondition{Type: certmanagerv1.CertificateConditionIssuing, Status: cmmeta.ConditionTrue, Reason: "ManuallyTriggered", Message: "Certificate re-issuance manually triggered"},
	)
	expectCertificateReady(metav1.ConditionTrue, pylonv1alpha1.ReasonCertificateReady, "renewal in progress")
}
