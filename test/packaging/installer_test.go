package packaging

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
)

// dist/install.yaml is what `kubectl apply --server-side -f` users install:
// every object must be accepted by a real API server.
func TestInstallerDryRun(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "dist", "install.yaml"))
	if err != nil {
		t.Fatalf("dist/install.yaml: %v (run make build-installer)", err)
	}
	objs := parse(t, b)
	g := NewWithT(t)
	// What the issue promises the installer holds.
	for kind, n := range map[string]int{
		"CustomResourceDefinition": 3, "Namespace": 1, "Deployment": 2,
		"GatewayClass": 1, "IngressClass": 1, "Gateway": 1, "ExposureClass": 1, "PodDisruptionBudget": 1,
	} {
		g.Expect(ofKind(objs, kind)).To(HaveLen(n), "%s objects in dist/install.yaml", kind)
	}
	dryRunApply(t, objs)
}

// The committed installer is what `make build-installer` writes now.
func TestInstallerIsCurrent(t *testing.T) {
	want := kustomizeBuild(t, "hack/packaging/installer")
	got, err := os.ReadFile(filepath.Join(repoRoot(t), "dist", "install.yaml"))
	if err != nil {
		t.Fatalf("dist/install.yaml: %v (run make build-installer)", err)
	}
	if string(got) != string(want) {
		t.Fatalf("dist/install.yaml is stale: run `make build-installer` and commit it")
	}
}

// config/default must keep building on its own (`make deploy`).
func TestConfigDefaultBuilds(t *testing.T) {
	objs := parse(t, kustomizeBuild(t, "config/default"))
	NewWithT(t).Expect(ofKind(objs, "Deployment")).To(HaveLen(1))
}
