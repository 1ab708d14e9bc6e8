package localcluster

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/pylon-dev/pylon/test/echo"
)

// On a real control plane: a Pod whose image says never-ready serves but
// stays not Ready, while a Pod failing half its requests is Ready, because
// its probes are spared, and fails exactly every second request.
func TestNodeFaultKnobs(t *testing.T) {
	if clusterBinDir == "" {
		t.Skip("etcd, kube-apiserver or kube-controller-manager not built (make e2e-deps, or KUBEBUILDER_ASSETS)")
	}
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	g := NewWithT(t)
	ctx := context.Background()
	c, err := Start(ctx, Options{BinDir: clusterBinDir, Scheme: Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = c.Stop() })

	pod := func(name, image string, env ...corev1.EnvVar) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceDefault, Name: name},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "app", Image: image, Env: env,
				Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
					HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)},
				}},
			}}},
		}
	}
	failing := pod("failing", "example.test/echo:1.0", corev1.EnvVar{Name: echo.EnvFailPercent, Value: "50"})
	never := pod("never", "example.test/echo:never-ready")
	g.Expect(c.Client.Create(ctx, failing)).To(Succeed())
	g.Expect(c.Client.Create(ctx, never)).To(Succeed())

	g.Eventually(func(g Gomega) {
		g.Expect(c.Client.Get(ctx, client.ObjectKeyFromObject(failing), failing)).To(Succeed())
		g.Expect(isReady(failing)).To(BeTrue(), "probes are spared the failures")
	}).WithTimeout(30 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
	get := func(ip string) int {
		resp, err := http.Get("http://" + net.JoinHostPort(ip, "8080") + "/")
		g.Expect(err).NotTo(HaveOccurred())
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	g.Expect([]int{get(failing.Status.PodIP), get(failing.Status.PodIP)}).To(Equal([]int{http.StatusOK, http.StatusInternalServerError}))

	// The never-ready Pod runs and serves, and stays not Ready with the
	// node's reason.
	notReady := func(g Gomega) {
		g.Expect(c.Client.Get(ctx, client.ObjectKeyFromObject(never), never)).To(Succeed())
		g.Expect(never.Status.Phase).To(Equal(corev1.PodRunning))
		g.Expect(isReady(never)).To(BeFalse())
		g.Expect(readyCondition(never).Reason).To(Equal(ReasonNeverReady))
	}
	g.Eventually(notReady).WithTimeout(30 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
	g.Consistently(notReady).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
	g.Expect(get(never.Status.PodIP)).To(Equal(http.StatusOK), "a never-ready Pod still serves")
}
