package gitops

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// webApp is an unstructured WebApp at generation gen with the given status
// (nil: none).
func webApp(gen int64, status map[string]any) map[string]any {
	obj := map[string]any{
		"apiVersion": "pylon.dev/v1alpha1",
		"kind":       "WebApp",
		"metadata":   map[string]any{"name": "shop", "namespace": "team-a", "generation": gen},
		"spec":       map[string]any{"image": "registry.example.com/shop:1.0.0"},
	}
	if status != nil {
		obj["status"] = status
	}
	return obj
}

func cond(condType, status, reason, message string) map[string]any {
	return map[string]any{"type": condType, "status": status, "reason": reason, "message": message}
}

func conds(c ...map[string]any) []any {
	out := make([]any, len(c))
	for i := range c {
		out[i] = c[i]
	}
	return out
}

// The script's rules on hand-written objects, including shapes the
// controller does not write today, beside kstatus' reading of each. The
// envtest tests check the shapes the controller does write.
func TestScriptRules(t *testing.T) {
	ready := cond("Ready", "True", "Ready", "all children are ready")
	for _, tc := range []struct {
		name    string
		obj     map[string]any
		want    Health
		kstatus kstatus.Status
	}{{
		name: "no status", obj: webApp(1, nil),
		want:    Health{HealthProgressing, "Waiting for Pylon to reconcile"},
		kstatus: kstatus.CurrentStatus, // kstatus has nothing to go by
	}, {
		name: "status without observedGeneration", obj: webApp(1, map[string]any{"replicas": int64(0)}),
		want:    Health{HealthProgressing, "Waiting for Pylon to observe generation 1"},
		kstatus: kstatus.CurrentStatus, // kstatus skips the generation check when the field is absent
	}, {
		name: "ready", obj: webApp(3, map[string]any{"observedGeneration": int64(3), "conditions": conds(ready)}),
		want:    Health{HealthHealthy, "all children are ready"},
		kstatus: kstatus.CurrentStatus,
	}, {
		name: "ready for an older generation", obj: webApp(4, map[string]any{"observedGeneration": int64(3), "conditions": conds(ready)}),
		want:    Health{HealthProgressing, "Waiting for Pylon to observe generation 4"},
		kstatus: kstatus.InProgressStatus,
	}, {
		name: "stalled for an older generation", obj: webApp(4, map[string]any{"observedGeneration": int64(3), "conditions": conds(
			cond("Ready", "False", "NotOwned", "taken"), cond("Stalled", "True", "NotOwned", "taken"))}),
		want:    Health{HealthProgressing, "Waiting for Pylon to observe generation 4"},
		kstatus: kstatus.InProgressStatus,
	}, {
		name: "stalled", obj: webApp(2, map[string]any{"observedGeneration": int64(2), "conditions": conds(
			cond("Ready", "False", "NotOwned", "Deployment team-a/shop already exists"), cond("Stalled", "True", "NotOwned", "Deployment team-a/shop already exists"))}),
		want:    Health{HealthDegraded, "Deployment team-a/shop already exists"},
		kstatus: kstatus.FailedStatus,
	}, {
		name: "stalled without a message", obj: webApp(2, map[string]any{"observedGeneration": int64(2), "conditions": conds(
			cond("Ready", "False", "NotOwned", ""), cond("Stalled", "True", "NotOwned", ""))}),
		want:    Health{HealthDegraded, "NotOwned"},
		kstatus: kstatus.FailedStatus,
	}, {
		name: "stalled wins over ready", obj: webApp(2, map[string]any{"observedGeneration": int64(2), "conditions": conds(
			ready, cond("Stalled", "True", "HostnameConflict", "held by team-b/shop"))}),
		want:    Health{HealthDegraded, "held by team-b/shop"},
		kstatus: kstatus.FailedStatus,
	}, {
		name: "reconciling", obj: webApp(2, map[string]any{"observedGeneration": int64(2), "conditions": conds(
			cond("Ready", "Unknown", "RollingOut", "rolling out"), cond("Reconciling", "True", "RollingOut", "rolling out Deployment shop: 1 of 2 new Pods have been created"))}),
		want:    Health{HealthProgressing, "rolling out Deployment shop: 1 of 2 new Pods have been created"},
		kstatus: kstatus.InProgressStatus,
	}, {
		name: "ready false without reconciling", obj: webApp(2, map[string]any{"observedGeneration": int64(2), "conditions": conds(
			cond("Ready", "False", "Unavailable", "0 of 2 Pods are available"))}),
		want:    Health{HealthProgressing, "0 of 2 Pods are available"},
		kstatus: kstatus.InProgressStatus,
	}, {
		name: "no conditions at the observed generation", obj: webApp(2, map[string]any{"observedGeneration": int64(2)}),
		want:    Health{HealthProgressing, "Waiting for the Ready condition"},
		kstatus: kstatus.CurrentStatus, // kstatus has nothing to go by
	}} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := EvalHealth(healthScript(t), tc.obj)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
			ks, err := kstatus.Compute(&unstructured.Unstructured{Object: tc.obj})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(ks.Status).To(Equal(tc.kstatus), ks.Message)
		})
	}
}
