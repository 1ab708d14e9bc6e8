// Package proxy is the request path of the bundled gateway: it matches a
// request against the published routing table (package ir), applies the
// route's filters and forwards it.
//
// Two paths forward. The common request — no body, GET/HEAD/OPTIONS/TRACE,
// no upgrade, a plain HTTP/1.1 backend — takes the fast path (fastpath.go,
// h1client.go): the outbound head is written straight from the inbound
// request in one write on a pooled connection and the response is parsed
// on the handler's goroutine, with no Request clone and no goroutine
// hand-off. Everything else (bodies, WebSocket, h2c backends, other
// methods, queries ReverseProxy would re-encode) goes through
// httputil.ReverseProxy and http.Transport. Both strip the same hop-by-hop
// headers, set the same X-Forwarded-*, apply the same filters and map
// failures to the same replies; a pooled connection the backend closed
// while idle is retried on a fresh one only on the fast path, whose
// requests are all idempotent and body-less.
//
// Everything a table swap must not reset lives here, outside the table:
// pooled transports keyed by backend and protocol, passive endpoint
// ejection, metrics, and the balancing state (weighted round-robin
// counters keyed by route rule and backends, endpoint rotation keyed by
// backend). Publish indexes the balancing state by the new table's
// pointers in one State value, handing each counter over from the previous
// State while its identity is unchanged, so a request does one atomic load
// and finishes on the table it started with, and a busy cluster's stream
// of publishes does not skew the split.
package proxy
