package e2e

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
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

// A platform policy stricter than restricted (here a ValidatingAdmission-
// Policy requiring a read-only root filesystem, the way docs/pods.md
// suggests) refuses a WebApp's Pods: the WebApp says so, with the policy's
// own message, in Available and Stalled instead of rolling out forever; and
// readOnlyRootFilesystem: true satisfies the policy, so the same WebApp
// then serves.
func TestRefusedPodsAreReported(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, "refused")
	label := "e2e.pylon.dev/read-only-root-" + ns
	nsObj := &corev1.Namespace{}
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Name: ns}, nsObj)).To(Succeed())
	nsObj.Labels[label] = "required"
	g.Expect(env.Client.Update(ctx, nsObj)).To(Succeed())

	const message = "the platform requires a read-only root filesystem (spec.securityContext.readOnlyRootFilesystem: true)"
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: ns},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
				},
			}}},
			Validations: []admissionregistrationv1.Validation{{
				Expression: "object.spec.containers.all(c, has(c.securityContext) && has(c.securityContext.readOnlyRootFilesystem) && c.securityContext.readOnlyRootFilesystem)",
				Message:    message,
			}},
		},
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: ns},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        ns,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
			MatchResources: &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{label: "required"},
			}},
		},
	}
	g.Expect(env.Client.Create(ctx, policy)).To(Succeed())
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), policy) })
	g.Expect(env.Client.Create(ctx, binding)).To(Succeed())
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), binding) })
	// The policy is in force before the WebApp exists: a restricted Pod
	// with a writable root is refused with the policy's message.
	probe := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "probe"},
		Spec:       restrictedPod(corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: stableImage}}}),
	}
	g.Eventually(func() error {
		return env.Client.Create(ctx, probe.DeepCopy(), client.DryRunAll)
	}).WithTimeout(30*time.Second).WithPolling(250*time.Millisecond).Should(MatchError(ContainSubstring(message)), "the policy never took effect")

	app := newWebApp(ns, "shop", "refused.e2e.test")
	g.Expect(env.Client.Create(ctx, app)).To(Succeed())
	refused := waitCondition(t, app, "Available", metav1.ConditionFalse, "PodsRefused")
	avail := condition(refused, "Available")
	g.Expect(avail.Message).To(ContainSubstring("Deployment shop cannot create Pods"))
	g.Expect(avail.Message).To(ContainSubstring(message), "the WebApp carries the policy's own words")
	waitCondition(t, app, "Stalled", metav1.ConditionTrue, "PodsRefused")

	updateApp(t, app, func(a *pylonv1alpha1.WebApp) {
		a.Spec.SecurityContext = &pylonv1alpha1.SecurityContext{ReadOnlyRootFilesystem: ptr.To(true)}
	})
	waitCondition(t, app, "Ready", metav1.ConditionTrue, "")
	waitServing(t, "http://refused.e2e.test/", ns)
}
