package gitops

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// verdict is how each GitOps tool reads one WebApp.
type verdict struct {
	argo    Health
	kstatus *kstatus.Result
}

// judge reads u with the Argo CD health check of this repository and with kstatus.
func judge(t *testing.T, u *unstructured.Unstructured) verdict {
	t.Helper()
	argo, err := EvalHealth(healthScript(t), u.Object)
	if err != nil {
		t.Fatalf("Argo CD health check: %v", err)
	}
	ks, err := kstatus.Compute(u)
	if err != nil {
		t.Fatalf("kstatus: %v", err)
	}
	t.Logf("generation %d: Argo CD %s (%q), kstatus %s (%q)", u.GetGeneration(), argo.Status, argo.Message, ks.Status, ks.Message)
	return verdict{argo: argo, kstatus: ks}
}

func healthScript(t *testing.T) string {
	t.Helper()
	script, err := ReadHealthScript(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	return script
}

// hasCondition matches a condition of the WebApp's current generation.
func hasCondition(g Gomega, app *pylonv1alpha1.WebApp, condType string, status metav1.ConditionStatus, reason string) {
	c := meta.FindStatusCondition(app.Status.Conditions, condType)
	g.ExpectWithOffset(1, c).NotTo(BeNil(), "condition %s in %+v", condType, app.Status.Conditions)
	g.ExpectWithOffset(1, c.Status).To(Equal(status), "status of %s: %s", condType, c.Message)
	g.ExpectWithOffset(1, c.Reason).To(Equal(reason), "reason of %s: %s", condType, c.Message)
	g.ExpectWithOffset(1, c.ObservedGeneration).To(Equal(app.Generation), "observedGeneration of %s", condType)
}
