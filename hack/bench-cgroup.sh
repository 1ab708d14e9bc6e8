#!/usr/bin/env bash
# Runs the controller benchmark's manager inside a real memory cgroup, as
# a container would: `hack/bench-cgroup.sh MiB OUTDIR [bench/controller flags]`,
# e.g. `hack/bench-cgroup.sh 128 /tmp/cg -apps 300 -large 5000 -quiet 5s
# -memory-limit 115`. Only the benchmark process (the manager and the
# benchmark's own watch) is limited: kube-apiserver and etcd, which envtest
# starts as its children, are moved out of the cgroup as they appear.
# Prints whether the process was OOM-killed and its peak usage. Needs root
# and a cgroup v1 memory controller or cgroup v2. Not part of `make bench`.
set -euo pipefail
LIM=$1 OUT=$2; shift 2
cd "$(dirname "$0")/.."
mkdir -p "$OUT"
go build -o "$OUT/controller-bench" ./bench/controller
# Evict the fresh binary from the page cache, so that its pages are charged
# to the cgroup when the process faults them in, as in a container (else
# they stay charged to the build).
sync "$OUT/controller-bench"
python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$OUT/controller-bench"
if [[ -d /sys/fs/cgroup/memory ]]; then
  ROOT=/sys/fs/cgroup/memory CG=/sys/fs/cgroup/memory/pylon-bench-$$
  mkdir "$CG"; echo $((LIM << 20)) >"$CG/memory.limit_in_bytes"
  echo 0 >"$CG/memory.swappiness" 2>/dev/null || true
  # Charges of processes moved out go with them (v1 keeps them otherwise).
  MOVE=$(cat $ROOT/memory.move_charge_at_immigrate 2>/dev/null || true)
  echo 3 >$ROOT/memory.move_charge_at_immigrate 2>/dev/null || true
else
  ROOT=/sys/fs/cgroup CG=/sys/fs/cgroup/pylon-bench-$$
  mkdir "$CG"; echo $((LIM << 20)) >"$CG/memory.max"; echo 0 >"$CG/memory.swap.max" 2>/dev/null || true
fi
trap 'rmdir "$CG" 2>/dev/null || true; [[ -n "${MOVE:-}" ]] && echo "$MOVE" >$ROOT/memory.move_charge_at_immigrate 2>/dev/null || true' EXIT
ASSETS=${KUBEBUILDER_ASSETS:-$PWD/bin/k8s/v1.36.3}
bash -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' _ "$CG" env KUBEBUILDER_ASSETS="$ASSETS" \
  "$OUT/controller-bench" -out "$OUT/results.json" -profiles "$OUT" "$@" >"$OUT/log" 2>&1 &
BP=$!
( while kill -0 $BP 2>/dev/null; do
    for p in $(cat "$CG/cgroup.procs"); do
      [[ $p != "$BP" ]] && { echo "$p" >"$ROOT/cgroup.procs" 2>/dev/null || true; }
    done
    sleep 0.02
  done ) &
MOVER=$!
rc=0; wait $BP || rc=$?
kill $MOVER 2>/dev/null || true
{
  echo "limit ${LIM} MiB, exit status $rc"
  if [[ -f "$CG/memory.max_usage_in_bytes" ]]; then
    echo "peak usage $(( $(cat "$CG/memory.max_usage_in_bytes") >> 20 )) MiB, limit hits $(cat "$CG/memory.failcnt")"
    cat "$CG/memory.oom_control"
  else
    echo "peak usage $(( $(cat "$CG/memory.peak" 2>/dev/null || echo 0) >> 20 )) MiB"
    cat "$CG/memory.events"
  fi
} | tee "$OUT/cgroup.txt"
