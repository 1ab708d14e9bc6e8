package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"
)

// Options harden and place the data-plane listeners.
type Options struct {
	// BindAddress is the IP every listener binds; empty means all.
	BindAddress string
	// PortOffset is added to every table port when binding (tests, or
	// running unprivileged without the port sysctl); routing still uses
	// the table port.
	PortOffset int32
	// ReadHeaderTimeout cuts off clients that send headers slowly
	// (slowloris); it also bounds the TLS handshake.
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes keep-alive connections with no request.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds request headers (431 above it).
	MaxHeaderBytes int
	// HTTP/2 limits.
	MaxConcurrentStreams uint32
	MaxReadFrameSize     uint32
	// ReusePort binds listeners with SO_REUSEPORT (Linux), so that two
	// gateway processes serve the same address and port; see listen.
	ReusePort bool
	// HTTP1Engine serves HTTP/1.1 connections: EngineLean (the default)
	// or EngineNetHTTP. The lean engine hands every request it does not
	// take to net/http on the same connection; see lean.go.
	HTTP1Engine string
	// ShutdownTimeout bounds draining a listener that is closed.
	ShutdownTimeout time.Duration
	Logger          *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.ReadHeaderTimeout == 0 {
		o.ReadHeaderTimeout = 10 * time.Second
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 120 * time.Second
	}
	if o.MaxHeaderBytes == 0 {
		o.MaxHeaderBytes = 64 << 10
	}
	if o.MaxConcurrentStreams == 0 {
		o.MaxConcurrentStreams = 250
	}
	if o.MaxReadFrameSize == 0 {
		o.MaxReadFrameSize = 1 << 20
	}
	if o.HTTP1Engine == "" {
		o.HTTP1Engine = defaultEngine
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// cipherSuites are the TLS 1.2 suites offered: AEAD with forward secrecy
// only. TLS 1.3 suites are not configurable and are all modern.
var cipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// defaultEngine is the engine of Options without one; the package's tests
// run on either (PYLON_TEST_HTTP1_ENGINE).
var defaultEngine = EngineLean

// CheckEngine reports whether name is an HTTP/1.1 engine ("" is the default).
func CheckEngine(name string) error {
	switch name {
	case "", EngineLean, EngineNetHTTP:
		return nil
	}
	return fmt.Errorf("unknown HTTP/1.1 engine %q: want %q or %q", name, EngineLean, EngineNetHTTP)
}
