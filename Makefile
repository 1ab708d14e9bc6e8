# Pylon Makefile. Every tool it uses is built from the Go module proxy at a
# pinned version into ./bin (git-ignored), so a clean Debian machine with Go
# needs nothing else. `make help` lists the targets.

# Image that `docker-build`, `build-installer` and `deploy` refer to.
IMG ?= ghcr.io/pylon-dev/pylon:latest

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

# Never let `go` fetch another toolchain: the pinned Go on the machine builds everything.
export GOTOOLCHAIN = local
GO ?= go
# Tools built into bin/ carry no symbol table or DWARF (-s -w): nothing here
# debugs them, and it shortens each of their links.
TOOL_LDFLAGS ?= -s -w

## Tool versions (see ../shared/TOOLING.md for why these pins; kustomize v5.8.3
## needs Go 1.27, so v5.8.2).
CONTROLLER_TOOLS_VERSION ?= v0.23.0
KUSTOMIZE_VERSION ?= v5.8.2
GOLANGCI_LINT_VERSION ?= v2.15.0
GOVULNCHECK_VERSION ?= v1.1.4
# Pylon supports the Kubernetes minors from KUBERNETES_OLDEST_VERSION to
# KUBERNETES_VERSION (docs/kubernetes-versions.md says why), and `make test`
# runs the envtest suites against both. The newest release's kube-apiserver,
# kube-controller-manager and kubectl are built from k8s.io/kubernetes by the
# nested module hack/tools/kube; the oldest's kube-apiserver by
# hack/tools/kube-1.34. Keep each go.mod in step: the build checks it.
KUBERNETES_VERSION ?= v1.36.3
KUBERNETES_OLDEST_VERSION ?= v1.34.4

## Locations.
LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
GOVULNCHECK ?= $(LOCALBIN)/govulncheck-$(GOVULNCHECK_VERSION)
# Control-plane binaries for envtest. When KUBEBUILDER_ASSETS is set it is
# used as it is and nothing is built.
ENVTEST_DIR ?= $(LOCALBIN)/k8s/$(KUBERNETES_VERSION)
ENVTEST_ASSETS ?= $(if $(KUBEBUILDER_ASSETS),$(KUBEBUILDER_ASSETS),$(ENVTEST_DIR))
ENVTEST_OLDEST_DIR ?= $(LOCALBIN)/k8s/$(KUBERNETES_OLDEST_VERSION)
KUBE_TOOLS ?= hack/tools/kube
KUBE_OLDEST_TOOLS ?= hack/tools/kube-1.34
# kubectl of the newest release, for `make demo` and for people without one.
KUBECTL ?= $(ENVTEST_DIR)/kubectl

# Areas with their own tools and targets (packaging, end-to-end, benchmarks)
# live in hack/make/*.mk. A fragment may add prerequisites of `make test` to
# TEST_DEPS (tools the tests run, e.g. helm) and checks to LINT_DEPS.
TEST_DEPS ?=
# TestKubectlVersion (test/testenv) runs the kubectl `make demo` prints.
TEST_DEPS += $(KUBECTL)
LINT_DEPS ?=
include $(sort $(wildcard hack/make/*.mk))

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate CRDs and RBAC from the Go markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd:generateEmbeddedObjectMeta=false paths="./api/..." paths="./internal/controller/..." paths="./internal/capabilities/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..." paths="./internal/externaldns/..."

.PHONY: fmt
fmt: ## Run go fmt.
	$(GO) fmt ./...

.PHONY: fmt-check
fmt-check: ## Fail if a Go file is not gofmt-formatted (make fmt fixes it).
	@files=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$files" ]; then echo "not gofmt-formatted, run 'make fmt': $$files" >&2; exit 1; fi

.PHONY: vet
vet: ## Run go vet.
	$(GO) vet ./...

# Every go test in `make test` has an explicit timeout: a hung test fails
# the run with a stack dump instead of waiting out go test's default.
GO_TEST_TIMEOUT ?= 30m

.PHONY: test
# `make test` checks instead of fixing: stale generated files (CRDs, RBAC,
# deepcopy) or unformatted Go fail the run rather than being rewritten in
# the tree, and the conformance report is written under bin/, not over the
# tracked test/conformance/report.yaml (`make conformance` writes that).
test: verify-generated fmt-check test-prerequisites ## Run every test against a real kube-apiserver (envtest), the envtest suites also against the oldest supported release; fails on stale generated files.
	@echo "two lanes at once, each printed when it ends: test/e2e then the conformance suite; every other package then the envtest suites against $(KUBERNETES_OLDEST_VERSION)"
	$(MAKE) -j2 --output-sync=target test-lane-e2e test-lane-packages

# The tests run in two lanes at once. test/e2e alone takes about 11 minutes,
# much of it waiting (Lease expiries, drains, etcd's outage) rather than
# computing, so it runs beside the other packages instead of after them.
# Both lanes stay within `go test`'s own parallelism of two test binaries
# per lane; each lane's output is printed when the lane ends.
E2E_PKG ?= ./test/e2e

.PHONY: test-lane-e2e
test-lane-e2e: CONFORMANCE_REPORT = $(LOCALBIN)/conformance-report.yaml
test-lane-e2e:
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" $(GO) test $(E2E_PKG) -count=1 -timeout $(GO_TEST_TIMEOUT)
	$(run-conformance)

.PHONY: test-lane-packages
test-lane-packages:
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" $(GO) test $$($(GO) list ./... | grep -vxF "$$($(GO) list $(E2E_PKG))") -count=1 -timeout $(GO_TEST_TIMEOUT) -coverprofile cover.out
	$(run-envtest-oldest)

# What `make test` needs before its tests, built two at a time: a cold
# build spends much of its time on module downloads, links and cgo's C
# compiles, each using one core or none, so a second build fills the gap.
# Builds from one module run one after another (kube-binary's order-only
# prerequisites), so that no package is compiled twice at once.
.PHONY: test-prerequisites
test-prerequisites:
	$(MAKE) -j2 vet envtest envtest-oldest $(TEST_DEPS)

# The packages that start a kube-apiserver through envtest (test/testenv or
# envtest directly). test-k8s-oldest runs them against the oldest supported
# release; the rest of `go test ./...` (e2e, unit tests) and the conformance
# suite run only against the newest.
ENVTEST_PKGS ?= ./api/... ./internal/controller/... ./internal/gateway/status/... ./internal/leaderelection/... ./test/testenv/... ./test/gitops/... ./test/packaging/...
define run-envtest-oldest
	@echo "envtest suites against the oldest supported Kubernetes, $(KUBERNETES_OLDEST_VERSION) ($(ENVTEST_OLDEST_DIR))"
	KUBEBUILDER_ASSETS="$(ENVTEST_OLDEST_DIR)" $(GO) test $(ENVTEST_PKGS) -count=1 -timeout $(GO_TEST_TIMEOUT)
endef

.PHONY: test-k8s-oldest
test-k8s-oldest: envtest-oldest $(TEST_DEPS) ## Run only the envtest suites, against the oldest supported Kubernetes release.
	$(run-envtest-oldest)

.PHONY: update-golden
update-golden: ## Regenerate golden files (testdata/*.out.yaml) from the builders.
	$(GO) test ./internal/... -run Golden -update

.PHONY: lint
lint: golangci-lint verify-generated $(LINT_DEPS) ## Run golangci-lint and check generated files are current.
	$(GOLANGCI_LINT) run

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint and apply its fixes.
	$(GOLANGCI_LINT) run --fix

# govulncheck needs the Go vulnerability database (vuln.go.dev, or a local
# copy named by GOVULNDB). Machines without it, like this project's CI, cannot
# run it, so it is a target of its own rather than part of `make lint`.
.PHONY: vulncheck
vulncheck: govulncheck ## Report known vulnerabilities in the code paths Pylon uses (needs the Go vulnerability database).
	$(GOVULNCHECK) ./...

.PHONY: verify-generated
verify-generated: manifests generate ## Fail if `make manifests generate` changes tracked files.
	@git diff --exit-code -- api config internal/externaldns || { echo "generated files are stale: run 'make manifests generate' and commit" >&2; exit 1; }

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager and gateway binaries.
	$(GO) build -o bin/manager ./cmd/manager
	$(GO) build -o bin/gateway ./cmd/gateway

.PHONY: run
run: manifests generate fmt vet ## Run the manager against the cluster in ~/.kube/config.
	$(GO) run ./cmd/manager

.PHONY: docker-build
docker-build: ## Build the image (needs a Docker engine).
	docker build -t $(IMG) .

.PHONY: build-installer
build-installer: manifests generate kustomize ## Write dist/install.yaml: CRDs, the manager and the bundled gateway with its default classes.
	mkdir -p dist
	@# hack/packaging/installer is config/default plus config/gateway, both run from the one image $(IMG).
	cd hack/packaging/installer && $(KUSTOMIZE) edit set image controller=$(IMG) ghcr.io/pylon-dev/pylon=$(IMG)
	$(KUSTOMIZE) build hack/packaging/installer > dist/install.yaml
	cd hack/packaging/installer && $(KUSTOMIZE) edit set image controller=ghcr.io/pylon-dev/pylon:latest ghcr.io/pylon-dev/pylon=ghcr.io/pylon-dev/pylon:latest

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests kustomize ## Install CRDs into the cluster in ~/.kube/config.
	$(KUSTOMIZE) build config/crd | kubectl apply --server-side -f -

.PHONY: uninstall
uninstall: manifests kustomize ## Remove CRDs (and every WebApp) from the cluster.
	$(KUSTOMIZE) build config/crd | kubectl delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: deploy
deploy: manifests kustomize ## Deploy the manager to the cluster in ~/.kube/config.
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | kubectl apply --server-side -f -
	cd config/manager && $(KUSTOMIZE) edit set image controller=ghcr.io/pylon-dev/pylon:latest

.PHONY: undeploy
undeploy: kustomize ## Remove the manager from the cluster.
	$(KUSTOMIZE) build config/default | kubectl delete --ignore-not-found=$(ignore-not-found) -f -

##@ Tools

$(LOCALBIN):
	mkdir -p $(LOCALBIN)

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN)
$(CONTROLLER_GEN): | $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: kustomize
kustomize: $(KUSTOMIZE)
$(KUSTOMIZE): | $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT)
$(GOLANGCI_LINT): | $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

.PHONY: govulncheck
govulncheck: $(GOVULNCHECK)
$(GOVULNCHECK): | $(LOCALBIN)
	$(call go-install-tool,$(GOVULNCHECK),golang.org/x/vuln/cmd/govulncheck,$(GOVULNCHECK_VERSION))

# envtest needs etcd and kube-apiserver. No binaries can be downloaded here, so
# kube-apiserver is compiled from k8s.io/kubernetes (about 10 minutes cold per
# release, then cached) and etcd is Debian's etcd-server when installed, else
# compiled from go.etcd.io/etcd/server/v3 (hack/tools/etcd). Each release's
# binaries live in bin/k8s/<version>.
.PHONY: envtest
envtest: ## Build (once) the control-plane binaries envtest runs, unless KUBEBUILDER_ASSETS is set.
ifeq ($(KUBEBUILDER_ASSETS),)
envtest: $(ENVTEST_DIR)/kube-apiserver $(ENVTEST_DIR)/etcd
endif

.PHONY: envtest-oldest
envtest-oldest: $(ENVTEST_OLDEST_DIR)/kube-apiserver $(ENVTEST_OLDEST_DIR)/etcd ## Build (once) kube-apiserver of the oldest supported release, for test-k8s-oldest.

.PHONY: kubectl
kubectl: $(KUBECTL) ## Build (once) kubectl of the newest supported release into bin/k8s/<version>/.

# Every Kubernetes binary is stamped with its release, as upstream's
# hack/lib/version.sh does: unstamped, kube-apiserver reports
# v0.0.0-master+$$Format:%H$$, which `kubectl version` cannot parse. The flags
# are written to bin/k8s/<version>/.ldflags only when they change, and the
# binaries depend on that file, so a change of stamp rebuilds (relinks) them.
# buildDate is the release's tag time as the module proxy reports it, so the
# build is reproducible; the proxy does not say which commit a release is, so
# gitCommit is the fixed KUBE_GIT_COMMIT.
KUBE_GIT_COMMIT ?= 0000000000000000000000000000000000000000
KUBE_VERSION_PKGS = k8s.io/component-base/version k8s.io/client-go/pkg/version
.PHONY: FORCE
FORCE:

# kube-stamp: the rule writing $(1)/.ldflags for release $(2) built by the
# tools module $(3); it fails when $(3)/go.mod requires another release.
define kube-stamp
$(1)/.ldflags: FORCE
	@mkdir -p $(1)
	@got=$$$$(cd $(3) && $$(GO) list -m -f '{{.Version}}' k8s.io/kubernetes); \
	if [ "$$$$got" != "$(2)" ]; then echo "$(3)/go.mod requires k8s.io/kubernetes $$$$got, the Makefile says $(2): bring them in step" >&2; exit 1; fi; \
	date=$$$$(cd $(3) && $$(GO) list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes); \
	v=$(2); major=$$$${v#v}; major=$$$${major%%.*}; minor=$$$${v#v*.}; minor=$$$${minor%%.*}; \
	flags=""; for p in $$(KUBE_VERSION_PKGS); do \
		flags="$$$$flags -X $$$$p.gitVersion=$$$$v -X $$$$p.gitMajor=$$$$major -X $$$$p.gitMinor=$$$$minor -X $$$$p.gitCommit=$$(KUBE_GIT_COMMIT) -X $$$$p.gitTreeState=clean -X $$$$p.buildDate=$$$$date"; \
	done; \
	echo "$$$${flags# }" | cmp -s - $$@ || echo "$$$${flags# }" > $$@
endef

# kube-binary: the rule building $(1)/$(2) from k8s.io/kubernetes/cmd/$(2)
# with the tools module $(3), stamped with $(1)/.ldflags, after $(4) if set
# (order only: under make -j the binaries of one module are not compiled at
# the same time, which would compile their shared packages twice).
define kube-binary
$(1)/$(2): $(3)/go.mod $(3)/go.sum $(1)/.ldflags | $(4)
	@echo "building $(2) $$(notdir $(1)) from $(3) (the first time about 10 minutes on 2 cores, then cached)"
	cd $(3) && $$(GO) build -trimpath -ldflags "$$(TOOL_LDFLAGS) $$$$(cat $(1)/.ldflags)" -o $$@ k8s.io/kubernetes/cmd/$(2)
endef

$(eval $(call kube-stamp,$(ENVTEST_DIR),$(KUBERNETES_VERSION),$(KUBE_TOOLS)))
$(eval $(call kube-binary,$(ENVTEST_DIR),kube-apiserver,$(KUBE_TOOLS)))
# Unless envtest's binaries come from KUBEBUILDER_ASSETS, kube-apiserver is
# built first: the other two reuse most of its compiled packages.
KUBE_BUILD_AFTER := $(if $(KUBEBUILDER_ASSETS),,$(ENVTEST_DIR)/kube-apiserver)
$(eval $(call kube-binary,$(ENVTEST_DIR),kube-controller-manager,$(KUBE_TOOLS),$(KUBE_BUILD_AFTER)))
$(eval $(call kube-binary,$(ENVTEST_DIR),kubectl,$(KUBE_TOOLS),$(KUBE_BUILD_AFTER)))
$(eval $(call kube-stamp,$(ENVTEST_OLDEST_DIR),$(KUBERNETES_OLDEST_VERSION),$(KUBE_OLDEST_TOOLS)))
$(eval $(call kube-binary,$(ENVTEST_OLDEST_DIR),kube-apiserver,$(KUBE_OLDEST_TOOLS)))

$(ENVTEST_DIR)/etcd: hack/tools/etcd/go.mod hack/tools/etcd/go.sum
	@mkdir -p $(ENVTEST_DIR)
	@if command -v etcd >/dev/null 2>&1; then \
		echo "using $$(command -v etcd) ($$(etcd --version | head -1))"; \
		ln -sf "$$(command -v etcd)" $@; \
	else \
		echo "no etcd on PATH: building go.etcd.io/etcd/server/v3"; \
		cd hack/tools/etcd && $(GO) build -trimpath -ldflags "$(TOOL_LDFLAGS)" -o $@ .; \
	fi

# The oldest release runs with the same etcd (etcd 3.4 to 3.6 serve both).
$(ENVTEST_OLDEST_DIR)/etcd: $(ENVTEST_DIR)/etcd
	@mkdir -p $(ENVTEST_OLDEST_DIR)
	ln -sf $(abspath $(ENVTEST_DIR)/etcd) $@

# go-install-tool installs package $(2) at version $(3) as $(1), a versioned
# file name so that changing a pin rebuilds the tool.
define go-install-tool
@[ -f "$(1)" ] || { \
set -e; \
package=$(2)@$(3) ;\
echo "Downloading $${package}" ;\
rm -f $(1) ;\
GOBIN=$(LOCALBIN) $(GO) install -ldflags "$(TOOL_LDFLAGS)" $${package} ;\
mv $(LOCALBIN)/$$(basename "$$(echo "$(2)" | sed "s:/v[0-9]*$$::")") $(1) ;\
}
endef
