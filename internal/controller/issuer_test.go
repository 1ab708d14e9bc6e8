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

// TestIssuerPolicy: a WebApp may name only the issuers its class allows:
// by default the class's own issuerRef, plus the class's allowedIssuers.
// Any other issuer gets CertificateReady=False IssuerNotAllowed (which
// stalls the WebApp) and never a Certificate, also when the class is
// tightened after the Certificate was made.
func TestIssuerPolicy(t *testing.T) {
	class := ingressClass(t, "k8s.io/ingress-nginx", nil) // issuerRef: ClusterIssuer letsencrypt
	ns := newNamespace(t)
	auto := func(name string, issuer *pylonv1alpha1.IssuerReference) *pylonv1alpha1.WebApp {
		return newWebApp(t, ns, name, func(a *pylonv1alpha1.WebApp) {
			a.Spec.Hostname = name + "." + ns + ".example.com"
			a.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: class}
			a.Spec.TLS = &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSAuto, IssuerRef: issuer}
		})
	}
	certificate := func(g Gomega, name string) *certmanagerv1.Certificate {
		crt := &certmanagerv1.Certificate{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		g.ExpectWithOffset(1, k8s.Get(ctx, client.ObjectKeyFromObject(crt), crt)).To(Succeed())
		return crt
	}
	letsencrypt := cmmeta.IssuerReference{Name: "letsencrypt", Kind: "ClusterIssuer", Group: "cert-manager.io"}

	// The class's own issuer, named explicitly (kind and group defaulted).
	own := auto("own", &pylonv1alpha1.IssuerReference{Name: "letsencrypt"})
	// Another ClusterIssuer the class does not list.
	other := auto("other", &pylonv1alpha1.IssuerReference{Name: "selfsigned", Kind: "ClusterIssuer"})
	// An Issuer in the team's namespace, not listed either (yet).
	team := auto("team", &pylonv1alpha1.IssuerReference{Name: "team-ca", Kind: "Issuer"})

	g := NewWithT(t)
	g.Eventually(func(g Gomega) {
		g.Expect(certificate(g, "own").Spec.IssuerRef).To(Equal(letsencrypt))
	}, timeout, poll).Should(Succeed())
	for _, app := range []*pylonv1alpha1.WebApp{other, team} {
		g.Eventually(func(g Gomega) {
			get(g, app)
			expectCondition(g, app, pylonv1alpha1.ConditionCertificateReady, metav1.ConditionFalse, pylonv1alpha1.ReasonIssuerNotAllowed)
			msg := condition(app, pylonv1alpha1.ConditionCertificateReady).Message
			g.Expect(msg).To(ContainSubstring("does not allow"))
			g.Expect(msg).To(ContainSubstring("allowed: ClusterIssuer letsencrypt"), "the message names the allowed issuers")
			g.Expect(msg).To(ContainSubstring("spec.tls.allowedIssuers"))
			expectCondition(g, app, pylonv1alpha1.ConditionStalled, metav1.ConditionTrue, pylonv1alpha1.ReasonIssuerNotAllowed)
			expectCondition(g, app, pylonv1alpha1.ConditionReady, metav1.ConditionFalse, pylonv1alpha1.ReasonIssuerNotAllowed)
		}, timeout, poll).Should(Succeed())
		g.Expect(absent(&certmanagerv1.Certificate{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app.Name}})()).To(BeTrue(), "no Certificate for a refused issuer")
	}
	g.Expect(condition(other, pylonv1alpha1.ConditionCertificateReady).Message).To(ContainSubstring("names ClusterIssuer selfsigned"))

	// The platform team allows the team's Issuer: its Certificate follows;
	// the other WebApp stays refused.
	setAllowed := func(allowed []pylonv1alpha1.IssuerReference) {
		ec := &pylonv1alpha1.ExposureClass{ObjectMeta: metav1.ObjectMeta{Name: class}}
		g.Eventually(func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(ec), ec); err != nil {
				return err
			}
			ec.Spec.TLS.AllowedIssuers = allowed
			return k8s.Update(ctx, ec)
		}, timeout, poll).Should(Succeed())
	}
	setAllowed([]pylonv1alpha1.IssuerReference{{Name: "team-ca", Kind: "Issuer"}})
	g.Eventually(func(g Gomega) {
		g.Expect(certificate(g, "team").Spec.IssuerRef).To(Equal(cmmeta.IssuerReference{Name: "team-ca", Kind: "Issuer", Group: "cert-manager.io"}))
	}, timeout, poll).Should(Succeed())
	issueCertificate(g, ns, "team", cmmeta.ConditionTrue)
	g.Eventually(func(g Gomega) {
		get(g, team)
		expectCondition(g, team, pylonv1alpha1.ConditionCertificateReady, metav1.ConditionTrue, pylonv1alpha1.ReasonCertificateReady)
		get(g, other)
		expectCondition(g, other, pylonv1alpha1.ConditionCertificateReady, metav1.ConditionFalse, pylonv1alpha1.ReasonIssuerNotAllowed)
		g.Expect(condition(other, pylonv1alpha1.ConditionCertificateReady).Message).To(ContainSubstring("allowed: ClusterIssuer letsencrypt, Issuer team-ca"))
	}, timeout, poll).Should(Succeed())
	g.Expect(absent(&certmanagerv1.Certificate{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "other"}})()).To(BeTrue())

	// Tightened again: the team's Certificate with the now refused issuer
	// is removed, the class's own issuer stays allowed.
	setAllowed(nil)
	g.Eventually(func(g Gomega) {
		get(g, team)
		expectCondition(g, team, pylonv1alpha1.ConditionCertificateReady, metav1.ConditionFalse, pylonv1alpha1.ReasonIssuerNotAllowed)
		g.Expect(absent(&certmanagerv1.Certificate{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "team"}})()).To(BeTrue(), "the Certificate of a refused issuer is deleted")
	}, timeout, poll).Should(Succeed())
	get(g, own)
	g.Expect(certificate(g, "own").Spec.IssuerRef).To(Equal(letsencrypt))
	g.Expect(condition(own, pylonv1alpha1.ConditionCertificateReady).Reason).NotTo(Equal(pylonv1alpha1.ReasonIssuerNotAllowed))
}
