package packaging

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// The example Argo CD Applications install the chart with values it
// accepts, sync Pylon before WebApps, and need no ignoreDifferences.
func TestArgoCDSample(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "config", "samples", "argocd", "pylon.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	apps := byName(parse(t, b), "Application")
	g := NewWithT(t)
	g.Expect(apps).To(HaveKey("pylon"))
	g.Expect(apps).To(HaveKey("team-a-webapps"))
	g.Expect(wave(t, apps["pylon"])).To(BeNumerically("<", wave(t, apps["team-a-webapps"])), "Pylon syncs before WebApps")

	pylon := apps["pylon"]
	path, _, _ := unstructured.NestedString(pylon.Object, "spec", "source", "path")
	g.Expect(filepath.Join(root, path, "Chart.yaml")).To(BeAnExistingFile())
	_, found, _ := unstructured.NestedFieldNoCopy(pylon.Object, "spec", "ignoreDifferences")
	g.Expect(found).To(BeFalse(), "no ignoreDifferences needed (docs/install.md)")

	values, _, _ := unstructured.NestedMap(pylon.Object, "spec", "source", "helm", "valuesObject")
	vb, err := yaml.Marshal(values)
	g.Expect(err).NotTo(HaveOccurred())
	vf := filepath.Join(t.TempDir(), "values.yaml")
	g.Expect(os.WriteFile(vf, vb, 0o644)).To(Succeed())
	rendered := parse(t, helmTemplate(t, "-f", vf))
	g.Expect(byName(rendered, "ConfigMap")).To(HaveKey("pylon-argocd-health"))
	// Custom resources of the chart sync after the operator, as ordinary
	// resources (Argo CD would create a hook only once and never update it).
	for _, kind := range []string{"ExposureClass", "Gateway"} {
		for _, o := range ofKind(rendered, kind) {
			g.Expect(wave(t, o)).To(BeNumerically(">", 0), "%s syncs after the operator", ref(o))
			g.Expect(o.GetAnnotations()).NotTo(HaveKey("helm.sh/hook"), "%s: no Helm hook under Argo CD", ref(o))
		}
	}
}

func wave(t *testing.T, o *unstructured.Unstructured) int {
	t.Helper()
	w, err := strconv.Atoi(o.GetAnnotations()["argocd.argoproj.io/sync-wave"])
	if err != nil {
		t.Fatalf("%s: sync-wave: %v", ref(o), err)
	}
	return w
}
