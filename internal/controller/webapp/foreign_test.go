package webapp

import (
	"context"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources"
)

func foreignReconciler(t *testing.T, objs ...client.Object) *Reconciler {
	t.Helper()
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(gwv1.Install(s))
	utilruntime.Must(pylonv1alpha1.AddToScheme(s))
	// The same indexes SetupWithManager registers with the manager's cache.
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).
		WithIndex(&gwv1.HTTPRoute{}, httpRouteHostIndex, routeHostnames).
		WithIndex(&gwv1.ListenerSet{}, listenerSetHostIndex, routeHostnames).
		WithIndex(&networkingv1.Ingress{}, ingressHostIndex, routeHostnames).
		Build()
	return &Reconciler{Client: c}
}

func at(sec int64) metav1.Time { return metav1.NewTime(time.Unix(sec, 0)) }

func route(ns, name string, created int64, parent gwv1.ParentReference, labels map[string]string, hosts ...gwv1.Hostname) *gwv1.HTTPRoute {
	return &gwv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: at(created), Labels: labels},
		Spec:       gwv1.HTTPRouteSpec{CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{parent}}, Hostnames: hosts},
	}
}

func TestGatewayServes(t *testing.T) {
	gw := types.NamespacedName{Namespace: "infra", Name: "shared"}
	onShared := gwv1.ParentReference{Name: "shared", Namespace: ptr.To(gwv1.Namespace("infra"))}
	onOther := gwv1.ParentReference{Name: "other", Namespace: ptr.To(gwv1.Namespace("infra"))}
	child := map[string]string{resources.LabelManagedBy: resources.ManagedByPylon, resources.LabelWebApp: "shop"}
	const host = "shop.example.com"
	for _, tc := range []struct {
		name string
		objs []client.Object
		want string // "Kind ns/name", "" for none
	}{
		{"nothing", nil, ""},
		{"own namespace does not count", []client.Object{route("team", "r", 1, onShared, nil, host)}, ""},
		{"another Gateway does not count", []client.Object{route("b", "r", 1, onOther, nil, host)}, ""},
		{"another hostname does not count", []client.Object{route("b", "r", 1, onShared, nil, "else.example.com")}, ""},
		{"Pylon's children are left to claims", []client.Object{route("b", "shop", 1, onShared, child, host)}, ""},
		{"plain route, any spelling", []client.Object{route("b", "r", 1, onShared, nil, "Shop.Example.com")}, "HTTPRoute b/r"},
		{"the oldest wins", []client.Object{route("c", "new", 5, onShared, nil, host), route("b", "old", 2, onShared, nil, host)}, "HTTPRoute b/old"},
		{"a ListenerSet listener for the hostname", []client.Object{&gwv1.ListenerSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "ls", CreationTimestamp: at(1)},
			Spec: gwv1.ListenerSetSpec{
				ParentRef: gwv1.ParentGatewayReference{Name: "shared", Namespace: ptr.To(gwv1.Namespace("infra"))},
				Listeners: []gwv1.ListenerEntry{{Name: "l", Port: 80, Protocol: gwv1.HTTPProtocolType, Hostname: ptr.To(gwv1.Hostname(host))}},
			},
		}}, "ListenerSet b/ls"},
		{"a route on a ListenerSet of the Gateway", []client.Object{
			&gwv1.ListenerSet{
				ObjectMeta: metav1.ObjectMeta{Namespace: "c", Name: "ls", CreationTimestamp: at(9)},
				Spec: gwv1.ListenerSetSpec{
					ParentRef: gwv1.ParentGatewayReference{Name: "shared", Namespace: ptr.To(gwv1.Namespace("infra"))},
					Listeners: []gwv1.ListenerEntry{{Name: "l", Port: 80, Protocol: gwv1.HTTPProtocolType}},
				},
			},
			route("c", "r", 3, gwv1.ParentReference{Kind: ptr.To(gwv1.Kind("ListenerSet")), Name: "ls"}, nil, host),
		}, "HTTPRoute c/r"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := foreignReconciler(t, tc.objs...).gatewayServes(context.Background(), "team", gw, host)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if f != nil {
				got = f.String()
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIngressServes(t *testing.T) {
	ing := func(ns, name string, class *string, annotation string, host string) *networkingv1.Ingress {
		i := &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: at(1)},
			Spec:       networkingv1.IngressSpec{IngressClassName: class, TLS: []networkingv1.IngressTLS{{Hosts: []string{host}}}},
		}
		if annotation != "" {
			i.Annotations = map[string]string{"kubernetes.io/ingress.class": annotation}
		}
		return i
	}
	const host = "shop.example.com"
	for _, tc := range []struct {
		name      string
		obj       *networkingv1.Ingress
		isDefault bool
		want      bool
	}{
		{"same class, TLS host", ing("b", "i", ptr.To("pylon"), "", host), false, true},
		{"legacy annotation", ing("b", "i", nil, "pylon", host), false, true},
		{"other class", ing("b", "i", ptr.To("nginx"), "", host), false, false},
		{"no class, pylon is not the default", ing("b", "i", nil, "", host), false, false},
		{"no class, pylon is the default", ing("b", "i", nil, "", host), true, true},
		{"own namespace", ing("team", "i", ptr.To("pylon"), "", host), false, false},
		{"other host", ing("b", "i", ptr.To("pylon"), "", "else.example.com"), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := foreignReconciler(t, tc.obj).ingressServes(context.Background(), "team", "pylon", tc.isDefault, host)
			if err != nil {
				t.Fatal(err)
			}
			if (f != nil) != tc.want {
				t.Fatalf("found %v, want %v", f, tc.want)
			}
		})
	}
}

// A GatewayClass change (its hostname-sharing annotation, its controller)
// reaches the WebApps of the classes whose Gateway is of that class, and
// no others.
func TestWebAppsOfGatewayClass(t *testing.T) {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(gwv1.Install(s))
	utilruntime.Must(pylonv1alpha1.AddToScheme(s))
	gw := func(ns, name, class string) *gwv1.Gateway {
		return &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: gwv1.GatewaySpec{GatewayClassName: gwv1.ObjectName(class)}}
	}
	ec := func(name, gwNS, gwName string) *pylonv1alpha1.ExposureClass {
		return &pylonv1alpha1.ExposureClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: pylonv1alpha1.ExposureClassSpec{
			Gateway: &pylonv1alpha1.GatewayReference{Namespace: gwNS, Name: gwName}}}
	}
	app := func(ns, class string) *pylonv1alpha1.WebApp {
		return &pylonv1alpha1.WebApp{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}, Spec: pylonv1alpha1.WebAppSpec{
			Exposure: &pylonv1alpha1.ExposureSpec{Class: class}}}
	}
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(
		gw("edge", "public", "shared"), gw("edge", "private", "own"),
		ec("public", "edge", "public"), ec("private", "edge", "private"),
		app("a", "public"), app("b", "private"), app("c", "public"),
	).WithIndex(&pylonv1alpha1.WebApp{}, classIndex, classIndexValue).Build()
	r := &Reconciler{Client: c}
	got := map[string]bool{}
	for _, req := range r.webAppsOfGatewayClass(t.Context(), &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "shared"}}) {
		got[req.Namespace] = true
	}
	if len(got) != 2 || !got["a"] || !got["c"] {
		t.Fatalf("GatewayClass shared woke %v, want the WebApps of namespaces a and c", got)
	}
	if reqs := r.webAppsOfGatewayClass(t.Context(), &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "unused"}}); len(reqs) != 0 {
		t.Fatalf("a GatewayClass no Gateway uses woke %v", reqs)
	}
}
