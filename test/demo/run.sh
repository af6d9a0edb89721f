#!/usr/bin/env bash
# The README's first command: brings up the local control plane and shows it working.
set -euo pipefail
cd "$(dirname "$0")/../.."

state="$PWD/.cluster"
step() { printf '\n== %s\n' "$*"; }

step "Starting the local control plane (etcd, kube-apiserver, OpenBao) on loopback"
test/ground/cluster-up.sh "$state"
trap 'step "Cleaning up"; test/ground/cluster-down.sh "$state"' EXIT
# shellcheck disable=SC1091
. "$state/env"

step "kubectl talks to the local kube-apiserver"
kubectl version
kubectl get namespaces

step "OpenBao answers, with KV v2 at secret/ and Kubernetes auth enabled"
bao status
bao secrets list
bao auth list
