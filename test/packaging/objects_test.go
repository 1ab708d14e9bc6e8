package packaging

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/pylon-dev/pylon/test/testenv"
)

// ofKind returns the objects of one kind.
func ofKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// byName indexes objects of one kind by name.
func byName(objs []*unstructured.Unstructured, kind string) map[string]*unstructured.Unstructured {
	m := map[string]*unstructured.Unstructured{}
	for _, o := range ofKind(objs, kind) {
		m[o.GetName()] = o
	}
	return m
}

func ref(o *unstructured.Unstructured) string {
	s := o.GetKind() + " "
	if o.GetNamespace() != "" {
		s += o.GetNamespace() + "/"
	}
	return s + o.GetName()
}

// parse splits multi-document YAML into objects (testenv.ParseManifests).
func parse(t *testing.T, b []byte) []*unstructured.Unstructured {
	t.Helper()
	return testenv.ParseManifests(t, b)
}
