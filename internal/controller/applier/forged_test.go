package applier

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// When the cache does not hold the child, get() reads it from the API
// server: a cached fingerprint there (CachedFingerprint) is a tenant's
// (only the cache transform sets one) and must not pass.
func TestForgedFingerprintOnAnObjectReadPastTheCache(t *testing.T) {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	owner := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "owner", UID: "owner-uid"}}
	owner.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind("Deployment"))
	desired := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}, Data: map[string]string{"image": "good:1"}}
	declared, err := Declared(desired)
	if err != nil {
		t.Fatal(err)
	}
	// The live object: drifted (image evil), controlled by owner, same
	// applied hash, and a forged cached fingerprint equal to what Pylon
	// remembers.
	live := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", UID: "child-uid",
		Annotations:     map[string]string{AnnotationAppliedHash: declared.GetAnnotations()[AnnotationAppliedHash]},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "owner", UID: "owner-uid", Controller: ptr.To(true)}}},
		Data: map[string]string{"image": "evil:1"}}
	live.SetSelfLink("F0")
	cache := fake.NewClientBuilder().WithScheme(scheme).Build() // the cache has not got it
	api := fake.NewClientBuilder().WithScheme(scheme).WithObjects(live).Build()
	v := NewVerified()
	v.remember(types.NamespacedName{Namespace: "shop", Name: "owner"}, "ConfigMap/web", "child-uid", verifiedState("F0", declared.GetAnnotations()[AnnotationAppliedHash]))
	a := &Applier{Client: cache, APIReader: api, Verified: v}
	res, err := a.Apply(context.Background(), owner, desired)
	if err != nil {
		t.Fatal(err)
	}
	got := &corev1.ConfigMap{}
	_ = api.Get(context.Background(), client.ObjectKeyFromObject(live), got)
	if !res.Wrote {
		t.Errorf("drifted child judged up to date from a server-side forged annotation: wrote=%v, live data %v", res.Wrote, got.Data)
	}
}
