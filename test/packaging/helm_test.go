package packaging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// The value files test/packaging renders the chart with, besides the defaults.
var valueSets = map[string][]string{
	"default":    nil,
	"custom":     {"-f", "test/packaging/testdata/values-custom.yaml"},
	"no-gateway": {"-f", "test/packaging/testdata/values-no-gateway.yaml"},
}

func TestHelmLint(t *testing.T) {
	for name, args := range valueSets {
		t.Run(name, func(t *testing.T) {
			run(t, helm(t), append([]string{"lint", "--strict", "charts/pylon"}, args...)...)
		})
	}
}

// Every rendering is accepted by a real API server.
func TestHelmTemplateDryRun(t *testing.T) {
	for name, args := range valueSets {
		t.Run(name, func(t *testing.T) {
			dryRunApply(t, parse(t, helmTemplate(t, args...)))
		})
	}
}

// The non-default values reach the manifests.
func TestHelmValuesApply(t *testing.T) {
	g := NewWithT(t)
	custom := parse(t, helmTemplate(t, valueSets["custom"]...))
	deps := byName(custom, "Deployment")
	var gw appsv1.Deployment
	g.Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(deps["pylon-gateway"].Object, &gw)).To(Succeed())
	g.Expect(gw.Spec.Replicas).To(BeNil(), "with an HPA the Deployment must not set replicas")
	g.Expect(gw.Spec.Template.Spec.Containers[0].Image).To(Equal("registry.example.com/mirror/pylon:v0.1.0-rc.1"))
	g.Expect(gw.Spec.Template.Spec.Containers[0].Args).To(ContainElement("--gateway-address-pool=10.0.100.0/28"))
	g.Expect(byName(custom, "HorizontalPodAutoscaler")).To(HaveKey("pylon-gateway"))
	g.Expect(byName(custom, "NetworkPolicy")).To(HaveLen(2))
	g.Expect(byName(custom, "GatewayClass")).To(HaveKey("pylon-edge"))
	svc := byName(custom, "Service")["pylon-gateway"]
	g.Expect(svc.Object["spec"]).To(HaveKeyWithValue("type", "NodePort"))
	cm := byName(custom, "ConfigMap")["pylon-argocd-health"]
	g.Expect(cm).NotTo(BeNil(), "argocd.healthCheck.enabled renders the health check")
	g.Expect(cm.GetNamespace()).To(Equal("argocd"))
	lua, err := os.ReadFile(filepath.Join(repoRoot(t), "config", "argocd", "webapp-health.lua"))
	g.Expect(err).NotTo(HaveOccurred())
	data, _ := cm.Object["data"].(map[string]any)
	g.Expect(strings.TrimSpace(data["resource.customizations.health.pylon.dev_WebApp"].(string))).To(Equal(strings.TrimSpace(string(lua))))
	ec := byName(custom, "ExposureClass")["public"]
	g.Expect(ec.Object["spec"]).To(HaveKeyWithValue("allowedDomains", ConsistOf("*.apps.example.com")))
	g.Expect(ec.Object["spec"]).To(HaveKeyWithValue("tls", HaveKeyWithValue("allowedIssuers", ConsistOf(map[string]any{"kind": "Issuer", "name": "team-ca"}))))

	none := parse(t, helmTemplate(t, valueSets["no-gateway"]...))
	g.Expect(byName(none, "Deployment")).To(HaveLen(1), "gateway.enabled=false leaves only the manager")
	g.Expect(ofKind(none, "GatewayClass")).To(BeEmpty())
	g.Expect(ofKind(none, "PodDisruptionBudget")).To(BeEmpty(), "no PDB for a single manager replica")
	g.Expect(byName(none, "ExposureClass")["nginx"].Object["spec"]).To(HaveKeyWithValue("ingressClassName", "nginx"))
}

// values.schema.json rejects values the templates cannot handle.
func TestHelmSchemaRejectsBadValues(t *testing.T) {
	for _, set := range []string{
		"gateway.service.type=Ingress",
		"exposureClass.dns.mode=Route53",
		"manager.replicas=-1",
		"gateway.unknownKey=1",
		"gateway.addressPool=everything",
	} {
		_, stderr, err := runErr(t, helm(t), "template", "pylon", "charts/pylon", "--set", set)
		if err == nil {
			t.Errorf("helm template --set %s: succeeded, want a schema error", set)
			continue
		}
		if !strings.Contains(string(stderr), "schema") {
			t.Errorf("helm template --set %s: %s, want a schema error", set, stderr)
		}
	}
}

// NOTES.txt tells what to do next.
func TestHelmNotes(t *testing.T) {
	// `helm template` does not render NOTES.txt; a client-side dry-run install does.
	notes := string(run(t, helm(t), "install", "pylon", "charts/pylon", "--namespace", "pylon-system", "--dry-run=client"))
	g := NewWithT(t)
	g.Expect(notes).To(ContainSubstring("pod-security.kubernetes.io/enforce=restricted"))
	g.Expect(notes).To(ContainSubstring("Gateway API"))
	g.Expect(notes).To(ContainSubstring("kubectl -n demo get webapps"))
	g.Expect(notes).To(ContainSubstring("docs/install.md"))
}
