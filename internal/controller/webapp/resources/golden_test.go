package resources

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite testdata/*.out.yaml from the builders")

// TestGolden builds every child of each testdata/<case>.in.yaml WebApp and
// compares the result with testdata/<case>.out.yaml.
func TestGolden(t *testing.T) {
	ins, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) == 0 {
		t.Fatal("no golden cases in testdata")
	}
	for _, in := range ins {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			app, exp := decodeCase(t, raw)
			got := render(t, app, exp)
			out := strings.TrimSuffix(in, ".in.yaml") + ".out.yaml"
			if *update {
				if err := os.WriteFile(out, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%v (run the test with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the builders' output (run with -update after checking the change):\n%s", out, lineDiff(string(want), string(got)))
			}
		})
	}
}

// render builds every child and writes them as one multi-document YAML, a
// comment naming each builder whose result is nil (must not exist).
func render(t *testing.T, app *pylonv1alpha1.WebApp, e Exposure) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, c := range []struct {
		name string
		obj  any
	}{
		{"Deployment", MakeDeployment(app)},
		{"Service", MakeService(app)},
		{"HorizontalPodAutoscaler", MakeHorizontalPodAutoscaler(app)},
		{"PodDisruptionBudget", MakePodDisruptionBudget(app)},
		{"canary Deployment", MakeCanaryDeployment(app, e.Canary)},
		{"canary Service", MakeCanaryService(app, e.Canary)},
		{"canary HorizontalPodAutoscaler", MakeCanaryHorizontalPodAutoscaler(app, e.Canary)},
		{"canary PodDisruptionBudget", MakeCanaryPodDisruptionBudget(app, e.Canary)},
		{"HTTPRoute", MakeHTTPRoute(app, e)},
		{"redirect HTTPRoute", MakeRedirectHTTPRoute(app, e)},
		{"ListenerSet", MakeListenerSet(app, e)},
		{"Ingress", MakeIngress(app, e)},
		{"canary Ingress", MakeCanaryIngress(app, e)},
		{"Certificate", MakeCertificate(app, e)},
		{"DNSEndpoint", MakeDNSEndpoint(app, e)},
	} {
		buf.WriteString("---\n")
		if reflect.ValueOf(c.obj).IsNil() {
			buf.WriteString("# " + c.name + ": none\n")
			continue
		}
		b, err := yaml.Marshal(c.obj)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
	}
	return buf.Bytes()
}

// testFacts is the "kind: TestFacts" document of a case: what the reconciler
// would have observed besides the WebApp and its ExposureClass.
type testFacts struct {
	Kind          string   `json:"kind"`
	Hostname      string   `json:"hostname"`
	IngressCanary bool     `json:"ingressCanary"`
	DNSTargets    []string `json:"dnsTargets"`
	APIs          APIs     `json:"apis"`
	// CanaryWeight and CanarySizeWeight are the effective canary weight
	// and the weight it is sized for, as the reconciler decided; omitted:
	// the declared weight.
	CanaryWeight     *int32 `json:"canaryWeight"`
	CanarySizeWeight *int32 `json:"canarySizeWeight"`
}

// decodeCase reads a case: a WebApp, optionally an ExposureClass and a
// TestFacts document, separated by "---".
func decodeCase(t *testing.T, raw []byte) (*pylonv1alpha1.WebApp, Exposure) {
	t.Helper()
	var (
		app       *pylonv1alpha1.WebApp
		e         Exposure
		effective *int32
		size      *int32
	)
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		var head struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatal(err)
		}
		switch head.Kind {
		case "WebApp":
			app = &pylonv1alpha1.WebApp{}
			if err := yaml.UnmarshalStrict([]byte(doc), app); err != nil {
				t.Fatal(err)
			}
		case "ExposureClass":
			e.Class = &pylonv1alpha1.ExposureClass{}
			if err := yaml.UnmarshalStrict([]byte(doc), e.Class); err != nil {
				t.Fatal(err)
			}
		case "TestFacts":
			var f testFacts
			if err := yaml.UnmarshalStrict([]byte(doc), &f); err != nil {
				t.Fatal(err)
			}
			e.Hostname, e.IngressCanary, e.DNSTargets, e.APIs = f.Hostname, f.IngressCanary, f.DNSTargets, f.APIs
			effective, size = f.CanaryWeight, f.CanarySizeWeight
		case "":
		default:
			t.Fatalf("unknown kind %q in case", head.Kind)
		}
	}
	if app == nil {
		t.Fatal("case has no WebApp")
	}
	e.TLS = EffectiveTLS(app, e.Class)
	e.Canary = DeclaredCanary(app)
	if effective != nil {
		e.Canary.Weight = *effective
	}
	if size != nil {
		e.Canary.SizeWeight = *size
	}
	return app, e
}

// lineDiff lists the lines that differ, enough to see what changed.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want: %s\n  got:  %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}
