package proxy

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// headerRequestID correlates the access log, the backend and the client.
const headerRequestID = "X-Request-Id"

// requestID returns the request's X-Request-Id, generating one (and setting
// it on the request) when absent or unreasonably long.
func requestID(r *http.Request) string {
	if id := r.Header.Get(headerRequestID); id != "" && len(id) <= 128 {
		return id
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	r.Header.Set(headerRequestID, id)
	return id
}
