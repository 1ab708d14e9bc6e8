package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
)

// The optional component config/default/network-policy, enabled as its
// comment says, adds one NetworkPolicy that a real API server accepts.
func TestNetworkPolicyComponent(t *testing.T) {
	tmp := t.TempDir()
	cfg := filepath.Join(tmp, "config")
	if out, err := exec.Command("cp", "-r", filepath.Join(repoRoot(t), "config"), cfg).CombinedOutput(); err != nil {
		t.Fatalf("copy config/: %v\n%s", err, out)
	}
	k := filepath.Join(cfg, "default", "kustomization.yaml")
	b, err := os.ReadFile(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(k, append(b, "components:\n- network-policy\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	with := parse(t, run(t, kustomize(t), "build", filepath.Join(cfg, "default")))
	without := parse(t, kustomizeBuild(t, "config/default"))
	g := NewWithT(t)
	g.Expect(with).To(HaveLen(len(without) + 1))
	g.Expect(byName(with, "NetworkPolicy")).To(HaveKey("pylon-allow-metrics-traffic"))
	dryRunApply(t, ofKind(with, "NetworkPolicy"))
}
