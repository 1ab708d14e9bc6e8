// Package ir is the immutable routing table the bundled gateway data plane
// serves from.
//
// The translator (package translate) builds a Table from a snapshot of the
// cluster, Finalize indexes it, Validate checks it, and the proxy publishes it
// with an atomic pointer swap. After Finalize a Table must not be mutated:
// requests read it concurrently without locks.
//
// The layout mirrors what a request needs, in order: the Listener for the
// local port (protocol and TLS certificates by SNI), the VirtualHost for the
// Host header (exact, then the longest wildcard, then the catch-all), and the
// Routes of that host in precedence order, first match wins. Precedence is
// computed once in Finalize so Match does no sorting and, for typical
// requests, no allocation.
package ir
