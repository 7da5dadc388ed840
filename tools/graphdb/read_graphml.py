"""Reads `rolechain graph --format graphml` output with networkx and prints what it found.

Usage: read_graphml.py FILE

Prints one JSON object to stdout:
  {"directed": bool, "multigraph": bool,
   "nodes": [{"id": str, "attributes": {...}}, ...],
   "edges": [{"source": str, "target": str, "attributes": {...}}, ...]}
in the file's order. Exits 1 with a message when networkx cannot read the file.
"""

import json
import sys

import networkx as nx


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: read_graphml.py FILE")
    graph = nx.read_graphml(sys.argv[1])
    if graph.is_multigraph():
        edges = graph.edges(data=True, keys=False)
    else:
        edges = graph.edges(data=True)
    json.dump(
        {
            "directed": graph.is_directed(),
            "multigraph": graph.is_multigraph(),
            "nodes": [{"id": n, "attributes": a} for n, a in graph.nodes(data=True)],
            "edges": [{"source": u, "target": v, "attributes": a} for u, v, a in edges],
        },
        sys.stdout,
        ensure_ascii=False,
    )


if __name__ == "__main__":
    main()
