package applier

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// fieldSet is a parsed managedFields set (FieldsV1): the fields one manager
// owns. A set without fields or items owns its whole value (a leaf, or an
// atomic map or list).
type fieldSet struct {
	fields map[string]*fieldSet
	items  []item
}

// item is one list element a set owns, found by the keys of an associative
// list ("k:"), by its value in a set list ("v:"), or by its index ("i:").
type item struct {
	key   map[string]any
	value any
	index int
	kind  byte
	set   *fieldSet
}

func (s *fieldSet) whole() bool { return len(s.fields) == 0 && len(s.items) == 0 }

// parseFieldSet reads a FieldsV1 document.
func parseFieldSet(raw []byte) (*fieldSet, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("read managedFields: %w", err)
	}
	return toFieldSet(m)
}

func toFieldSet(m map[string]any) (*fieldSet, error) {
	s := &fieldSet{}
	for k, v := range m {
		if k == "." {
			continue
		}
		sub, _ := v.(map[string]any)
		child, err := toFieldSet(sub)
		if err != nil {
			return nil, err
		}
		switch {
		case strings.HasPrefix(k, "f:"):
			if s.fields == nil {
				s.fields = map[string]*fieldSet{}
			}
			s.fields[k[2:]] = child
		case strings.HasPrefix(k, "k:"):
			var key map[string]any
			if err := json.Unmarshal([]byte(k[2:]), &key); err != nil {
				return nil, fmt.Errorf("read managedFields key %s: %w", k, err)
			}
			s.items = append(s.items, item{kind: 'k', key: key, set: child})
		case strings.HasPrefix(k, "v:"):
			var value any
			if err := json.Unmarshal([]byte(k[2:]), &value); err != nil {
				return nil, fmt.Errorf("read managedFields value %s: %w", k, err)
			}
			s.items = append(s.items, item{kind: 'v', value: value, set: child})
		case strings.HasPrefix(k, "i:"):
			i, err := strconv.Atoi(k[2:])
			if err != nil {
				return nil, fmt.Errorf("read managedFields index %s: %w", k, err)
			}
			s.items = append(s.items, item{kind: 'i', index: i, set: child})
		default:
			return nil, fmt.Errorf("read managedFields: unknown path element %q", k)
		}
	}
	return s, nil
}

// element is the set of list element e at index i, nil when the set does
// not own it.
func (s *fieldSet) element(i int, e any) *fieldSet {
	for _, it := range s.items {
		switch it.kind {
		case 'i':
			if it.index == i {
				return it.set
			}
		case 'v':
			if scalarEqual(it.value, e) {
				return it.set
			}
		case 'k':
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			match := true
			for kk, kv := range it.key {
				if !scalarEqual(kv, m[kk]) {
					match = false
					break
				}
			}
			if match {
				return it.set
			}
		}
	}
	return nil
}

// project keeps of v only what set owns, in v's order.
func project(v any, s *fieldSet) any {
	if s.whole() {
		return v
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(s.fields))
		for name, sub := range s.fields {
			if c, ok := t[name]; ok {
				out[name] = project(c, sub)
			}
		}
		return out
	case []any:
		out := make([]any, 0, len(s.items))
		for i, e := range t {
			if sub := s.element(i, e); sub != nil {
				out = append(out, project(e, sub))
			}
		}
		return out
	}
	return v
}

// covered reports whether set owns every field want sets (empty maps, lists
// and nulls, which contains treats as absent, excepted). live is the object
// want is compared with: list elements of want are found at the same index
// in live (contains requires the same order and length), and the set names
// live's elements.
func covered(want, live any, s *fieldSet) bool {
	if s.whole() {
		return true
	}
	switch w := want.(type) {
	case map[string]any:
		l, _ := live.(map[string]any)
		for k, wv := range w {
			if isEmpty(wv) {
				continue
			}
			sub := s.fields[k]
			if sub == nil || !covered(wv, l[k], sub) {
				return false
			}
		}
		return true
	case []any:
		l, _ := live.([]any)
		if len(l) != len(w) {
			return false
		}
		for i := range w {
			sub := s.element(i, l[i])
			if sub == nil || !covered(w[i], l[i], sub) {
				return false
			}
		}
		return true
	}
	return true
}

// ownedSet finds the set of Pylon's own apply (the main resource, not a
// subresource) among an object's managedFields.
func ownedSet(entries []metav1.ManagedFieldsEntry) (*fieldSet, error) {
	for _, e := range entries {
		if e.Manager == FieldOwner && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" && e.FieldsV1 != nil {
			return parseFieldSet(e.FieldsV1.GetRawBytes())
		}
	}
	return nil, nil
}

// identity are the fields of an apply body that name the object rather
// than set it; managedFields never list them.
func withoutIdentity(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		switch k {
		case "apiVersion", "kind":
			continue
		case "metadata":
			if m, ok := v.(map[string]any); ok {
				mm := make(map[string]any, len(m))
				for mk, mv := range m {
					if mk != "name" && mk != "namespace" {
						mm[mk] = mv
					}
				}
				v = mm
			}
		}
		out[k] = v
	}
	return out
}

// OwnedFingerprint is the hash of what Pylon's apply owns in obj (an object
// as the API server returned it, converted to unstructured from its typed
// form) and their values, read from its managedFields; "" when Pylon's apply
// owns nothing in it. Another writer who changes or removes a field Pylon
// applied changes the fingerprint: an update takes the field out of Pylon's
// set, a change of value changes the hash. It is how a cached child, kept
// without its spec, still shows drift (see Verified).
func OwnedFingerprint(obj map[string]any, entries []metav1.ManagedFieldsEntry) (string, error) {
	set, err := ownedSet(entries)
	if err != nil || set == nil {
		return "", err
	}
	return fingerprintOf(withoutIdentity(obj), set)
}

// ObjectFingerprint is OwnedFingerprint of a typed object, converted to
// unstructured from its typed form: the cache transform and the applier
// (after its own apply) both take it so, and must, or the two would not
// compare equal.
func ObjectFingerprint(o client.Object) (string, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return "", err
	}
	return OwnedFingerprint(u, o.GetManagedFields())
}

func fingerprintOf(obj map[string]any, set *fieldSet) (string, error) {
	b, err := json.Marshal(project(obj, set)) // map keys sorted: stable
	if err != nil {
		return "", fmt.Errorf("hash owned fields: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16]), nil
}
