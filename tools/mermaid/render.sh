#!/usr/bin/env bash
# Renders a Mermaid file to SVG or PNG with mermaid-cli and Debian's Chromium, and fails when
# Mermaid drew its "Maximum text size in diagram exceeded" placeholder instead of the diagram
# (mermaid-cli exits 0 in that case).
#
# Usage: bash tools/mermaid/render.sh IN.mmd OUT.svg|OUT.png [mmdc options…]
# Needs `bash tools/install.sh --render` first.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ $# -lt 2 ]]; then
  echo "usage: render.sh IN.mmd OUT.svg|OUT.png [mmdc options…]" >&2
  exit 2
fi
in="$1"
out="$2"
shift 2
mmdc="$here/node_modules/.bin/mmdc"
if ! [[ -x "$mmdc" ]]; then
  echo "render.sh: mermaid-cli is not installed; run \`bash tools/install.sh --render\`" >&2
  exit 2
fi

check="$(mktemp --suffix=.svg)"
trap 'rm -f "$check"' EXIT
"$mmdc" --quiet -p "$here/puppeteer.json" -i "$in" -o "$check" "$@"
if grep -q "Maximum text size in diagram exceeded" "$check"; then
  echo "render.sh: \`$in\` is larger than Mermaid's maxTextSize; Mermaid drew a placeholder" >&2
  exit 1
fi
if [[ "$out" == *.svg ]]; then
  cp "$check" "$out"
else
  "$mmdc" --quiet -p "$here/puppeteer.json" -i "$in" -o "$out" "$@"
fi
