// Command floorfast is the fasthttp reference point of the gateway
// benchmark (hack/bench-gateway.sh): the classic minimal reverse proxy on
// github.com/valyala/fasthttp, a fasthttp.Server whose handler hands each
// request to a fasthttp.HostClient with keep-alive connections to the
// backend. Header work as bench/gateway's net/http floor: the client's
// forwarding headers replaced by X-Forwarded-For/-Host/-Proto and
// X-Real-Ip (fasthttp drops Connection but forwards other hop-by-hop
// headers and adds a User-Agent when there is none; wrk sends neither
// kind, so the benchmark's requests are alike). No routing,
// metrics or logging; responses are buffered whole (fine for the
// benchmark's 33-byte bodies) and carry fasthttp's Server header. It shows
// what a Go HTTP/1.1 engine without net/http's per-request goroutine
// hand-offs and header maps reaches on this machine. Its own module, so
// that Pylon does not depend on fasthttp.
package main

import (
	"flag"
	"log"
	"net"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

func main() {
	port := flag.Int("port", 18088, "port to serve on 127.0.0.1")
	upstream := flag.Int("upstream", 18081, "backend port on 127.0.0.1")
	cert := flag.String("cert", "", "PEM certificate: serve TLS")
	key := flag.String("key", "", "PEM key for -cert")
	flag.Parse()
	client := &fasthttp.HostClient{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(*upstream)), MaxConns: 1024}
	proto := "http"
	if *cert != "" {
		proto = "https"
	}
	srv := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			req := &ctx.Request
			for _, h := range []string{"Forwarded", "X-Forwarded-Port", "X-Forwarded-Prefix"} {
				req.Header.Del(h)
			}
			ip := ctx.RemoteIP().String()
			req.Header.Set("X-Forwarded-For", ip)
			req.Header.Set("X-Real-Ip", ip)
			req.Header.SetBytesV("X-Forwarded-Host", req.Host())
			req.Header.Set("X-Forwarded-Proto", proto)
			// The backend speaks plain HTTP; a request that came over TLS
			// has an https URI, which the HostClient would refuse.
			req.URI().SetScheme("http")
			if err := client.Do(req, &ctx.Response); err != nil {
				ctx.Error("backend unreachable", fasthttp.StatusBadGateway)
			}
		},
		ReadTimeout:    10 * time.Second, // Pylon's header timeout
		IdleTimeout:    120 * time.Second,
		ReadBufferSize: 64 << 10,
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))
	var err error
	if *cert != "" {
		err = srv.ListenAndServeTLS(addr, *cert, *key)
	} else {
		err = srv.ListenAndServe(addr)
	}
	log.Fatal(err)
}
