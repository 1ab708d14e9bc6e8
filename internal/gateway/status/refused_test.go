package status_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/pylon-dev/pylon/internal/gateway/status"
	"github.com/pylon-dev/pylon/internal/gateway/watch"
	"github.com/pylon-dev/pylon/test/testenv"
)

// TestRefusedIngressGetsAnEventAndNoAddress: an Ingress of our class with
// an ingress-nginx annotation the gateway does not implement gets no
// address (also when it had one before the annotation was added) and one
// Warning Event naming the annotation; removing the annotation serves it
// again. Wired as cmd/gateway wires it: a manager's event recorder.
func TestRefusedIngressGetsAnEventAndNoAddress(t *testing.T) {
	g := NewWithT(t)
	env, err := testenv.Start(testenv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	ctx := context.Background()
	k, err := client.New(env.Config, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())

	mgr, err := env.StartManager(func(_ context.Context, mgr ctrl.Manager) error {
		writer := &status.Writer{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("pylon-gateway")}
		builder := &watch.Builder{
			Cache: mgr.GetCache(), Reader: mgr.GetCache(),
			Addresses: watch.Addresses{Static: []string{"10.250.0.1"}},
			Status:    writer.Update, Debounce: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond,
		}
		if err := mgr.Add(builder); err != nil {
			return err
		}
		return mgr.Add(writer)
	})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = mgr.Stop() })

	g.Expect(k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}})).To(Succeed())
	g.Expect(k.Create(ctx, &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "pylon"}, Spec: networkingv1.IngressClassSpec{Controller: "pylon.dev/ingress"}})).To(Succeed())
	g.Expect(k.Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	})).To(Succeed())
	ingress := func(name string, annotations map[string]string) *networkingv1.Ingress {
		return &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name, Annotations: annotations},
			Spec: networkingv1.IngressSpec{IngressClassName: ptr.To("pylon"), Rules: []networkingv1.IngressRule{{
				Host: name + ".example.com",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path: "/", PathType: ptr.To(networkingv1.PathTypePrefix),
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}},
				}}}},
			}}},
		}
	}
	const authURL = "nginx.ingress.kubernetes.io/auth-url"
	// Served from the start, refused once the annotation is added.
	g.Expect(k.Create(ctx, ingress("private", nil))).To(Succeed())
	// A served neighbour: the writer is running and its address is ours.
	g.Expect(k.Create(ctx, ingress("public", map[string]string{"nginx.ingress.kubernetes.io/proxy-read-timeout": "60"}))).To(Succeed())

	address := func(name string) func(g Gomega) []networkingv1.IngressLoadBalancerIngress {
		return func(g Gomega) []networkingv1.IngressLoadBalancerIngress {
			var in networkingv1.Ingress
			g.Expect(k.Get(ctx, types.NamespacedName{Namespace: "app", Name: name}, &in)).To(Succeed())
			return in.Status.LoadBalancer.Ingress
		}
	}
	ours := []networkingv1.IngressLoadBalancerIngress{{IP: "10.250.0.1"}}
	g.Eventually(address("private"), 20*time.Second, 100*time.Millisecond).Should(Equal(ours))
	g.Eventually(address("public"), 20*time.Second, 100*time.Millisecond).Should(Equal(ours))

	warnings := func(g Gomega) []eventsv1.Event {
		var list eventsv1.EventList
		g.Expect(k.List(ctx, &list, client.InNamespace("app"))).To(Succeed())
		var out []eventsv1.Event
		for _, e := range list.Items {
			if e.Regarding.Kind == "Ingress" && e.Regarding.Name == "private" && e.Type == corev1.EventTypeWarning {
				out = append(out, e)
			}
		}
		return out
	}
	g.Expect(warnings(g)).To(BeEmpty(), "no event while the Ingress is served")

	g.Eventually(func() error {
		var in networkingv1.Ingress
		if err := k.Get(ctx, types.NamespacedName{Namespace: "app", Name: "private"}, &in); err != nil {
			return err
		}
		in.Annotations = map[string]string{authURL: "http://auth.example.com/check"}
		return k.Update(ctx, &in)
	}, 10*time.Second, 100*time.Millisecond).Should(Succeed())

	g.Eventually(address("private"), 20*time.Second, 100*time.Millisecond).Should(BeEmpty(), "a refused Ingress loses its address")
	g.Eventually(func(g Gomega) {
		ws := warnings(g)
		g.Expect(ws).To(HaveLen(1))
		g.Expect(ws[0].Reason).To(Equal(status.ReasonIngressRefused))
		g.Expect(ws[0].Note).To(ContainSubstring(authURL))
		g.Expect(ws[0].Note).To(ContainSubstring("who may reach the app"))
		g.Expect(ws[0].ReportingController).To(Equal("pylon-gateway"))
	}, 20*time.Second, 100*time.Millisecond).Should(Succeed())

	// Later rebuilds (another Ingress changes) neither re-emit the event nor
	// give the refused Ingress an address.
	g.Expect(k.Create(ctx, ingress("third", nil))).To(Succeed())
	g.Eventually(address("third"), 20*time.Second, 100*time.Millisecond).Should(Equal(ours))
	g.Consistently(func(g Gomega) {
		g.Expect(address("private")(g)).To(BeEmpty())
		ws := warnings(g)
		g.Expect(ws).To(HaveLen(1))
		g.Expect(ptr.Deref(ws[0].Series, eventsv1.EventSeries{}).Count).To(BeNumerically("<=", 1), "the refusal is reported once")
	}, time.Second, 100*time.Millisecond).Should(Succeed())

	// The annotation removed: served again.
	g.Eventually(func() error {
		var in networkingv1.Ingress
		if err := k.Get(ctx, types.NamespacedName{Namespace: "app", Name: "private"}, &in); err != nil {
			return err
		}
		in.Annotations = nil
		return k.Update(ctx, &in)
	}, 10*time.Second, 100*time.Millisecond).Should(Succeed())
	g.Eventually(address("private"), 20*time.Second, 100*time.Millisecond).Should(Equal(ours))
}
