package controller_test

import (
	"fmt"
	"testing"
	"time"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/contract"
	externaldnsv1alpha1 "github.com/pylon-dev/pylon/internal/externaldns/v1alpha1"
	"github.com/pylon-dev/pylon/test/testcerts"
)

// --- fixtures: what a platform team and the other controllers provide ---

// gatewayClass creates an ExposureClass of type Gateway over a Gateway
// "web" in a fresh namespace, and returns the class name and Gateway.
func gatewayClass(t *testing.T, mutate func(*pylonv1alpha1.ExposureClass)) (string, *gwv1.Gateway) {
	t.Helper()
	infra := newNamespace(t)
	gw := &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: infra, Name: "web"},
		Spec: gwv1.GatewaySpec{
			GatewayClassName: "example",
			Listeners:        []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}},
		},
	}
	if err := k8s.Create(ctx, gw); err != nil {
		t.Fatal(err)
	}
	c := &pylonv1alpha1.ExposureClass{
		ObjectMeta: metav1.ObjectMeta{Name: "gw-" + infra},
		Spec: pylonv1alpha1.ExposureClassSpec{
			Type:    pylonv1alpha1.ExposureGateway,
			Gateway: &pylonv1alpha1.GatewayReference{Name: "web", Namespace: infra, HTTPListener: "http"},
			TLS:     &pylonv1alpha1.ExposureClassTLS{IssuerRef: &pylonv1alpha1.IssuerReference{Name: "letsencrypt", Kind: "ClusterIssuer"}},
		},
	}
	if mutate != nil {
		mutate(c)
	}
	createClass(t, c)
	return c.Name, gw
}

// ingressClass creates an IngressClass of controller and an ExposureClass of
// type Ingress over it.
func ingressClass(t *testing.T, controllerName string, mutate func(*pylonv1alpha1.ExposureClass)) string {
	t.Helper()
	name := fmt.Sprintf("ing-%d", nsCounter.Add(1))
	ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: networkingv1.IngressClassSpec{Controller: controllerName}}
	if err := k8s.Create(ctx, ic); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx, ic) })
	c := &pylonv1alpha1.ExposureClass{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: pylonv1alpha1.ExposureClassSpec{
			Type:             pylonv1alpha1.ExposureIngress,
			IngressClassName: name,
			TLS:              &pylonv1alpha1.ExposureClassTLS{IssuerRef: &pylonv1alpha1.IssuerReference{Name: "letsencrypt", Kind: "ClusterIssuer"}},
		},
	}
	if mutate != nil {
		mutate(c)
	}
	createClass(t, c)
	return name
}

func createClass(t *testing.T, c *pylonv1alpha1.ExposureClass) {
	t.Helper()
	if err := k8s.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx, c) })
}

// tlsSecret creates a kubernetes.io/tls Secret for hosts valid until notAfter.
func tlsSecret(t *testing.T, ns, name string, hosts []string, notAfter time.Time) {
	t.Helper()
	if err := k8s.Create(ctx, testcerts.TLSSecret(t, ns, name, hosts, time.Now().Add(-time.Hour), notAfter)); err != nil {
		t.Fatal(err)
	}
}

// acceptRoute writes the status a Gateway controller writes when it accepts
// the route on every parent, at generation gen.
func acceptRoute(g Gomega, ns, name string, gen func(*gwv1.HTTPRoute) int64) {
	r := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	g.EventuallyWithOffset(1, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(r), r); err != nil {
			return err
		}
		r.Status.Parents = nil
		for _, p := range r.Spec.ParentRefs {
			r.Status.Parents = append(r.Status.Parents, gwv1.RouteParentStatus{
				ParentRef: p, ControllerName: "example.com/gateway",
				Conditions: []metav1.Condition{
					{Type: "Accepted", Status: "True", Reason: "Accepted", ObservedGeneration: gen(r), LastTransitionTime: metav1.Now()},
					{Type: "ResolvedRefs", Status: "True", Reason: "ResolvedRefs", ObservedGeneration: gen(r), LastTransitionTime: metav1.Now()},
				},
			})
		}
		return k8s.Status().Update(ctx, r)
	}, timeout, poll).Should(Succeed())
}

func current(r *gwv1.HTTPRoute) int64 { return r.Generation }

func acceptListenerSet(g Gomega, ns, name string) {
	ls := &gwv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	g.EventuallyWithOffset(1, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ls), ls); err != nil {
			return err
		}
		ls.Status.Conditions = []metav1.Condition{
			{Type: "Accepted", Status: "True", Reason: "Accepted", ObservedGeneration: ls.Generation, LastTransitionTime: metav1.Now()},
			{Type: "Programmed", Status: "True", Reason: "Programmed", ObservedGeneration: ls.Generation, LastTransitionTime: metav1.Now()},
		}
		return k8s.Status().Update(ctx, ls)
	}, timeout, poll).Should(Succeed())
}

func issueCertificate(g Gomega, ns, name string, status cmmeta.ConditionStatus) {
	crt := &certmanagerv1.Certificate{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	g.EventuallyWithOffset(1, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(crt), crt); err != nil {
			return err
		}
		now := metav1.Now()
		crt.Status.Conditions = []certmanagerv1.CertificateCondition{{Type: certmanagerv1.CertificateConditionReady, Status: status, Reason: "Issued", Message: "certificate is up to date", ObservedGeneration: crt.Generation, LastTransitionTime: &now}}
		return k8s.Status().Update(ctx, crt)
	}, timeout, poll).Should(Succeed())
}

func setGatewayAddress(g Gomega, gw *gwv1.Gateway, addr string) {
	g.EventuallyWithOffset(1, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(gw), gw); err != nil {
			return err
		}
		gw.Status.Addresses = []gwv1.GatewayStatusAddress{{Type: ptr.To(gwv1.IPAddressType), Value: addr}}
		return k8s.Status().Update(ctx, gw)
	}, timeout, poll).Should(Succeed())
}

func deploymentAvailable(g Gomega, ns, name string) {
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	g.EventuallyWithOffset(1, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(dep), dep); err != nil {
			return err
		}
		n := ptr.Deref(dep.Spec.Replicas, 1)
		dep.Status = appsv1.DeploymentStatus{ObservedGeneration: dep.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable", LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()}}}
		return k8s.Status().Update(ctx, dep)
	}, timeout, poll).Should(Succeed())
}

func absent(obj client.Object) func() bool {
	return func() bool { return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj)) }
}

func condition(app *pylonv1alpha1.WebApp, t string) *metav1.Condition {
	return meta.FindStatusCondition(app.Status.Conditions, t)
}

// --- scenarios ---

// TestClassTypesAndTLSModes: each class type with each TLS mode makes the
// right children, and reports the right URL.
func TestClassTypesAndTLSModes(t *testing.T) {
	gwClass, _ := gatewayClass(t, nil)
	ingClass := ingressClass(t, "k8s.io/ingress-nginx", nil)
	local := &pylonv1alpha1.ExposureClass{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("local-%d", nsCounter.Add(1))}, Spec: pylonv1alpha1.ExposureClassSpec{Type: pylonv1alpha1.ExposureClusterLocal}}
	createClass(t, local)

	type want struct {
		route, redirect, listenerSet, ingress, certificate bool
		url                                                string
	}
	cases := []struct {
		name, class string
		tls         *pylonv1alpha1.TLSSpec
		want        want
	}{
		{"gateway-disabled", gwClass, nil, want{route: true, url: "http://%s/"}},
		{"gateway-auto", gwClass, &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSAuto}, want{route: true, redirect: true, listenerSet: true, certificate: true, url: "https://%s/"}},
		{"gateway-secret", gwClass, &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSSecret, SecretName: "own"}, want{route: true, redirect: true, listenerSet: true, url: "https://%s/"}},
		{"ingress-disabled", ingClass, nil, want{ingress: true, url: "http://%s/"}},
		{"ingress-auto", ingClass, &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSAuto}, want{ingress: true, certificate: true, url: "https://%s/"}},
		{"ingress-secret", ingClass, &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSSecret, SecretName: "own"}, want{ingress: true, url: "https://%s/"}},
		{"clusterlocal", local.Name, nil, want{url: "http://web.%s.svc.cluster.local/"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := NewWithT(t)
			ns := newNamespace(t)
			host := c.name + "." + ns + ".example.com"
			app := newWebApp(t, ns, "web", func(a *pylonv1alpha1.WebApp) {
				a.Spec.Hostname = host
				a.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: c.class}
				a.Spec.TLS = c.tls
			})
			wantURL := fmt.Sprintf(c.want.url, host)
			if c.name == "clusterlocal" {
				wantURL = fmt.Sprintf(c.want.url, ns)
			}
			g.Eventually(func(g Gomega) {
				get(g, app)
				g.Expect(app.Status.URL).To(Equal(wantURL))
			}, timeout, poll).Should(Succeed())
			for _, o := range []struct {
				obj  client.Object
				want bool
			}{
				{&gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}}, c.want.route},
				{&gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web-redirect"}}, c.want.redirect},
				{&gwv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}}, c.want.listenerSet},
				{&networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}}, c.want.ingress},
				{&certmanagerv1.Certificate{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}}, c.want.certificate},
			} {
				if o.want {
					g.Eventually(func(g Gomega) { get(g, o.obj) }, timeout, poll).Should(Succeed(), "%T exists", o.obj)
					expectChildMeta(g, o.obj, app)
					g.Expect(o.obj.GetAnnotations()).NotTo(HaveKey(HavePrefix("cert-manager.io/")), "no issuer annotations on route objects")
				} else {
					g.Expect(absent(o.obj)()).To(BeTrue(), "%T must not exist", o.obj)
				}
			}
			if c.want.ingress {
				ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}}
				get(g, ing)
				g.Expect(ing.Spec.IngressClassName).To(HaveValue(Equal(c.class)))
				g.Expect(ing.Spec.Rules[0].Host).To(Equal(host))
				g.Expect(*ing.Spec.Rules[0].HTTP.Paths[0].PathType).To(Equal(networkingv1.PathTypePrefix))
				g.Expect(ing.Spec.TLS != nil).To(Equal(c.tls != nil))
			}
		})
	}
}

// TestGatewayStatusRollUp: Routed, CertificateReady, DNSReady and Ready move
// as the Gateway controller, cert-manager and external-dns write status, and
// status about an older generation does not count.
func TestGatewayStatusRollUp(t *testing.T) {
	g := NewWithT(t)
	class, gw := gatewayClass(t, func(c *pylonv1alpha1.ExposureClass) {
		c.Spec.DNS = &pylonv1alpha1.ExposureClassDNS{Mode: pylonv1alpha1.DNSEndpoint, TTL: 60}
	})
	ns := newNamespace(t)
	host := "shop." + ns + ".example.com"
	app := newWebApp(t, ns, "shop", func(a *pylonv1alpha1.WebApp) {
		a.Spec.Hostname = host
		a.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: class}
		a.Spec.TLS = &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSAuto}
	})
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionHostnameClaimed, metav1.ConditionTrue, pylonv1alpha1.ReasonHostnameClaimed)
		expectCondition(g, app, pylonv1alpha1.ConditionRouted, metav1.ConditionUnknown, pylonv1alpha1.ReasonPending)
		expectCondition(g, app, pylonv1alpha1.ConditionCertificateReady, metav1.ConditionUnknown, pylonv1alpha1.ReasonPending)
		expectCondition(g, app, pylonv1alpha1.ConditionDNSReady, metav1.ConditionUnknown, pylonv1alpha1.ReasonAddressPending)
		g.Expect(app.Status.URL).To(Equal("https://" + host + "/"))
	}, timeout, poll).Should(Succeed())

	// The Gateway controller answers, but about an older generation: no.
	acceptRoute(g, ns, "shop", func(r *gwv1.HTTPRoute) int64 { return r.Generation - 1 })
	acceptRoute(g, ns, "shop-redirect", current)
	acceptListenerSet(g, ns, "shop")
	g.Consistently(func(g Gomega) {
		get(g, app)
		g.Expect(condition(app, pylonv1alpha1.ConditionRouted).Status).To(Equal(metav1.ConditionUnknown))
	}, time.Second, poll).Should(Succeed())

	// Now at the current generation.
	acceptRoute(g, ns, "shop", current)
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionRouted, metav1.ConditionTrue, pylonv1alpha1.ReasonRouted)
	}, timeout, poll).Should(Succeed())

	// A parent that refuses the route: its reason is carried up.
	r := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop-redirect"}}
	g.Eventually(func() error {
		get(g, r)
		r.Status.Parents[0].Conditions[0].Status = "False"
		r.Status.Parents[0].Conditions[0].Reason = "NotAllowedByListeners"
		r.Status.Parents[0].Conditions[0].Message = "namespace not allowed"
		return k8s.Status().Update(ctx, r)
	}, timeout, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionRouted, metav1.ConditionFalse, "NotAllowedByListeners")
		g.Expect(condition(app, pylonv1alpha1.ConditionRouted).Message).To(ContainSubstring("namespace not allowed"))
	}, timeout, poll).Should(Succeed())
	acceptRoute(g, ns, "shop-redirect", current)

	// cert-manager says Ready, but about an older generation: no.
	crt := &certmanagerv1.Certificate{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	g.Eventually(func() error {
		get(g, crt)
		now := metav1.Now()
		crt.Status.Conditions = []certmanagerv1.CertificateCondition{{Type: certmanagerv1.CertificateConditionReady, Status: cmmeta.ConditionTrue, Reason: "Ready", ObservedGeneration: crt.Generation - 1, LastTransitionTime: &now}}
		return k8s.Status().Update(ctx, crt)
	}, timeout, poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		get(g, app)
		g.Expect(condition(app, pylonv1alpha1.ConditionCertificateReady).Status).To(Equal(metav1.ConditionUnknown))
	}, time.Second, poll).Should(Succeed())

	// cert-manager issues the certificate.
	issueCertificate(g, ns, "shop", cmmeta.ConditionTrue)
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionCertificateReady, metav1.ConditionTrue, pylonv1alpha1.ReasonCertificateReady)
	}, timeout, poll).Should(Succeed())

	// The Gateway gets an address: the DNSEndpoint appears; external-dns
	// takes it up.
	setGatewayAddress(g, gw, "192.0.2.10")
	dnse := &externaldnsv1alpha1.DNSEndpoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	g.Eventually(func(g Gomega) {
		get(g, dnse)
		g.Expect(dnse.Spec.Endpoints).To(HaveLen(1))
		g.Expect(dnse.Spec.Endpoints[0].DNSName).To(Equal(host))
		g.Expect(dnse.Spec.Endpoints[0].Targets).To(Equal([]string{"192.0.2.10"}))
		g.Expect(dnse.Spec.Endpoints[0].RecordType).To(Equal("A"))
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionDNSReady, metav1.ConditionUnknown, pylonv1alpha1.ReasonWaitingForExternalDNS)
	}, timeout, poll).Should(Succeed())
	// external-dns writes status.observedGeneration as its crd source does.
	observeDNSEndpoint(g, dnse)

	// Last, the Pods: everything is True, Ready too.
	deploymentAvailable(g, ns, "shop")
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionDNSReady, metav1.ConditionTrue, pylonv1alpha1.ReasonProcessedByExternalDNS)
		g.Expect(condition(app, pylonv1alpha1.ConditionDNSReady).Message).To(ContainSubstring(host + " -> 192.0.2.10"))
		expectCondition(g, app, pylonv1alpha1.ConditionReady, metav1.ConditionTrue, pylonv1alpha1.ReasonReady)
		g.Expect(condition(app, pylonv1alpha1.ConditionReconciling)).To(BeNil())
	}, timeout, poll).Should(Succeed())

	// The Gateway moves: Pylon rewrites the DNSEndpoint (a new generation)
	// and DNSReady stops claiming the record is published until
	// external-dns has processed that generation, however long it takes.
	get(g, dnse)
	published := dnse.Generation
	setGatewayAddress(g, gw, "192.0.2.11")
	g.Eventually(func(g Gomega) {
		get(g, dnse)
		g.Expect(dnse.Spec.Endpoints).To(HaveLen(1))
		g.Expect(dnse.Spec.Endpoints[0].Targets).To(Equal([]string{"192.0.2.11"}))
		g.Expect(dnse.Generation).To(BeNumerically(">", published))
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionDNSReady, metav1.ConditionUnknown, pylonv1alpha1.ReasonWaitingForExternalDNS)
		g.Expect(condition(app, pylonv1alpha1.ConditionDNSReady).Message).To(ContainSubstring(fmt.Sprintf("it last processed generation %d", published)))
		expectCondition(g, app, pylonv1alpha1.ConditionReady, metav1.ConditionUnknown, pylonv1alpha1.ReasonWaitingForExternalDNS)
	}, timeout, poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		get(g, app)
		g.Expect(condition(app, pylonv1alpha1.ConditionDNSReady).Status).To(Equal(metav1.ConditionUnknown))
	}, time.Second, poll).Should(Succeed())
	observeDNSEndpoint(g, dnse)
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionDNSReady, metav1.ConditionTrue, pylonv1alpha1.ReasonProcessedByExternalDNS)
		g.Expect(condition(app, pylonv1alpha1.ConditionDNSReady).Message).To(ContainSubstring(host + " -> 192.0.2.11"))
		expectCondition(g, app, pylonv1alpha1.ConditionReady, metav1.ConditionTrue, pylonv1alpha1.ReasonReady)
	}, timeout, poll).Should(Succeed())
}

// observeDNSEndpoint writes what external-dns' crd source writes after a
// sync read the DNSEndpoint: status.observedGeneration = metadata.generation.
func observeDNSEndpoint(g Gomega, d *externaldnsv1alpha1.DNSEndpoint) {
	g.EventuallyWithOffset(1, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
			return err
		}
		d.Status.ObservedGeneration = d.Generation
		return k8s.Status().Update(ctx, d)
	}, timeout, poll).Should(Succeed())
}

// TestCanaryWeights walks the canary through 0 → 10 → 50 → 100 → 0 and a
// header-only canary, its Pods available at each step.
func TestCanaryWeights(t *testing.T) {
	g := NewWithT(t)
	class, _ := gatewayClass(t, nil)
	ns := newNamespace(t)
	app := newWebApp(t, ns, "shop", func(a *pylonv1alpha1.WebApp) {
		a.Spec.Hostname = "shop." + ns + ".example.com"
		a.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: class}
		a.Spec.Replicas = ptr.To[int32](4)
		a.Spec.Canary = &pylonv1alpha1.CanarySpec{Image: "registry.example.com/shop:2.0.0", Weight: 0}
	})
	route := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	canary := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop-canary"}}
	canarySvc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop-canary"}}
	weights := func(g Gomega) []int32 {
		get(g, route)
		var out []int32
		for _, b := range route.Spec.Rules[len(route.Spec.Rules)-1].BackendRefs {
			out = append(out, ptr.Deref(b.Weight, 1))
		}
		return out
	}

	g.Eventually(func(g Gomega) { g.Expect(weights(g)).To(Equal([]int32{100})) }, timeout, poll).Should(Succeed())
	g.Expect(absent(canary)()).To(BeTrue(), "weight 0 without a header match: no canary")
	deploymentAvailable(g, ns, "shop")

	for _, step := range []struct{ weight, replicas int32 }{{10, 1}, {50, 2}, {100, 4}} {
		update(t, app, func(a *pylonv1alpha1.WebApp) { a.Spec.Canary.Weight = step.weight })
		// The canary's share is routed once it has available Pods and its
		// Service lists a ready endpoint.
		deploymentAvailable(g, ns, "shop-canary")
		endpointSlice(g, ns, "shop-canary", "shop-canary-a", true, true)
		g.Eventually(func(g Gomega) {
			g.Expect(weights(g)).To(Equal([]int32{100 - step.weight, step.weight}))
			get(g, canary)
			g.Expect(canary.Spec.Replicas).To(HaveValue(Equal(step.replicas)))
			g.Expect(canary.Spec.Template.Spec.Containers[0].Image).To(Equal("registry.example.com/shop:2.0.0"))
			g.Expect(canary.Spec.Selector.MatchLabels).To(HaveKeyWithValue("pylon.dev/track", "canary"))
			get(g, canarySvc)
			get(g, app)
			g.Expect(app.Status.Canary).NotTo(BeNil())
			g.Expect(app.Status.Canary.Weight).To(Equal(step.weight))
			g.Expect(condition(app, pylonv1alpha1.ConditionCanaryAvailable)).NotTo(BeNil())
		}, timeout, poll).Should(Succeed(), "weight %d", step.weight)
	}

	// Back to 0: canary objects are removed and all traffic is stable.
	update(t, app, func(a *pylonv1alpha1.WebApp) { a.Spec.Canary.Weight = 0 })
	g.Eventually(func(g Gomega) {
		g.Expect(weights(g)).To(Equal([]int32{100}))
		g.Expect(absent(canary)()).To(BeTrue())
		g.Expect(absent(canarySvc)()).To(BeTrue())
		get(g, app)
		g.Expect(app.Status.Canary).To(BeNil())
		g.Expect(condition(app, pylonv1alpha1.ConditionCanaryAvailable)).To(BeNil())
	}, timeout, poll).Should(Succeed())

	// Header-only: one canary Pod, a header rule first, weight 0 in the split.
	update(t, app, func(a *pylonv1alpha1.WebApp) {
		a.Spec.Canary.HeaderMatch = &pylonv1alpha1.HeaderMatch{Name: "x-release-track", Value: "canary"}
	})
	g.Eventually(func(g Gomega) {
		get(g, route)
		g.Expect(route.Spec.Rules).To(HaveLen(2))
		g.Expect(route.Spec.Rules[0].Matches[0].Headers).To(ConsistOf(gwv1.HTTPHeaderMatch{Type: ptr.To(gwv1.HeaderMatchExact), Name: "x-release-track", Value: "canary"}))
		g.Expect(route.Spec.Rules[0].BackendRefs).To(HaveLen(1))
		g.Expect(string(route.Spec.Rules[0].BackendRefs[0].Name)).To(Equal("shop-canary"))
		g.Expect(weights(g)).To(Equal([]int32{100, 0}))
		get(g, canary)
		g.Expect(canary.Spec.Replicas).To(HaveValue(BeEquivalentTo(1)))
	}, timeout, poll).Should(Succeed())
}

// TestHostnameConflictAndTakeover: one hostname, two namespaces: the older
// WebApp holds it; the later gets no route; after the holder is deleted the
// later takes over. Case and trailing-dot variants never reach the claim.
func TestHostnameConflictAndTakeover(t *testing.T) {
	g := NewWithT(t)
	class, _ := gatewayClass(t, nil)
	nsA, nsB := newNamespace(t), newNamespace(t)
	host := "shared." + nsA + ".example.com"
	spec := func(a *pylonv1alpha1.WebApp) {
		a.Spec.Hostname = host
		a.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: class}
	}
	first := newWebApp(t, nsA, "shop", spec)
	g.Eventually(func(g Gomega) {
		get(g, first)
		expectCondition(g, first, pylonv1alpha1.ConditionHostnameClaimed, metav1.ConditionTrue, pylonv1alpha1.ReasonHostnameClaimed)
	}, timeout, poll).Should(Succeed())
	second := newWebApp(t, nsB, "shop", spec)
	g.Eventually(func(g Gomega) {
		get(g, second)
		expectCondition(g, second, pylonv1alpha1.ConditionHostnameClaimed, metav1.ConditionFalse, pylonv1alpha1.ReasonHostnameConflict)
		g.Expect(condition(second, pylonv1alpha1.ConditionHostnameClaimed).Message).To(ContainSubstring(nsA + "/shop"))
		expectCondition(g, second, pylonv1alpha1.ConditionStalled, metav1.ConditionTrue, pylonv1alpha1.ReasonHostnameConflict)
		g.Expect(second.Status.URL).To(HavePrefix("http://shop." + nsB + ".svc"))
	}, timeout, poll).Should(Succeed())
	secondRoute := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: nsB, Name: "shop"}}
	g.Consistently(absent(secondRoute), time.Second, poll).Should(BeTrue(), "no route for the later claimant")
	g.Expect(absent(&gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: nsA, Name: "shop"}})()).To(BeFalse(), "the holder keeps its route")

	// Variants of the held name are refused before they can compete.
	for _, variant := range []string{"Shared." + nsA + ".example.com", host + "."} {
		err := k8s.Create(ctx, &pylonv1alpha1.WebApp{
			ObjectMeta: metav1.ObjectMeta{Namespace: nsB, Name: "variant"},
			Spec:       pylonv1alpha1.WebAppSpec{Image: "x:1", Hostname: variant},
		})
		g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "variant %q: %v", variant, err)
	}

	// The holder goes: the waiting WebApp takes over.
	g.Expect(k8s.Delete(ctx, first)).To(Succeed())
	g.Eventually(func(g Gomega) {
		get(g, second)
		expectCondition(g, second, pylonv1alpha1.ConditionHostnameClaimed, metav1.ConditionTrue, pylonv1alpha1.ReasonHostnameClaimed)
		get(g, secondRoute)
		g.Expect(secondRoute.Spec.Hostnames).To(ConsistOf(gwv1.Hostname(host)))
	}, timeout, poll).Should(Succeed())
}

// TestClassPolicyRefusals: a hostname outside allowedDomains and a
// namespace outside allowedNamespaces are refused, each with its reason.
func TestClassPolicyRefusals(t *testing.T) {
	g := NewWithT(t)
	class, _ := gatewayClass(t, func(c *pylonv1alpha1.ExposureClass) {
		c.Spec.AllowedDomains = []string{"*.apps.example.com"}
		c.Spec.AllowedNamespaces = &pylonv1alpha1.AllowedNamespaces{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"pylon.dev/public": "true"}}}
	})
	ns := newNamespace(t)
	app := newWebApp(t, ns, "shop", func(a *pylonv1alpha1.WebApp) {
		a.Spec.Hostname = "shop." + ns + ".apps.example.com"
		a.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: class}
	})
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionHostnameClaimed, metav1.ConditionFalse, pylonv1alpha1.ReasonNamespaceNotAllowed)
		expectCondition(g, app, pylonv1alpha1.ConditionRouted, metav1.ConditionFalse, pylonv1alpha1.ReasonNamespaceNotAllowed)
	}, timeout, poll).Should(Succeed())

	// The platform team labels the namespace: allowed at once.
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	g.Eventually(func() error {
		get(g, nsObj)
		nsObj.Labels["pylon.dev/public"] = "true"
		return k8s.Update(ctx, nsObj)
	}, timeout, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionHostnameClaimed, metav1.ConditionTrue, pylonv1alpha1.ReasonHostnameClaimed)
	}, timeout, poll).Should(Succeed())

	// A hostname outside the class's domains.
	update(t, app, func(a *pylonv1alpha1.WebApp) { a.Spec.Hostname = "shop.example.org" })
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionHostnameClaimed, metav1.ConditionFalse, pylonv1alpha1.ReasonDomainNotAllowed)
		g.Expect(condition(app, pylonv1alpha1.ConditionHostnameClaimed).Message).To(ContainSubstring("*.apps.example.com"))
		g.Expect(absent(&gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}})()).To(BeTrue(), "refused: the route is removed")
	}, timeout, poll).Should(Succeed())
}

// TestSecretModeChecksTheCertificate: the team's Secret must exist, cover
// the hostname and be valid; the verdict follows the Secret and the clock.
func TestSecretModeChecksTheCertificate(t *testing.T) {
	g := NewWithT(t)
	class := ingressClass(t, "example.com/other", nil)
	ns := newNamespace(t)
	host := "shop." + ns + ".example.com"
	app := newWebApp(t, ns, "shop", func(a *pylonv1alpha1.WebApp) {
		a.Spec.Hostname = host
		a.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: class}
		a.Spec.TLS = &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSSecret, SecretName: "shop-cert"}
	})
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionCertificateReady, metav1.ConditionFalse, pylonv1alpha1.ReasonSecretNotFound)
	}, timeout, poll).Should(Succeed())

	// A certificate for another host: refused, the reason says so.
	tlsSecret(t, ns, "shop-cert", []string{"www.example.com"}, time.Now().Add(30*24*time.Hour))
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionCertificateReady, metav1.ConditionFalse, pylonv1alpha1.ReasonHostnameNotCovered)
		g.Expect(condition(app, pylonv1alpha1.ConditionCertificateReady).Message).To(ContainSubstring("www.example.com, not " + host))
	}, timeout, poll).Should(Succeed())

	// The right certificate.
	g.Expect(k8s.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop-cert"}})).To(Succeed())
	tlsSecret(t, ns, "shop-cert", []string{host}, time.Now().Add(30*24*time.Hour))
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionCertificateReady, metav1.ConditionTrue, pylonv1alpha1.ReasonCertificateReady)
	}, timeout, poll).Should(Succeed())

	// Time passes beyond its expiry: the next reconcile says it expired.
	testClock.Set(time.Now().Add(31 * 24 * time.Hour))
	t.Cleanup(func() { testClock.Set(time.Time{}) })
	update(t, app, func(a *pylonv1alpha1.WebApp) { a.Spec.Port = 9090 })
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionCertificateReady, metav1.ConditionFalse, pylonv1alpha1.ReasonCertificateExpired)
	}, timeout, poll).Should(Succeed())
}

// TestIngressCanaryAndAddress: an Ingress controller that supports canaries
// gets a canary Ingress; Routed follows the Ingress's address; one that
// does not is reported, never silently.
func TestIngressCanaryAndAddress(t *testing.T) {
	g := NewWithT(t)
	nginx := ingressClass(t, "k8s.io/ingress-nginx", func(c *pylonv1alpha1.ExposureClass) {
		c.Spec.DNS = &pylonv1alpha1.ExposureClassDNS{Mode: pylonv1alpha1.DNSExternalDNS, TTL: 120}
	})
	other := ingressClass(t, "example.com/other", nil)
	ns := newNamespace(t)
	app := newWebApp(t, ns, "shop", func(a *pylonv1alpha1.WebApp) {
		a.Spec.Hostname = "shop." + ns + ".example.com"
		a.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: nginx}
		a.Spec.Canary = &pylonv1alpha1.CanarySpec{Image: "shop:2", Weight: 25, HeaderMatch: &pylonv1alpha1.HeaderMatch{Name: "x-canary", Value: "yes"}}
	})
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	canaryIng := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop-canary"}}
	// No share before the canary has an available Pod.
	g.Eventually(func(g Gomega) {
		get(g, canaryIng)
		g.Expect(canaryIng.Annotations).To(HaveKeyWithValue("nginx.ingress.kubernetes.io/canary-weight", "0"))
	}, timeout, poll).Should(Succeed())
	deploymentAvailable(g, ns, "shop")
	deploymentAvailable(g, ns, "shop-canary")
	endpointSlice(g, ns, "shop-canary", "shop-canary-a", true, true)
	g.Eventually(func(g Gomega) {
		get(g, ing)
		g.Expect(ing.Annotations).To(HaveKeyWithValue("external-dns.kubernetes.io/hostname", "shop."+ns+".example.com"))
		g.Expect(ing.Annotations).To(HaveKeyWithValue("external-dns.alpha.kubernetes.io/ttl", "120"))
		get(g, canaryIng)
		for k, v := range map[string]string{
			"nginx.ingress.kubernetes.io/canary":                 "true",
			"nginx.ingress.kubernetes.io/canary-weight":          "25",
			"nginx.ingress.kubernetes.io/canary-by-header":       "x-canary",
			"nginx.ingress.kubernetes.io/canary-by-header-value": "yes",
		} {
			g.Expect(canaryIng.Annotations).To(HaveKeyWithValue(k, v))
		}
		g.Expect(canaryIng.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name).To(Equal("shop-canary"))
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionRouted, metav1.ConditionUnknown, pylonv1alpha1.ReasonAddressPending)
		expectCondition(g, app, pylonv1alpha1.ConditionDNSReady, metav1.ConditionUnknown, pylonv1alpha1.ReasonAddressPending)
	}, timeout, poll).Should(Succeed())

	g.Eventually(func() error {
		get(g, ing)
		ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.44"}}
		return k8s.Status().Update(ctx, ing)
	}, timeout, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionRouted, metav1.ConditionTrue, pylonv1alpha1.ReasonRouted)
		// Annotation mode: external-dns reports nothing back on an
		// Ingress, and DNSReady says so.
		expectCondition(g, app, pylonv1alpha1.ConditionDNSReady, metav1.ConditionTrue, pylonv1alpha1.ReasonDelegatedToExternalDNS)
		g.Expect(condition(app, pylonv1alpha1.ConditionDNSReady).Message).To(ContainSubstring("cannot see whether the record was published"))
	}, timeout, poll).Should(Succeed())

	// A controller without canary support: no canary Ingress, and the
	// WebApp says why.
	update(t, app, func(a *pylonv1alpha1.WebApp) { a.Spec.Exposure.Class = other })
	g.Eventually(func(g Gomega) {
		g.Expect(absent(canaryIng)()).To(BeTrue())
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionRouted, metav1.ConditionFalse, pylonv1alpha1.ReasonCanaryUnsupported)
		g.Expect(app.Status.Canary.Weight).To(BeZero(), "the canary gets no traffic, and the status says so")
	}, timeout, poll).Should(Succeed())
}

// TestDefaultClass: WebApps that name no class use the default; two
// defaults make them wait with a clear reason, and both classes say so.
func TestDefaultClass(t *testing.T) {
	g := NewWithT(t)
	one, _ := gatewayClass(t, func(c *pylonv1alpha1.ExposureClass) {
		c.Annotations = map[string]string{pylonv1alpha1.AnnotationIsDefaultClass: "true"}
	})
	ns := newNamespace(t)
	app := newWebApp(t, ns, "shop", func(a *pylonv1alpha1.WebApp) { a.Spec.Hostname = "shop." + ns + ".example.com" })
	g.Eventually(func(g Gomega) {
		get(g, &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}})
		c := &pylonv1alpha1.ExposureClass{ObjectMeta: metav1.ObjectMeta{Name: one}}
		get(g, c)
		g.Expect(meta.FindStatusCondition(c.Status.Conditions, "Accepted")).To(HaveField("Status", metav1.ConditionTrue))
		g.Expect(meta.FindStatusCondition(c.Status.Conditions, "Default")).To(HaveField("Status", metav1.ConditionTrue))
	}, timeout, poll).Should(Succeed())

	two := ingressClass(t, "k8s.io/ingress-nginx", func(c *pylonv1alpha1.ExposureClass) {
		c.Annotations = map[string]string{pylonv1alpha1.AnnotationIsDefaultClass: "true"}
	})
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionRouted, metav1.ConditionFalse, pylonv1alpha1.ReasonMultipleDefaultClasses)
		for _, name := range []string{one, two} {
			c := &pylonv1alpha1.ExposureClass{ObjectMeta: metav1.ObjectMeta{Name: name}}
			get(g, c)
			d := meta.FindStatusCondition(c.Status.Conditions, "Default")
			g.Expect(d).NotTo(BeNil())
			g.Expect(d.Reason).To(Equal(pylonv1alpha1.ReasonMultipleDefaultClasses))
		}
	}, timeout, poll).Should(Succeed())
}

// TestExposureClassReportsMissingGateway: a class whose Gateway does not
// exist is not Accepted, and WebApps of it are not routed... until it exists.
func TestExposureClassReportsMissingGateway(t *testing.T) {
	g := NewWithT(t)
	c := &pylonv1alpha1.ExposureClass{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("missing-%d", nsCounter.Add(1))},
		Spec:       pylonv1alpha1.ExposureClassSpec{Type: pylonv1alpha1.ExposureGateway, Gateway: &pylonv1alpha1.GatewayReference{Name: "nope", Namespace: "nowhere"}},
	}
	createClass(t, c)
	g.Eventually(func(g Gomega) {
		get(g, c)
		a := meta.FindStatusCondition(c.Status.Conditions, "Accepted")
		g.Expect(a).NotTo(BeNil())
		g.Expect(a.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(a.Reason).To(Equal(pylonv1alpha1.ReasonGatewayNotFound))
		g.Expect(c.Status.ObservedGeneration).To(Equal(c.Generation))
	}, timeout, poll).Should(Succeed())
}

// TestHostnameServedByAnotherNamespace: on Pylon's gateway, a WebApp may
// not claim a hostname a plain HTTPRoute or Ingress of another namespace
// already serves; it says which namespace does, and claims once that
// object is gone.
func TestHostnameServedByAnotherNamespace(t *testing.T) {
	g := NewWithT(t)
	infra := newNamespace(t)
	gc := &gwv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: "pylon-" + infra},
		Spec:       gwv1.GatewayClassSpec{ControllerName: contract.GatewayControllerName},
	}
	g.Expect(k8s.Create(ctx, gc)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(ctx, gc) })
	gw := &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: infra, Name: "shared"},
		Spec: gwv1.GatewaySpec{
			GatewayClassName: gwv1.ObjectName(gc.Name),
			Listeners:        []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}},
		},
	}
	g.Expect(k8s.Create(ctx, gw)).To(Succeed())
	gwClass := &pylonv1alpha1.ExposureClass{
		ObjectMeta: metav1.ObjectMeta{Name: "own-gw-" + infra},
		Spec: pylonv1alpha1.ExposureClassSpec{
			Type:    pylonv1alpha1.ExposureGateway,
			Gateway: &pylonv1alpha1.GatewayReference{Name: "shared", Namespace: infra, HTTPListener: "http"},
		},
	}
	createClass(t, gwClass)
	ingClass := ingressClass(t, contract.IngressControllerName, nil)

	tenant, other := newNamespace(t), newNamespace(t)
	gwNS := gwv1.Namespace(infra)
	pathType := networkingv1.PathTypePrefix
	for _, tc := range []struct {
		app     string
		class   string
		foreign client.Object
	}{
		{"by-route", gwClass.Name, &gwv1.HTTPRoute{
			ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: "plain"},
			Spec: gwv1.HTTPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "shared", Namespace: &gwNS}}},
				Hostnames:       []gwv1.Hostname{gwv1.Hostname("plain." + tenant + ".example.com")},
			},
		}},
		{"by-ingress", ingClass, &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: "plain"},
			Spec: networkingv1.IngressSpec{
				IngressClassName: &ingClass,
				Rules: []networkingv1.IngressRule{{Host: "ing." + tenant + ".example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pathType, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "x", Port: networkingv1.ServiceBackendPort{Number: 80}}}}},
				}}}},
			},
		}},
	} {
		g.Expect(k8s.Create(ctx, tc.foreign)).To(Succeed())
		// The manager judges from its cache: the route must be there before
		// the WebApp asks (on a loaded machine the watch can lag the create
		// by seconds, and a WebApp that asked first holds the hostname).
		g.Eventually(func() error {
			return cached.Get(ctx, client.ObjectKeyFromObject(tc.foreign), tc.foreign.DeepCopyObject().(client.Object))
		}, timeout, poll).Should(Succeed())
		host := hostnamesOfForeign(tc.foreign)
		app := newWebApp(t, tenant, tc.app, func(a *pylonv1alpha1.WebApp) {
			a.Spec.Hostname = host
			a.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: tc.class}
		})
		g.Eventually(func(g Gomega) {
			get(g, app)
			expectCondition(g, app, pylonv1alpha1.ConditionHostnameClaimed, metav1.ConditionFalse, pylonv1alpha1.ReasonHostnameConflict)
			g.Expect(condition(app, pylonv1alpha1.ConditionHostnameClaimed).Message).To(ContainSubstring("namespace " + other))
			expectCondition(g, app, pylonv1alpha1.ConditionRouted, metav1.ConditionFalse, pylonv1alpha1.ReasonHostnameConflict)
		}, timeout, poll).Should(Succeed())
		g.Expect(absent(&pylonv1alpha1.HostnameClaim{ObjectMeta: metav1.ObjectMeta{Name: host}})()).To(BeTrue(), "no claim while another namespace serves %s", host)

		// The other namespace stops serving it: the WebApp claims it.
		g.Expect(k8s.Delete(ctx, tc.foreign)).To(Succeed())
		g.Eventually(func(g Gomega) {
			get(g, app)
			expectCondition(g, app, pylonv1alpha1.ConditionHostnameClaimed, metav1.ConditionTrue, pylonv1alpha1.ReasonHostnameClaimed)
		}, timeout, poll).Should(Succeed())
	}
}

func hostnamesOfForeign(o client.Object) string {
	switch f := o.(type) {
	case *gwv1.HTTPRoute:
		return string(f.Spec.Hostnames[0])
	case *networkingv1.Ingress:
		return f.Spec.Rules[0].Host
	}
	return ""
}
