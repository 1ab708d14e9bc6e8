package docs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxReadmeLines keeps the README a page a stranger reads to the end;
// detail belongs in docs/.
const maxReadmeLines = 250

func TestReadmeIsShort(t *testing.T) {
	n := strings.Count(readDoc(t, "README.md"), "\n")
	if n >= maxReadmeLines {
		t.Errorf("README.md has %d lines; keep it under %d and move detail to docs/", n, maxReadmeLines)
	}
}

// The README says up front what Pylon is, how mature its API is, and draws
// who does what, a WebApp's children and the traffic path.
func TestReadmeAnswersAStrangersQuestions(t *testing.T) {
	md := readDoc(t, "README.md")
	head := md
	if len(head) > 2000 {
		head = head[:2000]
	}
	for _, want := range []string{"pylon.dev/v1alpha1", "alpha", "ExposureClass", "WebApp"} {
		if !strings.Contains(head, want) {
			t.Errorf("README.md: the first screen should mention %q", want)
		}
	}
	diagrams := 0
	for _, b := range codeBlocks(md) {
		if b.lang == "mermaid" {
			diagrams++
		}
	}
	if diagrams < 3 {
		t.Errorf("README.md has %d Mermaid diagrams; want who does what, the WebApp's children and the traffic path", diagrams)
	}
	for _, want := range []string{"make demo", "docs/troubleshooting.md", "docs/testing.md", "docs/conformance.md", "docs/performance.md", "LICENSE"} {
		if !strings.Contains(md, want) {
			t.Errorf("README.md does not mention %s", want)
		}
	}
}

// pendingDocs are pages other work in flight adds; the README links them
// already. Remove a name once its page is in the tree (the test then checks
// the link like any other).
var pendingDocs = map[string]bool{}

// Every relative link of the README and docs/ resolves to a file or
// directory of the repository.
func TestDocLinksResolve(t *testing.T) {
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(root, "README.md"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, f)
		for _, target := range relativeLinks(string(b)) {
			path := filepath.Clean(filepath.Join(filepath.Dir(f), target))
			inRepo, _ := filepath.Rel(root, path)
			if _, err := os.Stat(path); err != nil {
				if pendingDocs[inRepo] {
					continue
				}
				t.Errorf("%s links to %s, which does not exist", rel, target)
			}
		}
	}
	for p := range pendingDocs {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			t.Logf("%s exists now: remove it from pendingDocs in test/docs/readme_test.go", p)
		}
	}
}
