package monitoring

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"sigs.k8s.io/yaml"
)

// Tool pins; keep in step with the Makefile and hack/make/packaging.mk,
// which build them (make test does, before this module's tests).
const (
	helmBin      = "bin/helm-v4.3.1"
	kustomizeBin = "bin/kustomize-v5.8.2"
)

// object is one rendered object: its kind, namespace, name and JSON.
type object struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	raw []byte
}

func tool(t *testing.T, rel string, args ...string) []byte {
	t.Helper()
	path := filepath.Join(root(t), rel)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is not built: run `make helm kustomize`: %v", rel, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = root(t)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", rel, strings.Join(args, " "), err, errOut.String())
	}
	return out.Bytes()
}

func objects(t *testing.T, manifests ...[]byte) []object {
	t.Helper()
	var out []object
	for _, m := range manifests {
		for _, doc := range strings.Split(string(m), "\n---") {
			j, err := yaml.YAMLToJSON([]byte(doc))
			if err != nil {
				t.Fatalf("%v\n%s", err, doc)
			}
			if string(j) == "null" || string(j) == "{}" {
				continue
			}
			var o object
			if err := json.Unmarshal(j, &o); err != nil {
				t.Fatal(err)
			}
			o.raw = j
			out = append(out, o)
		}
	}
	return out
}

// strict decodes o into v, refusing fields v's type does not have: what
// the Prometheus Operator's CRD schema would prune or reject.
func strict(t *testing.T, o object, v any) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(o.raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Errorf("%s %s/%s is not a valid %s: %v", o.Kind, o.Metadata.Namespace, o.Metadata.Name, o.Kind, err)
	}
}

// checkKit checks the monitoring objects of one install path: each
// ServiceMonitor is valid for the Prometheus Operator's API, keeps the
// series' own labels (honorLabels) and selects a Service of the same
// install that has the port it scrapes; the PrometheusRule holds exactly
// the rules of the rule file (which TestRulesParse checks); the dashboard
// ConfigMap holds the dashboard and Grafana's sidecar label.
func checkKit(t *testing.T, objs []object, wantMonitors int) map[string]monitoringv1.ServiceMonitor {
	t.Helper()
	monitors := map[string]monitoringv1.ServiceMonitor{}
	rules, dashboards := 0, 0
	for _, o := range objs {
		switch o.Kind {
		case "ServiceMonitor":
			var sm monitoringv1.ServiceMonitor
			strict(t, o, &sm)
			monitors[sm.Name] = sm
			if len(sm.Spec.Endpoints) == 0 {
				t.Errorf("ServiceMonitor %s has no endpoints", sm.Name)
			}
			for _, ep := range sm.Spec.Endpoints {
				if !ep.HonorLabels {
					t.Errorf("ServiceMonitor %s port %s: honorLabels is off, so namespace and name would become exported_namespace and exported_name", sm.Name, ep.Port)
				}
				if n := scrapedServices(objs, o.Metadata.Namespace, sm.Spec.Selector.MatchLabels, ep.Port); len(n) != 1 {
					t.Errorf("ServiceMonitor %s port %s selects the Services %v with that port, want exactly one", sm.Name, ep.Port, n)
				}
			}
		case "PrometheusRule":
			rules++
			var pr monitoringv1.PrometheusRule
			strict(t, o, &pr)
			var want, got any
			if err := yaml.Unmarshal(read(t, "charts/pylon/files/monitoring/rules.yaml"), &want); err != nil {
				t.Fatal(err)
			}
			spec, _ := json.Marshal(pr.Spec)
			if err := json.Unmarshal(spec, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("PrometheusRule %s differs from charts/pylon/files/monitoring/rules.yaml (run make chart)", pr.Name)
			}
		case "ConfigMap":
			var cm struct {
				Data map[string]string `json:"data"`
			}
			if err := json.Unmarshal(o.raw, &cm); err != nil {
				t.Fatal(err)
			}
			d, ok := cm.Data["pylon.json"]
			if !ok {
				continue
			}
			dashboards++
			if strings.TrimRight(d, "\n") != strings.TrimRight(string(read(t, "config/components/monitoring/dashboard.json")), "\n") {
				t.Errorf("ConfigMap %s does not hold config/components/monitoring/dashboard.json", o.Metadata.Name)
			}
			if o.Metadata.Labels["grafana_dashboard"] != "1" {
				t.Errorf("ConfigMap %s lacks the label grafana_dashboard: \"1\": %v", o.Metadata.Name, o.Metadata.Labels)
			}
		}
	}
	if len(monitors) != wantMonitors || rules != 1 || dashboards != 1 {
		t.Errorf("%d ServiceMonitors, %d PrometheusRules, %d dashboards; want %d, 1, 1", len(monitors), rules, dashboards, wantMonitors)
	}
	return monitors
}

// scrapedServices names the Services in namespace whose labels match
// selector and which have a port called port.
func scrapedServices(objs []object, namespace string, selector map[string]string, port string) []string {
	var out []string
	for _, o := range objs {
		if o.Kind != "Service" || o.Metadata.Namespace != namespace {
			continue
		}
		match := len(selector) > 0
		for k, v := range selector {
			match = match && o.Metadata.Labels[k] == v
		}
		var svc struct {
			Spec struct {
				Ports []struct {
					Name string `json:"name"`
				} `json:"ports"`
			} `json:"spec"`
		}
		_ = json.Unmarshal(o.raw, &svc)
		for _, p := range svc.Spec.Ports {
			if match && p.Name == port {
				out = append(out, o.Metadata.Name)
			}
		}
	}
	return out
}

func helmTemplate(t *testing.T, set ...string) []object {
	t.Helper()
	args := []string{"template", "pylon", "charts/pylon", "--namespace", "pylon-system"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	return objects(t, tool(t, helmBin, args...))
}

// The chart with monitoring on, in both metrics modes of the manager.
func TestChartMonitoring(t *testing.T) {
	for _, kind := range []string{"ServiceMonitor", "PrometheusRule"} {
		for _, o := range helmTemplate(t) {
			if o.Kind == kind {
				t.Errorf("the chart's defaults render %s %s: monitoring must be opt-in (the CRDs may be absent)", kind, o.Metadata.Name)
			}
		}
	}
	on := []string{"monitoring.serviceMonitor.enabled=true", "monitoring.prometheusRule.enabled=true", "monitoring.dashboard.enabled=true",
		"monitoring.serviceMonitor.labels.release=prometheus", "monitoring.serviceMonitor.interval=30s"}
	monitors := checkKit(t, helmTemplate(t, on...), 2)
	mgr := monitors["pylon-controller-manager"]
	if len(mgr.Spec.Endpoints) != 1 || mgr.Spec.Endpoints[0].Port != "https" || mgr.Labels["release"] != "prometheus" || mgr.Spec.Endpoints[0].Interval != "30s" {
		t.Errorf("manager ServiceMonitor: %+v", mgr)
	} else if ep := mgr.Spec.Endpoints[0]; ep.Scheme == nil || ep.Scheme.String() != "https" || ep.BearerTokenFile == "" || ep.TLSConfig == nil { //nolint:staticcheck // the manager's monitor uses the deprecated bearerTokenFile on purpose: the ServiceAccount token (docs/observability.md)
		t.Errorf("the manager's secure metrics need HTTPS and a token: %+v", ep)
	}
	plain := checkKit(t, helmTemplate(t, append(on, "manager.metrics.secure=false")...), 2)["pylon-controller-manager"]
	if ep := plain.Spec.Endpoints[0]; ep.Port != "http" || ep.Scheme != nil || ep.BearerTokenFile != "" { //nolint:staticcheck // as above
		t.Errorf("plain HTTP metrics: %+v", ep)
	}
	if gw := monitors["pylon-gateway"]; len(gw.Spec.Endpoints) != 1 || gw.Spec.Endpoints[0].Port != "admin" {
		t.Errorf("gateway ServiceMonitor: %+v", gw)
	}
	// Without the gateway, no monitor for it.
	checkKit(t, helmTemplate(t, append(on, "gateway.enabled=false", "exposureClass.create=false")...), 1)
}

// config/default with the component enabled as its comment says, plus
// config/gateway (where the gateway's metrics Service is).
func TestKustomizeMonitoringComponent(t *testing.T) {
	tmp := t.TempDir()
	if out, err := exec.Command("cp", "-r", filepath.Join(root(t), "config"), tmp).CombinedOutput(); err != nil {
		t.Fatalf("copy config/: %v\n%s", err, out)
	}
	k := filepath.Join(tmp, "config", "default", "kustomization.yaml")
	b, err := os.ReadFile(k)
	if err != nil {
		t.Fatal(err)
	}
	enabled := strings.Replace(strings.Replace(string(b), "#components:", "components:", 1), "#- ../components/monitoring", "- ../components/monitoring", 1)
	if enabled == string(b) || !strings.Contains(enabled, "\n- ../components/monitoring") {
		t.Fatalf("config/default/kustomization.yaml no longer has the commented component lines this test enables")
	}
	if err := os.WriteFile(k, []byte(enabled), 0o644); err != nil {
		t.Fatal(err)
	}
	objs := objects(t, tool(t, kustomizeBin, "build", filepath.Join(tmp, "config", "default")), tool(t, kustomizeBin, "build", "config/gateway"))
	monitors := checkKit(t, objs, 2)
	for name, port := range map[string]string{"pylon-controller-manager-metrics": "https", "pylon-gateway-metrics": "admin"} {
		if sm, ok := monitors[name]; !ok || sm.Namespace != "pylon-system" || sm.Spec.Endpoints[0].Port != port {
			t.Errorf("ServiceMonitor %s: %+v", name, sm)
		}
	}
}
