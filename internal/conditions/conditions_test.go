package conditions

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func c(t string, s metav1.ConditionStatus, reason, msg string) metav1.Condition {
	return metav1.Condition{Type: t, Status: s, Reason: reason, Message: msg}
}

func TestSummarize(t *testing.T) {
	set := NewSet("Ready", "A", "B", "C")
	cases := []struct {
		name   string
		conds  []metav1.Condition
		status metav1.ConditionStatus
		reason string
		msg    string
	}{
		{"all true", []metav1.Condition{c("A", "True", "Ok", ""), c("B", "True", "Ok", "")}, "True", "Done", "all good"},
		{"absent dependents do not count", nil, "True", "Done", "all good"},
		{"first false wins over unknown before it", []metav1.Condition{c("A", "Unknown", "Wait", "waiting"), c("B", "False", "Broken", "b is broken"), c("C", "False", "Also", "c")}, "False", "Broken", "B: b is broken"},
		{"first unknown in declared order", []metav1.Condition{c("C", "Unknown", "LaterWait", "c"), c("B", "Unknown", "Wait", "b waits")}, "Unknown", "Wait", "B: b waits"},
		{"empty message says which", []metav1.Condition{c("A", "False", "Broken", "")}, "False", "Broken", "A is not True"},
		{"non-dependents are ignored", []metav1.Condition{c("Other", "False", "X", "x")}, "True", "Done", "all good"},
	}
	for _, tc := range cases {
		got := set.Summarize(tc.conds, 7, "Done", "all good")
		if got.Type != "Ready" || got.Status != tc.status || got.Reason != tc.reason || got.Message != tc.msg || got.ObservedGeneration != 7 {
			t.Errorf("%s: got %+v, want %s/%s/%q at generation 7", tc.name, got, tc.status, tc.reason, tc.msg)
		}
	}
}

func TestMergeKeepsTransitionTimeOnlyWhileStatusHolds(t *testing.T) {
	then := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	now := metav1.NewTime(then.Add(time.Hour))
	old := []metav1.Condition{
		{Type: "A", Status: "True", Reason: "Old", LastTransitionTime: then},
		{Type: "B", Status: "False", Reason: "Old", LastTransitionTime: then},
		{Type: "Gone", Status: "True", LastTransitionTime: then},
	}
	want := []metav1.Condition{c("B", "True", "New", "fixed"), c("A", "True", "New", "still")}
	got := Merge(old, want, now)
	if len(got) != 2 || got[0].Type != "A" || got[1].Type != "B" {
		t.Fatalf("want exactly A, B sorted by type, got %+v", got)
	}
	if !got[0].LastTransitionTime.Equal(&then) || got[0].Reason != "New" {
		t.Errorf("A kept its status: its time stays, its reason updates: %+v", got[0])
	}
	if !got[1].LastTransitionTime.Equal(&now) {
		t.Errorf("B changed status: it transitions now: %+v", got[1])
	}
	if old[0].Reason != "Old" {
		t.Error("Merge must not modify old")
	}
}

func TestTransitioned(t *testing.T) {
	a := []metav1.Condition{c("Ready", "True", "", "")}
	b := []metav1.Condition{c("Ready", "False", "", "")}
	for _, tc := range []struct {
		prev, next []metav1.Condition
		want       bool
	}{
		{a, a, false}, {a, b, true}, {nil, a, true}, {a, nil, true}, {nil, nil, false},
	} {
		if got := Transitioned(tc.prev, tc.next, "Ready"); got != tc.want {
			t.Errorf("Transitioned(%v, %v) = %v, want %v", tc.prev, tc.next, got, tc.want)
		}
	}
}
