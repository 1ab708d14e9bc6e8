package translate

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/contract"
)

// The controller names live in the contract package: the manager writes
// them into the classes and children it creates.
const (
	// ControllerName is the GatewayClass controllerName this data plane serves.
	ControllerName gwv1.GatewayController = contract.GatewayControllerName
	// IngressControllerName is the IngressClass spec.controller this data plane serves.
	IngressControllerName = contract.IngressControllerName
)

// Snapshot is the whole world the translator sees. Slices may be in any
// order and may contain objects of other controllers; they are not modified.
type Snapshot struct {
	GatewayClasses  []*gwv1.GatewayClass
	Gateways        []*gwv1.Gateway
	ListenerSets    []*gwv1.ListenerSet
	HTTPRoutes      []*gwv1.HTTPRoute
	ReferenceGrants []*gwv1beta1.ReferenceGrant
	Namespaces      []*corev1.Namespace
	Ingresses       []*networkingv1.Ingress
	IngressClasses  []*networkingv1.IngressClass
	Services        []*corev1.Service
	EndpointSlices  []*discoveryv1.EndpointSlice
	Secrets         []*corev1.Secret
	// HostnameClaims decide which namespace owns a WebApp's hostname.
	HostnameClaims []*pylonv1alpha1.HostnameClaim

	Options Options
}

// Options are facts the translator cannot derive from objects.
type Options struct {
	// GatewayAddresses are the addresses each Gateway is reachable at
	// (e.g. from the data plane's Service). A Gateway without an entry is
	// not Programmed (AddressNotAssigned).
	GatewayAddresses map[types.NamespacedName][]gwv1.GatewayStatusAddress
	// GatewayBindAddresses, when not nil, gives each Gateway an IP of its
	// own (the data plane's address pool): its listeners are served there
	// only, so Gateways never share a port. A Gateway missing from a
	// non-nil map has no address yet and is not served. Nil: every Gateway
	// shares the data plane's address, and Gateways on one port are merged.
	GatewayBindAddresses map[types.NamespacedName]string
	// IngressLoadBalancer is written to status.loadBalancer of every Ingress
	// this data plane serves.
	IngressLoadBalancer []networkingv1.IngressLoadBalancerIngress
	// IngressHTTPPort and IngressHTTPSPort are the ports Ingresses are served
	// on; zero means 80 and 443.
	IngressHTTPPort  int32
	IngressHTTPSPort int32
	// CRDBundleVersion is the gateway.networking.k8s.io/bundle-version of the
	// installed CRDs; empty means unknown and is assumed supported.
	CRDBundleVersion string
}

func (o Options) ingressHTTPPort() int32 {
	if o.IngressHTTPPort == 0 {
		return 80
	}
	return o.IngressHTTPPort
}

func (o Options) ingressHTTPSPort() int32 {
	if o.IngressHTTPSPort == 0 {
		return 443
	}
	return o.IngressHTTPSPort
}
