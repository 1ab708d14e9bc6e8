package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// Images the simulated node reads faults from (test/echo): the tag says how
// the canary misbehaves, and the image in each answer says which track
// answered.
const (
	neverReadyImage = "registry.example.com/shop:2.0_never-ready"
	failingImage    = "registry.example.com/shop:2.0_fail-30"
)

// tracked is constant load that records, per image, how each answer went:
// a canary that fails must be told apart from a stable track that fails.
type tracked struct {
	mu       sync.Mutex
	answers  map[string]map[int]int // image → status → count
	errors   int                    // transport errors (no answer at all)
	failures []string
	stop     chan struct{}
	wg       sync.WaitGroup
}

func startTracked(url string, workers int) *tracked {
	l := &tracked{answers: map[string]map[int]int{}, stop: make(chan struct{})}
	c := gatewayClient()
	for range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for n := 0; n < maxLoadRequests/workers; n++ {
				select {
				case <-l.stop:
					return
				default:
				}
				r, err := do(c, http.MethodGet, url, nil)
				l.mu.Lock()
				switch {
				case err != nil:
					l.errors++
				default:
					if l.answers[r.Echo.Image] == nil {
						l.answers[r.Echo.Image] = map[int]int{}
					}
					l.answers[r.Echo.Image][r.Status]++
				}
				if (err != nil || r.Status != http.StatusOK) && len(l.failures) < 10 {
					l.failures = append(l.failures, fmt.Sprintf("%s image=%q status=%d err=%v", time.Now().Format("15:04:05.000"), r.Echo.Image, r.Status, err))
				}
				l.mu.Unlock()
				time.Sleep(loadPace)
			}
		}()
	}
	return l
}

// snapshot copies the counts so far.
func (l *tracked) snapshot() (map[string]map[int]int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]map[int]int{}
	for img, m := range l.answers {
		out[img] = map[int]int{}
		for s, n := range m {
			out[img][s] = n
		}
	}
	return out, l.errors
}

func (l *tracked) finish() (map[string]map[int]int, int, []string) {
	close(l.stop)
	l.wg.Wait()
	a, e := l.snapshot()
	return a, e, l.failures
}

// total and failed count the answers of one image (failed: not 200).
func total(m map[int]int) (n, failed int) {
	for s, c := range m {
		n += c
		if s != http.StatusOK {
			failed += c
		}
	}
	return n, failed
}

func canaryStatus(g Gomega, app *pylonv1alpha1.WebApp) *pylonv1alpha1.CanaryStatus {
	cs := getApp(g, app).Status.Canary
	g.Expect(cs).NotTo(BeNil())
	return cs
}

// A canary whose Pods never become ready gets no request, under constant
// load, and status says why.
func TestCanaryThatNeverBecomesReadyGetsNoTraffic(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t, "never")
	app, url := servingApp(t, ns, "shop", "never.e2e.test", func(a *pylonv1alpha1.WebApp) { a.Spec.Replicas = ptr.To[int32](2) })
	l := startTracked(url, 4)
	updateApp(t, app, func(a *pylonv1alpha1.WebApp) {
		a.Spec.Canary = &pylonv1alpha1.CanarySpec{Image: neverReadyImage, Weight: 50}
	})
	g.Eventually(func(g Gomega) {
		cs := canaryStatus(g, app)
		g.Expect(cs.WeightReason).To(Equal(pylonv1alpha1.ReasonCanaryNotAvailable))
		g.Expect(cs.Replicas).To(BeNumerically(">=", 1), "the canary Pod exists and runs")
	}).WithTimeout(readyTimeout).Should(Succeed())
	// Give the gateway every chance to send it something.
	time.Sleep(5 * time.Second)
	answers, transport, failures := l.finish()
	n, failed := total(answers[stableImage])
	t.Logf("canary never ready: %d requests, all answered by %v; %d transport errors", n, answers, transport)
	g.Expect(failed).To(BeZero(), "failures: %v", failures)
	g.Expect(transport).To(BeZero(), "failures: %v", failures)
	g.Expect(answers).To(HaveLen(1), "only the stable image answered")
	g.Expect(n).To(BeNumerically(">", 100))

	got := getApp(g, app)
	g.Expect(got.Status.Canary.Weight).To(BeZero())
	g.Expect(got.Status.Canary.WeightMessage).To(ContainSubstring("no available Pod"))
	g.Expect(got.Spec.Canary.Weight).To(BeEquivalentTo(50), "the spec is never rewritten")
	c := condition(got, "CanaryAvailable")
	g.Expect(c).NotTo(BeNil())
	g.Expect(c.Status).NotTo(Equal(metav1.ConditionTrue))
}

// canaryServedUnderLoad serves a WebApp (2 stable Pods) in a new namespace
// with a canary of canaryImage at 40%, and starts tracked load on it; it
// returns once the canary has answered some of it.
func canaryServedUnderLoad(t *testing.T, prefix string) (*pylonv1alpha1.WebApp, *tracked) {
	t.Helper()
	g := NewWithT(t)
	ns := newNamespace(t, prefix)
	app, url := servingApp(t, ns, "shop", prefix+".e2e.test", func(a *pylonv1alpha1.WebApp) { a.Spec.Replicas = ptr.To[int32](2) })
	updateApp(t, app, func(a *pylonv1alpha1.WebApp) {
		a.Spec.Canary = &pylonv1alpha1.CanarySpec{Image: canaryImage, Weight: 40}
	})
	g.Eventually(func(g Gomega) {
		g.Expect(canaryStatus(g, app).Weight).To(BeEquivalentTo(40))
	}).WithTimeout(readyTimeout).Should(Succeed())
	l := startTracked(url, 4)
	g.Eventually(func(g Gomega) {
		served, _ := l.snapshot()
		n, _ := total(served[canaryImage])
		g.Expect(n).To(BeNumerically(">", 0), "the previous canary answers before the change")
	}).WithTimeout(readyTimeout).Should(Succeed())
	return app, l
}

// failedAnswers counts the answers other than 200 of every image, the
// gateway's own (no image) included.
func failedAnswers(answers map[string]map[int]int) int {
	failed := 0
	for _, m := range answers {
		_, f := total(m)
		failed += f
	}
	return failed
}

// A serving canary replaced by a new image whose Pods never become ready:
// from the change on, the canary's share reaches neither image (the
// previous canary is not the declared one, the new one cannot serve; the
// previous canary's Pod keeps running, as a rolling update keeps it), no
// request fails, and analysis does not walk its steps on the previous
// canary's answers.
func TestNewCanaryImageThatNeverBecomesReadyIsNotJudgedOnTheOldOne(t *testing.T) {
	g := NewWithT(t)
	app, l := canaryServedUnderLoad(t, "recanary")
	const step = 5 * time.Second
	updateApp(t, app, func(a *pylonv1alpha1.WebApp) {
		a.Spec.Canary = &pylonv1alpha1.CanarySpec{Image: neverReadyImage, Weight: 50, Analysis: &pylonv1alpha1.CanaryAnalysis{
			Steps: []int32{10}, StepDuration: &metav1.Duration{Duration: step}, MinRequests: 5,
		}}
	})
	g.Eventually(func(g Gomega) {
		cs := canaryStatus(g, app)
		g.Expect(cs.Revision).NotTo(BeEmpty())
		g.Expect(cs.WeightReason).To(Equal(pylonv1alpha1.ReasonCanaryNotAvailable))
	}).WithTimeout(readyTimeout).Should(Succeed())
	// The gateway applies the zero weight shortly after the route changes.
	time.Sleep(2 * time.Second)
	before, _ := l.snapshot()
	// Long enough for both steps to pass several times over.
	time.Sleep(4 * step)
	answers, transport, failures := l.finish()
	oldBefore, _ := total(before[canaryImage])
	oldAfter, _ := total(answers[canaryImage])
	newer, _ := total(answers[neverReadyImage])
	sn, _ := total(answers[stableImage])
	// The previous canary keeps serving until its share has moved, so the
	// change costs no request.
	failed := failedAnswers(answers)
	got := getApp(g, app)
	cs := got.Status.Canary
	t.Logf("previous canary answered %d before the change settled, %d after; new canary %d; stable %d; %d failed, %d transport errors; status: phase %s step %d weight %d: %s",
		oldBefore, oldAfter-oldBefore, newer, sn, failed, transport, cs.Phase, cs.Step, cs.Weight, cs.WeightMessage)
	g.Expect(oldAfter).To(Equal(oldBefore), "the previous canary gets no share of the new one's")
	g.Expect(newer).To(BeZero(), "the new canary's Pods are never ready")
	g.Expect(failed+transport).To(BeZero(), "failures: %v", failures)
	g.Expect(cs.Phase).To(Equal(pylonv1alpha1.CanaryProgressing), "no step passes without the declared canary serving")
	g.Expect(cs.Step).To(BeEquivalentTo(1))
	g.Expect(cs.Weight).To(BeZero())
	g.Expect(cs.StepStartTime).To(BeNil())
	g.Expect(cs.WeightReason).To(Equal(pylonv1alpha1.ReasonCanaryNotAvailable))
	h := condition(got, "CanaryHealthy")
	g.Expect(h).NotTo(BeNil())
	g.Expect(h.Status).To(Equal(metav1.ConditionUnknown), "%s: %s", h.Reason, h.Message)
}

// A serving canary replaced by a new image that becomes ready: once the
// switch has settled the new image gets the canary's share and the
// previous one none, and no request fails on the way.
func TestNewCanaryImageTakesTheShareWithoutFailures(t *testing.T) {
	g := NewWithT(t)
	const nextImage = "registry.example.com/shop:2.1"
	app, l := canaryServedUnderLoad(t, "nextcanary")
	updateApp(t, app, func(a *pylonv1alpha1.WebApp) { a.Spec.Canary.Image = nextImage })
	g.Eventually(func(g Gomega) {
		cs := canaryStatus(g, app)
		g.Expect(cs.Image).To(Equal(nextImage))
		g.Expect(cs.WeightReason).To(Equal(pylonv1alpha1.ReasonWeightDeclared))
		g.Expect(cs.Weight).To(BeEquivalentTo(40))
		g.Expect(cs.AvailableReplicas).To(BeNumerically(">", 0))
	}).WithTimeout(readyTimeout).Should(Succeed())
	// The gateway applies the weight and the endpoints shortly after.
	time.Sleep(2 * time.Second)
	before, _ := l.snapshot()
	time.Sleep(6 * time.Second)
	answers, transport, failures := l.finish()
	oldBefore, _ := total(before[canaryImage])
	oldAfter, _ := total(answers[canaryImage])
	nextBefore, _ := total(before[nextImage])
	nextAfter, _ := total(answers[nextImage])
	stableBefore, _ := total(before[stableImage])
	stableAfter, _ := total(answers[stableImage])
	failed := failedAnswers(answers)
	t.Logf("after the switch settled: previous canary %d, new canary %d, stable %d; whole run: %d failed, %d transport errors",
		oldAfter-oldBefore, nextAfter-nextBefore, stableAfter-stableBefore, failed, transport)
	g.Expect(oldAfter).To(Equal(oldBefore), "the previous canary gets none of the new one's share")
	g.Expect(nextAfter-nextBefore).To(BeNumerically(">", 0), "the new canary gets its share")
	g.Expect(stableAfter - stableBefore).To(BeNumerically(">", 0))
	g.Expect(failed+transport).To(BeZero(), "failures: %v", failures)
}

// A 50% canary started under constant load fails no request, and the
// share the gateway measured is reported in status.
func TestCanaryStartedUnderLoadFailsNothing(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t, "start")
	app, url := servingApp(t, ns, "shop", "start.e2e.test", func(a *pylonv1alpha1.WebApp) { a.Spec.Replicas = ptr.To[int32](2) })
	l := startTracked(url, 4)
	start := time.Now()
	updateApp(t, app, func(a *pylonv1alpha1.WebApp) {
		a.Spec.Canary = &pylonv1alpha1.CanarySpec{Image: canaryImage, Weight: 50}
	})
	g.Eventually(func(g Gomega) {
		g.Expect(canaryStatus(g, app).Weight).To(BeEquivalentTo(50))
		a, _ := l.snapshot()
		n, _ := total(a[canaryImage])
		g.Expect(n).To(BeNumerically(">", 200), "the canary serves its share")
	}).WithTimeout(readyTimeout).Should(Succeed())
	t.Logf("canary at its declared 50%% after %s", time.Since(start).Round(time.Millisecond))
	g.Eventually(func(g Gomega) {
		o := canaryStatus(g, app).Observed
		g.Expect(o).NotTo(BeNil())
		g.Expect(o.Source).To(Equal("pylon-gateway"))
		g.Expect(o.Canary.Requests).To(BeNumerically(">", 0))
		share, err := strconv.ParseFloat(o.Canary.Share, 64)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(share).To(BeNumerically(">", 20), "measured share %s%%", o.Canary.Share)
	}).WithTimeout(60 * time.Second).WithPolling(time.Second).Should(Succeed())
	answers, transport, failures := l.finish()
	sn, sf := total(answers[stableImage])
	cn, cf := total(answers[canaryImage])
	o := getApp(g, app).Status.Canary.Observed
	t.Logf("under load: stable %d (%d failed), canary %d (%d failed), %d transport errors; status.canary.observed: canary %s%% of %d+%d requests, success %s%%",
		sn, sf, cn, cf, transport, o.Canary.Share, o.Canary.Requests, o.Stable.Requests, o.Canary.SuccessRate)
	g.Expect(sf+cf+transport).To(BeZero(), "failures: %v", failures)
}

// A canary that fails 30% of its requests is rolled back automatically
// within one step's window; the stable track's answers do not suffer, and
// status reports the failures the gateway counted.
func TestCanaryAnalysisRollsBackAFailingCanary(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t, "rollback")
	app, url := servingApp(t, ns, "shop", "rollback.e2e.test", func(a *pylonv1alpha1.WebApp) { a.Spec.Replicas = ptr.To[int32](2) })
	l := startTracked(url, 4)
	const step = 15 * time.Second
	updateApp(t, app, func(a *pylonv1alpha1.WebApp) {
		a.Spec.Canary = &pylonv1alpha1.CanarySpec{Image: failingImage, Weight: 50, Analysis: &pylonv1alpha1.CanaryAnalysis{
			Steps: []int32{10, 30}, StepDuration: &metav1.Duration{Duration: step}, MinRequests: 20,
		}}
	})
	var stepStart time.Time
	g.Eventually(func(g Gomega) {
		cs := canaryStatus(g, app)
		g.Expect(cs.StepStartTime).NotTo(BeNil())
		stepStart = cs.StepStartTime.Time
	}).WithTimeout(readyTimeout).Should(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(canaryStatus(g, app).Phase).To(Equal(pylonv1alpha1.CanaryRolledBack))
	}).WithTimeout(step + 30*time.Second).WithPolling(250 * time.Millisecond).Should(Succeed())
	rolledBack := time.Now()
	t.Logf("rolled back %s after the step started (step %s)", rolledBack.Sub(stepStart).Round(time.Second), step)
	g.Expect(rolledBack.Sub(stepStart)).To(BeNumerically("<", step+10*time.Second), "within one step's window")

	// After the rollback no request reaches the canary.
	time.Sleep(3 * time.Second)
	before, _ := l.snapshot()
	time.Sleep(5 * time.Second)
	answers, transport, _ := l.finish()
	bn, _ := total(before[failingImage])
	an, af := total(answers[failingImage])
	sn, sf := total(answers[stableImage])
	got := getApp(g, app)
	cs := got.Status.Canary
	t.Logf("clients saw: canary %d answers (%d failed), stable %d (%d failed), %d transport errors; status: %s", an, af, sn, sf, transport, cs.WeightMessage)
	g.Expect(an).To(Equal(bn), "no canary answer after the rollback settled")
	g.Expect(sf+transport).To(BeZero(), "the stable track's error rate is unchanged")
	g.Expect(af).To(BeNumerically(">", 0), "the canary did fail")
	g.Expect(cs.Weight).To(BeZero())
	g.Expect(cs.Observed).NotTo(BeNil())
	g.Expect(cs.Observed.Canary.Errors).To(BeNumerically(">", 0), "status reports the failures counted")
	h := condition(got, "CanaryHealthy")
	g.Expect(h).NotTo(BeNil())
	g.Expect(h.Status).To(Equal(metav1.ConditionFalse))
	g.Expect(h.Reason).To(Equal(pylonv1alpha1.ReasonRolledBack))
	g.Expect(h.Message).To(ContainSubstring("requests failed"))
	g.Expect(condition(got, "Stalled")).NotTo(BeNil())
}

// A healthy canary walks every analysis step to its declared weight.
func TestCanaryAnalysisWalksEveryStepEndToEnd(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t, "steps")
	app, url := servingApp(t, ns, "shop", "steps.e2e.test", func(a *pylonv1alpha1.WebApp) { a.Spec.Replicas = ptr.To[int32](2) })
	l := startTracked(url, 4)
	updateApp(t, app, func(a *pylonv1alpha1.WebApp) {
		a.Spec.Canary = &pylonv1alpha1.CanarySpec{Image: canaryImage, Weight: 40, Analysis: &pylonv1alpha1.CanaryAnalysis{
			Steps: []int32{10, 20}, StepDuration: &metav1.Duration{Duration: 5 * time.Second}, MinRequests: 10,
		}}
	})
	seen := map[int32]int32{}
	g.Eventually(func(g Gomega) {
		cs := canaryStatus(g, app)
		if cs.Phase == pylonv1alpha1.CanaryProgressing && cs.Step > 0 {
			seen[cs.Step] = cs.Weight
		}
		g.Expect(cs.Phase).To(Equal(pylonv1alpha1.CanarySucceeded))
	}).WithTimeout(90 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
	answers, transport, failures := l.finish()
	t.Logf("steps seen (step → weight): %v; answers %v", seen, answers)
	g.Expect(seen).To(HaveKeyWithValue(int32(1), int32(10)))
	g.Expect(seen).To(HaveKeyWithValue(int32(2), int32(20)))
	_, sf := total(answers[stableImage])
	_, cf := total(answers[canaryImage])
	g.Expect(sf+cf+transport).To(BeZero(), "failures: %v", failures)
	got := getApp(g, app)
	g.Expect(got.Status.Canary.Weight).To(BeEquivalentTo(40))
	expectShare(t, url, 40)
}

// Promotion by giving spec.image the canary's image fails no request: the
// stable track rolls out before the canary is drained and removed.
func TestCanaryPromotionFailsNothing(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t, "promote")
	app, url := servingApp(t, ns, "shop", "promote.e2e.test", func(a *pylonv1alpha1.WebApp) {
		a.Spec.Replicas = ptr.To[int32](2)
		a.Spec.Canary = &pylonv1alpha1.CanarySpec{Image: canaryImage, Weight: 30}
	})
	g.Eventually(func(g Gomega) { g.Expect(canaryStatus(g, app).Weight).To(BeEquivalentTo(30)) }).WithTimeout(readyTimeout).Should(Succeed())
	l := startTracked(url, 4)
	start := time.Now()
	updateApp(t, app, func(a *pylonv1alpha1.WebApp) { a.Spec.Image = canaryImage })
	g.Eventually(func() bool {
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "shop-canary"}, &appsv1.Deployment{})
		return apierrors.IsNotFound(err)
	}).WithTimeout(readyTimeout).Should(BeTrue(), "the canary is retired")
	waitRolledOut(t, ns, "shop", canaryImage, 2)
	time.Sleep(2 * time.Second)
	answers, transport, failures := l.finish()
	t.Logf("promotion took %s under load; answers %v, %d transport errors", time.Since(start).Round(time.Millisecond), answers, transport)
	_, sf := total(answers[stableImage])
	_, cf := total(answers[canaryImage])
	g.Expect(sf+cf+transport).To(BeZero(), "failures: %v", failures)
	g.Expect(answers).To(HaveKey(canaryImage))
	g.Expect(getApp(g, app).Status.Canary).To(BeNil())
	counts := split(g, url, 100, nil)
	g.Expect(counts).To(Equal(map[string]int{canaryImage: 100}))
}
