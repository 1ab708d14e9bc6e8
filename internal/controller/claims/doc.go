// Package claims decides which WebApp holds a hostname: one WebApp in the
// whole cluster, first come first served, durable across restarts and
// concurrent reconciles.
//
// The record is the cluster-scoped HostnameClaim, named after the normalized
// hostname. Creating it is the atomic act of claiming: the API server lets
// exactly one Create of a name succeed, so two reconciles (in one manager or
// in two, during a leader hand-over) can never both hold a hostname. Its spec
// is immutable, so a hostname changes hands by delete and create, and every
// delete carries a UID precondition so that a claim is only ever deleted by
// someone who looked at that very claim.
//
// When no claim exists, the oldest eligible WebApp wanting the hostname (by
// creation time, then namespace, then name) goes first. That makes the first
// contention "first come first served by creation time", and a hand-over
// (the holder is deleted or moves to another hostname) goes to the oldest
// waiter rather than to whichever reconcile happens to run first.
//
// A cluster-scoped object cannot be owned by a namespaced one, so claims have
// no owner reference and no finalizer: the holder releases them (Release),
// a waiter deletes a stale one it finds (Ensure), and Reconciler deletes any
// claim whose holder is gone, being deleted or wants another hostname.
package claims
