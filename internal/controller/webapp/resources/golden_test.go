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
			app := &pylonv1alpha1.WebApp{}
			if err := yaml.UnmarshalStrict(raw, app); err != nil {
				t.Fatalf("decode %s: %v", in, err)
			}
			got := render(t, app)
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
func render(t *testing.T, app *pylonv1alpha1.WebApp) []byte {
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
