# Monitoring kit: config/components/monitoring (ServiceMonitors, alerting
# rules, Grafana dashboard; `make chart` copies the rules and the dashboard
# into charts/pylon/files/monitoring). test/monitoring checks them with
# Prometheus's own rule and PromQL parsers; it is a module of its own so
# that Prometheus's dependency graph stays out of Pylon's go.mod, hence
# `go test ./...` from the root does not reach it and `make test` runs it
# through TEST_DEPS.

TEST_DEPS += test-monitoring

##@ Monitoring

# It renders the chart and the kustomize component, so it needs helm and
# kustomize built first (hack/make/packaging.mk and the Makefile build them).
.PHONY: test-monitoring
test-monitoring: kustomize helm ## Check the monitoring kit: rules and dashboard queries through Prometheus's parsers, series and labels against the code, ServiceMonitors against the Prometheus Operator's API.
	cd test/monitoring && $(GO) test ./... -count=1 -timeout $(GO_TEST_TIMEOUT)
