package watch

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// bumped is obj after a write the gateway does not read: a new
// resourceVersion and managedFields entry, as every write brings.
func bumped[T client.Object](obj T, edit func(T)) T {
	n := obj.DeepCopyObject().(T)
	n.SetResourceVersion(obj.GetResourceVersion() + "1")
	n.SetManagedFields(append(n.GetManagedFields(), metav1.ManagedFieldsEntry{Manager: "someone", Operation: metav1.ManagedFieldsOperationUpdate}))
	if edit != nil {
		edit(n)
	}
	return n
}

func TestRelevantUpdate(t *testing.T) {
	meta := metav1.ObjectMeta{Namespace: "team-a", Name: "shop", ResourceVersion: "7", Generation: 3, Labels: map[string]string{"app": "shop"}}
	route := &gwv1.HTTPRoute{ObjectMeta: meta, Spec: gwv1.HTTPRouteSpec{Hostnames: []gwv1.Hostname{"shop.example.com"}}}
	gateway := &gwv1.Gateway{ObjectMeta: meta, Spec: gwv1.GatewaySpec{GatewayClassName: "pylon"}}
	svc := &corev1.Service{ObjectMeta: meta, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
	slice := &discoveryv1.EndpointSlice{ObjectMeta: meta, AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}}}
	ing := &networkingv1.Ingress{ObjectMeta: meta, Spec: networkingv1.IngressSpec{IngressClassName: ptr.To("pylon")}}
	secret := &corev1.Secret{ObjectMeta: meta, Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": []byte("a")}}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a", ResourceVersion: "1"}}
	parent := gwv1.RouteParentStatus{ControllerName: "pylon.dev/gateway", ParentRef: gwv1.ParentReference{Name: "web"},
		Conditions: []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, ObservedGeneration: 3}}}

	for _, c := range []struct {
		name     string
		old, new any
		want     bool
	}{
		{"HTTPRoute status written", route, bumped(route, func(r *gwv1.HTTPRoute) { r.Status.Parents = []gwv1.RouteParentStatus{parent} }), false},
		{"HTTPRoute resync", route, route, false},
		{"HTTPRoute spec changed", route, bumped(route, func(r *gwv1.HTTPRoute) {
			r.Generation++
			r.Spec.Hostnames = append(r.Spec.Hostnames, "other.example.com")
		}), true},
		{"HTTPRoute annotation changed", route, bumped(route, func(r *gwv1.HTTPRoute) { r.Annotations = map[string]string{"a": "b"} }), true},
		{"Gateway conditions written", gateway, bumped(gateway, func(g *gwv1.Gateway) {
			g.Status.Conditions = []metav1.Condition{{Type: "Programmed", Status: metav1.ConditionTrue}}
			g.Status.Listeners = []gwv1.ListenerStatus{{Name: "http", AttachedRoutes: 4}}
		}), false},
		{"Gateway address assigned", gateway, bumped(gateway, func(g *gwv1.Gateway) {
			g.Status.Addresses = []gwv1.GatewayStatusAddress{{Value: "10.1.0.1"}}
		}), true},
		{"Gateway spec changed", gateway, bumped(gateway, func(g *gwv1.Gateway) { g.Generation++; g.Spec.GatewayClassName = "other" }), true},
		{"Service resourceVersion only", svc, bumped(svc, nil), false},
		{"Service port changed", svc, bumped(svc, func(s *corev1.Service) { s.Spec.Ports[0].Port = 8080 }), true},
		{"Service label changed", svc, bumped(svc, func(s *corev1.Service) { s.Labels = map[string]string{"app": "cart"} }), true},
		{"Service load balancer address", svc, bumped(svc, func(s *corev1.Service) {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}}
		}), true},
		{"EndpointSlice resourceVersion only", slice, bumped(slice, nil), false},
		{"EndpointSlice trigger time only", slice, bumped(slice, func(s *discoveryv1.EndpointSlice) {
			s.Annotations = map[string]string{"endpoints.kubernetes.io/last-change-trigger-time": "2026-12-02T05:00:00Z"}
		}), false},
		{"EndpointSlice endpoint not ready", slice, bumped(slice, func(s *discoveryv1.EndpointSlice) {
			s.Endpoints[0].Conditions.Ready = ptr.To(false)
		}), true},
		{"Ingress load balancer written", ing, bumped(ing, func(i *networkingv1.Ingress) {
			i.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.1"}}
		}), false},
		{"Ingress canary weight changed", ing, bumped(ing, func(i *networkingv1.Ingress) {
			i.Annotations = map[string]string{"nginx.ingress.kubernetes.io/canary-weight": "20"}
		}), true},
		{"Secret renewed", secret, bumped(secret, func(s *corev1.Secret) { s.Data = map[string][]byte{"tls.crt": []byte("b")} }), true},
		{"Secret resourceVersion only", secret, bumped(secret, nil), false},
		{"Namespace labelled", ns, bumped(ns, func(n *corev1.Namespace) { n.Labels = map[string]string{"team": "a"} }), true},
		{"Namespace status", ns, bumped(ns, func(n *corev1.Namespace) { n.Status.Phase = corev1.NamespaceTerminating }), false},
		{"unknown kind", &corev1.ConfigMap{}, &corev1.ConfigMap{}, true},
		{"tombstone", toolscache.DeletedFinalStateUnknown{}, route, true},
	} {
		if got := relevantUpdate(c.old, c.new); got != c.want {
			t.Errorf("%s: relevantUpdate = %v, want %v", c.name, got, c.want)
		}
	}
}
