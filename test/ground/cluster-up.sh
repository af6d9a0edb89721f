#!/usr/bin/env bash
# Starts a real local control plane on loopback: etcd, kube-apiserver and an OpenBao dev server,
# configured as the project expects (KV v2 at secret/, Kubernetes auth against this apiserver).
#
#   test/ground/cluster-up.sh [STATE_DIR]     (default .cluster)
#
# Writes STATE_DIR/kubeconfig, STATE_DIR/env (sourceable) and STATE_DIR/bin/{kubectl,helm,bao}.
# test/ground/cluster-down.sh STATE_DIR stops every process this started.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"

state=$(mkdir -p "${1:-$repo/.cluster}" && cd "${1:-$repo/.cluster}" && pwd)
log() { printf '[cluster-up] %s\n' "$*" >&2; }

if [ -f "$state/env" ] && "$here/cluster-status.sh" "$state" >/dev/null 2>&1; then
  log "already running in $state"
  exit 0
fi
"$here/cluster-down.sh" "$state" >/dev/null 2>&1 || true
mkdir -p "$state"/{bin,pids,logs,pki,etcd}

"$here/build-tools.sh" all
"$here/install-openbao.sh"

kube_bin="$MTLS_CACHE_DIR/kube-$KUBE_VERSION/bin"
ln -sf "$kube_bin/kubectl" "$state/bin/kubectl"
ln -sf "$MTLS_CACHE_DIR/helm-$HELM_VERSION/bin/helm" "$state/bin/helm"
ln -sf "$(cat "$repo/.venv/bao-path")" "$state/bin/bao"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
etcd_port=$(free_port)
etcd_peer_port=$(free_port)
api_port=$(free_port)
bao_port=$(free_port)

# start NAME COMMAND...: runs a process in the background, its pid and log in the state folder.
start() {
  local name=$1
  shift
  "$@" >"$state/logs/$name.log" 2>&1 &
  echo $! >"$state/pids/$name.pid"
}

# wait_for NAME SECONDS COMMAND...: polls until COMMAND succeeds, or shows NAME's log and fails.
wait_for() {
  local name=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ] || ! kill -0 "$(cat "$state/pids/$name.pid")" 2>/dev/null; then
      log "$name did not become ready; last lines of its log:"
      tail -n 30 "$state/logs/$name.log" >&2
      exit 1
    fi
    sleep 0.2
  done
}

"$here/make-pki.sh" "$state/pki"

log "starting etcd on 127.0.0.1:$etcd_port"
start etcd "$MTLS_CACHE_DIR/etcd-$ETCD_VERSION/bin/etcd" \
  --name mtls-testground \
  --data-dir "$state/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
  --initial-cluster "mtls-testground=http://127.0.0.1:$etcd_peer_port" \
  --unsafe-no-fsync
wait_for etcd 30 curl -fsS "http://127.0.0.1:$etcd_port/health"

log "starting kube-apiserver $KUBE_VERSION on 127.0.0.1:$api_port"
# Flags after envtest's: a secure port only, RBAC, and a service-account issuer whose tokens
# OpenBao can check through TokenReview. There is no controller-manager, so the ServiceAccount
# admission plugin (which waits for token controllers) is off.
start kube-apiserver "$kube_bin/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$etcd_port" \
  --bind-address 127.0.0.1 \
  --advertise-address 127.0.0.1 \
  --endpoint-reconciler-type none \
  --secure-port "$api_port" \
  --tls-cert-file "$state/pki/apiserver.crt" \
  --tls-private-key-file "$state/pki/apiserver.key" \
  --client-ca-file "$state/pki/ca.crt" \
  --authorization-mode RBAC \
  --service-cluster-ip-range 10.0.0.0/24 \
  --service-account-issuer "https://127.0.0.1:$api_port" \
  --service-account-key-file "$state/pki/sa.pub" \
  --service-account-signing-key-file "$state/pki/sa.key" \
  --disable-admission-plugins ServiceAccount \
  --allow-privileged=true \
  --profiling=false
wait_for kube-apiserver 60 curl -fsS --cacert "$state/pki/ca.crt" \
  --cert "$state/pki/admin.crt" --key "$state/pki/admin.key" \
  "https://127.0.0.1:$api_port/readyz"

kubeconfig="$state/kubeconfig"
cat >"$kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: mtls-testground
    cluster:
      server: https://127.0.0.1:$api_port
      certificate-authority: $state/pki/ca.crt
users:
  - name: admin
    user:
      client-certificate: $state/pki/admin.crt
      client-key: $state/pki/admin.key
contexts:
  - name: mtls-testground
    context:
      cluster: mtls-testground
      user: admin
      namespace: default
current-context: mtls-testground
EOF
kubectl() { "$state/bin/kubectl" --kubeconfig "$kubeconfig" "$@"; }

log "starting OpenBao on 127.0.0.1:$bao_port"
bao_token="root-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
start openbao "$state/bin/bao" server -dev \
  -dev-listen-address "127.0.0.1:$bao_port" \
  -dev-root-token-id "$bao_token" \
  -dev-no-store-token
wait_for openbao 30 curl -fsS "http://127.0.0.1:$bao_port/v1/sys/health"
bao() { BAO_ADDR="http://127.0.0.1:$bao_port" BAO_TOKEN="$bao_token" "$state/bin/bao" "$@"; }

# KV v2 at secret/ as the project expects, whatever the dev server mounted there by default.
mounts=$(bao secrets list -format=json)
if ! grep -q '"secret/"' <<<"$mounts"; then
  bao secrets enable -path=secret -version=2 kv >/dev/null
fi
bao secrets tune -description="mtls-operator data" secret/ >/dev/null

# OpenBao checks workload tokens with TokenReview, as a ServiceAccount allowed to do so.
kubectl create serviceaccount openbao-token-reviewer -n kube-system >/dev/null
kubectl create clusterrolebinding openbao-token-reviewer --clusterrole system:auth-delegator \
  --serviceaccount kube-system:openbao-token-reviewer >/dev/null
reviewer_jwt=$(kubectl create token openbao-token-reviewer -n kube-system --duration 168h)
bao auth enable kubernetes >/dev/null
bao write auth/kubernetes/config \
  kubernetes_host="https://127.0.0.1:$api_port" \
  kubernetes_ca_cert=@"$state/pki/ca.crt" \
  token_reviewer_jwt="$reviewer_jwt" \
  disable_local_ca_jwt=true >/dev/null

cat >"$state/env" <<EOF
# Written by test/ground/cluster-up.sh; source it to talk to the local control plane.
export KUBECONFIG='$kubeconfig'
export KUBE_API_URL='https://127.0.0.1:$api_port'
export KUBE_CA_FILE='$state/pki/ca.crt'
export ETCD_URL='http://127.0.0.1:$etcd_port'
export VAULT_ADDR='http://127.0.0.1:$bao_port'
export VAULT_TOKEN='$bao_token'
export BAO_ADDR='http://127.0.0.1:$bao_port'
export BAO_TOKEN='$bao_token'
export MTLS_CLUSTER_DIR='$state'
export PATH='$state/bin':"\$PATH"
EOF
log "ready: source $state/env"
