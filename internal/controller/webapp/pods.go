package webapp

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// defaultPodsRecheck is how often the Pods of a Deployment that is not
// available are read again: a container that starts failing changes no
// Deployment field, so no event would tell.
const defaultPodsRecheck = 30 * time.Second

func (r *Reconciler) podsRecheck() time.Duration {
	if r.PodsRecheck > 0 {
		return r.PodsRecheck
	}
	return defaultPodsRecheck
}

// podsListLimit bounds one look at a Deployment's Pods.
const podsListLimit = 50

// needsPodLook reports whether the Pods of d should be read to say why it
// is not available: d is at its generation (its status is about the
// current template) and not every wanted Pod is available.
func needsPodLook(d *appsv1.Deployment) bool {
	if d == nil || d.Status.ObservedGeneration < d.Generation || d.Spec.Selector == nil {
		return false
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	return want > 0 && (d.Status.AvailableReplicas < want || d.Status.UpdatedReplicas < want || d.Status.Replicas > d.Status.UpdatedReplicas)
}

// lookAtPods reads, past the cache (Pods are not cached: a cluster has many
// and they change often), the Pods of each of the WebApp's Deployments
// that is not available, and records in obs why they fail, if they do. It
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
		pods := &corev1.PodList{}
		if err := r.APIReader.List(ctx, pods, client.InNamespace(d.Namespace), client.MatchingLabels(d.Spec.Selector.MatchLabels), client.Limit(podsListLimit)); err != nil {
			log.FromContext(ctx).V(1).Info("cannot read the Pods of a Deployment that is not available", "deployment", name, "error", err.Error())
			continue
		}
		if p := podProblem(pods.Items); p != "" {
			if obs.podProblems == nil {
				obs.podProblems = map[string]string{}
			}
			obs.podProblems[name] = p
		}
	}
	return again
}

// waitingFailures are the reasons the kubelet gives a container it cannot
// start and will not start without a change: a bad template, a refused
// security context, an image it may not or cannot run.
var waitingFailures = map[string]bool{
	"CreateContainerConfigError": true,
	"CreateContainerError":       true,
	"InvalidImageName":           true,
	"ErrImageNeverPull":          true,
	"RunContainerError":          true,
	"PreStartHookError":          true,
	"PostStartHookError":         true,
}

// podProblem is why the Pods fail, from the first Pod (by name) that
// shows one of: no node accepts it, a container the kubelet cannot start,
// an image it cannot pull, a container that keeps exiting. "" when none
// does (Pods still starting, or running and not yet ready). The text names
// no restart count, back-off or time, so that it stays the same while the
// failure does and costs no status writes.
func podProblem(pods []corev1.Pod) string {
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	for i := range pods {
		p := &pods[i]
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				return fmt.Sprintf("Pod %s cannot be scheduled: %s", p.Name, strings.TrimSpace(c.Message))
			}
		}
		statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
		for _, cs := range statuses {
			if w := cs.State.Waiting; w != nil {
				switch {
				case waitingFailures[w.Reason]:
					msg := fmt.Sprintf("Pod %s: container %s: %s", p.Name, cs.Name, w.Reason)
					if m := strings.TrimSpace(w.Message); m != "" {
						msg += ": " + m
					}
					return msg
				case w.Reason == "ImagePullBackOff" || w.Reason == "ErrImagePull":
					// The two alternate while the kubelet retries; the
					// pull error itself is in the Pod's events.
					return fmt.Sprintf("Pod %s: container %s: image %q cannot be pulled (kubectl describe pod %s shows why)", p.Name, cs.Name, cs.Image, p.Name)
				}
			}
			if t := cs.LastTerminationState.Terminated; t != nil && cs.RestartCount > 0 && !cs.Ready {
				how := fmt.Sprintf("exit code %d", t.ExitCode)
				if t.Reason != "" {
					how += " (" + t.Reason + ")"
				}
				if t.Reason == "OOMKilled" {
					how += ": it used more memory than its limit"
				}
				return fmt.Sprintf("Pod %s: container %s keeps exiting: last %s", p.Name, cs.Name, how)
			}
		}
	}
	return ""
}

// withPodProblem adds what the Pods say to the condition of a Deployment
// that is not available: an app with no available Pod is PodsFailing
// (False); a rollout that old Pods still serve stays RollingOut (Unknown)
// and a stalled one keeps its reason, with the cause in the message.
func withPodProblem(c metav1.Condition, problem string) metav1.Condition {
	if problem == "" || c.Status == metav1.ConditionTrue {
		return c
	}
	switch c.Reason {
	case pylonv1alpha1.ReasonUnavailable:
		c.Status, c.Reason = metav1.ConditionFalse, pylonv1alpha1.ReasonPodsFailing
		c.Message += ": " + problem
	case pylonv1alpha1.ReasonRollingOut:
		c.Message += "; new Pods are failing: " + problem
	case pylonv1alpha1.ReasonProgressDeadlineExceeded:
		c.Message += ": " + problem
	}
	return c
}
