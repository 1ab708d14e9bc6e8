#!/usr/bin/env bash
# Benchmarks Pylon's gateway against the backend alone, nginx and Caddy, all
# on 127.0.0.1, with wrk at 1 and 50 connections. Writes
# bench/gateway/REPORT.md: req/s, p50/p99 latency and CPU µs per request of
# the proxy process (utime+stime from /proc/<pid>/stat).
# Needs: go, wrk, nginx, caddy (apt-get install wrk nginx caddy).
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${DUR:-10s}
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
for bin in wrk nginx caddy; do command -v "$bin" >/dev/null || { echo "missing $bin (apt-get install $bin)"; exit 1; }; done

go build -o "$TMP/bench" ./bench/gateway
BACK=18081 PYLON=18082 NGINX=18083 CADDY=18084
"$TMP/bench" -mode backend -port $BACK & PIDS+=($!); BACKPID=$!
"$TMP/bench" -mode gateway -port $PYLON -upstream $BACK & PIDS+=($!); PYLONPID=$!

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
nginx -c "$TMP/nginx.conf" & PIDS+=($!); NGINXPID=$!

cat >"$TMP/Caddyfile" <<CADDY
{
  admin off
  auto_https off
}
http://127.0.0.1:$CADDY {
  reverse_proxy 127.0.0.1:$BACK {
    transport http {
      keepalive 90s
      keepalive_idle_conns_per_host 128
    }
  }
}
CADDY
XDG_DATA_HOME=$TMP XDG_CONFIG_HOME=$TMP caddy run --config "$TMP/Caddyfile" --adapter caddyfile >"$TMP/caddy.log" 2>&1 & PIDS+=($!); CADDYPID=$!
sleep 2

cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }   # clock ticks
# Children: nginx's worker is a child of the master; sum the whole tree.
treecpu() { local t=0 p; for p in $1 $(pgrep -P "$1" || true); do t=$((t + $(cpu "$p"))); done; echo $t; }
HZ=$(getconf CLK_TCK)

REPORT=bench/gateway/REPORT.md
{
  echo "# Gateway benchmark"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, wrk -t2 -d$DUR, 127.0.0.1, small (33 B) GET responses, upstream keep-alive everywhere."
  echo "CPU µs/req is the proxy process tree's utime+stime (for 'backend direct': the backend's) divided by requests."
  echo
  echo "| target | conns | req/s | p50 | p99 | CPU µs/req |"
  echo "|---|---|---|---|---|---|"
} >"$REPORT"
run() { # name port pid conns
  local name=$1 port=$2 pid=$3 c=$4 before after out rps reqs p50 p99
  wrk -t1 -c"$c" -d2s "http://127.0.0.1:$port/" >/dev/null  # warm up pools
  before=$(treecpu "$pid")
  out=$(wrk -t"$(( c < 2 ? 1 : 2 ))" -c"$c" -d"$DUR" --latency "http://127.0.0.1:$port/")
  after=$(treecpu "$pid")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  us=$(awk -v a="$after" -v b="$before" -v hz="$HZ" -v n="$reqs" 'BEGIN {printf "%.1f", (a-b)*1e6/hz/n}')
  echo "| $name | $c | $rps | $p50 | $p99 | $us |" >>"$REPORT"
  echo "$name c=$c: $rps req/s p50 $p50 p99 $p99 cpu ${us}µs/req"
}
for c in 1 50; do
  run "backend direct" $BACK $BACKPID $c
  run "pylon" $PYLON $PYLONPID $c
  run "nginx" $NGINX $NGINXPID $c
  run "caddy" $CADDY $CADDYPID $c
done
echo "wrote $REPORT"
