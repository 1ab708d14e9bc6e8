package watch

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/internal/gateway/translate"
)

// Pool is a set of IPs the data plane hands out, one per Gateway of its
// classes, so that Gateways never share a port: each Gateway's listeners
// bind its own address. The addresses must reach the gateway's Pods: on the
// node (hostNetwork) or announced to it (kube-vip, keepalived, MetalLB in
// L2 mode); listeners bind with IP_FREEBIND, so an address may arrive after
// the listener opens.
type Pool []netip.Prefix

// ParsePool reads a comma-separated list of CIDRs and single IPs.
func ParsePool(s string) (Pool, error) {
	var p Pool
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("address pool entry %q: %w", f, err)
			}
			p = append(p, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		pr, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("address pool entry %q: %w", f, err)
		}
		if pr != pr.Masked() {
			return nil, fmt.Errorf("address pool entry %q has host bits set; did you mean %s?", f, pr.Masked())
		}
		p = append(p, pr)
	}
	return p, nil
}

func (p Pool) contains(a netip.Addr) bool {
	return slices.ContainsFunc(p, func(pr netip.Prefix) bool { return pr.Contains(a) && usable(pr, a) })
}

// usable leaves out the network and broadcast addresses of IPv4 prefixes
// wider than /31, which some routers and clients refuse.
func usable(pr netip.Prefix, a netip.Addr) bool {
	if !a.Is4() || pr.Bits() >= 31 {
		return true
	}
	if a == pr.Addr() {
		return false
	}
	return a != lastAddr(pr)
}

func lastAddr(pr netip.Prefix) netip.Addr {
	b := pr.Addr().As4()
	host := 32 - pr.Bits()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= (1 << host) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// next returns the lowest pool address not in taken.
func (p Pool) next(taken map[netip.Addr]bool) (netip.Addr, bool) {
	for _, pr := range p {
		for a := pr.Addr(); a.IsValid() && pr.Contains(a); a = a.Next() {
			if usable(pr, a) && !taken[a] {
				return a, true
			}
		}
	}
	return netip.Addr{}, false
}

// Assign gives each Gateway of our classes one pool address. In order of
// precedence (oldest Gateway first, then namespace/name):
//  1. an IP the Gateway asks for in spec.addresses, when it is in the pool
//     and free; a Gateway that asks only for addresses outside the pool
//     gets none (its status says AddressNotUsable);
//  2. the pool address in its status, so addresses stay put across
//     restarts and every replica agrees;
//  3. the lowest free address.
//
// A Gateway left out has no address (the pool is exhausted).
func (p Pool) Assign(classes []*gwv1.GatewayClass, gateways []*gwv1.Gateway) map[types.NamespacedName]string {
	ours := map[string]bool{}
	for _, c := range classes {
		if c != nil && c.Spec.ControllerName == translate.ControllerName {
			ours[c.Name] = true
		}
	}
	var gws []*gwv1.Gateway
	for _, g := range gateways {
		if g != nil && ours[string(g.Spec.GatewayClassName)] {
			gws = append(gws, g)
		}
	}
	slices.SortStableFunc(gws, func(a, b *gwv1.Gateway) int {
		return cmp.Or(a.CreationTimestamp.Compare(b.CreationTimestamp.Time),
			cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})

	out := make(map[types.NamespacedName]string, len(gws))
	taken := map[netip.Addr]bool{}
	take := func(g *gwv1.Gateway, a netip.Addr) {
		taken[a] = true
		out[types.NamespacedName{Namespace: g.Namespace, Name: g.Name}] = a.String()
	}
	done := func(g *gwv1.Gateway) bool {
		_, ok := out[types.NamespacedName{Namespace: g.Namespace, Name: g.Name}]
		return ok
	}
	asksElsewhere := map[*gwv1.Gateway]bool{}
	for _, g := range gws {
		for _, want := range g.Spec.Addresses {
			if want.Type != nil && *want.Type != gwv1.IPAddressType {
				continue // not an IP: the Gateway is not accepted at all
			}
			if want.Value == "" {
				continue // any address will do (GatewayAddressEmpty)
			}
			a, err := netip.ParseAddr(want.Value)
			if err == nil && p.contains(a) && !taken[a] {
				take(g, a)
				break
			}
			asksElsewhere[g] = true
		}
	}
	for _, g := range gws {
		if done(g) || asksElsewhere[g] {
			continue
		}
		for _, st := range g.Status.Addresses {
			a, err := netip.ParseAddr(st.Value)
			if err == nil && p.contains(a) && !taken[a] {
				take(g, a)
				break
			}
		}
	}
	for _, g := range gws {
		if done(g) || asksElsewhere[g] {
			continue
		}
		if a, ok := p.next(taken); ok {
			take(g, a)
		}
	}
	return out
}
