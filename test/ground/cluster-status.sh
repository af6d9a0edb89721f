#!/usr/bin/env bash
# Exits 0 when the control plane in STATE_DIR answers: the apiserver is ready and OpenBao unsealed.
#
#   test/ground/cluster-status.sh [STATE_DIR]     (default .cluster)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
state="${1:-$repo/.cluster}"
# shellcheck disable=SC1091
. "$state/env"

curl -fsS --max-time 3 --cacert "$KUBE_CA_FILE" --cert "$state/pki/admin.crt" \
  --key "$state/pki/admin.key" "$KUBE_API_URL/readyz" >/dev/null
curl -fsS --max-time 3 "$VAULT_ADDR/v1/sys/health" >/dev/null
printf 'apiserver %s ready; OpenBao %s unsealed\n' "$KUBE_API_URL" "$VAULT_ADDR"
