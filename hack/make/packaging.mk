# Packaging: the image, dist/install.yaml, the Helm chart, the OLM bundle and
# catalog. test/packaging checks all of them (`make test`); docs/install.md
# says how users install from each. Tools are pinned in ../shared/TOOLING.md.

HELM_VERSION ?= v4.3.1
# opm is built from the nested module hack/tools/opm (keep its go.mod in step).
OPM_VERSION ?= v1.55.0
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)
OPM ?= $(LOCALBIN)/opm-$(OPM_VERSION)

# The OLM bundle's version and channel. CSV names are pylon.v$(BUNDLE_VERSION).
# A release sets BUNDLE_VERSION, BUNDLE_CREATED_AT and the digests below, runs
# `make packaging` and commits: catalog-template.yaml then holds the release
# in the channel's upgrade graph (docs/install.md, "OLM").
BUNDLE_VERSION ?= 0.1.0
BUNDLE_CHANNEL ?= candidate-v0
# The CSV's createdAt: a fixed input (the release's date), never the build
# time, so `make packaging` rewrites identical files. SOURCE_DATE_EPOCH, the
# reproducible-builds convention, wins when set.
BUNDLE_CREATED_AT ?= $(if $(SOURCE_DATE_EPOCH),$(shell date -u -d @$(SOURCE_DATE_EPOCH) +%Y-%m-%dT%H:%M:%SZ),2026-12-01T00:00:00Z)
# Digests (sha256:...) of the pushed operator and bundle images. Given, the
# bundle's Deployment and relatedImages and the catalog refer to the images
# by digest, as disconnected mirroring needs; empty, by tag (what the
# committed files show, since no image is pushed from here).
IMG_DIGEST ?=
BUNDLE_IMG_DIGEST ?=
BUNDLE_IMG ?= $(if $(BUNDLE_IMG_DIGEST),ghcr.io/pylon-dev/pylon-bundle@$(BUNDLE_IMG_DIGEST),ghcr.io/pylon-dev/pylon-bundle:v$(BUNDLE_VERSION))
# The operator image the chart, the bundle and the catalog refer to.
PACKAGE_IMG ?= $(if $(IMG_DIGEST),ghcr.io/pylon-dev/pylon@$(IMG_DIGEST),ghcr.io/pylon-dev/pylon:v$(BUNDLE_VERSION))

PACKAGING_GEN = $(GO) run ./hack/packaging

TEST_DEPS += kustomize helm opm
LINT_DEPS += verify-packaging

##@ Packaging

.PHONY: helm
helm: $(HELM) ## Build helm into bin/ (about 3 minutes, once).
$(HELM): | $(LOCALBIN)
	$(call go-install-tool,$(HELM),helm.sh/helm/v4/cmd/helm,$(HELM_VERSION))

.PHONY: opm
opm: $(OPM) ## Build opm into bin/ from hack/tools/opm (once).
# Without cgo: only the deprecated SQLite index images need go-sqlite3 (and
# its C amalgamation, the slowest part of a cold build); `opm validate` and
# `opm render` of a file-based catalog give the same output either way.
$(OPM): hack/tools/opm/go.mod hack/tools/opm/go.sum | $(LOCALBIN)
	cd hack/tools/opm && CGO_ENABLED=0 $(GO) build -tags containers_image_openpgp -trimpath -ldflags "$(TOOL_LDFLAGS)" -o $@ github.com/operator-framework/operator-registry/cmd/opm

.PHONY: chart
chart: manifests kustomize ## Copy CRDs, RBAC rules and the Argo CD health check from config/ into charts/pylon.
	$(KUSTOMIZE) build hack/packaging/installer > $(LOCALBIN)/chart-input.yaml
	$(PACKAGING_GEN) chart --input $(LOCALBIN)/chart-input.yaml

.PHONY: helm-template
helm-template: chart helm ## Render the chart with default values into dist/chart.yaml.
	mkdir -p dist
	$(HELM) template pylon charts/pylon --namespace pylon-system --include-crds > dist/chart.yaml

.PHONY: bundle
bundle: manifests kustomize ## Generate the OLM bundle (bundle/) from config/.
	$(KUSTOMIZE) build config/default > $(LOCALBIN)/bundle-input.yaml
	$(PACKAGING_GEN) bundle --input $(LOCALBIN)/bundle-input.yaml --version $(BUNDLE_VERSION) --channel $(BUNDLE_CHANNEL) --image $(PACKAGE_IMG) --created-at $(BUNDLE_CREATED_AT)

.PHONY: catalog
catalog: bundle ## Add the bundle to catalog-template.yaml (the upgrade graph) and render the File-Based Catalog (catalog/) from it.
	$(PACKAGING_GEN) catalog --bundle-image $(BUNDLE_IMG) --channel $(BUNDLE_CHANNEL)

.PHONY: catalog-validate
catalog-validate: opm ## Validate catalog/ with opm.
	$(OPM) validate catalog

.PHONY: bundle-build
bundle-build: ## Build the bundle image (needs a Docker engine).
	docker build -f bundle.Dockerfile -t $(BUNDLE_IMG) .

.PHONY: test-install
test-install: e2e-deps helm kustomize ## Install Pylon every way (dist/install.yaml, kustomize, Helm install and upgrade) into a local cluster and serve a WebApp through each (test/install).
	$(GO) test ./test/install/... -count=1 -v -timeout 20m

.PHONY: check-pss
check-pss: kustomize helm ## Check every Pod the kustomize and Helm manifests create against the restricted Pod Security Standard.
	$(GO) test ./test/packaging -count=1 -run 'PodSecurity'

.PHONY: packaging
packaging: build-installer chart helm-template bundle catalog ## Regenerate every committed packaging file.

.PHONY: verify-packaging
verify-packaging: packaging ## Fail if `make packaging` changes committed files.
	@git diff --exit-code -- dist charts bundle bundle.Dockerfile catalog catalog-template.yaml || { echo "packaging files are stale: run 'make packaging' and commit" >&2; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- dist charts bundle catalog catalog-template.yaml); [ -z "$$untracked" ] || { echo "untracked packaging files: $$untracked" >&2; exit 1; }
