// Package traffic measures what a WebApp's stable and canary tracks really
// served, from the per-backend counters the gateway exports (names and
// labels in internal/contract): request and error counts and a latency
// histogram per backend Service, summed over every gateway replica (or read
// from Prometheus), and turned into a window of figures: each track's share,
// success rate and p99. Canary status and analysis read these windows.
package traffic
