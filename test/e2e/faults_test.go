package e2e

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// The manager is killed (SIGKILL) while it reconciles a new WebApp; after
// a restart everything converges.
func TestManagerKilledMidReconcile(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t, "crash")
	app := newWebApp(ns, "phoenix", "phoenix.e2e.test")
	app.Spec.Replicas = ptr.To[int32](3)
	g.Expect(env.Client.Create(context.Background(), app)).To(Succeed())
	// Mid-reconcile: the first child exists, the WebApp is not Ready yet.
	NewWithT(t).Eventually(func() error {
		return env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "phoenix"}, &appsv1.Deployment{})
	}).WithTimeout(30 * time.Second).WithPolling(20 * time.Millisecond).Should(Succeed())
	// Replica 0, whose metrics the other tests read, leads again afterwards.
	t.Cleanup(func() { g.Expect(env.Pylon.RestoreManagerLeader(context.Background())).To(Succeed()) })
	g.Expect(env.Pylon.Manager.Kill()).To(Succeed())
	t.Log("manager killed")
	time.Sleep(time.Second)
	g.Expect(env.Pylon.Manager.Start()).To(Succeed())

	start := time.Now()
	waitCondition(t, app, "Ready", metav1.ConditionTrue, "")
	waitServing(t, "http://phoenix.e2e.test/", ns)
	t.Logf("converged %s after the restart", time.Since(start).Round(time.Millisecond))
}

// kube-apiserver is down for 20 seconds: the gateway keeps serving from
// its last table and no request fails.
func TestGatewaySurvivesAPIServerOutage(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t, "outage")
	const host = "steady.e2e.test"
	app, url := servingApp(t, ns, "steady", host, func(a *pylonv1alpha1.WebApp) { a.Spec.Replicas = ptr.To[int32](2) })

	l := startLoad(url, 2)
	g.Expect(env.StopAPIServer()).To(Succeed())
	t.Log("kube-apiserver stopped")
	time.Sleep(20 * time.Second)
	g.Expect(env.StartAPIServer(context.Background())).To(Succeed())
	t.Log("kube-apiserver started")
	time.Sleep(2 * time.Second)
	ok, failed, failures := l.finish()
	t.Logf("during the outage: %d requests succeeded, %d failed", ok, failed)
	g.Expect(failed).To(BeZero(), "failures: %v", failures)
	g.Expect(ok).To(BeNumerically(">", 100))

	// The control plane recovers: a change after the outage is served.
	// Right after its restart kube-apiserver answers some watches with
	// 403 while its RBAC cache fills, and client-go's reflectors back off
	// (up to 30 s, jittered up to twice that): measured, the manager sees
	// the change about a minute after the API server is back, hence the
	// long bound.
	start := time.Now()
	const image = "registry.example.com/shop:1.2"
	updateApp(t, app, func(a *pylonv1alpha1.WebApp) { a.Spec.Image = image })
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(split(g, url, 20, nil)).To(Equal(map[string]int{image: 20}))
	}).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(Succeed())
	t.Logf("a change after the outage served in %s", time.Since(start).Round(time.Millisecond))
}
