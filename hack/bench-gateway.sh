#!/usr/bin/env bash
# Benchmarks Pylon's gateway against the backend alone, nginx (1 and 2
# workers), HAProxy (2 threads), Caddy and two minimal Go proxies (net/http
# and fasthttp, as reference points), all
# on 127.0.0.1, with wrk at 1 and 50 connections, plain HTTP and TLS, in
# ROUNDS alternating rounds (each target once per round, in a rotated order, so CPU noise from
# other work on the machine hits all of them alike). Then: the gateway's
# memory and first table build + publish time with 1,000, 10,000 and 20,000
# routes, and route-change propagation with 1,000 routes through the real
# watch → translate → swap path (envtest).
# Writes bench/gateway/REPORT.md, bench/gateway/results.json and CPU/heap
# profiles of the gateway under wrk in bench/profiles/.
# Needs: go, wrk, nginx, caddy, haproxy, openssl, jq (apt-get install wrk nginx caddy haproxy jq).
# BENCH_QUICK=1: shorter runs, fewer route changes.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n "${BENCH_QUICK:-}" ]]; then DUR=${DUR:-3s} ROUNDS=${ROUNDS:-1} CHANGES=${CHANGES:-30} PAIRS=${PAIRS:-2}
else DUR=${DUR:-5s} ROUNDS=${ROUNDS:-3} CHANGES=${CHANGES:-100} PAIRS=${PAIRS:-8}; fi
PAIRDUR=${PAIRDUR:-3s}
OUT=bench/gateway PROF=bench/profiles
mkdir -p "$OUT" "$PROF"
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
for bin in wrk nginx caddy haproxy openssl jq; do command -v "$bin" >/dev/null || { echo "missing $bin (apt-get install $bin)"; exit 1; }; done

go build -o "$TMP/bench" ./bench/gateway
# The fasthttp reference point is its own module (Pylon does not depend on
# fasthttp); without its modules (offline) the benchmark runs without it.
FASTOK=1
(cd bench/floorfast && GOWORK=off go build -o "$TMP/floorfast" .) || { FASTOK=; echo "bench/floorfast did not build: the fasthttp floor is left out" >&2; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
BACK=18081 PYLON=18082 NGINX=18083 CADDY=18084 NGINX2=18085 HAPROXY=18086
BACKS=18091 PYLONS=18092 NGINXS=18093 CADDYS=18094 NGINX2S=18095 HAPROXYS=18096
FLOOR=18087 FAST=18088 FLOORS=18089 FASTS=18090
PYLONNH=18077 PYLONNHS=18078   # the same gateway binary on net/http's HTTP/1.1 engine (A/B)
"$TMP/bench" -mode backend -port $BACK & PIDS+=($!); BACKPID=$!
"$TMP/bench" -mode backend -port $BACKS -cert "$TMP/cert.pem" -key "$TMP/key.pem" & PIDS+=($!); BACKSPID=$!
# The measured processes run without a profiler (its SIGPROF ticks cost
# CPU that nginx and the others do not pay); profiles are taken after the
# rounds, from separate processes under one more wrk run each.
"$TMP/bench" -mode gateway -port $PYLON -upstream $BACK >"$TMP/pylon.log" 2>&1 & PIDS+=($!); PYLONPID=$!
"$TMP/bench" -mode gateway -port $PYLONS -upstream $BACK -cert "$TMP/cert.pem" -key "$TMP/key.pem" >"$TMP/pylons.log" 2>&1 & PIDS+=($!); PYLONSPID=$!
# The same binary with --http1-engine net/http: the engine A/B in one run.
"$TMP/bench" -mode gateway -http1-engine net/http -port $PYLONNH -upstream $BACK >"$TMP/pylonnh.log" 2>&1 & PIDS+=($!); PYLONNHPID=$!
"$TMP/bench" -mode gateway -http1-engine net/http -port $PYLONNHS -upstream $BACK -cert "$TMP/cert.pem" -key "$TMP/key.pem" >"$TMP/pylonnhs.log" 2>&1 & PIDS+=($!); PYLONNHSPID=$!
# Two reference points without routing, metrics or logging
# (bench/gateway/floor.go, bench/floorfast): a minimal proxy on net/http,
# and the same on fasthttp.
"$TMP/bench" -mode floor -port $FLOOR -upstream $BACK & PIDS+=($!); FLOORPID=$!
"$TMP/bench" -mode floor -port $FLOORS -upstream $BACK -cert "$TMP/cert.pem" -key "$TMP/key.pem" & PIDS+=($!); FLOORSPID=$!
if [[ -n $FASTOK ]]; then
  "$TMP/floorfast" -port $FAST -upstream $BACK & PIDS+=($!); FASTPID=$!
  "$TMP/floorfast" -port $FASTS -upstream $BACK -cert "$TMP/cert.pem" -key "$TMP/key.pem" & PIDS+=($!); FASTSPID=$!
fi

nginxconf() { # workers port tlsport suffix
cat >"$TMP/nginx$4.conf" <<NGX
worker_processes $1;
pid $TMP/nginx$4.pid;
error_log $TMP/nginx-error.log;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP; proxy_temp_path $TMP; fastcgi_temp_path $TMP; uwsgi_temp_path $TMP; scgi_temp_path $TMP;
  upstream backend { server 127.0.0.1:$BACK; keepalive 128; }
  server {
    listen 127.0.0.1:$2;
    listen 127.0.0.1:$3 ssl;
    ssl_certificate $TMP/cert.pem;
    ssl_certificate_key $TMP/key.pem;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
    }
  }
}
NGX
}
nginxconf 1 $NGINX $NGINXS ""
nginxconf 2 $NGINX2 $NGINX2S 2
nginx -c "$TMP/nginx.conf" & PIDS+=($!); NGINXPID=$!
nginx -c "$TMP/nginx2.conf" & PIDS+=($!); NGINX2PID=$!

cat "$TMP/cert.pem" "$TMP/key.pem" >"$TMP/haproxy.pem"
cat >"$TMP/haproxy.cfg" <<HAP
global
  nbthread 2
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
  http-reuse always
frontend pylonbench
  bind 127.0.0.1:$HAPROXY
  bind 127.0.0.1:$HAPROXYS ssl crt $TMP/haproxy.pem
  option forwardfor
  http-request set-header X-Forwarded-Proto https if { ssl_fc }
  http-request set-header X-Forwarded-Proto http if !{ ssl_fc }
  default_backend backend
backend backend
  server b1 127.0.0.1:$BACK
HAP
haproxy -db -f "$TMP/haproxy.cfg" >"$TMP/haproxy.log" 2>&1 & PIDS+=($!); HAPROXYPID=$!

cat >"$TMP/Caddyfile" <<CADDY
{
  admin off
  auto_https off
}
(proxy) {
  reverse_proxy 127.0.0.1:$BACK {
    transport http {
      keepalive 90s
      keepalive_idle_conns_per_host 128
    }
  }
}
http://127.0.0.1:$CADDY {
  import proxy
}
https://127.0.0.1:$CADDYS {
  tls $TMP/cert.pem $TMP/key.pem
  import proxy
}
CADDY
XDG_DATA_HOME=$TMP XDG_CONFIG_HOME=$TMP caddy run --config "$TMP/Caddyfile" --adapter caddyfile >"$TMP/caddy.log" 2>&1 & PIDS+=($!); CADDYPID=$!
sleep 2
# The targets, in the order each round times them: proto|name|URL|PID
# (nginx, HAProxy and Caddy serve both listeners from one process tree).
TARGETS=(
  "http|backend direct|http://127.0.0.1:$BACK/|$BACKPID"
  "http|pylon|http://127.0.0.1:$PYLON/|$PYLONPID"
  "http|pylon net/http engine|http://127.0.0.1:$PYLONNH/|$PYLONNHPID"
  "http|net/http floor|http://127.0.0.1:$FLOOR/|$FLOORPID"
  ${FASTOK:+"http|fasthttp floor|http://127.0.0.1:$FAST/|$FASTPID"}
  "http|nginx|http://127.0.0.1:$NGINX/|$NGINXPID"
  "http|nginx 2 workers|http://127.0.0.1:$NGINX2/|$NGINX2PID"
  "http|haproxy 2 threads|http://127.0.0.1:$HAPROXY/|$HAPROXYPID"
  "http|caddy|http://127.0.0.1:$CADDY/|$CADDYPID"
  "https|backend direct|https://127.0.0.1:$BACKS/|$BACKSPID"
  "https|pylon|https://127.0.0.1:$PYLONS/|$PYLONSPID"
  "https|pylon net/http engine|https://127.0.0.1:$PYLONNHS/|$PYLONNHSPID"
  "https|net/http floor|https://127.0.0.1:$FLOORS/|$FLOORSPID"
  ${FASTOK:+"https|fasthttp floor|https://127.0.0.1:$FASTS/|$FASTSPID"}
  "https|nginx|https://127.0.0.1:$NGINXS/|$NGINXPID"
  "https|nginx 2 workers|https://127.0.0.1:$NGINX2S/|$NGINX2PID"
  "https|haproxy 2 threads|https://127.0.0.1:$HAPROXYS/|$HAPROXYPID"
  "https|caddy|https://127.0.0.1:$CADDYS/|$CADDYPID"
)
# BENCH_TARGETS (an extended regex on the target name) keeps only some
# targets, for short runs during development.
if [[ -n "${BENCH_TARGETS:-}" ]]; then
  KEEP=()
  for t in "${TARGETS[@]}"; do IFS='|' read -r _ n _ _ <<<"$t"; [[ $n =~ ^(${BENCH_TARGETS})$ ]] && KEEP+=("$t"); done
  TARGETS=("${KEEP[@]}")
fi
# Every target must answer 200 with the backend's body before anything is
# timed: a proxy that answers errors quickly would look fast.
for t in "${TARGETS[@]}"; do
  IFS='|' read -r _ _ u _ <<<"$t"
  for _ in $(seq 20); do   # up to ~10 s for a slow start
    body=$(curl -sk --http1.1 --max-time 2 -w ' %{http_code}' "$u" || true)
    [[ $body == "hello from the benchmark backend"*" 200" ]] && break
    sleep 0.5
  done
  [[ $body == "hello from the benchmark backend"*" 200" ]] || { echo "$u does not answer with the backend's body over HTTP/1.1 (got: $body)" >&2; exit 1; }
done

cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }   # clock ticks
# Children: nginx's worker is a child of the master; sum the whole tree.
treecpu() { local t=0 p; for p in $1 $(pgrep -P "$1" || true); do t=$((t + $(cpu "$p"))); done; echo $t; }
HZ=$(getconf CLK_TCK)
us() { awk '{v=$1; u=1; if (v ~ /us$/) u=1; else if (v ~ /ms$/) u=1000; else if (v ~ /s$/) u=1e6; sub(/[a-z]+$/, "", v); printf "%.0f", v*u}' <<<"$1"; }

RAW=$TMP/raw.tsv   # round proto conns target rps p50us p99us cpuus
: >"$RAW"
run() { # round proto name url pid conns [file duration]
  local round=$1 proto=$2 name=$3 url=$4 pid=$5 c=$6 file=${7:-$RAW} dur=${8:-$DUR} before after out rps reqs p50 p99 cpu errs
  wrk -t1 -c"$c" -d1s "$url" >/dev/null  # warm up pools and TLS sessions
  before=$(treecpu "$pid")
  out=$(wrk -t"$(( c < 2 ? 1 : 2 ))" -c"$c" -d"$dur" --latency "$url")
  after=$(treecpu "$pid")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  p50=$(us "$(awk '$1=="50%" {print $2}' <<<"$out")")
  p99=$(us "$(awk '$1=="99%" {print $2}' <<<"$out")")
  cpu=$(awk -v a="$after" -v b="$before" -v hz="$HZ" -v n="$reqs" 'BEGIN {printf "%.1f", (a-b)*1e6/hz/n}')
  # Answers other than 2xx/3xx and socket errors (wrk reports both): a row
  # with any is marked in the report, never compared as if it were good.
  errs=$(awk '/Non-2xx or 3xx responses/ {n += $NF} /Socket errors/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n+0}' <<<"$out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$proto" "$c" "$name" "$rps" "$p50" "$p99" "$cpu" "$errs" >>"$file"
  echo "round $round $proto $name c=$c: $rps req/s p50 ${p50}µs p99 ${p99}µs cpu ${cpu}µs/req errors $errs"
}
# Each round starts at a different place in the list (the targets are
# rotated), so that no target always runs right after the same one (the
# backend direct at 50 connections leaves the backend busy collecting
# garbage for a moment, for example).
NT=${#TARGETS[@]}
for round in $(seq "$ROUNDS"); do
  off=$(( (round - 1) * NT / ROUNDS ))
  for c in 1 50; do
    for i in $(seq 0 $((NT - 1))); do
      IFS='|' read -r proto name url pid <<<"${TARGETS[$(( (i + off) % NT ))]}"
      run "$round" "$proto" "$name" "$url" "$pid" $c
    done
  done
done
# Paired runs for the verdicts: Pylon and nginx (1 worker) back to back,
# PAIRS times per protocol and connection count, the one that goes first
# alternating. This machine's speed drifts over minutes (a shared VM: the
# same binary's CPU µs/req differs by a third between rounds), and a round
# runs every target, so Pylon's and nginx's runs in it are minutes apart;
# a ratio of two runs seconds apart is steadier. The verdicts use the
# median of the pairs' ratios (and of Pylon's CPU µs/req in them); the
# table above keeps the rounds' means.
PAIRED=$TMP/paired.tsv   # same columns as RAW; round is the pair
: >"$PAIRED"
pairtarget() { # proto name: "url pid" of the target, if it runs
  local t p n u pid
  for t in "${TARGETS[@]}"; do IFS='|' read -r p n u pid <<<"$t"; [[ $p == "$1" && $n == "$2" ]] && { echo "$u $pid"; return; }; done
}
for proto in http https; do
  read -r PU PP <<<"$(pairtarget $proto pylon)"; read -r NU NP <<<"$(pairtarget $proto nginx)"
  [[ -n ${PU:-} && -n ${NU:-} ]] || continue
  for c in 50 1; do
    for pair in $(seq "$PAIRS"); do
      if (( pair % 2 )); then
        run "$pair" $proto pylon "$PU" "$PP" $c "$PAIRED" "$PAIRDUR"; run "$pair" $proto nginx "$NU" "$NP" $c "$PAIRED" "$PAIRDUR"
      else
        run "$pair" $proto nginx "$NU" "$NP" $c "$PAIRED" "$PAIRDUR"; run "$pair" $proto pylon "$PU" "$PP" $c "$PAIRED" "$PAIRDUR"
      fi
    done
  done
done

kill -TERM $PYLONPID $FLOORPID $PYLONNHPID 2>/dev/null || true; wait $PYLONPID $FLOORPID $PYLONNHPID 2>/dev/null || true

# Profiles: each profiled process serves one wrk run at 50 connections
# (plain HTTP) on its own, then writes its profiles when stopped.
profile() { # port args...
  local port=$1; shift
  "$TMP/bench" "$@" -port "$port" -upstream $BACK >"$TMP/prof-$port.log" 2>&1 & local pid=$!; PIDS+=($pid)
  for _ in $(seq 100); do grep -q '^ready' "$TMP/prof-$port.log" && break; sleep 0.1; done
  wrk -t1 -c50 -d1s "http://127.0.0.1:$port/" >/dev/null
  wrk -t2 -c50 -d"$DUR" "http://127.0.0.1:$port/" >/dev/null
  kill -TERM $pid || true; wait $pid 2>/dev/null || true
}
profile 18071 -mode gateway -cpuprofile "$PROF/gateway-cpu.pprof" -memprofile "$PROF/gateway-heap.pprof"
profile 18072 -mode gateway -http1-engine net/http -cpuprofile "$PROF/gateway-nethttp-cpu.pprof"
profile 18073 -mode floor -cpuprofile "$PROF/floor-cpu.pprof"

# Memory: RSS once the table is published and a short load has warmed the
# pools (traffic goes to route 0; the others are the table's weight).
MEMJSON=$TMP/mem.json
echo '[]' >"$MEMJSON"
for n in 1000 10000 20000; do
  "$TMP/bench" -mode gateway -port 18099 -upstream $BACK -routes $n >"$TMP/mem-$n.log" 2>&1 & MEMPID=$!; PIDS+=($MEMPID)
  for _ in $(seq 600); do grep -q '^ready' "$TMP/mem-$n.log" && break; sleep 0.1; done
  wrk -t2 -c50 -d2s "http://127.0.0.1:18099/" >/dev/null
  rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$MEMPID/status")
  heap=$(sed -n 's/.*heap_inuse_mib=\([0-9.]*\).*/\1/p' "$TMP/mem-$n.log")
  pub=$(sed -n 's/.*publish_ms=\([0-9.]*\).*/\1/p' "$TMP/mem-$n.log")
  echo "routes=$n rss=${rss}MiB heap_after_publish=${heap}MiB build_and_publish=${pub}ms"
  jq --argjson n "$n" --argjson rss "$rss" --argjson heap "${heap:-0}" --argjson pub "${pub:-0}" '. + [{routes: $n, rssMiB: $rss, heapInuseMiB: $heap, publishMs: $pub}]' "$MEMJSON" >"$MEMJSON.new" && mv "$MEMJSON.new" "$MEMJSON"
  kill -TERM $MEMPID; wait $MEMPID 2>/dev/null || true
done

# Propagation through envtest (kube-apiserver + etcd from bin/k8s or
# KUBEBUILDER_ASSETS).
PROP=$("$TMP/bench" -mode propagation -port 18098 -routes 1000 -changes "$CHANGES" | tail -1)
echo "propagation: $PROP"

# The pairs: per (proto, conns), Pylon/nginx ratios of req/s and p50 per
# pair, and their medians with Pylon's median CPU µs/req.
PAIREDJSON=$TMP/paired.json
jq -Rn --arg dur "$PAIRDUR" '
  def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  [inputs | split("\t") | {pair: .[0]|tonumber, proto: .[1], conns: .[2]|tonumber, target: .[3],
    rps: .[4]|tonumber, p50us: .[5]|tonumber, cpuUsPerReq: .[7]|tonumber, errors: .[8]|tonumber}]
  | group_by([.proto, .conns]) | map(
      (group_by(.pair) | map(select(length == 2) | (map(select(.target == "pylon"))[0]) as $p | (map(select(.target == "nginx"))[0]) as $n
        | {pair: $p.pair, rpsRatio: ($p.rps / $n.rps), p50Ratio: ($p.p50us / $n.p50us), pylonCpuUsPerReq: $p.cpuUsPerReq,
           nginxCpuUsPerReq: $n.cpuUsPerReq, errors: ($p.errors + $n.errors)})) as $pairs
      | {proto: .[0].proto, conns: .[0].conns, duration: $dur, pairs: $pairs,
         rpsRatio: ($pairs | map(.rpsRatio) | median), p50Ratio: ($pairs | map(.p50Ratio) | median),
         pylonCpuUsPerReq: ($pairs | map(.pylonCpuUsPerReq) | median), nginxCpuUsPerReq: ($pairs | map(.nginxCpuUsPerReq) | median),
         rpsRatioRange: ($pairs | map(.rpsRatio) | [min, max]), pylonCpuRange: ($pairs | map(.pylonCpuUsPerReq) | [min, max]),
         errors: ($pairs | map(.errors) | add)})' <"$PAIRED" >"$PAIREDJSON"

# Aggregate rounds: mean of each figure per (proto, conns, target).
jq -Rn --slurpfile mem "$MEMJSON" --slurpfile paired "$PAIREDJSON" --argjson prop "$PROP" --arg dur "$DUR" --argjson rounds "$ROUNDS" '
  [inputs | split("\t") | {round: .[0]|tonumber, proto: .[1], conns: .[2]|tonumber, target: .[3],
    rps: .[4]|tonumber, p50us: .[5]|tonumber, p99us: .[6]|tonumber, cpuUsPerReq: .[7]|tonumber, errors: .[8]|tonumber}] as $raw
  | {duration: $dur, rounds: $rounds, raw: $raw,
     throughput: ($raw | group_by([.proto, .conns, .target]) | map({proto: .[0].proto, conns: .[0].conns, target: .[0].target,
        rps: (map(.rps) | add / length), p50us: (map(.p50us) | add / length), p99us: (map(.p99us) | add / length),
        cpuUsPerReq: (map(.cpuUsPerReq) | add / length), errors: (map(.errors) | add)})),
     paired: $paired[0], memory: $mem[0], propagation: $prop}' <"$RAW" >"$OUT/results.json"
{
  echo "# Gateway benchmark"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo 'The full report with the controller figures and versions is bench/REPORT.md (`make bench`).'
  echo
  ./hack/bench-report.sh --gateway "$OUT/results.json"
} >"$OUT/REPORT.md"
echo "wrote $OUT/REPORT.md and $OUT/results.json"
