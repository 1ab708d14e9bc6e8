package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pylon-dev/pylon/internal/gateway/proxy"
)

func TestNotReadyBeforeFirstTable(t *testing.T) {
	reg := prometheus.NewRegistry()
	px := proxy.New(proxy.Options{Metrics: proxy.NewMetrics(reg)})
	a := httptest.NewServer(AdminHandler(px, reg))
	defer a.Close()
	res, err := http.Get(a.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz before the first table: %d", res.StatusCode)
	}
	px.Publish(mustTable(t))
	res, err = http.Get(a.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("readyz after: %d", res.StatusCode)
	}
}
