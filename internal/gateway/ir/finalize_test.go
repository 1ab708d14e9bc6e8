package ir

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// chainByScan is the definition of a chain, written the obvious way (and
// the way Finalize once computed it, quadratic in hosts): a host's chain is
// the routes of every host of the same listener group whose pattern covers
// it, in host precedence order; an owned host takes only its owner's
// routes from the others.
func chainByScan(l *Listener, vh *VirtualHost) []*Route {
	var chain []*Route
	for _, other := range l.VirtualHosts {
		if other.ListenerHostname != vh.ListenerHostname || !PatternCovers(other.Hostname, vh.Hostname) {
			continue
		}
		for _, r := range other.Routes {
			if vh.Owner == "" || other == vh || r.Source.Namespace == vh.Owner {
				chain = append(chain, r)
			}
		}
	}
	return chain
}

// TestChainsMatchDefinition builds random listeners of exact names,
// wildcards at every depth, catch-alls, a few listener-isolation groups,
// owners and duplicate hostnames, and checks every chain Finalize built
// against chainByScan.
func TestChainsMatchDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	labels := []string{"a", "b", "c", "x"}
	name := func() string {
		n := 1 + rng.IntN(4)
		h := ""
		for i := range n {
			if i > 0 {
				h += "."
			}
			h += labels[rng.IntN(len(labels))]
		}
		return h
	}
	hostname := func() string {
		switch rng.IntN(10) {
		case 0:
			return ""
		case 1, 2, 3:
			return "*." + name()
		default:
			return name()
		}
	}
	namespaces := []string{"ns1", "ns2", "ns3"}
	checked, nonTrivial := 0, 0
	for round := range 200 {
		l := &Listener{Port: 80, Protocol: ProtocolHTTP}
		for i := range 1 + rng.IntN(30) {
			vh := &VirtualHost{Hostname: hostname(), ListenerHostname: []string{"", "*.a", "b.a"}[rng.IntN(3)], Listeners: []string{"l"}}
			if rng.IntN(4) == 0 {
				vh.Owner = namespaces[rng.IntN(len(namespaces))]
			}
			for j := range rng.IntN(3) {
				vh.Routes = append(vh.Routes, &Route{
					Source:   Source{Kind: "HTTPRoute", Namespace: namespaces[rng.IntN(len(namespaces))], Name: fmt.Sprintf("r%d-%d-%d", round, i, j)},
					Listener: "l", Path: mustPath(t, PathPrefix, "/"), Action: okAction,
				})
			}
			l.VirtualHosts = append(l.VirtualHosts, vh)
		}
		tb := &Table{Listeners: []*Listener{l}}
		tb.Finalize()
		for _, vh := range l.VirtualHosts {
			want := chainByScan(l, vh)
			if got := vh.Chain(); !slices.Equal(got, want) {
				t.Fatalf("round %d: chain of %q (group %q, owner %q) = %v, want %v", round, vh.Hostname, vh.ListenerHostname, vh.Owner, names(got), names(want))
			}
			checked++
			if len(want) > len(vh.Routes) {
				nonTrivial++
			}
		}
	}
	// The test is only worth something if many chains reach beyond the
	// host's own routes.
	if nonTrivial < checked/4 {
		t.Fatalf("only %d of %d chains include other hosts' routes: the generator is too sparse", nonTrivial, checked)
	}
}

func names(rs []*Route) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Source.Name
	}
	return out
}
