package server

import (
	"context"
	"net"
	"syscall"
)

// listen binds addr. A listener on an address of its own (a Gateway's
// address from the pool) binds with IP_FREEBIND, so it can be opened
// before the address is assigned to this host: a virtual IP that
// keepalived, kube-vip or a MetalLB-style speaker moves between nodes.
func listen(addr string, freebind bool) (net.Listener, error) {
	if !freebind {
		return net.Listen("tcp", addr)
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_IP, syscall.IP_FREEBIND, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	return lc.Listen(context.Background(), "tcp", addr)
}
