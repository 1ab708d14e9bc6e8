package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// load sends requests from a few workers until stopped and counts
// failures: transport errors and any status but 200.
type load struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	failures   []string
	stop       chan struct{}
	wg         sync.WaitGroup
}

const (
	// maxLoadRequests bounds the loop even if stop is never called.
	maxLoadRequests = 200_000
	// loadPace is each worker's pause between requests.
	loadPace = 2 * time.Millisecond
)

func startLoad(url string, workers int) *load {
	l := &load{stop: make(chan struct{})}
	c := gatewayClient()
	for range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for l.ok.Load()+l.failed.Load() < maxLoadRequests {
				select {
				case <-l.stop:
					return
				default:
				}
				r, err := do(c, http.MethodGet, url, nil)
				if err == nil && r.Status == http.StatusOK {
					l.ok.Add(1)
					// Paced, so the load leaves CPU to the control plane
					// it is testing.
					time.Sleep(loadPace)
					continue
				}
				l.failed.Add(1)
				l.mu.Lock()
				if len(l.failures) < 10 {
					l.failures = append(l.failures, fmt.Sprintf("%s status=%d err=%v", time.Now().Format("15:04:05.000"), r.Status, err))
				}
				l.mu.Unlock()
			}
		}()
	}
	return l
}

func (l *load) finish() (ok, failed int64, failures []string) {
	close(l.stop)
	l.wg.Wait()
	return l.ok.Load(), l.failed.Load(), l.failures
}

// A rolling update and a scale-up under constant load of GETs, POSTs with
// bodies, an SSE stream and a WebSocket fail no request. The streams whose
// Pod goes away end cleanly: the Pod keeps serving through its preStop
// sleep (the gateway stops sending it new requests once its endpoint is
// terminating), then, on SIGTERM, ends its event stream after a whole
// event and its WebSocket with a close frame, which the gateway passes
// on; the clients reconnect, to a new Pod, and carry on.
func TestRollingUpdateAndScaleUnderLoad(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t, "rollout")
	const host = "rollout.e2e.test"
	app, _ := servingApp(t, ns, "web", host, func(a *pylonv1alpha1.WebApp) { a.Spec.Replicas = ptr.To[int32](2) })

	tr := startTraffic(t, trafficOptions{Host: host, NS: ns, GETs: 2, POSTs: 2, SSE: 1, WebSockets: 1})
	g.Eventually(tr.kinds[kindSSE].messages.Load).WithTimeout(30 * time.Second).Should(BeNumerically(">", 0))
	g.Eventually(tr.kinds[kindWebSocket].messages.Load).WithTimeout(30 * time.Second).Should(BeNumerically(">", 0))
	start := time.Now()
	const newImage = "registry.example.com/shop:1.1"
	updateApp(t, app, func(a *pylonv1alpha1.WebApp) { a.Spec.Image = newImage })
	waitRolledOut(t, ns, "web", newImage, 2)
	t.Logf("rolled out to %s in %s", newImage, time.Since(start).Round(time.Millisecond))

	scaled := time.Now()
	updateApp(t, app, func(a *pylonv1alpha1.WebApp) { a.Spec.Replicas = ptr.To[int32](5) })
	waitRolledOut(t, ns, "web", newImage, 5)
	waitCondition(t, app, "Ready", metav1.ConditionTrue, "")
	t.Logf("scaled 2→5 in %s", time.Since(scaled).Round(time.Millisecond))
	// The old Pods finish terminating (preStop sleep, then SIGTERM), so
	// the streams they carried have ended, and reconnected.
	waitNoTerminatingPods(t, ns)
	t.Logf("old Pods gone %s after the update", time.Since(start).Round(time.Millisecond))
	for _, kind := range []string{kindSSE, kindWebSocket} {
		g.Eventually(tr.kinds[kind].messagesSince.Load).WithTimeout(30*time.Second).Should(BeNumerically(">=", 10), "%s carries on after its reconnect", kind)
	}
	// Keep the load on a little longer so the new Pods take traffic.
	time.Sleep(2 * time.Second)
	tr.finish()
	failures := tr.report(t, fmt.Sprintf("backend rollout (%s)", time.Since(start).Round(time.Millisecond)))
	g.Expect(failures).To(BeEmpty(), "no request fails and every stream ends cleanly")
	g.Expect(tr.kinds[kindGET].ok.Load()).To(BeNumerically(">", 100))
	g.Expect(tr.kinds[kindPOST].ok.Load()).To(BeNumerically(">", 100))
	// Both old Pods went away, so every stream was ended at least once,
	// cleanly, and the event stream now comes from a new Pod.
	for _, kind := range []string{kindSSE, kindWebSocket} {
		ends := tr.ends(kind)
		g.Expect(ends).NotTo(BeEmpty(), "the %s stream's Pod went away", kind)
		for _, e := range ends {
			g.Expect(cleanEnd(e.How)).To(BeTrue(), "%s ended %s: %s", kind, e.How, e.Detail)
		}
	}
	g.Expect(tr.eventImage(0)).To(Equal(newImage), "the event stream resumed on a new Pod")

	counts := split(g, "http://"+host+"/", 100, nil)
	g.Expect(counts).To(Equal(map[string]int{newImage: 100}))
}

// waitNoTerminatingPods waits until no Pod of ns is terminating.
func waitNoTerminatingPods(t *testing.T, ns string) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) []string {
		pods := &corev1.PodList{}
		g.Expect(env.Client.List(context.Background(), pods, client.InNamespace(ns))).To(Succeed())
		var terminating []string
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil {
				terminating = append(terminating, p.Name)
			}
		}
		return terminating
	}).WithTimeout(readyTimeout).WithPolling(250 * time.Millisecond).Should(BeEmpty())
}

// waitRolledOut waits until the Deployment runs replicas up-to-date, ready
// Pods of image and nothing else.
func waitRolledOut(t *testing.T, ns, name, image string, replicas int32) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		d := &appsv1.Deployment{}
		g.Expect(env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, d)).To(Succeed())
		g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal(image))
		g.Expect(d.Status.ObservedGeneration).To(Equal(d.Generation))
		g.Expect(d.Status.UpdatedReplicas).To(Equal(replicas))
		g.Expect(d.Status.ReadyReplicas).To(Equal(replicas))
		g.Expect(d.Status.Replicas).To(Equal(replicas))
	}).WithTimeout(readyTimeout).WithPolling(250 * time.Millisecond).Should(Succeed())
}
