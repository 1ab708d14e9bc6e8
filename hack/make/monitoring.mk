# Monitoring kit: config/components/monitoring (ServiceMonitors, alerting
# rules, Grafana dashboard; `make chart` copies the rules and the dashboard
# into charts/pylon/files/monitoring). test/monitoring checks them with
# Prometheus's own rule and PromQL parsers; it is a module of its own so
# that Prometheus's dependency graph stays out of Pylon's go.mod, hence
# `go test ./...` from the root does not reach it and `make test` runs it
# through TEST_DEPS.

TEST_DEPS += test-monitoring

##@ Monitoring

.PHONY: test-monitoring
test-monitoring: ## Parse the alerting rules and dashboard queries with Prometheus's parsers; check every series and label they use is exported.
	cd test/monitoring && $(GO) test ./... -count=1 -timeout $(GO_TEST_TIMEOUT)
