#!/usr/bin/env bash
# `make lock`: regenerate the three hash-checked lock files from the .txt files, on purpose.
#   requirements.lock        runtime (what runner.py installs into .venv)
#   requirements-local.lock  local Spark (installed by the first `--local` run), runtime pins kept
#   requirements-dev.lock    runtime + local Spark + test tools (what `make test` installs), runtime pins kept
# LOCK_UPGRADE=1 moves every transitive pin to the newest release (then run `make test` to prove
# the new set); without it only what the .txt files changed is resolved again.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PIP_TOOLS_VERSION=7.6.2
TOOLS=${SPARKLAB_LOCK_VENV:-$ROOT/.venv-lock}

python_for_lock() {
  local c pyenv=${PYENV_ROOT:-$HOME/.pyenv}
  for c in python3.12 "$pyenv"/versions/3.12*/bin/python3.12 python3.13 python3; do
    if "$c" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 12))' >/dev/null 2>&1; then echo "$c"; return 0; fi
  done
  echo "make lock needs Python 3.12 or newer" >&2; return 1
}

if [[ ! -x $TOOLS/bin/pip-compile ]]; then
  "$(python_for_lock)" -m venv "$TOOLS"
  "$TOOLS/bin/pip" install -q --disable-pip-version-check "pip-tools==$PIP_TOOLS_VERSION"
fi
upgrade=()
[[ ${LOCK_UPGRADE:-0} == 1 ]] && upgrade=(--upgrade)
compile() {  # compile OUTPUT HEADER INPUT... [-c CONSTRAINTS]
  local out=$1 header=$2; shift 2
  local tmp
  tmp=$(mktemp)
  [[ -f $out ]] && cp "$out" "$tmp"
  "$TOOLS/bin/pip-compile" -q "${upgrade[@]}" --generate-hashes --allow-unsafe --strip-extras --no-header --no-emit-index-url --no-emit-find-links \
    -o "$tmp" "$@"
  { printf '%s\n' "$header"; grep -v '^#' "$tmp" | sed '/./,$!d' | sed "s#-c $pins#-c requirements.lock#"; } > "$out"
  rm -f "$tmp"
}
pins=$(mktemp)
trap 'rm -f "$pins"' EXIT

compile requirements.lock "# Runtime dependencies of runner.py with their hashes, for Python 3.12 and 3.13 on Linux.
# Made by \`make lock\` (scripts/lock.sh, pip-tools $PIP_TOOLS_VERSION) from requirements.txt.
# runner.py installs its virtualenv from this file with pip's --require-hashes.
" requirements.txt
grep -E '^[A-Za-z0-9][A-Za-z0-9._-]*==' requirements.lock | sed 's/ .*//' > "$pins"
compile requirements-local.lock "# Local Spark (pyspark and what it needs beyond requirements.lock), with hashes.
# Made by \`make lock\` from requirements-local.txt; the first \`--local\` run installs it into .venv.
" requirements-local.txt -c "$pins"
compile requirements-dev.lock "# Everything \`make test\` installs, with hashes: requirements.lock's pins unchanged, local Spark and
# the test tools. Made by \`make lock\` from requirements.txt, requirements-local.txt, requirements-dev.txt.
" requirements.txt requirements-local.txt requirements-dev.txt -c "$pins"
echo "locks written: requirements.lock requirements-local.lock requirements-dev.lock"
