##@ End-to-end

# End-to-end tests, the Gateway API conformance suite and the demo run a real
# control plane on this machine (test/localcluster): etcd, kube-apiserver,
# kube-controller-manager, a simulated node serving Pylon's echo backend, and
# Pylon's manager and gateway as processes of their own, all inside a private
# network namespace.
E2E_BIN ?= $(LOCALBIN)/e2e
KUBE_CONTROLLER_MANAGER ?= $(ENVTEST_DIR)/kube-controller-manager

# The manager and gateway are rebuilt every time (go build is incremental),
# so the tests never run stale binaries.
.PHONY: e2e-binaries
e2e-binaries: ## Build the manager and gateway binaries the end-to-end tests run.
	@mkdir -p $(E2E_BIN)
	$(GO) build -o $(E2E_BIN)/manager ./cmd/manager
	$(GO) build -o $(E2E_BIN)/gateway ./cmd/gateway

.PHONY: e2e-deps
e2e-deps: envtest $(KUBE_CONTROLLER_MANAGER) e2e-binaries ## Build everything the local cluster needs.

# `make test` runs test/e2e, which fails when these are missing.
TEST_DEPS += $(KUBE_CONTROLLER_MANAGER) e2e-binaries

.PHONY: e2e
e2e: e2e-deps ## Run only the end-to-end tests against a local cluster.
	$(GO) test ./test/e2e/... -count=1 -v -timeout 30m

CONFORMANCE_REPORT ?= test/conformance/report.yaml
# More flags for the suite, e.g. CONFORMANCE_ARGS=-run-test=HTTPRouteSimpleSameNamespace
CONFORMANCE_ARGS ?=

# The suite lives in its own module (test/conformance), so `go test ./...`
# does not reach it: `make test` runs it after test/e2e, in the same lane. Its
# verbose log goes to bin/conformance.log; the summary and any failure are
# printed.
CONFORMANCE_LOG ?= $(LOCALBIN)/conformance.log
define run-conformance
	@mkdir -p $(LOCALBIN)
	@echo "conformance: running the Gateway API suite (log: $(CONFORMANCE_LOG))"
	@cd test/conformance && status=0; \
		$(GO) test . -count=1 -v -timeout 40m -run TestConformance -args -report-output=$(abspath $(CONFORMANCE_REPORT)) $(CONFORMANCE_ARGS) > $(CONFORMANCE_LOG) 2>&1 || status=$$?; \
		chmod 644 $(abspath $(CONFORMANCE_REPORT)) 2>/dev/null; \
		tail -n 3 $(CONFORMANCE_LOG); \
		awk '/^(- core:|  extended:)/{p=1} /Features:$$/{p=0} p' $(abspath $(CONFORMANCE_REPORT)) 2>/dev/null; \
		if [ $$status -ne 0 ]; then grep -E -A8 -- '--- FAIL' $(CONFORMANCE_LOG) | head -n 200; fi; \
		echo "conformance: exit $$status, report $(CONFORMANCE_REPORT)"; exit $$status
endef

.PHONY: conformance
conformance: e2e-deps ## Run the upstream Gateway API conformance suite (GATEWAY-HTTP) against the bundled gateway; writes test/conformance/report.yaml.
	$(run-conformance)

.PHONY: demo
demo: e2e-deps kubectl ## Start a local cluster with Pylon and a WebApp (canary + TLS); Ctrl-C cleans up.
	$(GO) build -o $(E2E_BIN)/demo ./cmd/demo
	$(E2E_BIN)/demo --repo-root=$(CURDIR) --bin-dir=$(ENVTEST_DIR) --manager=$(E2E_BIN)/manager --gateway=$(E2E_BIN)/gateway --kubectl=$(KUBECTL) --cert-manager=$(CERT_MANAGER)
