//go:build !linux

package proxy

import "net"

// unsolicited cannot look at an idle connection without reading it on
// this platform; the retry of a request that failed before any response
// byte covers a backend that closed it.
func unsolicited(net.Conn) bool { return false }
