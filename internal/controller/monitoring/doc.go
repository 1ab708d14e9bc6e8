// Package monitoring holds the manager's own Prometheus series: the
// conditions of every WebApp, the hostname claims held and in conflict
// (both read from the informer cache when Prometheus scrapes, so a deleted
// WebApp or claim leaves no series behind), and the outcome of every WebApp
// reconcile. config/components/monitoring alerts on them and
// docs/observability.md lists them.
package monitoring
