package echo

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/websocket"
)

// Identity is what the backend says about the Pod serving it.
type Identity struct {
	Namespace string
	Pod       string
	Image     string
	// Service is the Pod's name without its ReplicaSet and Pod suffixes;
	// informational only.
	Service string
}

// Response is the JSON body of every answer.
type Response struct {
	Path      string              `json:"path"`
	Host      string              `json:"host"`
	Method    string              `json:"method"`
	Proto     string              `json:"proto"`
	Headers   map[string][]string `json:"headers"`
	Namespace string              `json:"namespace"`
	Ingress   string              `json:"ingress"`
	Service   string              `json:"service"`
	Pod       string              `json:"pod"`
	Image     string              `json:"image"`
	TLS       *TLSInfo            `json:"tls,omitempty"`
	// BodyLength and BodySHA256 describe the request body the backend
	// received, when there was one, so a client can check that its body
	// came through whole.
	BodyLength int64  `json:"bodyLength,omitempty"`
	BodySHA256 string `json:"bodySHA256,omitempty"`
}

// TLSInfo describes the connection when the backend itself terminated TLS.
type TLSInfo struct {
	Version            string   `json:"version"`
	PeerCertificates   []string `json:"peerCertificates,omitempty"`
	ServerName         string   `json:"serverName"`
	NegotiatedProtocol string   `json:"negotiatedProtocol,omitempty"`
	CipherSuite        string   `json:"cipherSuite"`
}

// maxDelay bounds ?delay= so a request can never hold a backend for long.
const maxDelay = 30 * time.Second

// Handler answers with the request's description. It honours the contract's
// knobs: `X-Echo-Set-Header: name:value[,name:value]` sets response headers,
// a path `/status/N` answers with status N, and `?delay=<duration>` waits
// before answering (timeouts tests). A WebSocket upgrade on /ws is answered
// by an echo of every frame, text or binary, with its own type (Gateway API
// conformance, HTTPRouteBackendProtocolWebSocket); GET /sse streams
// server-sent events (see serveEvents). Both end cleanly when the server
// stops (see WithStopping).
func Handler(id Identity) http.Handler { return FaultyHandler(id, Faults{}) }

// FaultyHandler is Handler misbehaving as f says, except towards readiness
// probes: every request waits f.Delay (on top of ?delay=, within the same
// bound), and f.FailPercent of them are answered 500 with the usual body
// and the header X-Echo-Fault: injected, so a test can tell an injected
// failure from a real one and still see which Pod answered.
func FaultyHandler(id Identity, f Faults) http.Handler {
	ws := websocket.Server{Handler: echoFrames}
	failing := newFailer(f.FailPercent)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		probe := IsProbe(r)
		var delay time.Duration
		if !probe {
			delay = f.Delay
		}
		if d := r.URL.Query().Get("delay"); d != "" {
			if dur, err := time.ParseDuration(d); err == nil && dur > 0 {
				delay += dur
			}
		}
		if delay > 0 {
			select {
			case <-time.After(min(delay, maxDelay)):
			case <-r.Context().Done():
				return
			}
		}
		status := http.StatusOK
		switch {
		case !probe && failing.fail():
			status = http.StatusInternalServerError
			w.Header().Set("X-Echo-Fault", "injected")
		case r.URL.Path == "/ws" && strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
			ws.ServeHTTP(w, r)
			return
		case r.URL.Path == "/sse":
			serveEvents(w, r, id)
			return
		}
		setHeaders(w.Header(), r.Header.Values("X-Echo-Set-Header"))
		if rest, ok := strings.CutPrefix(r.URL.Path, "/status/"); ok && status == http.StatusOK {
			if n, err := strconv.Atoi(rest); err == nil && n >= 100 && n <= 599 {
				status = n
			}
		}
		desc := describe(r, id)
		var err error
		if desc.BodyLength, desc.BodySHA256, err = digestBody(r.Body); err != nil {
			http.Error(w, "read request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		body, err := json.MarshalIndent(desc, "", " ")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

// maxBody bounds the request body digestBody reads.
const maxBody = 64 << 20

// digestBody reads the request body and returns its length and SHA-256
// (empty when there was no body).
func digestBody(body io.Reader) (int64, string, error) {
	if body == nil || body == http.NoBody {
		return 0, "", nil
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(body, maxBody+1))
	switch {
	case err != nil:
		return 0, "", err
	case n > maxBody:
		return 0, "", fmt.Errorf("longer than %d bytes", maxBody)
	case n == 0:
		return 0, "", nil
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

func describe(r *http.Request, id Identity) Response {
	headers := make(map[string][]string, len(r.Header))
	for k, v := range r.Header {
		headers[k] = v
	}
	resp := Response{
		Path: r.URL.RequestURI(), Host: r.Host, Method: r.Method, Proto: r.Proto, Headers: headers,
		Namespace: id.Namespace, Pod: id.Pod, Service: id.Service, Image: id.Image,
	}
	if r.TLS != nil {
		resp.TLS = tlsInfo(r.TLS)
	}
	return resp
}

// setHeaders applies X-Echo-Set-Header values ("name:value,name:value").
func setHeaders(h http.Header, values []string) {
	for _, v := range values {
		for pair := range strings.SplitSeq(v, ",") {
			name, value, ok := strings.Cut(pair, ":")
			if name = strings.TrimSpace(name); ok && name != "" {
				h.Set(name, strings.TrimSpace(value))
			}
		}
	}
}

func tlsInfo(s *tls.ConnectionState) *TLSInfo {
	info := &TLSInfo{
		Version:            tls.VersionName(s.Version),
		ServerName:         s.ServerName,
		NegotiatedProtocol: s.NegotiatedProtocol,
		CipherSuite:        tls.CipherSuiteName(s.CipherSuite),
	}
	for _, c := range s.PeerCertificates {
		info.PeerCertificates = append(info.PeerCertificates, c.Subject.String())
	}
	return info
}

// frame is one WebSocket message with its payload type (text or binary).
type frame struct {
	data []byte
	typ  byte
}

var frameCodec = websocket.Codec{
	Marshal: func(v any) ([]byte, byte, error) {
		f := v.(frame)
		return f.data, f.typ, nil
	},
	Unmarshal: func(data []byte, typ byte, v any) error {
		f := v.(*frame)
		f.data, f.typ = data, typ
		return nil
	},
}

// echoFrames sends every message back as it came until the peer closes,
// or until the server stops (see WithStopping): then it sends a close
// frame and closes the connection, as a well-behaved app does on SIGTERM.
func echoFrames(ws *websocket.Conn) {
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-stopping(ws.Request().Context()):
			// Close writes a close frame (1000) before closing; a Send in
			// progress finishes first (both take the write lock).
			_ = ws.Close()
		case <-done:
		}
	}()
	defer func() { _ = ws.Close() }()
	for {
		var f frame
		if err := frameCodec.Receive(ws, &f); err != nil {
			return
		}
		if err := frameCodec.Send(ws, f); err != nil {
			return
		}
	}
}
