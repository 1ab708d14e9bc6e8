package server

import (
	"bytes"
	"net/http"
	"net/url"

	"golang.org/x/net/http/httpguts"

	"github.com/pylon-dev/pylon/internal/gateway/httphead"
)

// The lean engine's request parser is strict on purpose: it accepts only
// the plain, common request, one that Go's server would read the same way
// (same method, URL, Host, header map, no body), and says "not mine" for
// everything else, which is then handed to net/http with the bytes already
// read. It never answers an error itself: every refusal (400, 431, 505,
// the framing conflict) stays net/http's and the framing parser's.

// maxLeanHeaders bounds the header lines of a request the engine takes.
const maxLeanHeaders = 64

// leanMethod returns the method as a constant string, or "" for a method
// the engine leaves to net/http (CONNECT, PRI, extension methods).
func leanMethod(b []byte) string {
	switch string(b) {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodHead:
		return http.MethodHead
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodOptions:
		return http.MethodOptions
	case http.MethodPatch:
		return http.MethodPatch
	}
	return ""
}

// targetByteOK: the request-target may hold visible ASCII only (no space,
// control or obs-text byte); the URL parser then judges it as net/http's does.
func targetByteOK(c byte) bool { return c > ' ' && c < 0x7f }

// parseLean parses head, one complete request head ending in CRLF CRLF,
// into r (whose context is kept) and h (cleared first). vals is scratch
// for header values. It reports false when the request is not one the
// engine serves; r and h are then garbage.
func parseLean(head []byte, r *http.Request, h http.Header, vals []string) ([]string, bool) {
	clear(h)
	vals = vals[:0]
	// One string holds the whole head; method, target, names and values
	// are substrings of it (names when the client sent them canonical).
	s := string(head[:len(head)-2]) // keeps the CRLF ending the last line
	eol := httphead.IndexCRLF(s)
	if eol <= 0 {
		return vals, false // a bare CR or LF, or an empty request line
	}
	line := s[:eol]
	sp1 := bytes.IndexByte(head[:eol], ' ')
	if sp1 <= 0 {
		return vals, false
	}
	method := leanMethod(head[:sp1])
	if method == "" {
		return vals, false
	}
	rest := line[sp1+1:]
	sp2 := httphead.IndexByte(rest, ' ')
	if sp2 <= 0 || rest[sp2+1:] != "HTTP/1.1" {
		return vals, false
	}
	target := rest[:sp2]
	if target[0] != '/' {
		return vals, false // absolute-form, authority-form, asterisk-form
	}
	for i := 0; i < len(target); i++ {
		if !targetByteOK(target[i]) {
			return vals, false
		}
	}
	s = s[eol+2:]
	host, hosts := "", 0
	closeConn := false
	for n := 0; s != ""; n++ {
		if n == maxLeanHeaders {
			return vals, false
		}
		var key, v string
		var ok bool
		if key, v, s, ok = httphead.NextField(s); !ok {
			return vals, false
		}
		switch key {
		case "Host":
			hosts++
			host = v
			continue // net/http keeps Host out of the header map
		case "Content-Length":
			if v != "0" || h["Content-Length"] != nil {
				return vals, false // a body, or a repeat: net/http's to judge
			}
		case "Transfer-Encoding", "Upgrade", "Expect", "Pragma", "Trailer", "Http2-Settings":
			// Bodies, upgrades, 100-continue, net/http's Pragma fix-up.
			return vals, false
		case "Connection":
			if httpguts.HeaderValuesContainsToken([]string{v}, "close") {
				closeConn = true
			}
		}
		if old, ok := h[key]; ok {
			h[key] = append(old, v)
			continue
		}
		vals = append(vals, v)
		h[key] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	if hosts != 1 || !httpguts.ValidHostHeader(host) {
		return vals, false
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return vals, false
	}
	r.Method = method
	r.URL = u
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, 1
	r.Header = h
	r.Body = http.NoBody
	r.ContentLength = 0
	r.Close = closeConn
	r.Host = host
	r.RequestURI = target
	return vals, true
}
