package testenv

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Tool is bin/<name>-<version> in the repository; the test fails (never
// skips) when it is missing, naming the make target that builds it.
func Tool(t testing.TB, name, version string) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatalf("repository root: %v", err)
	}
	path := filepath.Join(root, "bin", name+"-"+version)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s %s is not built: run `make %s` (builds it into bin/ from Go modules): %v", name, version, name, err)
	}
	return path
}

// ParseManifests splits multi-document YAML into objects, skipping empty
// documents. Strict: a duplicate key is an error, as kubectl's strict field
// validation would report it.
func ParseManifests(t testing.TB, b []byte) []*unstructured.Unstructured {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	var objs []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("read YAML: %v", err)
		}
		m := map[string]any{}
		if err := yaml.UnmarshalStrict(doc, &m); err != nil {
			t.Fatalf("parse YAML: %v\n%s", err, doc)
		}
		if len(m) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
}
