#!/usr/bin/env bash
# A/B of the bundled gateway at two git revisions, in one run:
# `hack/bench-ab.sh OLD [NEW]` (NEW defaults to the working tree) builds
# bench/gateway at both, starts one backend and, for each side, a gateway
# over plain HTTP and one over TLS, then runs wrk at 50 connections against
# them in ROUNDS rounds (default 3), the side that goes first alternating
# per round. Prints req/s and CPU µs per request (the gateway process's
# utime+stime over requests) per run and the NEW/OLD ratios of the means.
# Needs wrk and openssl. Ports 19081–19085 on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$1 NEW=${2:-}
ROUNDS=${ROUNDS:-3} DUR=${DUR:-5s}
T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  git worktree remove --force "$T/src-old" 2>/dev/null || true; git worktree remove --force "$T/src-new" 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
build() { # rev out
  if [[ -z $1 ]]; then go build -o "$2" ./bench/gateway; return; fi
  git worktree add -q --detach "$T/src-$(basename "$2")" "$1"
  (cd "$T/src-$(basename "$2")" && go build -o "$2" ./bench/gateway)
}
build "$OLD" "$T/old"; build "$NEW" "$T/new"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
"$T/new" -mode backend -port 19081 & PIDS+=($!)
declare -A PID URL
start() { # side proto port
  local tls=(); [[ $2 == https ]] && tls=(-cert "$T/cert.pem" -key "$T/key.pem")
  "$T/$1" -mode gateway -port "$3" -upstream 19081 "${tls[@]}" >"$T/$1-$2.log" 2>&1 & PIDS+=($!)
  PID[$1-$2]=$!; URL[$1-$2]=$2://127.0.0.1:$3/
}
start old http 19082; start new http 19083; start old https 19084; start new https 19085
sleep 2
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
: >"$T/raw"
run() { # side proto
  local k=$1-$2 c0 c1 out rps reqs
  wrk -t1 -c50 -d1s "${URL[$k]}" >/dev/null
  c0=$(cpu "${PID[$k]}"); out=$(wrk -t2 -c50 -d"$DUR" "${URL[$k]}"); c1=$(cpu "${PID[$k]}")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out"); reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  cpuus=$(awk -v a="$c0" -v b="$c1" -v n="$reqs" -v hz="$HZ" 'BEGIN {printf "%.1f", (b-a)*1e6/hz/n}')
  echo "$1 $2 $rps $cpuus" >>"$T/raw"
  echo "round $r $2 $1: $rps req/s, $cpuus µs CPU/req"
}
for r in $(seq "$ROUNDS"); do
  if (( r % 2 )); then sides=(old new); else sides=(new old); fi
  for proto in http https; do for s in "${sides[@]}"; do run "$s" "$proto"; done; done
done
awk '{n[$1" "$2]++; rps[$1" "$2]+=$3; cpu[$1" "$2]+=$4}
  END {for (p in a) {}; split("http https", ps, " ");
    for (i = 1; i <= 2; i++) { o = "old " ps[i]; w = "new " ps[i];
      printf "%s: old %.0f req/s %.1f µs, new %.0f req/s %.1f µs: new/old req/s %.2f×, CPU/req %.2f×\n", ps[i],
        rps[o]/n[o], cpu[o]/n[o], rps[w]/n[w], cpu[w]/n[w], (rps[w]/n[w])/(rps[o]/n[o]), (cpu[w]/n[w])/(cpu[o]/n[o]) } }' "$T/raw"
