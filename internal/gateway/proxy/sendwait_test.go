package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// readable reports whether fd has bytes to read now, without blocking.
func readable(t *testing.T, c net.Conn) bool {
	t.Helper()
	var b [1]byte
	n, _, err := syscall.Recvfrom(peekFD(c), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	if errors.Is(err, syscall.EAGAIN) {
		return false
	}
	return err == nil && n > 0
}

// The peer answers each message as fast as it can: every answer must end
// the wait (a lost readiness would leave FlushAndWait waiting until the
// deadline), and the wait must not end before the answer is there.
func TestSendWaiterSeesEveryAnswer(t *testing.T) {
	c, s := tcpPair(t)
	go func() { _, _ = io.Copy(s, s) }() // echo at once
	var w SendWaiter
	w.Init(c, peekFD(c))
	if w.raw == nil {
		t.Fatal("a TCP connection has a RawConn")
	}
	bw := bufio.NewWriter(c)
	buf := make([]byte, 16)
	for i := range 3000 {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		msg := []byte{'m', byte(i), byte(i >> 8)}
		_, _ = bw.Write(msg)
		if err := w.FlushAndWait(bw); err != nil {
			t.Fatalf("exchange %d: %v", i, err)
		}
		if !readable(t, c) {
			t.Fatalf("exchange %d: the wait ended before the answer arrived", i)
		}
		if _, err := io.ReadFull(c, buf[:len(msg)]); err != nil {
			t.Fatalf("exchange %d: %v (a lost wake-up waits until the deadline)", i, err)
		}
		if string(buf[:len(msg)]) != string(msg) {
			t.Fatalf("exchange %d: read %q, want %q", i, buf[:len(msg)], msg)
		}
	}
}

// The wait ends at the peer's close, at a deadline (an abort), and the
// write's error is returned; the read that follows reports the rest.
func TestSendWaiterEndings(t *testing.T) {
	t.Run("peer closes", func(t *testing.T) {
		c, s := tcpPair(t)
		go func() {
			b := make([]byte, 8)
			_, _ = s.Read(b)
			s.Close()
		}()
		var w SendWaiter
		w.Init(c, peekFD(c))
		bw := bufio.NewWriter(c)
		_, _ = bw.WriteString("hello")
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if err := w.FlushAndWait(bw); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Fatalf("read after the peer closed: %v, want EOF", err)
		}
	})
	t.Run("abort while waiting", func(t *testing.T) {
		c, _ := tcpPair(t) // the peer never answers
		var w SendWaiter
		w.Init(c, peekFD(c))
		bw := bufio.NewWriter(c)
		_, _ = bw.WriteString("hello")
		time.AfterFunc(50*time.Millisecond, func() { _ = c.SetReadDeadline(aLongTimeAgo) })
		start := time.Now()
		if err := w.FlushAndWait(bw); err != nil {
			t.Fatalf("the write succeeded, the wait was aborted: %v", err)
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Fatalf("the abort did not end the wait (%v)", d)
		}
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read after the abort: %v, want the deadline error", err)
		}
	})
	t.Run("deadline already passed", func(t *testing.T) {
		c, s := tcpPair(t)
		var w SendWaiter
		w.Init(c, peekFD(c))
		_ = c.SetReadDeadline(aLongTimeAgo)
		bw := bufio.NewWriter(c)
		_, _ = bw.WriteString("sent anyway")
		if err := w.FlushAndWait(bw); err != nil {
			t.Fatal(err)
		}
		_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
		got := make([]byte, len("sent anyway"))
		if _, err := io.ReadFull(s, got); err != nil || string(got) != "sent anyway" {
			t.Fatalf("the peer got %q, %v: the bytes must be written even when the wait cannot start", got, err)
		}
	})
	t.Run("write fails", func(t *testing.T) {
		c, s := tcpPair(t)
		_ = s.(*net.TCPConn).SetLinger(0)
		s.Close() // a reset
		time.Sleep(20 * time.Millisecond)
		var w SendWaiter
		w.Init(c, peekFD(c))
		bw := bufio.NewWriterSize(c, 1<<16)
		var err error
		for range 50 { // the first write after a reset may still succeed
			_, _ = bw.Write(make([]byte, 1<<15))
			if err = w.FlushAndWait(bw); err != nil {
				break
			}
		}
		if err == nil {
			t.Fatal("writes to a reset connection did not fail")
		}
	})
}
