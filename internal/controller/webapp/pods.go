package webapp

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// defaultPodsRecheck is how soon the Pods of a Deployment that is not
// available are read again: a container that starts failing changes no
// Deployment field, so no event would tell. The wait grows with how long
// the condition has not changed, up to ten times this (5 minutes).
const defaultPodsRecheck = 30 * time.Second

// maxProblemLen bounds the kubelet's words quoted in a condition.
const maxProblemLen = 400

// revisionAnnotation is where the Deployment controller records a
// Deployment's revision, and each of its ReplicaSets' own.
const revisionAnnotation = "deployment.kubernetes.io/revision"

func (r *Reconciler) podsRecheck() time.Duration {
	if r.PodsRecheck > 0 {
		return r.PodsRecheck
	}
	return defaultPodsRecheck
}

// podsRecheckAfter is the wait before the next look at the Pods: the base
// recheck while the condition is new, a quarter of its age once it has
// held for a while (a broken app is looked at less and less often), never
// more than ten times the base.
func (r *Reconciler) podsRecheckAfter(cond *metav1.Condition, now time.Time) time.Duration {
	base := r.podsRecheck()
	if cond == nil || cond.LastTransitionTime.IsZero() {
		return base
	}
	return min(max(base, now.Sub(cond.LastTransitionTime.Time)/4), 10*base)
}

// needsPodLook reports whether the Pods of d should be read to say why it
// is not available: d is at its generation (its status is about the
// current template), not paused, and not every wanted Pod of the current
// template is available.
func needsPodLook(d *appsv1.Deployment) bool {
	if d == nil || d.Status.ObservedGeneration < d.Generation || d.Spec.Selector == nil || d.Spec.Paused {
		return false
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	return want > 0 && (d.Status.AvailableReplicas < want || d.Status.UpdatedReplicas < want)
}

// lookAtPods reads, past the cache (Pods are not cached: a cluster has many
// and they change often; the reads are served from the API server's watch
// cache), the Pods of the current revision of each given Deployment that
// is not available, and records in obs why they fail, if they do. Only
// Pods whose controller is a ReplicaSet controlled by the Deployment
// count, so a Pod someone else made with the same labels says nothing. It
// reports whether any Deployment needs another look later. A failed read
// only leaves the reason out.
func (r *Reconciler) lookAtPods(ctx context.Context, obs *observation, deployments ...string) bool {
	again := false
	for _, name := range deployments {
		d := obs.deployment(name)
		if !needsPodLook(d) {
			continue
		}
		again = true
		p, err := r.podProblemOf(ctx, d)
		if err != nil {
			log.FromContext(ctx).Info("cannot read the Pods of a Deployment that is not available, so its status gives no cause", "deployment", name, "error", err.Error())
			continue
		}
		if p != "" {
			if obs.podProblems == nil {
				obs.podProblems = map[string]string{}
			}
			obs.podProblems[name] = p
		}
	}
	return again
}

// fromWatchCache makes a List be answered from the API server's watch cache
// rather than by a quorum read of etcd.
var fromWatchCache = &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: "0"}}

func (r *Reconciler) podProblemOf(ctx context.Context, d *appsv1.Deployment) (string, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || sel.Empty() {
		return "", err
	}
	sets := &appsv1.ReplicaSetList{}
	if err := r.APIReader.List(ctx, sets, fromWatchCache, client.InNamespace(d.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return "", fmt.Errorf("list ReplicaSets: %w", err)
	}
	// The Deployment's ReplicaSets; of those, the current revision's.
	owned, current := map[types.UID]bool{}, map[types.UID]bool{}
	for i := range sets.Items {
		rs := &sets.Items[i]
		if c := metav1.GetControllerOf(rs); c == nil || c.UID != d.UID {
			continue
		}
		owned[rs.UID] = true
		if rev := d.Annotations[revisionAnnotation]; rev != "" && rs.Annotations[revisionAnnotation] == rev {
			current[rs.UID] = true
		}
	}
	if len(current) == 0 {
		current = owned // no revision yet: every ReplicaSet of the Deployment
	}
	pods := &corev1.PodList{}
	if err := r.APIReader.List(ctx, pods, fromWatchCache, client.InNamespace(d.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return "", fmt.Errorf("list Pods: %w", err)
	}
	mine := pods.Items[:0]
	for _, p := range pods.Items {
		if c := metav1.GetControllerOf(&p); c != nil && c.Kind == "ReplicaSet" && current[c.UID] {
			mine = append(mine, p)
		}
	}
	return podProblem(mine), nil
}

// waitingFailures are the reasons the kubelet gives a container it cannot
// start and will not start without a change: a bad template, a refused
// security context, an image it may not or cannot run.
var waitingFailures = map[string]bool{
	"CreateContainerConfigError": true,
	"CreateContainerError":       true,
	"InvalidImageName":           true,
	"ErrImageNeverPull":          true,
}

// nodeCounts are the scheduler's counts ("0/57 nodes are available: ",
// "3 Insufficient cpu"), which move with the cluster's size.
var nodeCounts = regexp.MustCompile(`\d+/\d+ nodes are available: (\d+ )?|([,:.] )\d+ `)

// podProblem is why the Pods fail, from the first Pod (by name) that
// shows one of: no node accepts it, a container the kubelet cannot start,
// an image it cannot pull, a container that keeps exiting. "" when none
// does (Pods still starting, or running and not yet ready). The text names
// no restart count, back-off, node count or time, so that it stays the
// same while the failure does and costs no status writes.
func podProblem(pods []corev1.Pod) string {
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	for i := range pods {
		p := &pods[i]
		// Failed Pods (evicted, shut down with their node) stay until
		// Pod garbage collection and are not what runs.
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				return capped(fmt.Sprintf("Pod %s cannot be scheduled: %s", p.Name, strings.TrimSpace(nodeCounts.ReplaceAllString(c.Message, "$2"))))
			}
		}
		statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
		for _, cs := range statuses {
			if s := containerProblem(cs); s != "" {
				return capped(fmt.Sprintf("Pod %s: container %s %s", p.Name, cs.Name, s))
			}
		}
	}
	return ""
}

// containerProblem is what is wrong with one container, or "".
func containerProblem(cs corev1.ContainerStatus) string {
	w := cs.State.Waiting
	// A container that has exited: the same words whether the kubelet is
	// waiting out the back-off (CrashLoopBackOff, or RunContainerError
	// for one that cannot even start) or has just started it again.
	if t := cs.LastTerminationState.Terminated; t != nil && !cs.Ready &&
		(w != nil && (w.Reason == "CrashLoopBackOff" || w.Reason == "RunContainerError") || cs.RestartCount >= 2 || t.Reason == "OOMKilled") {
		how := fmt.Sprintf("keeps exiting: last exit code %d", t.ExitCode)
		if t.Reason != "" {
			how += " (" + t.Reason + ")"
		}
		switch {
		case t.Reason == "OOMKilled":
			how += ": it used more memory than its limit"
		case t.Reason == "StartError" && strings.TrimSpace(t.Message) != "":
			how += ": " + strings.TrimSpace(t.Message)
		}
		return how
	}
	if w == nil {
		return ""
	}
	switch {
	case waitingFailures[w.Reason] || w.Reason == "RunContainerError":
		msg := "cannot start: " + w.Reason
		if m := strings.TrimSpace(w.Message); m != "" {
			msg += ": " + m
		}
		return msg
	case w.Reason == "ImagePullBackOff" || w.Reason == "ErrImagePull":
		// The two alternate while the kubelet retries; the pull error
		// itself is in the Pod's events.
		return fmt.Sprintf("cannot pull image %q (kubectl describe pod shows why)", cs.Image)
	}
	return ""
}

func capped(s string) string {
	if len(s) <= maxProblemLen {
		return s
	}
	return s[:maxProblemLen] + "…"
}

// withPodProblem adds what the Pods say to the condition of a Deployment
// that is not available. With no Pod available the reason becomes
// PodsFailing; otherwise (some Pods serve, or a rollout that old Pods
// still serve) the reason stays and the cause joins the message.
func withPodProblem(c metav1.Condition, d *appsv1.Deployment, problem string) metav1.Condition {
	if problem == "" || c.Status == metav1.ConditionTrue || d == nil {
		return c
	}
	msg := strings.TrimSuffix(c.Message, ".")
	switch c.Reason {
	case pylonv1alpha1.ReasonUnavailable:
		if d.Status.AvailableReplicas == 0 {
			c.Status, c.Reason = metav1.ConditionFalse, pylonv1alpha1.ReasonPodsFailing
		}
		c.Message = msg + ": " + problem
	case pylonv1alpha1.ReasonRollingOut:
		c.Message = msg + "; new Pods are failing: " + problem
	case pylonv1alpha1.ReasonProgressDeadlineExceeded:
		c.Message = msg + ": " + problem
	}
	return c
}
