package gitops

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// canaryApp is a WebApp at generation gen, observed at observedGen, whose
// status holds canary and conditions.
func canaryApp(gen, observedGen int64, canary map[string]any, c ...map[string]any) map[string]any {
	return webApp(gen, map[string]any{"observedGeneration": observedGen, "canary": canary, "conditions": conds(c...)})
}

// The analysis phases of status.canary, in the shapes the controller
// writes them: Reconciling=True (AnalysisStep) while it steps the canary
// up, Stalled=True (RolledBack) after a rollback. Rows marked "gap" show
// what kstatus would make of a shape without those conditions: it reads
// only Reconciling, Stalled and Ready, so the controller must set them for
// the two tools to agree.
func TestScriptRulesCanaryAnalysis(t *testing.T) {
	const (
		rolledBack = "canary error rate 12.5% exceeds stable 0.4% + 1 points over 80 requests; weight 0 until spec.canary changes"
		noMetrics  = "ExposureClass public has no metrics source Pylon can read; the canary stays at step 1"
	)
	ready := cond(pylonv1alpha1.ConditionReady, "True", pylonv1alpha1.ReasonReady, "all children are ready")
	inBounds := cond(pylonv1alpha1.ConditionCanaryHealthy, "True", pylonv1alpha1.ReasonAnalysisInBounds, "within bounds")
	stepping := cond(pylonv1alpha1.ConditionReconciling, "True", pylonv1alpha1.ReasonAnalysisStep, "holding the canary at 25% until 12:03:00")
	step2 := map[string]any{"weight": int64(25), "weightReason": "AnalysisStep", "phase": "Progressing", "step": int64(2), "steps": int64(3), "replicas": int64(1), "readyReplicas": int64(1)}
	succeeded := map[string]any{"weight": int64(50), "weightReason": "Declared", "phase": "Succeeded", "step": int64(3), "steps": int64(3), "replicas": int64(1), "readyReplicas": int64(1)}
	back := map[string]any{"weight": int64(0), "weightReason": "RolledBack", "weightMessage": "rolled back at step 2", "phase": "RolledBack", "step": int64(2), "steps": int64(3), "replicas": int64(1), "readyReplicas": int64(1)}
	held := map[string]any{"weight": int64(5), "weightReason": "MetricsUnavailable", "phase": "Progressing", "step": int64(1), "steps": int64(3), "replicas": int64(1), "readyReplicas": int64(1)}

	for _, tc := range []struct {
		name    string
		obj     map[string]any
		want    Health
		kstatus kstatus.Status
	}{{
		name: "stepping", obj: canaryApp(3, 3, step2, ready, inBounds, stepping),
		want:    Health{HealthProgressing, "canary at step 2 of 3 (25%)"},
		kstatus: kstatus.InProgressStatus,
	}, {
		name: "stepping, gap: no Reconciling", obj: canaryApp(3, 3, step2, ready, inBounds),
		want:    Health{HealthProgressing, "canary at step 2 of 3 (25%)"},
		kstatus: kstatus.CurrentStatus, // Ready=True is all kstatus sees
	}, {
		name: "stepping without step counts", obj: canaryApp(3, 3, map[string]any{"weight": int64(5), "phase": "Progressing"}, stepping),
		want:    Health{HealthProgressing, "canary at 5%"},
		kstatus: kstatus.InProgressStatus,
	}, {
		name: "stable rolling out while the canary steps", obj: canaryApp(3, 3, step2, inBounds,
			cond(pylonv1alpha1.ConditionReady, "False", pylonv1alpha1.ReasonRollingOut, "rolling out"),
			cond(pylonv1alpha1.ConditionReconciling, "True", pylonv1alpha1.ReasonRollingOut, "rolling out Deployment shop: 1 of 2 new Pods have been created")),
		want:    Health{HealthProgressing, "rolling out Deployment shop: 1 of 2 new Pods have been created"},
		kstatus: kstatus.InProgressStatus,
	}, {
		name: "succeeded and ready", obj: canaryApp(3, 3, succeeded, ready, inBounds),
		want:    Health{HealthHealthy, "all children are ready"},
		kstatus: kstatus.CurrentStatus,
	}, {
		name: "succeeded, ready for an older generation", obj: canaryApp(4, 3, succeeded, ready, inBounds),
		want:    Health{HealthProgressing, "Waiting for Pylon to observe generation 4"},
		kstatus: kstatus.InProgressStatus,
	}, {
		name: "succeeded, not ready", obj: canaryApp(3, 3, succeeded, inBounds,
			cond(pylonv1alpha1.ConditionReady, "False", pylonv1alpha1.ReasonUnavailable, "0 of 1 canary Pods are available")),
		want:    Health{HealthProgressing, "0 of 1 canary Pods are available"},
		kstatus: kstatus.InProgressStatus,
	}, {
		name: "rolled back", obj: canaryApp(3, 3, back, ready,
			cond(pylonv1alpha1.ConditionCanaryHealthy, "False", pylonv1alpha1.ReasonRolledBack, rolledBack),
			cond(pylonv1alpha1.ConditionStalled, "True", pylonv1alpha1.ReasonRolledBack, rolledBack)),
		want:    Health{HealthDegraded, rolledBack},
		kstatus: kstatus.FailedStatus,
	}, {
		name: "rolled back, gap: no Stalled", obj: canaryApp(3, 3, back, ready,
			cond(pylonv1alpha1.ConditionCanaryHealthy, "False", pylonv1alpha1.ReasonRolledBack, rolledBack)),
		want:    Health{HealthDegraded, rolledBack},
		kstatus: kstatus.CurrentStatus, // Ready=True is all kstatus sees
	}, {
		name: "rolled back, phase only", obj: canaryApp(3, 3, back, ready),
		want:    Health{HealthDegraded, "rolled back at step 2"},
		kstatus: kstatus.CurrentStatus,
	}, {
		name: "rolled back for an older generation", obj: canaryApp(4, 3, back, ready,
			cond(pylonv1alpha1.ConditionCanaryHealthy, "False", pylonv1alpha1.ReasonRolledBack, rolledBack),
			cond(pylonv1alpha1.ConditionStalled, "True", pylonv1alpha1.ReasonRolledBack, rolledBack)),
		want:    Health{HealthProgressing, "Waiting for Pylon to observe generation 4"},
		kstatus: kstatus.InProgressStatus, // a new spec.canary lifts the rollback
	}, {
		name: "metrics unavailable", obj: canaryApp(3, 3, held, ready,
			cond(pylonv1alpha1.ConditionCanaryHealthy, "False", pylonv1alpha1.ReasonMetricsUnavailable, noMetrics),
			cond(pylonv1alpha1.ConditionStalled, "True", pylonv1alpha1.ReasonMetricsUnavailable, noMetrics)),
		want:    Health{HealthDegraded, noMetrics},
		kstatus: kstatus.FailedStatus,
	}, {
		name: "metrics unavailable, gap: no Stalled", obj: canaryApp(3, 3, held, ready, stepping,
			cond(pylonv1alpha1.ConditionCanaryHealthy, "False", pylonv1alpha1.ReasonMetricsUnavailable, noMetrics)),
		want:    Health{HealthDegraded, noMetrics}, // wins over the step: it will not move
		kstatus: kstatus.InProgressStatus,          // progress that never ends
	}, {
		name: "metrics unavailable without a message", obj: canaryApp(3, 3, held, ready,
			cond(pylonv1alpha1.ConditionCanaryHealthy, "False", pylonv1alpha1.ReasonMetricsUnavailable, "")),
		want:    Health{HealthDegraded, pylonv1alpha1.ReasonMetricsUnavailable},
		kstatus: kstatus.CurrentStatus,
	}, {
		name: "waiting for requests is not a failure", obj: canaryApp(3, 3, step2, ready, stepping,
			cond(pylonv1alpha1.ConditionCanaryHealthy, "False", pylonv1alpha1.ReasonAnalysisWaiting, "12 of 50 canary requests")),
		want:    Health{HealthProgressing, "canary at step 2 of 3 (25%)"},
		kstatus: kstatus.InProgressStatus,
	}, {
		name: "stalled wins over stepping", obj: canaryApp(3, 3, step2,
			cond(pylonv1alpha1.ConditionReady, "False", pylonv1alpha1.ReasonNotOwned, "Service team-a/shop-canary already exists"),
			cond(pylonv1alpha1.ConditionStalled, "True", pylonv1alpha1.ReasonNotOwned, "Service team-a/shop-canary already exists")),
		want:    Health{HealthDegraded, "Service team-a/shop-canary already exists"},
		kstatus: kstatus.FailedStatus,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := EvalHealth(healthScript(t), tc.obj)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
			ks, err := kstatus.Compute(&unstructured.Unstructured{Object: tc.obj})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(ks.Status).To(Equal(tc.kstatus), ks.Message)
			if tc.kstatus == kstatus.FailedStatus {
				g.Expect(ks.Message).To(Equal(got.Message), "both tools show the Stalled message")
			}
		})
	}
}
