package ir

import "testing"

func TestNewActionOwnsTotalWeightAndTheNoBackendAnswer(t *testing.T) {
	base := &Action{RequestHeaders: &HeaderModifier{Remove: []string{"X-Debug"}}}
	a := NewAction(base, &Backend{Name: "a", Weight: 90}, &Backend{Name: "b", Weight: 10})
	if a.TotalWeight != 100 || a.DirectResponse != nil || a.RequestHeaders != base.RequestHeaders {
		t.Fatalf("split action: total %d, direct response %v, filters kept %v", a.TotalWeight, a.DirectResponse, a.RequestHeaders == base.RequestHeaders)
	}
	if len(base.Backends) != 0 {
		t.Fatal("NewAction changed its base")
	}
	for name, a := range map[string]*Action{
		"no backends":  NewAction(nil),
		"zero weights": NewAction(nil, &Backend{Name: "a"}, &Backend{Name: "b"}),
	} {
		if a.DirectResponse == nil || a.DirectResponse.Status != 500 || a.DirectResponse.Reason != NoBackendReason {
			t.Errorf("%s: direct response %+v, want 500 %q", name, a.DirectResponse, NoBackendReason)
		}
	}
	if a := NewAction(&Action{Redirect: &Redirect{StatusCode: 301}}); a.DirectResponse != nil {
		t.Errorf("a redirect needs no backend, got direct response %+v", a.DirectResponse)
	}
}
