package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// countingBackend is a backend that counts the requests it answers.
func countingBackend(t *testing.T, n *atomic.Int32) ir.Endpoint {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(s.Close)
	host, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return ir.Endpoint{Address: host, Port: int32(p), Ready: true, Serving: true}
}

func prefixTo(t *testing.T, prefix, name string, ep ir.Endpoint) *ir.Route {
	t.Helper()
	pm, err := ir.NewPathMatch(ir.PathPrefix, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return &ir.Route{
		Source: ir.Source{Kind: "HTTPRoute", Namespace: "ns", Name: name}, Listener: "L", Path: pm,
		Action: ir.NewAction(nil, &ir.Backend{Namespace: "ns", Name: name, Port: 80, Weight: 1, Endpoints: []ir.Endpoint{ep}}),
	}
}

// smuggledRequests have both Content-Length and Transfer-Encoding and aim
// at a path only they use: if the secret backend ever counts a request,
// the refusal was bypassed.
var smuggledRequests = map[string]string{
	"plain":     "POST /secret HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"folded TE": "POST /secret HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
}

// An earlier request on the same connection cannot shift or switch off
// the Content-Length + Transfer-Encoding refusal: whatever comes first,
// the conflicting request is answered 400 and never reaches a backend.
func TestSmugglingRefusalSurvivesEarlierRequests(t *testing.T) {
	var public, secret atomic.Int32
	port := freePort(t)
	tb := mustTable(t, &ir.Listener{Port: port, Protocol: ir.ProtocolHTTP, VirtualHosts: []*ir.VirtualHost{{
		Listeners: []string{"L"},
		Routes:    []*ir.Route{prefixTo(t, "/", "public", countingBackend(t, &public)), prefixTo(t, "/secret", "secret", countingBackend(t, &secret))},
	}}})
	_, s := start(t, tb, Options{})
	addr := s.Addr(port).String()

	for _, tc := range []struct{ name, first string }{
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"Upgrade not taken", "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: foo/2\r\n\r\n"},
		{"WebSocket refused by the backend", "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"},
		{"CONNECT", "CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n"},
		{"HTTP/1.0 with Transfer-Encoding", "GET / HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"},
		{"obs-folded Transfer-Encoding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
		{"obs-folded other header", "GET / HTTP/1.1\r\nHost: x\r\nX-Note: a\r\n Transfer-Encoding: chunked\r\n\r\n"},
		{"chunked body", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n"},
	} {
		for variant, smuggled := range smuggledRequests {
			for _, pipelined := range []bool{true, false} {
				name := tc.name + " then smuggled (" + variant + ")"
				if pipelined {
					name += ", pipelined"
				}
				t.Run(name, func(t *testing.T) {
					before, secretBefore := public.Load(), secret.Load()
					statuses := exchange(t, addr, pipelined, tc.first, smuggled)
					if n := secret.Load() - secretBefore; n != 0 {
						t.Fatalf("the conflicting request reached the backend (%d requests); responses %v", n, statuses)
					}
					if len(statuses) == 0 || statuses[len(statuses)-1] != http.StatusBadRequest {
						t.Fatalf("responses %v, want the last one 400", statuses)
					}
					t.Logf("responses %v, public backend +%d", statuses, public.Load()-before)
				})
			}
		}
	}
}

// exchange sends reqs on one connection, all at once or each after the
// previous response, and returns the statuses read until the server
// closes the connection.
func exchange(t *testing.T, addr string, pipelined bool, reqs ...string) []int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	br := bufio.NewReader(c)
	var statuses []int
	read := func() bool {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		statuses = append(statuses, res.StatusCode)
		return true
	}
	if pipelined {
		all := ""
		for _, r := range reqs {
			all += r
		}
		_, _ = io.WriteString(c, all)
		for read() {
		}
		return statuses
	}
	for _, r := range reqs {
		if _, err := io.WriteString(c, r); err != nil {
			break
		}
		if !read() {
			break
		}
	}
	return statuses
}
