package e2e

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// The e2e namespaces really enforce the restricted Pod Security Standard
// (the API server's PodSecurity admission refuses a bare Pod, and admits
// the same Pod with a restricted context), and WebApps get Pods that pass
// it and serve: with the defaults, with a fixed UID/GID, an fsGroup and a
// read-only root, and with a canary.
func TestRestrictedNamespaceRunsWebAppPods(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, "pss")

	bare := func(name string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "app", Image: stableImage, Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
			}}},
		}
	}
	err := env.Client.Create(ctx, bare("bare"))
	g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "a Pod without a restricted security context must be refused, got %v", err)
	for _, want := range []string{`violates PodSecurity "restricted:latest"`, "allowPrivilegeEscalation != false", "unrestricted capabilities", "runAsNonRoot != true", "seccompProfile"} {
		g.Expect(err.Error()).To(ContainSubstring(want))
	}
	// The control: the same Pod with the restricted context is admitted,
	// so the refusal was about the context.
	ok := bare("restricted")
	ok.Spec = restrictedPod(ok.Spec)
	g.Expect(env.Client.Create(ctx, ok)).To(Succeed())
	g.Expect(env.Client.Delete(ctx, ok)).To(Succeed())

	_, _ = servingApp(t, ns, "plain", "pss-plain.e2e.test", nil)
	_, _ = servingApp(t, ns, "custom", "pss-custom.e2e.test", func(a *pylonv1alpha1.WebApp) {
		a.Spec.SecurityContext = &pylonv1alpha1.SecurityContext{
			RunAsUser: ptr.To[int64](10001), RunAsGroup: ptr.To[int64](10001), FSGroup: ptr.To[int64](2000), ReadOnlyRootFilesystem: ptr.To(true),
		}
		a.Spec.Shutdown = &pylonv1alpha1.ShutdownSpec{PreStopSleepSeconds: ptr.To[int32](2), TerminationGracePeriodSeconds: ptr.To[int64](10)}
	})
	canary, canaryURL := servingApp(t, ns, "canaried", "pss-canary.e2e.test", func(a *pylonv1alpha1.WebApp) {
		a.Spec.Canary = &pylonv1alpha1.CanarySpec{Image: canaryImage, Weight: 50}
	})
	waitCondition(t, canary, "CanaryAvailable", metav1.ConditionTrue, "")
	g.Eventually(func(g Gomega) {
		counts := split(g, canaryURL, 40, nil)
		g.Expect(counts[stableImage]).To(BeNumerically(">", 0))
		g.Expect(counts[canaryImage]).To(BeNumerically(">", 0))
	}).WithTimeout(30*time.Second).Should(Succeed(), "both tracks' Pods run and answer")

	// The Pods that serve carry what the WebApps asked for.
	pods := func(app, track string) []corev1.Pod {
		list := &corev1.PodList{}
		g.Expect(env.Client.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{"pylon.dev/webapp": app, "pylon.dev/track": track})).To(Succeed())
		var running []corev1.Pod
		for _, p := range list.Items {
			if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
				running = append(running, p)
			}
		}
		g.Expect(running).NotTo(BeEmpty(), "running %s Pods of %s", track, app)
		return running
	}
	for _, c := range []struct{ app, track string }{{"plain", "stable"}, {"custom", "stable"}, {"canaried", "stable"}, {"canaried", "canary"}} {
		for _, p := range pods(c.app, c.track) {
			psc, ctr := p.Spec.SecurityContext, p.Spec.Containers[0]
			g.Expect(psc).NotTo(BeNil())
			g.Expect(psc.RunAsNonRoot).To(Equal(ptr.To(true)), p.Name)
			g.Expect(psc.SeccompProfile).To(Equal(&corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}), p.Name)
			g.Expect(ctr.SecurityContext.AllowPrivilegeEscalation).To(Equal(ptr.To(false)), p.Name)
			g.Expect(ctr.SecurityContext.Capabilities.Drop).To(Equal([]corev1.Capability{"ALL"}), p.Name)
			g.Expect(ctr.Lifecycle.PreStop.Sleep).NotTo(BeNil(), p.Name)
			if c.app != "custom" {
				// The documented defaults (docs/pods.md).
				g.Expect(ctr.Lifecycle.PreStop.Sleep.Seconds).To(BeEquivalentTo(5), p.Name)
				g.Expect(p.Spec.TerminationGracePeriodSeconds).To(Equal(ptr.To[int64](30)), p.Name)
				g.Expect(ctr.SecurityContext.ReadOnlyRootFilesystem).To(BeNil(), p.Name)
				continue
			}
			g.Expect(psc.RunAsUser).To(Equal(ptr.To[int64](10001)), p.Name)
			g.Expect(psc.RunAsGroup).To(Equal(ptr.To[int64](10001)), p.Name)
			g.Expect(psc.FSGroup).To(Equal(ptr.To[int64](2000)), p.Name)
			g.Expect(ctr.SecurityContext.ReadOnlyRootFilesystem).To(Equal(ptr.To(true)), p.Name)
			g.Expect(ctr.VolumeMounts).To(ContainElement(HaveField("MountPath", "/tmp")), p.Name)
			g.Expect(ctr.Lifecycle.PreStop.Sleep.Seconds).To(BeEquivalentTo(2), p.Name)
			g.Expect(p.Spec.TerminationGracePeriodSeconds).To(Equal(ptr.To[int64](10)), p.Name)
		}
	}
}
