package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

// floor serves a minimal reverse proxy on net/http, a reference point for
// Pylon's gateway: net/http's server with the gateway's timeouts and header
// limit, and for each request one exchange on a pooled keep-alive
// connection to the backend, with the header work Pylon's lean path does
// (hop-by-hop and Connection-named headers dropped, the client's forwarding
// headers replaced by X-Forwarded-For/-Host/-Proto and X-Real-Ip), the
// request written in one write, http.ReadResponse, the body copied. Not
// done: routing, metrics, request ids, access log, retries, timeouts
// towards the backend, the MSG_PEEK check of a pooled connection, and
// requests with a body (refused); no retry on a fresh connection when the
// backend closed a pooled one (the benchmark's backend never does). What
// separates Pylon from it is Pylon's
// own work; what separates it from nginx is mostly net/http and the Go
// runtime.
func floor(addr, upstream, cert, key, cpuPath string) error {
	f := &floorProxy{upstream: upstream, idle: make(chan *floorConn, 1024)}
	srv := &http.Server{
		Addr:              addr,
		Handler:           f,
		ReadHeaderTimeout: 10 * time.Second, // server.Options defaults
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	stop, err := startProfiles(cpuPath, "")
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() {
		if cert != "" {
			served <- srv.ListenAndServeTLS(cert, key)
		} else {
			served <- srv.ListenAndServe()
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case err = <-served:
	case <-sig:
	}
	if perr := stop(); err == nil {
		err = perr
	}
	return err
}

type floorProxy struct {
	upstream string
	idle     chan *floorConn
}

type floorConn struct {
	c  net.Conn
	br *bufio.Reader
}

// hopByHop are the headers a proxy does not forward (RFC 9110 7.6.1), and
// the client's forwarding headers, which the proxy sets itself.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

var forwarding = map[string]bool{
	"Forwarded": true, "X-Forwarded-For": true, "X-Forwarded-Host": true, "X-Forwarded-Proto": true,
	"X-Real-Ip": true, "X-Forwarded-Port": true, "X-Forwarded-Prefix": true,
}

var floorBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func (f *floorProxy) conn() (*floorConn, error) {
	select {
	case c := <-f.idle:
		return c, nil
	default:
	}
	c, err := net.Dial("tcp", f.upstream)
	if err != nil {
		return nil, err
	}
	return &floorConn{c: c, br: bufio.NewReaderSize(c, 4096)}, nil
}

func (f *floorProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		http.Error(w, "the floor proxy forwards GET and HEAD without a body only", http.StatusNotImplemented)
		return
	}
	c, err := f.conn()
	if err != nil {
		http.Error(w, "backend unreachable", http.StatusBadGateway)
		return
	}
	named := r.Header["Connection"]
	bp := floorBufs.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, r.Method...)
	b = append(b, ' ')
	b = append(b, r.URL.RequestURI()...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, r.Host...)
	b = append(b, "\r\n"...)
	for k, vv := range r.Header {
		if hopByHop[k] || forwarding[k] || listed(named, k) {
			continue
		}
		for _, v := range vv {
			b = append(append(append(append(b, k...), ": "...), v...), "\r\n"...)
		}
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	b = append(append(append(b, "X-Forwarded-For: "...), ip...), "\r\n"...)
	b = append(append(append(b, "X-Real-Ip: "...), ip...), "\r\n"...)
	b = append(append(append(b, "X-Forwarded-Host: "...), r.Host...), "\r\n"...)
	b = append(append(append(b, "X-Forwarded-Proto: "...), proto...), "\r\n\r\n"...)
	_, err = c.c.Write(b)
	*bp = b
	floorBufs.Put(bp)
	if err != nil {
		_ = c.c.Close()
		http.Error(w, "backend write failed", http.StatusBadGateway)
		return
	}
	res, err := http.ReadResponse(c.br, r)
	for err == nil && res.StatusCode >= 100 && res.StatusCode < 200 && res.StatusCode != http.StatusSwitchingProtocols {
		res, err = http.ReadResponse(c.br, r) // interim responses are not forwarded
	}
	if err != nil || res.StatusCode < 200 {
		_ = c.c.Close()
		http.Error(w, "backend response unreadable", http.StatusBadGateway)
		return
	}
	h := w.Header()
	named = res.Header["Connection"]
	for k, vv := range res.Header {
		if !hopByHop[k] && !listed(named, k) {
			h[k] = vv
		}
	}
	w.WriteHeader(res.StatusCode)
	_, err = io.Copy(w, res.Body) // the ResponseWriter's ReadFrom: its own buffer
	if err != nil || res.Close || c.br.Buffered() > 0 {
		_ = c.c.Close() // first: Body.Close would read the rest of the body
		_ = res.Body.Close()
		return
	}
	_ = res.Body.Close()
	select {
	case f.idle <- c:
	default:
		_ = c.c.Close()
	}
}

// listed reports whether a Connection header's values name header k.
func listed(connection []string, k string) bool {
	for _, v := range connection {
		for _, name := range strings.Split(v, ",") {
			if http.CanonicalHeaderKey(strings.TrimSpace(name)) == k {
				return true
			}
		}
	}
	return false
}
