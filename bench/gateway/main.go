// Command gateway-bench runs the processes the gateway benchmark needs
// without a cluster: "backend" (a small fixed HTTP response), "gateway"
// (Pylon's proxy and server with a table of n routes to the backend, built
// by the real translator) and "propagation" (route-change latency through
// the real watch → translate → swap path against envtest).
// hack/bench-gateway.sh drives them together with nginx, Caddy and wrk.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/proxy"
	"github.com/pylon-dev/pylon/internal/gateway/server"
	"github.com/pylon-dev/pylon/internal/gateway/translate"
)

// http1Engine is the gateway's HTTP/1.1 engine (-http1-engine).
var http1Engine string

func main() {
	mode := flag.String("mode", "backend", "backend, gateway, floor (the least a net/http proxy does, a yardstick) or propagation")
	listen := flag.Int("port", 18080, "port to serve on 127.0.0.1")
	upstream := flag.Int("upstream", 18081, "backend port (gateway, floor, propagation)")
	routes := flag.Int("routes", 1, "HTTPRoutes in the table (gateway, propagation)")
	changes := flag.Int("changes", 100, "route changes to time (propagation)")
	certFile := flag.String("cert", "", "PEM certificate: serve TLS (backend, gateway, floor)")
	keyFile := flag.String("key", "", "PEM key for -cert")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile here (gateway, floor: until SIGTERM; propagation: over the changes)")
	heapProfile := flag.String("memprofile", "", "write a heap profile here at SIGTERM (gateway)")
	flag.StringVar(&http1Engine, "http1-engine", server.EngineLean, "HTTP/1.1 engine of the gateway: lean or net/http (gateway)")
	flag.Parse()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(*listen))
	var err error
	switch *mode {
	case "backend":
		err = backend(addr, *certFile, *keyFile)
	case "gateway":
		err = gateway(int32(*listen), int32(*upstream), *routes, *certFile, *keyFile, *cpuProfile, *heapProfile)
	case "floor":
		err = floor(addr, net.JoinHostPort("127.0.0.1", strconv.Itoa(*upstream)), *certFile, *keyFile, *cpuProfile)
	case "propagation":
		err = propagation(int32(*listen), int32(*upstream), *routes, *changes, *cpuProfile)
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		log.Fatal(err)
	}
}

func backend(addr, cert, key string) error {
	body := []byte("hello from the benchmark backend\n")
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(body)
	})
	if cert != "" {
		return http.ListenAndServeTLS(addr, cert, key, h)
	}
	return http.ListenAndServe(addr, h)
}

func gateway(port, upstream int32, routes int, certFile, keyFile, cpuPath, heapPath string) error {
	var cert, key []byte
	if certFile != "" {
		var err error
		if cert, err = os.ReadFile(certFile); err != nil {
			return fmt.Errorf("read cert: %w", err)
		}
		if key, err = os.ReadFile(keyFile); err != nil {
			return fmt.Errorf("read key: %w", err)
		}
	}
	snap := newWorld(routes, port, upstream, cert, key, true).snapshot()
	// Table build + publish, timed: translate (which finalizes), validate,
	// hand to the proxy. The listeners are opened after, untimed.
	built := time.Now()
	t, _ := translate.Translate(snap)
	if err := t.Validate(); err != nil {
		return fmt.Errorf("invalid table: %w", err)
	}
	if len(t.Listeners) == 0 {
		return fmt.Errorf("translator produced no listener")
	}
	p := proxy.New(proxy.Options{}) // access log off, as nginx and Caddy are configured
	p.Publish(t)
	publish := time.Since(built)
	stop, err := startProfiles(cpuPath, heapPath)
	if err != nil {
		return err
	}
	s := server.New(p, server.Options{BindAddress: "127.0.0.1", HTTP1Engine: http1Engine})
	if err := s.Reconcile(t); err != nil {
		return fmt.Errorf("open listeners: %w", err)
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	// The script waits for this line, then reads RSS from /proc.
	fmt.Printf("ready routes=%d heap_inuse_mib=%.1f publish_ms=%.1f\n", routes, float64(ms.HeapInuse)/(1<<20), float64(publish.Microseconds())/1000)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	err = stop()
	time.Sleep(10 * time.Millisecond)
	return err
}
