// Package tlscheck judges a team's own TLS Secret for a hostname: it must
// exist, be of type kubernetes.io/tls, parse, cover the hostname and be valid
// now. It is pure: the caller passes the Secret and the time.
package tlscheck

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// Result is the verdict on a Secret.
type Result struct {
	OK      bool
	Reason  string
	Message string
	// NotAfter is when a good certificate expires (zero otherwise): the
	// caller re-checks then.
	NotAfter time.Time
}

// Check judges secret (nil: it does not exist) for hostname at now.
func Check(secret *corev1.Secret, name, hostname string, now time.Time) Result {
	if secret == nil {
		return bad(pylonv1alpha1.ReasonSecretNotFound, "Secret %s does not exist: create a kubernetes.io/tls Secret with the certificate for %s", name, hostname)
	}
	if secret.Type != corev1.SecretTypeTLS {
		return bad(pylonv1alpha1.ReasonSecretInvalid, "Secret %s has type %q: it must be %q with tls.crt and tls.key", name, secret.Type, corev1.SecretTypeTLS)
	}
	pair, err := tls.X509KeyPair(secret.Data[corev1.TLSCertKey], secret.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		return bad(pylonv1alpha1.ReasonSecretInvalid, "Secret %s: tls.crt and tls.key do not form a certificate and key pair: %v", name, err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return bad(pylonv1alpha1.ReasonSecretInvalid, "Secret %s: tls.crt does not parse: %v", name, err)
	}
	if err := leaf.VerifyHostname(hostname); err != nil {
		return bad(pylonv1alpha1.ReasonHostnameNotCovered, "Secret %s: the certificate is for %s, not %s", name, covered(leaf), hostname)
	}
	if now.After(leaf.NotAfter) {
		return bad(pylonv1alpha1.ReasonCertificateExpired, "Secret %s: the certificate expired at %s", name, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Before(leaf.NotBefore) {
		return bad(pylonv1alpha1.ReasonSecretInvalid, "Secret %s: the certificate is not valid before %s", name, leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	return Result{
		OK:       true,
		Reason:   pylonv1alpha1.ReasonCertificateReady,
		Message:  fmt.Sprintf("certificate in Secret %s covers %s until %s", name, hostname, leaf.NotAfter.UTC().Format(time.RFC3339)),
		NotAfter: leaf.NotAfter,
	}
}

func bad(reason, format string, args ...any) Result {
	return Result{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

func covered(c *x509.Certificate) string {
	if len(c.DNSNames) > 0 {
		return strings.Join(c.DNSNames, ", ")
	}
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	return "no DNS name"
}
