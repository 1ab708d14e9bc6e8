package applier

import (
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

func TestVerified(t *testing.T) {
	v := NewVerified()
	shop := types.NamespacedName{Namespace: "a", Name: "shop"}
	const uid, other = types.UID("2c1ee9cc-d4ed-49fe-8b9e-d380ba0b1ee6"), types.UID("not-a-uuid")
	fp := "00112233445566778899aabbccddeeff"
	if v.has(shop, uid, fp) {
		t.Fatal("remembers what it was never told")
	}
	v.remember(shop, uid, fp)
	v.remember(shop, other, "ff")
	switch {
	case !v.has(shop, uid, fp), !v.has(shop, other, "ff"):
		t.Fatal("forgot what it was told")
	case v.has(shop, uid, "00112233445566778899aabbccddeefe"):
		t.Error("another fingerprint of the same child passed")
	case v.has(shop, "2c1ee9cc-d4ed-49fe-8b9e-d380ba0b1ee7", fp):
		t.Error("another child (a new UID) with the same fingerprint passed")
	case v.has(types.NamespacedName{Namespace: "b", Name: "shop"}, uid, fp):
		t.Error("another owner's memory passed")
	case v.has(shop, uid, ""):
		t.Error("a child without a fingerprint passed")
	}
	v.remember(shop, uid, "ffeeddccbbaa99887766554433221100")
	if v.has(shop, uid, fp) {
		t.Error("an older fingerprint passed after a newer one was remembered")
	}
	v.forgetChild(shop, uid)
	if v.has(shop, uid, "ffeeddccbbaa99887766554433221100") || !v.has(shop, other, "ff") {
		t.Error("forgetChild forgot the wrong child")
	}
	v.Forget(shop)
	if v.has(shop, other, "ff") {
		t.Error("Forget kept the owner's children")
	}
	v.remember(shop, uid, fp)
	v.Reset()
	if v.has(shop, uid, fp) {
		t.Error("Reset kept a child")
	}
}
