package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// chartDir is the Helm chart, relative to the repository root.
const chartDir = "charts/pylon"

// generateChart copies what the chart shares with config/ into it: the CRDs
// (crds/), the rules of every Role and ClusterRole (files/rbac/<name>.yaml,
// named without kustomize's "pylon-" prefix; the templates read them) and
// Argo CD's health check. The templates keep names, labels and bindings.
func generateChart(root, out, input string) error {
	crds, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	if err != nil {
		return err
	}
	if len(crds) == 0 {
		return fmt.Errorf("no CRDs in %s: run make manifests", filepath.Join(root, "config", "crd", "bases"))
	}
	for _, src := range crds {
		if err := copyFile(src, filepath.Join(out, chartDir, "crds", filepath.Base(src))); err != nil {
			return err
		}
	}
	if err := copyFile(filepath.Join(root, "config", "argocd", "webapp-health.lua"), filepath.Join(out, chartDir, "files", "webapp-health.lua")); err != nil {
		return err
	}
	if err := copyMonitoring(root, out); err != nil {
		return err
	}
	if input == "" {
		return fmt.Errorf("chart: --input (kustomize build hack/packaging/installer) is required")
	}
	objs, err := readObjects(input)
	if err != nil {
		return err
	}
	n := 0
	for _, o := range objs {
		if o.GetKind() != "Role" && o.GetKind() != "ClusterRole" {
			continue
		}
		rules, ok := o.Object["rules"]
		if !ok {
			return fmt.Errorf("%s %s has no rules", o.GetKind(), o.GetName())
		}
		name := strings.TrimPrefix(o.GetName(), "pylon-")
		header := fmt.Sprintf("# Rules of %s %s, copied from config/ by `make chart`: do not edit.\n", o.GetKind(), o.GetName())
		if err := writeYAML(filepath.Join(out, chartDir, "files", "rbac", name+".yaml"), header, map[string]any{"rules": rules}); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("no Roles or ClusterRoles in %s", input)
	}
	return nil
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("read %s: %w", src, err)
	}
	return writeFile(dst, b)
}
