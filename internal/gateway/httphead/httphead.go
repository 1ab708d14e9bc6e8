// Package httphead holds the small, strict HTTP/1.1 head scanning the
// gateway's lean paths share: the lean server engine reading requests
// (internal/gateway/server) and the lean backend client reading responses
// (internal/gateway/proxy). Both take only heads that net/http would read
// the same way and leave everything else to net/http, so these helpers
// answer "is this plainly well-formed" and never repair anything.
package httphead

import (
	"bytes"
	"net/http"

	"golang.org/x/net/http/httpguts"
)

// Scan looks at the line ends of b from i on: end is the length of the
// head when b holds all of it (CRLF CRLF), next where to go on when more
// bytes arrive; clean is false at an LF without CR before it.
func Scan(b []byte, i int) (end, next int, clean bool) {
	for {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return 0, len(b), true
		}
		j += i
		if j == 0 || b[j-1] != '\r' {
			return 0, 0, false
		}
		if j >= 3 && b[j-2] == '\n' && b[j-3] == '\r' {
			return j + 1, 0, true
		}
		i = j + 1
	}
}

// IndexCRLF returns the index of the first CRLF in s, or -1 when s has
// none or a CR or LF stands alone before it.
func IndexCRLF(s string) int {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\r' {
			if s[i+1] != '\n' {
				return -1
			}
			return i
		}
		if s[i] == '\n' {
			return -1
		}
	}
	return -1
}

// IndexByte is strings.IndexByte without the import.
func IndexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// TrimOWS trims optional whitespace (spaces and tabs) at both ends.
func TrimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// ValueByteOK reports whether c is a header value byte the lean paths
// take: visible ASCII, space or tab. obs-text (≥ 0x80) and every control byte go to net/http.
func ValueByteOK(c byte) bool { return (c >= ' ' && c < 0x7f) || c == '\t' }

// ValueOK reports whether every byte of v is ValueByteOK.
func ValueOK(v string) bool {
	for i := 0; i < len(v); i++ {
		if !ValueByteOK(v[i]) {
			return false
		}
	}
	return true
}

// CanonicalKey returns the canonical form of a header name, which must be
// a token; an already canonical name is returned as is (no allocation).
func CanonicalKey(k string) (string, bool) {
	upper := true
	canonical := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !httpguts.IsTokenRune(rune(c)) {
			return "", false
		}
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			canonical = false
		}
		upper = c == '-'
	}
	if canonical {
		return k, true
	}
	return http.CanonicalHeaderKey(k), true
}

// NextField reads the first header field line of s, a block of CRLF-ended
// lines: its canonical name, its value without optional whitespace, and
// the rest of s. ok is false when the line is not plainly well-formed: a
// bare CR or LF, no colon or an empty name, a name that is not a token, a
// value byte outside ValueByteOK.
func NextField(s string) (key, value, rest string, ok bool) {
	eol := IndexCRLF(s)
	if eol <= 0 {
		return "", "", "", false
	}
	line := s[:eol]
	colon := IndexByte(line, ':')
	if colon <= 0 {
		return "", "", "", false
	}
	if key, ok = CanonicalKey(line[:colon]); !ok {
		return "", "", "", false
	}
	value = TrimOWS(line[colon+1:])
	if !ValueOK(value) {
		return "", "", "", false
	}
	return key, value, s[eol+2:], true
}
