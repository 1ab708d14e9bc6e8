package proxy

import (
	"net/url"
	"strings"
)

// Path normalisation runs before routing, so that the route a request
// matches is the route for the path the backend will act on. It follows
// Envoy Gateway's defaults (RFC 3986 normalisation, merged slashes,
// escaped slashes unescaped and redirected) and adds one rule for path
// parameters:
//
//   - percent-encoded unreserved characters (A-Z a-z 0-9 - . _ ~) are
//     decoded, other escapes keep their encoding with upper-case hex;
//   - a backslash is a slash;
//   - repeated slashes are merged;
//   - "." and ".." segments are resolved; ".." never climbs above "/";
//   - an encoded slash or backslash (%2F, %5C) is not routed at all: the
//     client is redirected (307) to the path with it unescaped and
//     normalised, so that the client, the gateway and the backend agree on
//     one path (Envoy Gateway's UnescapeAndRedirect);
//   - an encoded NUL is refused (400);
//   - a path parameter (";..." within a segment, which Tomcat, Jetty and
//     others strip) is ignored when matching, so "/admin;x" matches what
//     "/admin" matches; a segment that is "." or ".." once its parameter
//     is removed is resolved as a dot segment. The backend receives the
//     parameters of other segments unchanged.
//
// Backends receive the normalised path. Percent-encoding that survives
// normalisation (e.g. %20, %3F) is kept in what is forwarded, in rewrites
// and in redirect Locations.

type pathVerdict int

const (
	pathOK       pathVerdict = iota
	pathRedirect             // contained %2F or %5C: redirect to the normalised path
	pathBad                  // cannot be served (encoded NUL, broken escape)
)

// normalizedPath is the result of normalising a request path.
type normalizedPath struct {
	// escaped is the normalised path as sent on the wire.
	escaped string
	// match is what routes match: decoded, without path parameters.
	match   string
	verdict pathVerdict
}

// normalizePath normalises an escaped origin-form path. A path that does
// not start with "/" (CONNECT authority, OPTIONS *) is returned unchanged.
func normalizePath(escaped string) normalizedPath {
	if !strings.HasPrefix(escaped, "/") || alreadyNormal(escaped) {
		return normalizedPath{escaped: escaped, match: escaped}
	}
	return normalizeSlow(escaped)
}

// alreadyNormal reports whether a path starting with "/" needs no work: no
// escapes, backslashes or parameters, no empty or dot segments. Most
// requests are such, and then normalising allocates nothing.
func alreadyNormal(p string) bool {
	if strings.ContainsAny(p, `%\;`) {
		return false
	}
	rest := p[1:]
	for rest != "" {
		seg, after, more := strings.Cut(rest, "/")
		if seg == "" || seg == "." || seg == ".." {
			return false // "//", or a dot segment (a trailing "/" ends the loop)
		}
		if !more {
			break
		}
		rest = after
	}
	return true
}

// normalizeSlow does the work for paths alreadyNormal cannot vouch for.
func normalizeSlow(escaped string) normalizedPath {
	verdict := pathOK
	// Pass 1: escapes and backslashes.
	var b strings.Builder
	b.Grow(len(escaped))
	for i := 0; i < len(escaped); i++ {
		c := escaped[i]
		switch c {
		case '\\':
			b.WriteByte('/')
		case '%':
			if i+2 >= len(escaped) || !isHex(escaped[i+1]) || !isHex(escaped[i+2]) {
				return normalizedPath{verdict: pathBad}
			}
			d := unhex(escaped[i+1])<<4 | unhex(escaped[i+2])
			i += 2
			switch {
			case d == 0:
				return normalizedPath{verdict: pathBad}
			case d == '/' || d == '\\':
				verdict = pathRedirect
				b.WriteByte('/')
			case isUnreserved(d):
				b.WriteByte(d)
			default:
				b.WriteByte('%')
				b.WriteByte(upperHex[d>>4])
				b.WriteByte(upperHex[d&15])
			}
		default:
			b.WriteByte(c)
		}
	}
	// Pass 2: segments. out holds the forwarded segments, names the same
	// segments without parameters.
	segs := strings.Split(b.String()[1:], "/")
	out := make([]string, 0, len(segs))
	names := make([]string, 0, len(segs))
	trailing := false
	for i, seg := range segs {
		name, _, _ := strings.Cut(seg, ";")
		last := i == len(segs)-1
		switch name {
		case "":
			// Merged slash, or the trailing slash when last.
			trailing = last && len(out) > 0
			continue
		case ".":
			trailing = true
			continue
		case "..":
			if len(out) > 0 {
				out, names = out[:len(out)-1], names[:len(names)-1]
			}
			trailing = len(out) > 0
			continue
		}
		out, names = append(out, seg), append(names, name)
		trailing = false
	}
	n := normalizedPath{escaped: join(out, trailing), verdict: verdict}
	m, err := url.PathUnescape(join(names, trailing))
	if err != nil {
		return normalizedPath{verdict: pathBad}
	}
	n.match = m
	return n
}

func join(segs []string, trailing bool) string {
	if len(segs) == 0 {
		return "/"
	}
	s := "/" + strings.Join(segs, "/")
	if trailing {
		s += "/"
	}
	return s
}

const upperHex = "0123456789ABCDEF"

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// setEscapedPath sets u's path from its escaped form, keeping that form
// on the wire.
func setEscapedPath(u *url.URL, escaped string) {
	p, err := url.PathUnescape(escaped)
	if err != nil {
		return
	}
	u.Path, u.RawPath = p, escaped
	if u.EscapedPath() != escaped {
		u.RawPath = "" // not a valid encoding of p: let url escape it
	}
}
