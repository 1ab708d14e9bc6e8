package translate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

// resolveBackendRef resolves an HTTPRoute backendRef. It always returns a
// Backend (so the weight share of a bad one is answered with 500) and, when
// the reference is unusable, the ResolvedRefs reason.
func (t *translator) resolveBackendRef(routeNS string, ref gwv1.BackendObjectReference, weight int32) (*ir.Backend, *badRef) {
	group, kind := "", kindService
	if ref.Group != nil {
		group = string(*ref.Group)
	}
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	ns := routeNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	b := &ir.Backend{Namespace: ns, Name: string(ref.Name), Weight: max(weight, 0)}
	if ref.Port != nil {
		b.Port = *ref.Port
	}
	fail := func(reason gwv1.RouteConditionReason, format string, a ...any) (*ir.Backend, *badRef) {
		msg := fmt.Sprintf(format, a...)
		b.Invalid, b.InvalidReason = true, msg
		return b, &badRef{reason: reason, msg: msg}
	}
	if group != "" || kind != kindService {
		return fail(gwv1.RouteReasonInvalidKind, "%s is not supported as a backend; use a core Service", groupKind(group, kind))
	}
	if !t.ix.refAllowed(gatewayGroup, kindHTTPRoute, routeNS, "", kindService, ns, b.Name) {
		return fail(gwv1.RouteReasonRefNotPermitted, "Service %s/%s is in another namespace and no ReferenceGrant permits the reference", ns, b.Name)
	}
	if ref.Port == nil {
		return fail(gwv1.RouteReasonBackendNotFound, "port is required for Service %s/%s", ns, b.Name)
	}
	return t.resolveService(b, fail, func(p corev1.ServicePort) bool { return p.Port == b.Port }, fmt.Sprint(b.Port))
}

type failFunc func(reason gwv1.RouteConditionReason, format string, a ...any) (*ir.Backend, *badRef)

// resolveService finds the Service and port for b and fills appProtocol and
// endpoints. Ingress backends share it, selecting the port by name or number.
func (t *translator) resolveService(b *ir.Backend, fail failFunc, pick func(corev1.ServicePort) bool, portDesc string) (*ir.Backend, *badRef) {
	svc := t.ix.services[nn(b.Namespace, b.Name)]
	if svc == nil {
		return fail(gwv1.RouteReasonBackendNotFound, "Service %s/%s not found", b.Namespace, b.Name)
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return fail(gwv1.RouteReasonBackendNotFound, "Service %s/%s is of type ExternalName, which is not supported", b.Namespace, b.Name)
	}
	idx := slices.IndexFunc(svc.Spec.Ports, pick)
	if idx < 0 {
		return fail(gwv1.RouteReasonBackendNotFound, "Service %s/%s has no port %s", b.Namespace, b.Name, portDesc)
	}
	sp := svc.Spec.Ports[idx]
	b.Port = sp.Port
	if sp.AppProtocol != nil {
		b.AppProtocol = *sp.AppProtocol
		switch strings.ToLower(b.AppProtocol) {
		case "https", "kubernetes.io/wss":
			// Needs backend TLS, which this data plane does not do.
			return fail(gwv1.RouteReasonUnsupportedProtocol, "Service %s/%s port %d has appProtocol %q, which is not supported", b.Namespace, b.Name, sp.Port, b.AppProtocol)
		}
	}
	b.Endpoints = t.endpoints(svc, sp)
	return b, nil
}

// endpoints collects the addresses of a Service port from its EndpointSlices,
// sorted and de-duplicated. An empty result is a runtime 503, not an error.
func (t *translator) endpoints(svc *corev1.Service, sp corev1.ServicePort) []ir.Endpoint {
	var out []ir.Endpoint
	for _, es := range t.ix.slices[nn(svc.Namespace, svc.Name)] {
		if es.AddressType != discoveryv1.AddressTypeIPv4 && es.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		var port int32
		found := false
		for _, p := range es.Ports {
			name := ""
			if p.Name != nil {
				name = *p.Name
			}
			if name == sp.Name && p.Port != nil {
				port, found = *p.Port, true
				break
			}
		}
		if !found {
			continue
		}
		for _, ep := range es.Endpoints {
			// Nil ready and serving mean true; nil terminating means false
			// (EndpointConditions API docs).
			ready := ep.Conditions.Ready == nil || *ep.Conditions.Ready
			serving := ready
			if ep.Conditions.Serving != nil {
				serving = *ep.Conditions.Serving
			}
			terminating := ep.Conditions.Terminating != nil && *ep.Conditions.Terminating
			for _, addr := range ep.Addresses {
				out = append(out, ir.Endpoint{Address: addr, Port: port, Ready: ready, Serving: serving, Terminating: terminating})
			}
		}
	}
	slices.SortFunc(out, func(a, b ir.Endpoint) int {
		return cmp.Or(strings.Compare(a.Address, b.Address), cmp.Compare(a.Port, b.Port))
	})
	return slices.CompactFunc(out, func(a, b ir.Endpoint) bool { return a.Address == b.Address && a.Port == b.Port })
}

func groupKind(group, kind string) string {
	if group == "" {
		return "core/" + kind
	}
	return group + "/" + kind
}
