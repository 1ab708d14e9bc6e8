package controller_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/applier"
	"github.com/pylon-dev/pylon/internal/controller/monitoring"
	externaldnsv1alpha1 "github.com/pylon-dev/pylon/internal/externaldns/v1alpha1"
)

// drift is a hand edit of one child: mutate changes a field Pylon declares.
type drift struct {
	obj    client.Object
	mutate func(client.Object)
}

// TestDriftIsRevertedForEveryChildKind edits a field Pylon declares on each
// kind of child, as someone with kubectl edit would (an update under
// another field manager), and expects the child's spec back as Pylon left
// it. The manager caches trimmed copies of its children (CacheOptions):
// this is the proof that what the cache keeps still shows every drift.
func TestDriftIsRevertedForEveryChildKind(t *testing.T) {
	class, gw := gatewayClass(t, func(c *pylonv1alpha1.ExposureClass) {
		c.Spec.DNS = &pylonv1alpha1.ExposureClassDNS{Mode: pylonv1alpha1.DNSEndpoint, TTL: 60}
	})
	ingClass := ingressClass(t, "k8s.io/ingress-nginx", nil)
	ns := newNamespace(t)
	g := NewWithT(t)
	setGatewayAddress(g, gw, "192.0.2.20")
	newWebApp(t, ns, "shop", func(a *pylonv1alpha1.WebApp) {
		a.Spec.Hostname = "shop." + ns + ".example.com"
		a.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: class}
		a.Spec.TLS = &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSAuto}
		a.Spec.Autoscaling = &pylonv1alpha1.AutoscalingSpec{MinReplicas: 2, MaxReplicas: 5}
	})
	newWebApp(t, ns, "blog", func(a *pylonv1alpha1.WebApp) {
		a.Spec.Hostname = "blog." + ns + ".example.com"
		a.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: ingClass}
		a.Spec.TLS = &pylonv1alpha1.TLSSpec{Mode: pylonv1alpha1.TLSAuto}
	})
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	evil := "evil." + ns + ".example.com"
	settled := cachedChildrenSettle(t, ns, meta)
	for _, d := range []drift{
		{&appsv1.Deployment{ObjectMeta: meta("shop")}, func(o client.Object) {
			c := &o.(*appsv1.Deployment).Spec.Template.Spec.Containers[0]
			c.Image = "evil:latest"
			c.ReadinessProbe = nil
		}},
		{&corev1.Service{ObjectMeta: meta("shop")}, func(o client.Object) {
			o.(*corev1.Service).Spec.Selector = map[string]string{"app": "other"}
		}},
		{&autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: meta("shop")}, func(o client.Object) {
			o.(*autoscalingv2.HorizontalPodAutoscaler).Spec.MaxReplicas = 50
		}},
		{&policyv1.PodDisruptionBudget{ObjectMeta: meta("shop")}, func(o client.Object) {
			p := o.(*policyv1.PodDisruptionBudget)
			v := intstr.FromInt32(7)
			p.Spec.MinAvailable, p.Spec.MaxUnavailable = nil, &v
		}},
		{&certmanagerv1.Certificate{ObjectMeta: meta("shop")}, func(o client.Object) {
			o.(*certmanagerv1.Certificate).Spec.DNSNames = []string{evil}
		}},
		{&gwv1.HTTPRoute{ObjectMeta: meta("shop")}, func(o client.Object) {
			r := o.(*gwv1.HTTPRoute)
			r.Spec.Rules[0].BackendRefs[0].Port = new(gwv1.PortNumber(9999))
		}},
		{&gwv1.HTTPRoute{ObjectMeta: meta("shop-redirect")}, func(o client.Object) {
			o.(*gwv1.HTTPRoute).Spec.Rules = []gwv1.HTTPRouteRule{{}}
		}},
		{&gwv1.ListenerSet{ObjectMeta: meta("shop")}, func(o client.Object) {
			o.(*gwv1.ListenerSet).Spec.Listeners[0].Port = 8443
		}},
		{&externaldnsv1alpha1.DNSEndpoint{ObjectMeta: meta("shop")}, func(o client.Object) {
			o.(*externaldnsv1alpha1.DNSEndpoint).Spec.Endpoints[0].Targets = []string{"203.0.113.9"}
		}},
		{&networkingv1.Ingress{ObjectMeta: meta("blog")}, func(o client.Object) {
			o.(*networkingv1.Ingress).Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port.Number = 9999
		}},
		{&certmanagerv1.Certificate{ObjectMeta: meta("blog")}, func(o client.Object) {
			o.(*certmanagerv1.Certificate).Spec.SecretName = "stolen"
		}},
	} {
		kind := kindOf(t, d.obj)
		t.Run(kind+"/"+d.obj.GetName(), func(t *testing.T) {
			g := NewWithT(t)
			g.Eventually(func(g Gomega) { get(g, d.obj) }, timeout, poll).Should(Succeed(), "%s exists", kind)
			want := specOf(t, d.obj)
			g.Eventually(func() error {
				if err := k8s.Get(ctx, client.ObjectKeyFromObject(d.obj), d.obj); err != nil {
					return err
				}
				d.mutate(d.obj)
				return k8s.Update(ctx, d.obj, client.FieldOwner("kubectl-edit"))
			}, timeout, poll).Should(Succeed())
			g.Expect(equality.Semantic.DeepEqual(specOf(t, d.obj), want)).To(BeFalse(), "the edit changed the spec")
			g.Eventually(func(g Gomega) {
				get(g, d.obj)
				g.Expect(specOf(t, d.obj)).To(Equal(want))
			}, timeout, poll).Should(Succeed(), "Pylon reverts the edit of %s", kind)
			g.Expect(childCounts(g, monitoring.MetricChildReads)[kind]).To(BeNumerically(">", settled[kind]), "the edit of %s made Pylon read it in full", kind)
			settled = childCounts(g, monitoring.MetricChildReads)
		})
	}
}

// childCounts sums a pylon_child_*_total counter by kind.
func childCounts(g Gomega, name string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range series(g, name) {
		v, err := strconv.ParseFloat(s[""], 64)
		g.Expect(err).NotTo(HaveOccurred())
		out[s["kind"]] += v
	}
	return out
}

// cachedChildrenSettle checks what the manager caches of the WebApps'
// children in ns, and that once they exist, reconciles (woken by a change
// of the namespace, and by another controller's status write) judge them
// from the cache alone: no child is read from the API server and none is
// applied; and, with nothing remembered, as after a restart, each child is
// read once and none is applied. It returns the reads counted so far.
func cachedChildrenSettle(t *testing.T, ns string, meta func(string) metav1.ObjectMeta) map[string]float64 {
	t.Helper()
	g := NewWithT(t)
	dep := &appsv1.Deployment{ObjectMeta: meta("shop")}
	g.Eventually(func(g Gomega) { get(g, dep) }, timeout, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		c := &appsv1.Deployment{}
		g.Expect(cached.Get(ctx, client.ObjectKeyFromObject(dep), c)).To(Succeed())
		g.Expect(applier.CachedFingerprint(c)).NotTo(BeEmpty(), "the cached copy carries the fingerprint of what Pylon owns")
		g.Expect(c.Annotations).To(BeEmpty(), "the cached copy keeps no annotations: the fingerprint covers the applied hash")
		g.Expect(c.Spec.Template.Spec.Containers).To(HaveLen(1))
		g.Expect(c.Spec.Template.Spec.Containers[0]).To(Equal(corev1.Container{Name: dep.Spec.Template.Spec.Containers[0].Name, Image: dep.Spec.Template.Spec.Containers[0].Image}),
			"the cached copy keeps each container's name and image only")
		g.Expect(c.Spec.Selector).To(Equal(dep.Spec.Selector))
		svc := &corev1.Service{}
		g.Expect(cached.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, svc)).To(Succeed())
		g.Expect(svc.Spec).To(Equal(corev1.ServiceSpec{}), "the cached Service keeps no spec")
	}, timeout, poll).Should(Succeed())
	deploymentAvailable(g, ns, "shop")

	versions := func(g Gomega) map[string]string {
		out := map[string]string{}
		for _, l := range []client.ObjectList{&appsv1.DeploymentList{}, &corev1.ServiceList{}, &autoscalingv2.HorizontalPodAutoscalerList{},
			&policyv1.PodDisruptionBudgetList{}, &certmanagerv1.CertificateList{}, &gwv1.HTTPRouteList{}, &gwv1.ListenerSetList{},
			&externaldnsv1alpha1.DNSEndpointList{}, &networkingv1.IngressList{}} {
			g.Expect(k8s.List(ctx, l, client.InNamespace(ns))).To(Succeed())
			items, err := apimeta.ExtractList(l)
			g.Expect(err).NotTo(HaveOccurred())
			for _, o := range items {
				m := o.(client.Object)
				out[fmt.Sprintf("%T/%s", o, m.GetName())] = m.GetResourceVersion()
			}
		}
		return out
	}
	touch := 0
	owners := []types.NamespacedName{{Namespace: ns, Name: "shop"}, {Namespace: ns, Name: "blog"}}
	// reconcileBoth wakes both WebApps (a namespace change maps to its
	// WebApps) and waits until each reconcile has judged its children.
	reconcileBoth := func(g Gomega) {
		var before []uint64
		for _, o := range owners {
			before = append(before, verified.Looks(o))
		}
		touch++
		nsObj := &corev1.Namespace{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: ns}, nsObj)).To(Succeed())
		if nsObj.Labels == nil {
			nsObj.Labels = map[string]string{}
		}
		nsObj.Labels["touched"] = strconv.Itoa(touch)
		g.Expect(k8s.Update(ctx, nsObj)).To(Succeed())
		for i, o := range owners {
			g.Eventually(func() uint64 { return verified.Looks(o) }, timeout, poll).Should(BeNumerically(">", before[i]), "%s is reconciled", o)
		}
		time.Sleep(500 * time.Millisecond) // the rest of its children
	}
	g.Eventually(func(g Gomega) {
		reads, applies, rvs := childCounts(g, monitoring.MetricChildReads), childCounts(g, monitoring.MetricChildApplies), versions(g)
		reconcileBoth(g)
		g.Expect(childCounts(g, monitoring.MetricChildReads)).To(Equal(reads), "a reconcile with nothing changed reads no child")
		g.Expect(childCounts(g, monitoring.MetricChildApplies)).To(Equal(applies), "and applies none")
		g.Expect(versions(g)).To(Equal(rvs), "and changes none")
	}, timeout, time.Second).Should(Succeed())

	// As after a restart: nothing remembered of these WebApps, so each of
	// their children is read in full once, found up to date, and nothing is
	// applied.
	reads, applies, rvs := childCounts(g, monitoring.MetricChildReads), childCounts(g, monitoring.MetricChildApplies), versions(g)
	for _, o := range owners {
		verified.Forget(o)
	}
	reconcileBoth(g)
	after := childCounts(g, monitoring.MetricChildReads)
	for _, kind := range []string{"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Certificate", "HTTPRoute", "ListenerSet", "DNSEndpoint", "Ingress"} {
		g.Expect(after[kind]).To(BeNumerically(">", reads[kind]), "with nothing remembered, %s is read in full", kind)
	}
	g.Expect(childCounts(g, monitoring.MetricChildApplies)).To(Equal(applies), "children read in full after a restart are up to date: no apply is sent")
	g.Expect(versions(g)).To(Equal(rvs), "and none changes")
	reconcileBoth(g)
	g.Expect(childCounts(g, monitoring.MetricChildReads)).To(Equal(after), "and once read, they are remembered")
	return childCounts(g, monitoring.MetricChildReads)
}

// specOf is the object's spec as JSON-shaped maps.
func specOf(t *testing.T, obj client.Object) any {
	t.Helper()
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	return u["spec"]
}

func kindOf(t *testing.T, obj client.Object) string {
	t.Helper()
	gvk, err := k8s.GroupVersionKindFor(obj)
	if err != nil {
		t.Fatal(err)
	}
	return gvk.Kind
}

// TestDriftThatHidesFromTheFingerprint tries what a tenant who has read how
// drift is found would try: change Pylon's container image while handing
// the API server managedFields in which Pylon still owns the image (an
// update may set managedFields), while also writing the cache-only
// fingerprint annotation; and take the image with a forced server-side
// apply of another field manager; and through the scale subresource
// change replicas, which Pylon declares when it does not autoscale. Every
// one is reverted.
func TestDriftThatHidesFromTheFingerprint(t *testing.T) {
	ns := newNamespace(t)
	g := NewWithT(t)
	app := newWebApp(t, ns, "web", func(a *pylonv1alpha1.WebApp) { a.Spec.Replicas = ptr.To[int32](2) })
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}}
	g.Eventually(func(g Gomega) { get(g, dep) }, timeout, poll).Should(Succeed())
	image := app.Spec.Image
	reverted := func(what string) {
		t.Helper()
		g.Eventually(func(g Gomega) {
			get(g, dep)
			g.Expect(dep.Spec.Template.Spec.Containers[0].Image).To(Equal(image))
			g.Expect(*dep.Spec.Replicas).To(Equal(int32(2)))
		}, timeout, poll).Should(Succeed(), "Pylon reverts %s", what)
	}

	// 1. An update that keeps Pylon's managedFields entry as it was.
	g.Eventually(func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(dep), dep); err != nil {
			return err
		}
		kept := dep.ManagedFields
		dep.Spec.Template.Spec.Containers[0].Image = "evil:1"
		dep.SetSelfLink("0123456789abcdef0123456789abcdef") // where the cache keeps its fingerprint
		dep.ManagedFields = kept
		return k8s.Update(ctx, dep, client.FieldOwner("kubectl-edit"))
	}, timeout, poll).Should(Succeed())
	// The update's answer, not a later read: Pylon may revert the edit
	// before a read (a Get here failed that way on a fresh CI run).
	g.Expect(dep.Spec.Template.Spec.Containers[0].Image).To(Equal("evil:1"), "the edit landed")
	reverted("an image change under Pylon's own managedFields")

	// 2. A forced apply by another field manager.
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"namespace": ns, "name": "web"},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{
			map[string]any{"name": dep.Spec.Template.Spec.Containers[0].Name, "image": "evil:2"},
		}}}},
	}}
	g.Expect(k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("tenant-tool"), client.ForceOwnership)).To(Succeed())
	reverted("a forced apply of the image by another manager")

	// 3. The scale subresource.
	scale := &autoscalingv1.Scale{}
	g.Expect(k8s.SubResource("scale").Get(ctx, dep, scale)).To(Succeed())
	scale.Spec.Replicas = 7
	g.Expect(k8s.SubResource("scale").Update(ctx, dep, client.WithSubResourceBody(scale))).To(Succeed())
	reverted("replicas set through /scale")
}
