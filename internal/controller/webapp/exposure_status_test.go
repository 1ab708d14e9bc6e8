package webapp

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/contract"
	"github.com/pylon-dev/pylon/internal/controller/claims"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources"
)

func gatewayClass() *pylonv1alpha1.ExposureClass {
	return &pylonv1alpha1.ExposureClass{
		ObjectMeta: metav1.ObjectMeta{Name: "public"},
		Spec: pylonv1alpha1.ExposureClassSpec{
			Type:    pylonv1alpha1.ExposureGateway,
			Gateway: &pylonv1alpha1.GatewayReference{Namespace: "infra", Name: "shared"},
		},
	}
}

// routeWith is the WebApp's HTTPRoute with one parent status of the given
// controller and conditions, all at the route's generation.
func routeWith(controller gwv1.GatewayController, conds ...metav1.Condition) *gwv1.HTTPRoute {
	ns := gwv1.Namespace("infra")
	ref := gwv1.ParentReference{Name: "shared", Namespace: &ns}
	for i := range conds {
		conds[i].ObservedGeneration = 4
	}
	return &gwv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "team", Generation: 4},
		Spec:       gwv1.HTTPRouteSpec{CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{ref}}},
		Status: gwv1.HTTPRouteStatus{RouteStatus: gwv1.RouteStatus{Parents: []gwv1.RouteParentStatus{{
			ParentRef: ref, ControllerName: controller, Conditions: conds,
		}}}},
	}
}

func c(t, s, reason string) metav1.Condition {
	return metav1.Condition{Type: t, Status: metav1.ConditionStatus(s), Reason: reason}
}

func TestExposureConditions(t *testing.T) {
	app := &pylonv1alpha1.WebApp{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "team", Generation: 1},
		Spec:       pylonv1alpha1.WebAppSpec{Hostname: "web.example.com"},
	}
	accepted := c(string(gwv1.RouteConditionAccepted), "True", "Accepted")
	resolved := c(string(gwv1.RouteConditionResolvedRefs), "True", "ResolvedRefs")
	held := &claims.Verdict{Held: true, Reason: pylonv1alpha1.ReasonHostnameClaimed}
	servedElsewhere := &claims.Verdict{
		ServedBy: &claims.Foreign{Kind: "HTTPRoute", Namespace: "tenant-b", Name: "plain"},
		Reason:   pylonv1alpha1.ReasonHostnameConflict, Message: "hostname web.example.com is already served by namespace tenant-b",
	}
	for _, tc := range []struct {
		name         string
		claim        *claims.Verdict
		route        *gwv1.HTTPRoute
		claimed      metav1.ConditionStatus
		routed       metav1.ConditionStatus
		routedReason string
	}{
		{
			name: "served by the bundled gateway", claim: held,
			route:   routeWith(contract.GatewayControllerName, accepted, resolved, c(contract.ConditionServed, "True", contract.ReasonServed)),
			claimed: metav1.ConditionTrue, routed: metav1.ConditionTrue, routedReason: pylonv1alpha1.ReasonRouted,
		},
		{
			name: "accepted but a hostname is another namespace's", claim: held,
			route:   routeWith(contract.GatewayControllerName, accepted, resolved, c(contract.ConditionServed, "False", contract.ReasonHostnameOwnedByAnotherNamespace)),
			claimed: metav1.ConditionTrue, routed: metav1.ConditionFalse, routedReason: contract.ReasonHostnameOwnedByAnotherNamespace,
		},
		{
			name: "a path is shadowed by another namespace's route (sharing class)", claim: held,
			route:   routeWith(contract.GatewayControllerName, accepted, resolved, c(contract.ConditionServed, "False", contract.ReasonShadowedByAnotherNamespace)),
			claimed: metav1.ConditionTrue, routed: metav1.ConditionFalse, routedReason: contract.ReasonShadowedByAnotherNamespace,
		},
		{
			name: "accepted on a listener without address", claim: held,
			route:   routeWith(contract.GatewayControllerName, accepted, resolved, c(contract.ConditionServed, "False", contract.ReasonListenerNotServed)),
			claimed: metav1.ConditionTrue, routed: metav1.ConditionFalse, routedReason: contract.ReasonListenerNotServed,
		},
		{
			name: "bundled gateway has not said whether it serves", claim: held,
			route:   routeWith(contract.GatewayControllerName, accepted, resolved),
			claimed: metav1.ConditionTrue, routed: metav1.ConditionUnknown, routedReason: pylonv1alpha1.ReasonPending,
		},
		{
			name: "not accepted: hostname owned by another namespace", claim: held,
			route:   routeWith(contract.GatewayControllerName, c(string(gwv1.RouteConditionAccepted), "False", contract.ReasonHostnameOwnedByAnotherNamespace), resolved),
			claimed: metav1.ConditionTrue, routed: metav1.ConditionFalse, routedReason: contract.ReasonHostnameOwnedByAnotherNamespace,
		},
		{
			name: "another controller needs no Served condition", claim: held,
			route:   routeWith("example.com/other", accepted, resolved),
			claimed: metav1.ConditionTrue, routed: metav1.ConditionTrue, routedReason: pylonv1alpha1.ReasonRouted,
		},
		{
			name: "hostname already served by another namespace", claim: servedElsewhere,
			claimed: metav1.ConditionFalse, routed: metav1.ConditionFalse, routedReason: pylonv1alpha1.ReasonHostnameConflict,
		},
		{
			name:    "not claimed yet",
			claimed: metav1.ConditionUnknown, routed: metav1.ConditionFalse, routedReason: pylonv1alpha1.ReasonPending,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := resolveExposure(app, gatewayClass(), nil, nil, resources.APIs{GatewayAPI: true})
			v.claim = tc.claim
			if tc.claim != nil && tc.claim.Held {
				v.exp.Hostname = "web.example.com"
			}
			obs := observation{live: map[string]client.Object{}, exposure: v}
			if tc.route != nil {
				obs.live[childID(httpRouteGVK, "web")] = tc.route
			}
			conds := exposureConditions(app, obs)
			claimed := meta.FindStatusCondition(conds, pylonv1alpha1.ConditionHostnameClaimed)
			routed := meta.FindStatusCondition(conds, pylonv1alpha1.ConditionRouted)
			if claimed == nil || claimed.Status != tc.claimed {
				t.Fatalf("HostnameClaimed = %+v, want %s", claimed, tc.claimed)
			}
			if routed == nil || routed.Status != tc.routed || routed.Reason != tc.routedReason {
				t.Fatalf("Routed = %+v, want %s/%s", routed, tc.routed, tc.routedReason)
			}
		})
	}
}
