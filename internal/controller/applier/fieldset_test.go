package applier

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A Deployment as the API server returns it, with the managedFields of an
// apply by Pylon and of another writer who added a sidecar and an
// annotation (fields Pylon does not own).
func deploymentWithOwners() (map[string]any, []metav1.ManagedFieldsEntry) {
	obj := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{
			"name": "web", "namespace": "shop", "generation": int64(3),
			"labels":      map[string]any{"app": "web"},
			"annotations": map[string]any{AnnotationAppliedHash: "abc", "team": "other"},
		},
		"spec": map[string]any{
			"replicas": int64(2),
			"template": map[string]any{"spec": map[string]any{"containers": []any{
				map[string]any{"name": "app", "image": "shop:1", "terminationMessagePath": "/dev/termination-log",
					"ports": []any{map[string]any{"containerPort": int64(8080), "protocol": "TCP", "name": "http"}}},
				map[string]any{"name": "sidecar", "image": "proxy:2"},
			}}},
		},
		"status": map[string]any{"availableReplicas": int64(2)},
	}
	pylon := `{"f:metadata":{"f:labels":{"f:app":{}},"f:annotations":{"f:pylon.dev/applied-hash":{}}},` +
		`"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:name":{},"f:image":{},` +
		`"f:ports":{"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:name":{},"f:protocol":{}}}}}}}}}`
	other := `{"f:metadata":{"f:annotations":{"f:team":{}}},"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"sidecar\"}":{".":{},"f:name":{},"f:image":{}}}}}}}`
	return obj, []metav1.ManagedFieldsEntry{
		{Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate, FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(other)},
		{Manager: FieldOwner, Operation: metav1.ManagedFieldsOperationApply, FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(pylon)},
		{Manager: FieldOwner, Operation: metav1.ManagedFieldsOperationApply, Subresource: "status", FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:status":{}}`)},
	}
}

func containers(obj map[string]any) []any {
	return obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
}

func TestOwnedFingerprint(t *testing.T) {
	obj, mf := deploymentWithOwners()
	base, err := OwnedFingerprint(obj, mf)
	if err != nil || base == "" {
		t.Fatalf("fingerprint = %q, %v", base, err)
	}
	for _, tc := range []struct {
		name   string
		change func(obj map[string]any, mf []metav1.ManagedFieldsEntry) []metav1.ManagedFieldsEntry
		same   bool
	}{
		{"another writer's sidecar image", func(o map[string]any, mf []metav1.ManagedFieldsEntry) []metav1.ManagedFieldsEntry {
			containers(o)[1].(map[string]any)["image"] = "proxy:3"
			return mf
		}, true},
		{"an annotation Pylon does not own, and status", func(o map[string]any, mf []metav1.ManagedFieldsEntry) []metav1.ManagedFieldsEntry {
			o["metadata"].(map[string]any)["annotations"].(map[string]any)["team"] = "x"
			o["status"] = map[string]any{"availableReplicas": int64(0)}
			o["metadata"].(map[string]any)["generation"] = int64(4)
			return mf
		}, true},
		{"a value Pylon applied", func(o map[string]any, mf []metav1.ManagedFieldsEntry) []metav1.ManagedFieldsEntry {
			containers(o)[0].(map[string]any)["image"] = "evil:1"
			return mf
		}, false},
		{"a field taken out of Pylon's set by another writer, same value", func(_ map[string]any, mf []metav1.ManagedFieldsEntry) []metav1.ManagedFieldsEntry {
			mf[1].FieldsV1 = metav1.NewFieldsV1(`{"f:metadata":{"f:labels":{"f:app":{}},"f:annotations":{"f:pylon.dev/applied-hash":{}}},"f:spec":{"f:replicas":{}}}`)
			return mf
		}, false},
		{"replicas", func(o map[string]any, mf []metav1.ManagedFieldsEntry) []metav1.ManagedFieldsEntry {
			o["spec"].(map[string]any)["replicas"] = int64(3)
			return mf
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, m := deploymentWithOwners()
			m = tc.change(o, m)
			got, err := OwnedFingerprint(o, m)
			if err != nil {
				t.Fatal(err)
			}
			if (got == base) != tc.same {
				t.Errorf("fingerprint %s, before %s: want same=%v", got, base, tc.same)
			}
		})
	}
	if fp, err := OwnedFingerprint(obj, mf[:1]); fp != "" || err != nil {
		t.Errorf("without Pylon's entry: %q, %v; want none", fp, err)
	}
	if _, err := OwnedFingerprint(obj, []metav1.ManagedFieldsEntry{{Manager: FieldOwner, Operation: metav1.ManagedFieldsOperationApply, FieldsV1: metav1.NewFieldsV1(`{"x:y":{}}`)}}); err == nil {
		t.Error("an unknown path element was accepted")
	}
}

func TestCovered(t *testing.T) {
	obj, mf := deploymentWithOwners()
	set, err := ownedSet(mf)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": "shop", "labels": map[string]any{"app": "web"},
			"annotations": map[string]any{AnnotationAppliedHash: "abc"}},
		"spec": map[string]any{
			"replicas": int64(2),
			"template": map[string]any{"metadata": map[string]any{}, "spec": map[string]any{"containers": []any{
				map[string]any{"name": "app", "image": "shop:1", "resources": map[string]any{},
					"ports": []any{map[string]any{"containerPort": int64(8080), "protocol": "TCP", "name": "http"}}},
			}}},
		},
	}
	// covered compares list elements by index, as contains does: the live
	// list here has the sidecar too, so compare a live copy without it.
	live := withoutIdentity(obj)
	spec := live["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	spec["containers"] = spec["containers"].([]any)[:1]
	if !covered(withoutIdentity(declared), live, set) {
		t.Error("every declared field is Pylon's, yet not covered")
	}
	declared["spec"].(map[string]any)["paused"] = true
	if covered(withoutIdentity(declared), live, set) {
		t.Error("spec.paused is not in Pylon's set, yet covered")
	}
	delete(declared["spec"].(map[string]any), "paused")
	c := declared["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	c["command"] = []any{"run"}
	if covered(withoutIdentity(declared), live, set) {
		t.Error("a container's command is not in Pylon's set, yet covered")
	}
}
