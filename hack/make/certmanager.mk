# cert-manager for the local cluster (e2e tests, the demo, the conformance
# run): cert-manager's own controllers for the CA issuer path, built from
# github.com/cert-manager/cert-manager by the nested module
# hack/tools/certmanager (keep its go.mod in step with this pin). Cold build
# about 9 minutes on 2 cores, then cached under a versioned name.
CERT_MANAGER_VERSION ?= v1.21.2
CERT_MANAGER ?= $(LOCALBIN)/cert-manager-$(CERT_MANAGER_VERSION)

.PHONY: cert-manager
cert-manager: $(CERT_MANAGER) ## Build cert-manager's controllers (CA issuer path) into bin/ (once).
$(CERT_MANAGER): hack/tools/certmanager/go.mod hack/tools/certmanager/go.sum hack/tools/certmanager/main.go | $(LOCALBIN)
	@echo "building cert-manager $(CERT_MANAGER_VERSION) controllers (first time only; about 9 minutes on 2 cores)"
	cd hack/tools/certmanager && $(GO) build -trimpath -ldflags "$(TOOL_LDFLAGS)" -o $@ .

e2e-deps: $(CERT_MANAGER)
TEST_DEPS += $(CERT_MANAGER)
