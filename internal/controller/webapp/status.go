package webapp

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/conditions"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources/names"
)

// readySet declares what Ready summarises. A dependent that does not apply to
// a WebApp (no canary, no hostname, ...) is simply absent.
var readySet = conditions.NewSet(pylonv1alpha1.ConditionReady,
	pylonv1alpha1.ConditionAvailable,
	pylonv1alpha1.ConditionCanaryAvailable,
	pylonv1alpha1.ConditionCanaryHealthy,
	pylonv1alpha1.ConditionHostnameClaimed,
	pylonv1alpha1.ConditionRouted,
	pylonv1alpha1.ConditionCertificateReady,
	pylonv1alpha1.ConditionDNSReady,
)

// stalledReasons are False reasons that need a person: Pylon cannot make
// progress until someone changes the WebApp, its class or another object.
var stalledReasons = map[string]bool{
	pylonv1alpha1.ReasonNotOwned:                 true,
	pylonv1alpha1.ReasonChildRejected:            true,
	pylonv1alpha1.ReasonProgressDeadlineExceeded: true,
	pylonv1alpha1.ReasonPodsRefused:              true,
	pylonv1alpha1.ReasonExposureClassNotFound:    true,
	pylonv1alpha1.ReasonNoDefaultExposureClass:   true,
	pylonv1alpha1.ReasonMultipleDefaultClasses:   true,
	pylonv1alpha1.ReasonExposureClassInvalid:     true,
	pylonv1alpha1.ReasonHostnameRequired:         true,
	pylonv1alpha1.ReasonAPINotInstalled:          true,
	pylonv1alpha1.ReasonDomainNotAllowed:         true,
	pylonv1alpha1.ReasonNamespaceNotAllowed:      true,
	pylonv1alpha1.ReasonHostnameConflict:         true,
	pylonv1alpha1.ReasonNoIssuer:                 true,
	pylonv1alpha1.ReasonIssuerNotAllowed:         true,
	pylonv1alpha1.ReasonSecretNotFound:           true,
	pylonv1alpha1.ReasonSecretInvalid:            true,
	pylonv1alpha1.ReasonHostnameNotCovered:       true,
	pylonv1alpha1.ReasonCertificateExpired:       true,
	pylonv1alpha1.ReasonCanaryUnsupported:        true,
	pylonv1alpha1.ReasonRolledBack:               true,
	pylonv1alpha1.ReasonMetricsUnavailable:       true,
}

// observation is what one reconcile learnt about the WebApp's children.
type observation struct {
	// live holds each child as last read or applied, by child id; absent
	// when it does not exist or is not the WebApp's.
	live map[string]client.Object
	// failures are children Pylon could not make as declared, in child order.
	failures []failure
	// exposure is what was resolved about routing, TLS and DNS.
	exposure exposureView
	// canary is what was decided about the canary.
	canary canaryDecision
	// podProblems says, by Deployment name, why the Pods of a Deployment
	// that is not available fail (lookAtPods).
	podProblems map[string]string
}

// failure is a child that could not be applied or deleted.
type failure struct {
	id      string
	reason  string
	message string
	// terminal failures need a person (Stalled); others are retried.
	terminal bool
}

func (o observation) failureOf(id string) *failure {
	for i := range o.failures {
		if o.failures[i].id == id {
			return &o.failures[i]
		}
	}
	return nil
}

func (o observation) deployment(name string) *appsv1.Deployment {
	d, _ := o.live[childID(deploymentGVK, name)].(*appsv1.Deployment)
	return d
}

// computeStatus derives the WebApp's status from what was observed. It is
// pure: condition times are left zero for the caller to merge.
func computeStatus(app *pylonv1alpha1.WebApp, obs observation, clusterDomain string) pylonv1alpha1.WebAppStatus {
	gen := app.Generation
	st := pylonv1alpha1.WebAppStatus{
		ObservedGeneration: app.Status.ObservedGeneration,
		URL:                url(app, obs.exposure, clusterDomain),
	}
	if d := obs.deployment(names.Deployment(app)); d != nil {
		st.Replicas, st.ReadyReplicas = d.Status.Replicas, d.Status.ReadyReplicas
	}

	conds := []metav1.Condition{availableCondition(pylonv1alpha1.ConditionAvailable, obs, names.Deployment(app))}
	if canaryWanted(app) {
		conds = append(conds, availableCondition(pylonv1alpha1.ConditionCanaryAvailable, obs, names.Canary(app)))
	}
	// A canary not judged yet (no figures, too few requests) is reported
	// but does not make the app not Ready: the app serves, and Reconciling
	// already says the analysis is under way. A verdict, either way, counts.
	var unjudged *metav1.Condition
	if h := obs.canary.healthy; h != nil {
		if h.Status == metav1.ConditionUnknown {
			unjudged = h.DeepCopy()
			unjudged.ObservedGeneration = gen
		} else {
			conds = append(conds, *h)
		}
	}
	if cs := obs.canary.status; cs != nil {
		cs = cs.DeepCopy()
		if d := obs.deployment(names.Canary(app)); d != nil {
			// AvailableReplicas is the decision's: only Pods of the
			// canary's image count.
			cs.Replicas, cs.ReadyReplicas = d.Status.Replicas, d.Status.ReadyReplicas
		}
		st.Canary = cs
	}
	conds = append(conds, exposureConditions(app, obs)...)
	for i := range conds {
		conds[i].ObservedGeneration = gen
	}

	ready := readySet.Summarize(conds, gen, pylonv1alpha1.ReasonReady, "all children are ready")
	transient := false
	for i, f := range obs.failures {
		if i == 0 { // a child Pylon could not write says more than any roll-up
			ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, f.reason, f.message
		}
		transient = transient || !f.terminal
	}
	stalled := stalledCondition(append(conds, ready), gen)
	if unjudged != nil {
		conds = append(conds, *unjudged)
	}
	conds = append(conds, ready)
	switch {
	case stalled != nil:
		conds = append(conds, *stalled)
	case ready.Status != metav1.ConditionTrue:
		conds = append(conds, metav1.Condition{Type: pylonv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: ready.Reason, Message: ready.Message, ObservedGeneration: gen})
	case st.Canary != nil && st.Canary.Phase == pylonv1alpha1.CanaryProgressing:
		// Serving, but not where the spec says yet: analysis is still
		// stepping the canary up (kstatus: InProgress).
		conds = append(conds, metav1.Condition{Type: pylonv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: pylonv1alpha1.ReasonAnalysisStep, Message: st.Canary.WeightMessage, ObservedGeneration: gen})
	case st.Canary != nil && st.Canary.WeightReason == pylonv1alpha1.ReasonCanaryNoReadyEndpoints:
		// Serving, but the canary's share waits for its Service to list a
		// ready endpoint (normally well under a second): not at the spec
		// yet, so kstatus and Argo CD see InProgress, not Current.
		conds = append(conds, metav1.Condition{Type: pylonv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: pylonv1alpha1.ReasonCanaryNoReadyEndpoints, Message: st.Canary.WeightMessage, ObservedGeneration: gen})
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

// stalledCondition is Stalled=True, from the first False condition whose
// reason needs a person, or nil.
func stalledCondition(conds []metav1.Condition, gen int64) *metav1.Condition {
	for _, c := range conds {
		if c.Status == metav1.ConditionFalse && stalledReasons[c.Reason] {
			return &metav1.Condition{Type: pylonv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: c.Reason, Message: c.Message, ObservedGeneration: gen}
		}
	}
	return nil
}

// availableCondition reads a Deployment the way `kubectl rollout status`
// does, trusting its status only at its latest generation.
func availableCondition(condType string, obs observation, name string) metav1.Condition {
	c := metav1.Condition{Type: condType}
	if f := obs.failureOf(childID(deploymentGVK, name)); f != nil {
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, f.reason, f.message
		return c
	}
	d := obs.deployment(name)
	return withPodProblem(deploymentAvailability(condType, name, d), d, obs.podProblems[name])
}

// deploymentAvailability is the condition of Deployment name, read from d
// (nil: it does not exist).
func deploymentAvailability(condType, name string, d *appsv1.Deployment) metav1.Condition {
	c := metav1.Condition{Type: condType}
	if d == nil {
		c.Status, c.Reason, c.Message = metav1.ConditionUnknown, pylonv1alpha1.ReasonReconciling, fmt.Sprintf("Deployment %s does not exist yet", name)
		return c
	}
	if d.Status.ObservedGeneration < d.Generation {
		c.Status, c.Reason = metav1.ConditionUnknown, pylonv1alpha1.ReasonDeploymentOutdated
		c.Message = fmt.Sprintf("waiting for the Deployment controller to observe generation %d of Deployment %s", d.Generation, d.Name)
		return c
	}
	// The ReplicaSet cannot create Pods: say why at once rather than wait
	// for the progress deadline, whose message names no cause.
	if f := deploymentCondition(d, appsv1.DeploymentReplicaFailure); f != nil && f.Status == corev1.ConditionTrue {
		c.Status, c.Reason = metav1.ConditionFalse, pylonv1alpha1.ReasonPodsRefused
		c.Message = fmt.Sprintf("Deployment %s cannot create Pods: %s", d.Name, f.Message)
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
	if want == 0 {
		// The Deployment controller calls a Deployment of zero replicas
		// available; nothing answers requests, so the app is not.
		c.Status, c.Reason = metav1.ConditionFalse, pylonv1alpha1.ReasonScaledToZero
		c.Message = fmt.Sprintf("Deployment %s is scaled to 0 replicas: no Pod serves the app", d.Name)
		return c
	}
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
		c.Message = fmt.Sprintf("%d of %d Pods of Deployment %s are available", s.AvailableReplicas, want, d.Name)
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

// url is where the app is served: its hostname once it holds one, else the
// in-cluster address of the stable Service.
func url(app *pylonv1alpha1.WebApp, v exposureView, clusterDomain string) string {
	path := app.Spec.Path
	if path == "" {
		path = "/"
	}
	if h := v.exp.Hostname; h != "" {
		scheme := "http"
		if v.exp.TLS.Enabled() {
			scheme = "https"
		}
		return scheme + "://" + h + path
	}
	return fmt.Sprintf("http://%s.%s.svc.%s%s", names.Service(app), app.Namespace, clusterDomain, path)
}

// mergeConditions carries each condition's last transition time over from
// the current status when its status did not change.
func mergeConditions(old, next pylonv1alpha1.WebAppStatus, now metav1.Time) pylonv1alpha1.WebAppStatus {
	next.Conditions = conditions.Merge(old.Conditions, next.Conditions, now)
	return next
}
