package proxy

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// MetricCertificateExpiry is the expiry time of the certificates the
// gateway serves, per Secret. It is read from the published table at every
// scrape, so it covers every certificate clients are actually offered
// (cert-manager's, a team's own Secret, a Gateway's default certificate)
// and a Secret no listener serves any more has no series.
const MetricCertificateExpiry = "pylon_gateway_certificate_expiry_timestamp_seconds"

// certExpiry is a collector of MetricCertificateExpiry. Nothing on the
// request path: the work happens when Prometheus scrapes.
type certExpiry struct {
	p    *Proxy
	desc *prometheus.Desc

	mu sync.Mutex
	// notAfter caches the leaf's expiry by hash of the PEM chain, so a
	// scrape parses only certificates that changed.
	notAfter map[[32]byte]time.Time
}

// CertificateCollector returns the collector of MetricCertificateExpiry
// for the tables p publishes.
func (p *Proxy) CertificateCollector() prometheus.Collector {
	return &certExpiry{p: p, notAfter: map[[32]byte]time.Time{}, desc: prometheus.NewDesc(MetricCertificateExpiry,
		"Expiry (notAfter, Unix seconds) of the certificate the gateway serves from a TLS Secret (namespace, name); "+
			"with several key pairs or chains in use, the earliest.",
		[]string{"namespace", "name"}, nil)}
}

func (c *certExpiry) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *certExpiry) Collect(ch chan<- prometheus.Metric) {
	st := c.p.State()
	if st == nil {
		return
	}
	c.mu.Lock()
	earliest := map[string]time.Time{}
	seen := map[[32]byte]time.Time{}
	for _, l := range st.Table.Listeners {
		for _, cert := range l.Certificates {
			for _, kp := range cert.Pairs {
				t, ok := c.expiry(kp, seen)
				if !ok {
					continue
				}
				if cur, ok := earliest[kp.Source]; !ok || t.Before(cur) {
					earliest[kp.Source] = t
				}
			}
		}
	}
	c.notAfter = seen // forget certificates no longer served
	c.mu.Unlock()
	for src, t := range earliest {
		ns, name, _ := strings.Cut(src, "/")
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(t.Unix()), ns, name)
	}
}

// expiry returns the notAfter of kp's leaf certificate (the first PEM
// block), from the cache when the chain is unchanged, and notes it in seen.
func (c *certExpiry) expiry(kp ir.KeyPair, seen map[[32]byte]time.Time) (time.Time, bool) {
	key := sha256.Sum256(kp.CertPEM)
	if t, ok := c.notAfter[key]; ok {
		seen[key] = t
		return t, true
	}
	block, _ := pem.Decode(kp.CertPEM)
	if block == nil {
		return time.Time{}, false
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return time.Time{}, false
	}
	seen[key] = leaf.NotAfter
	return leaf.NotAfter, true
}
