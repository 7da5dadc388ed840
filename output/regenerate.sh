#!/usr/bin/env bash
# Regenerates the bundled example's diagrams and JSON in output/, its report in output/report/,
# and the Mermaid diagram in README.md, from examples/three-account-org/snapshot.json. A test
# fails when they are stale.
#
# Usage: bash output/regenerate.sh        (needs Graphviz: bash tools/install.sh)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cargo build --quiet
bin="${CARGO_TARGET_DIR:-$root/target}/debug/rolechain"
snapshot=examples/three-account-org/snapshot.json
name=three-account-org
focus=arn:aws:ecs:us-east-1:111111111111:service/prod/payments-worker

"$bin" -q graph --snapshot "$snapshot" --format dot -o "output/$name.dot"
"$bin" -q graph --snapshot "$snapshot" --format mermaid -o "output/$name.mmd"
"$bin" -q graph --snapshot "$snapshot" --format json -o "output/$name.graph.json"
"$bin" -q graph --snapshot "$snapshot" --format mermaid --focus "$focus" -o "output/$name.payments-worker.mmd"
"$bin" -q reach --snapshot "$snapshot" --format json > "output/$name.reach.json.tmp"
mv "output/$name.reach.json.tmp" "output/$name.reach.json"
"$bin" -q report --snapshot "$snapshot" -o output/report
dot -Tsvg "output/$name.dot" -o "output/$name.svg.tmp"
mv "output/$name.svg.tmp" "output/$name.svg"

# The README shows the Mermaid diagrams between marker lines.
python3 - "$name" <<'PY'
import pathlib, sys
name = sys.argv[1]
readme = pathlib.Path("README.md")
text = readme.read_text()
for marker, file in [("example-mermaid", f"output/{name}.payments-worker.mmd"), ("example-mermaid-full", f"output/{name}.mmd")]:
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    diagram = pathlib.Path(file).read_text()
    text = f"{before}{start}\n```mermaid\n{diagram}```\n{end}{after}"
readme.write_text(text)
PY
echo "regenerated output/$name.{dot,mmd,svg,graph.json,reach.json}, output/report/ and the README diagram"
