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
	externaldnsv1alpha1 "github.com/pylon-dev/pylon/internal/externaldns/v1alpha1"
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

// TestDNSCondition: what DNSReady says in each DNS mode. In DNSEndpoint
// mode only external-dns' status.observedGeneration at the current
// generation makes it True; in annotation mode it is True with a reason
// that says Pylon cannot see the outcome.
func TestDNSCondition(t *testing.T) {
	app := &pylonv1alpha1.WebApp{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "team", Generation: 1},
		Spec:       pylonv1alpha1.WebAppSpec{Hostname: "web.example.com"},
	}
	endpoint := func(generation, observed int64) *externaldnsv1alpha1.DNSEndpoint {
		return &externaldnsv1alpha1.DNSEndpoint{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "team", Generation: generation},
			Status:     externaldnsv1alpha1.DNSEndpointStatus{ObservedGeneration: observed},
		}
	}
	for _, tc := range []struct {
		name      string
		classType pylonv1alpha1.ExposureType
		mode      pylonv1alpha1.DNSMode
		noAPI     bool
		targets   []string
		live      *externaldnsv1alpha1.DNSEndpoint
		failure   *failure
		status    metav1.ConditionStatus
		reason    string
		message   string
	}{
		{
			name: "DNSEndpoint mode without external-dns' CRD", mode: pylonv1alpha1.DNSEndpoint, noAPI: true, targets: []string{"192.0.2.1"},
			status: metav1.ConditionFalse, reason: pylonv1alpha1.ReasonAPINotInstalled,
		},
		{
			name: "no address yet", mode: pylonv1alpha1.DNSEndpoint,
			status: metav1.ConditionUnknown, reason: pylonv1alpha1.ReasonAddressPending,
		},
		{
			name: "DNSEndpoint not written yet", mode: pylonv1alpha1.DNSEndpoint, targets: []string{"192.0.2.1"},
			status: metav1.ConditionUnknown, reason: pylonv1alpha1.ReasonPending,
		},
		{
			name: "DNSEndpoint could not be written", mode: pylonv1alpha1.DNSEndpoint, targets: []string{"192.0.2.1"},
			failure: &failure{id: childID(dnsEndpointGVK, "web"), reason: pylonv1alpha1.ReasonNotOwned, message: "DNSEndpoint web is not this WebApp's"},
			status:  metav1.ConditionFalse, reason: pylonv1alpha1.ReasonNotOwned,
		},
		{
			name: "external-dns has not processed it at all", mode: pylonv1alpha1.DNSEndpoint, targets: []string{"192.0.2.1"},
			live:   endpoint(1, 0),
			status: metav1.ConditionUnknown, reason: pylonv1alpha1.ReasonWaitingForExternalDNS,
			message: "waiting for external-dns to process DNSEndpoint web (generation 1: web.example.com -> 192.0.2.1); it has processed no generation of it yet",
		},
		{
			name: "external-dns processed an older generation only", mode: pylonv1alpha1.DNSEndpoint, targets: []string{"192.0.2.2"},
			live:   endpoint(3, 2),
			status: metav1.ConditionUnknown, reason: pylonv1alpha1.ReasonWaitingForExternalDNS,
			message: "waiting for external-dns to process generation 3 of DNSEndpoint web (web.example.com -> 192.0.2.2); it last processed generation 2",
		},
		{
			name: "external-dns processed the current generation", mode: pylonv1alpha1.DNSEndpoint, targets: []string{"192.0.2.2", "2001:db8::2"},
			live:   endpoint(3, 3),
			status: metav1.ConditionTrue, reason: pylonv1alpha1.ReasonProcessedByExternalDNS,
			message: "external-dns processed generation 3 of DNSEndpoint web: web.example.com -> 192.0.2.2, 2001:db8::2",
		},
		{
			name: "annotation mode on an HTTPRoute", mode: pylonv1alpha1.DNSExternalDNS, targets: []string{"192.0.2.1"},
			status: metav1.ConditionTrue, reason: pylonv1alpha1.ReasonDelegatedToExternalDNS,
			message: "HTTPRoute web carries external-dns annotations for web.example.com -> 192.0.2.1; external-dns reports nothing back on annotated routes, so Pylon cannot see whether the record was published (DNSEndpoint mode can)",
		},
		{
			name: "annotation mode on an Ingress", classType: pylonv1alpha1.ExposureIngress, mode: pylonv1alpha1.DNSExternalDNS, targets: []string{"lb.example.net"},
			status: metav1.ConditionTrue, reason: pylonv1alpha1.ReasonDelegatedToExternalDNS,
			message: "Ingress web carries external-dns annotations for web.example.com -> lb.example.net; external-dns reports nothing back on annotated routes, so Pylon cannot see whether the record was published (DNSEndpoint mode can)",
		},
		{
			name: "annotation mode still needs an address", mode: pylonv1alpha1.DNSExternalDNS,
			status: metav1.ConditionUnknown, reason: pylonv1alpha1.ReasonAddressPending,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			class := gatewayClass()
			if tc.classType == pylonv1alpha1.ExposureIngress {
				class.Spec.Type, class.Spec.Gateway, class.Spec.IngressClassName = pylonv1alpha1.ExposureIngress, nil, "nginx"
			}
			class.Spec.DNS = &pylonv1alpha1.ExposureClassDNS{Mode: tc.mode, TTL: 60}
			v := resolveExposure(app, class, nil, nil, resources.APIs{GatewayAPI: true, ExternalDNS: !tc.noAPI})
			v.claim = &claims.Verdict{Held: true, Reason: pylonv1alpha1.ReasonHostnameClaimed}
			v.exp.Hostname = "web.example.com"
			v.exp.DNSTargets = tc.targets
			obs := observation{live: map[string]client.Object{}, exposure: v}
			if tc.live != nil {
				obs.live[childID(dnsEndpointGVK, "web")] = tc.live
			}
			if tc.failure != nil {
				obs.failures = append(obs.failures, *tc.failure)
			}
			got := meta.FindStatusCondition(exposureConditions(app, obs), pylonv1alpha1.ConditionDNSReady)
			if got == nil {
				t.Fatalf("no DNSReady condition")
			}
			if got.Status != tc.status || got.Reason != tc.reason {
				t.Fatalf("DNSReady = %s/%s (%s), want %s/%s", got.Status, got.Reason, got.Message, tc.status, tc.reason)
			}
			if tc.message != "" && got.Message != tc.message {
				t.Fatalf("DNSReady message = %q, want %q", got.Message, tc.message)
			}
		})
	}
}
