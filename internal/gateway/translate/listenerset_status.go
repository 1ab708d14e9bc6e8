package translate

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// finishListenerSetStatus computes ListenerSet conditions and per-entry
// status. Entries of a ListenerSet its Gateway does not allow carry no
// listener status: they were never considered.
func (t *translator) finishListenerSetStatus() {
	out := make([]ListenerSetStatus, 0, len(t.sets))
	for _, s := range t.sets {
		gen := s.ls.Generation
		st := gwv1.ListenerSetStatus{}
		if s.considered {
			for _, l := range s.listeners {
				st.Listeners = append(st.Listeners, gwv1.ListenerEntryStatus{
					Name: l.name, SupportedKinds: supportedKinds(l), AttachedRoutes: l.attached,
					Conditions: listenerConditions(l, gen),
				})
			}
		}
		progReason := gwv1.ListenerSetReasonProgrammed
		progMsg := "programmed"
		if !s.accepted {
			progReason, progMsg = gwv1.ListenerSetReasonInvalid, "ListenerSet is not accepted"
			// A ListenerSet its Gateway does not allow, or without a valid
			// listener, is not programmed for that same reason (Gateway
			// API conformance, ListenerSetAllowedNamespace*,
			// ListenerSet*Conflict, ListenerSetReferenceGrant).
			if s.reason == gwv1.ListenerSetReasonNotAllowed || s.reason == gwv1.ListenerSetReasonListenersNotValid {
				progReason = s.reason
			}
		}
		st.Conditions = []metav1.Condition{
			condition(gwv1.ListenerSetConditionAccepted, s.accepted, s.reason, s.message, gen),
			condition(gwv1.ListenerSetConditionProgrammed, s.accepted, progReason, progMsg, gen),
		}
		out = append(out, ListenerSetStatus{Namespace: s.ls.Namespace, Name: s.ls.Name, Status: st})
	}
	t.status.ListenerSets = sortStatuses(out)
}

// settleListenerSets withdraws acceptance from attached ListenerSets that
// have no valid listener, before routes are attached to them.
func (t *translator) settleListenerSets() {
	for _, s := range t.sets {
		if !s.accepted {
			continue
		}
		// A listener whose certificates cannot be used counts as not
		// valid here: a ListenerSet whose only listener lacks a
		// ReferenceGrant is not accepted (ListenerSetReferenceGrant).
		var invalid []string
		for _, l := range s.listeners {
			if !l.valid() || !l.certsOK {
				invalid = append(invalid, string(l.name))
			}
		}
		switch {
		case len(invalid) == len(s.listeners):
			s.accepted = false
			s.reason = gwv1.ListenerSetReasonListenersNotValid
			s.message = "no valid listeners: " + strings.Join(invalid, ", ")
		case len(invalid) > 0:
			s.reason = gwv1.ListenerSetReasonListenersNotValid
			s.message = "some listeners are not valid: " + strings.Join(invalid, ", ")
		}
	}
}
