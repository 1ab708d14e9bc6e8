package controller_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/contract"
)

// fakeGatewayMetrics stands in for a gateway replica's /metrics in these
// controller tests (no data plane runs under envtest): a real client_golang
// registry with the series the gateway exports, under the contract's names.
// The end-to-end tests read the real gateway.
type fakeGatewayMetrics struct {
	once     sync.Once
	srv      *httptest.Server
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

var gatewayMetrics = &fakeGatewayMetrics{}

func (f *fakeGatewayMetrics) url() string {
	f.once.Do(func() {
		reg := prometheus.NewRegistry()
		f.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: contract.MetricBackendRequests, Help: "requests"},
			[]string{contract.LabelRouteKind, contract.LabelRouteNamespace, contract.LabelRouteName, contract.LabelBackendNamespace, contract.LabelBackendName, contract.LabelCode, contract.LabelOrigin})
		f.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: contract.MetricBackendDuration, Help: "latency", Buckets: prometheus.DefBuckets},
			[]string{contract.LabelRouteKind, contract.LabelRouteNamespace, contract.LabelRouteName, contract.LabelBackendNamespace, contract.LabelBackendName})
		reg.MustRegister(f.requests, f.latency)
		f.srv = httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	})
	return f.srv.URL + "/metrics"
}

// serve counts n answers of code from backend of namespace ns.
func (f *fakeGatewayMetrics) serve(ns, backend, code string, n int) {
	f.answer(ns, backend, code, contract.OriginBackend, n)
}

// answer counts n answers of code given for backend by origin (the backend
// or the gateway itself).
func (f *fakeGatewayMetrics) answer(ns, backend, code, origin string, n int) {
	for range n {
		f.requests.WithLabelValues("httproute", ns, "shop", ns, backend, code, origin).Inc()
		f.latency.WithLabelValues("httproute", ns, "shop", ns, backend).Observe(0.004)
	}
}

// traffic serves stable and canary requests every 100 ms until the test
// ends; canaryFail in 100 of the canary's answers are 5xx.
func (f *fakeGatewayMetrics) traffic(t *testing.T, ns string, stable, canary, canaryFail int) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		sent := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			f.serve(ns, "shop", "2xx", stable)
			for range canary {
				code := "2xx"
				if sent%100 < canaryFail {
					code = "5xx"
				}
				sent++
				f.serve(ns, "shop-canary", code, 1)
			}
		}
	}()
}

// bothTracksAvailable marks the stable and (once it exists) the canary
// Deployment available, as the Deployment controller would, and lists a
// ready endpoint for the canary Service, as the EndpointSlice controller
// would.
func bothTracksAvailable(g Gomega, ns string) {
	deploymentAvailable(g, ns, "shop")
	g.Eventually(func(g Gomega) {
		get(g, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop-canary"}})
	}, timeout, poll).Should(Succeed())
	deploymentAvailable(g, ns, "shop-canary")
	endpointSlice(g, ns, "shop-canary", "shop-canary-a", true, true)
}

// endpointSlice writes EndpointSlice name of Service svc with one endpoint,
// ready or not, as the EndpointSlice controller would (none runs under
// envtest). That controller copies the Service's labels onto the slice;
// pylons says whether the Service is Pylon's (carries its labels).
func endpointSlice(g Gomega, ns, svc, name string, ready, pylons bool) {
	es := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	g.EventuallyWithOffset(1, func() error {
		_, err := controllerutil.CreateOrUpdate(ctx, k8s, es, func() error {
			es.Labels = map[string]string{
				discoveryv1.LabelServiceName: svc,
				discoveryv1.LabelManagedBy:   "endpointslice-controller.k8s.io",
			}
			if pylons {
				es.Labels["app.kubernetes.io/managed-by"] = "pylon"
				es.Labels["pylon.dev/webapp"] = strings.TrimSuffix(svc, "-canary")
			}
			es.AddressType = discoveryv1.AddressTypeIPv4
			es.Ports = []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)}}
			es.Endpoints = []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.7"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready), Serving: ptr.To(ready)}}}
			return nil
		})
		return err
	}, timeout, poll).Should(Succeed())
}

func routeWeights(g Gomega, ns string) []int32 {
	route := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	get(g, route)
	var out []int32
	for _, b := range route.Spec.Rules[len(route.Spec.Rules)-1].BackendRefs {
		out = append(out, ptr.Deref(b.Weight, 1))
	}
	return out
}

func canaryApp(t *testing.T, class string, weight int32, mutate func(*pylonv1alpha1.WebApp)) (*pylonv1alpha1.WebApp, string) {
	ns := newNamespace(t)
	app := newWebApp(t, ns, "shop", func(a *pylonv1alpha1.WebApp) {
		a.Spec.Hostname = "shop." + ns + ".example.com"
		a.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: class}
		a.Spec.Replicas = ptr.To[int32](4)
		a.Spec.Canary = &pylonv1alpha1.CanarySpec{Image: "registry.example.com/shop:2.0.0", Weight: weight}
		if mutate != nil {
			mutate(a)
		}
	})
	return app, ns
}

// TestCanaryGetsNoShareUntilItHasAvailablePods: the routes give a canary 0
// while it has no available Pod, whatever the spec says; the spec is never
// rewritten; status says why, and when the weight last changed.
func TestCanaryGetsNoShareUntilItHasAvailablePods(t *testing.T) {
	g := NewWithT(t)
	class, _ := gatewayClass(t, nil)
	app, ns := canaryApp(t, class, 50, nil)
	deploymentAvailable(g, ns, "shop")

	canary := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop-canary"}}
	g.Eventually(func(g Gomega) {
		g.Expect(routeWeights(g, ns)).To(Equal([]int32{100, 0}))
		get(g, canary)
		// Sized for the share it is being brought to, before it gets it.
		g.Expect(canary.Spec.Replicas).To(HaveValue(BeEquivalentTo(2)))
		get(g, app)
		g.Expect(app.Status.Canary).NotTo(BeNil())
		g.Expect(app.Status.Canary.Weight).To(BeZero())
		g.Expect(app.Status.Canary.WeightReason).To(Equal(pylonv1alpha1.ReasonCanaryNotAvailable))
		g.Expect(app.Status.Canary.WeightMessage).To(ContainSubstring("shop-canary"))
	}, timeout, poll).Should(Succeed())
	// It stays so: nothing but available Pods moves the share.
	g.Consistently(func(g Gomega) { g.Expect(routeWeights(g, ns)).To(Equal([]int32{100, 0})) }, 2*time.Second, 100*time.Millisecond).Should(Succeed())

	deploymentAvailable(g, ns, "shop-canary")
	// Available is not yet reachable: the EndpointSlice controller lists
	// the Pod on its own schedule and a gateway learns of it only from
	// there. Until the canary Service lists a ready endpoint, no share.
	noShareYet := func(g Gomega) {
		g.Expect(routeWeights(g, ns)).To(Equal([]int32{100, 0}))
		get(g, app)
		g.Expect(app.Status.Canary).NotTo(BeNil())
		g.Expect(app.Status.Canary.Weight).To(BeZero())
		g.Expect(app.Status.Canary.WeightReason).To(Equal(pylonv1alpha1.ReasonCanaryNoReadyEndpoints))
		// Not at the spec yet: Reconciling says so (kstatus InProgress;
		// its reason is CanaryNoReadyEndpoints once everything else is
		// ready, status_test.go).
		g.Expect(meta.IsStatusConditionTrue(app.Status.Conditions, pylonv1alpha1.ConditionReconciling)).To(BeTrue())
	}
	g.Eventually(noShareYet, timeout, poll).Should(Succeed())
	g.Expect(app.Status.Canary.WeightMessage).To(ContainSubstring("Service shop-canary lists no ready endpoint"))
	// A listed endpoint that is not ready, and a ready one in a slice that
	// is not of Pylon's Service (not cached), change nothing.
	endpointSlice(g, ns, "shop-canary", "shop-canary-a", false, true)
	endpointSlice(g, ns, "shop-canary", "shop-canary-foreign", true, false)
	g.Consistently(noShareYet, 2*time.Second, 100*time.Millisecond).Should(Succeed())

	endpointSlice(g, ns, "shop-canary", "shop-canary-a", true, true)
	g.Eventually(func(g Gomega) {
		g.Expect(routeWeights(g, ns)).To(Equal([]int32{50, 50}))
		get(g, app)
		g.Expect(app.Status.Canary).NotTo(BeNil())
		g.Expect(app.Status.Canary.Weight).To(BeEquivalentTo(50))
		g.Expect(app.Status.Canary.WeightReason).To(Equal(pylonv1alpha1.ReasonWeightDeclared))
		if rec := meta.FindStatusCondition(app.Status.Conditions, pylonv1alpha1.ConditionReconciling); rec != nil {
			g.Expect(rec.Reason).NotTo(Equal(pylonv1alpha1.ReasonCanaryNoReadyEndpoints), "served as declared")
		}
		g.Expect(app.Status.Canary.LastWeightChangeTime).NotTo(BeNil())
		g.Expect(app.Spec.Canary.Weight).To(BeEquivalentTo(50), "the spec is the user's")
		g.Expect(eventReasons(g, ns, "shop", corev1.EventTypeNormal)).To(ContainElement("CanaryWeight"))
	}, timeout, poll).Should(Succeed())
}

// TestCanaryGetsEverythingWhileStableHasNoPods: a track with no available
// Pods gets no share while the other can serve.
func TestCanaryGetsEverythingWhileStableHasNoPods(t *testing.T) {
	g := NewWithT(t)
	class, _ := gatewayClass(t, nil)
	app, ns := canaryApp(t, class, 10, nil)
	g.Eventually(func(g Gomega) {
		get(g, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop-canary"}})
	}, timeout, poll).Should(Succeed())
	deploymentAvailable(g, ns, "shop-canary")
	endpointSlice(g, ns, "shop-canary", "shop-canary-a", true, true)
	g.Eventually(func(g Gomega) {
		g.Expect(routeWeights(g, ns)).To(Equal([]int32{0, 100}))
		get(g, app)
		g.Expect(app.Status.Canary).NotTo(BeNil())
		g.Expect(app.Status.Canary.WeightReason).To(Equal(pylonv1alpha1.ReasonStableNotAvailable))
	}, timeout, poll).Should(Succeed())
	deploymentAvailable(g, ns, "shop")
	g.Eventually(func(g Gomega) { g.Expect(routeWeights(g, ns)).To(Equal([]int32{90, 10})) }, timeout, poll).Should(Succeed())
}

// TestCanaryPromotionKeepsCapacity: giving spec.image the canary's image
// keeps the canary and its share until the stable Deployment has rolled
// out, then drains it at 0, then deletes it.
func TestCanaryPromotionKeepsCapacity(t *testing.T) {
	g := NewWithT(t)
	class, _ := gatewayClass(t, nil)
	app, ns := canaryApp(t, class, 20, nil)
	bothTracksAvailable(g, ns)
	g.Eventually(func(g Gomega) { g.Expect(routeWeights(g, ns)).To(Equal([]int32{80, 20})) }, timeout, poll).Should(Succeed())

	update(t, app, func(a *pylonv1alpha1.WebApp) { a.Spec.Image = a.Spec.Canary.Image })
	stable := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	g.Eventually(func(g Gomega) {
		get(g, stable)
		g.Expect(stable.Spec.Template.Spec.Containers[0].Image).To(Equal("registry.example.com/shop:2.0.0"))
		get(g, app)
		g.Expect(app.Status.Canary).NotTo(BeNil())
		g.Expect(app.Status.Canary.WeightReason).To(Equal(pylonv1alpha1.ReasonCanaryRetiring))
	}, timeout, poll).Should(Succeed())
	// The stable rollout has not been observed: the canary keeps its share.
	g.Consistently(func(g Gomega) {
		g.Expect(routeWeights(g, ns)).To(Equal([]int32{80, 20}))
	}, 2*time.Second, 100*time.Millisecond).Should(Succeed())

	deploymentAvailable(g, ns, "shop")
	g.Eventually(func(g Gomega) {
		g.Expect(routeWeights(g, ns)).To(Equal([]int32{100, 0}), "drained at weight 0 first")
	}, timeout, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(absent(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop-canary"}})()).To(BeTrue())
		g.Expect(routeWeights(g, ns)).To(Equal([]int32{100}))
		get(g, app)
		g.Expect(app.Status.Canary).To(BeNil())
	}, timeout, poll).Should(Succeed())
}

// pylonGatewayClass is a Gateway class whose canary figures come from the
// (stand-in) gateway metrics endpoint.
func pylonGatewayClass(t *testing.T) string {
	class, _ := gatewayClass(t, func(c *pylonv1alpha1.ExposureClass) {
		c.Spec.Metrics = &pylonv1alpha1.ExposureClassMetrics{Source: pylonv1alpha1.MetricsPylonGateway}
	})
	return class
}

func withAnalysis(steps ...int32) func(*pylonv1alpha1.WebApp) {
	return func(a *pylonv1alpha1.WebApp) {
		a.Spec.Canary.Analysis = &pylonv1alpha1.CanaryAnalysis{
			Steps: steps, StepDuration: &metav1.Duration{Duration: 5 * time.Second}, MinRequests: 5,
			MaxErrorRateIncrease: ptr.To[int32](5),
		}
	}
}

// TestCanaryAnalysisWalksEveryStep: in bounds, the canary walks 10 → 30 →
// 50 and succeeds; status shows each step and what was measured.
func TestCanaryAnalysisWalksEveryStep(t *testing.T) {
	g := NewWithT(t)
	app, ns := canaryApp(t, pylonGatewayClass(t), 50, withAnalysis(10, 30))
	bothTracksAvailable(g, ns)
	gatewayMetrics.traffic(t, ns, 9, 1, 0)

	seen := map[int32]bool{}
	g.Eventually(func(g Gomega) {
		get(g, app)
		cs := app.Status.Canary
		g.Expect(cs).NotTo(BeNil())
		if cs.Phase == pylonv1alpha1.CanaryProgressing {
			seen[cs.Weight] = true
			g.Expect(cs.Steps).To(BeEquivalentTo(3))
			expectCondition(g, app, pylonv1alpha1.ConditionReconciling, metav1.ConditionTrue, pylonv1alpha1.ReasonAnalysisStep)
		}
		g.Expect(cs.Phase).To(Equal(pylonv1alpha1.CanarySucceeded))
	}, 60*time.Second, 200*time.Millisecond).Should(Succeed())
	g.Expect(seen).To(HaveKey(int32(10)))
	g.Expect(seen).To(HaveKey(int32(30)))
	g.Expect(routeWeights(g, ns)).To(Equal([]int32{50, 50}))
	get(g, app)
	expectCondition(g, app, pylonv1alpha1.ConditionCanaryHealthy, metav1.ConditionTrue, pylonv1alpha1.ReasonAnalysisInBounds)
	g.Expect(app.Status.Canary.Observed).NotTo(BeNil())
	g.Expect(app.Status.Canary.Observed.Source).To(Equal("pylon-gateway"))
	g.Expect(app.Status.Canary.Observed.Canary.Requests).To(BeNumerically(">", 0))
	// Events are sent by the recorder in the background: the status that
	// says Succeeded can be read before the event reaches the API server.
	g.Eventually(func(g Gomega) {
		g.Expect(eventReasons(g, ns, "shop", corev1.EventTypeNormal)).To(ContainElement("CanarySucceeded"))
	}, timeout, poll).Should(Succeed())
}

// TestCanaryAnalysisRollsBack: a canary failing a third of its requests is
// set to 0 at once, says why with the figures, stays rolled back, and is
// judged afresh when its spec changes.
func TestCanaryAnalysisRollsBack(t *testing.T) {
	g := NewWithT(t)
	app, ns := canaryApp(t, pylonGatewayClass(t), 50, withAnalysis(10, 30))
	bothTracksAvailable(g, ns)
	gatewayMetrics.traffic(t, ns, 9, 1, 33)

	g.Eventually(func(g Gomega) {
		get(g, app)
		g.Expect(app.Status.Canary).NotTo(BeNil())
		g.Expect(app.Status.Canary.Phase).To(Equal(pylonv1alpha1.CanaryRolledBack))
	}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
	g.Expect(app.Status.Canary.Weight).To(BeZero())
	g.Expect(app.Status.Canary.WeightReason).To(Equal(pylonv1alpha1.ReasonRolledBack))
	h := condition(app, pylonv1alpha1.ConditionCanaryHealthy)
	g.Expect(h).NotTo(BeNil())
	g.Expect(h.Status).To(Equal(metav1.ConditionFalse))
	g.Expect(h.Message).To(ContainSubstring("requests failed"))
	expectCondition(g, app, pylonv1alpha1.ConditionStalled, metav1.ConditionTrue, pylonv1alpha1.ReasonRolledBack)
	expectCondition(g, app, pylonv1alpha1.ConditionReady, metav1.ConditionFalse, pylonv1alpha1.ReasonRolledBack)
	g.Eventually(func(g Gomega) {
		g.Expect(routeWeights(g, ns)).To(Equal([]int32{100, 0}))
		g.Expect(eventReasons(g, ns, "shop", corev1.EventTypeWarning)).To(ContainElement(pylonv1alpha1.ReasonRolledBack))
	}, timeout, poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		get(g, app)
		g.Expect(app.Status.Canary.Phase).To(Equal(pylonv1alpha1.CanaryRolledBack))
		g.Expect(routeWeights(g, ns)).To(Equal([]int32{100, 0}))
	}, 6*time.Second, 200*time.Millisecond).Should(Succeed(), "a rollback holds until the canary's spec changes")

	update(t, app, func(a *pylonv1alpha1.WebApp) { a.Spec.Canary.Image = "registry.example.com/shop:2.0.1" })
	g.Eventually(func(g Gomega) {
		get(g, app)
		g.Expect(app.Status.Canary).NotTo(BeNil())
		g.Expect(app.Status.Canary.Phase).To(Equal(pylonv1alpha1.CanaryProgressing))
		g.Expect(app.Status.Canary.Step).To(BeEquivalentTo(1))
	}, timeout, poll).Should(Succeed())
}

// TestCanaryAnalysisIgnoresGatewayErrorsRightAfterTheShareWentUp: a gateway
// learns of the canary's endpoints and of its new weight through separate
// watches, so its first requests to a new canary may find no endpoint and
// be answered by the gateway's own 503 (origin gateway). Those restart the
// step instead of rolling the canary back; the canary's own answers are
// judged as before (TestCanaryAnalysisRollsBack).
func TestCanaryAnalysisIgnoresGatewayErrorsRightAfterTheShareWentUp(t *testing.T) {
	g := NewWithT(t)
	app, ns := canaryApp(t, pylonGatewayClass(t), 50, withAnalysis(10, 30))
	gatewayMetrics.url() // the counters exist before the step's first reading
	bothTracksAvailable(g, ns)
	g.Eventually(func(g Gomega) {
		get(g, app)
		g.Expect(app.Status.Canary).NotTo(BeNil())
		g.Expect(app.Status.Canary.Weight).To(BeEquivalentTo(10))
		g.Expect(app.Status.Canary.StepStartTime).NotTo(BeNil())
	}, timeout, poll).Should(Succeed())
	// The step has started (its first reading taken): 20 requests to the
	// canary answered by the gateway, 100% of its traffic so far.
	gatewayMetrics.serve(ns, "shop", "2xx", 20)
	gatewayMetrics.answer(ns, "shop-canary", "5xx", contract.OriginGateway, 20)
	restarted := false
	g.Eventually(func(g Gomega) {
		get(g, app)
		cs := app.Status.Canary
		g.Expect(cs).NotTo(BeNil())
		g.Expect(cs.Phase).NotTo(Equal(pylonv1alpha1.CanaryRolledBack), "the gateway's own answers were judged as the canary's")
		if h := condition(app, pylonv1alpha1.ConditionCanaryHealthy); h != nil && strings.Contains(h.Message, "starts again") {
			restarted = true
		}
		g.Expect(restarted).To(BeTrue(), "the step did not start again")
	}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
	// Then the canary serves, in bounds, and walks every step.
	gatewayMetrics.traffic(t, ns, 9, 1, 0)
	g.Eventually(func(g Gomega) {
		get(g, app)
		g.Expect(app.Status.Canary.Phase).NotTo(Equal(pylonv1alpha1.CanaryRolledBack))
		g.Expect(app.Status.Canary.Phase).To(Equal(pylonv1alpha1.CanarySucceeded))
	}, 60*time.Second, 200*time.Millisecond).Should(Succeed())
}

// TestCanaryAnalysisWithoutMetricsIsRefused: a class whose traffic Pylon
// cannot read refuses analysis with a clear condition; the canary gets
// nothing rather than being promoted unjudged.
func TestCanaryAnalysisWithoutMetricsIsRefused(t *testing.T) {
	g := NewWithT(t)
	class, _ := gatewayClass(t, nil) // a Gateway of example.com/gateway, no Prometheus
	app, ns := canaryApp(t, class, 50, withAnalysis(10))
	bothTracksAvailable(g, ns)
	g.Eventually(func(g Gomega) {
		get(g, app)
		h := condition(app, pylonv1alpha1.ConditionCanaryHealthy)
		g.Expect(h).NotTo(BeNil())
		g.Expect(h.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(h.Reason).To(Equal(pylonv1alpha1.ReasonMetricsUnavailable))
		g.Expect(h.Message).To(ContainSubstring("spec.metrics.prometheus"))
		expectCondition(g, app, pylonv1alpha1.ConditionStalled, metav1.ConditionTrue, pylonv1alpha1.ReasonMetricsUnavailable)
		g.Expect(routeWeights(g, ns)).To(Equal([]int32{100, 0}))
	}, timeout, poll).Should(Succeed())
}
