package gitops

import (
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// Each test drives the real controller into one state and checks that Argo
// CD and kstatus read the WebApp it wrote alike.

func TestJustCreatedIsProgressing(t *testing.T) {
	ns := newNamespace(t)
	startController(t, ns)
	app := newWebApp(t, ns, "shop", 2)

	// envtest runs no Deployment controller: the Deployment is never
	// observed, so Pylon says Reconciling.
	u := observed(t, client.ObjectKeyFromObject(app), func(g Gomega, app *pylonv1alpha1.WebApp) {
		g.Expect(app.Status.ObservedGeneration).To(Equal(app.Generation))
		hasCondition(g, app, pylonv1alpha1.ConditionReconciling, metav1.ConditionTrue, pylonv1alpha1.ReasonDeploymentOutdated)
	})
	v := judge(t, u)
	g := NewWithT(t)
	g.Expect(v.argo.Status).To(Equal(HealthProgressing))
	g.Expect(v.argo.Message).To(ContainSubstring("waiting for the Deployment controller"))
	g.Expect(v.kstatus.Status).To(Equal(kstatus.InProgressStatus))
}

func TestRolledOutIsHealthy(t *testing.T) {
	ns := newNamespace(t)
	startController(t, ns)
	app := newWebApp(t, ns, "shop", 2)
	setDeploymentStatus(t, deploymentOf(t, ns, "shop"), rolledOut)

	u := observed(t, client.ObjectKeyFromObject(app), func(g Gomega, app *pylonv1alpha1.WebApp) {
		g.Expect(app.Status.ObservedGeneration).To(Equal(app.Generation))
		hasCondition(g, app, pylonv1alpha1.ConditionReady, metav1.ConditionTrue, pylonv1alpha1.ReasonReady)
	})
	v := judge(t, u)
	g := NewWithT(t)
	g.Expect(v.argo).To(Equal(Health{Status: HealthHealthy, Message: "all children are ready"}))
	g.Expect(v.kstatus.Status).To(Equal(kstatus.CurrentStatus))
}

func TestUnownedDeploymentIsDegraded(t *testing.T) {
	ns := newNamespace(t)
	startController(t, ns)
	labels := map[string]string{"app": "legacy"}
	foreign := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "legacy", Image: "legacy:1"}}},
			},
		},
	}
	NewWithT(t).Expect(k8s.Create(ctx, foreign)).To(Succeed())
	app := newWebApp(t, ns, "shop", 1)

	u := observed(t, client.ObjectKeyFromObject(app), func(g Gomega, app *pylonv1alpha1.WebApp) {
		g.Expect(app.Status.ObservedGeneration).To(Equal(app.Generation))
		hasCondition(g, app, pylonv1alpha1.ConditionStalled, metav1.ConditionTrue, pylonv1alpha1.ReasonNotOwned)
	})
	v := judge(t, u)
	g := NewWithT(t)
	g.Expect(v.argo.Status).To(Equal(HealthDegraded))
	g.Expect(v.argo.Message).To(ContainSubstring("not managed by this WebApp"))
	g.Expect(v.kstatus.Status).To(Equal(kstatus.FailedStatus))
	g.Expect(v.kstatus.Message).To(Equal(v.argo.Message), "both tools show the Stalled message")
}

func TestProgressDeadlineExceededIsDegraded(t *testing.T) {
	ns := newNamespace(t)
	startController(t, ns)
	app := newWebApp(t, ns, "shop", 2)
	setDeploymentStatus(t, deploymentOf(t, ns, "shop"), deadlineExceeded)

	u := observed(t, client.ObjectKeyFromObject(app), func(g Gomega, app *pylonv1alpha1.WebApp) {
		g.Expect(app.Status.ObservedGeneration).To(Equal(app.Generation))
		hasCondition(g, app, pylonv1alpha1.ConditionStalled, metav1.ConditionTrue, pylonv1alpha1.ReasonProgressDeadlineExceeded)
	})
	v := judge(t, u)
	g := NewWithT(t)
	g.Expect(v.argo.Status).To(Equal(HealthDegraded))
	g.Expect(v.argo.Message).To(ContainSubstring("has timed out progressing"))
	g.Expect(v.kstatus.Status).To(Equal(kstatus.FailedStatus))
}

// Pods the API server refuses (a quota, an admission policy) are Degraded
// at once, with the refusal's words, not Progressing until the deadline.
func TestRefusedPodsAreDegraded(t *testing.T) {
	ns := newNamespace(t)
	startController(t, ns)
	app := newWebApp(t, ns, "shop", 2)
	setDeploymentStatus(t, deploymentOf(t, ns, "shop"), podsRefused)

	u := observed(t, client.ObjectKeyFromObject(app), func(g Gomega, app *pylonv1alpha1.WebApp) {
		g.Expect(app.Status.ObservedGeneration).To(Equal(app.Generation))
		hasCondition(g, app, pylonv1alpha1.ConditionStalled, metav1.ConditionTrue, pylonv1alpha1.ReasonPodsRefused)
	})
	v := judge(t, u)
	g := NewWithT(t)
	g.Expect(v.argo.Status).To(Equal(HealthDegraded))
	g.Expect(v.argo.Message).To(ContainSubstring("exceeded quota"))
	g.Expect(v.kstatus.Status).To(Equal(kstatus.FailedStatus))
}

// A spec change the controller has not yet acted on: the status still says
// Ready, about the previous generation. Neither tool may call that healthy.
func TestUnobservedGenerationIsNotHealthy(t *testing.T) {
	ns := newNamespace(t)
	stop := startController(t, ns)
	app := newWebApp(t, ns, "shop", 2)
	dep := deploymentOf(t, ns, "shop")
	setDeploymentStatus(t, dep, rolledOut)
	key := client.ObjectKeyFromObject(app)
	observed(t, key, func(g Gomega, app *pylonv1alpha1.WebApp) {
		hasCondition(g, app, pylonv1alpha1.ConditionReady, metav1.ConditionTrue, pylonv1alpha1.ReasonReady)
	})

	stop()
	g := newGomega(t)
	g.Eventually(func() error {
		if err := k8s.Get(ctx, key, app); err != nil {
			return err
		}
		app.Spec.Image = "registry.example.com/shop:2.0.0"
		return k8s.Update(ctx, app)
	}).Should(Succeed())

	u := observed(t, key, func(g Gomega, app *pylonv1alpha1.WebApp) {
		g.Expect(app.Status.ObservedGeneration).To(BeNumerically("<", app.Generation))
		g.Expect(meta.IsStatusConditionTrue(app.Status.Conditions, pylonv1alpha1.ConditionReady)).To(BeTrue(), "the stale Ready is still there")
	})
	v := judge(t, u)
	g.Expect(v.argo).To(Equal(Health{Status: HealthProgressing, Message: "Waiting for Pylon to observe generation 2"}))
	g.Expect(v.kstatus.Status).To(Equal(kstatus.InProgressStatus))

	// The controller comes back and applies the new image: the Deployment
	// has a new generation its controller has not observed yet.
	startController(t, ns)
	u = observed(t, key, func(g Gomega, app *pylonv1alpha1.WebApp) {
		g.Expect(app.Status.ObservedGeneration).To(Equal(app.Generation))
		hasCondition(g, app, pylonv1alpha1.ConditionReconciling, metav1.ConditionTrue, pylonv1alpha1.ReasonDeploymentOutdated)
	})
	v = judge(t, u)
	g.Expect(v.argo.Status).To(Equal(HealthProgressing))
	g.Expect(v.kstatus.Status).To(Equal(kstatus.InProgressStatus))

	// The new Pods are available: healthy again, at generation 2.
	setDeploymentStatus(t, dep, rolledOut)
	u = observed(t, key, func(g Gomega, app *pylonv1alpha1.WebApp) {
		g.Expect(app.Generation).To(BeEquivalentTo(2))
		g.Expect(app.Status.ObservedGeneration).To(Equal(app.Generation))
		hasCondition(g, app, pylonv1alpha1.ConditionReady, metav1.ConditionTrue, pylonv1alpha1.ReasonReady)
	})
	v = judge(t, u)
	g.Expect(v.argo.Status).To(Equal(HealthHealthy))
	g.Expect(v.kstatus.Status).To(Equal(kstatus.CurrentStatus))
}
