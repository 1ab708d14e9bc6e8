package proxy

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// leanResponseCorpus: responses a backend may send. take marks those the
// lean reader must read itself (so that this test cannot pass with a
// reader that takes nothing); the others it may leave to net/http.
var leanResponseCorpus = []struct {
	name, raw string
	head      bool // the request was HEAD
	take      bool
}{
	{"plain", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello", false, true},
	{"no reason", "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok", false, true},
	{"empty reason", "HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok", false, true},
	{"long reason", "HTTP/1.1 404 Not Found Here\r\nContent-Length: 0\r\n\r\n", false, true},
	{"lower-case names", "HTTP/1.1 200 OK\r\ncontent-length: 3\r\nx-a: 1\r\nX-A: 2\r\n\r\nabc", false, true},
	{"ows", "HTTP/1.1 200 OK\r\nContent-Length:3 \r\nX-B: \t v \t\r\nX-C:\r\n\r\nabc", false, true},
	{"leading zeros", "HTTP/1.1 200 OK\r\nContent-Length: 003\r\n\r\nabc", false, true},
	{"next response behind", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\n", false, true},
	{"204", "HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n", false, true},
	{"204 with length", "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", false, true},
	{"304", "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", false, true},
	{"HEAD with length", "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", true, true},
	{"HEAD without length", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n", true, true},
	{"connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", false, true},
	{"connection keep-alive, close", "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 2\r\n\r\nok", false, true},
	{"connection keep-alive", "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", false, true},
	{"truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", false, true},
	{"599", "HTTP/1.1 599 Odd\r\nContent-Length: 0\r\n\r\n", false, true},
	{"no headers", "HTTP/1.1 304 Not Modified\r\n\r\n", false, true},

	// Left to net/http (or refused by both).
	{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", false, false},
	{"chunked and length", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", false, false},
	{"close-delimited", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", false, false},
	{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", false, false},
	{"two different lengths", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", false, false},
	{"signed length", "HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc", false, false},
	{"empty length", "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", false, false},
	{"length with space inside", "HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n", false, false},
	{"huge length", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", false, false},
	{"trailer", "HTTP/1.1 200 OK\r\nTrailer: X-T\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"pragma", "HTTP/1.1 200 OK\r\nPragma: no-cache\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"1xx", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, false},
	{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"HTTP/2.0 in text", "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"lower-case version", "http/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"two-digit status", "HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"four-digit status", "HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"status 099", "HTTP/1.1 099 Low\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"status 600", "HTTP/1.1 600 High\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"tab after status", "HTTP/1.1 200\tOK\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"obs-fold", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"space before colon", "HTTP/1.1 200 OK\r\nX-A : a\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"no colon", "HTTP/1.1 200 OK\r\nX-A\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"empty name", "HTTP/1.1 200 OK\r\n: a\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", false, false},
	{"bare CR", "HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"NUL in value", "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"obs-text in value", "HTTP/1.1 200 OK\r\nX-A: caf\xc3\xa9\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"DEL in reason", "HTTP/1.1 200 O\x7fK\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"leading space line", "HTTP/1.1 200 OK\r\n X-A: a\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"head too long", "HTTP/1.1 200 OK\r\nX-A: " + strings.Repeat("a", 5000) + "\r\nContent-Length: 2\r\n\r\nok", false, false},
	{"many fields", "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: a\r\n", 120) + "Content-Length: 2\r\n\r\nok", false, false},
	{"truncated head", "HTTP/1.1 200 OK\r\nContent-Len", false, false},
	{"empty", "", false, false},
}

// TestLeanResponseReadsAsNetHTTP holds the lean reader to
// http.ReadResponse: a response it takes is read the same way (status,
// header map, length, Close, body bytes and error, and what is left on the
// connection after the body); one it does not take is left untouched.
func TestLeanResponseReadsAsNetHTTP(t *testing.T) {
	for _, tc := range leanResponseCorpus {
		t.Run(tc.name, func(t *testing.T) {
			taken := checkLeanResponse(t, []byte(tc.raw), tc.head)
			if tc.take && !taken {
				t.Fatal("the lean reader left a common response to net/http")
			}
			if !tc.take && taken {
				t.Fatal("the lean reader took a response it must leave to net/http")
			}
		})
	}
}

// checkLeanResponse compares the lean reader with http.ReadResponse on
// raw, and reports whether the lean reader took it.
func checkLeanResponse(t *testing.T, raw []byte, head bool) bool {
	t.Helper()
	req := getRequest
	if head {
		req = headRequest
	}
	lbr := bufio.NewReaderSize(strings.NewReader(string(raw)), 4<<10)
	nbr := bufio.NewReaderSize(strings.NewReader(string(raw)), 4<<10)
	lres, ok := readLeanResponse(lbr, req)
	nres, nerr := http.ReadResponse(nbr, req)
	if !ok {
		// Nothing consumed: net/http reads from the lean reader's buffer
		// exactly what it read from its own, errors included.
		again, err := http.ReadResponse(lbr, req)
		if (err == nil) != (nerr == nil) || (err != nil && err.Error() != nerr.Error()) {
			t.Fatalf("after the lean reader declined: %v, net/http alone: %v", err, nerr)
		}
		if err == nil && (again.StatusCode != nres.StatusCode || !reflect.DeepEqual(again.Header, nres.Header)) {
			t.Fatal("the lean reader consumed bytes of a response it declined")
		}
		return false
	}
	if nerr != nil {
		t.Fatalf("lean took a response net/http refuses (%v)", nerr)
	}
	if lres.Status != nres.Status || lres.StatusCode != nres.StatusCode || lres.Proto != nres.Proto ||
		lres.ProtoMajor != nres.ProtoMajor || lres.ProtoMinor != nres.ProtoMinor {
		t.Fatalf("status line: lean %q %d %s, net/http %q %d %s", lres.Status, lres.StatusCode, lres.Proto, nres.Status, nres.StatusCode, nres.Proto)
	}
	if !reflect.DeepEqual(lres.Header, nres.Header) {
		t.Fatalf("header: lean %v, net/http %v", lres.Header, nres.Header)
	}
	if lres.ContentLength != nres.ContentLength || lres.Close != nres.Close || len(lres.Trailer) != len(nres.Trailer) {
		t.Fatalf("framing: lean length %d close %v, net/http %d %v", lres.ContentLength, lres.Close, nres.ContentLength, nres.Close)
	}
	lb, lberr := io.ReadAll(lres.Body)
	nb, nberr := io.ReadAll(nres.Body)
	if string(lb) != string(nb) || (lberr == nil) != (nberr == nil) || errors.Is(lberr, io.ErrUnexpectedEOF) != errors.Is(nberr, io.ErrUnexpectedEOF) {
		t.Fatalf("body: lean %q (%v), net/http %q (%v)", lb, lberr, nb, nberr)
	}
	if (lres.Body == http.NoBody) != (nres.Body == http.NoBody) {
		t.Fatalf("body kind: lean %T, net/http %T", lres.Body, nres.Body)
	}
	lrest, _ := io.ReadAll(lbr)
	nrest, _ := io.ReadAll(nbr)
	if string(lrest) != string(nrest) {
		t.Fatalf("left on the connection: lean %q, net/http %q", lrest, nrest)
	}
	return true
}

func FuzzLeanResponse(f *testing.F) {
	for _, tc := range leanResponseCorpus {
		f.Add([]byte(tc.raw), tc.head)
	}
	f.Fuzz(func(t *testing.T, raw []byte, head bool) {
		checkLeanResponse(t, raw, head)
	})
}
