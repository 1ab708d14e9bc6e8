package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
	"github.com/pylon-dev/pylon/internal/gateway/proxy"
)

func freePort(t *testing.T) int32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return int32(l.Addr().(*net.TCPAddr).Port)
}

func backend(t *testing.T, body string) ir.Endpoint {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Proto-In", r.Proto)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	host, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return ir.Endpoint{Address: host, Port: int32(p), Ready: true, Serving: true}
}

func route(t *testing.T, listener string, ep ir.Endpoint) *ir.Route {
	t.Helper()
	pm, err := ir.NewPathMatch(ir.PathPrefix, "/")
	if err != nil {
		t.Fatal(err)
	}
	return &ir.Route{
		Source: ir.Source{Kind: "HTTPRoute", Namespace: "ns", Name: "r"}, Listener: listener, Path: pm,
		Action: &ir.Action{TotalWeight: 1, Backends: []*ir.Backend{{Namespace: "ns", Name: "svc", Port: 80, Weight: 1, Endpoints: []ir.Endpoint{ep}}}},
	}
}

func mustTable(t *testing.T, ls ...*ir.Listener) *ir.Table {
	t.Helper()
	tb := &ir.Table{Listeners: ls}
	tb.Finalize()
	if err := tb.Validate(); err != nil {
		t.Fatal(err)
	}
	return tb
}

func httpListener(t *testing.T, port int32, ep ir.Endpoint) *ir.Listener {
	return &ir.Listener{Port: port, Protocol: ir.ProtocolHTTP, VirtualHosts: []*ir.VirtualHost{
		{Listeners: []string{"L"}, Routes: []*ir.Route{route(t, "L", ep)}},
	}}
}

// start publishes tb and reconciles a server bound to 127.0.0.1.
func start(t *testing.T, tb *ir.Table, o Options) (*proxy.Proxy, *Server) {
	t.Helper()
	p, s := newServer(t, o)
	p.Publish(tb)
	if err := s.Reconcile(tb); err != nil {
		t.Fatal(err)
	}
	return p, s
}

// newServer returns a proxy and a server bound to 127.0.0.1, shut down
// when the test ends.
func newServer(t *testing.T, o Options) (*proxy.Proxy, *Server) {
	t.Helper()
	p := proxy.New(proxy.Options{})
	o.BindAddress = "127.0.0.1"
	s := New(p, o)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return p, s
}

// keyPair returns PEM cert and key for names, signed by ca (self-signed
// when ca is nil), and the parsed certificate.
func keyPair(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, names ...string) ([]byte, []byte, *x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "test"}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	parent, signer := tmpl, key
	if ca == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	} else {
		parent, signer = ca, caKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kder, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), cert, key
}
