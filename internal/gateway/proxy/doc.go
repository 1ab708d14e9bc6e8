// Package proxy is the request path of the bundled gateway: it matches a
// request against the published routing table (package ir), applies the
// route's filters and forwards it with httputil.ReverseProxy.
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
