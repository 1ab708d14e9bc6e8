// Package watch turns cluster events into published routing tables: every
// relevant change triggers a debounced full rebuild (snapshot from the
// informer caches → translate.Translate → Validate → publish). Rebuilding
// the whole world keeps the data plane simple and correct; the debounce
// bounds the cost under event storms and the maximum delay bounds how stale
// the table can get while events keep arriving.
//
// Every replica runs a Builder; only the leader writes the status it
// produces (package status).
package watch
