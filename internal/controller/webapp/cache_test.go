package webapp

import (
	"testing"
	"unsafe"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/controller/applier"
	"github.com/pylon-dev/pylon/internal/controller/webapp/resources"
)

func cachedRoute(controlled bool, entries ...metav1.ManagedFieldsEntry) *gwv1.HTTPRoute {
	r := &gwv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", ManagedFields: entries},
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
			Hostnames:       []gwv1.Hostname{"shop.example.com"},
			Rules:           []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "web", Port: ptr.To[gwv1.PortNumber](80)}}}}}},
		},
	}
	r.SetSelfLink("forged")
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
		fp := applier.CachedFingerprint(r)
		if fp == "" || fp == "forged" {
			t.Fatalf("fingerprint %q, want the computed one", fp)
		}
		if r.Spec.Rules != nil || len(r.Spec.ParentRefs) != 1 || len(r.Spec.Hostnames) != 1 {
			t.Errorf("spec %+v: want parentRefs and hostnames only", r.Spec)
		}
		other := cachedRoute(true, pylonApply)
		other.Spec.Rules[0].BackendRefs[0].Port = ptr.To[gwv1.PortNumber](9999)
		TrimCachedChild(other)
		if applier.CachedFingerprint(other) == fp {
			t.Error("a changed backend port left the fingerprint as it was")
		}
	})
	for name, r := range map[string]*gwv1.HTTPRoute{
		"another namespace's route, with a forged fingerprint": cachedRoute(false, pylonApply),
		"a WebApp's child Pylon's apply owns nothing in":       cachedRoute(true, metav1.ManagedFieldsEntry{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate, FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:spec":{}}`)}),
	} {
		t.Run(name, func(t *testing.T) {
			TrimCachedChild(r)
			if applier.CachedFingerprint(r) != "" {
				t.Error("kept a fingerprint it did not compute")
			}
			if len(r.Spec.Rules) != 1 {
				t.Error("dropped the spec of an object without a fingerprint")
			}
		})
	}
	svc := &corev1.Service{}
	svc.SetSelfLink("forged")
	TrimCachedChild(svc)
	if applier.CachedFingerprint(svc) != "" {
		t.Error("kept a forged fingerprint on an object no WebApp controls")
	}
}

// TestTrimChildMeta: a cached child keeps the labels and annotations a
// reconcile reads (no annotations but a Deployment's revision), and shares its namespace, owner and label strings.
func TestTrimChildMeta(t *testing.T) {
	meta := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: string([]byte("shop")), Name: "web",
			Labels:      map[string]string{resources.LabelName: "web", resources.LabelManagedBy: resources.ManagedByPylon, resources.LabelWebApp: "web"},
			Annotations: map[string]string{applier.AnnotationAppliedHash: "h1", "example.com/note": "x", revisionAnnotation: "3"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: string([]byte(pylonv1alpha1.GroupVersion.String())), Kind: "WebApp",
				Name: string([]byte("web")), UID: "u1", Controller: ptr.To(true)}},
			ManagedFields: []metav1.ManagedFieldsEntry{pylonApply}}
	}
	svc := &corev1.Service{ObjectMeta: meta()}
	TrimCachedChild(svc)
	if svc.Labels != nil {
		t.Errorf("a Service kept its labels %v: no reconcile reads them", svc.Labels)
	}
	if svc.Annotations != nil || applier.CachedFingerprint(svc) == "" {
		t.Errorf("a Service's annotations are %v, fingerprint %q: want no annotations, and the fingerprint", svc.Annotations, applier.CachedFingerprint(svc))
	}
	dep := &appsv1.Deployment{ObjectMeta: meta()}
	TrimCachedChild(dep)
	if dep.Annotations[revisionAnnotation] != "3" || len(dep.Annotations) != 1 {
		t.Errorf("a Deployment's annotations are %v: want its revision too", dep.Annotations)
	}
	route := cachedRoute(true, pylonApply)
	route.ObjectMeta = meta()
	TrimCachedChild(route)
	if !pylonChild(route) || route.Labels != nil {
		t.Errorf("an HTTPRoute's labels are %v, Pylon's own: %v; want no labels, and hostname lookups to know it as Pylon's by its fingerprint", route.Labels, pylonChild(route))
	}
	foreign := cachedRoute(false, pylonApply)
	foreign.Labels = nil
	TrimCachedChild(foreign)
	if pylonChild(foreign) {
		t.Error("another namespace's route without Pylon's labels passes for Pylon's own")
	}
	other := &corev1.Service{ObjectMeta: meta()}
	TrimCachedChild(other)
	same := func(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }
	if !same(svc.Namespace, other.Namespace) {
		t.Error("two children of one namespace hold two copies of its name")
	}
	ref := route.OwnerReferences[0]
	if !same(ref.Name, route.Name) || !same(ref.APIVersion, webAppAPIVersion) {
		t.Error("the owner reference holds copies of the child's name or the WebApp group")
	}
}
