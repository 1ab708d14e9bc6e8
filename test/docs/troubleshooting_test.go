package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// conditionsFile holds every condition type and reason Pylon sets.
const conditionsFile = "api/v1alpha1/conditions.go"

// constants returns the string values of the constants in conditions.go
// whose names start with prefix, keyed by value, with their names.
func constants(t *testing.T, prefix string) map[string][]string {
	t.Helper()
	return constantsIn(t, conditionsFile, prefix)
}

// contractFile holds the reasons the bundled gateway writes on routes,
// which reach a WebApp's Routed condition as they are.
const contractFile = "internal/contract/contract.go"

// constantsIn is constants for the Go file conditionsFile names.
func constantsIn(t *testing.T, conditionsFile, prefix string) map[string][]string {
	t.Helper()
	path := filepath.Join(repoRoot(t), conditionsFile)
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", conditionsFile, err)
	}
	out := map[string][]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if !strings.HasPrefix(n.Name, prefix) {
					continue
				}
				if i >= len(vs.Values) {
					t.Fatalf("%s: %s has no value of its own; give every condition constant a string literal", conditionsFile, n.Name)
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s: %s is not a string literal; the troubleshooting check reads literals", conditionsFile, n.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatalf("%s: %s: %v", conditionsFile, n.Name, err)
				}
				out[v] = append(out[v], n.Name)
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no constants named %s*", conditionsFile, prefix)
	}
	return out
}

var tableKey = regexp.MustCompile("^\\|\\s*`([A-Za-z]+)`\\s*\\|")

// documented returns the first-column values (`Name`) of the table rows in
// the "## <section>" section of docs/troubleshooting.md, and the line of
// each.
func documented(t *testing.T, md, section string) map[string]int {
	t.Helper()
	out := map[string]int{}
	in := false
	found := false
	for i, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "## ") {
			in = strings.TrimSpace(strings.TrimPrefix(l, "## ")) == section
			found = found || in
			continue
		}
		if !in {
			continue
		}
		if m := tableKey.FindStringSubmatch(l); m != nil {
			if prev, dup := out[m[1]]; dup {
				t.Errorf("docs/troubleshooting.md:%d: %s is documented twice under %q (also line %d)", i+1, m[1], section, prev)
			}
			out[m[1]] = i + 1
		}
	}
	if !found {
		t.Fatalf("docs/troubleshooting.md has no %q section", "## "+section)
	}
	return out
}

func compare(t *testing.T, what string, code map[string][]string, doc map[string]int) {
	t.Helper()
	var missing, stale []string
	for v, names := range code {
		if _, ok := doc[v]; !ok {
			missing = append(missing, v+" ("+strings.Join(names, ", ")+")")
		}
	}
	for v, line := range doc {
		if _, ok := code[v]; !ok {
			stale = append(stale, v+" (line "+strconv.Itoa(line)+")")
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("%s in %s that docs/troubleshooting.md does not explain (add a table row: meaning and what to do):\n  %s",
			what, conditionsFile, strings.Join(missing, "\n  "))
	}
	if len(stale) > 0 {
		t.Errorf("%s documented in docs/troubleshooting.md that %s no longer defines (remove or rename the rows):\n  %s",
			what, conditionsFile, strings.Join(stale, "\n  "))
	}
}

// Every reason Pylon can put in a condition or in status.canary.weightReason
// has a row saying what it means and what to do, and every row is a reason
// that still exists.
func TestTroubleshootingCoversEveryReason(t *testing.T) {
	md := readDoc(t, "docs/troubleshooting.md")
	reasons := constants(t, "Reason")
	for v, names := range constantsIn(t, contractFile, "Reason") {
		reasons[v] = append(reasons[v], names...)
	}
	compare(t, "condition reasons", reasons, documented(t, md, "Reasons"))
}

// Every condition type has a row in the conditions table.
func TestTroubleshootingCoversEveryCondition(t *testing.T) {
	md := readDoc(t, "docs/troubleshooting.md")
	compare(t, "condition types", constants(t, "Condition"), documented(t, md, "Conditions"))
}
