#!/usr/bin/env bash
# Installs the SARIF checker's Python environment in tools/sarif/.venv: jsonschema, pinned in
# requirements.txt, which validates `rolechain findings --format sarif` against the official
# SARIF 2.1.0 schema (tests/fixtures/sarif/sarif-schema-2.1.0.json).
#
# Usage: bash tools/sarif/install.sh
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
