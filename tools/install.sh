#!/usr/bin/env bash
# Installs what the export tests and diagram rendering need, and nothing else:
# - Graphviz (`dot`, `nop`), whose parser checks every DOT output;
# - Node's Mermaid checker in tools/mermaid (mermaid, jsdom, mermaid-cli) from its lockfile;
# - with --render, Debian's Chromium, which mermaid-cli drives to render PNG and SVG;
# - the Liberation fonts (fonts-liberation2), which Graphviz and Chromium draw text with;
# - the graph-database checkers' Python environment (falkordblite, networkx), by
#   tools/graphdb/install.sh.
# - the SARIF checker's Python environment (jsonschema), by tools/sarif/install.sh.
# - the report checker's Python environment (MkDocs), by tools/report/install.sh.
# - with --moto, only moto's server (PyPI `moto[server]`, pinned), for the collector's tests.
#
# Usage: bash tools/install.sh [--render | --moto]
# Safe to run again: it skips what is already there.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
render=no
[[ "${1:-}" == "--render" ]] && render=yes

# The known moto behaviours the collector's tests rely on were seen with this version.
moto_version=5.2.1
if [[ "${1:-}" == "--moto" ]]; then
  if ! python3 -c "import moto, sys; sys.exit(moto.__version__ != '$moto_version')" 2>/dev/null \
    || ! command -v moto_server >/dev/null 2>&1; then
    python3 -m pip install --quiet "moto[server]==$moto_version"
  fi
  exit 0
fi

apt_packages=()
command -v dot >/dev/null 2>&1 || apt_packages+=(graphviz)
# npm downloads tools/mermaid's packages over HTTPS, so it needs the CA certificates that nodejs
# and npm only recommend.
command -v node >/dev/null 2>&1 || apt_packages+=(nodejs npm ca-certificates)
if [[ "$render" == yes ]] && ! [[ -x /usr/bin/chromium ]]; then
  apt_packages+=(chromium)
fi
# Graphviz and Chromium draw text with fontconfig's fonts; with none they draw every glyph as an
# empty box and still succeed. The DOT export asks for Helvetica or Arial; Liberation Sans has
# their metrics, and output/three-account-org.svg is drawn with it. With only DejaVu (the font
# fontconfig itself depends on) nodes come out wider and the example's SVG test fails. Graphviz
# only recommends this package.
[[ -f /usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf ]] \
  || apt_packages+=(fonts-liberation2)
if ((${#apt_packages[@]})); then
  if [[ "$(id -u)" != 0 ]]; then
    echo "install.sh: missing ${apt_packages[*]}; install them with apt-get as root" >&2
    exit 2
  fi
  apt-get update -qq
  # The other recommended packages (avahi, CUPS helpers, udev, Perl libraries, node-tap, …) are
  # not needed to lay out, parse or render diagrams.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_packages[@]}"
fi

# Puppeteer would download its own browser; the Debian one is used instead.
# A copy of the lockfile in node_modules records what was installed from.
stamp="$here/mermaid/node_modules/.installed-from-package-lock.json"
if ! cmp -s "$here/mermaid/package-lock.json" "$stamp"; then
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefix "$here/mermaid" --no-audit --no-fund
  cp "$here/mermaid/package-lock.json" "$stamp"
fi

bash "$here/graphdb/install.sh"
bash "$here/sarif/install.sh"
bash "$here/report/install.sh"
