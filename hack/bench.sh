#!/usr/bin/env bash
# `make bench`: the controller scale benchmark (envtest), then the gateway
# benchmark (hack/bench-gateway.sh), one after the other so neither loads
# the CPU while the other measures. Writes bench/REPORT.md, bench/results.json
# and profiles in bench/profiles/. BENCH_QUICK=1 for a short run (fewer
# WebApps, 15 s of quiet, shorter wrk runs). BENCH_PARTS="controller" (or
# "gateway") reruns one half and reuses the other's last results. Never
# fails on a missed target.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
mkdir -p bench/profiles bench/controller
START=$(date -u +%Y-%m-%dT%H:%MZ)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if [[ -n "${BENCH_QUICK:-}" ]]; then CTRL_ARGS=(-apps 300 -large 1000 -quiet 15s)
else CTRL_ARGS=(-apps 1000 -large 5000 -quiet 2m); fi

TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
PARTS=${BENCH_PARTS:-controller gateway}
if [[ " $PARTS " == *" controller "* ]]; then
  go build -o "$TMP/controller-bench" ./bench/controller
  echo "controller benchmark: ${CTRL_ARGS[*]}"
  "$TMP/controller-bench" "${CTRL_ARGS[@]}" -out bench/controller/results.json -profiles bench/profiles
fi
if [[ " $PARTS " == *" gateway "* ]]; then
  ./hack/bench-gateway.sh
fi

ver() { "$@" 2>&1 | head -1 || true; }
# When a results file was written: its mtime, unless it is the committed
# version (a checkout resets mtimes), then the commit's time.
written() {
  if git ls-files --error-unmatch "$1" >/dev/null 2>&1 && git diff --quiet HEAD -- "$1"; then
    echo "$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%MZ -- "$1") (as committed)"
  else date -u -r "$1" +%Y-%m-%dT%H:%MZ; fi
}
jq -n --arg start "$START" --arg finish "$(date -u +%Y-%m-%dT%H:%MZ)" \
  --arg cpu "$(nproc) × $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)" \
  --arg mem "$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)" \
  --arg kernel "$(uname -sr)" --arg load "start $LOAD_START, end $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: figures are noisy, compare within one run)" \
  --arg go "$(go version)" --arg k8s "kube-apiserver $(sed -n 's/^const KubernetesVersion = "\(.*\)"/\1/p' test/testenv/testenv.go) built from k8s.io/kubernetes by make envtest, $("${KUBEBUILDER_ASSETS:-bin/k8s/v1.36.3}/etcd" --version 2>/dev/null | head -1) (envtest)" \
  --arg written "controller results $(written bench/controller/results.json), gateway results $(written bench/gateway/results.json)" \
  --arg cr "controller-runtime $(go list -m -f '{{.Version}}' sigs.k8s.io/controller-runtime)" \
  --arg nginx "$(ver nginx -v)" --arg caddy "$(ver caddy version)" --arg haproxy "$(ver haproxy -v)" --arg wrk "$(ver wrk -v)" \
  --arg commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown) (plus the working tree)" \
  --arg mode "$([[ -n "${BENCH_QUICK:-}" ]] && echo 'BENCH_QUICK=1' || echo full)" \
  '{"run started": $start, "run finished": $finish, "results written": $written, mode: $mode, commit: $commit, cpus: $cpu, memory: $mem, kernel: $kernel, load: $load, go: $go, "api server": $k8s, "controller-runtime": $cr, nginx: $nginx, caddy: $caddy, haproxy: $haproxy, wrk: $wrk}' >"$TMP/env.json"
jq -n --slurpfile env "$TMP/env.json" --slurpfile c bench/controller/results.json --slurpfile g bench/gateway/results.json \
  '{environment: $env[0], controller: $c[0], gateway: $g[0]}' >bench/results.json
{
  echo "# Pylon benchmarks"
  echo
  echo "Measured figures next to their targets. Benchmarks are reports: a missed target is shown, never a failure."
  echo "Reproduce: \`make bench\` (full, under 30 minutes) or \`BENCH_QUICK=1 make bench\`; raw figures in bench/results.json, profiles in bench/profiles/."
  echo
  ./hack/bench-report.sh --env "$TMP/env.json" --controller bench/controller/results.json --gateway bench/gateway/results.json
  [[ -f bench/NOTES.md ]] && cat bench/NOTES.md
} >bench/REPORT.md
echo "wrote bench/REPORT.md and bench/results.json"
