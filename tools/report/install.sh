#!/usr/bin/env bash
# Installs the report checker's Python environment in tools/report/.venv: MkDocs, pinned in
# requirements.txt, which builds the site `rolechain report` writes (with no plugins), so that
# tests/it/report.rs can open its pages in Chromium (check.mjs) and see every Mermaid diagram drawn.
#
# Usage: bash tools/report/install.sh
# Safe to run again: it does nothing when the environment matches requirements.txt.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
stamp="$venv/.installed-from-requirements.txt"

if [[ -x "$venv/bin/python" ]] && cmp -s "$here/requirements.txt" "$stamp"; then
  exit 0
fi
python="${ROLECHAIN_PYTHON:-python3}"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
cp "$here/requirements.txt" "$stamp"
