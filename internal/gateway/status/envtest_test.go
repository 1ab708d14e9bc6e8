package status_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
	"github.com/pylon-dev/pylon/internal/gateway/proxy"
	"github.com/pylon-dev/pylon/internal/gateway/status"
	"github.com/pylon-dev/pylon/internal/gateway/watch"
	"github.com/pylon-dev/pylon/test/testenv"
)

func condTrue(conds []metav1.Condition, typ string, gen int64) bool {
	c := apimeta.FindStatusCondition(conds, typ)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == gen && !c.LastTransitionTime.IsZero()
}

func TestStatusFromRealObjects(t *testing.T) {
	g := NewWithT(t)
	env, err := testenv.Start(testenv.Options{GatewayAPI: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	c, err := cache.New(env.Config, cache.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	cl, err := client.New(env.Config, client.Options{Scheme: env.Scheme, Cache: &client.CacheOptions{Reader: c}})
	g.Expect(err).NotTo(HaveOccurred())
	k, err := client.New(env.Config, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())

	px := proxy.New(proxy.Options{})
	writer := &status.Writer{Client: cl, GatewayAPI: true}
	builder := &watch.Builder{
		Cache: c, Reader: c, GatewayAPI: true,
		Addresses: watch.Addresses{Static: []string{"10.250.0.1"}},
		Publish:   func(tb *ir.Table) error { px.Publish(tb); return nil },
		Status:    writer.Update, Debounce: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond,
	}
	go func() { _ = c.Start(ctx) }()
	go func() { _ = builder.Start(ctx) }()
	go func() { _ = writer.Start(ctx) }()

	all := gwv1.NamespacesFromAll
	for _, ns := range []string{"pylon-system", "app"} {
		g.Expect(k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	}
	g.Expect(k.Create(ctx, &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "pylon"}, Spec: gwv1.GatewayClassSpec{ControllerName: "pylon.dev/gateway"}})).To(Succeed())
	g.Expect(k.Create(ctx, &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: "pylon-system", Name: "pylon"},
		Spec: gwv1.GatewaySpec{
			GatewayClassName: "pylon",
			Listeners: []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType,
				AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: &all}}}},
			AllowedListeners: &gwv1.AllowedListeners{Namespaces: &gwv1.ListenerNamespaces{From: ptr.To(gwv1.NamespacesFromAll)}},
		},
	})).To(Succeed())
	g.Expect(k.Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	})).To(Succeed())
	g.Expect(k.Create(ctx, &gwv1.ListenerSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "ls"},
		Spec: gwv1.ListenerSetSpec{
			ParentRef: gwv1.ParentGatewayReference{Name: "pylon", Namespace: ptr.To(gwv1.Namespace("pylon-system"))},
			Listeners: []gwv1.ListenerEntry{{Name: "extra", Port: 8080, Protocol: gwv1.HTTPProtocolType, Hostname: ptr.To(gwv1.Hostname("ls.example.com"))}},
		},
	})).To(Succeed())
	route := &gwv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web"},
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "pylon", Namespace: ptr.To(gwv1.Namespace("pylon-system"))}}},
			Hostnames:       []gwv1.Hostname{"web.example.com"},
			Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{
				BackendObjectReference: gwv1.BackendObjectReference{Name: "web", Port: ptr.To(gwv1.PortNumber(80))}}}}}},
		},
	}
	g.Expect(k.Create(ctx, route)).To(Succeed())
	// Another controller's entry, which the writer must leave alone.
	foreign := gwv1.RouteParentStatus{
		ParentRef: gwv1.ParentReference{Group: ptr.To(gwv1.Group("gateway.networking.k8s.io")), Kind: ptr.To(gwv1.Kind("Gateway")),
			Name: "theirs", Namespace: ptr.To(gwv1.Namespace("elsewhere"))},
		ControllerName: "example.com/other",
		Conditions: []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", Message: "theirs",
			ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(time.Unix(1700000000, 0))}},
	}
	g.Eventually(func() error {
		var r gwv1.HTTPRoute
		if err := k.Get(ctx, client.ObjectKeyFromObject(route), &r); err != nil {
			return err
		}
		r.Status.Parents = append(r.Status.Parents, foreign)
		return k.Status().Update(ctx, &r)
	}, 10*time.Second, 100*time.Millisecond).Should(Succeed())
	g.Expect(k.Create(ctx, &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "pylon"}, Spec: networkingv1.IngressClassSpec{Controller: "pylon.dev/ingress"}})).To(Succeed())
	g.Expect(k.Create(ctx, &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web"},
		Spec: networkingv1.IngressSpec{IngressClassName: ptr.To("pylon"), DefaultBackend: &networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}},
	})).To(Succeed())

	wait := func(f func(g Gomega)) { g.Eventually(f, 20*time.Second, 100*time.Millisecond).Should(Succeed()) }
	wait(func(g Gomega) {
		var gc gwv1.GatewayClass
		g.Expect(k.Get(ctx, types.NamespacedName{Name: "pylon"}, &gc)).To(Succeed())
		g.Expect(condTrue(gc.Status.Conditions, "Accepted", gc.Generation)).To(BeTrue(), "GatewayClass %+v", gc.Status)
	})
	wait(func(g Gomega) {
		var gw gwv1.Gateway
		g.Expect(k.Get(ctx, types.NamespacedName{Namespace: "pylon-system", Name: "pylon"}, &gw)).To(Succeed())
		g.Expect(condTrue(gw.Status.Conditions, "Accepted", gw.Generation)).To(BeTrue(), "Gateway %+v", gw.Status)
		g.Expect(condTrue(gw.Status.Conditions, "Programmed", gw.Generation)).To(BeTrue(), "Gateway %+v", gw.Status)
		g.Expect(gw.Status.Addresses).To(HaveLen(1))
		g.Expect(gw.Status.Addresses[0].Value).To(Equal("10.250.0.1"))
		g.Expect(*gw.Status.Addresses[0].Type).To(Equal(gwv1.IPAddressType))
		g.Expect(gw.Status.Listeners).To(HaveLen(1))
		g.Expect(gw.Status.Listeners[0].AttachedRoutes).To(Equal(int32(1)))
		g.Expect(*gw.Status.AttachedListenerSets).To(Equal(int32(1)))
	})
	wait(func(g Gomega) {
		var ls gwv1.ListenerSet
		g.Expect(k.Get(ctx, types.NamespacedName{Namespace: "app", Name: "ls"}, &ls)).To(Succeed())
		g.Expect(condTrue(ls.Status.Conditions, "Accepted", ls.Generation)).To(BeTrue(), "ListenerSet %+v", ls.Status)
		g.Expect(condTrue(ls.Status.Conditions, "Programmed", ls.Generation)).To(BeTrue(), "ListenerSet %+v", ls.Status)
		g.Expect(ls.Status.Listeners).To(HaveLen(1))
	})
	checkRoute := func(g Gomega) {
		var r gwv1.HTTPRoute
		g.Expect(k.Get(ctx, client.ObjectKeyFromObject(route), &r)).To(Succeed())
		g.Expect(r.Status.Parents).To(HaveLen(2), "parents %+v", r.Status.Parents)
		g.Expect(r.Status.Parents[0]).To(Equal(foreign), "the other controller's entry changed")
		ours := r.Status.Parents[1]
		g.Expect(ours.ControllerName).To(Equal(gwv1.GatewayController("pylon.dev/gateway")))
		g.Expect(*ours.ParentRef.Group).To(Equal(gwv1.Group("gateway.networking.k8s.io")))
		g.Expect(*ours.ParentRef.Kind).To(Equal(gwv1.Kind("Gateway")))
		g.Expect(condTrue(ours.Conditions, "Accepted", r.Generation)).To(BeTrue(), "route %+v", ours)
		g.Expect(condTrue(ours.Conditions, "ResolvedRefs", r.Generation)).To(BeTrue(), "route %+v", ours)
	}
	wait(checkRoute)
	wait(func(g Gomega) {
		var in networkingv1.Ingress
		g.Expect(k.Get(ctx, types.NamespacedName{Namespace: "app", Name: "web"}, &in)).To(Succeed())
		g.Expect(in.Status.LoadBalancer.Ingress).To(Equal([]networkingv1.IngressLoadBalancerIngress{{IP: "10.250.0.1"}}))
	})

	// An Ingress moved to another controller's class loses our address.
	g.Expect(k.Create(ctx, &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "other"}, Spec: networkingv1.IngressClassSpec{Controller: "example.com/other"}})).To(Succeed())
	g.Eventually(func() error {
		var in networkingv1.Ingress
		if err := k.Get(ctx, types.NamespacedName{Namespace: "app", Name: "web"}, &in); err != nil {
			return err
		}
		in.Spec.IngressClassName = ptr.To("other")
		return k.Update(ctx, &in)
	}, 10*time.Second, 100*time.Millisecond).Should(Succeed())
	wait(func(g Gomega) {
		var in networkingv1.Ingress
		g.Expect(k.Get(ctx, types.NamespacedName{Namespace: "app", Name: "web"}, &in)).To(Succeed())
		g.Expect(in.Status.LoadBalancer.Ingress).To(BeEmpty())
	})

	// A spec change bumps the generation; every condition follows.
	g.Eventually(func() error {
		var r gwv1.HTTPRoute
		if err := k.Get(ctx, client.ObjectKeyFromObject(route), &r); err != nil {
			return err
		}
		r.Spec.Hostnames = append(r.Spec.Hostnames, "www.example.com")
		return k.Update(ctx, &r)
	}, 10*time.Second, 100*time.Millisecond).Should(Succeed())
	wait(checkRoute)

	// The table was built from the same objects and routes the hostname.
	g.Expect(px.State()).NotTo(BeNil())
	res := ir.Match(px.State().Table, ir.ListenerKey{Port: 80}, &ir.Request{Host: "web.example.com", Path: "/", Method: "GET"})
	g.Expect(res.Route).NotTo(BeNil())
	g.Expect(builder.Generations()).To(BeNumerically(">", 0))

	// Steady state: no further status writes (resourceVersion stable).
	var before, after gwv1.Gateway
	g.Expect(k.Get(ctx, types.NamespacedName{Namespace: "pylon-system", Name: "pylon"}, &before)).To(Succeed())
	time.Sleep(500 * time.Millisecond)
	g.Expect(k.Get(ctx, types.NamespacedName{Namespace: "pylon-system", Name: "pylon"}, &after)).To(Succeed())
	g.Expect(after.ResourceVersion).To(Equal(before.ResourceVersion))
}
