package proxy

import (
	"net"
	"net/http"
	"testing"
	"time"
)

// An endpoint that failed and left the table is forgotten: a new Pod given
// the same address later takes its share at once instead of being skipped
// for the rest of the old Pod's ejection (Pod addresses are reused).
func TestEjectionDoesNotOutliveTheEndpoint(t *testing.T) {
	live := startBackend(t, echo("live"))
	gone := deadEndpoint(t)
	p, url := gateway(t, table(t, prefixRoute(t, "r", "/", forward(svc("app", 1, live, gone)))), Options{EjectBase: time.Minute, EjectMax: time.Minute})
	for range 4 { // the round robin reaches the dead address: it is ejected
		if res, _ := get(t, http.DefaultClient, url+"/"); res.StatusCode != http.StatusOK {
			t.Fatalf("status %d with one live endpoint", res.StatusCode)
		}
	}
	if !p.ejector.ejected(endpointAddr(gone)) {
		t.Fatal("the dead endpoint was not ejected; the test proves nothing")
	}

	// The Pod goes away; a new one comes up at the same address.
	p.Publish(table(t, prefixRoute(t, "r", "/", forward(svc("app", 1, live)))))
	l, err := net.Listen("tcp", endpointAddr(gone))
	if err != nil {
		t.Skipf("cannot listen on the reused address: %v", err)
	}
	srv := &http.Server{Handler: echo("new"), ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	p.Publish(table(t, prefixRoute(t, "r", "/", forward(svc("app", 1, live, gone)))))

	counts := map[string]int{}
	for range 100 {
		res, _ := get(t, http.DefaultClient, url+"/")
		counts[res.Header.Get("X-Backend")]++
	}
	if counts["new"] < 40 || counts["live"] < 40 {
		t.Fatalf("split %v over two equal endpoints, want about 50/50: the new Pod was skipped", counts)
	}
}
