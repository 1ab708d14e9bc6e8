package webapp

import (
	"strings"
	"testing"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

func crtCond(t certmanagerv1.CertificateConditionType, s cmmeta.ConditionStatus, gen int64, reason, msg string) certmanagerv1.CertificateCondition {
	return certmanagerv1.CertificateCondition{Type: t, Status: s, ObservedGeneration: gen, Reason: reason, Message: msg}
}

// TestCertificateAutoCondition: CertificateReady mirrors cert-manager's
// Certificate conditions at the Certificate's latest generation, and names
// the issuer's failure while cert-manager cannot issue.
func TestCertificateAutoCondition(t *testing.T) {
	const gen = 3
	ready := crtCond(certmanagerv1.CertificateConditionReady, cmmeta.ConditionTrue, gen, "Ready", "Certificate is up to date and has not expired")
	doesNotExist := crtCond(certmanagerv1.CertificateConditionReady, cmmeta.ConditionFalse, gen, "DoesNotExist", "Issuing certificate as Secret does not exist")
	issuingNew := crtCond(certmanagerv1.CertificateConditionIssuing, cmmeta.ConditionTrue, gen, "DoesNotExist", "Issuing certificate as Secret does not exist")
	renewing := crtCond(certmanagerv1.CertificateConditionIssuing, cmmeta.ConditionTrue, gen, "ManuallyTriggered", "Certificate re-issuance manually triggered")
	failed := crtCond(certmanagerv1.CertificateConditionIssuing, cmmeta.ConditionFalse, gen, "Failed", "The certificate request has failed to complete and will be retried: boom")
	readyIssuer := &issuerView{kind: "ClusterIssuer", name: "ca", found: true, ready: &certmanagerv1.IssuerCondition{Type: certmanagerv1.IssuerConditionReady, Status: cmmeta.ConditionTrue, Reason: "KeyPairVerified"}}
	brokenIssuer := &issuerView{kind: "Issuer", name: "team/ca", found: true, ready: &certmanagerv1.IssuerCondition{
		Type: certmanagerv1.IssuerConditionReady, Status: cmmeta.ConditionFalse, Reason: "ErrGetKeyPair",
		Message: `Error getting keypair for CA issuer: secrets "ca" not found`,
	}}
	missingIssuer := &issuerView{kind: "ClusterIssuer", name: "gone"}
	uncheckedIssuer := &issuerView{kind: "ClusterIssuer", name: "new", found: true}

	for _, tc := range []struct {
		name       string
		conds      []certmanagerv1.CertificateCondition
		issuer     *issuerView
		status     metav1.ConditionStatus
		reason     string
		msgContain []string
	}{
		{
			name: "no conditions yet", status: metav1.ConditionUnknown, reason: pylonv1alpha1.ReasonPending,
			msgContain: []string{"generation 3"},
		},
		{
			name: "Ready written at an older generation is not trusted", conds: []certmanagerv1.CertificateCondition{crtCond(certmanagerv1.CertificateConditionReady, cmmeta.ConditionTrue, gen-1, "Ready", "old")},
			status: metav1.ConditionUnknown, reason: pylonv1alpha1.ReasonPending,
		},
		{
			name: "ready", conds: []certmanagerv1.CertificateCondition{ready}, issuer: readyIssuer,
			status: metav1.ConditionTrue, reason: pylonv1alpha1.ReasonCertificateReady, msgContain: []string{"up to date"},
		},
		{
			name: "ready while renewing: the served certificate is valid", conds: []certmanagerv1.CertificateCondition{ready, renewing}, issuer: readyIssuer,
			status: metav1.ConditionTrue, reason: pylonv1alpha1.ReasonCertificateReady, msgContain: []string{"renewal in progress", "ManuallyTriggered"},
		},
		{
			name: "ready even when the issuer broke since: the certificate is still valid", conds: []certmanagerv1.CertificateCondition{ready}, issuer: brokenIssuer,
			status: metav1.ConditionTrue, reason: pylonv1alpha1.ReasonCertificateReady,
		},
		{
			name: "first issuance in progress", conds: []certmanagerv1.CertificateCondition{doesNotExist, issuingNew}, issuer: readyIssuer,
			status: metav1.ConditionUnknown, reason: pylonv1alpha1.ReasonCertificateIssuing, msgContain: []string{"cert-manager is issuing", "Secret does not exist"},
		},
		{
			name: "in progress, issuer not checked by cert-manager yet", conds: []certmanagerv1.CertificateCondition{doesNotExist, issuingNew}, issuer: uncheckedIssuer,
			status: metav1.ConditionUnknown, reason: pylonv1alpha1.ReasonCertificateIssuing,
		},
		{
			name: "in progress, external issuer (not read)", conds: []certmanagerv1.CertificateCondition{doesNotExist, issuingNew},
			status: metav1.ConditionUnknown, reason: pylonv1alpha1.ReasonCertificateIssuing,
		},
		{
			name: "in progress but the issuer is not ready: cert-manager's reason", conds: []certmanagerv1.CertificateCondition{doesNotExist, issuingNew}, issuer: brokenIssuer,
			status: metav1.ConditionFalse, reason: "ErrGetKeyPair", msgContain: []string{"cannot be issued", "Issuer team/ca is not ready", `secrets "ca" not found`},
		},
		{
			name: "in progress but the issuer does not exist", conds: []certmanagerv1.CertificateCondition{doesNotExist, issuingNew}, issuer: missingIssuer,
			status: metav1.ConditionFalse, reason: pylonv1alpha1.ReasonIssuerNotFound, msgContain: []string{"ClusterIssuer gone does not exist"},
		},
		{
			name: "the last issuance failed", conds: []certmanagerv1.CertificateCondition{doesNotExist, failed}, issuer: readyIssuer,
			status: metav1.ConditionFalse, reason: "Failed", msgContain: []string{"last issuance failed", "boom"},
		},
		{
			name: "not ready, nothing in progress: cert-manager's Ready reason", conds: []certmanagerv1.CertificateCondition{crtCond(certmanagerv1.CertificateConditionReady, cmmeta.ConditionFalse, gen, "Expired", "Certificate expired on ...")},
			status: metav1.ConditionFalse, reason: "Expired", msgContain: []string{"expired"},
		},
		{
			// cert-manager keeps Issuing=True from the generation that started
			// the issuance (it does not stamp it again while issuing), so a
			// spec change mid-issuance must still read as issuing, and a broken
			// issuer must still be named.
			name: "Issuing True written at an older generation still means issuing", conds: []certmanagerv1.CertificateCondition{doesNotExist, crtCond(certmanagerv1.CertificateConditionIssuing, cmmeta.ConditionTrue, gen-1, "Renewing", "")}, issuer: brokenIssuer,
			status: metav1.ConditionFalse, reason: "ErrGetKeyPair",
		},
		{
			name: "Issuing True at an older generation, issuer ready: Issuing", conds: []certmanagerv1.CertificateCondition{doesNotExist, crtCond(certmanagerv1.CertificateConditionIssuing, cmmeta.ConditionTrue, gen-1, "Renewing", "")}, issuer: readyIssuer,
			status: metav1.ConditionUnknown, reason: pylonv1alpha1.ReasonCertificateIssuing,
		},
		{
			name: "a failed issuance of an older generation is not this generation's failure", conds: []certmanagerv1.CertificateCondition{doesNotExist, crtCond(certmanagerv1.CertificateConditionIssuing, cmmeta.ConditionFalse, gen-1, "Failed", "old spec")}, issuer: readyIssuer,
			status: metav1.ConditionFalse, reason: "DoesNotExist",
		},
		{
			name: "a reason a condition cannot carry is replaced", conds: []certmanagerv1.CertificateCondition{crtCond(certmanagerv1.CertificateConditionReady, cmmeta.ConditionFalse, gen, "not a reason!", "odd")},
			status: metav1.ConditionFalse, reason: pylonv1alpha1.ReasonPending, msgContain: []string{"odd"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			crt := &certmanagerv1.Certificate{ObjectMeta: metav1.ObjectMeta{Name: "web", Generation: gen}, Status: certmanagerv1.CertificateStatus{Conditions: tc.conds}}
			got := certificateAutoCondition(crt, tc.issuer)
			if got.Type != pylonv1alpha1.ConditionCertificateReady || got.Status != tc.status || got.Reason != tc.reason {
				t.Fatalf("got %s=%s reason %q (%s), want %s reason %q", got.Type, got.Status, got.Reason, got.Message, tc.status, tc.reason)
			}
			for _, s := range tc.msgContain {
				if !strings.Contains(got.Message, s) {
					t.Errorf("message %q does not contain %q", got.Message, s)
				}
			}
		})
	}
}
