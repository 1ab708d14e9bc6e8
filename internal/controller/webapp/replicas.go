package webapp

import (
	"context"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/pylon-dev/pylon/internal/controller/applier"
)

// handoffFieldOwner holds spec.replicas for a moment when autoscaling is
// turned on.
const handoffFieldOwner = "pylon-replicas-handoff"

// handOffReplicas runs before Pylon applies a Deployment without
// spec.replicas (an HPA now owns the size). Were Pylon simply to drop the
// field it owns, the API server would remove it and default it to 1, cutting
// the app to one Pod until the HPA scales it back. So, as the Kubernetes
// server-side apply docs describe for this hand-over, the current value is
// first applied under another field manager, which keeps it in place; the
// HPA's scale writes take it over from there.
func handOffReplicas(ctx context.Context, c client.Client, live *appsv1.Deployment) error {
	if live == nil || live.Spec.Replicas == nil || !appliedReplicas(live.ManagedFields) {
		return nil
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata":   map[string]any{"name": live.Name, "namespace": live.Namespace},
		"spec":       map[string]any{"replicas": int64(*live.Spec.Replicas)},
	}}
	if err := c.Apply(ctx, applier.AsApplyConfiguration(c.Scheme(), u), client.FieldOwner(handoffFieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("hand spec.replicas of Deployment %s/%s over to the autoscaler: %w", live.Namespace, live.Name, err)
	}
	return nil
}

// appliedReplicas reports whether Pylon's apply owns spec.replicas.
func appliedReplicas(fields []metav1.ManagedFieldsEntry) bool {
	for _, f := range fields {
		if f.Manager != applier.FieldOwner || f.Operation != metav1.ManagedFieldsOperationApply || f.FieldsV1 == nil {
			continue
		}
		var set map[string]map[string]any
		if err := json.Unmarshal(f.FieldsV1.GetRawBytes(), &set); err != nil {
			continue
		}
		if _, ok := set["f:spec"]["f:replicas"]; ok {
			return true
		}
	}
	return false
}

// replicasOwnership is the one managedFields entry a cached Deployment
// keeps (TrimManagedFields). Every cached Deployment whose spec.replicas
// Pylon's apply owns shares it; nothing writes to it.
var replicasOwnership = metav1.ManagedFieldsEntry{
	Manager:    applier.FieldOwner,
	Operation:  metav1.ManagedFieldsOperationApply,
	APIVersion: "apps/v1",
	FieldsType: "FieldsV1",
	FieldsV1:   metav1.NewFieldsV1(`{"f:spec":{"f:replicas":{}}}`),
}

// TrimManagedFields reduces a Deployment's managedFields to what
// handOffReplicas reads: whether Pylon's apply owns spec.replicas. A
// Deployment's managedFields (several kilobytes: Pylon's whole template)
// are the largest part of it; the manager's cache keeps this instead
// (controller.CacheOptions).
func TrimManagedFields(d *appsv1.Deployment) {
	if appliedReplicas(d.ManagedFields) {
		d.ManagedFields = []metav1.ManagedFieldsEntry{replicasOwnership}
		return
	}
	d.ManagedFields = nil
}
