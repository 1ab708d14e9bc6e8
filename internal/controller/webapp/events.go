package webapp

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/conditions"
)

// recordTransitions emits an event when Ready or Stalled changed status, and
// nothing otherwise: events mark transitions, not reconciles.
func (r *Reconciler) recordTransitions(app *pylonv1alpha1.WebApp, prev, next []metav1.Condition) {
	if conditions.Transitioned(prev, next, pylonv1alpha1.ConditionReady) {
		if c := meta.FindStatusCondition(next, pylonv1alpha1.ConditionReady); c != nil {
			switch c.Status {
			case metav1.ConditionTrue:
				r.event(app, corev1.EventTypeNormal, c.Reason, "Reconcile", "WebApp is ready: %s", c.Message)
			case metav1.ConditionFalse:
				r.event(app, corev1.EventTypeWarning, c.Reason, "Reconcile", "WebApp is not ready: %s", c.Message)
			}
		}
	}
	if conditions.Transitioned(prev, next, pylonv1alpha1.ConditionStalled) {
		if c := meta.FindStatusCondition(next, pylonv1alpha1.ConditionStalled); c != nil {
			r.event(app, corev1.EventTypeWarning, c.Reason, "Reconcile", "WebApp is stalled: %s", c.Message)
		}
	}
}

func (r *Reconciler) event(app *pylonv1alpha1.WebApp, eventType, reason, action, note string, args ...any) {
	if r.Recorder == nil {
		return
	}
	r.Recorder.Eventf(app, nil, eventType, reason, action, note, args...)
}
