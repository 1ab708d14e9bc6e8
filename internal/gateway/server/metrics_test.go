package server

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pylon-dev/pylon/internal/gateway/proxy"
)

// The admin endpoint serves the per-backend series in the text format the
// manager reads from every replica.
func TestAdminMetricsServeBackendSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	px := proxy.New(proxy.Options{Metrics: proxy.NewMetrics(reg)})
	port := freePort(t)
	tb := mustTable(t, httpListener(t, port, backend(t, "ok")))
	s := New(px, Options{BindAddress: "127.0.0.1"})
	px.Publish(tb)
	if err := s.Reconcile(tb); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(t.Context()) })
	for range 3 {
		res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
	}
	a := httptest.NewServer(AdminHandler(px, reg))
	defer a.Close()
	res, err := http.Get(a.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`pylon_gateway_backend_requests_total{backend="svc",backend_namespace="ns",code="2xx",kind="HTTPRoute",name="r",namespace="ns",origin="backend"} 3`,
		`pylon_gateway_backend_request_duration_seconds_count{backend="svc",backend_namespace="ns",kind="HTTPRoute",name="r",namespace="ns"} 3`,
		`pylon_gateway_requests_total{code="2xx",kind="HTTPRoute",name="r",namespace="ns"} 3`,
	} {
		if !strings.Contains(string(body), "\n"+line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}
