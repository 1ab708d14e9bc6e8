// Command gateway-bench runs the two processes the benchmark needs without
// a cluster: "backend" (a small fixed HTTP response) and "gateway" (Pylon's
// proxy and server with a table that routes everything to the backend).
// hack/bench-gateway.sh drives them together with nginx, Caddy and wrk.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
	"github.com/pylon-dev/pylon/internal/gateway/proxy"
	"github.com/pylon-dev/pylon/internal/gateway/server"
)

func main() {
	mode := flag.String("mode", "backend", "backend or gateway")
	listen := flag.Int("port", 18080, "port to serve on 127.0.0.1")
	upstream := flag.Int("upstream", 18081, "backend port (gateway mode)")
	flag.Parse()
	switch *mode {
	case "backend":
		body := []byte("hello from the benchmark backend\n")
		log.Fatal(http.ListenAndServe(net.JoinHostPort("127.0.0.1", strconv.Itoa(*listen)), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write(body)
		})))
	case "gateway":
		pm, err := ir.NewPathMatch(ir.PathPrefix, "/")
		if err != nil {
			log.Fatal(err)
		}
		b := &ir.Backend{Namespace: "bench", Name: "backend", Port: 80, Weight: 1,
			Endpoints: []ir.Endpoint{{Address: "127.0.0.1", Port: int32(*upstream), Ready: true, Serving: true}}}
		t := &ir.Table{Listeners: []*ir.Listener{{Port: int32(*listen), Protocol: ir.ProtocolHTTP, VirtualHosts: []*ir.VirtualHost{{
			Listeners: []string{"bench"},
			Routes:    []*ir.Route{{Source: ir.Source{Kind: "HTTPRoute", Namespace: "bench", Name: "r"}, Listener: "bench", Path: pm, Action: &ir.Action{Backends: []*ir.Backend{b}, TotalWeight: 1}}},
		}}}}}
		t.Finalize()
		if err := t.Validate(); err != nil {
			log.Fatal(err)
		}
		p := proxy.New(proxy.Options{}) // access log off, as nginx and Caddy are configured
		s := server.New(p, server.Options{BindAddress: "127.0.0.1"})
		p.Publish(t)
		if err := s.Reconcile(t); err != nil {
			log.Fatal(err)
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
	default:
		log.Fatalf("unknown mode %q", *mode)
	}
}
