package main

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/internal/gateway/translate"
)

// The benchmark world: one GatewayClass and Gateway, and n HTTPRoutes each
// with its own Service and EndpointSlice pointing at the benchmark backend.
// Route 0 has no hostname so that wrk's Host (127.0.0.1:port) reaches it;
// the others are r<i>.bench.test. Going through the real translator keeps
// the table (and so per-route state and memory) the shape production has.
const (
	benchNS      = "bench"
	gatewayName  = "bench"
	tlsSecret    = "bench-tls"
	benchSvcPort = 80
)

type world struct {
	class    *gwv1.GatewayClass
	gateway  *gwv1.Gateway
	secret   *corev1.Secret
	routes   []*gwv1.HTTPRoute
	services []*corev1.Service
	slices   []*discoveryv1.EndpointSlice
}

// newWorld builds n routes on a Gateway listening on port (HTTPS with
// cert/key PEM when cert is non-empty) to a backend on 127.0.0.1:upstream.
// With catchAll, route 0 matches every host on "/"; without, every route
// has its own hostname and the path prefix /v0, and its endpoint is a
// not-ready TEST-NET address: the API server refuses loopback endpoints,
// and the propagation benchmark only needs to see which route answered
// (503 "no ready endpoint for this route" from the route, 404 without it).
func newWorld(n int, port, upstream int32, cert, key []byte, catchAll bool) *world {
	w := &world{class: &gwv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: "pylon", Generation: 1},
		Spec:       gwv1.GatewayClassSpec{ControllerName: translate.ControllerName},
	}}
	l := gwv1.Listener{Name: "web", Port: port, Protocol: gwv1.HTTPProtocolType,
		AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: ptr.To(gwv1.NamespacesFromSame)}}}
	if len(cert) > 0 {
		l.Protocol = gwv1.HTTPSProtocolType
		l.TLS = &gwv1.ListenerTLSConfig{Mode: ptr.To(gwv1.TLSModeTerminate),
			CertificateRefs: []gwv1.SecretObjectReference{{Name: tlsSecret}}}
		w.secret = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: tlsSecret, Namespace: benchNS},
			Type: corev1.SecretTypeTLS, Data: map[string][]byte{corev1.TLSCertKey: cert, corev1.TLSPrivateKeyKey: key}}
	}
	w.gateway = &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: gatewayName, Namespace: benchNS, Generation: 1},
		Spec:       gwv1.GatewaySpec{GatewayClassName: "pylon", Listeners: []gwv1.Listener{l}},
	}
	addr := "127.0.0.1"
	if !catchAll {
		addr = "192.0.2.1"
	}
	for i := range n {
		if catchAll {
			w.routes = append(w.routes, newRoute(i, "/", i > 0))
		} else {
			w.routes = append(w.routes, newRoute(i, "/v0", true))
		}
		name := fmt.Sprintf("svc-%d", i)
		w.services = append(w.services, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: benchNS},
			// Headless: envtest's service IP range holds only a few hundred.
			Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Name: "http", Port: benchSvcPort, Protocol: corev1.ProtocolTCP}}},
		})
		w.slices = append(w.slices, &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: name + "-1", Namespace: benchNS, Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To(upstream), Protocol: ptr.To(corev1.ProtocolTCP)}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{addr}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(catchAll)}}},
		})
	}
	return w
}

// newRoute is route i, for host r<i>.bench.test when withHost; prefix is
// its path match, which the propagation benchmark changes.
func newRoute(i int, prefix string, withHost bool) *gwv1.HTTPRoute {
	r := &gwv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("r-%d", i), Namespace: benchNS, Generation: 1,
			CreationTimestamp: metav1.Date(2026, 1, 1, 0, 0, i, 0, time.UTC)},
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: gatewayName}}},
			Rules: []gwv1.HTTPRouteRule{{
				Matches:     []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To(prefix)}}},
				BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: gwv1.ObjectName(fmt.Sprintf("svc-%d", i)), Port: ptr.To(gwv1.PortNumber(benchSvcPort))}}}},
			}},
		},
	}
	if withHost {
		r.Spec.Hostnames = []gwv1.Hostname{gwv1.Hostname(routeHost(i))}
	}
	return r
}

// snapshot is the translator's input for this world.
func (w *world) snapshot() *translate.Snapshot {
	s := &translate.Snapshot{
		GatewayClasses: []*gwv1.GatewayClass{w.class},
		Gateways:       []*gwv1.Gateway{w.gateway},
		HTTPRoutes:     w.routes,
		Services:       w.services,
		EndpointSlices: w.slices,
		Namespaces:     []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: benchNS}}},
		Options: translate.Options{GatewayAddresses: map[types.NamespacedName][]gwv1.GatewayStatusAddress{
			{Namespace: benchNS, Name: gatewayName}: {{Type: ptr.To(gwv1.IPAddressType), Value: "127.0.0.1"}},
		}},
	}
	if w.secret != nil {
		s.Secrets = []*corev1.Secret{w.secret}
	}
	return s
}

// objects lists every object, in creation order, for an API server.
func (w *world) objects() []client.Object {
	out := []client.Object{w.class, w.gateway}
	if w.secret != nil {
		out = append(out, w.secret)
	}
	for i := range w.routes {
		out = append(out, w.services[i], w.slices[i], w.routes[i])
	}
	return out
}

func routeHost(i int) string { return fmt.Sprintf("r%d.bench.test", i) }
