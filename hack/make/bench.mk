# Benchmarks: reports, not tests. They print what they measured next to the
# targets and never fail on a missed one; `make test` does not run them.

.PHONY: bench
bench: envtest ## Controller scale (envtest) and gateway speed vs nginx/Caddy; writes bench/REPORT.md and bench/results.json (BENCH_QUICK=1 for a short run; needs wrk, nginx, caddy, jq, openssl).
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" ./hack/bench.sh

.PHONY: bench-gateway
bench-gateway: envtest ## Benchmark the bundled gateway against the bare backend, nginx, HAProxy, Caddy and two minimal Go proxies; writes bench/gateway/REPORT.md (needs wrk, nginx, caddy, haproxy, jq, openssl).
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" ./hack/bench-gateway.sh
