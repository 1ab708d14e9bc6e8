// Package monitoring checks Pylon's alerting rules and Grafana dashboard
// (config/components/monitoring, copied into the chart) with Prometheus's
// own rule and PromQL parsers, and checks that every series they use is
// one Pylon's code really exports.
//
// It is a module of its own: Prometheus's dependency graph (cloud SDKs,
// service discovery) must not enter Pylon's go.mod. hack/make/monitoring.mk
// runs it as part of `make test`.
package monitoring
