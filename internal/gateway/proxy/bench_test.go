//go:build unix

package proxy

import (
	"io"
	"log/slog"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// BenchmarkProxyForward measures the request path end to end: a client, the
// real proxy on a loopback listener and a local backend, with a 90/10 split
// over two backends as a canary has. Only ratios between runs on the same
// machine mean anything. Client, proxy and backend share the process, so
// cpu-ns/op (the process's CPU time per request) is the whole path's cost
// and moves less than ns/op on a busy machine.
func BenchmarkProxyForward(b *testing.B) { benchForward(b, Options{}) }

// BenchmarkProxyForwardAccessLog is BenchmarkProxyForward with the JSON
// access log on (written to io.Discard): what a record costs per request.
func BenchmarkProxyForwardAccessLog(b *testing.B) {
	benchForward(b, Options{AccessLog: slog.New(slog.NewJSONHandler(io.Discard, nil))})
}

func benchForward(b *testing.B, o Options) {
	be := startBackend(b, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	}))
	_, url := gateway(b, table(b, prefixRoute(b, "r", "/", forward(svc("stable", 90, be), svc("canary", 10, be)))), o)
	tr := &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}
	b.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr}
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := c.Get(url + "/")
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the user and system CPU time the process used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
