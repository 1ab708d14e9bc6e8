package server

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
	"github.com/pylon-dev/pylon/internal/gateway/proxy"
)

// The request body idle timeout holds on every connection kind the
// listeners serve: HTTP/1.1 in clear and over TLS, and HTTP/2 streams.
func TestStalledBodyIsCutOffOnEveryProtocol(t *testing.T) {
	cases := []struct {
		name string
		h2   bool
		tls  bool
	}{{"HTTP/1.1", false, false}, {"HTTP/1.1 over TLS", false, true}, {"HTTP/2", true, true}}
	// Each case's request says which case it is, so that a late release
	// cannot pass for another case's.
	released := map[string]chan error{}
	for _, tc := range cases {
		released[tc.name] = make(chan error, 1)
	}
	be := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		if ch := released[r.Header.Get("X-Case")]; ch != nil {
			ch <- err
		}
	}))
	t.Cleanup(be.Close)
	host, port, _ := net.SplitHostPort(be.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	ep := ir.Endpoint{Address: host, Port: int32(p), Ready: true, Serving: true}

	_, _, ca, caKey := keyPair(t, nil, nil, "ca")
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	cert, key, _, _ := keyPair(t, ca, caKey, "a.example.com")
	plain, secure := freePort(t), freePort(t)
	tb := mustTable(t, httpListener(t, plain, ep), &ir.Listener{
		Port: secure, Protocol: ir.ProtocolHTTPS,
		Certificates: []*ir.Certificate{{Hostname: "", Pairs: []ir.KeyPair{{Source: "ns/a", CertPEM: cert, KeyPEM: key}}}},
		VirtualHosts: []*ir.VirtualHost{{Listeners: []string{"S"}, Routes: []*ir.Route{route(t, "S", ep)}}},
	})
	px := proxy.New(proxy.Options{RequestBodyIdleTimeout: 200 * time.Millisecond})
	s := New(px, Options{BindAddress: "127.0.0.1"})
	t.Cleanup(func() { s.Shutdown(t.Context()) })
	px.Publish(tb)
	if err := s.Reconcile(tb); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		url := "http://" + s.Addr(plain).String() + "/upload"
		if tc.tls {
			url = "https://" + s.Addr(secure).String() + "/upload"
		}
		t.Run(tc.name, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: &tls.Config{ServerName: "a.example.com", RootCAs: pool}, ForceAttemptHTTP2: tc.h2}
			if !tc.h2 {
				tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
			}
			defer tr.CloseIdleConnections()
			pr, pw := io.Pipe()
			defer pw.Close()
			go func() { _, _ = pw.Write([]byte("x")) }() // then nothing more
			req, _ := http.NewRequest(http.MethodPost, url, pr)
			req.Header.Set("X-Case", tc.name)
			req.ContentLength = 100
			type result struct {
				res *http.Response
				err error
			}
			done := make(chan result, 1)
			go func() {
				res, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
				done <- result{res, err}
			}()
			select {
			case err := <-released[tc.name]:
				if err == nil {
					t.Fatal("the backend read a body that was never sent")
				}
			case <-time.After(3 * time.Second):
				t.Fatal("a stalled body still holds the backend request after 3s")
			}
			var r result
			select {
			case r = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("no answer to the client")
			}
			if r.err != nil {
				t.Logf("client: %v", r.err)
			} else {
				t.Logf("client: %s %d", r.res.Proto, r.res.StatusCode)
			}
			if r.err == nil {
				_ = r.res.Body.Close()
				if r.res.StatusCode != http.StatusRequestTimeout {
					t.Fatalf("status %d, want 408", r.res.StatusCode)
				}
				if tc.h2 != (r.res.ProtoMajor == 2) {
					t.Fatalf("protocol %s", r.res.Proto)
				}
			}
		})
	}
}
