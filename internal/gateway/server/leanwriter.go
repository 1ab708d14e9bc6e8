package server

import (
	"bufio"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// leanResponse is the lean engine's http.ResponseWriter. It writes what
// net/http's server writes for the same handler calls (its chunkWriter
// rules, in the same order): status line, the header map sorted, then
// Date, an automatic Content-Length when the handler finished within the
// first 2 KiB without setting one, a sniffed Content-Type, Connection:
// close and chunked framing; no body for HEAD, 1xx, 204 and 304; 1xx
// informational responses written at once; trailers after a chunked
// body. It is reused for every request of its connection.
type leanResponse struct {
	c   *leanConn
	req *http.Request

	handlerHeader http.Header
	status        int
	wroteHeader   bool // WriteHeader called (logically)
	handlerDone   bool
	isHEAD        bool
	wantsClose    bool
	contentLength int64 // -1: not declared
	written       int64

	closeAfterReply bool
	// Decided at WriteHeader from the header at that moment (net/http
	// snapshots the header there too).
	head         []byte // status line and header fields, no final CRLF
	hasTE        bool
	teIdentity   bool
	trailers     bool
	declared     []string // trailer names declared in "Trailer"
	mayAutoCL    bool     // no Content-Length, TE or trailers, body allowed
	sniff        bool     // no Content-Type or Content-Encoding, body allowed
	wantDate     bool
	setConnClose bool

	committed bool // status line and header written to the connection
	chunking  bool

	w  *bufio.Writer // 2 KiB in front of cw, as net/http's response.w
	cw leanChunkWriter

	keys     []string // scratch for sorting header names
	excluded []string // scratch: header names left out of the head
}

type leanChunkWriter struct{ r *leanResponse }

const bufferBeforeChunkingSize = 2048

func (w *leanResponse) reset(r *http.Request) {
	clear(w.handlerHeader)
	w.req = r
	w.status = 0
	w.wroteHeader, w.handlerDone, w.committed, w.chunking = false, false, false, false
	w.isHEAD = r.Method == http.MethodHead
	w.wantsClose = r.Close
	w.contentLength, w.written = -1, 0
	w.closeAfterReply = false
	w.head = w.head[:0]
	w.declared = w.declared[:0]
	w.w.Reset(&w.cw)
}

func (w *leanResponse) Header() http.Header { return w.handlerHeader }

func bodyAllowedForStatus(status int) bool {
	switch {
	case status >= 100 && status <= 199, status == 204, status == 304:
		return false
	}
	return true
}

func (w *leanResponse) WriteHeader(code int) {
	if w.wroteHeader {
		return // net/http logs a superfluous call and ignores it
	}
	if code < 100 || code > 999 {
		panic("invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		// Informational: written and flushed now; the header map stays.
		bw := w.c.bw
		b := appendStatusLine(w.head[:0], code)
		b = w.appendFields(b, informationalExcluded[:], false)
		b = append(b, "\r\n"...)
		_, _ = bw.Write(b)
		_ = bw.Flush()
		return
	}
	w.wroteHeader = true
	w.status = code
	h := w.handlerHeader
	if cl := headerGet(h, "Content-Length"); cl != "" {
		v, err := strconv.ParseInt(cl, 10, 64)
		if err == nil && v >= 0 {
			w.contentLength = v
		} else {
			delete(h, "Content-Length")
		}
	}
	w.decideHeader()
}

// decideHeader is net/http's chunkWriter.writeHeader up to the point where
// the body's first bytes matter; commit does the rest.
func (w *leanResponse) decideHeader() {
	h := w.handlerHeader
	code := w.status
	keepAlives := !w.c.l.keepAlivesOff.Load()
	excluded := w.excluded[:0]
	del := func(k string) {
		if _, ok := h[k]; ok && !slices.Contains(excluded, k) {
			excluded = append(excluded, k)
		}
	}
	f := scanFields(h)
	w.trailers = f.trailerPrefixed
	for _, v := range f.trailer {
		w.trailers = true
		for name := range strings.SplitSeq(v, ",") {
			name = http.CanonicalHeaderKey(trimString(name))
			if name != "" && httpguts.ValidTrailerHeader(name) {
				w.declared = append(w.declared, name)
			}
		}
	}
	te := f.transferEncoding
	w.hasTE = te != ""
	w.teIdentity = te == "identity"
	bodyOK := bodyAllowedForStatus(code)
	w.mayAutoCL = !w.trailers && !w.hasTE && bodyOK && !f.contentLength
	hasCL := w.contentLength != -1
	if w.wantsClose {
		w.closeAfterReply = true
	}
	if f.connection == "close" || !keepAlives {
		w.closeAfterReply = true
	}
	w.sniff = false
	if bodyOK {
		w.sniff = f.contentEncoding == "" && !f.contentType && !w.hasTE
	} else {
		if code == http.StatusNotModified {
			del("Content-Type")
		}
		del("Content-Length")
		del("Transfer-Encoding")
	}
	w.wantDate = !f.date
	if hasCL && w.hasTE && !w.teIdentity {
		del("Content-Length")
		w.contentLength = -1
		hasCL = false
		w.mayAutoCL = false
	}
	switch {
	case w.isHEAD || !bodyOK:
		del("Transfer-Encoding")
	case hasCL:
		del("Transfer-Encoding")
	case w.hasTE && w.teIdentity:
		w.closeAfterReply = true
		del("Transfer-Encoding")
	case w.hasTE:
		// chunking for certain (no automatic Content-Length with a TE)
		del("Transfer-Encoding")
		del("Content-Length")
	default:
		// chunking unless the handler ends within the first buffer
	}
	w.setConnClose = false
	if w.closeAfterReply && (!keepAlives || !hasToken(f.connection, "close")) {
		del("Connection")
		w.setConnClose = true
	}
	b := appendStatusLine(w.head[:0], code)
	w.head = w.appendFields(b, excluded, w.trailers)
	w.excluded = excluded[:0]
}

// commit writes the response head to the connection; p is the start of
// the body (for the automatic Content-Length and Content-Type).
func (w *leanResponse) commit(p []byte) {
	w.committed = true
	bw := w.c.bw
	code := w.status
	bodyOK := bodyAllowedForStatus(code)
	var autoCL []byte
	if w.handlerDone && w.mayAutoCL && (!w.isHEAD || len(p) > 0) {
		w.contentLength = int64(len(p))
		var buf [20]byte
		autoCL = strconv.AppendInt(buf[:0], int64(len(p)), 10)
	}
	hasCL := w.contentLength != -1
	switch {
	case w.isHEAD || !bodyOK || hasCL:
	case w.hasTE && w.teIdentity:
	default:
		w.chunking = true
	}
	_, _ = bw.Write(w.head)
	if w.wantDate {
		_, _ = bw.WriteString("Date: ")
		_, _ = bw.Write(httpDate())
		_, _ = bw.WriteString("\r\n")
	}
	if autoCL != nil {
		_, _ = bw.WriteString("Content-Length: ")
		_, _ = bw.Write(autoCL)
		_, _ = bw.WriteString("\r\n")
	}
	if w.sniff && len(p) > 0 {
		_, _ = bw.WriteString("Content-Type: ")
		_, _ = bw.WriteString(http.DetectContentType(p))
		_, _ = bw.WriteString("\r\n")
	}
	if w.setConnClose {
		_, _ = bw.WriteString("Connection: close\r\n")
	}
	if w.chunking {
		_, _ = bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	_, _ = bw.WriteString("\r\n")
}

func (cw *leanChunkWriter) Write(p []byte) (int, error) {
	w := cw.r
	if !w.committed {
		w.commit(p)
	}
	if w.isHEAD {
		return len(p), nil
	}
	bw := w.c.bw
	if w.chunking {
		var buf [18]byte
		b := strconv.AppendInt(buf[:0], int64(len(p)), 16)
		b = append(b, '\r', '\n')
		_, _ = bw.Write(b)
	}
	n, err := bw.Write(p)
	if w.chunking && err == nil {
		_, err = bw.WriteString("\r\n")
	}
	if err != nil {
		w.c.writeFailed()
	}
	return n, err
}

func (w *leanResponse) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !bodyAllowedForStatus(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.written += int64(len(p))
	if w.contentLength != -1 && w.written > w.contentLength {
		return 0, http.ErrContentLength
	}
	return w.w.Write(p)
}

func (w *leanResponse) WriteString(s string) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if len(s) == 0 {
		return 0, nil
	}
	if !bodyAllowedForStatus(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.written += int64(len(s))
	if w.contentLength != -1 && w.written > w.contentLength {
		return 0, http.ErrContentLength
	}
	return w.w.WriteString(s)
}

func (w *leanResponse) Flush() { _ = w.FlushError() }

// FlushError sends what is buffered (committing the head, chunked when the
// length is unknown) to the client.
func (w *leanResponse) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	err := w.w.Flush()
	if !w.committed {
		w.commit(nil)
	}
	if e := w.c.bw.Flush(); err == nil {
		err = e
		if e != nil {
			w.c.writeFailed()
		}
	}
	return err
}

// SetReadDeadline and SetWriteDeadline serve http.ResponseController.
func (w *leanResponse) SetReadDeadline(t time.Time) error {
	w.c.readDeadlineChanged()
	return w.c.fc.SetReadDeadline(t)
}
func (w *leanResponse) SetWriteDeadline(t time.Time) error {
	w.c.writeDeadlineSet = true
	return w.c.fc.SetWriteDeadline(t)
}

// finish ends the response after the handler returned; it reports whether
// the connection may serve another request.
func (w *leanResponse) finish() bool {
	w.handlerDone = true
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	_ = w.w.Flush()
	if !w.committed {
		w.commit(nil)
	}
	bw := w.c.bw
	if w.chunking {
		_, _ = bw.WriteString("0\r\n")
		if t := w.finalTrailers(); t != nil {
			_ = t.Write(bw)
		}
		_, _ = bw.WriteString("\r\n")
	}
	if err := bw.Flush(); err != nil {
		w.c.writeFailed()
		return false
	}
	if w.closeAfterReply {
		return false
	}
	if !w.isHEAD && w.contentLength != -1 && bodyAllowedForStatus(w.status) && w.contentLength != w.written {
		return false // short body: the client cannot find the next response
	}
	return !w.c.failed
}

func (w *leanResponse) finalTrailers() http.Header {
	var t http.Header
	for k, vv := range w.handlerHeader {
		if kk, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			if t == nil {
				t = http.Header{}
			}
			t[kk] = vv
		}
	}
	for _, k := range w.declared {
		for _, v := range w.handlerHeader[k] {
			if t == nil {
				t = http.Header{}
			}
			t.Add(k, v)
		}
	}
	return t
}

// informationalExcluded are the fields a 1xx response leaves out.
var informationalExcluded = [...]string{"Content-Length", "Transfer-Encoding"}

// appendFields appends the header fields sorted by name, as net/http's
// Header.WriteSubset, leaving out the excluded names and, when
// trailerKeys, the http.TrailerPrefix ones: invalid names are dropped, CR
// and LF in values become spaces, values are trimmed.
func (w *leanResponse) appendFields(b []byte, excluded []string, trailerKeys bool) []byte {
	keys := w.keys[:0]
	for k := range w.handlerHeader {
		if slices.Contains(excluded, k) || trailerKeys && strings.HasPrefix(k, http.TrailerPrefix) {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		for _, v := range w.handlerHeader[k] {
			if strings.ContainsAny(v, "\r\n") {
				v = newlineToSpace.Replace(v)
			}
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, trimString(v)...)
			b = append(b, "\r\n"...)
		}
	}
	clear(keys)
	w.keys = keys[:0]
	return b
}

var newlineToSpace = strings.NewReplacer("\n", " ", "\r", " ")

// trimString is textproto.TrimString: ASCII space, tab, CR and LF.
func trimString(s string) string {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func appendStatusLine(b []byte, code int) []byte {
	b = append(b, "HTTP/1.1 "...)
	if text := http.StatusText(code); text != "" {
		b = strconv.AppendInt(b, int64(code), 10)
		b = append(b, ' ')
		b = append(b, text...)
		return append(b, "\r\n"...)
	}
	c := strconv.Itoa(code)
	for len(c) < 3 {
		c = "0" + c
	}
	b = append(b, c...)
	b = append(b, " status code "...)
	b = strconv.AppendInt(b, int64(code), 10)
	return append(b, "\r\n"...)
}

// handlerFields are the fields of a handler's header decideHeader reads
// (first values, or presence), found in one pass over the header rather
// than a map lookup each; decideHeader does not change the map.
type handlerFields struct {
	transferEncoding, connection, contentEncoding string
	contentLength, contentType, date              bool
	trailer                                       []string // the Trailer field's values
	trailerPrefixed                               bool     // a key starts with http.TrailerPrefix
}

func scanFields(h http.Header) (f handlerFields) {
	for k, v := range h {
		switch k {
		case "Transfer-Encoding":
			f.transferEncoding = firstValue(v)
		case "Connection":
			f.connection = firstValue(v)
		case "Content-Encoding":
			f.contentEncoding = firstValue(v)
		case "Content-Length":
			f.contentLength = true
		case "Content-Type":
			f.contentType = true
		case "Date":
			f.date = true
		case "Trailer":
			f.trailer = v
		default:
			if strings.HasPrefix(k, http.TrailerPrefix) {
				f.trailerPrefixed = true
			}
		}
	}
	return f
}

// headerGet is Header.Get for a canonical key, without the canonicalization.
func headerGet(h http.Header, k string) string { return firstValue(h[k]) }

// firstValue is a field's first value ("" for none).
func firstValue(v []string) string {
	if len(v) > 0 {
		return v[0]
	}
	return ""
}

// hasToken is net/http's: whether v contains token (case-insensitive,
// delimited by non-token bytes).
func hasToken(v, token string) bool {
	if len(token) > len(v) || token == "" {
		return false
	}
	if v == token {
		return true
	}
	for sp := 0; sp <= len(v)-len(token); sp++ {
		if b := v[sp]; b != token[0] && b|0x20 != token[0] {
			continue
		}
		if sp > 0 && !isTokenBoundary(v[sp-1]) {
			continue
		}
		if end := sp + len(token); end != len(v) && !isTokenBoundary(v[end]) {
			continue
		}
		if strings.EqualFold(v[sp:sp+len(token)], token) {
			return true
		}
	}
	return false
}

func isTokenBoundary(b byte) bool { return b == ' ' || b == ',' || b == '\t' }

// httpDate is the Date header value, formatted once per second.
func httpDate() []byte {
	now := time.Now()
	sec := now.Unix()
	if d := cachedDate.Load(); d != nil && d.sec == sec {
		return d.b
	}
	d := &dateEntry{sec: sec, b: now.UTC().AppendFormat(make([]byte, 0, 29), http.TimeFormat)}
	cachedDate.Store(d)
	return d.b
}

type dateEntry struct {
	sec int64
	b   []byte
}

var cachedDate atomic.Pointer[dateEntry]
