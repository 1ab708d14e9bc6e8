package contract

import "testing"

func TestSplitAlwaysAddsUpToTheTotal(t *testing.T) {
	for _, w := range []int32{-5, 0, 1, 10, 50, 99, 100, 150} {
		s, c := Split(w)
		if s+c != WeightTotal || c < 0 || s < 0 {
			t.Errorf("Split(%d) = %d, %d: want non-negative weights adding up to %d", w, s, c, WeightTotal)
		}
	}
	if s, c := Split(10); s != 90 || c != 10 {
		t.Errorf("Split(10) = %d, %d, want 90, 10", s, c)
	}
}
