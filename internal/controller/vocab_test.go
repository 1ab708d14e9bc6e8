package controller

import (
	"strconv"
	"strings"
	"testing"
	"unsafe"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
)

func TestVocabularySharesConditionWords(t *testing.T) {
	app := func() *pylonv1alpha1.WebApp {
		// Fresh copies, as two objects decoded from the API server hold.
		return &pylonv1alpha1.WebApp{Status: pylonv1alpha1.WebAppStatus{Conditions: []metav1.Condition{{
			Type: strings.Clone("Ready"), Status: metav1.ConditionStatus(strings.Clone("True")), Reason: strings.Clone("Available"), Message: strings.Clone("all good"),
		}}}}
	}
	a, b := app(), app()
	shareStatusWords(a)
	shareStatusWords(b)
	ca, cb := a.Status.Conditions[0], b.Status.Conditions[0]
	if ca != cb {
		t.Fatalf("sharing changed a condition: %+v vs %+v", ca, cb)
	}
	for _, p := range [][2]string{{ca.Type, cb.Type}, {string(ca.Status), string(cb.Status)}, {ca.Reason, cb.Reason}} {
		if unsafe.StringData(p[0]) != unsafe.StringData(p[1]) {
			t.Errorf("two objects hold two copies of %q", p[0])
		}
	}
	if unsafe.StringData(ca.Message) == unsafe.StringData(cb.Message) {
		t.Error("messages are shared: they are mostly unique and would fill the vocabulary")
	}
}

func TestVocabularyIsBounded(t *testing.T) {
	var v vocabulary
	long := strings.Repeat("x", vocabularyMaxLen+1)
	if w := v.word(long); w != long || v.n.Load() != 0 {
		t.Errorf("a %d-byte string was added", len(long))
	}
	for i := range vocabularyCap + 100 {
		s := "reason-" + strconv.Itoa(i)
		if v.word(s) != s {
			t.Fatalf("word(%q) changed the string", s)
		}
	}
	if n := v.n.Load(); n != vocabularyCap {
		t.Errorf("the vocabulary holds %d words, want its cap of %d", n, vocabularyCap)
	}
}
