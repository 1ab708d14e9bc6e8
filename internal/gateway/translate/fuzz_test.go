package translate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// fuzzSnapshot builds a small world from fuzzed strings: listener hostnames
// and protocols, route hostnames, paths, section names and a backend name.
// Fields are separated by ',' so one string can describe several values.
func fuzzSnapshot(listenerHosts, routeHosts, paths, sections string, port uint16, https bool) *Snapshot {
	proto := gwv1.HTTPProtocolType
	if https {
		proto = gwv1.HTTPSProtocolType
	}
	var listeners []gwv1.Listener
	for i, h := range strings.Split(listenerHosts, ",") {
		l := gwv1.Listener{
			Name: gwv1.SectionName("l" + string(rune('a'+i%26))), Port: gwv1.PortNumber(port%3 + 80), Protocol: proto,
			AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: ptrTo(gwv1.NamespacesFromAll)}},
			TLS:           &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "missing"}}},
		}
		if h != "" {
			l.Hostname = ptrTo(gwv1.Hostname(h))
		}
		if i%2 == 1 {
			l.Protocol = gwv1.HTTPProtocolType
			l.TLS = nil
		}
		listeners = append(listeners, l)
	}
	var rules []gwv1.HTTPRouteRule
	for _, p := range strings.Split(paths, ",") {
		typ := gwv1.PathMatchPathPrefix
		if strings.HasSuffix(p, "$") {
			typ = gwv1.PathMatchExact
		}
		rules = append(rules, gwv1.HTTPRouteRule{
			Matches:     []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: &typ, Value: ptrTo(p)}}},
			BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "svc", Port: ptrTo(gwv1.PortNumber(80))}}}},
		})
	}
	var hostnames []gwv1.Hostname
	for _, h := range strings.Split(routeHosts, ",") {
		if h != "" {
			hostnames = append(hostnames, gwv1.Hostname(h))
		}
	}
	var refs []gwv1.ParentReference
	for _, s := range strings.Split(sections, ",") {
		ref := gwv1.ParentReference{Name: "web", Namespace: ptrTo(gwv1.Namespace("infra"))}
		if s != "" {
			ref.SectionName = ptrTo(gwv1.SectionName(s))
		}
		refs = append(refs, ref)
	}
	meta := func(ns, name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1}
	}
	return &Snapshot{
		GatewayClasses: []*gwv1.GatewayClass{{ObjectMeta: metav1.ObjectMeta{Name: "pylon"}, Spec: gwv1.GatewayClassSpec{ControllerName: ControllerName}}},
		Gateways: []*gwv1.Gateway{
			{ObjectMeta: meta("infra", "web"), Spec: gwv1.GatewaySpec{GatewayClassName: "pylon", Listeners: listeners}},
		},
		HTTPRoutes: []*gwv1.HTTPRoute{
			{ObjectMeta: meta("app", "a"), Spec: gwv1.HTTPRouteSpec{CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: refs}, Hostnames: hostnames, Rules: rules}},
			{ObjectMeta: meta("app", "b"), Spec: gwv1.HTTPRouteSpec{CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: refs[:1]}, Rules: rules[:1]}},
		},
		Services: []*corev1.Service{{ObjectMeta: meta("app", "svc"), Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}},
	}
}

func FuzzTranslate(f *testing.F) {
	f.Add("*.example.com,foo.example.com,", "foo.example.com,*.com", "/,/api,/api/v1$", "la,lb,", uint16(0), false)
	f.Add(",", "*.a.b,a.b", "/x/,//,/$", "lc", uint16(1), true)
	f.Add("*.*.x,ÄÖ.example.com,EXAMPLE.com", "*.,*,..", "not-a-path,/[", "", uint16(2), false)
	f.Fuzz(func(t *testing.T, lh, rh, paths, sections string, port uint16, https bool) {
		snap := fuzzSnapshot(lh, rh, paths, sections, port, https)
		t1, s1 := Translate(snap)
		if err := t1.Validate(); err != nil {
			t.Fatalf("invalid table: %v", err)
		}
		t2, s2 := Translate(reverseSnapshot(snap))
		d1, err := dump(t1, s1)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := dump(t2, s2)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(d1), string(d2)); diff != "" {
			t.Fatalf("non-deterministic translation:\n%s", diff)
		}
		// Every route references a listener key of its host, and that key
		// names a listener that exists in the input.
		known := map[string]bool{}
		for _, l := range snap.Gateways[0].Spec.Listeners {
			known["Gateway/infra/web/"+string(l.Name)] = true
		}
		for _, l := range t1.Listeners {
			for _, vh := range l.VirtualHosts {
				for _, r := range vh.Routes {
					if !known[r.Listener] {
						t.Fatalf("route references unknown listener %q", r.Listener)
					}
				}
			}
		}
	})
}
