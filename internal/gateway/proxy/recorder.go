package proxy

import (
	"net/http"
)

// recorder notes the status and body size for logs and metrics. Unwrap
// lets http.ResponseController reach Flush and Hijack (WebSocket) of the
// underlying writer.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	// progress, when set, is told that response bytes are moving.
	progress func()
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 || code == http.StatusSwitchingProtocols {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	if n > 0 && r.progress != nil {
		r.progress()
	}
	return n, err
}

// Flush is called directly by ReverseProxy's streaming writer.
func (r *recorder) Flush() {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	_ = http.NewResponseController(r.ResponseWriter).Flush()
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
