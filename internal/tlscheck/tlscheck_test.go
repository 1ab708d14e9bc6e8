package tlscheck

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// tlsSecret makes a kubernetes.io/tls Secret with a self-signed certificate
// for names, valid from notBefore to notAfter.
func tlsSecret(t *testing.T, names []string, notBefore, notAfter time.Time) *corev1.Secret {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    notBefore,
		NotAfter:     notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &corev1.Secret{
		Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{
			corev1.TLSCertKey:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			corev1.TLSPrivateKeyKey: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		},
	}
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
