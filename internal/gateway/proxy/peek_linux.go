package proxy

import (
	"errors"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// unsolicited reports whether an idle connection has something to read
// (bytes the backend sent after its last response, a 408 before closing)
// or has been closed by the backend. Nothing reads an idle pooled
// connection, so this looks (MSG_PEEK, never blocking) before it is used
// again: such bytes would otherwise be read as the next request's
// response.
func unsolicited(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	var b [1]byte
	stale := false
	if err := rc.Read(func(fd uintptr) bool {
		n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		switch {
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
			// Nothing to read: the connection is clean.
		case err != nil || n >= 0:
			// Data, EOF (n == 0) or an error (reset): not reusable.
			stale = true
		}
		return true // never wait for readability
	}); err != nil {
		return true
	}
	return stale
}
