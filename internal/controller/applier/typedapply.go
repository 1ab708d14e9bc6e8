package applier

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// typedApply carries an unstructured apply body but presents itself to
// controller-runtime as a typed apply configuration. With read-your-writes
// consistency on (cmd/manager), the client tracks each write in the
// informer of the written object's representation: an unstructured apply
// made it start a second, unstructured informer for every child kind and
// for WebApps, next to the typed ones Pylon watches, and unstructured
// objects are several times the size of typed ones. That doubled cache
// was most of the manager's memory at scale. The body sent is the same
// JSON; only which cache confirms the write changes.
type typedApply struct {
	u *unstructured.Unstructured
	// ResourceVersion is read by the client (by reflection, as on generated
	// apply configurations) after the write, to wait for the cache.
	ResourceVersion *string
}

// AsApplyConfiguration wraps u as a typed apply configuration when the
// scheme knows its kind (then a typed informer confirms writes), else as
// an unstructured one. Every server-side apply Pylon sends goes through it.
func AsApplyConfiguration(scheme *runtime.Scheme, u *unstructured.Unstructured) runtime.ApplyConfiguration {
	if scheme == nil || !scheme.Recognizes(u.GroupVersionKind()) {
		return client.ApplyConfigurationFromUnstructured(u)
	}
	return &typedApply{u: u}
}

// IsApplyConfiguration marks typedApply as a runtime.ApplyConfiguration.
func (t *typedApply) IsApplyConfiguration() {}

// GetName, GetNamespace, GetKind and GetAPIVersion are how the client
// finds the resource of an apply configuration.
func (t *typedApply) GetName() *string      { return strPtr(t.u.GetName()) }
func (t *typedApply) GetNamespace() *string { return strPtr(t.u.GetNamespace()) }
func (t *typedApply) GetKind() *string      { return strPtr(t.u.GetKind()) }
func (t *typedApply) GetAPIVersion() *string {
	return strPtr(t.u.GetAPIVersion())
}

// MarshalJSON sends the unstructured body unchanged.
func (t *typedApply) MarshalJSON() ([]byte, error) { return t.u.MarshalJSON() }

// UnmarshalJSON takes the API server's answer, as generated apply
// configurations do, including its resourceVersion.
func (t *typedApply) UnmarshalJSON(b []byte) error {
	if t.u == nil { // a fresh value (controller-runtime's fake client decodes into one)
		t.u = &unstructured.Unstructured{}
	}
	if err := t.u.UnmarshalJSON(b); err != nil {
		return err
	}
	t.ResourceVersion = strPtr(t.u.GetResourceVersion())
	return nil
}

func strPtr(s string) *string { return &s }
