package packaging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// The value files test/packaging renders the chart with, besides the defaults.
var valueSets = map[string][]string{
	"default":    nil,
	"custom":     {"-f", "test/packaging/testdata/values-custom.yaml"},
	"no-gateway": {"-f", "test/packaging/testdata/values-no-gateway.yaml"},
	"openshift":  {"-f", "test/packaging/testdata/values-openshift.yaml"},
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

// The knobs of values-openshift.yaml reach both Deployments; the fixed UID
// and GID are gone (restricted-v2 assigns them) and the rest of the
// security context stays.
func TestHelmKnobs(t *testing.T) {
	g := NewWithT(t)
	objs := parse(t, helmTemplate(t, valueSets["openshift"]...))
	deps := byName(objs, "Deployment")
	const digest = "sha256:4b3f0c8a3a2c1f9d6e5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170605"
	for name, flag := range map[string]string{"pylon-controller-manager": "--kube-api-qps=50", "pylon-gateway": "--idle-timeout=60s"} {
		var d appsv1.Deployment
		g.Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(deps[name].Object, &d)).To(Succeed(), name)
		pod := d.Spec.Template.Spec
		c := pod.Containers[0]
		g.Expect(c.Image).To(Equal("ghcr.io/pylon-dev/pylon@"+digest), "%s: image.digest pins the image", name)
		g.Expect(c.Args).To(ContainElement(flag), "%s: extraArgs", name)
		g.Expect(d.Spec.Template.Labels).To(HaveKeyWithValue("example.com/team", "platform"), "%s: podLabels", name)
		g.Expect(d.Spec.Selector.MatchLabels).NotTo(HaveKey("example.com/team"), "%s: podLabels stay out of the immutable selector", name)
		g.Expect(pod.PriorityClassName).To(Equal("platform-critical"), name)
		g.Expect(pod.SecurityContext.RunAsUser).To(BeNil(), "%s: runAsUser: null drops the fixed UID", name)
		g.Expect(pod.SecurityContext.RunAsGroup).To(BeNil(), name)
		g.Expect(pod.SecurityContext.RunAsNonRoot).To(HaveValue(BeTrue()), name)
		g.Expect(c.SecurityContext.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")), name)
	}
	var gw appsv1.Deployment
	g.Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(deps["pylon-gateway"].Object, &gw)).To(Succeed())
	g.Expect(gw.Spec.Template.Spec.TopologySpreadConstraints).To(ConsistOf(HaveField("TopologyKey", "topology.kubernetes.io/zone")), "topologySpreadConstraints replace the default spread")
	g.Expect(gw.Spec.Template.Spec.SecurityContext.Sysctls).To(HaveLen(1), "the gateway keeps its sysctl")
	g.Expect(byName(objs, "PodDisruptionBudget")).NotTo(HaveKey("pylon-gateway"), "no gateway PDB for one replica")

	// Defaults: tag from appVersion, fixed UID, default spread, gateway PDB
	// from two replicas (also when an HPA's minimum says two).
	def := parse(t, helmTemplate(t))
	var d appsv1.Deployment
	g.Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(byName(def, "Deployment")["pylon-gateway"].Object, &d)).To(Succeed())
	g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal("ghcr.io/pylon-dev/pylon:v0.1.0"))
	g.Expect(d.Spec.Template.Spec.SecurityContext.RunAsUser).To(HaveValue(BeEquivalentTo(65532)))
	g.Expect(d.Spec.Template.Spec.TopologySpreadConstraints).To(ConsistOf(HaveField("TopologyKey", "kubernetes.io/hostname")))
	g.Expect(byName(def, "PodDisruptionBudget")).To(HaveKey("pylon-gateway"))
	hpa1 := parse(t, helmTemplate(t, "--set", "gateway.hpa.enabled=true", "--set", "gateway.hpa.minReplicas=1"))
	g.Expect(byName(hpa1, "PodDisruptionBudget")).NotTo(HaveKey("pylon-gateway"), "an HPA that may scale to one replica: no PDB")

	// manager.enabled=false: only the gateway and what it needs.
	gwOnly := parse(t, helmTemplate(t, "--set", "manager.enabled=false"))
	g.Expect(keys(byName(gwOnly, "Deployment"))).To(ConsistOf("pylon-gateway"))
	g.Expect(byName(gwOnly, "ServiceAccount")).NotTo(HaveKey("pylon-controller-manager"))
	g.Expect(byName(gwOnly, "ClusterRole")).NotTo(HaveKey("pylon-manager-role"))
}

// CRDs are templates (helm upgrade updates them) behind crds.enabled, kept
// on uninstall with crds.keep, as in cert-manager's chart.
func TestHelmCRDs(t *testing.T) {
	g := NewWithT(t)
	crds := byName(parse(t, helmTemplate(t)), "CustomResourceDefinition")
	g.Expect(keys(crds)).To(ConsistOf("webapps.pylon.dev", "exposureclasses.pylon.dev", "hostnameclaims.pylon.dev"))
	for name, crd := range crds {
		g.Expect(crd.GetAnnotations()).To(HaveKeyWithValue("helm.sh/resource-policy", "keep"), name)
		g.Expect(crd.GetLabels()).To(HaveKeyWithValue("app.kubernetes.io/instance", "pylon"), name)
	}
	// Not --include-crds: the CRDs are templates, rendered without it.
	plain := parse(t, run(t, helm(t), "template", "pylon", "charts/pylon", "--namespace", "pylon-system"))
	g.Expect(ofKind(plain, "CustomResourceDefinition")).To(HaveLen(3))
	_, err := os.Stat(filepath.Join(repoRoot(t), "charts", "pylon", "crds"))
	g.Expect(os.IsNotExist(err)).To(BeTrue(), "charts/pylon/crds would be installed once and never upgraded")

	noKeep := byName(parse(t, helmTemplate(t, "--set", "crds.keep=false")), "CustomResourceDefinition")
	for name, crd := range noKeep {
		g.Expect(crd.GetAnnotations()).NotTo(HaveKey("helm.sh/resource-policy"), name)
	}
	g.Expect(ofKind(parse(t, helmTemplate(t, "--set", "crds.enabled=false")), "CustomResourceDefinition")).To(BeEmpty())

	// The ExposureClass is created after the CRDs (a hook: Helm maps every
	// kind of the release's manifest before it creates anything) and is
	// applied in place on upgrades, never deleted first.
	ec := byName(parse(t, helmTemplate(t)), "ExposureClass")["pylon"]
	g.Expect(ec.GetAnnotations()).To(HaveKeyWithValue("helm.sh/hook", "post-install,post-upgrade"))
	g.Expect(ec.GetAnnotations()).To(HaveKeyWithValue("helm.sh/hook-delete-policy", "hook-failed"))
}

// values.schema.json rejects values the templates cannot handle.
func TestHelmSchemaRejectsBadValues(t *testing.T) {
	for _, set := range []string{
		"gateway.service.type=Ingress",
		"exposureClass.dns.mode=Route53",
		"manager.replicas=-1",
		"gateway.unknownKey=1",
		"gateway.addressPool=everything",
		"image.digest=latest",
		"manager.extraArgs={leader-elect}",
		"crds.keep=yes",
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

// podLabels cannot move a Pod out of its Deployment's selector: a selector
// key with another value is refused with the key named; the same value is
// accepted (rendered once, not as a duplicate YAML key).
func TestHelmPodLabelsKeepTheSelector(t *testing.T) {
	for _, c := range []struct{ set, key string }{
		{"manager.podLabels.app\\.kubernetes\\.io/component=web", "app.kubernetes.io/component"},
		{"gateway.podLabels.app\\.kubernetes\\.io/instance=other", "app.kubernetes.io/instance"},
	} {
		_, stderr, err := runErr(t, helm(t), "template", "pylon", "charts/pylon", "--set", c.set)
		if err == nil {
			t.Errorf("helm template --set %s: succeeded, want a refusal", c.set)
			continue
		}
		if msg := string(stderr); !strings.Contains(msg, "podLabels") || !strings.Contains(msg, c.key) || !strings.Contains(msg, "selector") {
			t.Errorf("helm template --set %s: %s, want an error naming podLabels, %s and the selector", c.set, msg, c.key)
		}
	}
	g := NewWithT(t)
	// Equal values are accepted, also for a release named like a number
	// (its name stays a string in every label; no YAML number or float).
	for _, c := range []struct{ release, deployment string }{{"pylon", "pylon-gateway"}, {"1e3", "1e3-pylon-gateway"}} {
		out := run(t, helm(t), "template", c.release, "charts/pylon", "--namespace", "pylon-system",
			"--set", "gateway.podLabels.app\\.kubernetes\\.io/name=pylon-gateway", "--set-string", "gateway.podLabels.app\\.kubernetes\\.io/instance="+c.release,
			"--set", "gateway.podLabels.team=edge", "--set", "manager.podLabels.app\\.kubernetes\\.io/component=manager")
		objs := parse(t, out)
		var d appsv1.Deployment
		g.Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(byName(objs, "Deployment")[c.deployment].Object, &d)).To(Succeed(), c.release)
		g.Expect(d.Spec.Template.Labels).To(HaveKeyWithValue("team", "edge"))
		g.Expect(d.Spec.Selector.MatchLabels).To(HaveKeyWithValue("app.kubernetes.io/instance", c.release))
		for k, v := range d.Spec.Selector.MatchLabels {
			g.Expect(d.Spec.Template.Labels).To(HaveKeyWithValue(k, v), "%s: the Pods match their selector", c.release)
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

// gateway.hostNetwork renders a Deployment the API server accepts: a
// host-network Pod may not set sysctls, so the chart drops the unprivileged
// port sysctl and adds NET_BIND_SERVICE instead.
func TestHelmHostNetworkGateway(t *testing.T) {
	g := NewWithT(t)
	objs := parse(t, helmTemplate(t, "--set", "gateway.hostNetwork=true", "--set", "gateway.addressPool=10.0.100.0/28"))
	var gw appsv1.Deployment
	g.Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(byName(objs, "Deployment")["pylon-gateway"].Object, &gw)).To(Succeed())
	spec := gw.Spec.Template.Spec
	g.Expect(spec.HostNetwork).To(BeTrue())
	g.Expect(spec.SecurityContext).NotTo(BeNil())
	g.Expect(spec.SecurityContext.Sysctls).To(BeEmpty())
	g.Expect(spec.SecurityContext.RunAsNonRoot).To(HaveValue(BeTrue()))
	caps := spec.Containers[0].SecurityContext.Capabilities
	g.Expect(caps.Add).To(ConsistOf(corev1.Capability("NET_BIND_SERVICE")))
	g.Expect(caps.Drop).To(ConsistOf(corev1.Capability("ALL")))
	dryRunApply(t, objs)
}

// manager.logLevel and gateway.logLevel reach both binaries' --log-level
// (which takes warn too; test/install runs the installed flags).
func TestHelmLogLevels(t *testing.T) {
	g := NewWithT(t)
	deps := byName(parse(t, helmTemplate(t, "--set", "manager.logLevel=warn", "--set", "gateway.logLevel=debug")), "Deployment")
	for name, want := range map[string]string{"pylon-controller-manager": "--log-level=warn", "pylon-gateway": "--log-level=debug"} {
		var d appsv1.Deployment
		g.Expect(deps).To(HaveKey(name))
		g.Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(deps[name].Object, &d)).To(Succeed())
		g.Expect(d.Spec.Template.Spec.Containers[0].Args).To(ContainElement(want), name)
	}
}
