#!/usr/bin/env bash
# Renders benchmark results as Markdown on stdout, each figure next to its
# target. Usage: bench-report.sh [--gateway FILE] [--controller FILE]
# [--env FILE]. Sections whose file is missing are left out. Targets are
# printed, never enforced: benchmarks are reports.
set -euo pipefail
GW= CTRL= ENVF=
while [[ $# -gt 0 ]]; do
  case $1 in
    --gateway) GW=$2; shift 2 ;;
    --controller) CTRL=$2; shift 2 ;;
    --env) ENVF=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
verdict() { [[ $1 == n/a ]] && { echo "n/a (errors or no figure)"; return; }; awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = (op == "<=") ? (v <= t) : (v >= t); print ok ? "met" : "**missed**" }'; }

if [[ -n $ENVF && -f $ENVF ]]; then
  echo "## Machine and versions"
  echo
  jq -r 'to_entries[] | "- \(.key): \(.value)"' "$ENVF"
  echo
fi

if [[ -n $CTRL && -f $CTRL ]]; then
  c() { jq -r "$1" "$CTRL"; }
  n=$(c .apps) large=$(c .large)
  conv=$(c '.convergeSeconds|.*10|round/10') wpa=$(c '.writesPerApp|.*100|round/100') tpa=$(c '.targetWritesPerApp|.*100|round/100')
  quiet=$(c '.quietWrites.create+.quietWrites.updateOrApply+.quietWrites.status+.quietWrites.delete')
  resync=$(c '.resyncWrites.create+.resyncWrites.updateOrApply+.resyncWrites.status+.resyncWrites.delete')
  heapL=$(c '.memoryLarge.heapInuseMiB|.*10|round/10') rssL=$(c '.memoryLarge.rssMiB|.*10|round/10')
  echo "## Controller scale"
  echo
  echo "In-process manager (\`controller.Setup\`, cmd/manager's options: read-your-writes cache, no client-side rate limit, $(c .concurrency) concurrent reconciles) against envtest (kube-apiserver + etcd) with Gateway API and cert-manager CRDs. WebApp mix: half TLS Auto on a Gateway class with a ClusterIssuer, a quarter public without TLS and with a 10% canary, a quarter ClusterLocal. The Gateway's status is rewritten as routes attach (attachedRoutes, at most every 100 ms), as the bundled gateway does; envtest runs no Gateway controller. Writes are counted at the manager's client (wrapped rest.Config transport); events are listed apart and not in the totals."
  echo
  echo "| figure | measured | target | |"
  echo "|---|---|---|---|"
  echo "| $n WebApps: create → all converged (children exist, status at generation, the last WebApp change; none for 3 s after) | ${conv} s | ≤ 60 s | $(verdict "$conv" "<=" 60) |"
  echo "| writes per WebApp (create + apply + status + delete) | ${wpa} | ≤ children + 2 = ${tpa} | $(verdict "$wpa" "<=" "$tpa") |"
  rpa=$(c '.reconcilesPerApp // 0|.*100|round/100')
  echo "| reconciles per WebApp while creating $n (controller_runtime_reconcile_total) | ${rpa}$([[ $large -gt $n ]] && echo "; $(c '.largeReconcilesPerApp // 0|.*100|round/100') for $n → $large") | ≤ 5 | $(verdict "$rpa" "<=" 5) |"
  echo "| writes during $(c .quietSeconds) s of quiet | ${quiet} | 0 | $(verdict "$quiet" "<=" 0) |"
  echo "| writes after a manager restart (resync of $n, $(c '.resyncSeconds|.*10|round/10') s; $(c '.resyncWrites.reads // "?"') reads) | ${resync} | 0 | $(verdict "$resync" "<=" 0) |"
  echo "| memory at $n WebApps (heap in use / process RSS) | $(c '.memoryApps.heapInuseMiB|.*10|round/10') / $(c '.memoryApps.rssMiB|.*10|round/10') MiB | | |"
  if [[ $large -gt $n ]]; then
    if [[ $(c '.limitFromStart // false') == true ]]; then
      container="$(c 'if .memoryLimitMiB >= 432 then .memoryLimitMiB/0.9 else .memoryLimitMiB + 48 end|round') MiB"
      echo "| memory at $large WebApps under a Go memory limit of $(c .memoryLimitMiB) MiB set when the process started (what cmd/manager sets in a ${container} container), right after convergence (heap live / in use / process RSS) | $(c '.memoryLarge.heapLiveMiB // 0|.*10|round/10') / ${heapL} / ${rssL} MiB | ≤ 150 MiB | $(verdict "$rssL" "<=" 150) (RSS) |"
      rssLL=$(c '.memoryLargeLimited.rssMiB|.*10|round/10')
      echo "| the same, 15 s later (heap live / in use / process RSS) | $(c '.memoryLargeLimited.heapLiveMiB|.*10|round/10') / $(c '.memoryLargeLimited.heapInuseMiB|.*10|round/10') / ${rssLL} MiB | ≤ 150 MiB | $(verdict "$rssLL" "<=" 150) (RSS) |"
      echo "| of that RSS: the binary's pages (file-backed) / Go runtime metadata / heap free, not yet returned | $(c '.memoryLargeLimited.classes["smaps:Private_Clean"] // 0|.*10|round/10') / $(c '((.memoryLargeLimited.classes["go:metadata/other"] // 0) + (.memoryLargeLimited.classes["go:metadata/mspan/inuse"] // 0))|.*10|round/10') / $(c '.memoryLargeLimited.classes["go:heap/free"] // 0|.*10|round/10') MiB | | |"
    else
    echo "| memory at $large WebApps, no Go memory limit (heap live / in use / process RSS) | $(c '.memoryLarge.heapLiveMiB // 0|.*10|round/10') / ${heapL} / ${rssL} MiB | ≤ 150 MiB | $(verdict "$rssL" "<=" 150) (RSS) |"
    fi
    if [[ $(c '.memoryLimitMiB // 0') != 0 && $(c '.limitFromStart // false') != true ]]; then
      rssLL=$(c '.memoryLargeLimited.rssMiB|.*10|round/10')
      echo "| memory at $large WebApps with a Go memory limit of $(c .memoryLimitMiB) MiB (what cmd/manager sets in a $(c 'if .memoryLimitMiB >= 432 then .memoryLimitMiB/0.9 else .memoryLimitMiB + 48 end|round') MiB container), 15 s after it was set (heap live / in use / process RSS) | $(c '.memoryLargeLimited.heapLiveMiB|.*10|round/10') / $(c '.memoryLargeLimited.heapInuseMiB|.*10|round/10') / ${rssLL} MiB | ≤ 150 MiB | $(verdict "$rssLL" "<=" 150) (RSS) |"
    fi
    echo "| $n → $large WebApps converged | $(c '.largeConvergeSeconds|.*10|round/10') s | | |"
  fi
  echo "| reconcile latency p50 / p99 (controller_runtime_reconcile_time_seconds, webapp, during convergence) | $(c '.reconcile.p50Seconds*1000|round') / $(c '.reconcile.p99Seconds*1000|round') ms | | |"
  echo
  echo "CPU while converging $n WebApps (${conv} s wall, 2 shared CPUs): kube-apiserver $(c '.convergeCPU.apiserverSeconds|.*10|round/10') s, etcd $(c '.convergeCPU.etcdSeconds|.*10|round/10') s, manager process $(c '.convergeCPU.managerSeconds|.*10|round/10') s$([[ $large -gt $n ]] && echo "; for $n → $large: kube-apiserver $(c '.largeCPU.apiserverSeconds|.*10|round/10') s, etcd $(c '.largeCPU.etcdSeconds|.*10|round/10') s, manager $(c '.largeCPU.managerSeconds|.*10|round/10') s")."
  echo
  echo "Writes while converging $n WebApps: $(c '.convergeWrites|"create \(.create), update/apply \(.updateOrApply), status \(.status), delete \(.delete); events \(.events)"'). Children (objects a WebApp controls, plus HostnameClaims): $(c '.childrenTotal') = $(c '.childrenPerApp') per WebApp ($(c '.children|to_entries|map("\(.key) \(.value)")|join(", ")')). Memory is $(c .memoryKind)."
  echo
fi

if [[ -n $GW && -f $GW ]]; then
  g() { jq -r "$1" "$GW"; }
  echo "## Gateway"
  echo
  echo "wrk -d$(g .duration), $(g .rounds) alternating round(s) (every target once per round; figures are the mean of the rounds), 127.0.0.1, 33-byte GET responses, upstream keep-alive everywhere, access logs off. TLS: ECDSA P-256 self-signed, TLS to the proxy and plain HTTP to the backend (the 'backend direct' TLS row is the backend serving TLS itself). CPU µs/req is the proxy process tree's utime+stime divided by requests."
  echo
  echo "| proto | conns | target | req/s | p50 µs | p99 µs | CPU µs/req |"
  echo "|---|---|---|---|---|---|---|"
  g '.throughput | sort_by(.proto, .conns, (.target|if .=="backend direct" then 0 elif .=="pylon" then 1 elif .=="pylon net/http engine" then 1.1 elif .=="net/http floor" then 1.3 elif .=="fasthttp floor" then 1.6 elif .=="nginx" then 2 elif .=="nginx 2 workers" then 3 elif .=="haproxy 2 threads" then 4 else 5 end))[] | "| \(.proto) | \(.conns) | \(.target) | \(.rps|round) | \(.p50us|round) | \(.p99us|round) | \(.cpuUsPerReq*10|round/10) |"'
  echo
  g '.throughput[] | select((.errors // 0) > 0) | "- **Not comparable**: \(.proto), \(.conns) connection(s), \(.target): \(.errors) answers were errors (non-2xx/3xx or socket errors)."'
  # rat PROTO CONNS FIELD A B: A's FIELD over B's, or n/a when either row
  # is missing or counted errors (a row with errors is not comparable).
  rat() { g "[.throughput[]|select(.proto==\"$1\" and .conns==$2)] | (map(select(.target==\"$4\"))[0]) as \$a | (map(select(.target==\"$5\"))[0]) as \$b
    | if \$a == null or \$b == null or ((\$a.errors // 0) + (\$b.errors // 0)) > 0 then \"n/a\" else (\$a.$3 / \$b.$3 * 100 | round / 100) end"; }
  cpu() { g "[.throughput[]|select(.proto==\"$1\" and .conns==50 and .target==\"$2\")][0] | if . == null or (.errors // 0) > 0 then \"n/a\" else (.cpuUsPerReq*10|round/10) end"; }
  # pv PROTO CONNS JQ: a figure of the paired runs (hack/bench-gateway.sh),
  # or n/a when there are none or they counted errors.
  pv() { g "[(.paired // [])[] | select(.proto==\"$1\" and .conns==$2)][0] | if . == null or (.errors // 0) > 0 or (.pairs|length) == 0 then \"n/a\" else ($3) end"; }
  for proto in http https; do
    pn=$(rat $proto 50 rps pylon nginx) pcad=$(rat $proto 50 rps pylon caddy) pl=$(rat $proto 1 p50us pylon nginx) pc=$(cpu $proto pylon)
    if [[ $(pv $proto 50 '.pairs|length') != n/a ]]; then
      qn=$(pv $proto 50 '.rpsRatio*100|round/100') qc=$(pv $proto 50 '.pylonCpuUsPerReq*10|round/10') ql=$(pv $proto 1 '.p50Ratio*100|round/100')
      echo "- $proto, 50 connections, $(pv $proto 50 '.pairs|length') pairs of Pylon and nginx (1 worker) run back to back ($(pv $proto 50 .duration) each, medians): Pylon/nginx req/s = **${qn}×** ($(pv $proto 50 '.rpsRatioRange|map(.*100|round/100)|join("–")')×; target ≥ 0.8×: $(verdict "$qn" ">=" 0.8)); Pylon CPU **${qc} µs/req** ($(pv $proto 50 '.pylonCpuRange|map(.*10|round/10)|join("–")'); nginx $(pv $proto 50 '.nginxCpuUsPerReq*10|round/10'); target ≤ 30: $(verdict "$qc" "<=" 30)). In the rounds above: Pylon/nginx req/s ${pn}×, Pylon CPU ${pc} µs/req; Pylon/Caddy req/s = ${pcad}×."
      echo "- $proto, 1 connection, $(pv $proto 1 '.pairs|length') pairs: Pylon/nginx p50 latency = **${ql}×** ($(pv $proto 1 '.pairs|map(.p50Ratio)|[min, max]|map(.*100|round/100)|join("–")')×; target ≤ 1.2×: $(verdict "$ql" "<=" 1.2)); in the rounds above ${pl}×."
    else
      echo "- $proto, 50 connections: Pylon/nginx (1 worker) req/s = **${pn}×** (target ≥ 0.8×: $(verdict "$pn" ">=" 0.8)); Pylon CPU **${pc} µs/req** (target ≤ 30: $(verdict "$pc" "<=" 30)); Pylon/Caddy req/s = ${pcad}×."
      echo "- $proto, 1 connection: Pylon/nginx p50 latency = **${pl}×** (target ≤ 1.2×: $(verdict "$pl" "<=" 1.2))."
    fi
    floors=()
    for f in "net/http floor" "fasthttp floor"; do
      [[ $(rat $proto 50 rps "$f" nginx) == n/a && $(cpu $proto "$f") == n/a ]] && continue
      floors+=("$f/nginx req/s = **$(rat $proto 50 rps "$f" nginx)×** at $(cpu $proto "$f") µs CPU/req, p50 at 1 connection $(rat $proto 1 p50us "$f" nginx)×")
    done
    [[ ${#floors[@]} -gt 0 ]] && floors+=("Pylon/net/http floor req/s = $(rat $proto 50 rps pylon "net/http floor")×")
    if [[ $(cpu $proto "pylon net/http engine") != n/a ]]; then
      echo "- $proto, engine A/B (same binary, \`--http1-engine net/http\`): Pylon on net/http's engine/nginx req/s = **$(rat $proto 50 rps "pylon net/http engine" nginx)×** at $(cpu $proto "pylon net/http engine") µs CPU/req, p50 at 1 connection $(rat $proto 1 p50us "pylon net/http engine" nginx)×; lean/net/http engine req/s = $(rat $proto 50 rps pylon "pylon net/http engine")×."
    fi
    if [[ ${#floors[@]} -gt 0 ]]; then
      echo "- $proto, 50 connections, reference points (minimal proxies, no routing, metrics or logging): $(IFS=';'; echo "${floors[*]}" | sed 's/;/; /g')."
    fi
  done
  for i in 0 1 2; do
    r=$(g ".memory[$i].routes") rss=$(g ".memory[$i].rssMiB") pub=$(g ".memory[$i].publishMs")
    [[ $r == null ]] && continue
    echo "- Memory with $r routes (real translator table, after a 2 s load): RSS **${rss} MiB**, Go heap after publish $(g ".memory[$i].heapInuseMiB") MiB$([[ $r == 10000 ]] && echo " (target ≤ 100 MiB RSS: $(verdict "$rss" "<=" 100))")$([[ $pub != null ]] && echo "; first table build + publish ${pub} ms")."
  done
  pp=$(g .propagation.p99Ms)
  echo "- Route-change propagation with $(g .propagation.routes) routes, $(g .propagation.changes) changes, through envtest → informer → debounced rebuild → translate → publish, timed from just before the HTTPRoute update call to the first request answered by the new route: p50 **$(g .propagation.p50Ms) ms**, p99 **${pp} ms** (target p99 ≤ 100 ms: $(verdict "$pp" "<=" 100)); max $(g .propagation.maxMs) ms. Changes are $(g .propagation.spacing) apart (lone edits). The builder's own first-event → published figure: p50 $(g .propagation.applyP50Ms) ms, p99 $(g .propagation.applyP99Ms) ms. Back-to-back changes (each sent as soon as the previous one was served, so inside the $(g .propagation.debounce) debounce window): p50 $(g .propagation.backToBack.p50Ms) ms, p99 $(g .propagation.backToBack.p99Ms) ms."
  echo
fi
