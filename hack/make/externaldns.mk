##@ external-dns

# The real external-dns (sigs.k8s.io/external-dns) that the local cluster
# runs for the end-to-end tests and the demo: its controller loop, crd source
# (DNSEndpoint), TXT registry and inmemory provider, built by the nested
# module hack/tools/externaldns (keep its go.mod's pin and this version in
# step; test/localcluster.ExternalDNSVersion names the same file). Built once
# and cached in bin/ like kube-apiserver.
EXTERNAL_DNS_VERSION ?= v0.22.0
EXTERNAL_DNS ?= $(LOCALBIN)/external-dns-$(EXTERNAL_DNS_VERSION)

# Upstream's controller package keeps its own main wiring (Execute, in
# controller/execute.go) next to the loop (Controller): that one file imports
# the provider factory and with it some forty DNS providers' SDKs (735 of the
# 1,653 packages), none of which this build runs. So the build uses a copy of
# the upstream module, byte for byte as the module proxy serves it, without
# controller/execute.go and its test, through a replace in a generated
# modfile: the loop, sources, registry and inmemory provider compile
# unchanged, and a cold build takes about half the CPU time.
EXTERNAL_DNS_SRC ?= $(LOCALBIN)/src/external-dns-$(EXTERNAL_DNS_VERSION)

.PHONY: external-dns
external-dns: $(EXTERNAL_DNS) ## Build the real external-dns (inmemory provider) the local cluster runs.

$(EXTERNAL_DNS): hack/tools/externaldns/go.mod hack/tools/externaldns/go.sum hack/tools/externaldns/main.go | $(LOCALBIN)
	@grep -qE '^\s*sigs.k8s.io/external-dns $(EXTERNAL_DNS_VERSION)$$' hack/tools/externaldns/go.mod || { echo "hack/tools/externaldns/go.mod does not pin sigs.k8s.io/external-dns $(EXTERNAL_DNS_VERSION)" >&2; exit 1; }
	@echo "building external-dns $(EXTERNAL_DNS_VERSION) (first time only; about 3.7 CPU-minutes)"
	if [ -e $(EXTERNAL_DNS_SRC) ]; then chmod -R u+w $(EXTERNAL_DNS_SRC); fi; rm -rf $(EXTERNAL_DNS_SRC) && mkdir -p $(dir $(EXTERNAL_DNS_SRC))
	cp hack/tools/externaldns/go.mod $(EXTERNAL_DNS_SRC).mod && cp hack/tools/externaldns/go.sum $(EXTERNAL_DNS_SRC).sum
	cd hack/tools/externaldns && export GOWORK=off && $(GO) mod download -modfile=$(EXTERNAL_DNS_SRC).mod sigs.k8s.io/external-dns && \
		dir=$$($(GO) list -modfile=$(EXTERNAL_DNS_SRC).mod -m -f '{{.Dir}}' sigs.k8s.io/external-dns) && \
		{ test -f "$$dir/controller/execute.go" || { echo "external-dns $(EXTERNAL_DNS_VERSION): no controller/execute.go in $$dir; hack/make/externaldns.mk needs a look" >&2; exit 1; }; } && \
		cp -R "$$dir" $(EXTERNAL_DNS_SRC)
	chmod -R u+w $(EXTERNAL_DNS_SRC) && rm $(EXTERNAL_DNS_SRC)/controller/execute.go $(EXTERNAL_DNS_SRC)/controller/execute_test.go
	cd hack/tools/externaldns && export GOWORK=off && $(GO) mod edit -modfile=$(EXTERNAL_DNS_SRC).mod -replace sigs.k8s.io/external-dns=$(EXTERNAL_DNS_SRC) && \
		$(GO) build -modfile=$(EXTERNAL_DNS_SRC).mod -trimpath -ldflags "$(TOOL_LDFLAGS) -X sigs.k8s.io/external-dns/pkg/apis/externaldns.Version=$(EXTERNAL_DNS_VERSION)" -o $@ .

# The local cluster (e2e tests, demo) runs it.
e2e-deps: $(EXTERNAL_DNS)
TEST_DEPS += $(EXTERNAL_DNS)
