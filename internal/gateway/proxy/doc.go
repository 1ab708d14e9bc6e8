// Package proxy is the request path of the bundled gateway: it matches a
// request against the published routing table (package ir), applies the
// route's filters and forwards it with httputil.ReverseProxy.
//
// Everything a table swap must not reset lives here, outside the table:
// pooled transports keyed by backend and protocol, passive endpoint
// ejection, and metrics. Per-table state (weighted round-robin counters) is
// built when a table is published and travels with it in one State value,
// so a request does one atomic load and finishes on the table it started
// with.
package proxy
