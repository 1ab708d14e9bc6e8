package localcluster

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// StopEtcd makes the API server unable to write; StartEtcd brings etcd back
// on the same data directory and ports: what was written before is still
// there and kube-apiserver writes again without a restart.
func TestEtcdStopStartKeepsData(t *testing.T) {
	c := startCluster(t)
	g := NewWithT(t)
	ctx := context.Background()

	cfg := rest.CopyConfig(c.Admin)
	cfg.Timeout = 2 * time.Second
	cl, err := client.New(cfg, client.Options{Scheme: c.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	cm := func(name string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceDefault, Name: name}, Data: map[string]string{"k": name}}
	}
	g.Expect(cl.Create(ctx, cm("before"))).To(Succeed())

	g.Expect(c.StopEtcd()).To(Succeed())
	g.Expect(c.Etcd.Running()).To(BeFalse())
	g.Expect(cl.Create(ctx, cm("during"))).NotTo(Succeed(), "a write succeeded with etcd stopped")

	g.Expect(c.StartEtcd(ctx)).To(Succeed())
	g.Expect(c.APIServer.Running()).To(BeTrue())
	g.Eventually(func() error { return cl.Create(ctx, cm("after")) }).WithTimeout(time.Minute).WithPolling(200 * time.Millisecond).Should(Succeed())
	got := &corev1.ConfigMap{}
	g.Expect(cl.Get(ctx, client.ObjectKey{Namespace: metav1.NamespaceDefault, Name: "before"}, got)).To(Succeed())
	g.Expect(got.Data).To(Equal(map[string]string{"k": "before"}))
}
