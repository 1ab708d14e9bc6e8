package packaging

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pylon-dev/pylon/test/testenv"
)

// Tool pins; keep in step with the Makefile and hack/make/packaging.mk.
const (
	helmVersion      = "v4.3.1"
	opmVersion       = "v1.55.0"
	kustomizeVersion = "v5.8.2"
)

// repoRoot is the repository root; tests run commands from there.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatalf("repository root: %v", err)
	}
	return root
}

func helm(t *testing.T) string      { return tool(t, "helm", helmVersion) }
func opm(t *testing.T) string       { return tool(t, "opm", opmVersion) }
func kustomize(t *testing.T) string { return tool(t, "kustomize", kustomizeVersion) }

// run runs a command in the repository root and returns its stdout; on
// failure the test fails with stderr.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	out, errOut, err := runErr(t, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, errOut)
	}
	return out
}

func runErr(t *testing.T, name string, args ...string) (stdout, stderr []byte, err error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = repoRoot(t)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.Bytes(), e.Bytes(), err
}

// kustomizeBuild renders a kustomization directory relative to the root.
func kustomizeBuild(t *testing.T, dir string) []byte {
	t.Helper()
	return run(t, kustomize(t), "build", dir)
}

// helmTemplate renders the chart as release "pylon" in pylon-system, with
// CRDs, and extra arguments (--set, -f).
func helmTemplate(t *testing.T, args ...string) []byte {
	t.Helper()
	base := []string{"template", "pylon", "charts/pylon", "--namespace", "pylon-system", "--include-crds"}
	return run(t, helm(t), append(base, args...)...)
}

// tool is bin/<name>-<version> (testenv.Tool).
func tool(t *testing.T, name, version string) string {
	t.Helper()
	return testenv.Tool(t, name, version)
}
