package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"sigs.k8s.io/yaml"
)

// monitoringDir holds the one source of Pylon's alerting rules and Grafana
// dashboard, relative to the repository root.
const monitoringDir = "config/components/monitoring"

// copyMonitoring copies the alerting rules (spec of the PrometheusRule, as
// a Prometheus rule file: groups) and the dashboard into the chart's
// files/monitoring/, which the chart's monitoring templates read. The rules
// keep their comments: the spec's lines are taken as they are, one indent
// level less, and checked to mean the same as the spec.
func copyMonitoring(root, out string) error {
	src := filepath.Join(root, monitoringDir, "prometheusrule.yaml")
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("read %s: %w", src, err)
	}
	var obj struct {
		Spec map[string]any `json:"spec"`
	}
	if err := yaml.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("parse %s: %w", src, err)
	}
	lines := strings.Split(string(b), "\n")
	start := -1
	for i, l := range lines {
		if l == "spec:" {
			start = i + 1
			break
		}
	}
	if start < 0 {
		return fmt.Errorf("%s has no top-level spec field", src)
	}
	var rules strings.Builder
	rules.WriteString("# Pylon's alerting rules, copied from " + monitoringDir + "/prometheusrule.yaml by `make chart`: do not edit.\n")
	rules.WriteString("# A Prometheus rule file as it is (rule_files), and the spec of the chart's PrometheusRule.\n")
	for _, l := range lines[start:] {
		if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "  ") {
			return fmt.Errorf("%s: spec must be the last top-level field (found %q after it)", src, l)
		}
		rules.WriteString(strings.TrimPrefix(l, "  ") + "\n")
	}
	text := strings.TrimRight(rules.String(), "\n") + "\n"
	var copied map[string]any
	if err := yaml.Unmarshal([]byte(text), &copied); err != nil {
		return fmt.Errorf("rules copied from %s do not parse: %w", src, err)
	}
	if !reflect.DeepEqual(copied, obj.Spec) {
		return fmt.Errorf("rules copied from %s differ from its spec", src)
	}
	if err := writeFile(filepath.Join(out, chartDir, "files", "monitoring", "rules.yaml"), []byte(text)); err != nil {
		return err
	}
	return copyFile(filepath.Join(root, monitoringDir, "dashboard.json"), filepath.Join(out, chartDir, "files", "monitoring", "dashboard.json"))
}
