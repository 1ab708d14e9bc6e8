package controller

import (
	"sync"
	"sync/atomic"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

// vocabulary holds one copy of the short strings cached status conditions
// repeat across objects (types, statuses, reasons, a route parent's
// controller name): decoded from the API server, each object would hold
// its own. It is bounded: status is written by other controllers and, for
// routes of other namespaces, by tenants, so a string past the cap or the
// length limit is kept as it is rather than added.
type vocabulary struct {
	m sync.Map
	n atomic.Int32
}

const (
	vocabularyCap    = 4096
	vocabularyMaxLen = 64
)

var conditionWords vocabulary

func (v *vocabulary) word(s string) string {
	if s == "" || len(s) > vocabularyMaxLen {
		return s
	}
	if w, ok := v.m.Load(s); ok {
		return w.(string)
	}
	if v.n.Load() >= vocabularyCap {
		return s
	}
	w, loaded := v.m.LoadOrStore(s, s)
	if !loaded {
		v.n.Add(1)
	}
	return w.(string)
}

// shareCondition points one condition's type, status and reason at the
// vocabulary's copies, whatever string types its API gives them.
func shareCondition[T, S ~string](typ *T, status *S, reason *string) {
	*typ = T(conditionWords.word(string(*typ)))
	*status = S(conditionWords.word(string(*status)))
	*reason = conditionWords.word(*reason)
}

func shareConditions(cs []metav1.Condition) {
	for i := range cs {
		shareCondition(&cs[i].Type, &cs[i].Status, &cs[i].Reason)
	}
}

// shareStatusWords points the condition words of a cached object's status
// at the vocabulary's copies.
func shareStatusWords(o any) {
	switch t := o.(type) {
	case *pylonv1alpha1.WebApp:
		shareConditions(t.Status.Conditions)
		if c := t.Status.Canary; c != nil {
			c.WeightReason = conditionWords.word(c.WeightReason)
		}
	case *gwv1.HTTPRoute:
		for i := range t.Status.Parents {
			p := &t.Status.Parents[i]
			p.ControllerName = gwv1.GatewayController(conditionWords.word(string(p.ControllerName)))
			shareConditions(p.Conditions)
		}
	case *gwv1.ListenerSet:
		shareConditions(t.Status.Conditions)
		for i := range t.Status.Listeners {
			shareConditions(t.Status.Listeners[i].Conditions)
		}
	case *certmanagerv1.Certificate:
		for i := range t.Status.Conditions {
			c := &t.Status.Conditions[i]
			shareCondition(&c.Type, &c.Status, &c.Reason)
		}
	case *appsv1.Deployment:
		for i := range t.Status.Conditions {
			c := &t.Status.Conditions[i]
			shareCondition(&c.Type, &c.Status, &c.Reason)
		}
	}
}
