package contract_test

import (
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/contract"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources"
	"github.com/pylon-dev/pylon/internal/gateway/ir"
	"github.com/pylon-dev/pylon/internal/gateway/translate"
)

// This test is the one place that sees both trees: what the manager's
// builders write must mean, to the bundled gateway's translator, the split
// the WebApp declared. Each tree's golden tests only check its own half.

const (
	host         = "shop.apps.example.com"
	canaryHeader = "x-release-track"
	canaryValue  = "canary"
)

// canaryApp is a WebApp with a canary at weight and a header match. If the
// builders gain an explicit effective weight, pass it where they are called
// (buildGateway, buildIngress); the expectations derive from weight.
func canaryApp(weight int32) *pylonv1alpha1.WebApp {
	return &pylonv1alpha1.WebApp{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "shop", UID: "0d7c1a2e-0000-4000-8000-000000000001", Generation: 1},
		Spec: pylonv1alpha1.WebAppSpec{
			Image: "shop:1", Port: 8080, Path: "/", Hostname: host,
			Canary: &pylonv1alpha1.CanarySpec{Image: "shop:2", Weight: weight,
				HeaderMatch: &pylonv1alpha1.HeaderMatch{Name: canaryHeader, Value: canaryValue}},
		},
	}
}

func exposure(app *pylonv1alpha1.WebApp, class *pylonv1alpha1.ExposureClass) resources.Exposure {
	// The canary at its declared weight: the effective weight the
	// reconciler decides once the canary has available Pods.
	return resources.Exposure{Class: class, Hostname: host, IngressCanary: true,
		APIs: resources.APIs{GatewayAPI: true}, TLS: resources.EffectiveTLS(app, class), Canary: resources.DeclaredCanary(app)}
}

// services are the app's Services from the builders, each with one ready
// endpoint, as the cluster would have them.
func services(app *pylonv1alpha1.WebApp) ([]*corev1.Service, []*discoveryv1.EndpointSlice) {
	var svcs []*corev1.Service
	var slices []*discoveryv1.EndpointSlice
	for i, svc := range []*corev1.Service{resources.MakeService(app), resources.MakeCanaryService(app, resources.DeclaredCanary(app))} {
		if svc == nil {
			continue
		}
		svcs = append(svcs, svc)
		slices = append(slices, &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: svc.Namespace, Name: svc.Name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0." + string(rune('1'+i))},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true)}}},
			Ports: []discoveryv1.EndpointPort{{Name: ptr.To(svc.Spec.Ports[0].Name), Port: ptr.To[int32](8080)}},
		})
	}
	return svcs, slices
}

// buildGateway is the snapshot of a cluster where the app is exposed
// through a Gateway of the bundled gateway's class.
func buildGateway(t *testing.T, app *pylonv1alpha1.WebApp) *translate.Snapshot {
	t.Helper()
	class := &pylonv1alpha1.ExposureClass{ObjectMeta: metav1.ObjectMeta{Name: "public"}, Spec: pylonv1alpha1.ExposureClassSpec{
		Type:    pylonv1alpha1.ExposureGateway,
		Gateway: &pylonv1alpha1.GatewayReference{Name: "public-web", Namespace: "platform-ingress", HTTPListener: "http"},
	}}
	route := resources.MakeHTTPRoute(app, exposure(app, class))
	if route == nil {
		t.Fatal("MakeHTTPRoute built no route")
	}
	svcs, slices := services(app)
	all := gwv1.NamespacesFromAll
	gw := &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: "platform-ingress", Name: "public-web", Generation: 1},
		Spec: gwv1.GatewaySpec{GatewayClassName: "pylon", Listeners: []gwv1.Listener{{
			Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType,
			AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: &all}},
		}}},
	}
	return &translate.Snapshot{
		GatewayClasses: []*gwv1.GatewayClass{{ObjectMeta: metav1.ObjectMeta{Name: "pylon", Generation: 1},
			Spec: gwv1.GatewayClassSpec{ControllerName: contract.GatewayControllerName}}},
		Gateways:       []*gwv1.Gateway{gw},
		HTTPRoutes:     []*gwv1.HTTPRoute{route},
		Namespaces:     []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}, {ObjectMeta: metav1.ObjectMeta{Name: "platform-ingress"}}},
		Services:       svcs,
		EndpointSlices: slices,
		Options: translate.Options{GatewayAddresses: map[types.NamespacedName][]gwv1.GatewayStatusAddress{
			{Namespace: "platform-ingress", Name: "public-web"}: {{Value: "192.0.2.1"}},
		}},
	}
}

// buildIngress is the snapshot of a cluster where the app is exposed
// through an IngressClass of the bundled gateway, canary Ingress included.
func buildIngress(t *testing.T, app *pylonv1alpha1.WebApp) *translate.Snapshot {
	t.Helper()
	class := &pylonv1alpha1.ExposureClass{ObjectMeta: metav1.ObjectMeta{Name: "pylon-ingress"}, Spec: pylonv1alpha1.ExposureClassSpec{
		Type: pylonv1alpha1.ExposureIngress, IngressClassName: "pylon",
	}}
	e := exposure(app, class)
	ings := []*networkingv1.Ingress{resources.MakeIngress(app, e), resources.MakeCanaryIngress(app, e)}
	if ings[0] == nil || ings[1] == nil {
		t.Fatalf("builders made Ingress %v and canary Ingress %v", ings[0] != nil, ings[1] != nil)
	}
	svcs, slices := services(app)
	return &translate.Snapshot{
		IngressClasses: []*networkingv1.IngressClass{{ObjectMeta: metav1.ObjectMeta{Name: "pylon"},
			Spec: networkingv1.IngressClassSpec{Controller: contract.IngressControllerName}}},
		Ingresses:      ings,
		Namespaces:     []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}},
		Services:       svcs,
		EndpointSlices: slices,
	}
}

func TestBuildersThroughTheTranslator(t *testing.T) {
	const weight = 10
	stableName, canaryName := "shop", "shop-canary"
	for name, build := range map[string]func(*testing.T, *pylonv1alpha1.WebApp) *translate.Snapshot{
		"HTTPRoute": buildGateway,
		"Ingress":   buildIngress,
	} {
		t.Run(name, func(t *testing.T) {
			app := canaryApp(weight)
			if got := resources.MakeCanaryService(app, resources.DeclaredCanary(app)).Name; got != canaryName {
				t.Fatalf("canary Service is %q, want %q", got, canaryName)
			}
			table, _ := translate.Translate(build(t, app))
			if err := table.Validate(); err != nil {
				t.Fatalf("invalid table: %v", err)
			}
			at := ir.ListenerKey{Port: 80}

			// Plain requests are split by the declared weight.
			plain := ir.Match(table, at, &ir.Request{Host: host, Path: "/", Method: http.MethodGet, Header: http.Header{}})
			if plain.Route == nil {
				t.Fatalf("no route for %s/", host)
			}
			wantStable, wantCanary := contract.Split(weight)
			got := weights(plain.Route.Action)
			if len(got) != 2 || got[stableName] != wantStable || got[canaryName] != wantCanary {
				t.Errorf("plain requests split %v, want %s %d and %s %d", got, stableName, wantStable, canaryName, wantCanary)
			}
			if a := plain.Route.Action; a.TotalWeight != contract.WeightTotal || a.DirectResponse != nil {
				t.Errorf("split action: total weight %d (want %d), direct response %+v", a.TotalWeight, contract.WeightTotal, a.DirectResponse)
			}

			// The header sends every request to the canary.
			hdr := http.Header{}
			hdr.Set(canaryHeader, canaryValue)
			tagged := ir.Match(table, at, &ir.Request{Host: host, Path: "/", Method: http.MethodGet, Header: hdr})
			if tagged.Route == nil {
				t.Fatalf("no route for %s/ with %s: %s", host, canaryHeader, canaryValue)
			}
			if got := weights(tagged.Route.Action); len(got) != 1 || got[canaryName] <= 0 {
				t.Errorf("requests with the canary header go to %v, want %s only", got, canaryName)
			}
		})
	}
}

// weights maps an action's usable backends to their weights.
func weights(a *ir.Action) map[string]int32 {
	out := map[string]int32{}
	for _, b := range a.Backends {
		if b.Invalid {
			continue
		}
		out[b.Name] = b.Weight
	}
	return out
}

// TestIngressTLSThroughTheTranslator: the ssl-redirect annotation the
// builders write for tls.redirectHTTP makes the bundled gateway redirect
// plain HTTP to HTTPS (308, path and query kept) or serve it, and nothing
// the builders write is an annotation the gateway refuses.
func TestIngressTLSThroughTheTranslator(t *testing.T) {
	for name, c := range map[string]struct {
		redirect *bool
		want     bool
	}{
		"default":             {nil, true},
		"redirectHTTP: true":  {ptr.To(true), true},
		"redirectHTTP: false": {ptr.To(false), false},
	} {
		t.Run(name, func(t *testing.T) {
			app := canaryApp(10)
			app.Spec.TLS = &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSSecret, SecretName: "shop-tls", RedirectHTTP: c.redirect}
			table, st := translate.Translate(buildIngress(t, app))
			if err := table.Validate(); err != nil {
				t.Fatalf("invalid table: %v", err)
			}
			for _, r := range st.Rejections {
				t.Errorf("the gateway rejects the builders' %s %s: %s: %s", r.Kind, r.Name, r.Reason, r.Message)
			}
			res := ir.Match(table, ir.ListenerKey{Port: 80}, &ir.Request{Host: host, Path: "/x", RawQuery: "y=1", Method: http.MethodPost, Header: http.Header{}})
			if res.Route == nil {
				t.Fatalf("no route for http://%s/x", host)
			}
			rd := res.Route.Action.Redirect
			if got := rd != nil; got != c.want {
				t.Fatalf("plain HTTP redirected: %v, want %v (action %+v)", got, c.want, res.Route.Action)
			}
			if rd != nil && (rd.Scheme != "https" || rd.StatusCode != http.StatusPermanentRedirect || rd.Path != nil || rd.Hostname != "") {
				t.Errorf("redirect %+v, want 308 to https keeping host and path", rd)
			}
		})
	}
}
