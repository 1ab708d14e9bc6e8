package proxy

import (
	"bufio"
	"net"
	"syscall"
)

// SendWaiter sends what a bufio.Writer holds on a connection and then
// waits until the connection has something to read, without the read
// that would find nothing yet. The backend exchange uses it: after a
// request goes to a backend, a read at once almost always fails with
// EAGAIN (the backend has not had the time to answer), and the runtime
// then parks the goroutine until the poller reports the connection
// readable: a system call per request for nothing.
//
// Here the write runs inside the RawConn's Read, after the runtime has
// cleared the connection's read readiness and before it parks the
// goroutine (the function returns false). The answer arrives after the
// write, so its readiness is seen.
//
// Bytes (or a FIN) that arrived after the last read and before the wait
// had their readiness reported then, and the wait alone would not see
// them: it would end only at the next bytes, a reset or a deadline. So
// the function first looks at the connection (unsolicited, MSG_PEEK,
// after the readiness was cleared): anything there, and the request is
// not sent (errUnsolicited); anything later comes with a readiness of its
// own. That is the look the pool needs before reusing a connection
// anyway, so the wait costs no system call of its own. All bytes of the
// request must be in bw (a bufio.Writer sends a write larger than its
// buffer at once, before the wait). Hence it serves pooled backend
// connections only: a client may send its next request while the last
// response is being written (pipelining), which a look before the write
// would not see either, so the lean engine does not wait this way.
//
// The wait ends when the connection is readable, at its peer's FIN or
// reset, at a read deadline (an abort sets one in the past), or when it
// is closed; SendWaiter reports only the write's error, and the read
// that follows sees the rest, as it would have without the wait.
type SendWaiter struct {
	raw  syscall.RawConn // nil: the connection has none (TLS): Flush only
	fd   int             // the connection's, for unsolicited (-1: none)
	bw   *bufio.Writer
	sent bool
	err  error
	f    func(uintptr) bool // made once, so a wait allocates nothing
}

// Init prepares w for nc, whose descriptor is fd (peekFD).
func (w *SendWaiter) Init(nc net.Conn, fd int) {
	w.fd = fd
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
		if unsolicited(w.fd) {
			w.err = errUnsolicited
			return true
		}
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
