package localcluster

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/pylon-dev/pylon/test/echo"
)

func podOf(image string, env ...corev1.EnvVar) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "shop-canary-abc"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image, Env: env}}},
	}
}

func TestHeldReadiness(t *testing.T) {
	g := NewWithT(t)
	g.Expect(heldReadiness(podOf("example.test/echo:1.0"))).To(BeNil(), "no knob: the probe decides")
	g.Expect(heldReadiness(podOf("example.test/echo:fail-30"))).To(BeNil(), "failures leave readiness alone")

	held := heldReadiness(podOf("example.test/echo:never-ready"))
	g.Expect(held).NotTo(BeNil())
	g.Expect(held.ready).To(BeFalse())
	g.Expect(held.reason).To(Equal(ReasonNeverReady))

	held = heldReadiness(podOf("example.test/echo:1.0", corev1.EnvVar{Name: echo.EnvNeverReady, Value: "true"}))
	g.Expect(held).NotTo(BeNil())
	g.Expect(held.reason).To(Equal(ReasonNeverReady))

	g.Expect(heldReadiness(podOf("example.test/echo:never-ready", corev1.EnvVar{Name: echo.EnvNeverReady, Value: "false"}))).
		To(BeNil(), "the env var wins over the tag")
	g.Expect(heldReadiness(podOf("example.test/echo:1.0", corev1.EnvVar{Name: echo.EnvNeverReady, ValueFrom: &corev1.EnvVarSource{}}))).
		To(BeNil(), "valueFrom is not resolved")

	held = heldReadiness(podOf("example.test/echo:1.0", corev1.EnvVar{Name: echo.EnvFailPercent, Value: "lots"}))
	g.Expect(held).NotTo(BeNil())
	g.Expect(held.reason).To(Equal(ReasonInvalidEchoFaults))
	g.Expect(held.message).To(And(ContainSubstring("container app"), ContainSubstring(echo.EnvFailPercent)))
}

// writeStatus puts the held reason on both readiness conditions and does
// not write again while nothing changes.
func TestWriteStatusNotReadyWithReason(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	scheme := runtime.NewScheme()
	g.Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	pod := podOf("example.test/echo:never-ready")
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(pod).WithStatusSubresource(&corev1.Pod{}).Build()
	n := &Node{Client: c}
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(pod), pod)).To(Succeed())

	held := heldReadiness(pod)
	g.Expect(held).NotTo(BeNil())
	g.Expect(n.writeStatus(ctx, pod, "10.244.0.7", *held)).To(Succeed())
	got := &corev1.Pod{}
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(pod), got)).To(Succeed())
	g.Expect(got.Status.Phase).To(Equal(corev1.PodRunning))
	g.Expect(got.Status.PodIP).To(Equal("10.244.0.7"))
	for _, typ := range []corev1.PodConditionType{corev1.PodReady, corev1.ContainersReady} {
		g.Expect(got.Status.Conditions).To(ContainElement(And(
			HaveField("Type", typ), HaveField("Status", corev1.ConditionFalse), HaveField("Reason", ReasonNeverReady))))
	}
	g.Expect(got.Status.ContainerStatuses).To(ConsistOf(HaveField("Ready", false)))

	version := got.ResourceVersion
	g.Expect(n.writeStatus(ctx, got, "10.244.0.7", *held)).To(Succeed())
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(pod), got)).To(Succeed())
	g.Expect(got.ResourceVersion).To(Equal(version), "an unchanged verdict is not written again")

	// A probe that fails, then passes, changes the reason, then readiness.
	g.Expect(n.writeStatus(ctx, got, "10.244.0.7", notReady(got))).To(Succeed())
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(pod), got)).To(Succeed())
	g.Expect(readyCondition(got).Reason).To(Equal(ReasonContainersNotReady))
	g.Expect(n.writeStatus(ctx, got, "10.244.0.7", isReadyNow)).To(Succeed())
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(pod), got)).To(Succeed())
	g.Expect(isReady(got)).To(BeTrue())
	g.Expect(readyCondition(got).Reason).To(BeEmpty())
}
