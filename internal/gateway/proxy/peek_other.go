//go:build !linux

package proxy

import "net"

// peekFD: no descriptor is looked at on this platform.
func peekFD(net.Conn) int { return -1 }

// unsolicited cannot look at an idle connection without reading it on
// this platform; the retry of a request that failed before any response
// byte covers a backend that closed it.
func unsolicited(int) bool { return false }
