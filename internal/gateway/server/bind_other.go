//go:build !linux

package server

import "net"

// listen binds addr; IP_FREEBIND is Linux-only, so elsewhere an address of
// its own must already be assigned to this host.
func listen(addr string, _ bool) (net.Listener, error) { return net.Listen("tcp", addr) }
