package applier

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// AnnotationOwnedFingerprint is set on the manager's cached copies of
// WebApp children, never on the objects themselves: the fingerprint of what
// Pylon's apply owns in the child (OwnedFingerprint), computed by the cache
// transform before it drops the spec and managedFields.
const AnnotationOwnedFingerprint = "pylon.dev/cached-owned-fingerprint"

// Verified remembers, per owner, the children the applier last found up to
// date by reading them in full from the API server (or by writing them),
// with the fingerprint of what Pylon's apply owned in them then. A cached
// child with the same fingerprint, the same applied hash and the same UID
// is still up to date: nobody changed or took any field Pylon applied. It
// lives in memory only; after a restart every child is read once.
type Verified struct {
	mu   sync.Mutex
	seen map[types.NamespacedName][]verifiedChild
}

type verifiedChild struct {
	uid         types.UID
	fingerprint string
}

// NewVerified returns an empty memory.
func NewVerified() *Verified {
	return &Verified{seen: map[types.NamespacedName][]verifiedChild{}}
}

func (v *Verified) has(owner types.NamespacedName, uid types.UID, fingerprint string) bool {
	if v == nil || fingerprint == "" {
		return false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, c := range v.seen[owner] {
		if c.uid == uid {
			return c.fingerprint == fingerprint
		}
	}
	return false
}

func (v *Verified) remember(owner types.NamespacedName, uid types.UID, fingerprint string) {
	if v == nil || uid == "" {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	list := v.seen[owner]
	for i := range list {
		if list[i].uid == uid {
			list[i].fingerprint = fingerprint
			return
		}
	}
	v.seen[owner] = append(list, verifiedChild{uid: uid, fingerprint: fingerprint})
}

func (v *Verified) forgetChild(owner types.NamespacedName, uid types.UID) {
	if v == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	list := v.seen[owner]
	for i := range list {
		if list[i].uid == uid {
			v.seen[owner] = append(list[:i], list[i+1:]...)
			return
		}
	}
}

// Reset forgets every child: the next look at each reads it in full, as
// after a restart.
func (v *Verified) Reset() {
	if v == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	clear(v.seen)
}

// Forget drops what is remembered of owner's children (owner is gone).
func (v *Verified) Forget(owner types.NamespacedName) {
	if v == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.seen, owner)
}
