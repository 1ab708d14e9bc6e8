package server

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

func TestTLSSNIAndMisdirectedRequests(t *testing.T) {
	_, _, ca, caKey := keyPair(t, nil, nil, "ca")
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	certA, keyA, _, _ := keyPair(t, ca, caKey, "a.example.com")
	certW, keyW, _, _ := keyPair(t, ca, caKey, "*.b.example.com")
	certD, keyD, _, _ := keyPair(t, ca, caKey, "default.example.com")
	ep := backend(t, "ok")
	port := freePort(t)
	vh := func(h string) *ir.VirtualHost {
		return &ir.VirtualHost{Hostname: h, ListenerHostname: h, Listeners: []string{"L-" + h}, Routes: []*ir.Route{route(t, "L-"+h, ep)}}
	}
	l := &ir.Listener{Port: port, Protocol: ir.ProtocolHTTPS,
		Certificates: []*ir.Certificate{
			{Hostname: "a.example.com", Pairs: []ir.KeyPair{{Source: "ns/a", CertPEM: certA, KeyPEM: keyA}}},
			{Hostname: "*.b.example.com", Pairs: []ir.KeyPair{{Source: "ns/w", CertPEM: certW, KeyPEM: keyW}}},
			{Hostname: "", Pairs: []ir.KeyPair{{Source: "ns/d", CertPEM: certD, KeyPEM: keyD}}},
		},
		VirtualHosts: []*ir.VirtualHost{vh("a.example.com"), vh("*.b.example.com"), vh("")},
	}
	_, s := start(t, mustTable(t, l), Options{})
	addr := s.Addr(port).String()

	do := func(sni, host string, h2 bool) (*http.Response, string, *tls.ConnectionState) {
		t.Helper()
		tr := &http.Transport{TLSClientConfig: &tls.Config{ServerName: sni, RootCAs: pool, InsecureSkipVerify: sni == "other.example.com"}, ForceAttemptHTTP2: h2}
		defer tr.CloseIdleConnections()
		req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/", nil)
		req.Host = host
		res, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatalf("sni %q host %q: %v", sni, host, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b), res.TLS
	}
	for _, tc := range []struct {
		sni, host, wantCert string
		code                int
	}{
		{"a.example.com", "a.example.com", "a.example.com", 200},
		{"x.b.example.com", "x.b.example.com", "*.b.example.com", 200},
		{"x.b.example.com", "y.b.example.com", "*.b.example.com", 200}, // same certificate: coalescing is fine
		{"other.example.com", "other.example.com", "default.example.com", 200},
		{"a.example.com", "x.b.example.com", "a.example.com", 421},
		{"x.b.example.com", "a.example.com", "*.b.example.com", 421},
	} {
		res, body, st := do(tc.sni, tc.host, true)
		if res.StatusCode != tc.code {
			t.Errorf("sni %q host %q: status %d %q, want %d", tc.sni, tc.host, res.StatusCode, body, tc.code)
		}
		if got := st.PeerCertificates[0].DNSNames[0]; got != tc.wantCert {
			t.Errorf("sni %q: served certificate for %q, want %q", tc.sni, got, tc.wantCert)
		}
		if st.NegotiatedProtocol != "h2" || res.ProtoMajor != 2 {
			t.Errorf("sni %q: protocol %q/%s, want h2", tc.sni, st.NegotiatedProtocol, res.Proto)
		}
		if tc.code == 421 && !strings.Contains(body, "not served on a connection for") {
			t.Errorf("421 body %q", body)
		}
	}
	// HTTP/1.1 over TLS goes through the framing path and keeps r.TLS.
	res, _, st := do("a.example.com", "a.example.com", false)
	if res.StatusCode != 200 || st.NegotiatedProtocol == "h2" {
		t.Errorf("HTTP/1.1 over TLS: %d %q", res.StatusCode, st.NegotiatedProtocol)
	}
	res, _, _ = do("a.example.com", "x.b.example.com", false)
	if res.StatusCode != 421 {
		t.Errorf("HTTP/1.1 over TLS misdirected: %d", res.StatusCode)
	}
	// TLS 1.1 is refused.
	tr := &http.Transport{TLSClientConfig: &tls.Config{ServerName: "a.example.com", RootCAs: pool, MaxVersion: tls.VersionTLS11}}
	if _, err := (&http.Client{Transport: tr}).Get("https://" + addr + "/"); err == nil {
		t.Error("TLS 1.1 handshake succeeded")
	}
}
