package proxy

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync/atomic"
)

// headerRequestID correlates the access log, the backend and the client.
const headerRequestID = "X-Request-Id"

// Generated ids are a random per-process prefix followed by a counter: as
// unique as a fresh random id per request for correlation purposes (two
// replicas collide only if their 64-bit prefixes do), without a
// crypto/rand read on every request. They are not secrets and must not be
// used as such.
var (
	requestIDPrefix  = newRequestIDPrefix()
	requestIDCounter atomic.Uint64
)

func newRequestIDPrefix() [16]byte {
	var b [8]byte
	_, _ = rand.Read(b[:])
	var out [16]byte
	hex.Encode(out[:], b[:])
	return out
}

// newRequestID returns 32 hex digits: 16 of prefix, 16 of counter.
func newRequestID() string {
	n := requestIDCounter.Add(1)
	var b [32]byte
	copy(b[:16], requestIDPrefix[:])
	const digits = "0123456789abcdef"
	for i := 31; i >= 16; i-- {
		b[i] = digits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

// takeRequestID makes the request's X-Request-Id x's, generating one (and
// setting it on the request) when absent or unreasonably long.
func (x *exchange) takeRequestID(r *http.Request) {
	x.id[0] = r.Header.Get(headerRequestID)
	if x.id[0] == "" || len(x.id[0]) > 128 {
		x.id[0] = newRequestID()
		r.Header[headerRequestID] = x.idHeader()
	}
}
