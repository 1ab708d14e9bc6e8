package conditions

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Set declares a summary condition and the dependent conditions it
// summarises, in the order their reasons take precedence.
type Set struct {
	summary    string
	dependents []string
}

// NewSet declares summary as the roll-up of dependents.
func NewSet(summary string, dependents ...string) Set {
	return Set{summary: summary, dependents: dependents}
}

// Summary is the type of the summary condition.
func (s Set) Summary() string { return s.summary }

// Dependents are the types the summary is derived from.
func (s Set) Dependents() []string { return append([]string(nil), s.dependents...) }

// Summarize derives the summary condition from the dependents present in
// conds. The first dependent that is False decides (its reason and message
// are carried up); failing that the first that is Unknown; when every present
// dependent is True so is the summary, with readyReason and readyMessage.
// A dependent that is absent is not applicable and does not count.
func (s Set) Summarize(conds []metav1.Condition, generation int64, readyReason, readyMessage string) metav1.Condition {
	out := metav1.Condition{
		Type:               s.summary,
		Status:             metav1.ConditionTrue,
		Reason:             readyReason,
		Message:            readyMessage,
		ObservedGeneration: generation,
	}
	var unknown *metav1.Condition
	for _, t := range s.dependents {
		c := meta.FindStatusCondition(conds, t)
		if c == nil {
			continue
		}
		switch c.Status {
		case metav1.ConditionFalse:
			out.Status, out.Reason, out.Message = metav1.ConditionFalse, c.Reason, prefixed(t, c.Message)
			return out
		case metav1.ConditionUnknown:
			if unknown == nil {
				unknown = c
			}
		}
	}
	if unknown != nil {
		out.Status, out.Reason, out.Message = metav1.ConditionUnknown, unknown.Reason, prefixed(unknown.Type, unknown.Message)
	}
	return out
}

func prefixed(condType, msg string) string {
	if msg == "" {
		return condType + " is not True"
	}
	return condType + ": " + msg
}
