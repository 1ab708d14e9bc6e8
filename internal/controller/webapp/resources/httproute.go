package resources

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/contract"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
)

// HTTPSListenerName is the name of the HTTPS listener in a WebApp's ListenerSet.
const HTTPSListenerName = "https"

// HTTPSPort is the port of that listener.
const HTTPSPort = 443

// httpParent attaches a route to the class Gateway's plain-HTTP listener:
// the class's httpListener when it names one, else the Gateway as a whole
// (or, for redirects, every listener on port 80 — attaching a redirect to an
// HTTPS listener would loop).
func httpParent(c *pylonv1alpha1.ExposureClass, forRedirect bool) gwv1.ParentReference {
	gw := c.Spec.Gateway
	p := gwv1.ParentReference{
		Group:     ptr.To(gwv1.Group(gwv1.GroupName)),
		Kind:      ptr.To(gwv1.Kind("Gateway")),
		Namespace: ptr.To(gwv1.Namespace(gw.Namespace)),
		Name:      gwv1.ObjectName(gw.Name),
	}
	switch {
	case gw.HTTPListener != "":
		p.SectionName = ptr.To(gwv1.SectionName(gw.HTTPListener))
	case forRedirect:
		p.Port = ptr.To(gwv1.PortNumber(80))
	}
	return p
}

// listenerSetParent attaches a route to the HTTPS listener of the WebApp's
// own ListenerSet.
func listenerSetParent(app *pylonv1alpha1.WebApp) gwv1.ParentReference {
	return gwv1.ParentReference{
		Group:       ptr.To(gwv1.Group(gwv1.GroupName)),
		Kind:        ptr.To(gwv1.Kind("ListenerSet")),
		Name:        gwv1.ObjectName(names.Route(app)),
		SectionName: ptr.To(gwv1.SectionName(HTTPSListenerName)),
	}
}

func gatewayRouting(e Exposure) bool {
	return e.routeType() == pylonv1alpha1.ExposureGateway && e.APIs.GatewayAPI
}

// MakeHTTPRoute builds the HTTPRoute that serves the app: over HTTPS through
// the WebApp's ListenerSet when TLS is on (and also over plain HTTP when
// redirectHTTP is off), else over the Gateway's HTTP listener. A header
// match, when declared, sends matching requests to the canary only; the
// other requests are split by weight.
func MakeHTTPRoute(app *pylonv1alpha1.WebApp, e Exposure) *gwv1.HTTPRoute {
	if !gatewayRouting(e) {
		return nil
	}
	var parents []gwv1.ParentReference
	if e.TLS.Enabled() {
		parents = append(parents, listenerSetParent(app))
	}
	if !e.TLS.Enabled() || !e.TLS.Redirect {
		parents = append(parents, httpParent(e.Class, false))
	}
	path := pathMatch(app)
	var rules []gwv1.HTTPRouteRule
	c := e.Canary
	if c.Run && c.HeaderMatch != nil {
		h := c.HeaderMatch
		rules = append(rules, gwv1.HTTPRouteRule{
			Name: ptr.To(gwv1.SectionName("canary-by-header")),
			Matches: []gwv1.HTTPRouteMatch{{
				Path:    path,
				Headers: []gwv1.HTTPHeaderMatch{{Type: ptr.To(gwv1.HeaderMatchExact), Name: gwv1.HTTPHeaderName(h.Name), Value: h.Value}},
			}},
			BackendRefs: []gwv1.HTTPBackendRef{backendRef(names.Canary(app), contract.HeaderRuleWeight)},
		})
	}
	stable, canary := contract.Split(c.Weight)
	backends := []gwv1.HTTPBackendRef{backendRef(names.Service(app), stable)}
	if c.Run {
		backends = append(backends, backendRef(names.Canary(app), canary))
	}
	rules = append(rules, gwv1.HTTPRouteRule{
		Name:        ptr.To(gwv1.SectionName("app")),
		Matches:     []gwv1.HTTPRouteMatch{{Path: path}},
		BackendRefs: backends,
	})
	return &gwv1.HTTPRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "HTTPRoute"},
		ObjectMeta: withAnnotations(objectMeta(app, names.Route(app)), routeAnnotations(e)),
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: parents},
			Hostnames:       []gwv1.Hostname{gwv1.Hostname(e.Hostname)},
			Rules:           rules,
		},
	}
}

// MakeRedirectHTTPRoute builds the HTTPRoute that answers plain-HTTP
// requests with a 301 to the same URL over HTTPS.
func MakeRedirectHTTPRoute(app *pylonv1alpha1.WebApp, e Exposure) *gwv1.HTTPRoute {
	if !gatewayRouting(e) || !e.TLS.Enabled() || !e.TLS.Redirect {
		return nil
	}
	return &gwv1.HTTPRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "HTTPRoute"},
		ObjectMeta: objectMeta(app, names.RedirectRoute(app)),
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{httpParent(e.Class, true)}},
			Hostnames:       []gwv1.Hostname{gwv1.Hostname(e.Hostname)},
			Rules: []gwv1.HTTPRouteRule{{
				Name:    ptr.To(gwv1.SectionName("redirect-to-https")),
				Matches: []gwv1.HTTPRouteMatch{{Path: pathMatch(app)}},
				Filters: []gwv1.HTTPRouteFilter{{
					Type: gwv1.HTTPRouteFilterRequestRedirect,
					RequestRedirect: &gwv1.HTTPRequestRedirectFilter{
						Scheme:     ptr.To("https"),
						StatusCode: ptr.To(301),
					},
				}},
			}},
		},
	}
}

// MakeListenerSet builds the WebApp's own HTTPS listener on the class's
// Gateway, with its certificate. Pylon never edits the platform's Gateway.
func MakeListenerSet(app *pylonv1alpha1.WebApp, e Exposure) *gwv1.ListenerSet {
	if !gatewayRouting(e) || !e.TLS.Enabled() {
		return nil
	}
	gw := e.Class.Spec.Gateway
	hostname := gwv1.Hostname(e.Hostname)
	return &gwv1.ListenerSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "ListenerSet"},
		ObjectMeta: objectMeta(app, names.Route(app)),
		Spec: gwv1.ListenerSetSpec{
			ParentRef: gwv1.ParentGatewayReference{
				Group:     ptr.To(gwv1.Group(gwv1.GroupName)),
				Kind:      ptr.To(gwv1.Kind("Gateway")),
				Name:      gwv1.ObjectName(gw.Name),
				Namespace: ptr.To(gwv1.Namespace(gw.Namespace)),
			},
			Listeners: []gwv1.ListenerEntry{{
				Name:     HTTPSListenerName,
				Hostname: &hostname,
				Port:     HTTPSPort,
				Protocol: gwv1.HTTPSProtocolType,
				TLS: &gwv1.ListenerTLSConfig{
					Mode: ptr.To(gwv1.TLSModeTerminate),
					CertificateRefs: []gwv1.SecretObjectReference{{
						Group: ptr.To(gwv1.Group("")),
						Kind:  ptr.To(gwv1.Kind("Secret")),
						Name:  gwv1.ObjectName(e.TLS.SecretName),
					}},
				},
				AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: ptr.To(gwv1.NamespacesFromSame)}},
			}},
		},
	}
}

func pathMatch(app *pylonv1alpha1.WebApp) *gwv1.HTTPPathMatch {
	p := app.Spec.Path
	if p == "" {
		p = "/"
	}
	return &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To(p)}
}

func backendRef(service string, weight int32) gwv1.HTTPBackendRef {
	return gwv1.HTTPBackendRef{BackendRef: gwv1.BackendRef{
		BackendObjectReference: gwv1.BackendObjectReference{
			Group: ptr.To(gwv1.Group("")),
			Kind:  ptr.To(gwv1.Kind("Service")),
			Name:  gwv1.ObjectName(service),
			Port:  ptr.To(ServicePort),
		},
		Weight: ptr.To(weight),
	}}
}

func withAnnotations(m metav1.ObjectMeta, ann map[string]string) metav1.ObjectMeta {
	if len(ann) > 0 {
		m.Annotations = ann
	}
	return m
}
