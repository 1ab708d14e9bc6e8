package controller_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/applier"
)

var ctx = context.Background()

func TestCreateBuildsChildren(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	app := newWebApp(t, ns, "shop", func(a *pylonv1alpha1.WebApp) {
		a.Labels = map[string]string{"app.kubernetes.io/instance": "argo-app"}
		a.Annotations = map[string]string{"argocd.argoproj.io/tracking-id": "argo-app:pylon.dev/WebApp:" + ns + "/shop"}
		a.Spec.Port = 9090
		a.Spec.Replicas = ptr.To[int32](3)
		a.Spec.Env = []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "debug"}}
	})

	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	g.Eventually(func(g Gomega) { get(g, dep) }, timeout, poll).Should(Succeed())
	expectChildMeta(g, dep, app)
	c := dep.Spec.Template.Spec.Containers[0]
	g.Expect(c.Image).To(Equal("registry.example.com/shop:1.0.0"))
	g.Expect(c.Ports).To(ConsistOf(HaveField("Name", "http")))
	g.Expect(c.Ports[0].ContainerPort).To(BeEquivalentTo(9090))
	g.Expect(c.Env).To(ContainElement(corev1.EnvVar{Name: "LOG_LEVEL", Value: "debug"}))
	g.Expect(c.ReadinessProbe.TCPSocket.Port).To(Equal(intstr.FromString("http")))
	g.Expect(dep.Spec.Replicas).To(HaveValue(BeEquivalentTo(3)))
	g.Expect(dep.Spec.Strategy.RollingUpdate.MaxUnavailable).To(HaveValue(Equal(intstr.FromInt32(0))))
	g.Expect(dep.Spec.Selector.MatchLabels).To(Equal(map[string]string{"pylon.dev/webapp": "shop", "pylon.dev/track": "stable"}))
	g.Expect(managers(dep)).To(ContainElement("pylon/Apply"))

	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	g.Eventually(func(g Gomega) { get(g, svc) }, timeout, poll).Should(Succeed())
	expectChildMeta(g, svc, app)
	g.Expect(svc.Spec.Type).To(Equal(corev1.ServiceTypeClusterIP))
	g.Expect(svc.Spec.Ports).To(HaveLen(1))
	g.Expect(svc.Spec.Ports[0].Port).To(BeEquivalentTo(80))
	g.Expect(svc.Spec.Ports[0].TargetPort).To(Equal(intstr.FromString("http")))
	g.Expect(svc.Spec.Selector).To(Equal(dep.Spec.Selector.MatchLabels))

	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	g.Eventually(func(g Gomega) { get(g, pdb) }, timeout, poll).Should(Succeed())
	expectChildMeta(g, pdb, app)
	g.Expect(pdb.Spec.MaxUnavailable).To(HaveValue(Equal(intstr.FromInt32(1))))
	g.Expect(pdb.Spec.UnhealthyPodEvictionPolicy).To(HaveValue(Equal(policyv1.AlwaysAllow)))

	hpa := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	g.Consistently(func() bool { return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(hpa), hpa)) }, time.Second, poll).Should(BeTrue(), "no HPA without autoscaling")

	// Envtest runs no Deployment controller, so the Deployment has not observed
	// its generation: Available and Ready are Unknown, Reconciling is True.
	g.Eventually(func(g Gomega) {
		get(g, app)
		g.Expect(app.Status.ObservedGeneration).To(Equal(app.Generation))
		g.Expect(app.Status.URL).To(Equal("http://shop." + ns + ".svc.cluster.local/"))
		expectCondition(g, app, pylonv1alpha1.ConditionAvailable, metav1.ConditionUnknown, pylonv1alpha1.ReasonDeploymentOutdated)
		expectCondition(g, app, pylonv1alpha1.ConditionReady, metav1.ConditionUnknown, pylonv1alpha1.ReasonDeploymentOutdated)
		expectCondition(g, app, pylonv1alpha1.ConditionReconciling, metav1.ConditionTrue, pylonv1alpha1.ReasonDeploymentOutdated)
		g.Expect(meta.FindStatusCondition(app.Status.Conditions, pylonv1alpha1.ConditionStalled)).To(BeNil())
		for _, c := range app.Status.Conditions {
			g.Expect(c.ObservedGeneration).To(Equal(app.Generation), c.Type)
		}
	}, timeout, poll).Should(Succeed())
}

func TestAutoscalingCreatesHPAWithoutReplicas(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	app := newWebApp(t, ns, "api", func(a *pylonv1alpha1.WebApp) {
		a.Spec.Autoscaling = &pylonv1alpha1.AutoscalingSpec{MinReplicas: 2, MaxReplicas: 6, TargetCPUUtilizationPercentage: ptr.To[int32](65)}
	})
	hpa := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "api"}}
	g.Eventually(func(g Gomega) { get(g, hpa) }, timeout, poll).Should(Succeed())
	expectChildMeta(g, hpa, app)
	g.Expect(hpa.Spec.ScaleTargetRef).To(Equal(autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "api"}))
	g.Expect(hpa.Spec.MinReplicas).To(HaveValue(BeEquivalentTo(2)))
	g.Expect(hpa.Spec.MaxReplicas).To(BeEquivalentTo(6))
	g.Expect(hpa.Spec.Metrics).To(HaveLen(1))
	g.Expect(hpa.Spec.Metrics[0].Resource.Target.AverageUtilization).To(HaveValue(BeEquivalentTo(65)))

	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "api"}}
	get(g, dep)
	g.Expect(fieldsOwnedBy(t, dep, applier.FieldOwner)).NotTo(HaveKey("f:replicas"), "Pylon must not own spec.replicas while an HPA does")
}

func TestSpecChangeUpdatesChildren(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	app := newWebApp(t, ns, "shop", func(a *pylonv1alpha1.WebApp) { a.Spec.Replicas = ptr.To[int32](2) })
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	g.Eventually(func(g Gomega) { get(g, dep) }, timeout, poll).Should(Succeed())

	update(t, app, func(a *pylonv1alpha1.WebApp) {
		a.Spec.Image = "registry.example.com/shop:2.0.0"
		a.Spec.Port = 3000
		a.Spec.Replicas = ptr.To[int32](1)
		a.Spec.ReadinessProbe = &pylonv1alpha1.ProbeSpec{Path: "/ready"}
	})
	g.Eventually(func(g Gomega) {
		get(g, dep)
		c := dep.Spec.Template.Spec.Containers[0]
		g.Expect(c.Image).To(Equal("registry.example.com/shop:2.0.0"))
		g.Expect(c.Ports[0].ContainerPort).To(BeEquivalentTo(3000))
		g.Expect(c.ReadinessProbe.HTTPGet).NotTo(BeNil())
		g.Expect(c.ReadinessProbe.HTTPGet.Path).To(Equal("/ready"))
		g.Expect(c.ReadinessProbe.TCPSocket).To(BeNil(), "the TCP probe Pylon declared before is removed")
		g.Expect(dep.Spec.Replicas).To(HaveValue(BeEquivalentTo(1)))
	}, timeout, poll).Should(Succeed())

	// One replica: the default PDB is no longer wanted.
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, &policyv1.PodDisruptionBudget{}))
	}, timeout, poll).Should(BeTrue())
}

func TestDriftIsReverted(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	newWebApp(t, ns, "shop", nil)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	g.Eventually(func(g Gomega) { get(g, dep); get(g, svc) }, timeout, poll).Should(Succeed())

	// Someone edits the image and adds a label of their own; someone else
	// points the Service elsewhere.
	g.Eventually(func() error {
		get(g, dep)
		dep.Spec.Template.Spec.Containers[0].Image = "evil:latest"
		dep.Labels["team"] = "a"
		return k8s.Update(ctx, dep, client.FieldOwner("kubectl-edit"))
	}, timeout, poll).Should(Succeed())
	g.Eventually(func() error {
		get(g, svc)
		svc.Spec.Selector = map[string]string{"app": "other"}
		return k8s.Update(ctx, svc, client.FieldOwner("kubectl-edit"))
	}, timeout, poll).Should(Succeed())

	g.Eventually(func(g Gomega) {
		get(g, dep)
		g.Expect(dep.Spec.Template.Spec.Containers[0].Image).To(Equal("registry.example.com/shop:1.0.0"))
		get(g, svc)
		g.Expect(svc.Spec.Selector).To(Equal(map[string]string{"pylon.dev/webapp": "shop", "pylon.dev/track": "stable"}))
	}, timeout, poll).Should(Succeed())
	g.Expect(dep.Labels).To(HaveKeyWithValue("team", "a"), "fields Pylon does not declare are left to their owners")
}

func TestDeletedChildIsRecreated(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	newWebApp(t, ns, "shop", func(a *pylonv1alpha1.WebApp) { a.Spec.Replicas = ptr.To[int32](2) })
	for _, obj := range []client.Object{
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}},
		&policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}},
	} {
		g.Eventually(func(g Gomega) { get(g, obj) }, timeout, poll).Should(Succeed())
		oldUID := obj.GetUID()
		g.Expect(k8s.Delete(ctx, obj)).To(Succeed())
		g.Eventually(func(g Gomega) {
			get(g, obj)
			g.Expect(obj.GetUID()).NotTo(Equal(oldUID))
		}, timeout, poll).Should(Succeed(), "%T recreated", obj)
	}
}

func TestAutoscalingHandOffAndBack(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	app := newWebApp(t, ns, "shop", func(a *pylonv1alpha1.WebApp) { a.Spec.Replicas = ptr.To[int32](3) })
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	g.Eventually(func(g Gomega) {
		get(g, dep)
		g.Expect(dep.Spec.Replicas).To(HaveValue(BeEquivalentTo(3)))
	}, timeout, poll).Should(Succeed())

	// Autoscaling on: the HPA takes over, and the Deployment keeps its 3
	// Pods instead of dropping to the API default of 1 in between.
	update(t, app, func(a *pylonv1alpha1.WebApp) {
		a.Spec.Replicas = nil
		a.Spec.Autoscaling = &pylonv1alpha1.AutoscalingSpec{MinReplicas: 2, MaxReplicas: 8}
	})
	hpa := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	g.Eventually(func(g Gomega) { get(g, hpa) }, timeout, poll).Should(Succeed())
	get(g, dep)
	g.Expect(dep.Spec.Replicas).To(HaveValue(BeEquivalentTo(3)))
	g.Expect(fieldsOwnedBy(t, dep, applier.FieldOwner)).NotTo(HaveKey("f:replicas"))
	g.Expect(managers(dep)).To(ContainElement("pylon-replicas-handoff/Apply"))

	// The HPA scales the Deployment (as the HPA controller does, through the
	// scale subresource).
	g.Expect(scaleDeployment(ns, "shop", 6)).To(Succeed())
	g.Consistently(func(g Gomega) {
		get(g, dep)
		g.Expect(dep.Spec.Replicas).To(HaveValue(BeEquivalentTo(6)), "Pylon leaves the size to the HPA")
	}, time.Second, poll).Should(Succeed())

	// Autoscaling off: HPA deleted, the size is Pylon's again.
	update(t, app, func(a *pylonv1alpha1.WebApp) {
		a.Spec.Autoscaling = nil
		a.Spec.Replicas = ptr.To[int32](4)
	})
	g.Eventually(func(g Gomega) {
		g.Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(hpa), hpa))).To(BeTrue(), "HPA deleted")
		get(g, dep)
		g.Expect(dep.Spec.Replicas).To(HaveValue(BeEquivalentTo(4)))
	}, timeout, poll).Should(Succeed())
	g.Expect(fieldsOwnedBy(t, dep, applier.FieldOwner)).To(HaveKey("f:replicas"))
}

func TestUnownedDeploymentIsNotAdopted(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	foreign := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop", Labels: map[string]string{"app": "legacy"}},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "legacy"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "legacy"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "legacy", Image: "legacy:1"}}},
			},
		},
	}
	g.Expect(k8s.Create(ctx, foreign)).To(Succeed())
	app := newWebApp(t, ns, "shop", nil)

	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionReady, metav1.ConditionFalse, pylonv1alpha1.ReasonNotOwned)
		expectCondition(g, app, pylonv1alpha1.ConditionAvailable, metav1.ConditionFalse, pylonv1alpha1.ReasonNotOwned)
		expectCondition(g, app, pylonv1alpha1.ConditionStalled, metav1.ConditionTrue, pylonv1alpha1.ReasonNotOwned)
		g.Expect(meta.FindStatusCondition(app.Status.Conditions, pylonv1alpha1.ConditionReady).Message).To(ContainSubstring("Deployment " + ns + "/shop already exists and is not managed by this WebApp"))
		g.Expect(app.Status.ObservedGeneration).To(Equal(app.Generation), "a verdict that needs a person is a full observation (kstatus Failed)")
	}, timeout, poll).Should(Succeed())

	// The foreign Deployment is untouched; the rest of the app is created.
	get(g, foreign)
	g.Expect(foreign.OwnerReferences).To(BeEmpty())
	g.Expect(foreign.Spec.Template.Spec.Containers[0].Image).To(Equal("legacy:1"))
	g.Expect(managers(foreign)).NotTo(ContainElement(HavePrefix("pylon")))
	g.Eventually(func(g Gomega) { get(g, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}) }, timeout, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(warningReasons(g, ns, "shop")).To(ContainElement(pylonv1alpha1.ReasonNotOwned))
	}, timeout, poll).Should(Succeed())

	// Its owner removes it: Pylon takes over at once (it watches by name).
	g.Expect(k8s.Delete(ctx, foreign)).To(Succeed())
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	g.Eventually(func(g Gomega) {
		get(g, dep)
		g.Expect(metav1.IsControlledBy(dep, app)).To(BeTrue())
		get(g, app)
		g.Expect(meta.FindStatusCondition(app.Status.Conditions, pylonv1alpha1.ConditionStalled)).To(BeNil())
	}, timeout, poll).Should(Succeed())
}

func TestStatusFollowsDeploymentAtItsGeneration(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	app := newWebApp(t, ns, "shop", func(a *pylonv1alpha1.WebApp) { a.Spec.Replicas = ptr.To[int32](2) })
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	g.Eventually(func(g Gomega) { get(g, dep) }, timeout, poll).Should(Succeed())

	// Write the status the Deployment controller would write.
	setDeploymentStatus(g, dep, func(d *appsv1.Deployment) {
		d.Status = appsv1.DeploymentStatus{
			ObservedGeneration: d.Generation, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable", LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()}},
		}
	})
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionAvailable, metav1.ConditionTrue, pylonv1alpha1.ReasonAvailable)
		expectCondition(g, app, pylonv1alpha1.ConditionReady, metav1.ConditionTrue, pylonv1alpha1.ReasonReady)
		g.Expect(meta.FindStatusCondition(app.Status.Conditions, pylonv1alpha1.ConditionReconciling)).To(BeNil())
		g.Expect(app.Status.Replicas).To(BeEquivalentTo(2))
		g.Expect(app.Status.ReadyReplicas).To(BeEquivalentTo(2))
	}, timeout, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(normalReasons(g, ns, "shop")).To(ContainElement(pylonv1alpha1.ReasonReady))
	}, timeout, poll).Should(Succeed())

	// A new image: the Deployment's status is now about an older generation
	// and must not count, even though it still says Available.
	update(t, app, func(a *pylonv1alpha1.WebApp) { a.Spec.Image = "registry.example.com/shop:2.0.0" })
	g.Eventually(func(g Gomega) {
		get(g, app)
		g.Expect(app.Status.ObservedGeneration).To(Equal(app.Generation))
		expectCondition(g, app, pylonv1alpha1.ConditionAvailable, metav1.ConditionUnknown, pylonv1alpha1.ReasonDeploymentOutdated)
		expectCondition(g, app, pylonv1alpha1.ConditionReady, metav1.ConditionUnknown, pylonv1alpha1.ReasonDeploymentOutdated)
		expectCondition(g, app, pylonv1alpha1.ConditionReconciling, metav1.ConditionTrue, pylonv1alpha1.ReasonDeploymentOutdated)
	}, timeout, poll).Should(Succeed())

	// The rollout is under way: one new Pod of two.
	setDeploymentStatus(g, dep, func(d *appsv1.Deployment) {
		d.Status.ObservedGeneration = d.Generation
		d.Status.Replicas, d.Status.UpdatedReplicas = 3, 1
	})
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionAvailable, metav1.ConditionUnknown, pylonv1alpha1.ReasonRollingOut)
	}, timeout, poll).Should(Succeed())

	// The rollout stalls past its deadline: Stalled, for kstatus' Failed.
	setDeploymentStatus(g, dep, func(d *appsv1.Deployment) {
		d.Status.Conditions = append(d.Status.Conditions, appsv1.DeploymentCondition{
			Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded",
			Message: `ReplicaSet "shop-7d4" has timed out progressing.`, LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now(),
		})
	})
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionAvailable, metav1.ConditionFalse, pylonv1alpha1.ReasonProgressDeadlineExceeded)
		expectCondition(g, app, pylonv1alpha1.ConditionStalled, metav1.ConditionTrue, pylonv1alpha1.ReasonProgressDeadlineExceeded)
		g.Expect(meta.FindStatusCondition(app.Status.Conditions, pylonv1alpha1.ConditionReconciling)).To(BeNil(), "Stalled and Reconciling are not both True")
		g.Expect(meta.FindStatusCondition(app.Status.Conditions, pylonv1alpha1.ConditionReady).Message).To(ContainSubstring("timed out progressing"))
	}, timeout, poll).Should(Succeed())
}

func TestRejectedChildIsReportedAsStalled(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	// The CRD cannot know every rule of a Pod template: an environment
	// variable name with '=' passes the WebApp's schema and is refused by
	// the Deployment's validation. Retrying cannot help: Stalled, with the
	// generation observed, so Argo CD and kstatus report a failure.
	app := newWebApp(t, ns, "shop", func(a *pylonv1alpha1.WebApp) {
		a.Spec.Env = []corev1.EnvVar{{Name: "A=B", Value: "x"}}
	})
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionReady, metav1.ConditionFalse, pylonv1alpha1.ReasonChildRejected)
		g.Expect(meta.FindStatusCondition(app.Status.Conditions, pylonv1alpha1.ConditionReady).Message).To(ContainSubstring("env[0].name"))
		expectCondition(g, app, pylonv1alpha1.ConditionStalled, metav1.ConditionTrue, pylonv1alpha1.ReasonChildRejected)
		g.Expect(meta.FindStatusCondition(app.Status.Conditions, pylonv1alpha1.ConditionReconciling)).To(BeNil())
		g.Expect(app.Status.ObservedGeneration).To(Equal(app.Generation))
	}, timeout, poll).Should(Succeed())

	// Fixing the spec recovers without a restart.
	update(t, app, func(a *pylonv1alpha1.WebApp) { a.Spec.Env[0].Name = "A_B" })
	g.Eventually(func(g Gomega) {
		get(g, app)
		g.Expect(app.Status.ObservedGeneration).To(Equal(app.Generation))
		g.Expect(meta.FindStatusCondition(app.Status.Conditions, pylonv1alpha1.ConditionReady).Reason).NotTo(Equal(pylonv1alpha1.ReasonChildRejected))
		g.Expect(meta.FindStatusCondition(app.Status.Conditions, pylonv1alpha1.ConditionStalled)).To(BeNil())
	}, timeout, poll).Should(Succeed())
}

func TestSteadyStateMakesNoWrites(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	app := newWebApp(t, ns, "shop", func(a *pylonv1alpha1.WebApp) { a.Spec.Replicas = ptr.To[int32](2) })
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	g.Eventually(func(g Gomega) {
		get(g, app)
		g.Expect(app.Status.ObservedGeneration).To(Equal(app.Generation))
		get(g, dep)
		get(g, pdb)
	}, timeout, poll).Should(Succeed())

	// Changing a field Pylon does not own wakes the reconciler up; it must
	// find nothing to do and write nothing.
	g.Eventually(func() error {
		get(g, svc)
		svc.Labels["touched-by"] = "test"
		return k8s.Update(ctx, svc)
	}, timeout, poll).Should(Succeed())
	get(g, svc)
	versions := func(g Gomega) []string {
		get(g, app)
		get(g, dep)
		get(g, pdb)
		get(g, svc)
		return []string{app.ResourceVersion, dep.ResourceVersion, pdb.ResourceVersion, svc.ResourceVersion}
	}
	before := versions(g)
	g.Consistently(versions, 2*time.Second, 100*time.Millisecond).Should(Equal(before))
}

func TestPrinterColumns(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	app := newWebApp(t, ns, "shop", func(a *pylonv1alpha1.WebApp) {
		a.Spec.Hostname = "shop.apps.example.com"
		a.Spec.Exposure = &pylonv1alpha1.ExposureSpec{Class: "public"}
		a.Spec.Canary = &pylonv1alpha1.CanarySpec{Image: "registry.example.com/shop:2.0.0", Weight: 10}
	})
	g.Eventually(func(g Gomega) {
		get(g, app)
		g.Expect(app.Status.URL).NotTo(BeEmpty())
	}, timeout, poll).Should(Succeed())

	cs, err := kubernetes.NewForConfig(env.Config)
	g.Expect(err).NotTo(HaveOccurred())
	raw, err := cs.RESTClient().Get().AbsPath("/apis/pylon.dev/v1alpha1/namespaces", ns, "webapps").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	var table metav1.Table
	g.Expect(json.Unmarshal(raw, &table)).To(Succeed())
	cols := make([]string, 0, len(table.ColumnDefinitions))
	for _, c := range table.ColumnDefinitions {
		cols = append(cols, c.Name)
	}
	g.Expect(cols).To(Equal([]string{"Name", "Hostname", "Class", "Ready", "Replicas", "Canary", "Phase", "URL", "Age"}))
	g.Expect(table.Rows).To(HaveLen(1))
	cells := table.Rows[0].Cells
	// Class "public" does not exist in this test: not ready, and the
	// column says so.
	g.Expect(cells[0:4]).To(Equal([]any{"shop", "shop.apps.example.com", "public", "False"}))
	g.Expect(cells[4]).To(BeEquivalentTo(0))
	// Canary is the effective weight: 0 while no canary Pod is available,
	// though the spec declares 10.
	g.Expect(app.Status.Canary).NotTo(BeNil())
	g.Expect(cells[5]).To(BeEquivalentTo(0))
	g.Expect(cells[6]).To(Or(BeNil(), Equal("")), "no analysis, no phase")
	g.Expect(cells[7]).To(Equal(app.Status.URL))
}

// --- helpers ---

// expectChildMeta checks the labels and controller reference every child carries.
func expectChildMeta(g Gomega, obj client.Object, app *pylonv1alpha1.WebApp) {
	g.ExpectWithOffset(1, obj.GetLabels()).To(Equal(map[string]string{
		"app.kubernetes.io/name":       app.Name,
		"app.kubernetes.io/managed-by": "pylon",
		"pylon.dev/webapp":             app.Name,
	}), "labels of %T (never app.kubernetes.io/instance)", obj)
	g.ExpectWithOffset(1, obj.GetAnnotations()).NotTo(HaveKey("argocd.argoproj.io/tracking-id"))
	ref := metav1.GetControllerOf(obj)
	g.ExpectWithOffset(1, ref).NotTo(BeNil(), "%T has a controller reference", obj)
	g.ExpectWithOffset(1, ref.UID).To(Equal(app.UID))
	g.ExpectWithOffset(1, ref.Kind).To(Equal("WebApp"))
	g.ExpectWithOffset(1, ref.BlockOwnerDeletion).To(HaveValue(BeTrue()))
}

func expectCondition(g Gomega, app *pylonv1alpha1.WebApp, condType string, status metav1.ConditionStatus, reason string) {
	c := meta.FindStatusCondition(app.Status.Conditions, condType)
	g.ExpectWithOffset(1, c).NotTo(BeNil(), "condition %s in %+v", condType, app.Status.Conditions)
	g.ExpectWithOffset(1, c.Status).To(Equal(status), "status of %s: %s", condType, c.Message)
	g.ExpectWithOffset(1, c.Reason).To(Equal(reason), "reason of %s: %s", condType, c.Message)
	g.ExpectWithOffset(1, c.ObservedGeneration).To(Equal(app.Generation), "observedGeneration of %s", condType)
}

// update applies mutate to the latest app and writes it, retrying conflicts.
func update(t *testing.T, app *pylonv1alpha1.WebApp, mutate func(*pylonv1alpha1.WebApp)) {
	t.Helper()
	NewWithT(t).Eventually(func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(app), app); err != nil {
			return err
		}
		mutate(app)
		return k8s.Update(ctx, app)
	}, timeout, poll).Should(Succeed())
}

func setDeploymentStatus(g Gomega, dep *appsv1.Deployment, mutate func(*appsv1.Deployment)) {
	g.EventuallyWithOffset(1, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(dep), dep); err != nil {
			return err
		}
		mutate(dep)
		return k8s.Status().Update(ctx, dep)
	}, timeout, poll).Should(Succeed())
}

// managers lists "manager/operation" of every managedFields entry.
func managers(obj client.Object) []string {
	out := make([]string, 0, len(obj.GetManagedFields()))
	for _, f := range obj.GetManagedFields() {
		out = append(out, f.Manager+"/"+string(f.Operation))
	}
	return out
}

// fieldsOwnedBy returns the spec fields an Apply manager owns.
func fieldsOwnedBy(t *testing.T, obj client.Object, manager string) map[string]any {
	t.Helper()
	for _, f := range obj.GetManagedFields() {
		if f.Manager == manager && f.Operation == metav1.ManagedFieldsOperationApply {
			var m map[string]map[string]any
			if err := json.Unmarshal(f.FieldsV1.GetRawBytes(), &m); err != nil {
				t.Fatal(err)
			}
			return m["f:spec"]
		}
	}
	t.Fatalf("no Apply entry of %s in %v", manager, managers(obj))
	return nil
}

// scaleDeployment writes the scale subresource, as the HPA controller does.
func scaleDeployment(ns, name string, replicas int32) error {
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		return err
	}
	s, err := cs.AppsV1().Deployments(ns).GetScale(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	s.Spec.Replicas = replicas
	_, err = cs.AppsV1().Deployments(ns).UpdateScale(ctx, name, s, metav1.UpdateOptions{FieldManager: "horizontal-pod-autoscaler"})
	return err
}

func eventReasons(g Gomega, ns, name, eventType string) []string {
	list := &eventsv1.EventList{}
	g.ExpectWithOffset(2, k8s.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Kind == "WebApp" && e.Regarding.Name == name && e.Type == eventType {
			out = append(out, e.Reason)
		}
	}
	return out
}

func warningReasons(g Gomega, ns, name string) []string {
	return eventReasons(g, ns, name, corev1.EventTypeWarning)
}

func normalReasons(g Gomega, ns, name string) []string {
	return eventReasons(g, ns, name, corev1.EventTypeNormal)
}
