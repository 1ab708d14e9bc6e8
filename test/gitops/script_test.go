package gitops

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/pylon-dev/pylon/test/testenv"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// The script is kept twice: as a file to read and test, and inside the
// argocd-cm patch users apply. They must not drift apart.
func TestConfigMapPatchHoldsTheScript(t *testing.T) {
	g := NewWithT(t)
	inPatch, err := ReadConfigMapPatchScript(repoRoot(t))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(inPatch).To(Equal(healthScript(t)), "%s must hold %s verbatim under %s", ConfigMapPatchFile, HealthScriptFile, HealthKey)
}

// The VM must really lack what Argo CD lacks, or the tests below would pass
// a script that fails in Argo CD.
func TestVMHasOnlyArgoCDLibraries(t *testing.T) {
	obj := map[string]any{"metadata": map[string]any{"name": "shop"}}
	for name, script := range map[string]string{
		"string library": `return {status = string.format("%s", "Healthy")}`,
		"string methods": `local s = "Healthy"; return {status = s:upper()}`,
		"os library":     `return {status = "Healthy", message = os.date()}`,
		"io library":     `io.write("x"); return {status = "Healthy"}`,
		"math library":   `return {status = "Healthy", message = tostring(math.floor(1.5))}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := EvalHealth(script, obj)
			NewWithT(t).Expect(err).To(HaveOccurred())
		})
	}
	t.Run("base, table and package", func(t *testing.T) {
		h, err := EvalHealth(`
			local parts = {}
			table.insert(parts, obj.metadata.name)
			table.insert(parts, tostring(#parts))
			local _ = package.loaded
			return {status = "Healthy", message = table.concat(parts, " ") .. " " .. 2}`, obj)
		g := NewWithT(t)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(h).To(Equal(Health{Status: HealthHealthy, Message: "shop 1 2"}))
	})
}

// A run that never touches some branch cannot prove that branch free of
// the string library; a plain look at the text can.
func TestScriptAvoidsMissingLibraries(t *testing.T) {
	for i, line := range strings.Split(healthScript(t), "\n") {
		code, _, _ := strings.Cut(line, "--")
		for _, lib := range []string{"string.", "os.", "io.", "math.", "utf8.", "debug.", "require"} {
			if strings.Contains(code, lib) {
				t.Errorf("line %d uses %q, which Argo CD does not offer health checks: %s", i+1, lib, line)
			}
		}
		if strings.Contains(code, ":") {
			t.Errorf("line %d calls a method; string methods need the string library: %s", i+1, line)
		}
	}
}
