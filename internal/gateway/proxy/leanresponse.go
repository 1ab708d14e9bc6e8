package proxy

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/pylon-dev/pylon/internal/gateway/httphead"
)

// The fast path reads the common backend response itself instead of with
// http.ReadResponse (textproto's line reader, a header map built in two
// passes, a transfer reader and two body wrappers per response): an
// HTTP/1.1 status line with a final status, well-formed header fields,
// and framing by one Content-Length (or no body at all: HEAD, 204, 304).
// Anything else (1xx, chunked or close-delimited bodies, trailers,
// obs-fold, bytes outside visible ASCII, Pragma, a head longer than the
// read buffer) is left in the buffer untouched for http.ReadResponse, so
// every unusual response is still read, or refused, by net/http. What
// the lean reader takes, http.ReadResponse reads the same way: the
// differential test and FuzzLeanResponse hold it to that.

// leanStatusPrefix starts every status line the lean reader takes.
const leanStatusPrefix = "HTTP/1.1 "

// maxLeanResponseFields bounds the header fields of a response the lean
// reader takes.
const maxLeanResponseFields = 100

// readLeanResponse reads a response head from br when it is one the lean
// reader takes; ok false: nothing was consumed, and http.ReadResponse
// reads it (a connection that fails before a whole head arrived included).
func readLeanResponse(br *bufio.Reader, req *http.Request) (res *http.Response, ok bool) {
	from := 0
	var head []byte
	for {
		buf, _ := br.Peek(br.Buffered())
		if n := min(len(buf), len(leanStatusPrefix)); string(buf[:n]) != leanStatusPrefix[:n] {
			// Not the lean reader's (and maybe not HTTP at all: a
			// banner, then silence): http.ReadResponse judges the
			// first line as soon as it is there.
			return nil, false
		}
		end, next, clean := httphead.Scan(buf, from)
		if !clean {
			return nil, false
		}
		if end > 0 {
			head = buf[:end]
			break
		}
		if len(buf) >= br.Size() {
			return nil, false
		}
		from = next
		if _, err := br.Peek(len(buf) + 1); err != nil {
			// The connection failed (or closed) before a whole head
			// arrived: http.ReadResponse reads on, meets the same
			// failure and reports it its way.
			return nil, false
		}
	}
	res, ok = parseLeanResponse(head, req)
	if !ok {
		return nil, false
	}
	_, _ = br.Discard(len(head))
	if b, ok := res.Body.(*leanBody); ok {
		b.br = br
	}
	return res, true
}

// parseLeanResponse parses one complete response head (ending in CRLF
// CRLF). The body, when there is one, is a *leanBody without its reader.
func parseLeanResponse(head []byte, req *http.Request) (*http.Response, bool) {
	s := string(head[:len(head)-2])
	eol := httphead.IndexCRLF(s)
	// "HTTP/1.1 ddd" and an optional " reason".
	if eol < 12 || s[:9] != leanStatusPrefix {
		return nil, false
	}
	line := s[:eol]
	code := 0
	for i := 9; i < 12; i++ {
		c := line[i]
		if c < '0' || c > '9' {
			return nil, false
		}
		code = code*10 + int(c-'0')
	}
	if code < 200 || code > 599 {
		return nil, false // 1xx (read on by the caller), odd codes: net/http's
	}
	if len(line) > 12 && (line[12] != ' ' || !httphead.ValueOK(line[13:])) {
		return nil, false
	}
	s = s[eol+2:]
	// One allocation holds the Response and its body, one the values of
	// every field: each name's slice is a window of capacity one on it
	// (a repeated name's append copies), as textproto's reader does.
	fields := strings.Count(s, "\n")
	if fields > maxLeanResponseFields {
		return nil, false
	}
	lr := &leanResponse{res: http.Response{
		Status:     line[9:],
		StatusCode: code,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Request:    req,
	}}
	res := &lr.res
	values := make([]string, fields)
	h := make(http.Header, fields)
	cl := int64(-1)
	for n := 0; s != ""; n++ {
		key, v, rest, ok := httphead.NextField(s)
		if !ok || n == fields {
			return nil, false
		}
		s = rest
		switch key {
		case "Content-Length":
			if cl >= 0 {
				return nil, false // a repeat: net/http's to judge
			}
			if cl = parseDigits(v); cl < 0 {
				return nil, false
			}
		case "Transfer-Encoding", "Trailer", "Pragma":
			return nil, false
		}
		if vv, seen := h[key]; seen {
			h[key] = append(vv, v)
			continue
		}
		values[n] = v
		h[key] = values[n : n+1 : n+1]
	}
	res.Header = h
	if c := h["Connection"]; c != nil && httpguts.HeaderValuesContainsToken(c, "close") {
		res.Close = true
		delete(h, "Connection") // as http.ReadResponse does
	}
	noBody := req.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified
	switch {
	case noBody && req.Method == http.MethodHead:
		res.ContentLength = cl
		res.Body = http.NoBody
	case noBody:
		res.ContentLength = 0
		res.Body = http.NoBody
	case cl < 0:
		return nil, false // close-delimited: net/http's
	case cl == 0:
		res.ContentLength = 0
		res.Body = http.NoBody
	default:
		res.ContentLength = cl
		lr.body.n = cl
		res.Body = &lr.body
	}
	return res, true
}

// leanResponse is a response the lean reader took, with its body.
type leanResponse struct {
	res  http.Response
	body leanBody
}

// parseDigits parses a Content-Length of 1 to 18 decimal digits; -1 for
// anything else (a sign, spaces inside, a longer number: net/http's).
func parseDigits(v string) int64 {
	if v == "" || len(v) > 18 {
		return -1
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// leanBody is a response body of n more bytes on br. It ends with io.EOF
// after the last byte, or io.ErrUnexpectedEOF when the backend closes
// before it, as net/http's body does.
type leanBody struct {
	br *bufio.Reader
	n  int64
}

func (b *leanBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.br.Read(p)
	b.n -= int64(n)
	if b.n == 0 {
		return n, io.EOF
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// Close does nothing: the caller reads the body to its end or closes the
// connection.
func (b *leanBody) Close() error { return nil }
