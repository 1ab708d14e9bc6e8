// Package index registers field indexes on the manager's cache that keep
// one entry per value, in the one form their lookups use.
//
// controller-runtime's FieldIndexer keeps every value of a namespaced
// object twice: once for lookups in the object's namespace and once for
// lookups across namespaces, each value with a set of its own. For an index
// whose values are unique per object (a WebApp's hostname, a claim's
// holder) that doubles the biggest part of the index: at 5,000 WebApps,
// about 15,000 sets. The indexers here register under the same name
// ("field:" + field) and produce only the key a lookup asks for, so
// client.List with client.MatchingFields reads them unchanged, from the
// cache, as before; a lookup in the other form finds nothing, so each
// index says which one it serves.
package index

import (
	"context"
	"fmt"

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// allNamespaces is the namespace part of the key controller-runtime's cache
// reader looks up for a List without a namespace (its internal
// KeyToNamespacedKey); the index tests fail if it changes.
const allNamespaces = "__all_namespaces"

// Indexer is a client.FieldIndexer whose indexes serve one form of lookup.
type Indexer struct {
	cache cache.Informers
	// namespaced: lookups name the object's namespace; otherwise they span
	// every namespace.
	namespaced bool
}

// ClusterWide indexes for client.List calls without client.InNamespace.
func ClusterWide(c cache.Informers) *Indexer { return &Indexer{cache: c} }

// Namespaced indexes for client.List calls with client.InNamespace.
func Namespaced(c cache.Informers) *Indexer { return &Indexer{cache: c, namespaced: true} }

// IndexField registers fn as the index field on obj's kind.
func (x *Indexer) IndexField(ctx context.Context, obj client.Object, field string, fn client.IndexerFunc) error {
	inf, err := x.cache.GetInformer(ctx, obj, cache.BlockUntilSynced(false))
	if err != nil {
		return fmt.Errorf("informer of %T for index %s: %w", obj, field, err)
	}
	return inf.AddIndexers(toolscache.Indexers{"field:" + field: func(raw any) ([]string, error) {
		o, ok := raw.(client.Object)
		if !ok {
			return nil, nil
		}
		vals := fn(o)
		if len(vals) == 0 {
			return nil, nil
		}
		ns := allNamespaces
		if x.namespaced {
			ns = o.GetNamespace()
		}
		keys := make([]string, len(vals))
		for i, v := range vals {
			keys[i] = ns + "/" + v
		}
		return keys, nil
	}})
}

var _ client.FieldIndexer = (*Indexer)(nil)
