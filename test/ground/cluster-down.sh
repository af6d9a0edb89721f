#!/usr/bin/env bash
# Stops every process that cluster-up.sh started in STATE_DIR, by pid, and removes the folder.
#
#   test/ground/cluster-down.sh [STATE_DIR]     (default .cluster)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
state="${1:-$repo/.cluster}"
[ -d "$state" ] || exit 0

# The apiserver first, so that nothing writes to etcd while it stops.
for name in openbao kube-apiserver etcd; do
  pidfile="$state/pids/$name.pid"
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
done

rm -rf "$state"
printf '[cluster-down] stopped and removed %s\n' "$state" >&2
