package applier

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The manager's cache transform computes, for each cached WebApp child,
// the fingerprint of what Pylon's apply owns in it (ObjectFingerprint),
// before it drops the spec and managedFields, and leaves it on its copy in
// metadata.selfLink: a deprecated field the API server no longer sets
// (since Kubernetes 1.20) and nothing reads, which costs a string where an
// annotation would cost a map per child (at 5,000 WebApps, ~10 MB). The
// transform clears the field on every object it caches first, so a value
// can only be its own; objects read past the cache never take the
// shortcut (Applier.Apply). Only these two functions know where it lives.

// CachedFingerprint returns the fingerprint the cache transform left on
// its copy of a child, "" when none.
func CachedFingerprint(o metav1.Object) string { return o.GetSelfLink() }

// SetCachedFingerprint records fp on the cache's copy of a child; "" clears
// whatever the field held.
func SetCachedFingerprint(o metav1.Object, fp string) { o.SetSelfLink(fp) }

// verifiedState is what Verified remembers of a child: the fingerprint of
// what Pylon owns and the applied hash Pylon declared then. The fingerprint
// covers the child's applied-hash annotation (Pylon applies it and must own
// it), so a child whose fingerprint is unchanged still carries the hash it
// had when it was found up to date; the cached copy need not keep the
// annotation. "" when there is no fingerprint.
func verifiedState(fingerprint, appliedHash string) string {
	if fingerprint == "" {
		return ""
	}
	return fingerprint + " " + appliedHash
}

// Verified remembers, per owner, the children the applier last found up to
// date by reading them in full from the API server (or by writing them),
// with the fingerprint of what Pylon's apply owned in them then. A cached
// child with the same fingerprint, the same applied hash and the same UID
// is still up to date: nobody changed or took any field Pylon applied. It
// lives in memory only; after a restart every child is read once.
type Verified struct {
	mu   sync.Mutex
	seen map[types.NamespacedName]*ownerMemory
}

type ownerMemory struct {
	children []verifiedChild
	// looks counts the children judged from memory (found or not).
	looks uint64
}

// verifiedChild is 40 bytes without pointers: at 5,000 WebApps there are
// ~27,500 of them. A child is known by its kind and name: one that is
// deleted and made again (a new UID) replaces its entry.
type verifiedChild struct {
	child       [8]byte
	uid         [16]byte
	fingerprint [16]byte
}

// compact turns a UID (a UUID on every API server) and a fingerprint (hex)
// into fixed arrays; anything else is hashed into one.
func compact(child string, uid types.UID, fingerprint string) verifiedChild {
	var c verifiedChild
	name := sha256.Sum256([]byte(child))
	c.child = [8]byte(name[:8])
	if b, err := hex.DecodeString(strings.ReplaceAll(string(uid), "-", "")); err == nil && len(b) == 16 {
		copy(c.uid[:], b)
	} else {
		sum := sha256.Sum256([]byte(uid))
		c.uid = [16]byte(sum[:16])
	}
	if b, err := hex.DecodeString(fingerprint); err == nil && len(b) == 16 {
		copy(c.fingerprint[:], b)
	} else {
		sum := sha256.Sum256([]byte(fingerprint))
		c.fingerprint = [16]byte(sum[:16])
	}
	return c
}

// NewVerified returns an empty memory.
func NewVerified() *Verified {
	return &Verified{seen: map[types.NamespacedName]*ownerMemory{}}
}

// Looks is how many times a child of owner was looked up in memory since
// owner was last forgotten: each reconcile that reaches the applier looks
// up every existing child once.
func (v *Verified) Looks(owner types.NamespacedName) uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	if m := v.seen[owner]; m != nil {
		return m.looks
	}
	return 0
}

func (v *Verified) owner(owner types.NamespacedName) *ownerMemory {
	m := v.seen[owner]
	if m == nil {
		m = &ownerMemory{}
		v.seen[owner] = m
	}
	return m
}

func (v *Verified) has(owner types.NamespacedName, child string, uid types.UID, fingerprint string) bool {
	if v == nil {
		return false
	}
	want := compact(child, uid, fingerprint)
	v.mu.Lock()
	defer v.mu.Unlock()
	m := v.owner(owner)
	m.looks++
	if fingerprint == "" {
		return false
	}
	for _, c := range m.children {
		if c.child == want.child {
			return c.uid == want.uid && c.fingerprint == want.fingerprint
		}
	}
	return false
}

func (v *Verified) remember(owner types.NamespacedName, child string, uid types.UID, fingerprint string) {
	if v == nil || uid == "" {
		return
	}
	c := compact(child, uid, fingerprint)
	v.mu.Lock()
	defer v.mu.Unlock()
	m := v.owner(owner)
	for i := range m.children {
		if m.children[i].child == c.child {
			m.children[i] = c
			return
		}
	}
	m.children = append(m.children, c)
}

func (v *Verified) forgetChild(owner types.NamespacedName, child string) {
	if v == nil {
		return
	}
	key := compact(child, "", "").child
	v.mu.Lock()
	defer v.mu.Unlock()
	m := v.seen[owner]
	if m == nil {
		return
	}
	for i := range m.children {
		if m.children[i].child == key {
			m.children = append(m.children[:i], m.children[i+1:]...)
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
