#!/usr/bin/env bash
# `make demo`: the whole flow on a local control plane. A partner API demands a client
# certificate; an application that speaks plain HTTP reaches it through the sidecar, which
# presents the certificate the operator stored in Vault.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
state="$repo/.cluster"
demo="$state/demo"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
pids=()
# A control plane that `make cluster-up` started before the demo is someone's: it stays up.
own_cluster=true
cleanup() {
  step "Cleaning up"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if $own_cluster; then
    test/ground/cluster-down.sh "$state"
  else
    echo "the control plane in $state was running before the demo; left running"
  fi
}
fail() {
  echo "demo failed: $*" >&2
  exit 1
}
# create KIND ARGS...: `kubectl create`, or nothing new when a reused control plane has it.
create() { kubectl create "$@" --dry-run=client -o yaml | kubectl apply -f -; }
# proxied WHAT CURL_ARGS...: a call through the sidecar that must reach the partner with the
# demo's client certificate; shows the partner's answer.
proxied() {
  local what=$1 answer
  shift
  answer=$(curl -fsS "$@") || fail "$what: the call through the sidecar failed"
  printf '%s\n' "$answer"
  grep -q '"CN": "payments-client"' <<<"$answer" ||
    fail "$what: the partner did not see the demo client certificate (CN=payments-client)"
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_for() {
  local what=$1
  shift
  for _ in $(seq 1 150); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "timed out waiting for $what" >&2
  return 1
}

step "1. A local control plane: etcd, kube-apiserver and OpenBao on loopback"
if [ -f "$state/env" ] && test/ground/cluster-status.sh "$state" >/dev/null 2>&1; then
  own_cluster=false
fi
trap cleanup EXIT
test/ground/cluster-up.sh "$state"
# shellcheck disable=SC1091
. "$state/env"
kubectl apply -f crds/
kubectl wait --for=condition=Established crd --all --timeout=60s >/dev/null

step "2. A partner API that demands a client certificate (demo CA, openssl)"
mkdir -p "$demo"
cd "$demo"
quiet() { "$@" >/dev/null 2>&1; }
quiet openssl req -x509 -newkey rsa:2048 -nodes -days 90 -subj "/CN=Demo Partner CA" \
  -keyout ca.key -out ca.crt
quiet openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
quiet openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 90 \
  -extfile server.ext -out server.crt
quiet openssl req -newkey rsa:2048 -nodes -subj "/O=Demo Payments/CN=payments-client" \
  -keyout client.key -out client.csr
printf 'extendedKeyUsage=clientAuth\n' >client.ext
quiet openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 90 \
  -extfile client.ext -out client.crt
# A legacy (RC2-40) PKCS#12, as many partners still issue: Node's TLS could not load it.
quiet openssl pkcs12 -export -legacy -in client.crt -inkey client.key -passout pass:demo-pass \
  -out client.p12
cd "$repo"
partner_port=$(free_port)
node test/demo/partner-upstream.js "$partner_port" "$demo/server.crt" "$demo/server.key" \
  "$demo/ca.crt" &
pids+=($!)
wait_for "the partner API" bash -c "</dev/tcp/127.0.0.1/$partner_port"
echo "partner API on https://localhost:$partner_port/ (client certificate required)"
echo "without a certificate it refuses:"
curl -sS --cacert "$demo/ca.crt" "https://localhost:$partner_port/" 2>&1 | head -1 || true

step "3. The team declares its certificate (a P12 in a Secret) and a mapping"
create namespace payments
create -n payments secret generic partner-p12 \
  --from-file=keystore.p12="$demo/client.p12" --from-literal=password=demo-pass
create -n payments configmap partner-ca --from-file=ca.crt="$demo/ca.crt"
kubectl apply -f - <<YAML
apiVersion: mtls.io/v1alpha1
kind: MtlsCertificate
metadata: {name: partner, namespace: payments}
spec:
  source: {pkcs12: {secretName: partner-p12}}
  trustedCA: {configMapName: partner-ca}
---
apiVersion: mtls.io/v1alpha1
kind: MtlsMapping
metadata: {name: partner-api, namespace: payments}
spec:
  url: https://localhost:$partner_port/
  certificateName: partner
YAML

step "4. The operator validates it and stores it in Vault"
node bin/mtls-operator.js --probe-port 0 --leader-election off --log-level warn &
pids+=($!)
kubectl -n payments wait --for=condition=Ready mcert/partner mmap/partner-api --timeout=60s
kubectl -n payments get mcert,mmap
echo
echo "In Vault (key material elided): secret/mtls/payments/certificates/partner"
bao kv get -format=json secret/mtls/payments/certificates/partner |
  python3 -c '
import json, sys
d = json.load(sys.stdin)["data"]
shown = {"version": d["metadata"]["version"], "metadata": d["data"]["metadata"]}
print(json.dumps(shown, indent=2))'

step "5. A sidecar logs into Vault with the app's ServiceAccount token"
create -n payments serviceaccount payments-app
bao policy write mtls-payments - >/dev/null <<HCL
path "secret/data/mtls/payments/*" { capabilities = ["read"] }
HCL
bao write auth/kubernetes/role/mtls-payments bound_service_account_names=payments-app \
  bound_service_account_namespaces=payments token_policies=mtls-payments token_ttl=1h >/dev/null
kubectl -n payments create token payments-app --duration 1h >"$demo/app.token"
proxy_port=$(free_port)
admin_port=$(free_port)
node bin/mtls-sidecar.js --namespace payments --vault-role mtls-payments \
  --token-file "$demo/app.token" --listen-port "$proxy_port" --admin-port "$admin_port" \
  --check-interval 2s --log-level warn &
pids+=($!)
wait_for "the sidecar to load its certificates" curl -fsS "http://127.0.0.1:$admin_port/readyz"
echo "sidecar ready: proxy on 127.0.0.1:$proxy_port, admin on 127.0.0.1:$admin_port"

step "6. The app sends plain HTTP; the partner sees the mapped client certificate"
echo "\$ curl -x http://127.0.0.1:$proxy_port http://localhost:$partner_port/accounts"
proxied "the forward-proxy call" -x "http://127.0.0.1:$proxy_port" \
  "http://localhost:$partner_port/accounts"
echo "The hosted service's forwarding method works the same way:"
echo "\$ curl -H 'LP-forward-url: https://localhost:$partner_port/payments' \\"
echo "    http://127.0.0.1:$proxy_port/mtls/account/payments"
proxied "the forwarding method" -H "LP-forward-url: https://localhost:$partner_port/payments" \
  "http://127.0.0.1:$proxy_port/mtls/account/payments"
echo "An unmapped destination is refused (deny by default):"
refused=$(curl -sS -o /dev/null -w '%{http_code}' -x "http://127.0.0.1:$proxy_port" \
  "http://example.invalid/") || fail "the unmapped call did not reach the sidecar"
[ "$refused" = 403 ] || fail "the unmapped call got $refused, not 403"
curl -sS -x "http://127.0.0.1:$proxy_port" "http://example.invalid/"
echo
