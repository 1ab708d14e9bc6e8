package webapp

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/traffic"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func testApp(weight int32, mutate func(*pylonv1alpha1.WebApp)) *pylonv1alpha1.WebApp {
	app := &pylonv1alpha1.WebApp{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop", Generation: 2},
		Spec: pylonv1alpha1.WebAppSpec{
			Image: "shop:1", Replicas: ptr.To[int32](4),
			Canary: &pylonv1alpha1.CanarySpec{Image: "shop:2", Weight: weight},
		},
	}
	if mutate != nil {
		mutate(app)
	}
	return app
}

// liveDeployment is a live Deployment running image with available Pods,
// rolled out at its generation.
func liveDeployment(name, image string, available int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(available), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Image: image}},
		}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: available, UpdatedReplicas: available, ReadyReplicas: available, AvailableReplicas: available,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue}}},
	}
}

// midRollout is a Deployment whose template runs image, partway through
// its rolling update: available Pods plus one surge Pod, only one of them
// of the new template.
func midRollout(name, image string, available int32) *appsv1.Deployment {
	d := liveDeployment(name, image, available)
	d.Status.Replicas, d.Status.UpdatedReplicas = available+1, 1
	return d
}

func TestDecideCanaryWeight(t *testing.T) {
	for _, tc := range []struct {
		name           string
		app            *pylonv1alpha1.WebApp
		facts          canaryFacts
		weight, size   int32
		reason         string
		run            bool
		noStatus       bool
		messageContain string
	}{
		{
			name: "canary not created yet: no share, sized for the declared weight",
			app:  testApp(50, nil), facts: canaryFacts{stable: liveDeployment("shop", "shop:1", 4)},
			weight: 0, size: 50, reason: pylonv1alpha1.ReasonCanaryNotAvailable, run: true, messageContain: "being created",
		},
		{
			name: "canary without available Pods: no share",
			app:  testApp(50, nil), facts: canaryFacts{stable: liveDeployment("shop", "shop:1", 4), canary: liveDeployment("shop-canary", "shop:2", 0)},
			weight: 0, size: 50, reason: pylonv1alpha1.ReasonCanaryNotAvailable, run: true, messageContain: "no available Pod",
		},
		{
			// The Deployment controller counts a Pod available before the
			// EndpointSlice controller lists it, and a gateway only learns
			// of it from the EndpointSlice.
			name: "canary available but its Service lists no ready endpoint yet: no share",
			app:  testApp(50, nil), facts: canaryFacts{stable: liveDeployment("shop", "shop:1", 4), canary: liveDeployment("shop-canary", "shop:2", 2)},
			weight: 0, size: 50, reason: pylonv1alpha1.ReasonCanaryNoReadyEndpoints, run: true, messageContain: "Service shop-canary lists no ready endpoint",
		},
		{
			name: "stable without Pods, canary available without ready endpoints: still no share",
			app:  testApp(10, nil), facts: canaryFacts{stable: liveDeployment("shop", "shop:1", 0), canary: liveDeployment("shop-canary", "shop:2", 1)},
			weight: 0, size: 10, reason: pylonv1alpha1.ReasonCanaryNoReadyEndpoints, run: true,
		},
		{
			name: "analysis, canary available without ready endpoints: step 1 does not start",
			app:  analysed(50, 10), facts: canaryFacts{stable: liveDeployment("shop", "shop:1", 4), canary: liveDeployment("shop-canary", "shop:2", 2), analysis: analysisFacts{source: "pylon-gateway"}},
			weight: 0, size: 10, reason: pylonv1alpha1.ReasonCanaryNoReadyEndpoints, run: true, messageContain: "step 1 of 2 waits",
		},
		{
			name: "analysis, canary available with ready endpoints: step 1 starts",
			app:  analysed(50, 10), facts: canaryFacts{stable: liveDeployment("shop", "shop:1", 4), canary: liveDeployment("shop-canary", "shop:2", 2), canaryEndpoints: 1, analysis: analysisFacts{source: "pylon-gateway"}},
			weight: 10, size: 10, reason: pylonv1alpha1.ReasonAnalysisStep, run: true,
		},
		{
			name: "both available: the declared weight",
			app:  testApp(30, nil), facts: canaryFacts{stable: liveDeployment("shop", "shop:1", 4), canary: liveDeployment("shop-canary", "shop:2", 2), canaryEndpoints: 2},
			weight: 30, size: 30, reason: pylonv1alpha1.ReasonWeightDeclared, run: true,
		},
		{
			name: "stable without Pods, canary with: everything to the canary",
			app:  testApp(10, nil), facts: canaryFacts{stable: liveDeployment("shop", "shop:1", 0), canary: liveDeployment("shop-canary", "shop:2", 1), canaryEndpoints: 1},
			weight: 100, size: 10, reason: pylonv1alpha1.ReasonStableNotAvailable, run: true,
		},
		{
			name: "Ingress controller without canary support",
			app:  testApp(10, nil), facts: canaryFacts{unsupported: true, stable: liveDeployment("shop", "shop:1", 4), canary: liveDeployment("shop-canary", "shop:2", 1), canaryEndpoints: 1},
			weight: 0, size: 10, reason: pylonv1alpha1.ReasonCanaryUnsupported, run: true,
		},
		{
			name: "header-only canary: runs at weight 0",
			app: testApp(0, func(a *pylonv1alpha1.WebApp) {
				a.Spec.Canary.HeaderMatch = &pylonv1alpha1.HeaderMatch{Name: "x", Value: "y"}
			}),
			facts:  canaryFacts{stable: liveDeployment("shop", "shop:1", 4), canary: liveDeployment("shop-canary", "shop:2", 1), canaryEndpoints: 1},
			weight: 0, size: 0, reason: pylonv1alpha1.ReasonWeightDeclared, run: true,
		},
		{
			name: "no canary declared, none running",
			app:  testApp(0, func(a *pylonv1alpha1.WebApp) { a.Spec.Canary = nil }),
			run:  false, noStatus: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.facts.now, tc.facts.drain = t0, 10*time.Second
			before := tc.app.DeepCopy()
			d := decideCanary(tc.app, tc.facts)
			if !equality.Semantic.DeepEqual(before, tc.app) {
				t.Fatal("decideCanary changed the WebApp")
			}
			if d.plan.Run != tc.run {
				t.Fatalf("run %v, want %v", d.plan.Run, tc.run)
			}
			if tc.noStatus {
				if d.status != nil {
					t.Fatalf("status %+v, want none", d.status)
				}
				return
			}
			if d.plan.Weight != tc.weight || d.status.Weight != tc.weight || d.plan.SizeWeight != tc.size {
				t.Errorf("weight %d (status %d), sized for %d; want %d, sized for %d", d.plan.Weight, d.status.Weight, d.plan.SizeWeight, tc.weight, tc.size)
			}
			if d.status.WeightReason != tc.reason {
				t.Errorf("reason %q, want %q (%s)", d.status.WeightReason, tc.reason, d.status.WeightMessage)
			}
			if !strings.Contains(d.status.WeightMessage, tc.messageContain) {
				t.Errorf("message %q does not say %q", d.status.WeightMessage, tc.messageContain)
			}
			if d.status.LastWeightChangeTime == nil || !d.status.LastWeightChangeTime.Equal(&metav1.Time{Time: t0}) {
				t.Errorf("last weight change %v, want %v (no previous status)", d.status.LastWeightChangeTime, t0)
			}
		})
	}
}

// TestPreviousCanaryIsNotTheCanary: when spec.canary names a new image,
// the Pods the canary Deployment still counts available are the previous
// canary's. Giving the canary its share then would serve (and, with
// analysis, judge) an image the spec no longer declares.
func TestPreviousCanaryIsNotTheCanary(t *testing.T) {
	stale := func(d *appsv1.Deployment) *appsv1.Deployment {
		d.Generation = 2 // the Deployment controller has not acted on it yet
		return d
	}
	for _, tc := range []struct {
		name    string
		app     *pylonv1alpha1.WebApp
		canary  *appsv1.Deployment
		prev    *pylonv1alpha1.CanaryStatus
		weight  int32
		reason  string
		message string
		avail   int32
	}{
		{
			name:   "the cached canary Deployment still runs the previous image",
			app:    testApp(30, nil),
			canary: liveDeployment("shop-canary", "shop:1.5", 2),
			weight: 0, reason: pylonv1alpha1.ReasonCanaryNotAvailable, message: "rolling out shop:2",
		},
		{
			name:   "analysis: the step waits for a Pod of the new image",
			app:    analysed(50, 10),
			canary: liveDeployment("shop-canary", "shop:1.5", 2),
			weight: 0, reason: pylonv1alpha1.ReasonCanaryNotAvailable, message: "step 1 of 2 waits",
		},
		{
			name:   "the template runs the new image, Pods of the old one are still counted",
			app:    testApp(30, nil),
			canary: midRollout("shop-canary", "shop:2", 2),
			weight: 0, reason: pylonv1alpha1.ReasonCanaryNotAvailable, message: "rolling out shop:2",
		},
		{
			name:   "status not yet at the new template, the canary was waiting: it keeps waiting",
			app:    testApp(30, nil),
			canary: stale(liveDeployment("shop-canary", "shop:2", 2)),
			prev:   &pylonv1alpha1.CanaryStatus{Image: "shop:2", WeightReason: pylonv1alpha1.ReasonCanaryNotAvailable},
			weight: 0, reason: pylonv1alpha1.ReasonCanaryNotAvailable,
		},
		{
			name:   "status not yet at a new size, Pods of this image were counted: it keeps its share",
			app:    testApp(30, nil),
			canary: stale(liveDeployment("shop-canary", "shop:2", 2)),
			// The weight was 10: a new weight is a new revision, not a new image.
			prev:   &pylonv1alpha1.CanaryStatus{Revision: "weight-10", Image: "shop:2", AvailableReplicas: 1, Weight: 10, WeightReason: pylonv1alpha1.ReasonWeightDeclared},
			weight: 30, reason: pylonv1alpha1.ReasonWeightDeclared, avail: 2,
		},
		{
			name:   "status not yet at the template of a new image: no share",
			app:    testApp(30, nil),
			canary: stale(liveDeployment("shop-canary", "shop:2", 2)),
			prev:   &pylonv1alpha1.CanaryStatus{Revision: "another", Image: "shop:1.5", AvailableReplicas: 2, Weight: 10, WeightReason: pylonv1alpha1.ReasonWeightDeclared},
			weight: 0, reason: pylonv1alpha1.ReasonCanaryNotAvailable, message: "rolling out shop:2",
		},
		{
			name:   "status from before Pylon recorded the image, not yet at the template: no share",
			app:    testApp(30, nil),
			canary: stale(liveDeployment("shop-canary", "shop:2", 2)),
			prev:   &pylonv1alpha1.CanaryStatus{AvailableReplicas: 2, Weight: 30, WeightReason: pylonv1alpha1.ReasonWeightDeclared},
			weight: 0, reason: pylonv1alpha1.ReasonCanaryNotAvailable, message: "rolling out shop:2",
		},
		{
			name:   "a counted canary whose shared template rolls out keeps its share",
			app:    testApp(30, nil),
			canary: midRollout("shop-canary", "shop:2", 2),
			prev:   &pylonv1alpha1.CanaryStatus{Image: "shop:2", AvailableReplicas: 2, Weight: 30, WeightReason: pylonv1alpha1.ReasonWeightDeclared},
			weight: 30, reason: pylonv1alpha1.ReasonWeightDeclared, avail: 2,
		},
		{
			// An analysed canary serving step 1 is resized (a step up, the
			// HPA, a shared template change): it keeps the step's share
			// and its start rather than waiting and starting again.
			name:   "analysis: a counted canary whose Deployment is not yet at its generation keeps its step",
			app:    analysed(50, 10),
			canary: stale(liveDeployment("shop-canary", "shop:2", 2)),
			prev: &pylonv1alpha1.CanaryStatus{Image: "shop:2", AvailableReplicas: 1, Weight: 10, WeightReason: pylonv1alpha1.ReasonAnalysisStep,
				Phase: pylonv1alpha1.CanaryProgressing, Step: 1, Steps: 2, StepStartTime: ptr.To(metav1.NewTime(t0.Add(-10 * time.Second)))},
			weight: 10, reason: pylonv1alpha1.ReasonAnalysisStep, message: "step 1 of 2", avail: 2,
		},
		{
			name:   "rolled out at its generation, nothing remembered: counted",
			app:    testApp(30, nil),
			canary: liveDeployment("shop-canary", "shop:2", 2),
			weight: 30, reason: pylonv1alpha1.ReasonWeightDeclared, avail: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.prev != nil {
				if tc.prev.Revision == "" {
					tc.prev.Revision = canaryRevision(tc.app.Spec.Canary)
				}
				tc.app.Status.Canary = tc.prev
			}
			f := canaryFacts{stable: liveDeployment("shop", "shop:1", 4), canary: tc.canary, canaryEndpoints: 2, now: t0, drain: 10 * time.Second}
			if tc.app.Spec.Canary.Analysis != nil {
				f.analysis = analysisFacts{source: "pylon-gateway"}
			}
			d := decideCanary(tc.app, f)
			if d.plan.Weight != tc.weight || d.status.Weight != tc.weight {
				t.Errorf("weight %d (status %d), want %d", d.plan.Weight, d.status.Weight, tc.weight)
			}
			if d.status.WeightReason != tc.reason || !strings.Contains(d.status.WeightMessage, tc.message) {
				t.Errorf("reason %q (%s), want %q saying %q", d.status.WeightReason, d.status.WeightMessage, tc.reason, tc.message)
			}
			if d.status.Image != "shop:2" || d.status.AvailableReplicas != tc.avail {
				t.Errorf("status about image %q with %d available Pod(s), want shop:2 with %d", d.status.Image, d.status.AvailableReplicas, tc.avail)
			}
			if tc.prev != nil && tc.prev.StepStartTime != nil && !d.status.StepStartTime.Equal(tc.prev.StepStartTime) {
				t.Errorf("step start %v, want the step's start kept: %v", d.status.StepStartTime, tc.prev.StepStartTime)
			}
		})
	}
}

func TestWeightChangeTimeKeptWhileTheWeightHolds(t *testing.T) {
	app := testApp(30, nil)
	earlier := metav1.NewTime(t0.Add(-time.Hour))
	app.Status.Canary = &pylonv1alpha1.CanaryStatus{Weight: 30, LastWeightChangeTime: &earlier}
	d := decideCanary(app, canaryFacts{stable: liveDeployment("shop", "shop:1", 4), canary: liveDeployment("shop-canary", "shop:2", 2), canaryEndpoints: 2, now: t0})
	if !d.status.LastWeightChangeTime.Equal(&earlier) {
		t.Fatalf("last change %v, want the earlier %v: the weight did not change", d.status.LastWeightChangeTime, earlier)
	}
}

// Retirement: a promoted canary keeps its share until the stable track has
// rolled out the new image, then drains at 0, then goes.
func TestRetiringCanary(t *testing.T) {
	promoted := testApp(30, func(a *pylonv1alpha1.WebApp) { a.Spec.Image = "shop:2" })
	prev := func(w int32, changed time.Time) *pylonv1alpha1.CanaryStatus {
		ct := metav1.NewTime(changed)
		return &pylonv1alpha1.CanaryStatus{Weight: w, LastWeightChangeTime: &ct, Revision: "r1"}
	}
	canary := liveDeployment("shop-canary", "shop:2", 2)
	rolling := liveDeployment("shop", "shop:2", 4)
	rolling.Status.UpdatedReplicas = 2 // half rolled out
	for _, tc := range []struct {
		name   string
		prev   *pylonv1alpha1.CanaryStatus
		stable *appsv1.Deployment
		run    bool
		weight int32
	}{
		{"stable still runs the old image: keeps its share", prev(30, t0.Add(-time.Minute)), liveDeployment("shop", "shop:1", 4), true, 30},
		{"stable rolling out: keeps its share", prev(30, t0.Add(-time.Minute)), rolling, true, 30},
		{"stable rolled out: drains at 0", prev(30, t0.Add(-time.Minute)), liveDeployment("shop", "shop:2", 4), true, 0},
		{"draining, time left: still there at 0", prev(0, t0.Add(-5*time.Second)), liveDeployment("shop", "shop:2", 4), true, 0},
		{"drain not over once the recorded second is counted in full", prev(0, t0.Add(-10*time.Second)), liveDeployment("shop", "shop:2", 4), true, 0},
		{"drained: removed", prev(0, t0.Add(-11*time.Second)), liveDeployment("shop", "shop:2", 4), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := promoted.DeepCopy()
			app.Status.Canary = tc.prev
			d := decideCanary(app, canaryFacts{stable: tc.stable, canary: canary, now: t0, drain: 10 * time.Second})
			if d.plan.Run != tc.run || d.plan.Weight != tc.weight {
				t.Fatalf("run %v weight %d, want run %v weight %d", d.plan.Run, d.plan.Weight, tc.run, tc.weight)
			}
			if tc.run && (d.status == nil || d.status.WeightReason != pylonv1alpha1.ReasonCanaryRetiring) {
				t.Fatalf("status %+v, want reason Retiring", d.status)
			}
			if tc.run && d.plan.Image != "shop:2" {
				t.Errorf("retiring canary runs %q, want its live image", d.plan.Image)
			}
		})
	}
}

// A retiring canary's status counts its Pods as a declared one's does:
// only once they run its image at the latest template, or when they were
// counted before.
func TestRetiringCanaryCountsOnlyItsImage(t *testing.T) {
	promoted := testApp(30, func(a *pylonv1alpha1.WebApp) { a.Spec.Image = "shop:2" })
	for _, tc := range []struct {
		name   string
		prev   *pylonv1alpha1.CanaryStatus
		canary *appsv1.Deployment
		avail  int32
	}{
		{"rolled out", &pylonv1alpha1.CanaryStatus{Weight: 30}, liveDeployment("shop-canary", "shop:2", 2), 2},
		{"mid-rollout, another image counted before", &pylonv1alpha1.CanaryStatus{Image: "shop:1.5", AvailableReplicas: 2}, midRollout("shop-canary", "shop:2", 2), 0},
		{"mid-rollout, this image counted before", &pylonv1alpha1.CanaryStatus{Image: "shop:2", AvailableReplicas: 2, Weight: 30}, midRollout("shop-canary", "shop:2", 2), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := promoted.DeepCopy()
			app.Status.Canary = tc.prev
			d := decideCanary(app, canaryFacts{stable: liveDeployment("shop", "shop:1", 4), canary: tc.canary, now: t0, drain: 10 * time.Second})
			if d.status == nil || d.status.Image != "shop:2" || d.status.AvailableReplicas != tc.avail {
				t.Fatalf("status %+v, want image shop:2 with %d available Pod(s)", d.status, tc.avail)
			}
		})
	}
}

func analysed(weight int32, steps ...int32) *pylonv1alpha1.WebApp {
	return testApp(weight, func(a *pylonv1alpha1.WebApp) {
		a.Spec.Canary.Analysis = &pylonv1alpha1.CanaryAnalysis{
			Steps: steps, StepDuration: &metav1.Duration{Duration: time.Minute}, MinRequests: 100,
			MaxErrorRateIncrease: ptr.To[int32](1), MaxLatencyRatio: "2",
		}
	})
}

func window(start time.Time, stable, canary traffic.Track) *traffic.Window {
	return &traffic.Window{Start: start, End: t0, Backends: map[string]traffic.Track{"ns/shop": stable, "ns/shop-canary": canary}}
}

func TestAnalysisSteps(t *testing.T) {
	for _, tc := range []struct {
		declared []int32
		weight   int32
		want     []int32
	}{
		{[]int32{5, 25, 50}, 50, []int32{5, 25, 50}},
		{[]int32{5, 25, 50, 75}, 50, []int32{5, 25, 50}},
		{nil, 20, []int32{20}},
		{[]int32{30, 10}, 50, []int32{30, 50}}, // out of order: never down
	} {
		got := analysisSteps(tc.declared, tc.weight)
		if len(got) != len(tc.want) {
			t.Errorf("analysisSteps(%v, %d) = %v, want %v", tc.declared, tc.weight, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("analysisSteps(%v, %d) = %v, want %v", tc.declared, tc.weight, got, tc.want)
			}
		}
	}
}

func TestStepAnalysis(t *testing.T) {
	rev := canaryRevision(analysed(50, 10, 30).Spec.Canary)
	started := metav1.NewTime(t0.Add(-30 * time.Second))
	ended := metav1.NewTime(t0.Add(-61 * time.Second))
	at := func(step int32, start metav1.Time, phase pylonv1alpha1.CanaryPhase) *pylonv1alpha1.CanaryStatus {
		return &pylonv1alpha1.CanaryStatus{Revision: rev, Phase: phase, Step: step, Steps: 3, StepStartTime: &start}
	}
	// raised: the share went up ago before t0.
	raised := func(st *pylonv1alpha1.CanaryStatus, ago time.Duration) *pylonv1alpha1.CanaryStatus {
		ct := metav1.NewTime(t0.Add(-ago))
		st.LastWeightChangeTime = &ct
		return st
	}
	healthy := traffic.Track{Requests: 200, Errors: 1, P99: 20 * time.Millisecond}
	// unreached: the gateway answered 60 of the canary's requests itself
	// (no ready endpoint known to it yet).
	unreached := traffic.Track{Requests: 200, Errors: 60, GatewayErrors: 60, P99: 10 * time.Millisecond}
	stable := traffic.Track{Requests: 2000, Errors: 10, P99: 15 * time.Millisecond}
	src := func(start metav1.Time, s, c traffic.Track) analysisFacts {
		return analysisFacts{source: "pylon-gateway", window: window(start.Time, s, c), anchor: start.Time, stable: "ns/shop", canary: "ns/shop-canary"}
	}
	for _, tc := range []struct {
		name          string
		prev          *pylonv1alpha1.CanaryStatus
		canaryWhy     string
		facts         analysisFacts
		weight        int32
		phase         pylonv1alpha1.CanaryPhase
		step          int32
		healthy       metav1.ConditionStatus
		healthyReason string
		contains      string
		// restarted: the step's window starts again at t0.
		restarted bool
	}{
		{
			name:   "fresh canary, available: step 1 starts now",
			facts:  analysisFacts{source: "pylon-gateway"},
			weight: 10, phase: pylonv1alpha1.CanaryProgressing, step: 1, healthy: metav1.ConditionUnknown, healthyReason: pylonv1alpha1.ReasonAnalysisWaiting,
		},
		{
			name: "fresh canary, not available: 0, waiting", canaryWhy: pylonv1alpha1.ReasonCanaryNotAvailable,
			facts:  analysisFacts{source: "pylon-gateway"},
			weight: 0, phase: pylonv1alpha1.CanaryProgressing, step: 1, healthy: metav1.ConditionUnknown, healthyReason: pylonv1alpha1.ReasonAnalysisWaiting,
		},
		{
			name:   "no metrics source: refused, 0",
			facts:  analysisFacts{sourceProblem: "ExposureClass x sets metrics.source None"},
			weight: 0, phase: pylonv1alpha1.CanaryProgressing, step: 1, healthy: metav1.ConditionFalse, healthyReason: pylonv1alpha1.ReasonMetricsUnavailable, contains: "metrics.source None",
		},
		{
			name: "mid-step, in bounds: holds the step", prev: at(1, started, pylonv1alpha1.CanaryProgressing),
			facts:  src(started, stable, healthy),
			weight: 10, phase: pylonv1alpha1.CanaryProgressing, step: 1, healthy: metav1.ConditionTrue, healthyReason: pylonv1alpha1.ReasonAnalysisInBounds,
		},
		{
			name: "step over, in bounds: next step", prev: at(1, ended, pylonv1alpha1.CanaryProgressing),
			facts:  src(ended, stable, healthy),
			weight: 30, phase: pylonv1alpha1.CanaryProgressing, step: 2, healthy: metav1.ConditionTrue, healthyReason: pylonv1alpha1.ReasonAnalysisInBounds,
		},
		{
			name: "last step over, in bounds: succeeded at the declared weight", prev: at(3, ended, pylonv1alpha1.CanaryProgressing),
			facts:  src(ended, stable, healthy),
			weight: 50, phase: pylonv1alpha1.CanarySucceeded, step: 3, healthy: metav1.ConditionTrue, healthyReason: pylonv1alpha1.ReasonAnalysisInBounds,
		},
		{
			name: "step over with too few requests: held", prev: at(2, ended, pylonv1alpha1.CanaryProgressing),
			facts:  src(ended, stable, traffic.Track{Requests: 40}),
			weight: 30, phase: pylonv1alpha1.CanaryProgressing, step: 2, healthy: metav1.ConditionUnknown, healthyReason: pylonv1alpha1.ReasonAnalysisWaiting, contains: "40 of the 100",
		},
		{
			name: "error rate breach mid-step: rolled back at once", prev: at(2, started, pylonv1alpha1.CanaryProgressing),
			facts:  src(started, stable, traffic.Track{Requests: 200, Errors: 60, P99: 10 * time.Millisecond}),
			weight: 0, phase: pylonv1alpha1.CanaryRolledBack, step: 2, healthy: metav1.ConditionFalse, healthyReason: pylonv1alpha1.ReasonRolledBack, contains: "60 of 200 requests failed",
		},
		{
			name: "error rate within the allowed increase: in bounds", prev: at(2, started, pylonv1alpha1.CanaryProgressing),
			facts:  src(started, stable, traffic.Track{Requests: 200, Errors: 2, P99: 10 * time.Millisecond}), // 1% vs 0.5%
			weight: 30, phase: pylonv1alpha1.CanaryProgressing, step: 2, healthy: metav1.ConditionTrue, healthyReason: pylonv1alpha1.ReasonAnalysisInBounds,
		},
		{
			name:   "errors the gateway answered itself just after the share went up: the step starts again",
			prev:   raised(at(1, started, pylonv1alpha1.CanaryProgressing), 10*time.Second),
			facts:  src(started, stable, unreached),
			weight: 10, phase: pylonv1alpha1.CanaryProgressing, step: 1, healthy: metav1.ConditionUnknown, healthyReason: pylonv1alpha1.ReasonAnalysisWaiting,
			contains: "the gateway itself answered 60 of the canary's 200 requests", restarted: true,
		},
		{
			name:   "errors the gateway answered itself long after the share went up: they count",
			prev:   raised(at(1, started, pylonv1alpha1.CanaryProgressing), 40*time.Second),
			facts:  src(started, stable, unreached),
			weight: 0, phase: pylonv1alpha1.CanaryRolledBack, step: 1, healthy: metav1.ConditionFalse, healthyReason: pylonv1alpha1.ReasonRolledBack, contains: "60 of 200 requests failed",
		},
		{
			name:   "errors the canary answered itself just after the share went up: they count",
			prev:   raised(at(1, started, pylonv1alpha1.CanaryProgressing), 10*time.Second),
			facts:  src(started, stable, traffic.Track{Requests: 200, Errors: 60, P99: 10 * time.Millisecond}),
			weight: 0, phase: pylonv1alpha1.CanaryRolledBack, step: 1, healthy: metav1.ConditionFalse, healthyReason: pylonv1alpha1.ReasonRolledBack, contains: "60 of 200 requests failed",
		},
		{
			name: "latency breach: rolled back", prev: at(1, started, pylonv1alpha1.CanaryProgressing),
			facts:  src(started, stable, traffic.Track{Requests: 200, P99: 40 * time.Millisecond}),
			weight: 0, phase: pylonv1alpha1.CanaryRolledBack, step: 1, healthy: metav1.ConditionFalse, healthyReason: pylonv1alpha1.ReasonRolledBack, contains: "p99 latency 40ms",
		},
		{
			name: "breach below minRequests: no verdict yet", prev: at(1, started, pylonv1alpha1.CanaryProgressing),
			facts:  src(started, stable, traffic.Track{Requests: 20, Errors: 20}),
			weight: 10, phase: pylonv1alpha1.CanaryProgressing, step: 1, healthy: metav1.ConditionTrue, healthyReason: pylonv1alpha1.ReasonAnalysisInBounds,
		},
		{
			name: "rolled back stays rolled back", prev: &pylonv1alpha1.CanaryStatus{Revision: rev, Phase: pylonv1alpha1.CanaryRolledBack, Step: 2, Steps: 3, WeightMessage: "rolled back at step 2"},
			facts:  src(started, stable, healthy),
			weight: 0, phase: pylonv1alpha1.CanaryRolledBack, step: 2, healthy: metav1.ConditionFalse, healthyReason: pylonv1alpha1.ReasonRolledBack, contains: "rolled back at step 2",
		},
		{
			name: "rolled back, then the canary's spec changed: judged afresh", prev: &pylonv1alpha1.CanaryStatus{Revision: "older", Phase: pylonv1alpha1.CanaryRolledBack, Step: 2},
			facts:  analysisFacts{source: "pylon-gateway"},
			weight: 10, phase: pylonv1alpha1.CanaryProgressing, step: 1, healthy: metav1.ConditionUnknown, healthyReason: pylonv1alpha1.ReasonAnalysisWaiting,
		},
		{
			name: "figures unreadable: the step holds", prev: at(2, started, pylonv1alpha1.CanaryProgressing),
			facts:  analysisFacts{source: "pylon-gateway", readErr: errTest("no gateway replica")},
			weight: 30, phase: pylonv1alpha1.CanaryProgressing, step: 2, healthy: metav1.ConditionUnknown, healthyReason: pylonv1alpha1.ReasonAnalysisWaiting, contains: "no gateway replica",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := analysed(50, 10, 30)
			r := stepAnalysis(app, tc.prev, rev, tc.canaryWhy, "why", true, tc.facts, t0)
			if r.weight != tc.weight || r.phase != tc.phase || r.step != tc.step {
				t.Errorf("weight %d phase %s step %d, want %d %s %d (%s)", r.weight, r.phase, r.step, tc.weight, tc.phase, tc.step, r.message)
			}
			if r.healthy == nil || r.healthy.Status != tc.healthy || r.healthy.Reason != tc.healthyReason {
				t.Fatalf("CanaryHealthy %+v, want %s %s", r.healthy, tc.healthy, tc.healthyReason)
			}
			if !strings.Contains(r.healthy.Message, tc.contains) {
				t.Errorf("CanaryHealthy message %q does not say %q", r.healthy.Message, tc.contains)
			}
			if restarted := r.stepStart != nil && r.stepStart.Equal(&metav1.Time{Time: t0}) && tc.prev != nil && tc.prev.StepStartTime != nil && r.step == tc.prev.Step && r.phase == tc.prev.Phase; restarted != tc.restarted {
				t.Errorf("step start %v (was %v): restarted %v, want %v", r.stepStart, tc.prev.StepStartTime, restarted, tc.restarted)
			}
			if tc.restarted && !r.anchor.Equal(t0) {
				t.Errorf("anchor %v, want the restart %v", r.anchor, t0)
			}
			if r.phase == pylonv1alpha1.CanaryRolledBack && r.target != 0 {
				t.Errorf("a rolled-back canary is sized for %d%%, want 0", r.target)
			}
			if r.steps != 3 {
				t.Errorf("steps %d, want 3", r.steps)
			}
			if app.Spec.Canary.Weight != 50 {
				t.Error("the spec changed")
			}
		})
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }
