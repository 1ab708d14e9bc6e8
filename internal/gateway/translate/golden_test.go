package translate

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/pylon-dev/pylon/internal/gateway/ir"
)

var update = flag.Bool("update", false, "rewrite testdata/*.out.yaml from the current translator")

// goldenOut is what a golden file records: the table, a readable summary
// of the order each host scans its routes in, and all status.
type goldenOut struct {
	Chains map[string][]string `json:"chains,omitempty"`
	Table  *ir.Table           `json:"table"`
	Status StatusUpdates       `json:"status"`
}

func dump(table *ir.Table, st StatusUpdates) ([]byte, error) {
	out := goldenOut{Table: table, Status: st, Chains: map[string][]string{}}
	for _, l := range table.Listeners {
		for _, vh := range l.VirtualHosts {
			key := fmt.Sprintf("%s %s", l.Key(), vh.Hostname)
			if vh.Hostname == "" {
				key = fmt.Sprintf("%s *", l.Key())
			}
			var lines []string
			for _, r := range vh.Chain() {
				lines = append(lines, describeRoute(r))
			}
			out.Chains[key] = lines
		}
	}
	b, err := yaml.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("marshal golden output: %w", err)
	}
	return b, nil
}

// describeRoute is a one-line summary of a route entry for the chains map.
func describeRoute(r *ir.Route) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s/%s r%d m%d: %s %s", r.Source.Kind, r.Source.Namespace, r.Source.Name, r.Source.Rule, r.Source.Match, r.Path.Type, r.Path.Value)
	if r.Method != "" {
		fmt.Fprintf(&b, " method=%s", r.Method)
	}
	for _, h := range r.Headers {
		fmt.Fprintf(&b, " header:%s=%s", h.Name, h.Value)
	}
	for _, q := range r.Query {
		fmt.Fprintf(&b, " query:%s=%s", q.Name, q.Value)
	}
	return b.String()
}

func reverseSnapshot(s *Snapshot) *Snapshot {
	r := *s
	r.GatewayClasses = reversed(s.GatewayClasses)
	r.Gateways = reversed(s.Gateways)
	r.ListenerSets = reversed(s.ListenerSets)
	r.HTTPRoutes = reversed(s.HTTPRoutes)
	r.ReferenceGrants = reversed(s.ReferenceGrants)
	r.Namespaces = reversed(s.Namespaces)
	r.Ingresses = reversed(s.Ingresses)
	r.IngressClasses = reversed(s.IngressClasses)
	r.Services = reversed(s.Services)
	r.EndpointSlices = reversed(s.EndpointSlices)
	r.Secrets = reversed(s.Secrets)
	r.HostnameClaims = reversed(s.HostnameClaims)
	return &r
}

func reversed[T any](in []T) []T {
	out := slices.Clone(in)
	slices.Reverse(out)
	return out
}

func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.in.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			snap, err := loadSnapshot(in)
			if err != nil {
				t.Fatal(err)
			}
			table, st := Translate(snap)
			if err := table.Validate(); err != nil {
				t.Fatalf("invalid table: %v", err)
			}
			got, err := dump(table, st)
			if err != nil {
				t.Fatal(err)
			}
			// Input order must not matter.
			table2, st2 := Translate(reverseSnapshot(snap))
			got2, err := dump(table2, st2)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(got), string(got2)); diff != "" {
				t.Fatalf("output depends on input order (-forward +reversed):\n%s", diff)
			}
			outPath := filepath.Join("testdata", name+".out.yaml")
			if *update {
				if err := os.WriteFile(outPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("golden mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
