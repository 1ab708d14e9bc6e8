// Package watch turns cluster events into published routing tables: every
// relevant change triggers a debounced full rebuild (snapshot from the
// informer caches → translate.Translate → Validate → publish). Rebuilding
// the whole world keeps the data plane simple and correct; the debounce
// bounds the cost under event storms and the maximum delay bounds how stale
// the table can get while events keep arriving.
//
// Updates that change nothing the gateway reads (status writes, the
// gateway's own among them; resourceVersion and managedFields bumps;
// resyncs) are dropped before they trigger, and a rebuilt table equal to
// the live one is not published, so the proxy's balancing and the
// listeners only see real changes.
//
// Every replica runs a Builder; only the leader writes the status it
// produces (package status).
package watch
