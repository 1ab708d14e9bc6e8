// Package server owns the gateway's sockets: one listener per table port,
// reconciled against each published table (opened or closed only when the
// port's address or protocol changes), TLS with SNI certificate choice, the
// HTTP/1 and HTTP/2 hardening, and the admin endpoints.
//
// Connections are accepted and TLS is terminated here rather than by
// http.Server so that HTTP/1 byte streams can be inspected before Go's
// parser normalises them: a request carrying both Content-Length and
// Transfer-Encoding is refused with 400 instead of being silently repaired
// (request smuggling defence), and HTTP/2 connections are handed to
// golang.org/x/net/http2 with explicit stream and frame limits.
//
// HTTP/1.1 connections are served by the lean engine (lean.go) unless
// Options.HTTP1Engine says net/http: plain requests on one goroutine per
// connection, everything else handed to the http.Server on the same
// connection with the bytes already read replayed, so that every refusal
// stays net/http's and the framing parser's.
package server
