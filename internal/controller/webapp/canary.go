package webapp

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/contract"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
)

// defaultCanaryDrain is how long a retiring canary keeps its children at
// weight 0 before they are deleted: long enough for every gateway to serve
// the route without it and for requests already sent to it to finish.
const defaultCanaryDrain = 10 * time.Second

// canaryFacts is what the reconciler observed that decides the canary's
// effective weight.
type canaryFacts struct {
	// stable and canary are the live Deployments (nil: absent or not the
	// WebApp's), as cached before this pass applies anything.
	stable, canary *appsv1.Deployment
	// canaryEndpoints counts the ready endpoints the canary Service's
	// EndpointSlices list: what a gateway can send requests to. A Pod is
	// counted available by the Deployment controller and listed by the
	// EndpointSlice controller independently, and the gateway learns of it
	// only from the EndpointSlice: until one is listed, a share given to
	// the canary would be answered by the gateway's own 503.
	canaryEndpoints int
	// unsupported: the Ingress controller cannot split traffic.
	unsupported bool
	// analysis is what the metrics say, when the canary declares analysis.
	analysis analysisFacts
	now      time.Time
	drain    time.Duration
}

// canaryDecision is what the reconciler decided about the canary.
type canaryDecision struct {
	// plan is what the builders make: children and effective weight.
	plan resources.Canary
	// status is status.canary; nil when there is no canary at all.
	status *pylonv1alpha1.CanaryStatus
	// healthy is the CanaryHealthy condition, while analysis is declared.
	healthy *metav1.Condition
	// requeue asks for another look after this long (clock-driven work:
	// a step ends, a drain ends, figures are due).
	requeue time.Duration
	// anchor is the start of the window analysis judges; zero: none.
	anchor time.Time
}

// decideCanary computes the effective canary weight. The spec is never
// changed: what Pylon decides goes to the routes and to status.canary.
//
//   - A declared canary gets no share until its Deployment has an available
//     Pod and its Service lists a ready endpoint, and every share while the
//     stable track has no available Pod.
//   - With analysis, the share walks the steps while the figures stay in
//     bounds, and drops to 0 on a breach until the canary's spec changes.
//   - A canary the spec no longer declares (removed, weight 0 without a
//     header match, or promoted: spec.image is now its image) keeps its
//     share until the stable track is fully available, then drains at
//     weight 0, then its children are deleted.
func decideCanary(app *pylonv1alpha1.WebApp, f canaryFacts) canaryDecision {
	prev := app.Status.Canary
	if !canaryWanted(app) {
		return retireCanary(app, prev, f)
	}
	c := app.Spec.Canary
	rev := canaryRevision(c)
	d := canaryDecision{plan: resources.Canary{Run: true, Image: c.Image, HeaderMatch: c.HeaderMatch}}
	avail := imagePods(c.Image, prev, f.canary)
	st := &pylonv1alpha1.CanaryStatus{Revision: rev, Image: c.Image, AvailableReplicas: avail}
	target := c.Weight
	switch {
	case f.unsupported:
		st.WeightReason = pylonv1alpha1.ReasonCanaryUnsupported
		st.WeightMessage = "the Ingress controller of the class cannot split traffic, so the canary gets none"
	case c.Analysis != nil:
		why, msg := canaryServing(app, f, avail)
		a := stepAnalysis(app, prev, rev, why, msg, availablePods(f.stable) > 0, f.analysis, f.now)
		st.Weight, st.WeightReason, st.WeightMessage = a.weight, a.reason, a.message
		st.Phase, st.Step, st.Steps, st.StepStartTime, st.Observed = a.phase, a.step, a.steps, a.stepStart, a.observed
		d.healthy, d.requeue, d.anchor = a.healthy, a.requeue, a.anchor
		target = a.target
	case avail == 0:
		st.WeightReason = pylonv1alpha1.ReasonCanaryNotAvailable
		st.WeightMessage = notAvailableMessage(app, f.canary)
	case f.canaryEndpoints == 0:
		st.WeightReason = pylonv1alpha1.ReasonCanaryNoReadyEndpoints
		st.WeightMessage = noEndpointsMessage(app, avail)
	case availablePods(f.stable) == 0:
		st.Weight, st.WeightReason = contract.WeightTotal, pylonv1alpha1.ReasonStableNotAvailable
		st.WeightMessage = fmt.Sprintf("the stable Deployment %s has no available Pod and the canary has %d: the canary gets every request", names.Deployment(app), avail)
	default:
		st.Weight, st.WeightReason = c.Weight, pylonv1alpha1.ReasonWeightDeclared
		st.WeightMessage = fmt.Sprintf("the canary gets the declared %d%%", c.Weight)
	}
	d.plan.Weight, d.plan.SizeWeight = st.Weight, target
	st.LastWeightChangeTime = weightChangeTime(prev, st.Weight, f.now)
	d.status = st
	return d
}

// canaryWanted: the spec declares a running canary that is not yet the
// stable image (giving spec.image the canary's image promotes it).
func canaryWanted(app *pylonv1alpha1.WebApp) bool {
	return resources.CanaryActive(app) && app.Spec.Canary.Image != app.Spec.Image
}

// retireCanary keeps a canary the spec no longer declares until it can go
// without costing a request: it keeps its share (and so the capacity it
// adds) while the stable track rolls out, then routes nothing to it for the
// drain period, then is deleted.
func retireCanary(app *pylonv1alpha1.WebApp, prev *pylonv1alpha1.CanaryStatus, f canaryFacts) canaryDecision {
	if f.canary == nil || prev == nil {
		return canaryDecision{}
	}
	image := liveImage(f.canary)
	st := &pylonv1alpha1.CanaryStatus{Revision: prev.Revision, Image: image, AvailableReplicas: imagePods(image, prev, f.canary), WeightReason: pylonv1alpha1.ReasonCanaryRetiring}
	d := canaryDecision{plan: resources.Canary{Run: true, Image: image}}
	switch {
	case !stableRolledOut(app, f.stable):
		st.Weight = prev.Weight
		st.WeightMessage = fmt.Sprintf("the spec no longer declares this canary; it keeps %d%% until Deployment %s is fully available", prev.Weight, names.Deployment(app))
	case prev.Weight != 0 || prev.LastWeightChangeTime == nil:
		st.WeightMessage = fmt.Sprintf("the spec no longer declares this canary; it gets no requests and is removed in %s", f.drain)
		d.requeue = f.drain
	default:
		// Status times are recorded to the second: count from the end of
		// that second, so a drain is never shorter than declared.
		left := f.drain - f.now.Sub(prev.LastWeightChangeTime.Add(time.Second))
		if left <= 0 {
			return canaryDecision{} // drained: its children are deleted
		}
		st.WeightMessage = fmt.Sprintf("the spec no longer declares this canary; it gets no requests and is removed in %s", (left + time.Second - 1).Truncate(time.Second))
		d.requeue = left
	}
	d.plan.Weight, d.plan.SizeWeight = st.Weight, st.Weight
	st.LastWeightChangeTime = weightChangeTime(prev, st.Weight, f.now)
	d.status = st
	return d
}

// stableRolledOut: the stable Deployment runs the spec's image and is
// fully available at its latest generation.
func stableRolledOut(app *pylonv1alpha1.WebApp, d *appsv1.Deployment) bool {
	if d == nil || len(d.Spec.Template.Spec.Containers) == 0 || d.Spec.Template.Spec.Containers[0].Image != app.Spec.Image {
		return false
	}
	return deploymentAvailability(pylonv1alpha1.ConditionAvailable, d.Name, d).Status == metav1.ConditionTrue
}

// liveImage is the image a live Deployment runs.
func liveImage(d *appsv1.Deployment) string {
	if len(d.Spec.Template.Spec.Containers) == 0 {
		return ""
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

func availablePods(d *appsv1.Deployment) int32 {
	if d == nil {
		return 0
	}
	return d.Status.AvailableReplicas
}

// canaryServing is why the canary cannot be given requests yet ("" when it
// can): it needs avail, its available Pods of the declared image, and a
// ready endpoint in its Service.
func canaryServing(app *pylonv1alpha1.WebApp, f canaryFacts, avail int32) (reason, message string) {
	switch {
	case avail == 0:
		return pylonv1alpha1.ReasonCanaryNotAvailable, notAvailableMessage(app, f.canary)
	case f.canaryEndpoints == 0:
		return pylonv1alpha1.ReasonCanaryNoReadyEndpoints, noEndpointsMessage(app, avail)
	}
	return "", ""
}

func noEndpointsMessage(app *pylonv1alpha1.WebApp, avail int32) string {
	return fmt.Sprintf("the canary Deployment %s has %d available Pod(s) but Service %s lists no ready endpoint yet: it gets no requests until one is listed", names.Canary(app), avail, names.Canary(app))
}

func notAvailableMessage(app *pylonv1alpha1.WebApp, d *appsv1.Deployment) string {
	name, image := names.Canary(app), app.Spec.Canary.Image
	switch {
	case d == nil:
		return fmt.Sprintf("the canary Deployment %s is being created: it gets no requests until a Pod is available", name)
	case liveImage(d) != image || !rolledOut(d):
		return fmt.Sprintf("the canary Deployment %s is rolling out %s: it gets no requests until every Pod runs that image and one is available (the previous canary's Pods get none of its share)", name, image)
	}
	return fmt.Sprintf("the canary Deployment %s has no available Pod (%d of %d ready): it gets no requests until one is", name, d.Status.ReadyReplicas, d.Status.Replicas)
}

// imagePods counts the available Pods of the canary Deployment d that run
// image. After the canary's image changes, the Pods d counts available are
// the previous image's until the new one has rolled out (the canary rolls
// out like the stable track: no Pod stops before its successor is
// available, so a new image that never becomes ready leaves the previous
// one running): they are not this canary, and what they serve must neither
// be counted as its share nor judged as its figures. So d counts only once
// it runs image at its latest generation with every Pod of that template.
// Once Pods of image were counted (the last status says so: prev.Image and
// prev.AvailableReplicas), a change that keeps the image (a new weight, so
// a new size, or what both tracks share) keeps them counted while the
// Deployment controller catches up and rolls it, so the share never blinks.
func imagePods(image string, prev *pylonv1alpha1.CanaryStatus, d *appsv1.Deployment) int32 {
	if d == nil || liveImage(d) != image {
		return 0
	}
	counted := prev != nil && prev.Image == image && prev.AvailableReplicas > 0
	if !counted && !rolledOut(d) {
		return 0
	}
	return d.Status.AvailableReplicas
}

// rolledOut: the Deployment controller has acted on the latest spec and
// every Pod its status counts belongs to the newest template.
func rolledOut(d *appsv1.Deployment) bool {
	return d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas >= d.Status.Replicas
}

// weightChangeTime is when the effective weight last changed.
func weightChangeTime(prev *pylonv1alpha1.CanaryStatus, w int32, now time.Time) *metav1.Time {
	if prev != nil && prev.Weight == w && prev.LastWeightChangeTime != nil {
		return prev.LastWeightChangeTime
	}
	t := metav1.NewTime(now.Truncate(time.Second))
	return &t
}

// canaryRevision identifies the declared canary: any change of
// spec.canary (image, weight, header match, analysis) is a new canary that
// is judged afresh, and lifts a rollback.
func canaryRevision(c *pylonv1alpha1.CanarySpec) string {
	b, _ := json.Marshal(c) // a struct of plain fields always marshals
	h := fnv.New64a()
	_, _ = h.Write(b)
	return strconv.FormatUint(h.Sum64(), 36)
}
