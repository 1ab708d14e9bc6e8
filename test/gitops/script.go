package gitops

import (
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

const (
	// HealthScriptFile is the Argo CD health check, relative to the repository root.
	HealthScriptFile = "config/argocd/webapp-health.lua"
	// ConfigMapPatchFile patches argocd-cm with the health check.
	ConfigMapPatchFile = "config/argocd/argocd-cm-patch.yaml"
	// HealthKey is where argocd-cm expects a custom health check for the
	// pylon.dev group's WebApp kind: resource.customizations.health.<group>_<kind>.
	HealthKey = "resource.customizations.health.pylon.dev_WebApp"
)

// ReadHealthScript reads the Lua health check from the repository at root.
func ReadHealthScript(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, HealthScriptFile))
	if err != nil {
		return "", fmt.Errorf("read health check: %w", err)
	}
	return string(b), nil
}

// ReadConfigMapPatchScript returns the health check held by the argocd-cm
// patch in the repository at root.
func ReadConfigMapPatchScript(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, ConfigMapPatchFile))
	if err != nil {
		return "", fmt.Errorf("read argocd-cm patch: %w", err)
	}
	var cm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
		Data map[string]string `json:"data"`
	}
	if err := yaml.UnmarshalStrict(b, &cm); err != nil {
		return "", fmt.Errorf("parse %s: %w", ConfigMapPatchFile, err)
	}
	if cm.APIVersion != "v1" || cm.Kind != "ConfigMap" || cm.Metadata.Name != "argocd-cm" {
		return "", fmt.Errorf("%s patches %s %s/%s, want v1 ConfigMap argocd-cm", ConfigMapPatchFile, cm.APIVersion, cm.Kind, cm.Metadata.Name)
	}
	script, ok := cm.Data[HealthKey]
	if !ok {
		return "", fmt.Errorf("%s has no data key %s", ConfigMapPatchFile, HealthKey)
	}
	return script, nil
}
