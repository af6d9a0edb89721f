#!/usr/bin/env bash
# Installs the Debian packages the test ground runs for real: iptables (transparent-redirect
# tests in network namespaces), iproute2 (the namespaces themselves) and redis-server (the
# gateway's shared rate limit). Does nothing when every command is already there.
set -euo pipefail

declare -A package_of=(
  [iptables]=iptables
  [ip]=iproute2
  [redis-server]=redis-server
)

missing=()
for command in "${!package_of[@]}"; do
  command -v "$command" >/dev/null || missing+=("${package_of[$command]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

printf '[install-debian] installing %s\n' "${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  printf '[install-debian] root is needed to install %s; install them and run again\n' \
    "${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
