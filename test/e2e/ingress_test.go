package e2e

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/test/localcluster"
)

// An ExposureClass of type Ingress with IngressClass pylon: the WebApp gets
// an Ingress, the bundled gateway serves it and publishes its address.
func TestIngressClassPath(t *testing.T) {
	g := NewWithT(t)
	class := &pylonv1alpha1.ExposureClass{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-ingress"},
		Spec:       pylonv1alpha1.ExposureClassSpec{Type: pylonv1alpha1.ExposureIngress, IngressClassName: "pylon"},
	}
	g.Expect(env.Client.Create(context.Background(), class)).To(Succeed())
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), class) })

	ns := newNamespace(t, "ingress")
	app := newWebApp(ns, "legacy", "legacy.e2e.test")
	app.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: class.Name}
	g.Expect(env.Client.Create(context.Background(), app)).To(Succeed())
	waitCondition(t, app, "Routed", metav1.ConditionTrue, "")
	waitCondition(t, app, "Ready", metav1.ConditionTrue, "")

	ing := &networkingv1.Ingress{}
	g.Expect(env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "legacy"}, ing)).To(Succeed())
	g.Expect(*ing.Spec.IngressClassName).To(Equal("pylon"))
	g.Expect(ing.Status.LoadBalancer.Ingress).To(ContainElement(HaveField("IP", localcluster.GatewayAddress)))

	r := waitServing(t, "http://legacy.e2e.test/old", ns)
	g.Expect(r.Echo.Pod).To(HavePrefix("legacy-"))
}
