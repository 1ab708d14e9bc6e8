package monitoring

import (
	"maps"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pylon-dev/pylon/internal/buildinfo"
	ctrlmonitoring "github.com/pylon-dev/pylon/internal/controller/monitoring"
	"github.com/pylon-dev/pylon/internal/gateway/proxy"
)

// recorder is a Registerer that keeps what is registered with it.
type recorder struct{ collectors []prometheus.Collector }

func (r *recorder) Register(c prometheus.Collector) error {
	r.collectors = append(r.collectors, c)
	return nil
}

func (r *recorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = r.Register(c)
	}
}

func (r *recorder) Unregister(prometheus.Collector) bool { return false }

var (
	fqName     = regexp.MustCompile(`^Desc\{fqName: "([^"]+)"`)
	labelLists = regexp.MustCompile(`constLabels: \{(.*)\}, variableLabels: \{(.*)\}\}$`)
	constLabel = regexp.MustCompile(`(?:^|,)([a-zA-Z_][a-zA-Z0-9_]*)="`)
)

// series is what a query may rely on about one exported series.
type series struct {
	// histogram: name_bucket (with le), name_sum and name_count exist.
	histogram bool
	labels    map[string]bool
}

// targetLabels are the labels Prometheus adds to every scraped series
// (job, instance) and those the Prometheus Operator's ServiceMonitors add.
var targetLabels = []string{"job", "instance", "pod", "container", "service", "endpoint", "namespace"}

// exported are the series Pylon's code exports, learnt from the collectors
// the manager and the gateway register (not from a list kept by hand),
// with their labels.
func exported(t *testing.T) map[string]series {
	t.Helper()
	rec := &recorder{}
	metrics := proxy.NewMetrics(rec)
	rec.MustRegister(proxy.New(proxy.Options{Metrics: metrics}).CertificateCollector())
	rec.MustRegister(buildinfo.Get("", "").Collector())
	if _, err := ctrlmonitoring.Register(rec, nil, nil); err != nil {
		t.Fatal(err)
	}
	out := map[string]series{}
	for _, c := range rec.collectors {
		_, histogram := c.(*prometheus.HistogramVec)
		if _, ok := c.(prometheus.Histogram); ok {
			histogram = true
		}
		ch := make(chan *prometheus.Desc, 16)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			m, l := fqName.FindStringSubmatch(d.String()), labelLists.FindStringSubmatch(d.String())
			if m == nil || l == nil {
				t.Fatalf("cannot read the name and labels of %s", d)
			}
			labels := map[string]bool{}
			for _, c := range constLabel.FindAllStringSubmatch(l[1], -1) {
				labels[c[1]] = true
			}
			for _, v := range strings.Split(l[2], ",") {
				if v != "" {
					labels[v] = true
				}
			}
			for _, v := range targetLabels {
				labels[v] = true
			}
			out[m[1]] = series{histogram: histogram, labels: labels}
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d series names found: %v", len(out), out)
	}
	return out
}

// known returns the series called name, if Pylon exports it.
func known(names map[string]series, name string) (series, bool) {
	if s, ok := names[name]; ok {
		return s, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := trimSuffix(name, suffix)
		if s := names[base]; ok && s.histogram {
			if suffix == "_bucket" {
				s.labels = maps.Clone(s.labels)
				s.labels["le"] = true
			}
			return s, true
		}
	}
	return series{}, false
}

func trimSuffix(s, suffix string) (string, bool) {
	if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

func sorted[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The names the checks below rely on, so that a renamed series fails
// here with its new name rather than somewhere less clear.
func TestExportedNames(t *testing.T) {
	names := exported(t)
	for _, want := range []string{
		"pylon_gateway_requests_total", "pylon_gateway_certificate_expiry_timestamp_seconds", "pylon_build_info",
		ctrlmonitoring.MetricWebAppCondition, ctrlmonitoring.MetricReconciles, ctrlmonitoring.MetricHostnameClaims,
	} {
		if _, ok := names[want]; !ok {
			t.Errorf("%s is not exported; exported: %v", want, sorted(names))
		}
	}
	if !names["pylon_gateway_request_duration_seconds"].histogram {
		t.Error("pylon_gateway_request_duration_seconds is not known as a histogram")
	}
}
