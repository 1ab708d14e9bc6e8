package status

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/pylon-dev/pylon/internal/gateway/translate"
)

// events records Eventf calls.
type events struct{ notes []string }

func (e *events) Eventf(regarding, _ runtime.Object, eventtype, reason, _, note string, args ...any) {
	o := regarding.(metav1.Object)
	e.notes = append(e.notes, fmt.Sprintf("%s %s/%s %s: %s", eventtype, o.GetNamespace(), o.GetName(), reason, fmt.Sprintf(note, args...)))
}

func (e *events) AnnotatedEventf(regarding, related runtime.Object, _ map[string]string, eventtype, reason, action, note string, args ...any) {
	e.Eventf(regarding, related, eventtype, reason, action, note, args...)
}

// An Ingress denied a hostname gets one Warning Event per distinct
// message, not one per status write.
func TestRejectionsBecomeEventsOnce(t *testing.T) {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "attacker", Name: "takeover"}}
	c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(ing).Build()
	rec := &events{}
	w := &Writer{Client: c, Recorder: rec, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rej := func(msg string) translate.StatusUpdates {
		return translate.StatusUpdates{Rejections: []translate.Rejection{{Kind: "Ingress", Namespace: "attacker", Name: "takeover", Reason: "HostnameOwnedByAnotherNamespace", Message: msg}}}
	}
	for _, su := range []translate.StatusUpdates{rej("a"), rej("a"), rej("b"), {}, rej("b")} {
		if err := w.Write(context.Background(), su); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"Warning attacker/takeover HostnameOwnedByAnotherNamespace: a",
		"Warning attacker/takeover HostnameOwnedByAnotherNamespace: b",
		"Warning attacker/takeover HostnameOwnedByAnotherNamespace: b", // again after it was resolved
	}
	if fmt.Sprint(rec.notes) != fmt.Sprint(want) {
		t.Fatalf("events %q, want %q", rec.notes, want)
	}
}
