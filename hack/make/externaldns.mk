##@ external-dns

# The real external-dns (sigs.k8s.io/external-dns) that the local cluster
# runs for the end-to-end tests and the demo: its controller loop, crd source
# (DNSEndpoint), TXT registry and inmemory provider, built by the nested
# module hack/tools/externaldns (keep its go.mod's pin and this version in
# step; test/localcluster.ExternalDNSVersion names the same file). Built once
# and cached in bin/ like kube-apiserver.
EXTERNAL_DNS_VERSION ?= v0.22.0
EXTERNAL_DNS ?= $(LOCALBIN)/external-dns-$(EXTERNAL_DNS_VERSION)

.PHONY: external-dns
external-dns: $(EXTERNAL_DNS) ## Build the real external-dns (inmemory provider) the local cluster runs.

$(EXTERNAL_DNS): hack/tools/externaldns/go.mod hack/tools/externaldns/go.sum hack/tools/externaldns/main.go | $(LOCALBIN)
	@grep -qE '^\s*sigs.k8s.io/external-dns $(EXTERNAL_DNS_VERSION)$$' hack/tools/externaldns/go.mod || { echo "hack/tools/externaldns/go.mod does not pin sigs.k8s.io/external-dns $(EXTERNAL_DNS_VERSION)" >&2; exit 1; }
	@echo "building external-dns $(EXTERNAL_DNS_VERSION) (first time only; it compiles every provider SDK: about 6.5 CPU-minutes)"
	cd hack/tools/externaldns && $(GO) build -trimpath -ldflags "$(TOOL_LDFLAGS) -X sigs.k8s.io/external-dns/pkg/apis/externaldns.Version=$(EXTERNAL_DNS_VERSION)" -o $@ .

# The local cluster (e2e tests, demo) runs it.
e2e-deps: $(EXTERNAL_DNS)
TEST_DEPS += $(EXTERNAL_DNS)
