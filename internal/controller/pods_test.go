package controller_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// podsRecheckWait covers the suite's 2 s re-read of the Pods of a
// Deployment that is not available (no event announces a container that
// starts failing; cmd/manager re-reads every 30 s), plus a margin.
const podsRecheckWait = timeout

// replicaSetOf creates the ReplicaSet the Deployment controller would
// (envtest runs none), controlled by dep.
func replicaSetOf(g Gomega, dep *appsv1.Deployment) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: dep.Namespace, Name: dep.Name + "-7d4", Labels: dep.Spec.Template.Labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(dep, appsv1.SchemeGroupVersion.WithKind("Deployment"))}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](1), Selector: dep.Spec.Selector, Template: dep.Spec.Template},
	}
	g.ExpectWithOffset(1, k8s.Create(context.Background(), rs)).To(Succeed())
	return rs
}

// failingPod creates a Pod with labels, controlled by owner when not nil,
// and gives it the status a kubelet gives a container it refuses to start
// (envtest has no kubelet).
func failingPod(g Gomega, ns, name string, labels map[string]string, owner *appsv1.ReplicaSet, reason, message string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/shop:1.0.0"}}},
	}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(owner, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}
	}
	g.ExpectWithOffset(1, k8s.Create(context.Background(), p)).To(Succeed())
	setPodWaiting(g, p, reason, message)
	return p
}

func setPodWaiting(g Gomega, p *corev1.Pod, reason, message string) {
	g.EventuallyWithOffset(1, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(p), p); err != nil {
			return err
		}
		p.Status.Phase = corev1.PodPending
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: p.Spec.Containers[0].Image,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}}}}
		return k8s.Status().Update(context.Background(), p)
	}, timeout, poll).Should(Succeed())
}

// TestFailingPodsAreReported: a WebApp whose Pods the kubelet will not
// start says why in Available (PodsFailing), from its own Pods only (those
// of its Deployment's ReplicaSets), and follows the Pods when they change
// without any Deployment event.
func TestFailingPodsAreReported(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	other := newNamespace(t)
	app := newWebApp(t, ns, "shop", nil)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	g.Eventually(func(g Gomega) { get(g, dep) }, timeout, poll).Should(Succeed())
	labels := dep.Spec.Template.Labels

	rs := replicaSetOf(g, dep)

	// None of these is this app's: another namespace's Pod with the same
	// labels, a Pod of this namespace the selector does not match, and one
	// that has the labels (and a name that sorts first) but no ReplicaSet
	// of the Deployment as its controller: whoever may create Pods here
	// must not write the WebApp's status.
	failingPod(g, other, "shop-elsewhere", labels, nil, "CreateContainerConfigError", "not this app (other namespace)")
	failingPod(g, ns, "unrelated", map[string]string{"app": "unrelated"}, nil, "CreateContainerConfigError", "not this app (other labels)")
	failingPod(g, ns, "0-impostor", labels, nil, "InvalidImageName", "not this app (no owner)")

	// The Deployment controller's view: one Pod created, none available.
	setDeploymentStatus(g, dep, func(d *appsv1.Deployment) {
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 1, UpdatedReplicas: 1, UnavailableReplicas: 1,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable",
				Message: "Deployment does not have minimum availability.", LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()}}}
	})
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionAvailable, metav1.ConditionFalse, pylonv1alpha1.ReasonUnavailable)
		g.Expect(condition(app, pylonv1alpha1.ConditionAvailable).Message).NotTo(ContainSubstring("not this app"))
	}, timeout, poll).Should(Succeed())

	// Its Pod appears, refused by the kubelet (an image that runs as
	// root); nothing about the Deployment changes, so only the re-read
	// can see it.
	refused := "container has runAsNonRoot and image will run as root (pod: \"shop-7d4-x2\", container: app)"
	p := failingPod(g, ns, "shop-7d4-x2", labels, rs, "CreateContainerConfigError", refused)
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionAvailable, metav1.ConditionFalse, pylonv1alpha1.ReasonPodsFailing)
		msg := condition(app, pylonv1alpha1.ConditionAvailable).Message
		g.Expect(msg).To(ContainSubstring("Pod shop-7d4-x2: container app cannot start: CreateContainerConfigError: " + refused))
		g.Expect(msg).NotTo(ContainSubstring("not this app"))
		g.Expect(condition(app, pylonv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
		// Not Stalled: a Secret about to be created or a node being
		// added cures it; the progress deadline decides when it stalled.
		g.Expect(meta.FindStatusCondition(app.Status.Conditions, pylonv1alpha1.ConditionStalled)).To(BeNil())
	}, podsRecheckWait, poll).Should(Succeed())

	// The image is pulled instead... and cannot be: the message follows,
	// and the kubelet's alternating pull reasons write no status.
	setPodWaiting(g, p, "ErrImagePull", "rpc error: code = NotFound desc = registry.example.com/shop:1.0.0: not found")
	g.Eventually(func(g Gomega) {
		get(g, app)
		g.Expect(condition(app, pylonv1alpha1.ConditionAvailable).Message).To(ContainSubstring(`container app cannot pull image "registry.example.com/shop:1.0.0"`))
	}, podsRecheckWait, poll).Should(Succeed())
	get(g, app)
	rv := app.ResourceVersion
	setPodWaiting(g, p, "ImagePullBackOff", `Back-off pulling image "registry.example.com/shop:1.0.0"`)
	// An event that changes nothing Pylon reports, so a reconcile runs now.
	setDeploymentStatus(g, dep, func(d *appsv1.Deployment) { d.Status.CollisionCount = ptr.To[int32](1) })
	g.Consistently(func(g Gomega) {
		get(g, app)
		g.Expect(app.ResourceVersion).To(Equal(rv), "the WebApp was written although nothing it says changed")
	}, 3*time.Second, poll).Should(Succeed())

	// The Pod starts and the Deployment is available: the reason goes.
	setDeploymentStatus(g, dep, func(d *appsv1.Deployment) {
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, CollisionCount: d.Status.CollisionCount,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable", LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()}}}
	})
	g.Eventually(func(g Gomega) {
		get(g, app)
		expectCondition(g, app, pylonv1alpha1.ConditionAvailable, metav1.ConditionTrue, pylonv1alpha1.ReasonAvailable)
		g.Expect(meta.FindStatusCondition(app.Status.Conditions, pylonv1alpha1.ConditionStalled)).To(BeNil())
	}, timeout, poll).Should(Succeed())
}
