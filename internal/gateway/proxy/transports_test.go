package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// A plain HTTP/1.1 backend gets its http.Transport only when a request
// needs it (the fast path does not use it); h2c backends too.
func TestTransportCreatedOnFirstUse(t *testing.T) {
	be := startBackend(t, echo("a"))
	b := svc("a", 1, be)
	p, url := gateway(t, table(t, prefixRoute(t, "r", "/", forward(b))), Options{})
	bt := p.State().backends[b].transport
	if bt.h1 == nil {
		t.Fatal("plain backend without its h1Pool")
	}
	if res, body := get(t, http.DefaultClient, url+"/x"); res.StatusCode != 200 || decode(t, body).Backend != "a" {
		t.Fatalf("GET: %d %s", res.StatusCode, body)
	}
	if bt.t.Load() != nil {
		t.Fatal("a fast-path GET created the http.Transport")
	}
	res, err := http.Post(url+"/x", "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != 200 || bt.t.Load() == nil {
		t.Fatalf("POST: status %d, transport created %v", res.StatusCode, bt.t.Load() != nil)
	}
	first := bt.t.Load()
	if bt.transport() != first {
		t.Fatal("a second use made another http.Transport")
	}
	// Publishing a table without the backend prunes it; no transport is
	// created for that.
	other := svc("b", 1, be)
	p.Publish(table(t, prefixRoute(t, "r", "/", forward(other))))
	ot := p.State().backends[other].transport
	if ot.t.Load() != nil {
		t.Fatal("publish created an http.Transport")
	}
	if _, ok := p.pool.m[bt.key]; ok {
		t.Fatal("the pruned backend is still pooled")
	}
	h2 := &ir.Backend{Namespace: "ns", Name: "g", Port: 80, Weight: 1, AppProtocol: appProtocolH2C, Endpoints: []ir.Endpoint{be}}
	p.Publish(table(t, prefixRoute(t, "r", "/", forward(h2))))
	ht := p.State().backends[h2].transport
	if ht.h1 != nil || ht.t.Load() != nil {
		t.Fatal("h2c backend: want no h1Pool and no transport before use")
	}
	if tr := ht.transport(); tr.Protocols == nil || !tr.Protocols.UnencryptedHTTP2() {
		t.Fatal("h2c backend's transport does not speak h2c")
	}
}
