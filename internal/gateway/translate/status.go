package translate

import (
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// StatusUpdates is the status every object handled by this data plane should
// have. Conditions carry ObservedGeneration but a zero LastTransitionTime:
// the writer keeps the previous time when status and reason are unchanged
// and stamps the current time otherwise (the translator has no clock).
// Every list is sorted by namespace/name.
type StatusUpdates struct {
	GatewayClasses []GatewayClassStatus `json:"gatewayClasses,omitempty"`
	Gateways       []GatewayStatus      `json:"gateways,omitempty"`
	ListenerSets   []ListenerSetStatus  `json:"listenerSets,omitempty"`
	HTTPRoutes     []HTTPRouteStatus    `json:"httpRoutes,omitempty"`
	Ingresses      []IngressStatus      `json:"ingresses,omitempty"`
	// IngressLoadBalancer is what this data plane writes to the Ingresses
	// it serves; an Ingress it no longer serves that still carries exactly
	// this is cleared.
	IngressLoadBalancer []networkingv1.IngressLoadBalancerIngress `json:"ingressLoadBalancer,omitempty"`
	// Rejections are objects (today: Ingresses) denied hostnames that
	// have no status field to say so; the writer logs them and records
	// Events. Sorted by kind, namespace and name.
	Rejections []Rejection `json:"rejections,omitempty"`
}

// ReasonUnsupportedAnnotation rejects an Ingress carrying an ingress-nginx
// annotation that changes security or routing and that the gateway does
// not implement: it is not served at all rather than half-way.
const ReasonUnsupportedAnnotation = "UnsupportedAnnotation"

// Rejection explains why an object without conditions is not (fully) served.
type Rejection struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Reason    string `json:"reason"`
	Message   string `json:"message"`
}

// GatewayClassStatus is the full status of one GatewayClass we own.
type GatewayClassStatus struct {
	Name   string                  `json:"name"`
	Status gwv1.GatewayClassStatus `json:"status"`
}

// GatewayStatus is the full status of one Gateway of a class we own.
type GatewayStatus struct {
	Namespace string             `json:"namespace"`
	Name      string             `json:"name"`
	Status    gwv1.GatewayStatus `json:"status"`
}

// ListenerSetStatus is the full status of one ListenerSet whose parent
// Gateway is ours.
type ListenerSetStatus struct {
	Namespace string                 `json:"namespace"`
	Name      string                 `json:"name"`
	Status    gwv1.ListenerSetStatus `json:"status"`
}

// HTTPRouteStatus holds only this controller's status.parents entries; the
// writer replaces entries with controllerName ControllerName and keeps the
// rest. A route absent from StatusUpdates.HTTPRoutes has no parent of ours:
// the writer should remove any entries of ours it still carries.
type HTTPRouteStatus struct {
	Namespace string                   `json:"namespace"`
	Name      string                   `json:"name"`
	Parents   []gwv1.RouteParentStatus `json:"parents"`
}

// IngressStatus is the load-balancer status of one Ingress of our classes.
type IngressStatus struct {
	Namespace    string                                 `json:"namespace"`
	Name         string                                 `json:"name"`
	LoadBalancer networkingv1.IngressLoadBalancerStatus `json:"loadBalancer"`
}

// condition builds a condition with the object's generation.
func condition[T ~string, R ~string](t T, ok bool, reason R, msg string, gen int64) metav1.Condition {
	s := metav1.ConditionFalse
	if ok {
		s = metav1.ConditionTrue
	}
	return metav1.Condition{Type: string(t), Status: s, Reason: string(reason), Message: msg, ObservedGeneration: gen}
}
