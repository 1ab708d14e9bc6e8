package localcluster

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestServedPorts(t *testing.T) {
	g := NewWithT(t)
	g.Expect(servedPorts(corev1.Container{Ports: []corev1.ContainerPort{{ContainerPort: 8080}, {ContainerPort: 53, Protocol: corev1.ProtocolUDP}}})).To(Equal([]int32{8080}))
	g.Expect(servedPorts(corev1.Container{Env: []corev1.EnvVar{{Name: "HTTP_PORT", Value: "9000"}}})).To(Equal([]int32{9000}))
	g.Expect(servedPorts(corev1.Container{})).To(Equal([]int32{echoBasicPort}))
}

// The RBAC of config/rbac is bound to the ServiceAccount config/default
// makes of it, which the manager's client certificate names.
func TestDefaultKustomization(t *testing.T) {
	g := NewWithT(t)
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
		"metadata": map[string]any{"name": "manager-rolebinding"},
		"roleRef":  map[string]any{"kind": "ClusterRole", "name": "manager-role"},
		"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": "controller-manager", "namespace": "system"}},
	}}
	defaultKustomization(u)
	g.Expect(u.GetName()).To(Equal("pylon-manager-rolebinding"))
	g.Expect(u.GetNamespace()).To(BeEmpty())
	g.Expect(u.Object["roleRef"]).To(HaveKeyWithValue("name", "pylon-manager-role"))
	subject := u.Object["subjects"].([]any)[0].(map[string]any)
	g.Expect("system:serviceaccount:" + subject["namespace"].(string) + ":" + subject["name"].(string)).To(Equal(ManagerUser))
}
