package webapp

import (
	"fmt"
	"regexp"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// issuerView is what cert-manager reports about the issuer a WebApp's
// Certificate names (only for issuers of group cert-manager.io: external
// issuers have their own status conventions).
type issuerView struct {
	// kind and name, with the namespace for an Issuer ("Issuer team/ca").
	kind, name string
	// found is false when the issuer does not exist.
	found bool
	// ready is the issuer's Ready condition when it was written at the
	// issuer's latest generation; nil otherwise.
	ready *certmanagerv1.IssuerCondition
}

func (i *issuerView) String() string { return i.kind + " " + i.name }

// problem is why the issuer cannot sign now, in cert-manager's words, or
// nil when it can or cert-manager has not said yet.
func (i *issuerView) problem() *problem {
	switch {
	case i == nil:
		return nil
	case !i.found:
		return &problem{reason: pylonv1alpha1.ReasonIssuerNotFound, message: fmt.Sprintf("%s does not exist", i)}
	case i.ready != nil && i.ready.Status != cmmeta.ConditionTrue:
		return &problem{reason: reasonOr(i.ready.Reason, pylonv1alpha1.ReasonIssuerNotReady), message: fmt.Sprintf("%s is not ready: %s", i, i.ready.Message)}
	}
	return nil
}

// certificateAutoCondition mirrors cert-manager's conditions of a WebApp's
// Certificate, trusted only when written at the Certificate's latest
// generation (except Issuing True, which cert-manager keeps across spec
// changes while the issuance runs):
//   - Ready True: True (also while a renewal is in progress: the current
//     certificate is valid and served);
//   - issuance in progress (Issuing True) and the issuer not ready: False
//     with the issuer's reason, the cause cert-manager reports;
//   - issuance in progress otherwise: Unknown, reason Issuing;
//   - the last issuance failed (Issuing False): False with its reason;
//   - otherwise Ready's status, reason and message as cert-manager wrote them.
func certificateAutoCondition(crt *certmanagerv1.Certificate, issuer *issuerView) metav1.Condition {
	const t = pylonv1alpha1.ConditionCertificateReady
	var ready, issuing *certmanagerv1.CertificateCondition
	for i := range crt.Status.Conditions {
		c := &crt.Status.Conditions[i]
		current := c.ObservedGeneration == crt.Generation
		switch c.Type {
		case certmanagerv1.CertificateConditionReady:
			if current {
				ready = c
			}
		case certmanagerv1.CertificateConditionIssuing:
			// cert-manager does not stamp Issuing=True again while an
			// issuance runs (its trigger and request-manager controllers
			// return early on it), so one written at an older generation
			// still means "issuing now". A failure (False) counts only at
			// the current generation: a newer spec may issue fine.
			if current || c.Status == cmmeta.ConditionTrue {
				issuing = c
			}
		}
	}
	if ready == nil {
		return cond(t, metav1.ConditionUnknown, pylonv1alpha1.ReasonPending,
			fmt.Sprintf("waiting for cert-manager to check generation %d of Certificate %s", crt.Generation, crt.Name))
	}
	inProgress := issuing != nil && issuing.Status == cmmeta.ConditionTrue
	if ready.Status == cmmeta.ConditionTrue {
		msg := fmt.Sprintf("Certificate %s: %s", crt.Name, ready.Message)
		if inProgress {
			msg += fmt.Sprintf("; renewal in progress (%s: %s)", issuing.Reason, issuing.Message)
		}
		return cond(t, metav1.ConditionTrue, pylonv1alpha1.ReasonCertificateReady, msg)
	}
	switch {
	case inProgress:
		if p := issuer.problem(); p != nil {
			return cond(t, metav1.ConditionFalse, p.reason, fmt.Sprintf("Certificate %s cannot be issued: %s", crt.Name, p.message))
		}
		return cond(t, metav1.ConditionUnknown, pylonv1alpha1.ReasonCertificateIssuing,
			fmt.Sprintf("cert-manager is issuing Certificate %s (%s: %s)", crt.Name, issuing.Reason, issuing.Message))
	case issuing != nil && issuing.Status == cmmeta.ConditionFalse:
		msg := fmt.Sprintf("Certificate %s: the last issuance failed and cert-manager retries it with a backoff: %s", crt.Name, issuing.Message)
		if p := issuer.problem(); p != nil {
			msg += "; " + p.message
		}
		return cond(t, metav1.ConditionFalse, reasonOr(issuing.Reason, pylonv1alpha1.ReasonPending), msg)
	}
	status := metav1.ConditionFalse
	if ready.Status == cmmeta.ConditionUnknown {
		status = metav1.ConditionUnknown
	}
	return cond(t, status, reasonOr(ready.Reason, pylonv1alpha1.ReasonPending), fmt.Sprintf("Certificate %s: %s", crt.Name, ready.Message))
}

// conditionReason is the pattern metav1.Condition's reason must match.
var conditionReason = regexp.MustCompile(`^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`)

// reasonOr is a reason copied from another controller, or fallback when it
// is empty or not a valid condition reason (the status write would fail).
func reasonOr(reason, fallback string) string {
	if len(reason) <= 1024 && conditionReason.MatchString(reason) {
		return reason
	}
	return fallback
}
