#!/usr/bin/env bash
# Makes the local control plane's keys with openssl: a CA, the apiserver's serving certificate,
# an admin client certificate (group system:masters) and the service-account signing key pair.
#
#   test/ground/make-pki.sh DIR
set -euo pipefail

dir=$1
mkdir -p "$dir"
cd "$dir"
quiet() { "$@" >/dev/null 2>&1; }

quiet openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=mtls-testground-ca" \
  -keyout ca.key -out ca.crt

cat >apiserver.ext <<'EOF'
subjectAltName = IP:127.0.0.1, IP:10.0.0.1, DNS:localhost, DNS:kubernetes.default.svc
extendedKeyUsage = serverAuth
EOF
quiet openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
  -keyout apiserver.key -out apiserver.csr
quiet openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
  -extfile apiserver.ext -out apiserver.crt

printf 'extendedKeyUsage = clientAuth\n' >admin.ext
quiet openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=admin" \
  -keyout admin.key -out admin.csr
quiet openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
  -extfile admin.ext -out admin.crt

quiet openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key
quiet openssl pkey -in sa.key -pubout -out sa.pub

rm -f ./*.csr ./*.ext ca.srl
chmod 600 ./*.key
