package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// A deleted child is recreated; a deleted WebApp takes its children with
// it (kube-controller-manager's garbage collector) and its route goes.
func TestChildRecreatedAndGarbageCollected(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t, "lifecycle")
	const host = "lifecycle.e2e.test"
	app, url := servingApp(t, ns, "life", host, nil)

	key := client.ObjectKey{Namespace: ns, Name: "life"}
	svc := &corev1.Service{}
	g.Expect(env.Client.Get(context.Background(), key, svc)).To(Succeed())
	oldUID := svc.UID
	g.Expect(env.Client.Delete(context.Background(), svc)).To(Succeed())
	NewWithT(t).Eventually(func(g Gomega) {
		cur := &corev1.Service{}
		g.Expect(env.Client.Get(context.Background(), key, cur)).To(Succeed())
		g.Expect(cur.UID).NotTo(Equal(oldUID))
	}).WithTimeout(30 * time.Second).Should(Succeed())
	waitServing(t, url, ns)

	start := time.Now()
	g.Expect(env.Client.Delete(context.Background(), app)).To(Succeed())
	for _, obj := range []client.Object{&appsv1.Deployment{}, &corev1.Service{}, &gwv1.HTTPRoute{}} {
		NewWithT(t).Eventually(func() bool {
			return apierrors.IsNotFound(env.Client.Get(context.Background(), key, obj))
		}).WithTimeout(60*time.Second).Should(BeTrue(), "%T should be garbage-collected", obj)
	}
	NewWithT(t).Eventually(func(g Gomega) {
		pods := &corev1.PodList{}
		g.Expect(env.Client.List(context.Background(), pods, client.InNamespace(ns))).To(Succeed())
		g.Expect(pods.Items).To(BeEmpty())
	}).WithTimeout(60 * time.Second).Should(Succeed())
	c := gatewayClient()
	NewWithT(t).Eventually(func(g Gomega) {
		r, err := do(c, http.MethodGet, url, nil)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(r.Status).To(Equal(http.StatusNotFound))
	}).WithTimeout(30 * time.Second).Should(Succeed())
	t.Logf("children collected and route gone in %s", time.Since(start).Round(time.Millisecond))
}
