package watch

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

// relevantUpdate reports whether an update event may change the table or
// the status the translator reports; the others are dropped before they
// cost a rebuild (as Contour drops no-op updates before its DAG). Most
// updates on a busy cluster change nothing the gateway reads: status writes
// (the gateway's own among them: route parents, Gateway conditions,
// Ingress load balancers), managedFields and resourceVersion bumps, and
// informer resyncs that deliver the same object again.
//
// Generation, labels and annotations count for every kind (EndpointSlices:
// labels only): the translator reports observedGeneration and reads labels
// and annotations (Namespace labels for allowedRoutes, Ingress canary and
// class annotations, the EndpointSlice service label). Beyond them each
// kind compares the content the gateway reads, spec rather than trusting
// the generation alone, and status only where the gateway reads it.
// Unknown kinds always count.
func relevantUpdate(oldObj, newObj any) bool {
	switch o := oldObj.(type) {
	case *corev1.Namespace:
		n, ok := newObj.(*corev1.Namespace)
		return !ok || metaChanged(&o.ObjectMeta, &n.ObjectMeta)
	case *corev1.Service:
		// Status too: the data plane's own Service's load balancer
		// addresses are the Gateway and Ingress addresses.
		n, ok := newObj.(*corev1.Service)
		return !ok || metaChanged(&o.ObjectMeta, &n.ObjectMeta) ||
			!equality.Semantic.DeepEqual(o.Spec, n.Spec) ||
			!equality.Semantic.DeepEqual(o.Status.LoadBalancer, n.Status.LoadBalancer)
	case *corev1.Secret:
		n, ok := newObj.(*corev1.Secret)
		return !ok || metaChanged(&o.ObjectMeta, &n.ObjectMeta) || o.Type != n.Type ||
			!equality.Semantic.DeepEqual(o.Data, n.Data) || !equality.Semantic.DeepEqual(o.StringData, n.StringData)
	case *discoveryv1.EndpointSlice:
		// Labels only: the slice controller's trigger-time annotation is
		// of no use to the gateway.
		n, ok := newObj.(*discoveryv1.EndpointSlice)
		return !ok || !equality.Semantic.DeepEqual(o.Labels, n.Labels) || o.AddressType != n.AddressType ||
			!equality.Semantic.DeepEqual(o.Endpoints, n.Endpoints) || !equality.Semantic.DeepEqual(o.Ports, n.Ports)
	case *networkingv1.Ingress:
		// Not status: the gateway writes the load balancer addresses.
		n, ok := newObj.(*networkingv1.Ingress)
		return !ok || metaChanged(&o.ObjectMeta, &n.ObjectMeta) || !equality.Semantic.DeepEqual(o.Spec, n.Spec)
	case *networkingv1.IngressClass:
		n, ok := newObj.(*networkingv1.IngressClass)
		return !ok || metaChanged(&o.ObjectMeta, &n.ObjectMeta) || !equality.Semantic.DeepEqual(o.Spec, n.Spec)
	case *gwv1.Gateway:
		// The address pool keeps the address a Gateway's status lists;
		// its conditions are the gateway's own writes.
		n, ok := newObj.(*gwv1.Gateway)
		return !ok || metaChanged(&o.ObjectMeta, &n.ObjectMeta) || !equality.Semantic.DeepEqual(o.Spec, n.Spec) ||
			!equality.Semantic.DeepEqual(o.Status.Addresses, n.Status.Addresses)
	case *gwv1.GatewayClass:
		n, ok := newObj.(*gwv1.GatewayClass)
		return !ok || metaChanged(&o.ObjectMeta, &n.ObjectMeta) || !equality.Semantic.DeepEqual(o.Spec, n.Spec)
	case *gwv1.ListenerSet:
		n, ok := newObj.(*gwv1.ListenerSet)
		return !ok || metaChanged(&o.ObjectMeta, &n.ObjectMeta) || !equality.Semantic.DeepEqual(o.Spec, n.Spec)
	case *gwv1.HTTPRoute:
		n, ok := newObj.(*gwv1.HTTPRoute)
		return !ok || metaChanged(&o.ObjectMeta, &n.ObjectMeta) || !equality.Semantic.DeepEqual(o.Spec, n.Spec)
	case *gwv1beta1.ReferenceGrant:
		n, ok := newObj.(*gwv1beta1.ReferenceGrant)
		return !ok || metaChanged(&o.ObjectMeta, &n.ObjectMeta) || !equality.Semantic.DeepEqual(o.Spec, n.Spec)
	default:
		return true
	}
}

// metaChanged compares the metadata the gateway reads.
func metaChanged(o, n *metav1.ObjectMeta) bool {
	return o.Generation != n.Generation ||
		!equality.Semantic.DeepEqual(o.Labels, n.Labels) ||
		!equality.Semantic.DeepEqual(o.Annotations, n.Annotations) ||
		!o.DeletionTimestamp.Equal(n.DeletionTimestamp)
}
