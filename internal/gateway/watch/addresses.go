package watch

import (
	"net"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Addresses says where clients reach this data plane: Static wins (the
// --gateway-address flag), else the gateway's own Service: its
// load-balancer ingress, else its external IPs, else its cluster IP.
// Ingresses, and Gateways when Pool is empty, are served there. With a
// Pool, every Gateway gets an address of its own from it instead.
type Addresses struct {
	Static  []string
	Service types.NamespacedName
	Pool    Pool
}

// resolve returns the addresses for the snapshot's Services.
func (a Addresses) resolve(services []*corev1.Service) []string {
	if len(a.Static) > 0 {
		return a.Static
	}
	if a.Service.Name == "" {
		return nil
	}
	i := slices.IndexFunc(services, func(s *corev1.Service) bool {
		return s.Namespace == a.Service.Namespace && s.Name == a.Service.Name
	})
	if i < 0 {
		return nil
	}
	svc := services[i]
	var out []string
	for _, in := range svc.Status.LoadBalancer.Ingress {
		switch {
		case in.IP != "":
			out = append(out, in.IP)
		case in.Hostname != "":
			out = append(out, in.Hostname)
		}
	}
	if len(out) > 0 {
		return out
	}
	if len(svc.Spec.ExternalIPs) > 0 {
		return slices.Clone(svc.Spec.ExternalIPs)
	}
	for _, ip := range svc.Spec.ClusterIPs {
		if ip != "" && ip != corev1.ClusterIPNone {
			out = append(out, ip)
		}
	}
	return out
}

func gatewayAddresses(addrs []string) []gwv1.GatewayStatusAddress {
	out := make([]gwv1.GatewayStatusAddress, 0, len(addrs))
	for _, a := range addrs {
		t := gwv1.HostnameAddressType
		if net.ParseIP(a) != nil {
			t = gwv1.IPAddressType
		}
		out = append(out, gwv1.GatewayStatusAddress{Type: &t, Value: a})
	}
	return out
}

func ingressAddresses(addrs []string) []networkingv1.IngressLoadBalancerIngress {
	out := make([]networkingv1.IngressLoadBalancerIngress, 0, len(addrs))
	for _, a := range addrs {
		if net.ParseIP(a) != nil {
			out = append(out, networkingv1.IngressLoadBalancerIngress{IP: a})
		} else {
			out = append(out, networkingv1.IngressLoadBalancerIngress{Hostname: a})
		}
	}
	return out
}
