package ir

import "testing"

func TestPathOverlaps(t *testing.T) {
	pm := func(typ PathMatchType, v string) PathMatch {
		p, err := NewPathMatch(typ, v)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		a, b PathMatch
		want bool
	}{
		{pm(PathPrefix, "/"), pm(PathExact, "/"), true},
		{pm(PathPrefix, "/"), pm(PathPrefix, "/admin"), true},
		{pm(PathPrefix, "/admin"), pm(PathPrefix, "/app"), false},
		{pm(PathPrefix, "/admin"), pm(PathPrefix, "/adminx"), false},
		{pm(PathExact, "/admin/x"), pm(PathPrefix, "/admin"), true},
		{pm(PathExact, "/a"), pm(PathExact, "/b"), false},
		{pm(PathRegex, "/a.*"), pm(PathExact, "/b"), true},
	} {
		if got := tc.a.Overlaps(tc.b); got != tc.want {
			t.Errorf("%v overlaps %v = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := tc.b.Overlaps(tc.a); got != tc.want {
			t.Errorf("%v overlaps %v = %v, want %v (reversed)", tc.b, tc.a, got, tc.want)
		}
	}
}
