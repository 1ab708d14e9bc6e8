package monitoring

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// root is the repository root (this package is test/monitoring).
func root(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func read(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkExpr parses a PromQL expression and checks that every series it
// selects is one Pylon exports, and every label it matches on is one that
// series has (or Prometheus adds when scraping).
func checkExpr(t *testing.T, names map[string]series, where, expr string) {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %q does not parse: %v", where, expr, err)
		return
	}
	selectors := 0
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		selectors++
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == "__name__" {
				name = m.Value
			}
		}
		s, ok := known(names, name)
		if !ok {
			t.Errorf("%s uses %s, which neither the manager nor the gateway exports (exported: %v)", where, name, sorted(names))
			return nil
		}
		for _, m := range vs.LabelMatchers {
			if m.Name != "__name__" && !s.labels[m.Name] {
				t.Errorf("%s matches label %s of %s, which has labels %v", where, m.Name, name, sorted(s.labels))
			}
		}
		return nil
	})
	if selectors == 0 {
		t.Errorf("%s: %q selects no series", where, expr)
	}
}

// checkRules parses a Prometheus rule file with Prometheus's own parser
// (the one Prometheus and the Prometheus Operator's admission webhook
// use; with the legacy, stricter, name validation that every Prometheus
// version accepts) and checks every alert: a known series, a severity, a summary.
func checkRules(t *testing.T, where string, b []byte) []rulefmt.Rule {
	t.Helper()
	groups, errs := rulefmt.Parse(b, false, model.LegacyValidation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Errorf("%s: %v", where, err)
	}
	if groups == nil {
		t.Fatalf("%s: no rule groups", where)
	}
	names := exported(t)
	var rules []rulefmt.Rule
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			rules = append(rules, r)
			at := where + " " + r.Alert
			checkExpr(t, names, at, r.Expr)
			if r.Alert == "" {
				t.Errorf("%s: a recording rule (%s): only alerts are expected", where, r.Record)
			}
			if !map[string]bool{"critical": true, "warning": true, "info": true}[r.Labels["severity"]] {
				t.Errorf("%s: severity %q", at, r.Labels["severity"])
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: summary and description are required", at)
			}
		}
	}
	return rules
}

// The rules, in both places they are shipped: the kustomize component's
// PrometheusRule (their source) and the chart's copy. The alerts the issue
// asks for are there.
func TestRulesParse(t *testing.T) {
	var obj struct {
		Spec yaml.Node `yaml:"spec"`
	}
	if err := yaml.Unmarshal(read(t, "config/components/monitoring/prometheusrule.yaml"), &obj); err != nil {
		t.Fatal(err)
	}
	spec, err := yaml.Marshal(&obj.Spec)
	if err != nil {
		t.Fatal(err)
	}
	source := checkRules(t, "config/components/monitoring/prometheusrule.yaml", spec)
	chart := checkRules(t, "charts/pylon/files/monitoring/rules.yaml", read(t, "charts/pylon/files/monitoring/rules.yaml"))
	if len(source) != len(chart) {
		t.Errorf("the chart has %d rules, the component %d: run make chart", len(chart), len(source))
	}
	alerts := map[string]string{}
	for _, r := range source {
		alerts[r.Alert] = r.Expr
	}
	for alert, series := range map[string]string{
		"PylonWebAppNotReady":          "pylon_webapp_condition",
		"PylonGatewayRouteErrors":      "pylon_gateway_requests_total",
		"PylonCertificateExpiring":     "pylon_gateway_certificate_expiry_timestamp_seconds",
		"PylonCertificateExpiringSoon": "pylon_gateway_certificate_expiry_timestamp_seconds",
		"PylonReconcileErrors":         "pylon_webapp_reconciles_total",
	} {
		if !strings.Contains(alerts[alert], series) {
			t.Errorf("alert %s missing or not on %s: %q", alert, series, alerts[alert])
		}
	}
}

// A rule file Prometheus would refuse fails the check: the parser is not
// a formality.
func TestRulesCheckCanFail(t *testing.T) {
	bad := []byte("groups:\n- name: x\n  rules:\n  - alert: Broken\n    expr: sum by (namespace (pylon_webapp_condition)\n")
	if _, errs := rulefmt.Parse(bad, false, model.LegacyValidation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler)); len(errs) == 0 {
		t.Fatal("a PromQL syntax error parsed")
	}
	names := exported(t)
	for _, name := range []string{"pylon_webapp_conditions", "pylon_gateway_requests_total_bucket", "pylon_gateway_table_generation_count"} {
		if _, ok := known(names, name); ok {
			t.Errorf("%s is taken as known", name)
		}
	}
	if s, _ := known(names, "pylon_gateway_requests_total"); s.labels["route"] || !s.labels["name"] {
		t.Errorf("pylon_gateway_requests_total labels %v: want name, not route", sorted(s.labels))
	}
}

// Grafana variables, replaced by what Grafana would put there, so that
// the queries parse as PromQL.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$namespace", ".*")

var labelValues = regexp.MustCompile(`^label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*[a-zA-Z_]+\)$`)

// Every query of the dashboard parses and uses series Pylon exports, in
// the source and in the chart's copy.
func TestDashboardQueries(t *testing.T) {
	names := exported(t)
	for _, rel := range []string{"config/components/monitoring/dashboard.json", "charts/pylon/files/monitoring/dashboard.json"} {
		var d struct {
			UID    string `json:"uid"`
			Panels []struct {
				Title   string `json:"title"`
				Type    string `json:"type"`
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
			Templating struct {
				List []struct {
					Name  string `json:"name"`
					Type  string `json:"type"`
					Query any    `json:"query"`
				} `json:"list"`
			} `json:"templating"`
		}
		if err := json.Unmarshal(read(t, rel), &d); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if d.UID == "" {
			t.Errorf("%s: no uid (Grafana would make a new dashboard on every load)", rel)
		}
		queries := 0
		for _, p := range d.Panels {
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", rel, p.Title)
			}
			for _, q := range p.Targets {
				queries++
				checkExpr(t, names, rel+" panel "+p.Title, grafanaVars.Replace(q.Expr))
			}
		}
		if queries < 10 {
			t.Errorf("%s: only %d queries", rel, queries)
		}
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			q, _ := v.Query.(map[string]any)
			text, _ := q["query"].(string)
			m := labelValues.FindStringSubmatch(text)
			if m == nil {
				t.Errorf("%s: variable %s queries %q, not label_values(series, label)", rel, v.Name, text)
				continue
			}
			if _, ok := known(names, m[1]); !ok {
				t.Errorf("%s: variable %s queries %q, not label_values of a series Pylon exports", rel, v.Name, text)
			}
		}
	}
}
