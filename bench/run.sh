#!/usr/bin/env bash
# `make bench`: brings up a control plane of its own for the operator part, measures, takes it
# down. The last line printed is one JSON object of all the figures. BENCH_ONLY=proxy skips the
# operator part and the control plane.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=../test/ground/versions.sh
. test/ground/versions.sh
export BENCH_GHOSTUNNEL="$MTLS_CACHE_DIR/ghostunnel-$GHOSTUNNEL_VERSION/bin/ghostunnel"

if [ "${BENCH_ONLY:-}" = proxy ]; then
  exec node dist/bench/main.js
fi

state="$PWD/.bench"
figures=$(mktemp)
trap 'test/ground/cluster-down.sh "$state" >&2; rm -f "$figures"' EXIT
test/ground/cluster-up.sh "$state" >&2
"$state/bin/kubectl" --kubeconfig "$state/kubeconfig" apply -f crds/ >&2
"$state/bin/kubectl" --kubeconfig "$state/kubeconfig" wait --for=condition=Established \
  crd --all --timeout=60s >&2

# The figures are printed once everything else has had its say, so the JSON line comes last.
node dist/bench/main.js "$state/env" >"$figures"
test/ground/cluster-down.sh "$state" >&2
cat "$figures"
