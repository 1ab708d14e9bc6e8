// Package applier makes a child object match what a builder declared, with
// server-side apply under one field owner, and never touches an object the
// owner does not control.
//
// An apply is skipped, and no write is made, when the live object already
// carries the hash of the declared object and contains every declared field
// with its declared value: the hash catches fields that were removed from the
// declaration, the containment check catches edits made by others (drift).
// So a steady state costs reads only, and drift is still reverted.
package applier
