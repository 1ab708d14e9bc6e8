package gitops

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// These tests cover two edges where the tools could misread a WebApp.

// Before Pylon's first status write, the CRD defaults the status to
// {observedGeneration: 0}: kstatus then reads "generation is 1, but latest
// observed generation is 0" (InProgress), instead of calling a resource with
// no status Current, and the Lua check waits for generation 1.
func TestNoStatusYetIsInProgress(t *testing.T) {
	ns := newNamespace(t) // no controller in this namespace
	app := newWebApp(t, ns, "shop", 1)
	u := observed(t, client.ObjectKeyFromObject(app), func(g Gomega, app *pylonv1alpha1.WebApp) {
		g.Expect(app.Status.Conditions).To(BeEmpty())
	})
	v := judge(t, u)
	g := NewWithT(t)
	g.Expect(v.argo).To(Equal(Health{Status: HealthProgressing, Message: "Waiting for Pylon to observe generation 1"}))
	g.Expect(v.kstatus.Status).To(Equal(kstatus.InProgressStatus))
}

// A child the API server refuses as invalid (here an environment variable
// name with '=', which the WebApp's schema lets through) cannot be cured by
// retrying: the WebApp is Stalled at its generation, so both tools report a
// failure a person must fix, rather than progress that never ends.
func TestRejectedChildIsDegraded(t *testing.T) {
	ns := newNamespace(t)
	startController(t, ns)
	app := &pylonv1alpha1.WebApp{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"},
		Spec: pylonv1alpha1.WebAppSpec{
			Image:    "registry.example.com/shop:1.0.0",
			Replicas: ptr.To[int32](1),
			Env:      []corev1.EnvVar{{Name: "A=B", Value: "x"}},
		},
	}
	NewWithT(t).Expect(k8s.Create(ctx, app)).To(Succeed())
	u := observed(t, client.ObjectKeyFromObject(app), func(g Gomega, app *pylonv1alpha1.WebApp) {
		g.Expect(app.Status.ObservedGeneration).To(Equal(app.Generation))
		hasCondition(g, app, pylonv1alpha1.ConditionReady, metav1.ConditionFalse, pylonv1alpha1.ReasonChildRejected)
		hasCondition(g, app, pylonv1alpha1.ConditionStalled, metav1.ConditionTrue, pylonv1alpha1.ReasonChildRejected)
	})
	v := judge(t, u)
	g := NewWithT(t)
	g.Expect(v.argo.Status).To(Equal(HealthDegraded))
	g.Expect(v.argo.Message).To(ContainSubstring("env[0].name"))
	g.Expect(v.kstatus.Status).To(Equal(kstatus.FailedStatus))
}
