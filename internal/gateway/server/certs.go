package server

import (
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// tlsConfig serves certificates chosen by SNI from the current table, so a
// certificate change needs no listener restart.
func (s *Server) tlsConfig(at ir.ListenerKey) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: cipherSuites,
		NextProtos:   []string{"h2", "http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			st := s.proxy.State()
			if st == nil {
				return nil, errors.New("no routing table yet")
			}
			l := st.Table.Listener(at)
			if l == nil {
				return nil, fmt.Errorf("no listener on %s", at)
			}
			c := l.Certificate(hello.ServerName)
			if c == nil {
				return nil, fmt.Errorf("no certificate for %q", hello.ServerName)
			}
			return s.certs.pick(c, hello)
		},
	}
}

// certCache keeps parsed key pairs by content hash, so a handshake never
// parses PEM after the first use and a table swap with unchanged Secrets
// reuses the parsed pairs.
type certCache struct {
	mu sync.RWMutex
	m  map[[32]byte]*tls.Certificate
}

func (c *certCache) pick(cert *ir.Certificate, hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	var first *tls.Certificate
	var errs []error
	for _, kp := range cert.Pairs {
		parsed, err := c.parse(kp)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// Several pairs (RSA and ECDSA): the first the client supports.
		if hello.SupportsCertificate(parsed) == nil {
			return parsed, nil
		}
		if first == nil {
			first = parsed
		}
	}
	if first != nil {
		return first, nil
	}
	return nil, errors.Join(errs...)
}

func (c *certCache) parse(kp ir.KeyPair) (*tls.Certificate, error) {
	h := sha256.New()
	h.Write(kp.CertPEM)
	h.Write([]byte{0})
	h.Write(kp.KeyPEM)
	var key [32]byte
	h.Sum(key[:0])
	c.mu.RLock()
	parsed, ok := c.m[key]
	c.mu.RUnlock()
	if ok {
		return parsed, nil
	}
	pair, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("key pair from %s: %w", kp.Source, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 4096 { // bound memory across many certificate rotations
		clear(c.m)
	}
	c.m[key] = &pair
	return &pair, nil
}
