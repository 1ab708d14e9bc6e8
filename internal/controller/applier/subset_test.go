package applier

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestContains(t *testing.T) {
	cases := []struct {
		name       string
		want, live any
		ok         bool
	}{
		{"defaulted fields in live are ignored", map[string]any{"a": "x"}, map[string]any{"a": "x", "b": "defaulted"}, true},
		{"changed scalar", map[string]any{"a": "x"}, map[string]any{"a": "y"}, false},
		{"missing field", map[string]any{"a": "x"}, map[string]any{}, false},
		{"empty map matches absent", map[string]any{"resources": map[string]any{}}, map[string]any{}, true},
		{"null matches absent", map[string]any{"a": nil}, map[string]any{}, true},
		{"int and float are the same number", map[string]any{"n": int64(3)}, map[string]any{"n": float64(3)}, true},
		{"different numbers", map[string]any{"n": int64(3)}, map[string]any{"n": int64(4)}, false},
		{"list element subset", []any{map[string]any{"name": "a"}}, []any{map[string]any{"name": "a", "protocol": "TCP"}}, true},
		{"list longer in live", []any{"a"}, []any{"a", "b"}, false},
		{"list order matters", []any{"a", "b"}, []any{"b", "a"}, false},
		{"nested drift", map[string]any{"spec": map[string]any{"template": map[string]any{"image": "v1"}}}, map[string]any{"spec": map[string]any{"template": map[string]any{"image": "v2"}}}, false},
		{"bool false must be present", map[string]any{"b": false}, map[string]any{}, false},
		{"type mismatch", map[string]any{"a": map[string]any{"b": "c"}}, map[string]any{"a": "c"}, false},
	}
	for _, c := range cases {
		if got := contains(c.want, c.live); got != c.ok {
			t.Errorf("%s: contains = %v, want %v", c.name, got, c.ok)
		}
	}
}

func TestUpToDateNeedsSameHash(t *testing.T) {
	declared := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"annotations": map[string]any{AnnotationAppliedHash: "new"}},
		"spec":     map[string]any{"a": "x"},
	}}
	live := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"annotations": map[string]any{AnnotationAppliedHash: "old"}},
		"spec":     map[string]any{"a": "x", "removed": "still here"},
	}}
	if UpToDate(declared, live) {
		t.Fatal("a live object applied from another declaration must be applied again, so removed fields go")
	}
	live.SetAnnotations(map[string]string{AnnotationAppliedHash: "new"})
	if !UpToDate(declared, live) {
		t.Fatal("same hash and every declared field present: no apply needed")
	}
}
