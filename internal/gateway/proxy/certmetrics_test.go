package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// certPEM is a self-signed certificate for host valid until notAfter.
func certPEM(t *testing.T, host string, notAfter time.Time) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: notAfter.Add(-90 * 24 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func httpsTable(t *testing.T, certs ...*ir.Certificate) *ir.Table {
	t.Helper()
	vh := &ir.VirtualHost{Listeners: []string{"L"}, Routes: []*ir.Route{prefixRoute(t, "r", "/", forward())}}
	tb := &ir.Table{Listeners: []*ir.Listener{{Port: 443, Protocol: ir.ProtocolHTTPS, Certificates: certs, VirtualHosts: []*ir.VirtualHost{vh}}}}
	tb.Finalize()
	if err := tb.Validate(); err != nil {
		t.Fatal(err)
	}
	return tb
}

// The expiry series follow the published table: one per Secret served
// (the earliest of its chains), none for a Secret no listener serves any
// more, and none before the first table.
func TestCertificateExpiry(t *testing.T) {
	p := New(Options{})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(p.CertificateCollector())
	if n, err := testutil.GatherAndCount(reg, MetricCertificateExpiry); err != nil || n != 0 {
		t.Fatalf("before the first table: %d series, %v", n, err)
	}
	shopRSA, shopEC := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC), time.Date(2027, 2, 1, 12, 0, 0, 0, time.UTC)
	blog := time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)
	shop := &ir.Certificate{Hostname: "shop.example.com", Pairs: []ir.KeyPair{
		{Source: "team-a/shop-tls", CertPEM: certPEM(t, "shop.example.com", shopRSA)},
		{Source: "team-a/shop-tls", CertPEM: certPEM(t, "shop.example.com", shopEC)},
	}}
	blogCert := &ir.Certificate{Hostname: "blog.example.com", Pairs: []ir.KeyPair{{Source: "team-b/blog-tls", CertPEM: certPEM(t, "blog.example.com", blog)}}}
	p.Publish(httpsTable(t, shop, blogCert))
	want := func(lines ...string) string {
		return fmt.Sprintf("# HELP %s Expiry (notAfter, Unix seconds) of the certificate the gateway serves from a TLS Secret (namespace, name); with several key pairs or chains in use, the earliest.\n# TYPE %s gauge\n%s\n",
			MetricCertificateExpiry, MetricCertificateExpiry, strings.Join(lines, "\n"))
	}
	series := func(ns, name string, at time.Time) string {
		// The exposition format prints large floats in exponent form.
		return fmt.Sprintf(`%s{name=%q,namespace=%q} %g`, MetricCertificateExpiry, name, ns, float64(at.Unix()))
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want(series("team-a", "shop-tls", shopEC), series("team-b", "blog-tls", blog))), MetricCertificateExpiry); err != nil {
		t.Fatal(err)
	}
	p.Publish(httpsTable(t, blogCert))
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want(series("team-b", "blog-tls", blog))), MetricCertificateExpiry); err != nil {
		t.Fatalf("after the shop Secret left the table: %v", err)
	}
}
