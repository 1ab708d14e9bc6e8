package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// chartDir is the Helm chart, relative to the repository root.
const chartDir = "charts/pylon"

// generateChart copies what the chart shares with config/ into it: the CRDs
// (templates/crd-<file>.yaml, behind crds.enabled, as cert-manager's chart
// has them, so that `helm upgrade` updates them), the rules of every Role
// and ClusterRole (files/rbac/<name>.yaml, named without kustomize's
// "pylon-" prefix; the templates read them) and Argo CD's health check. The
// templates keep names, labels and bindings.
func generateChart(root, out, input string) error {
	crds, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	if err != nil {
		return err
	}
	if len(crds) == 0 {
		return fmt.Errorf("no CRDs in %s: run make manifests", filepath.Join(root, "config", "crd", "bases"))
	}
	for _, src := range crds {
		tpl, err := crdTemplate(src)
		if err != nil {
			return err
		}
		if err := writeFile(filepath.Join(out, chartDir, "templates", "crd-"+filepath.Base(src)), tpl); err != nil {
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

// crdTemplate wraps a CRD from config/crd/bases into a chart template:
// rendered only with crds.enabled, kept on uninstall with crds.keep
// (helm.sh/resource-policy: keep), labelled like the chart's other objects.
// Everything but metadata is the CRD as controller-gen wrote it.
func crdTemplate(src string) ([]byte, error) {
	objs, err := readObjects(src)
	if err != nil {
		return nil, err
	}
	if len(objs) != 1 || objs[0].GetKind() != "CustomResourceDefinition" {
		return nil, fmt.Errorf("%s: want one CustomResourceDefinition", src)
	}
	crd := objs[0]
	body := map[string]any{}
	for k, v := range crd.Object {
		if k != "apiVersion" && k != "kind" && k != "metadata" && k != "status" {
			body[k] = v
		}
	}
	b, err := yaml.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", src, err)
	}
	// Text that looks like a template action is printed as it is.
	text := strings.ReplaceAll(string(b), "{{", "{{`{{`}}")
	var w strings.Builder
	fmt.Fprintf(&w, "{{- if .Values.crds.enabled }}\n")
	fmt.Fprintf(&w, "# %s, copied from config/crd/bases by `make chart`: do not edit.\n", crd.GetName())
	fmt.Fprintf(&w, "apiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n", crd.GetAPIVersion(), crd.GetKind(), crd.GetName())
	w.WriteString("  labels:\n    {{- include \"pylon.labels\" . | nindent 4 }}\n")
	w.WriteString("  annotations:\n")
	keys := make([]string, 0, len(crd.GetAnnotations()))
	for k := range crd.GetAnnotations() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&w, "    %s: %q\n", k, crd.GetAnnotations()[k])
	}
	w.WriteString("    {{- if .Values.crds.keep }}\n")
	w.WriteString("    # Uninstalling the release must not delete the CRD and with it every WebApp.\n")
	w.WriteString("    helm.sh/resource-policy: keep\n")
	w.WriteString("    {{- end }}\n")
	w.WriteString(text)
	w.WriteString("{{- end }}\n")
	return []byte(w.String()), nil
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("read %s: %w", src, err)
	}
	return writeFile(dst, b)
}
