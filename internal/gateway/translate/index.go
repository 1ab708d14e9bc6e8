package translate

import (
	"cmp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

// index holds lookups over the snapshot. Map lookups are fine; iteration
// always goes over the sorted slices so output never depends on map order.
type index struct {
	opts       Options
	namespaces map[string]*corev1.Namespace
	services   map[types.NamespacedName]*corev1.Service
	slices     map[types.NamespacedName][]*discoveryv1.EndpointSlice
	secrets    map[types.NamespacedName]*corev1.Secret
	grants     []*gwv1beta1.ReferenceGrant
}

func newIndex(s *Snapshot) *index {
	ix := &index{
		opts:       s.Options,
		namespaces: map[string]*corev1.Namespace{},
		services:   map[types.NamespacedName]*corev1.Service{},
		slices:     map[types.NamespacedName][]*discoveryv1.EndpointSlice{},
		secrets:    map[types.NamespacedName]*corev1.Secret{},
	}
	for _, n := range s.Namespaces {
		if n != nil {
			ix.namespaces[n.Name] = n
		}
	}
	for _, svc := range s.Services {
		if svc != nil {
			ix.services[nn(svc.Namespace, svc.Name)] = svc
		}
	}
	for _, es := range sortedObjects(s.EndpointSlices) {
		svc := es.Labels[discoveryv1.LabelServiceName]
		if svc == "" {
			continue
		}
		k := nn(es.Namespace, svc)
		ix.slices[k] = append(ix.slices[k], es)
	}
	for _, sec := range s.Secrets {
		if sec != nil {
			ix.secrets[nn(sec.Namespace, sec.Name)] = sec
		}
	}
	ix.grants = sortedObjects(s.ReferenceGrants)
	return ix
}

func nn(ns, name string) types.NamespacedName { return types.NamespacedName{Namespace: ns, Name: name} }

// object is what sorting needs from any Kubernetes object.
type object interface {
	comparable
	GetNamespace() string
	GetName() string
	GetCreationTimestamp() metav1.Time
}

// sortedObjects returns a copy without nils, oldest first, then by
// namespace/name: the Gateway API tie-break order, used everywhere so that
// "first wins" decisions are stable.
func sortedObjects[T object](in []T) []T {
	var zero T
	out := make([]T, 0, len(in))
	for _, o := range in {
		if o != zero {
			out = append(out, o)
		}
	}
	slices.SortStableFunc(out, compareObjects)
	return out
}

func compareObjects[T object](a, b T) int {
	if c := a.GetCreationTimestamp().Compare(b.GetCreationTimestamp().Time); c != 0 {
		return c
	}
	if c := strings.Compare(a.GetNamespace(), b.GetNamespace()); c != 0 {
		return c
	}
	return strings.Compare(a.GetName(), b.GetName())
}

// sortedByName returns a copy sorted by namespace/name only, for status lists.
func sortedByName[T object](in []T) []T {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b T) int {
		return cmp.Or(strings.Compare(a.GetNamespace(), b.GetNamespace()), strings.Compare(a.GetName(), b.GetName()))
	})
	return out
}

// namespaceSelected evaluates a label selector against a namespace's labels.
// A namespace missing from the snapshot still has the well-known name label
// the API server sets on every namespace.
func (ix *index) namespaceSelected(ns string, sel *metav1.LabelSelector) bool {
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	set := labels.Set{corev1.LabelMetadataName: ns}
	if n := ix.namespaces[ns]; n != nil {
		for k, v := range n.Labels {
			set[k] = v
		}
	}
	return s.Matches(set)
}
