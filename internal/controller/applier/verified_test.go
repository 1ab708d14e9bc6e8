package applier

import (
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

func TestVerified(t *testing.T) {
	v := NewVerified()
	shop := types.NamespacedName{Namespace: "a", Name: "shop"}
	const dep, svc = "Deployment/shop", "Service/shop"
	const uid, other = types.UID("2c1ee9cc-d4ed-49fe-8b9e-d380ba0b1ee6"), types.UID("not-a-uuid")
	const newUID = types.UID("2c1ee9cc-d4ed-49fe-8b9e-d380ba0b1ee7")
	fp := "00112233445566778899aabbccddeeff"
	if v.has(shop, dep, uid, fp) {
		t.Fatal("remembers what it was never told")
	}
	v.remember(shop, dep, uid, fp)
	v.remember(shop, svc, other, "ff")
	switch {
	case !v.has(shop, dep, uid, fp), !v.has(shop, svc, other, "ff"):
		t.Fatal("forgot what it was told")
	case v.has(shop, dep, uid, "00112233445566778899aabbccddeefe"):
		t.Error("another fingerprint of the same child passed")
	case v.has(shop, dep, newUID, fp):
		t.Error("the child made again (a new UID) with the same fingerprint passed")
	case v.has(shop, "Deployment/shop-canary", uid, fp):
		t.Error("another child passed")
	case v.has(types.NamespacedName{Namespace: "b", Name: "shop"}, dep, uid, fp):
		t.Error("another owner's memory passed")
	case v.has(shop, dep, uid, ""):
		t.Error("a child without a fingerprint passed")
	}
	v.remember(shop, dep, uid, "ffeeddccbbaa99887766554433221100")
	if v.has(shop, dep, uid, fp) {
		t.Error("an older fingerprint passed after a newer one was remembered")
	}
	v.remember(shop, dep, newUID, fp)
	if len(v.seen[shop].children) != 2 || v.has(shop, dep, uid, "ffeeddccbbaa99887766554433221100") || !v.has(shop, dep, newUID, fp) {
		t.Error("a child made again did not replace its entry")
	}
	v.forgetChild(shop, dep)
	if v.has(shop, dep, newUID, fp) || !v.has(shop, svc, other, "ff") {
		t.Error("forgetChild forgot the wrong child")
	}
	looks := v.Looks(shop)
	v.Forget(shop)
	if looks == 0 || v.Looks(shop) != 0 || v.has(shop, svc, other, "ff") {
		t.Error("Forget kept the owner's children or looks")
	}
	v.remember(shop, dep, uid, fp)
	v.Reset()
	if v.has(shop, dep, uid, fp) {
		t.Error("Reset kept a child")
	}
}

// The cached copy keeps no applied-hash annotation: a new declared hash
// must miss the memory although the fingerprint is the same.
func TestVerifiedStateCarriesTheDeclaredHash(t *testing.T) {
	v := NewVerified()
	shop := types.NamespacedName{Namespace: "a", Name: "shop"}
	const uid = types.UID("2c1ee9cc-d4ed-49fe-8b9e-d380ba0b1ee6")
	fp := "00112233445566778899aabbccddeeff"
	v.remember(shop, "Deployment/shop", uid, verifiedState(fp, "h1"))
	if !v.has(shop, "Deployment/shop", uid, verifiedState(fp, "h1")) {
		t.Fatal("forgot a child it was told about")
	}
	if v.has(shop, "Deployment/shop", uid, verifiedState(fp, "h2")) {
		t.Error("a child found up to date for hash h1 passes for h2: a changed WebApp would not be applied")
	}
	if verifiedState("", "h1") != "" {
		t.Error("a child without a fingerprint has a state: it could be judged from memory")
	}
}
