package server

import (
	"testing"
	"time"
)

// A listener on an address not assigned to this host still opens (it binds
// with IP_FREEBIND), so a virtual IP can move to the node later.
func TestListenerOnUnassignedAddressOpens(t *testing.T) {
	port := freePort(t)
	l := httpListener(t, port, backend(t, "vip"))
	// 192.0.2.0/24 is TEST-NET-1: never assigned here, and nothing is sent
	// to it; the test only binds.
	l.Address = "192.0.2.10"
	_, s := start(t, mustTable(t, l), Options{ShutdownTimeout: time.Second})
	if s.AddrOf(l.Key()) == nil {
		t.Fatal("listener on an unassigned address did not open")
	}
}
