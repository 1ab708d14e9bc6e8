package applier

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// AnnotationAppliedHash records the hash of what Pylon last applied to a child.
const AnnotationAppliedHash = "pylon.dev/applied-hash"

// Declared turns a builder's typed object into the body of an apply: without
// status or a null creationTimestamp (fields Pylon must not claim), and with
// the hash of that body as an annotation.
func Declared(obj runtime.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("convert %T: %w", obj, err)
	}
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	if u.GetAPIVersion() == "" || u.GetKind() == "" {
		return nil, fmt.Errorf("%T %s has no apiVersion and kind: builders must set TypeMeta", obj, u.GetName())
	}
	b, err := json.Marshal(u.Object) // encoding/json sorts map keys: stable
	if err != nil {
		return nil, fmt.Errorf("hash %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	sum := sha256.Sum256(b)
	ann := u.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[AnnotationAppliedHash] = hex.EncodeToString(sum[:12])
	u.SetAnnotations(ann)
	return u, nil
}

// UpToDate reports whether live already is what declared asks for, so that
// applying it again would change nothing.
func UpToDate(declared, live *unstructured.Unstructured) bool {
	if live.GetAnnotations()[AnnotationAppliedHash] != declared.GetAnnotations()[AnnotationAppliedHash] {
		return false
	}
	return contains(declared.Object, live.Object)
}
