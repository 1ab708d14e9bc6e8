package status

import (
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/internal/gateway/translate"
)

func mergeGatewayClass(prev, next gwv1.GatewayClassStatus, now metav1.Time) gwv1.GatewayClassStatus {
	next.Conditions = mergeConditions(prev.Conditions, next.Conditions, now)
	return next
}

func mergeGateway(prev, next gwv1.GatewayStatus, now metav1.Time) gwv1.GatewayStatus {
	next.Conditions = mergeConditions(prev.Conditions, next.Conditions, now)
	next.Listeners = append([]gwv1.ListenerStatus(nil), next.Listeners...)
	for i := range next.Listeners {
		var old []metav1.Condition
		for _, p := range prev.Listeners {
			if p.Name == next.Listeners[i].Name {
				old = p.Conditions
			}
		}
		next.Listeners[i].Conditions = mergeConditions(old, next.Listeners[i].Conditions, now)
	}
	return next
}

func mergeListenerSet(prev, next gwv1.ListenerSetStatus, now metav1.Time) gwv1.ListenerSetStatus {
	next.Conditions = mergeConditions(prev.Conditions, next.Conditions, now)
	next.Listeners = append([]gwv1.ListenerEntryStatus(nil), next.Listeners...)
	for i := range next.Listeners {
		var old []metav1.Condition
		for _, p := range prev.Listeners {
			if p.Name == next.Listeners[i].Name {
				old = p.Conditions
			}
		}
		next.Listeners[i].Conditions = mergeConditions(old, next.Listeners[i].Conditions, now)
	}
	return next
}

// mergeRouteParents keeps every entry of other controllers, in place, and
// replaces ours with next (nil removes them all).
func mergeRouteParents(prev []gwv1.RouteParentStatus, next []gwv1.RouteParentStatus, now metav1.Time) []gwv1.RouteParentStatus {
	out := make([]gwv1.RouteParentStatus, 0, len(prev)+len(next))
	for _, p := range prev {
		if p.ControllerName != translate.ControllerName {
			out = append(out, p)
		}
	}
	for _, n := range next {
		var old []metav1.Condition
		for _, p := range prev {
			if p.ControllerName == translate.ControllerName && reflect.DeepEqual(p.ParentRef, n.ParentRef) {
				old = p.Conditions
			}
		}
		n.Conditions = mergeConditions(old, n.Conditions, now)
		out = append(out, n)
	}
	return out
}
