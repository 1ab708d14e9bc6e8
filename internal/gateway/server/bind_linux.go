package server

import (
	"context"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// listen binds addr. A listener on an address of its own (a Gateway's
// address from the pool) binds with IP_FREEBIND, so it can be opened
// before the address is assigned to this host: a virtual IP that
// keepalived, kube-vip or a MetalLB-style speaker moves between nodes.
//
// With reusePort the socket binds with SO_REUSEPORT, so that a second
// gateway process (the next one in a rolling restart on the host network,
// or a second replica of the local cluster) binds the same address and
// port; the kernel spreads new connections over the sockets. When one of
// them closes, connections still in its accept queue are reset unless
// net.ipv4.tcp_migrate_req=1 (Linux 5.14 and later) moves them to another
// socket of the group; the drain keeps accepting for --drain-delay so that
// the queue is empty by then on a quiet host.
func listen(addr string, freebind, reusePort bool) (net.Listener, error) {
	if !freebind && !reusePort {
		return net.Listen("tcp", addr)
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			if freebind {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_IP, syscall.IP_FREEBIND, 1)
			}
			if serr == nil && reusePort {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			}
		}); err != nil {
			return err
		}
		return serr
	}}
	return lc.Listen(context.Background(), "tcp", addr)
}
