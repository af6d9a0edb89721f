#!/usr/bin/env bash
# Builds the test ground's binaries from the Go module proxy into a cache outside the repository,
# keyed by version, so that a second run builds nothing. Prints the cache folder of each tool.
#
#   test/ground/build-tools.sh [kube|etcd|helm|ghostunnel|all]   (all: what the tests need)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"

log() { printf '[build-tools] %s\n' "$*" >&2; }

# One private module per tool and version, so that the wrappers never touch the project's own
# files: enters it in the calling shell with a fresh go.mod.
enter_wrapper_module() {
  local dir="$MTLS_CACHE_DIR/src/$1-$2"
  mkdir -p "$dir"
  cd "$dir"
  printf 'module mtls-operator.local/testground/%s\n\ngo 1.26\n' "$1" >go.mod
}

build_kube() {
  local out="$MTLS_CACHE_DIR/kube-$KUBE_VERSION/bin"
  if [ -x "$out/kube-apiserver" ] && [ -x "$out/kubectl" ]; then return 0; fi
  log "building kube-apiserver and kubectl $KUBE_VERSION (several minutes, once)"

  enter_wrapper_module kube "$KUBE_VERSION"

  # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with local paths,
  # which a dependent module cannot use: point each at its published v0 tag instead.
  local gomod staging
  gomod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" |
    sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  staging=$(sed -n 's/^[[:space:]]*\(k8s\.io\/[a-z0-9-]*\) v0\.0\.0$/\1/p' "$gomod" | sort -u)
  [ -n "$staging" ] || { log "no staging modules found in $gomod"; exit 1; }
  local staging_version="v0.${KUBE_VERSION#v1.}"
  local mod
  for mod in $staging; do
    go mod edit -replace "$mod=$mod@$staging_version"
  done
  go mod edit -require "k8s.io/kubernetes@$KUBE_VERSION"
  go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION" \
    "k8s.io/kubernetes/cmd/kubectl@$KUBE_VERSION"

  # Without a version stamp the apiserver reports v0.0.0 and Helm's kubeVersion checks fail.
  local minor="${KUBE_VERSION#v1.}"
  minor="${minor%%.*}"
  local stamp="-X k8s.io/component-base/version.gitVersion=$KUBE_VERSION"
  stamp="$stamp -X k8s.io/component-base/version.gitMajor=1"
  stamp="$stamp -X k8s.io/component-base/version.gitMinor=$minor"
  stamp="$stamp -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
  stamp="$stamp -X k8s.io/client-go/pkg/version.gitMajor=1"
  stamp="$stamp -X k8s.io/client-go/pkg/version.gitMinor=$minor"

  mkdir -p "$out.partial"
  go build -trimpath -ldflags "-s -w $stamp" -o "$out.partial/kube-apiserver" \
    k8s.io/kubernetes/cmd/kube-apiserver
  go build -trimpath -ldflags "-s -w $stamp" -o "$out.partial/kubectl" \
    k8s.io/kubernetes/cmd/kubectl
  rm -rf "$out" && mv "$out.partial" "$out"
}

build_etcd() {
  local out="$MTLS_CACHE_DIR/etcd-$ETCD_VERSION/bin"
  if [ -x "$out/etcd" ]; then return 0; fi
  log "building etcd $ETCD_VERSION"

  enter_wrapper_module etcd "$ETCD_VERSION"
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  mkdir -p "$out.partial"
  go build -trimpath -ldflags "-s -w" -o "$out.partial/etcd" go.etcd.io/etcd/server/v3
  rm -rf "$out" && mv "$out.partial" "$out"
}

build_helm() {
  local out="$MTLS_CACHE_DIR/helm-$HELM_VERSION/bin"
  if [ -x "$out/helm" ]; then return 0; fi
  log "building helm $HELM_VERSION"
  mkdir -p "$out.partial"
  GOBIN="$out.partial" go install -trimpath -ldflags "-s -w" \
    "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
  rm -rf "$out" && mv "$out.partial" "$out"
}

# ghostunnel, for the bench only. `go install pkg@version` asks the proxy for the module's
# version list to look for a deprecation, which it refuses for ghostunnel; a wrapper module that
# requires the exact version builds it instead.
build_ghostunnel() {
  local out="$MTLS_CACHE_DIR/ghostunnel-$GHOSTUNNEL_VERSION/bin"
  if [ -x "$out/ghostunnel" ]; then return 0; fi
  log "building ghostunnel $GHOSTUNNEL_VERSION"

  enter_wrapper_module ghostunnel "$GHOSTUNNEL_VERSION"
  go mod edit -require "github.com/ghostunnel/ghostunnel@$GHOSTUNNEL_VERSION"
  mkdir -p "$out.partial"
  go build -mod=mod -trimpath -ldflags "-s -w" -o "$out.partial/ghostunnel" \
    github.com/ghostunnel/ghostunnel
  rm -rf "$out" && mv "$out.partial" "$out"
}

case "${1:-all}" in
  kube) build_kube ;;
  etcd) build_etcd ;;
  helm) build_helm ;;
  ghostunnel) build_ghostunnel ;;
  all)
    build_etcd
    build_helm
    build_kube
    ;;
  *)
    log "unknown tool '$1' (expected kube, etcd, helm, ghostunnel or all)"
    exit 2
    ;;
esac
