package webapp

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/applier"
)

func cachedRoute(controlled bool, entries ...metav1.ManagedFieldsEntry) *gwv1.HTTPRoute {
	r := &gwv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", ManagedFields: entries,
			Annotations: map[string]string{applier.AnnotationOwnedFingerprint: "forged"}},
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
			Hostnames:       []gwv1.Hostname{"shop.example.com"},
			Rules:           []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "web", Port: ptr.To[gwv1.PortNumber](80)}}}}}},
		},
	}
	if controlled {
		r.OwnerReferences = []metav1.OwnerReference{{APIVersion: pylonv1alpha1.GroupVersion.String(), Kind: "WebApp", Name: "web", UID: "u1", Controller: ptr.To(true)}}
	}
	return r
}

var pylonApply = metav1.ManagedFieldsEntry{Manager: applier.FieldOwner, Operation: metav1.ManagedFieldsOperationApply, FieldsType: "FieldsV1",
	FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:hostnames":{},"f:parentRefs":{},"f:rules":{}}}`)}

func TestTrimCachedChild(t *testing.T) {
	t.Run("a WebApp's child Pylon applied", func(t *testing.T) {
		r := cachedRoute(true, pylonApply)
		TrimCachedChild(r)
		fp := r.Annotations[applier.AnnotationOwnedFingerprint]
		if fp == "" || fp == "forged" {
			t.Fatalf("fingerprint %q, want the computed one", fp)
		}
		if r.Spec.Rules != nil || len(r.Spec.ParentRefs) != 1 || len(r.Spec.Hostnames) != 1 {
			t.Errorf("spec %+v: want parentRefs and hostnames only", r.Spec)
		}
		other := cachedRoute(true, pylonApply)
		other.Spec.Rules[0].BackendRefs[0].Port = ptr.To[gwv1.PortNumber](9999)
		TrimCachedChild(other)
		if other.Annotations[applier.AnnotationOwnedFingerprint] == fp {
			t.Error("a changed backend port left the fingerprint as it was")
		}
	})
	for name, r := range map[string]*gwv1.HTTPRoute{
		"another namespace's route, with a forged fingerprint": cachedRoute(false, pylonApply),
		"a WebApp's child Pylon's apply owns nothing in":       cachedRoute(true, metav1.ManagedFieldsEntry{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate, FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:spec":{}}`)}),
	} {
		t.Run(name, func(t *testing.T) {
			TrimCachedChild(r)
			if _, ok := r.Annotations[applier.AnnotationOwnedFingerprint]; ok {
				t.Error("kept a fingerprint it did not compute")
			}
			if len(r.Spec.Rules) != 1 {
				t.Error("dropped the spec of an object without a fingerprint")
			}
		})
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{applier.AnnotationOwnedFingerprint: "forged"}}}
	TrimCachedChild(svc)
	if len(svc.Annotations) != 0 {
		t.Error("kept a forged fingerprint on an object no WebApp controls")
	}
}
