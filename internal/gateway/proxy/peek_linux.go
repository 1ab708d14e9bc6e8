package proxy

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// peekFD returns the descriptor of a dialed connection for unsolicited
// (-1: none, nothing is looked at).
func peekFD(nc net.Conn) int {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	if rc.Control(func(f uintptr) { fd = int(f) }) != nil {
		return -1
	}
	return fd
}

// unsolicited reports whether an idle connection has something to read
// (bytes the backend sent after its last response, a 408 before closing)
// or has been closed by the backend. Nothing reads an idle pooled
// connection, so this looks (MSG_PEEK, never blocking) before it is used
// again: such bytes would otherwise be read as the next request's
// response.
//
// fd is the connection's own (peekFD), and the caller holds the
// connection alone and open (taken from the idle list, which is the only
// place anything closes an idle connection), so the descriptor cannot be
// closed or reused meanwhile; MSG_DONTWAIT makes the call return at once,
// so it needs neither the runtime's poller nor its syscall bookkeeping.
func unsolicited(fd int) bool {
	if fd < 0 {
		return false
	}
	var b [1]byte
	_, _, errno := syscall.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), 1,
		unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
	switch errno {
	case 0:
		return true // data, or EOF (n == 0): not reusable
	case unix.EAGAIN, unix.EINTR:
		return false // nothing to read: the connection is clean
	default:
		return true // an error (reset)
	}
}
