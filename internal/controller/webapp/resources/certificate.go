package resources

import (
	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
)

// MakeCertificate builds the cert-manager Certificate of a WebApp in TLS
// mode Auto that holds its hostname. Pylon never puts cert-manager's issuer
// annotations on route objects as well: cert-manager would make a second
// Certificate for them.
func MakeCertificate(app *pylonv1alpha1.WebApp, e Exposure) *certmanagerv1.Certificate {
	rt := e.routeType()
	if rt == "" || rt == pylonv1alpha1.ExposureClusterLocal || e.TLS.Mode != pylonv1alpha1.TLSAuto ||
		e.TLS.Issuer == nil || !e.APIs.CertManager {
		return nil
	}
	issuer := NormalizeIssuer(*e.TLS.Issuer)
	crt := &certmanagerv1.Certificate{
		TypeMeta:   metav1.TypeMeta{APIVersion: certmanagerv1.SchemeGroupVersion.String(), Kind: "Certificate"},
		ObjectMeta: objectMeta(app, names.Route(app)),
		Spec: certmanagerv1.CertificateSpec{
			SecretName: e.TLS.SecretName,
			DNSNames:   []string{e.Hostname},
			IssuerRef:  cmmeta.IssuerReference{Name: issuer.Name, Kind: issuer.Kind, Group: issuer.Group},
			// The Secret carries Pylon's labels, so one can tell whose it is.
			SecretTemplate: &certmanagerv1.CertificateSecretTemplate{Labels: Labels(app)},
		},
	}
	// The class sets the certificates' lifetime; unset, cert-manager's
	// defaults apply (90 days, renewed after two thirds).
	if ct := e.Class.Spec.TLS; ct != nil {
		if ct.Duration != nil {
			crt.Spec.Duration = &metav1.Duration{Duration: ct.Duration.Duration}
		}
		if ct.RenewBefore != nil {
			crt.Spec.RenewBefore = &metav1.Duration{Duration: ct.RenewBefore.Duration}
		}
	}
	return crt
}
