#!/usr/bin/env bash
# A/B of two gateway builds in one run: builds bench/gateway at git ref A
# (default main) and from the work tree (B), starts both next to nginx
# (1 worker) on the same backend, and runs wrk against each in turn, ROUNDS
# times, at 50 and 1 connections, plain HTTP and TLS. Prints one line per
# run and the mean per (proto, conns, target) with the ratio to nginx.
# Usage: hack/bench-gateway-ab.sh [ref-A]   (DUR=5s ROUNDS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
REF=${1:-main} DUR=${DUR:-5s} ROUNDS=${ROUNDS:-3}
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
for bin in wrk nginx openssl; do command -v "$bin" >/dev/null || { echo "missing $bin"; exit 1; }; done

mkdir "$TMP/a"
git archive "$REF" | tar -x -C "$TMP/a"
(cd "$TMP/a" && go build -o "$TMP/bench-a" ./bench/gateway)
go build -o "$TMP/bench-b" ./bench/gateway
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
BACK=18181 A=18182 B=18183 NGINX=18184 AS=18192 BS=18193 NGINXS=18194
"$TMP/bench-b" -mode backend -port $BACK & PIDS+=($!)
"$TMP/bench-a" -mode gateway -port $A -upstream $BACK >/dev/null 2>&1 & PIDS+=($!); APID=$!
"$TMP/bench-b" -mode gateway -port $B -upstream $BACK -cpuprofile "${PROFILE:-$TMP/b.pprof}" >/dev/null 2>&1 & PIDS+=($!); BPID=$!
"$TMP/bench-a" -mode gateway -port $AS -upstream $BACK -cert "$TMP/cert.pem" -key "$TMP/key.pem" >/dev/null 2>&1 & PIDS+=($!); ASPID=$!
"$TMP/bench-b" -mode gateway -port $BS -upstream $BACK -cert "$TMP/cert.pem" -key "$TMP/key.pem" >/dev/null 2>&1 & PIDS+=($!); BSPID=$!
cat >"$TMP/nginx.conf" <<NGX
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/nginx-error.log;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP; proxy_temp_path $TMP; fastcgi_temp_path $TMP; uwsgi_temp_path $TMP; scgi_temp_path $TMP;
  upstream backend { server 127.0.0.1:$BACK; keepalive 128; }
  server {
    listen 127.0.0.1:$NGINX;
    listen 127.0.0.1:$NGINXS ssl;
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
nginx -c "$TMP/nginx.conf" & PIDS+=($!); NPID=$!
sleep 2

cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
treecpu() { local t=0 p; for p in $1 $(pgrep -P "$1" || true); do t=$((t + $(cpu "$p"))); done; echo $t; }
HZ=$(getconf CLK_TCK)
us() { awk '{v=$1; u=1; if (v ~ /us$/) u=1; else if (v ~ /ms$/) u=1000; else if (v ~ /s$/) u=1e6; sub(/[a-z]+$/, "", v); printf "%.0f", v*u}' <<<"$1"; }
RAW=$TMP/raw.tsv
: >"$RAW"
run() { # proto conns name url pid
  local proto=$1 c=$2 name=$3 url=$4 pid=$5 before after out
  wrk -t1 -c"$c" -d1s "$url" >/dev/null
  before=$(treecpu "$pid")
  out=$(wrk -t"$(( c < 2 ? 1 : 2 ))" -c"$c" -d"$DUR" --latency "$url")
  after=$(treecpu "$pid")
  local rps reqs p50 cpu
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  p50=$(us "$(awk '$1=="50%" {print $2}' <<<"$out")")
  cpu=$(awk -v a="$after" -v b="$before" -v hz="$HZ" -v n="$reqs" 'BEGIN {printf "%.1f", (a-b)*1e6/hz/n}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$proto" "$c" "$name" "$rps" "$p50" "$cpu" >>"$RAW"
  echo "$proto c=$c $name: $rps req/s p50 ${p50}µs cpu ${cpu}µs/req"
}
for round in $(seq "$ROUNDS"); do
  echo "round $round, load $(cut -d' ' -f1 /proc/loadavg)"
  for c in 50 1; do
    run http $c "A($REF)" "http://127.0.0.1:$A/" $APID
    run http $c B "http://127.0.0.1:$B/" $BPID
    run http $c nginx "http://127.0.0.1:$NGINX/" $NPID
    run https $c "A($REF)" "https://127.0.0.1:$AS/" $ASPID
    run https $c B "https://127.0.0.1:$BS/" $BSPID
    run https $c nginx "https://127.0.0.1:$NGINXS/" $NPID
  done
done
kill -TERM $BPID; wait $BPID 2>/dev/null || true
echo
echo "mean of $ROUNDS rounds (ratio: req/s ÷ nginx's; p50 ÷ nginx's)"
awk -F'\t' '{k=$1" c="$2; key=k"\t"$3; n[key]++; r[key]+=$4; p[key]+=$5; u[key]+=$6; if ($3=="nginx") {nr[k]+=$4; np[k]+=$5; nn[k]++} if (!(key in seen)) {seen[key]=1; order[++o]=key}}
  END {for (i=1;i<=o;i++) {key=order[i]; split(key, kk, "\t"); k=kk[1];
    printf "%-10s %-10s %8.0f req/s (%.2f×)  p50 %5.0fµs (%.2f×)  cpu %5.1fµs/req\n", k, kk[2], r[key]/n[key], (r[key]/n[key])/(nr[k]/nn[k]), p[key]/n[key], (p[key]/n[key])/(np[k]/nn[k]), u[key]/n[key]}}' "$RAW"
