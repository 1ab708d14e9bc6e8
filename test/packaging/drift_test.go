package packaging

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
)

// The chart renders the CRDs of config/crd/bases unchanged but for its
// labels and the keep annotation.
func TestChartCRDsMatchConfig(t *testing.T) {
	cfg := byName(parse(t, kustomizeBuild(t, "config/crd")), "CustomResourceDefinition")
	chart := byName(parse(t, helmTemplate(t)), "CustomResourceDefinition")
	g := NewWithT(t)
	g.Expect(keys(chart)).To(ConsistOf(keys(cfg)), "chart CRDs vs config/crd: run make chart")
	for name, want := range cfg {
		got, ok := chart[name]
		if !ok {
			continue
		}
		g.Expect(equality.Semantic.DeepEqual(got.Object["spec"], want.Object["spec"])).To(BeTrue(), "%s: chart spec differs from config/: run make chart", name)
		for k, v := range want.GetAnnotations() {
			g.Expect(got.GetAnnotations()).To(HaveKeyWithValue(k, v), name)
		}
	}
}

// Every Role and ClusterRole the chart renders (release "pylon", every
// option on) grants exactly what the one of the same name from config/
// grants, and the chart has no role config/ lacks or the reverse.
func TestChartRBACMatchesConfig(t *testing.T) {
	cfg := parse(t, kustomizeBuild(t, "hack/packaging/installer"))
	chart := parse(t, helmTemplate(t, valueSets["custom"]...))
	g := NewWithT(t)
	for _, kind := range []string{"Role", "ClusterRole"} {
		want, got := byName(cfg, kind), byName(chart, kind)
		g.Expect(keys(got)).To(ConsistOf(keys(want)), "%ss of the chart vs config/", kind)
		for name, w := range want {
			c, ok := got[name]
			if !ok {
				continue
			}
			var wr, cr rbacv1.ClusterRole
			g.Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(w.Object, &wr)).To(Succeed())
			g.Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(c.Object, &cr)).To(Succeed())
			g.Expect(equality.Semantic.DeepEqual(wr.Rules, cr.Rules)).To(BeTrue(), "%s %s: chart rules differ from config/: run make chart", kind, name)
			for k, v := range wr.Labels {
				if k != "app.kubernetes.io/managed-by" && k != "app.kubernetes.io/name" && k != "app.kubernetes.io/part-of" {
					g.Expect(cr.Labels).To(HaveKeyWithValue(k, v), "%s %s: aggregation label", kind, name)
				}
			}
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// The generators, run now, write exactly the committed chart files,
// bundle, catalog and rendered chart: `make packaging` would change nothing.
func TestGeneratedPackagesAreCurrent(t *testing.T) {
	root := repoRoot(t)
	tmp := t.TempDir()
	installer := filepath.Join(tmp, "installer.yaml")
	def := filepath.Join(tmp, "default.yaml")
	writeTemp(t, installer, kustomizeBuild(t, "hack/packaging/installer"))
	writeTemp(t, def, kustomizeBuild(t, "config/default"))
	out := filepath.Join(tmp, "out")
	gen := func(args ...string) {
		run(t, "go", append([]string{"run", "./hack/packaging"}, append(args, "--root", root, "--out", out)...)...)
	}
	// Defaults of hack/make/packaging.mk.
	gen("chart", "--input", installer)
	gen("bundle", "--input", def, "--version", "0.1.0", "--channel", "candidate-v0", "--image", "ghcr.io/pylon-dev/pylon:v0.1.0", "--created-at", "2026-12-01T00:00:00Z")
	gen("catalog", "--bundle-image", "ghcr.io/pylon-dev/pylon-bundle:v0.1.0", "--channel", "candidate-v0")
	compareTree(t, out, root, "bundle", "catalog", "charts/pylon/templates", "charts/pylon/files")
	compareFile(t, filepath.Join(out, "bundle.Dockerfile"), filepath.Join(root, "bundle.Dockerfile"))
	compareFile(t, filepath.Join(out, "catalog-template.yaml"), filepath.Join(root, "catalog-template.yaml"))
	// The committed bundle has nothing the generator no longer writes.
	compareTree(t, root, out, "bundle", "catalog", "charts/pylon/files")
	committedCRDs, _ := filepath.Glob(filepath.Join(root, "charts", "pylon", "templates", "crd-*.yaml"))
	generatedCRDs, _ := filepath.Glob(filepath.Join(out, "charts", "pylon", "templates", "crd-*.yaml"))
	if len(committedCRDs) != len(generatedCRDs) {
		t.Errorf("charts/pylon/templates has %d CRD templates, make chart writes %d: run make chart", len(committedCRDs), len(generatedCRDs))
	}

	rendered, err := os.ReadFile(filepath.Join(root, "dist", "chart.yaml"))
	if err != nil {
		t.Fatalf("dist/chart.yaml: %v (run make helm-template)", err)
	}
	if !bytes.Equal(rendered, helmTemplate(t)) {
		t.Errorf("dist/chart.yaml is stale: run `make helm-template` and commit it")
	}
}

func writeTemp(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// compareTree checks every file under each dir of from exists, equal, under to.
func compareTree(t *testing.T, from, to string, dirs ...string) {
	t.Helper()
	for _, dir := range dirs {
		err := filepath.WalkDir(filepath.Join(from, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(from, path)
			compareFile(t, path, filepath.Join(to, rel))
			return nil
		})
		if err != nil {
			t.Errorf("walk %s: %v", dir, err)
		}
	}
}

func compareFile(t *testing.T, a, b string) {
	t.Helper()
	x, errA := os.ReadFile(a)
	y, errB := os.ReadFile(b)
	if errA != nil || errB != nil || !bytes.Equal(x, y) {
		t.Errorf("%s and %s differ (or one is missing): run `make packaging` and commit", a, b)
	}
}
