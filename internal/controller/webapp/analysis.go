package webapp

import (
	"fmt"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/contract"
	"github.com/pylon-dev/pylon/internal/controller/traffic"
)

// analysisPoll is how often a canary under analysis is looked at again
// while a step runs: a breach is caught within this of the figures showing
// it.
const analysisPoll = 5 * time.Second

// settleFor is how long after the canary's share went up errors the gateway
// answered itself for it (origin gateway: no ready endpoint known yet,
// connect failure, timeout) restart the step instead of counting against
// the canary. A gateway learns of the canary's endpoints and of its new
// weight through separate watches, so its first requests may find no
// endpoint even though the manager saw one listed. After settleFor they
// count: a canary no gateway can reach is rolled back, not waited for.
const settleFor = 30 * time.Second

// Defaults of spec.canary.analysis (the CRD defaults them too; these cover
// objects written before the defaults existed).
const (
	defaultStepDuration         = time.Minute
	defaultMinRequests          = 50
	defaultMaxErrorRateIncrease = 1
)

// analysisFacts is what the metrics source said for the current window.
type analysisFacts struct {
	// source names the metrics source; "" when the class has none, and
	// sourceProblem then says why.
	source, sourceProblem string
	// window holds the figures since anchor; nil when not read.
	window *traffic.Window
	anchor time.Time
	// readErr is why the figures could not be read this time.
	readErr error
	// stable and canary are the backends' keys in window.
	stable, canary string
}

// analysisResult is the analysis' verdict for this pass.
type analysisResult struct {
	weight, target  int32
	reason, message string
	phase           pylonv1alpha1.CanaryPhase
	step, steps     int32
	stepStart       *metav1.Time
	observed        *pylonv1alpha1.ObservedTraffic
	healthy         *metav1.Condition
	requeue         time.Duration
	anchor          time.Time
}

// analysisSteps are the weights walked through: the declared steps below
// the declared weight, in order, then the declared weight.
func analysisSteps(declared []int32, weight int32) []int32 {
	out := make([]int32, 0, len(declared)+1)
	for _, s := range declared {
		if s < weight && (len(out) == 0 || s > out[len(out)-1]) {
			out = append(out, s)
		}
	}
	return append(out, weight)
}

// analysisAnchor is the start of the window the current step is judged on,
// zero when no step is running. The reconciler reads the figures since
// then before stepAnalysis decides.
func analysisAnchor(app *pylonv1alpha1.WebApp) time.Time {
	st := app.Status.Canary
	if st == nil || st.StepStartTime == nil || st.Revision != canaryRevision(app.Spec.Canary) || st.Phase == pylonv1alpha1.CanaryRolledBack {
		return time.Time{}
	}
	return st.StepStartTime.Time
}

// stepAnalysis walks a canary through its analysis steps. It is pure: the
// figures come in through f, the time through now.
// canaryWhy is why the canary cannot be given requests ("" when it can:
// see canaryServing) and canaryMsg says more.
func stepAnalysis(app *pylonv1alpha1.WebApp, prev *pylonv1alpha1.CanaryStatus, rev string, canaryWhy, canaryMsg string, stableAvail bool, f analysisFacts, now time.Time) analysisResult {
	a := app.Spec.Canary.Analysis
	steps := analysisSteps(a.Steps, app.Spec.Canary.Weight)
	r := analysisResult{phase: pylonv1alpha1.CanaryProgressing, step: 1, steps: int32(len(steps))}
	if prev != nil && prev.Revision == rev && prev.Phase != "" {
		r.phase, r.step, r.stepStart, r.observed = prev.Phase, min(max(prev.Step, 1), r.steps), prev.StepStartTime, prev.Observed
	}
	r.target = steps[r.step-1]
	healthy := func(status metav1.ConditionStatus, reason, msg string) {
		r.healthy = &metav1.Condition{Type: pylonv1alpha1.ConditionCanaryHealthy, Status: status, Reason: reason, Message: msg}
	}

	switch {
	case r.phase == pylonv1alpha1.CanaryRolledBack:
		r.target = 0 // sized for no share: one Pod, kept for inspection
		r.reason, r.message = pylonv1alpha1.ReasonRolledBack, prev.WeightMessage
		healthy(metav1.ConditionFalse, pylonv1alpha1.ReasonRolledBack, prev.WeightMessage)
		return r
	case f.source == "":
		r.stepStart, r.observed = nil, nil
		r.reason, r.message = pylonv1alpha1.ReasonMetricsUnavailable, "canary analysis needs traffic figures and "+f.sourceProblem+": the canary gets no requests"
		healthy(metav1.ConditionFalse, pylonv1alpha1.ReasonMetricsUnavailable, r.message)
		return r
	case canaryWhy != "":
		// The step starts again once a canary Pod can serve and a gateway
		// can reach it.
		r.stepStart = nil
		r.reason, r.message = canaryWhy, fmt.Sprintf("step %d of %d waits: %s", r.step, r.steps, canaryMsg)
		healthy(metav1.ConditionUnknown, pylonv1alpha1.ReasonAnalysisWaiting, r.message)
		return r
	case !stableAvail:
		r.weight, r.reason = contract.WeightTotal, pylonv1alpha1.ReasonStableNotAvailable
		r.message = "the stable track has no available Pod: the canary gets every request; analysis resumes when the stable track is back"
		healthy(metav1.ConditionUnknown, pylonv1alpha1.ReasonAnalysisWaiting, r.message)
		return r
	}

	r.weight = r.target
	r.reason, r.message = stepReason(r, app.Spec.Canary.Weight)
	if r.stepStart == nil {
		start := metav1.NewTime(now.Truncate(time.Second))
		r.stepStart, r.anchor, r.requeue = &start, start.Time, analysisPoll
		healthy(metav1.ConditionUnknown, pylonv1alpha1.ReasonAnalysisWaiting, fmt.Sprintf("step %d of %d (%d%%) started; no figures yet", r.step, r.steps, r.weight))
		return r
	}
	r.anchor = r.stepStart.Time
	hold := stepDuration(a)
	elapsed := now.Sub(r.stepStart.Time)
	r.requeue = max(min(analysisPoll, hold-elapsed), time.Second)
	if f.window == nil || !f.anchor.Equal(r.anchor) {
		msg := fmt.Sprintf("holding step %d of %d (%d%%): no figures for this step yet", r.step, r.steps, r.weight)
		if f.readErr != nil {
			msg = fmt.Sprintf("holding step %d of %d (%d%%): cannot read traffic figures from %s: %v", r.step, r.steps, r.weight, f.source, f.readErr)
		}
		healthy(metav1.ConditionUnknown, pylonv1alpha1.ReasonAnalysisWaiting, msg)
		return r
	}
	c, s := f.window.Backends[f.canary], f.window.Backends[f.stable]
	r.observed = observedTraffic(f.source, *f.window, s, c)
	if c.GatewayErrors > 0 && settling(prev, now) {
		start := metav1.NewTime(now.Truncate(time.Second))
		r.stepStart, r.anchor, r.requeue = &start, start.Time, analysisPoll
		healthy(metav1.ConditionUnknown, pylonv1alpha1.ReasonAnalysisWaiting, fmt.Sprintf(
			"step %d of %d (%d%%) starts again: the gateway itself answered %d of the canary's %d requests with an error (no ready endpoint known yet, connect failure or timeout) within %s of its share going up; these do not count against the canary",
			r.step, r.steps, r.weight, c.GatewayErrors, c.Requests, settleFor))
		return r
	}
	minReq := int64(defaultMinRequests)
	if a.MinRequests > 0 {
		minReq = int64(a.MinRequests)
	}
	if c.Requests >= minReq {
		if breach := judge(a, s, c); breach != "" {
			r.reason = pylonv1alpha1.ReasonRolledBack
			r.message = fmt.Sprintf("rolled back at step %d of %d (%d%%): %s; the canary gets no requests until spec.canary changes", r.step, r.steps, r.weight, breach)
			r.phase, r.weight, r.target, r.stepStart, r.requeue = pylonv1alpha1.CanaryRolledBack, 0, 0, nil, 0
			healthy(metav1.ConditionFalse, pylonv1alpha1.ReasonRolledBack, r.message)
			return r
		}
	}
	figures := describe(s, c)
	if elapsed < hold {
		healthy(metav1.ConditionTrue, pylonv1alpha1.ReasonAnalysisInBounds, fmt.Sprintf("step %d of %d (%d%%): %s", r.step, r.steps, r.weight, figures))
		return r
	}
	if c.Requests < minReq {
		healthy(metav1.ConditionUnknown, pylonv1alpha1.ReasonAnalysisWaiting, fmt.Sprintf("holding step %d of %d (%d%%): %d of the %d canary requests a verdict needs", r.step, r.steps, r.weight, c.Requests, minReq))
		r.requeue = analysisPoll
		return r
	}
	// The step held in bounds: the next one, or the declared weight.
	start := metav1.NewTime(now.Truncate(time.Second))
	r.stepStart, r.anchor, r.requeue = &start, start.Time, analysisPoll
	if r.step < r.steps {
		r.step++
	} else {
		r.phase = pylonv1alpha1.CanarySucceeded
	}
	r.target = steps[r.step-1]
	r.weight = r.target
	r.reason, r.message = stepReason(r, app.Spec.Canary.Weight)
	healthy(metav1.ConditionTrue, pylonv1alpha1.ReasonAnalysisInBounds, fmt.Sprintf("%s; last step: %s", r.message, figures))
	return r
}

// settling: the canary's share changed less than settleFor ago.
func settling(prev *pylonv1alpha1.CanaryStatus, now time.Time) bool {
	if prev == nil || prev.LastWeightChangeTime == nil {
		return false
	}
	return now.Sub(prev.LastWeightChangeTime.Time) < settleFor
}

func stepReason(r analysisResult, declared int32) (string, string) {
	if r.phase == pylonv1alpha1.CanarySucceeded {
		return pylonv1alpha1.ReasonWeightDeclared, fmt.Sprintf("analysis succeeded: the canary gets the declared %d%% and is still judged", declared)
	}
	return pylonv1alpha1.ReasonAnalysisStep, fmt.Sprintf("analysis step %d of %d: the canary gets %d%% of the declared %d%%", r.step, r.steps, r.weight, declared)
}

func stepDuration(a *pylonv1alpha1.CanaryAnalysis) time.Duration {
	if a.StepDuration != nil && a.StepDuration.Duration > 0 {
		return a.StepDuration.Duration
	}
	return defaultStepDuration
}

// judge returns what is out of bounds, "" when nothing is.
func judge(a *pylonv1alpha1.CanaryAnalysis, s, c traffic.Track) string {
	maxInc := float64(defaultMaxErrorRateIncrease)
	if a.MaxErrorRateIncrease != nil {
		maxInc = float64(*a.MaxErrorRateIncrease)
	}
	if c.ErrorRate()-s.ErrorRate() > maxInc {
		return fmt.Sprintf("canary error rate %.1f%% (%d of %d requests failed) exceeds the stable track's %.1f%% (%d of %d) by more than %g points",
			c.ErrorRate(), c.Errors, c.Requests, s.ErrorRate(), s.Errors, s.Requests, maxInc)
	}
	if a.MaxLatencyRatio == "" || s.Requests == 0 || s.P99 <= 0 {
		return ""
	}
	ratio, err := strconv.ParseFloat(a.MaxLatencyRatio, 64)
	if err != nil || ratio <= 0 {
		return "" // CEL admits only decimals of at least 1
	}
	if float64(c.P99) > ratio*float64(s.P99) {
		return fmt.Sprintf("canary p99 latency %s is more than %s times the stable track's %s", c.P99.Round(time.Millisecond), a.MaxLatencyRatio, s.P99.Round(time.Millisecond))
	}
	return ""
}

func describe(s, c traffic.Track) string {
	return fmt.Sprintf("canary %d requests, %.1f%% errors, p99 %s; stable %d requests, %.1f%% errors, p99 %s",
		c.Requests, c.ErrorRate(), c.P99.Round(time.Millisecond), s.Requests, s.ErrorRate(), s.P99.Round(time.Millisecond))
}

// observedTraffic is status.canary.observed for a window.
func observedTraffic(source string, w traffic.Window, s, c traffic.Track) *pylonv1alpha1.ObservedTraffic {
	total := s.Requests + c.Requests
	track := func(t traffic.Track) pylonv1alpha1.TrackTraffic {
		out := pylonv1alpha1.TrackTraffic{Requests: t.Requests, Errors: t.Errors}
		if total > 0 {
			out.Share = strconv.FormatFloat(float64(t.Requests)*100/float64(total), 'f', 1, 64)
		}
		if t.Requests > 0 {
			out.SuccessRate = strconv.FormatFloat(100-t.ErrorRate(), 'f', 2, 64)
			out.P99 = &metav1.Duration{Duration: t.P99.Round(time.Millisecond)}
		}
		return out
	}
	return &pylonv1alpha1.ObservedTraffic{
		Source: source,
		Start:  metav1.NewTime(w.Start.Truncate(time.Second)),
		End:    metav1.NewTime(w.End.Truncate(time.Second)),
		Stable: track(s),
		Canary: track(c),
	}
}
