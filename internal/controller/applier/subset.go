package applier

import "reflect"

// contains reports whether live holds every field of want with an equal
// value. Maps are compared key by key (live may have more keys, such as
// fields the API server defaulted); lists element by element and must have
// the same length; an empty map or list or a null in want also matches an
// absent field. Values come from JSON, so numbers are int64 or float64.
func contains(want, live any) bool {
	switch w := want.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return live == nil && len(w) == 0
		}
		for k, wv := range w {
			lv, present := l[k]
			if !present {
				if isEmpty(wv) {
					continue
				}
				return false
			}
			if !contains(wv, lv) {
				return false
			}
		}
		return true
	case []any:
		l, ok := live.([]any)
		if !ok {
			return live == nil && len(w) == 0
		}
		if len(w) != len(l) {
			return false
		}
		for i := range w {
			if !contains(w[i], l[i]) {
				return false
			}
		}
		return true
	case nil:
		return true
	default:
		return scalarEqual(want, live)
	}
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	}
	return false
}

// scalarEqual compares JSON scalars, numbers by value.
func scalarEqual(a, b any) bool { return numberEqual(a, b) || reflect.DeepEqual(a, b) }

// numberEqual compares JSON numbers that may have been decoded as int64 on
// one side and float64 on the other.
func numberEqual(a, b any) bool {
	fa, oka := asFloat(a)
	fb, okb := asFloat(b)
	return oka && okb && fa == fb
}

func asFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}
