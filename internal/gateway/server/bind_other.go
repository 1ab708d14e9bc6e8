//go:build !linux

package server

import "net"

// listen binds addr; IP_FREEBIND and the Linux semantics of SO_REUSEPORT
// are Linux-only, so elsewhere an address of its own must already be
// assigned to this host and a port is bound by one process at a time.
func listen(addr string, _, _ bool) (net.Listener, error) { return net.Listen("tcp", addr) }
