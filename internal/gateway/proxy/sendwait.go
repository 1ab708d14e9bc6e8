package proxy

import (
	"bufio"
	"net"
	"syscall"
)

// SendWaiter sends what a bufio.Writer holds on a connection and then
// waits until the connection has something to read, without the read
// that would find nothing yet.
//
// After a request goes to a backend, or a response to a client, a read
// at once almost always fails with EAGAIN: the other side has not had
// the time to answer. The runtime then parks the goroutine until the
// poller reports the connection readable. That failed read is a system
// call per exchange for nothing. Here the write runs inside the
// RawConn's Read: the runtime has cleared the connection's read
// readiness before calling the function, and parks the goroutine when it
// returns false. Whatever the peer sends in answer arrives after the
// write, so its readiness is seen; it cannot have come and gone before
// the wait, as it could between a write and a separate wait.
//
// The wait ends when the connection is readable, at its peer's FIN or
// reset, at a read deadline (an abort sets one in the past), or when it
// is closed; SendWaiter reports only the write's error, and the read
// that follows sees the rest, as it would have without the wait.
type SendWaiter struct {
	raw  syscall.RawConn // nil: the connection has none (TLS): Flush only
	bw   *bufio.Writer
	sent bool
	err  error
	f    func(uintptr) bool // made once, so a wait allocates nothing
}

// Init prepares w for nc.
func (w *SendWaiter) Init(nc net.Conn) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	w.raw = raw
	w.f = func(uintptr) bool {
		if w.sent {
			return true // called again: readable (or the wait ended)
		}
		w.sent = true
		w.err = w.bw.Flush()
		return w.err != nil
	}
}

// FlushAndWait flushes bw, which writes to the connection w was
// prepared for, then waits as described above.
func (w *SendWaiter) FlushAndWait(bw *bufio.Writer) error {
	if w.raw == nil {
		return bw.Flush()
	}
	w.bw, w.sent, w.err = bw, false, nil
	_ = w.raw.Read(w.f) // its error (deadline, closed): the read that follows sees it
	w.bw = nil
	if !w.sent {
		return bw.Flush() // the wait failed before the function ran
	}
	return w.err
}
