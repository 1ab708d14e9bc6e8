package tlscheck

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/test/testcerts"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// tlsSecret is a Secret with a self-signed certificate for names.
func tlsSecret(t *testing.T, names []string, notBefore, notAfter time.Time) *corev1.Secret {
	return testcerts.TLSSecret(t, "team-a", "shop-cert", names, notBefore, notAfter)
}

func TestCheck(t *testing.T) {
	valid := func(names ...string) *corev1.Secret {
		return tlsSecret(t, names, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	}
	opaque := valid("shop.example.com")
	opaque.Type = corev1.SecretTypeOpaque
	mismatched := valid("shop.example.com")
	mismatched.Data[corev1.TLSPrivateKeyKey] = valid("other.example.com").Data[corev1.TLSPrivateKeyKey]

	cases := []struct {
		name     string
		secret   *corev1.Secret
		host     string
		ok       bool
		reason   string
		contains string
	}{
		{"exact name", valid("shop.example.com"), "shop.example.com", true, pylonv1alpha1.ReasonCertificateReady, "until 2027-02-20"},
		{"wildcard", valid("*.example.com"), "shop.example.com", true, pylonv1alpha1.ReasonCertificateReady, "covers shop.example.com"},
		{"missing", nil, "shop.example.com", false, pylonv1alpha1.ReasonSecretNotFound, "does not exist"},
		{"wrong type", opaque, "shop.example.com", false, pylonv1alpha1.ReasonSecretInvalid, `type "Opaque"`},
		{"key of another certificate", mismatched, "shop.example.com", false, pylonv1alpha1.ReasonSecretInvalid, "do not form a certificate and key pair"},
		{"another host", valid("www.example.com"), "shop.example.com", false, pylonv1alpha1.ReasonHostnameNotCovered, "is for www.example.com, not shop.example.com"},
		{"wildcard one level only", valid("*.example.com"), "a.shop.example.com", false, pylonv1alpha1.ReasonHostnameNotCovered, ""},
		{"expired", tlsSecret(t, []string{"shop.example.com"}, now.Add(-48*time.Hour), now.Add(-time.Hour)), "shop.example.com", false, pylonv1alpha1.ReasonCertificateExpired, "expired at 2026-11-22T11:00:00Z"},
		{"not yet valid", tlsSecret(t, []string{"shop.example.com"}, now.Add(time.Hour), now.Add(48*time.Hour)), "shop.example.com", false, pylonv1alpha1.ReasonSecretInvalid, "not valid before"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Check(c.secret, "team-a/shop-cert", c.host, now)
			if r.OK != c.ok || r.Reason != c.reason || !strings.Contains(r.Message, c.contains) {
				t.Fatalf("got %+v, want ok=%v reason=%s message containing %q", r, c.ok, c.reason, c.contains)
			}
			if r.OK != !r.NotAfter.IsZero() {
				t.Fatalf("NotAfter must be set exactly for good certificates: %+v", r)
			}
		})
	}
}
