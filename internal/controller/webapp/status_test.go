package webapp

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// deployment is a Deployment at its latest generation with the given
// desired and available replicas.
func deployment(name string, want *int32, available int32) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 2},
		Spec:       appsv1.DeploymentSpec{Replicas: want},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: 2, Replicas: available, UpdatedReplicas: available,
			ReadyReplicas: available, AvailableReplicas: available,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: "True"}},
		},
	}
	return d
}

func TestDeploymentAvailability(t *testing.T) {
	outdated := deployment("web", ptr.To[int32](2), 2)
	outdated.Status.ObservedGeneration = 1
	unavailable := deployment("web", ptr.To[int32](2), 0)
	unavailable.Status.Conditions[0].Status = "False"
	rolling := deployment("web", ptr.To[int32](3), 2)
	// A rollout whose new Pods are refused while the old ones still serve.
	refused := deployment("web", ptr.To[int32](3), 2)
	refused.Status.Conditions = append(refused.Status.Conditions, appsv1.DeploymentCondition{
		Type: appsv1.DeploymentReplicaFailure, Status: "True", Reason: "FailedCreate",
		Message: `pods "web-7d9f-x" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true`,
	})
	cleared := deployment("web", ptr.To[int32](2), 2)
	cleared.Status.Conditions = append(cleared.Status.Conditions, appsv1.DeploymentCondition{Type: appsv1.DeploymentReplicaFailure, Status: "False"})
	for _, tc := range []struct {
		name   string
		d      *appsv1.Deployment
		status metav1.ConditionStatus
		reason string
	}{
		{"missing", nil, metav1.ConditionUnknown, pylonv1alpha1.ReasonReconciling},
		{"outdated", outdated, metav1.ConditionUnknown, pylonv1alpha1.ReasonDeploymentOutdated},
		{"scaled to zero is not available", deployment("web", ptr.To[int32](0), 0), metav1.ConditionFalse, pylonv1alpha1.ReasonScaledToZero},
		{"unavailable", unavailable, metav1.ConditionFalse, pylonv1alpha1.ReasonUnavailable},
		{"rolling out", rolling, metav1.ConditionUnknown, pylonv1alpha1.ReasonRollingOut},
		{"Pods refused", refused, metav1.ConditionFalse, pylonv1alpha1.ReasonPodsRefused},
		{"a cleared refusal", cleared, metav1.ConditionTrue, pylonv1alpha1.ReasonAvailable},
		{"available", deployment("web", ptr.To[int32](2), 2), metav1.ConditionTrue, pylonv1alpha1.ReasonAvailable},
		{"default one replica", deployment("web", nil, 1), metav1.ConditionTrue, pylonv1alpha1.ReasonAvailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := deploymentAvailability(pylonv1alpha1.ConditionAvailable, "web", tc.d)
			if c.Status != tc.status || c.Reason != tc.reason {
				t.Fatalf("got %s/%s (%s), want %s/%s", c.Status, c.Reason, c.Message, tc.status, tc.reason)
			}
			if tc.reason == pylonv1alpha1.ReasonPodsRefused && !strings.Contains(c.Message, `violates PodSecurity "restricted:latest"`) {
				t.Errorf("the message does not carry the refusal: %s", c.Message)
			}
		})
	}
}

func TestComputeStatusReady(t *testing.T) {
	app := &pylonv1alpha1.WebApp{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "team", Generation: 3}}
	for _, tc := range []struct {
		name   string
		d      *appsv1.Deployment
		ready  metav1.ConditionStatus
		reason string
	}{
		{"serving", deployment("web", ptr.To[int32](1), 1), metav1.ConditionTrue, pylonv1alpha1.ReasonReady},
		{"replicas 0 is not ready", deployment("web", ptr.To[int32](0), 0), metav1.ConditionFalse, pylonv1alpha1.ReasonScaledToZero},
		{"no Deployment yet", nil, metav1.ConditionUnknown, pylonv1alpha1.ReasonReconciling},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := observation{live: map[string]client.Object{}}
			if tc.d != nil {
				obs.live[childID(deploymentGVK, "web")] = tc.d
			}
			st := computeStatus(app, obs, "cluster.local")
			ready := meta.FindStatusCondition(st.Conditions, pylonv1alpha1.ConditionReady)
			if ready == nil || ready.Status != tc.ready || ready.Reason != tc.reason {
				t.Fatalf("Ready = %+v, want %s/%s", ready, tc.ready, tc.reason)
			}
			if ready.ObservedGeneration != 3 {
				t.Fatalf("Ready observedGeneration %d, want 3", ready.ObservedGeneration)
			}
		})
	}
}

// A canary whose share waits for a ready endpoint leaves the app Ready
// (it serves) but Reconciling (not at the spec yet); served as declared,
// it is not reconciling.
func TestComputeStatusCanaryWaitingForEndpoints(t *testing.T) {
	app := &pylonv1alpha1.WebApp{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "team", Generation: 3},
		Spec: pylonv1alpha1.WebAppSpec{Image: "shop:1", Canary: &pylonv1alpha1.CanarySpec{Image: "shop:2", Weight: 10}}}
	for _, tc := range []struct {
		reason      string
		weight      int32
		reconciling bool
	}{
		{pylonv1alpha1.ReasonCanaryNoReadyEndpoints, 0, true},
		{pylonv1alpha1.ReasonWeightDeclared, 10, false},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			obs := observation{live: map[string]client.Object{
				childID(deploymentGVK, "web"):        deployment("web", ptr.To[int32](1), 1),
				childID(deploymentGVK, "web-canary"): deployment("web-canary", ptr.To[int32](1), 1),
			}}
			obs.canary.status = &pylonv1alpha1.CanaryStatus{Weight: tc.weight, WeightReason: tc.reason, WeightMessage: "the canary's Service lists no ready endpoint"}
			st := computeStatus(app, obs, "cluster.local")
			if !meta.IsStatusConditionTrue(st.Conditions, pylonv1alpha1.ConditionReady) {
				t.Fatalf("Ready = %+v, want True: the app serves", meta.FindStatusCondition(st.Conditions, pylonv1alpha1.ConditionReady))
			}
			rec := meta.FindStatusCondition(st.Conditions, pylonv1alpha1.ConditionReconciling)
			switch {
			case tc.reconciling && (rec == nil || rec.Status != metav1.ConditionTrue || rec.Reason != tc.reason || !strings.Contains(rec.Message, "no ready endpoint")):
				t.Fatalf("Reconciling = %+v, want True/%s with the weight message", rec, tc.reason)
			case !tc.reconciling && rec != nil && rec.Status == metav1.ConditionTrue:
				t.Fatalf("Reconciling = %+v, want none", rec)
			}
		})
	}
}

// status.canary.availableReplicas is the decision's count (Pods of
// status.canary.image), not the canary Deployment's, which also counts
// the previous image's Pods while a new one rolls out; replicas and
// readyReplicas are the Deployment's.
func TestComputeStatusCanaryCountsTheDecidedPods(t *testing.T) {
	app := &pylonv1alpha1.WebApp{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "team", Generation: 3},
		Spec: pylonv1alpha1.WebAppSpec{Image: "shop:1", Canary: &pylonv1alpha1.CanarySpec{Image: "shop:3", Weight: 10}}}
	obs := observation{live: map[string]client.Object{
		childID(deploymentGVK, "web"):        deployment("web", ptr.To[int32](1), 1),
		childID(deploymentGVK, "web-canary"): deployment("web-canary", ptr.To[int32](1), 1),
	}}
	obs.canary.status = &pylonv1alpha1.CanaryStatus{Image: "shop:3", WeightReason: pylonv1alpha1.ReasonCanaryNotAvailable}
	cs := computeStatus(app, obs, "cluster.local").Canary
	if cs == nil || cs.Image != "shop:3" || cs.AvailableReplicas != 0 || cs.Replicas != 1 || cs.ReadyReplicas != 1 {
		t.Fatalf("status.canary %+v, want image shop:3, 0 available (the Deployment's available Pod is not of it), 1 replica, 1 ready", cs)
	}
}
