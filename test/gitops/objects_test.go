package gitops

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

var ctx = context.Background()

// newWebApp creates a WebApp of replicas Pods.
func newWebApp(t *testing.T, ns, name string, replicas int32) *pylonv1alpha1.WebApp {
	t.Helper()
	app := &pylonv1alpha1.WebApp{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: pylonv1alpha1.WebAppSpec{
			Image:    "registry.example.com/" + name + ":1.0.0",
			Replicas: ptr.To(replicas),
		},
	}
	if err := cluster(t).Create(ctx, app); err != nil {
		t.Fatalf("create WebApp: %v", err)
	}
	return app
}

// observed waits until the WebApp read from the API server satisfies check
// and returns that very object, unstructured, as a GitOps tool reads it: the
// verdicts are then taken on exactly the object the controller wrote.
func observed(t *testing.T, key client.ObjectKey, check func(g Gomega, app *pylonv1alpha1.WebApp)) *unstructured.Unstructured {
	t.Helper()
	var u *unstructured.Unstructured
	newGomega(t).Eventually(func(g Gomega) {
		u = &unstructured.Unstructured{}
		u.SetGroupVersionKind(pylonv1alpha1.GroupVersion.WithKind("WebApp"))
		g.Expect(k8s.Get(ctx, key, u)).To(Succeed())
		app := &pylonv1alpha1.WebApp{}
		g.Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, app)).To(Succeed())
		check(g, app)
	}).Should(Succeed())
	return u
}

// deploymentOf waits for the WebApp's Deployment.
func deploymentOf(t *testing.T, ns, name string) *appsv1.Deployment {
	t.Helper()
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	newGomega(t).Eventually(func() error { return k8s.Get(ctx, client.ObjectKeyFromObject(dep), dep) }).Should(Succeed())
	return dep
}

// setDeploymentStatus writes the Deployment's status, as only the Deployment
// controller (absent from envtest) would, at its current generation.
func setDeploymentStatus(t *testing.T, dep *appsv1.Deployment, mutate func(d *appsv1.Deployment)) {
	t.Helper()
	newGomega(t).Eventually(func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(dep), dep); err != nil {
			return err
		}
		mutate(dep)
		return k8s.Status().Update(ctx, dep)
	}).Should(Succeed())
}

// rolledOut is the status the Deployment controller writes once every Pod of
// the Deployment's latest generation is available.
func rolledOut(d *appsv1.Deployment) {
	n := ptr.Deref(d.Spec.Replicas, 1)
	now := metav1.Now()
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation,
		Replicas:           n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable", Message: "Deployment has minimum availability.", LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable", Message: `ReplicaSet "` + d.Name + `-6d4cf56db6" has successfully progressed.`, LastUpdateTime: now, LastTransitionTime: now},
		},
	}
}

// podsRefused is the status the Deployment controller writes when the API
// server refuses the new ReplicaSet's Pods (it copies the ReplicaSet's
// ReplicaFailure condition).
func podsRefused(d *appsv1.Deployment) {
	n := ptr.Deref(d.Spec.Replicas, 1)
	now := metav1.Now()
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation, UnavailableReplicas: n,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable", Message: "Deployment does not have minimum availability.", LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "ReplicaSetUpdated", Message: `ReplicaSet "` + d.Name + `-6d4cf56db6" is progressing.`, LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: `pods "` + d.Name + `-6d4cf56db6-x2v9q" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=10, limited: pods=10`, LastUpdateTime: now, LastTransitionTime: now},
		},
	}
}

// deadlineExceeded is the status the Deployment controller writes when no
// new Pod became available within progressDeadlineSeconds.
func deadlineExceeded(d *appsv1.Deployment) {
	n := ptr.Deref(d.Spec.Replicas, 1)
	now := metav1.Now()
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation,
		Replicas:           n, UpdatedReplicas: n, UnavailableReplicas: n,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable", Message: "Deployment does not have minimum availability.", LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "` + d.Name + `-6d4cf56db6" has timed out progressing.`, LastUpdateTime: now, LastTransitionTime: now},
		},
	}
}
