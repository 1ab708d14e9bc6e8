package e2e

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

const canaryHeader = "x-release-track"

// A canary gets its declared share of 1,000 requests (±5 points), the
// header always reaches it, and removing it removes its objects.
func TestCanarySplit(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t, "canary")
	const host = "canary.e2e.test"
	url := "http://" + host + "/"
	app := newWebApp(ns, "shop", host)
	app.Spec.Replicas = ptr.To[int32](3)
	app.Spec.Canary = &pylonv1alpha1.CanarySpec{Image: canaryImage, Weight: 10, HeaderMatch: &pylonv1alpha1.HeaderMatch{Name: canaryHeader, Value: "canary"}}
	g.Expect(env.Client.Create(context.Background(), app)).To(Succeed())
	waitCondition(t, app, "CanaryAvailable", metav1.ConditionTrue, "")
	waitCondition(t, app, "Ready", metav1.ConditionTrue, "")
	waitServing(t, url, ns)

	expectShare(t, url, 10)

	updateApp(t, app, func(a *pylonv1alpha1.WebApp) { a.Spec.Canary.Weight = 50 })
	waitCondition(t, app, "Ready", metav1.ConditionTrue, "")
	expectShare(t, url, 50)

	counts := split(g, url, 100, map[string]string{canaryHeader: "canary"})
	g.Expect(counts).To(Equal(map[string]int{canaryImage: 100}), "the header always selects the canary")

	updateApp(t, app, func(a *pylonv1alpha1.WebApp) { a.Spec.Canary = nil })
	waitCondition(t, app, "Ready", metav1.ConditionTrue, "")
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(split(g, url, 200, nil)).To(Equal(map[string]int{stableImage: 200}))
	}).WithTimeout(30 * time.Second).Should(Succeed())
	for _, obj := range []client.Object{&appsv1.Deployment{}, &corev1.Service{}} {
		NewWithT(t).Eventually(func() bool {
			err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "shop-canary"}, obj)
			return apierrors.IsNotFound(err)
		}).WithTimeout(30*time.Second).Should(BeTrue(), "%T shop-canary should be gone", obj)
	}
	// The status write follows the deletions in the same pass.
	NewWithT(t).Eventually(func(g Gomega) { g.Expect(getApp(g, app).Status.Canary).To(BeNil()) }).WithTimeout(10 * time.Second).Should(Succeed())
}

// expectShare waits for the route to carry the weight, then checks the
// canary's share of 1,000 requests is within 5 points of weight.
func expectShare(t *testing.T, url string, weight int) {
	t.Helper()
	// The gateway applies the new weights shortly after the route
	// changes, and the routes carry the declared weight only once a canary
	// Pod is a ready endpoint; a short probe first waits for the new split
	// to be in place. It must see both images: at weight 10 a probe that
	// allowed ±10 points passed on the old split's 0% (CI, 3 December).
	NewWithT(t).Eventually(func(g Gomega) {
		c := split(g, url, 200, nil)
		share := 100 * c[canaryImage] / 200
		g.Expect(share).To(BeNumerically("~", weight, 7))
		if weight > 0 && weight < 100 {
			g.Expect(c[canaryImage]).To(BeNumerically(">", 0), "the canary answers")
			g.Expect(c[stableImage]).To(BeNumerically(">", 0), "the stable Pods answer")
		}
	}).WithTimeout(30 * time.Second).Should(Succeed())
	g := NewWithT(t)
	start := time.Now()
	counts := split(g, url, 1000, nil)
	share := float64(counts[canaryImage]) / 10
	t.Logf("weight %d: canary %.1f%% of 1000 requests (%d stable) in %s", weight, share, counts[stableImage], time.Since(start).Round(time.Millisecond))
	g.Expect(counts[stableImage] + counts[canaryImage]).To(Equal(1000))
	g.Expect(share).To(BeNumerically("~", float64(weight), 5))
}

// churn creates, annotates and deletes Services and Secrets in a namespace
// of its own until stopped: the unrelated activity of a busy cluster, which
// must not move a canary's share or the spread over endpoints.
func churn(t *testing.T) (stop func() int) {
	ns := newNamespace(t, "churn")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		n := 0
		defer func() { done <- n }()
		for i := 0; i < 5000 && ctx.Err() == nil; i++ {
			name := fmt.Sprintf("noise-%d", i%20)
			svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
			sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: map[string]string{"k": strconv.Itoa(i)}}
			switch i / 20 % 3 {
			case 0:
				_ = env.Client.Create(ctx, svc)
				_ = env.Client.Create(ctx, sec)
			case 1:
				_ = env.Client.Get(ctx, client.ObjectKeyFromObject(svc), svc)
				svc.Annotations = map[string]string{"churn": strconv.Itoa(i)}
				_ = env.Client.Update(ctx, svc)
				_ = env.Client.Update(ctx, sec)
			case 2:
				_ = env.Client.Delete(ctx, svc)
				_ = env.Client.Delete(ctx, sec)
			}
			n += 2
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return func() int { cancel(); return <-done }
}

// On a busy cluster the declared share is what is served: a 10% canary gets
// 10% ± 1 point of 2,000 requests while unrelated Services and Secrets churn,
// and every stable Pod takes part. Equal shares over equal endpoints across
// publishes are proven where the logic is (proxy.TestEndpointSharesHoldWhileTablesArePublished,
// max/min ≤ 1.2); here, on a loaded 2-core machine running the whole suite,
// one stable Pod was seen with 75% of its neighbours' share now and then, so
// the spread and any Pod readiness change during the window are logged.
func TestCanarySplitUnderChurn(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t, "busy")
	const host = "busy.e2e.test"
	app, url := servingApp(t, ns, "shop", host, func(a *pylonv1alpha1.WebApp) {
		a.Spec.Replicas = ptr.To[int32](3)
		a.Spec.Canary = &pylonv1alpha1.CanarySpec{Image: canaryImage, Weight: 10}
	})
	waitCondition(t, app, "CanaryAvailable", metav1.ConditionTrue, "")
	waitCondition(t, app, "Ready", metav1.ConditionTrue, "")
	g.Eventually(func(g Gomega) { g.Expect(getApp(g, app).Status.Canary.Weight).To(BeEquivalentTo(10)) }).WithTimeout(readyTimeout).Should(Succeed())
	expectShare(t, url, 10) // the split is in place before the churn starts

	before := readySince(g, ns)
	stop := churn(t)
	c := gatewayClient()
	images, pods := map[string]int{}, map[string]int{}
	const n = 2000
	for range n {
		r, err := do(c, http.MethodGet, url, nil)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(r.Status).To(Equal(http.StatusOK))
		images[r.Echo.Image]++
		if r.Echo.Image == stableImage {
			pods[r.Echo.Pod]++
		}
		time.Sleep(2 * time.Millisecond) // spread over the churn
	}
	writes := stop()
	share := float64(images[canaryImage]) * 100 / n
	lo, hi := n, 0
	for _, k := range pods {
		lo, hi = min(lo, k), max(hi, k)
	}
	after := readySince(g, ns)
	t.Logf("under churn (%d writes): canary %.1f%% of %d requests; stable Pods %v (max/min %.2f); Pod readiness changed during the window: %v",
		writes, share, n, pods, float64(hi)/float64(max(lo, 1)), !maps.Equal(before, after))
	g.Expect(writes).To(BeNumerically(">", 100), "the churn did happen")
	g.Expect(share).To(BeNumerically("~", 10, 1))
	g.Expect(pods).To(HaveLen(3), "every stable Pod takes part")
}

// readySince maps each Pod of ns to when its Ready condition last changed.
func readySince(g Gomega, ns string) map[string]time.Time {
	list := &corev1.PodList{}
	g.Expect(env.Client.List(context.Background(), list, client.InNamespace(ns))).To(Succeed())
	out := map[string]time.Time{}
	for _, p := range list.Items {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady {
				out[p.Name] = c.LastTransitionTime.Time
			}
		}
	}
	return out
}
