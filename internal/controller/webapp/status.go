package webapp

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/conditions"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
)

// readySet declares what Ready summarises. A dependent that does not apply to
// a WebApp (no canary, no hostname, ...) is simply absent.
var readySet = conditions.NewSet(pylonv1alpha1.ConditionReady,
	pylonv1alpha1.ConditionAvailable,
	pylonv1alpha1.ConditionCanaryAvailable,
	pylonv1alpha1.ConditionHostnameClaimed,
	pylonv1alpha1.ConditionRouted,
	pylonv1alpha1.ConditionCertificateReady,
	pylonv1alpha1.ConditionDNSReady,
)

// observation is what one reconcile learnt about the WebApp's children.
type observation struct {
	// deployment is the stable Deployment as last read or applied; nil when
	// it does not exist or is not the WebApp's.
	deployment *appsv1.Deployment
	// failures are children Pylon could not make as declared, in child order.
	failures []failure
}

// failure is a child that could not be applied or deleted.
type failure struct {
	kind, name string
	reason     string
	message    string
	// terminal failures need a person (Stalled); others are retried.
	terminal bool
}

func (o observation) failureOf(kind string) *failure {
	for i := range o.failures {
		if o.failures[i].kind == kind {
			return &o.failures[i]
		}
	}
	return nil
}

// computeStatus derives the WebApp's status from what was observed. It is
// pure: condition times are left zero for the caller to merge.
func computeStatus(app *pylonv1alpha1.WebApp, obs observation, clusterDomain string) pylonv1alpha1.WebAppStatus {
	gen := app.Generation
	st := pylonv1alpha1.WebAppStatus{
		ObservedGeneration: app.Status.ObservedGeneration,
		URL:                clusterURL(app, clusterDomain),
	}
	if d := obs.deployment; d != nil {
		st.Replicas, st.ReadyReplicas = d.Status.Replicas, d.Status.ReadyReplicas
	}

	available := availableCondition(obs)
	available.ObservedGeneration = gen
	conds := []metav1.Condition{available}

	ready := readySet.Summarize(conds, gen, pylonv1alpha1.ReasonReady, "all children are ready")
	transient := false
	var stalled *metav1.Condition
	for i, f := range obs.failures {
		if i == 0 { // a child Pylon could not write says more than any roll-up
			ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, f.reason, f.message
		}
		if f.terminal && stalled == nil {
			stalled = &metav1.Condition{Type: pylonv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: f.reason, Message: f.message, ObservedGeneration: gen}
		}
		transient = transient || !f.terminal
	}
	if stalled == nil && available.Reason == pylonv1alpha1.ReasonProgressDeadlineExceeded {
		stalled = &metav1.Condition{Type: pylonv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: available.Reason, Message: available.Message, ObservedGeneration: gen}
	}
	conds = append(conds, ready)
	switch {
	case stalled != nil:
		conds = append(conds, *stalled)
	case ready.Status != metav1.ConditionTrue:
		conds = append(conds, metav1.Condition{Type: pylonv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: ready.Reason, Message: ready.Message, ObservedGeneration: gen})
	}
	st.Conditions = conds

	// The generation counts as observed once Pylon has acted on all of it:
	// every child applied, or a verdict that needs a person. A failure that
	// will be retried leaves the previous generation in place.
	if !transient {
		st.ObservedGeneration = gen
	}
	return st
}

// availableCondition reads the stable Deployment the way `kubectl rollout
// status` does, trusting its status only at its latest generation.
func availableCondition(obs observation) metav1.Condition {
	c := metav1.Condition{Type: pylonv1alpha1.ConditionAvailable}
	if f := obs.failureOf("Deployment"); f != nil {
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, f.reason, f.message
		return c
	}
	d := obs.deployment
	if d == nil {
		c.Status, c.Reason, c.Message = metav1.ConditionUnknown, pylonv1alpha1.ReasonReconciling, "the Deployment does not exist yet"
		return c
	}
	if d.Status.ObservedGeneration < d.Generation {
		c.Status, c.Reason = metav1.ConditionUnknown, pylonv1alpha1.ReasonDeploymentOutdated
		c.Message = fmt.Sprintf("waiting for the Deployment controller to observe generation %d of Deployment %s", d.Generation, d.Name)
		return c
	}
	if p := deploymentCondition(d, appsv1.DeploymentProgressing); p != nil && p.Reason == "ProgressDeadlineExceeded" {
		c.Status, c.Reason = metav1.ConditionFalse, pylonv1alpha1.ReasonProgressDeadlineExceeded
		c.Message = fmt.Sprintf("Deployment %s: %s", d.Name, p.Message)
		return c
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	if a := deploymentCondition(d, appsv1.DeploymentAvailable); a != nil && a.Status != "True" {
		c.Status, c.Reason = metav1.ConditionFalse, pylonv1alpha1.ReasonUnavailable
		c.Message = fmt.Sprintf("%d of %d Pods of Deployment %s are available: %s", s.AvailableReplicas, want, d.Name, a.Message)
		return c
	}
	switch {
	case s.UpdatedReplicas < want:
		c.Status, c.Reason = metav1.ConditionUnknown, pylonv1alpha1.ReasonRollingOut
		c.Message = fmt.Sprintf("rolling out Deployment %s: %d of %d new Pods have been created", d.Name, s.UpdatedReplicas, want)
	case s.Replicas > s.UpdatedReplicas:
		c.Status, c.Reason = metav1.ConditionUnknown, pylonv1alpha1.ReasonRollingOut
		c.Message = fmt.Sprintf("rolling out Deployment %s: %d old Pods are pending termination", d.Name, s.Replicas-s.UpdatedReplicas)
	case s.AvailableReplicas < s.UpdatedReplicas:
		c.Status, c.Reason = metav1.ConditionUnknown, pylonv1alpha1.ReasonRollingOut
		c.Message = fmt.Sprintf("rolling out Deployment %s: %d of %d new Pods are available", d.Name, s.AvailableReplicas, s.UpdatedReplicas)
	default:
		c.Status, c.Reason = metav1.ConditionTrue, pylonv1alpha1.ReasonAvailable
		c.Message = fmt.Sprintf("%d of %d Pods are available", s.AvailableReplicas, want)
	}
	return c
}

func deploymentCondition(d *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == t {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

// clusterURL is the in-cluster address of the stable Service. It stays the
// URL until the WebApp is routed under its hostname.
func clusterURL(app *pylonv1alpha1.WebApp, clusterDomain string) string {
	path := app.Spec.Path
	if path == "" {
		path = "/"
	}
	return fmt.Sprintf("http://%s.%s.svc.%s%s", names.Service(app), app.Namespace, clusterDomain, path)
}

// mergeConditions carries each condition's last transition time over from
// the current status when its status did not change.
func mergeConditions(old, next pylonv1alpha1.WebAppStatus, now metav1.Time) pylonv1alpha1.WebAppStatus {
	next.Conditions = conditions.Merge(old.Conditions, next.Conditions, now)
	return next
}
