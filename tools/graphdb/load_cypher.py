"""Loads `rolechain graph --format cypher` output into a real FalkorDB and reads it back.

FalkorDB runs embedded (falkordblite starts a private server on a Unix socket in a temporary
directory). The statements are split at ";\n" and run one by one, as the export's format allows.
Then every node and relationship is read back, and each --query is run with the --param values.

Usage: load_cypher.py FILE [--param NAME=VALUE]... [--query CYPHER]...

Prints one JSON object to stdout:
  {"statements": int, "load_seconds": float,
   "nodes": [{"labels": [...], "properties": {...}}, ...],
   "edges": [{"type": str, "from": str, "to": str, "properties": {...}}, ...],
   "queries": [[row, ...], ...]}
Nodes are sorted by id and edges by (from, to, type). Exits 1 with a message on any error.
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import time


def stop(db):
    """Ends the embedded server at once, throwing its database away.

    A graceful SHUTDOWN takes seconds here (FalkorDB's module winds down its threads), and
    falkordblite's close() then polls until the process is gone. The database lives in a
    temporary directory and is not needed again, so the server (started by this script) is
    killed by its pid, and its pid file removed, which makes falkordblite's exit-time cleanup a
    no-op.
    """
    client = db.client
    pid = client.pid
    if pid:
        os.kill(pid, signal.SIGKILL)
    if client.pidfile and os.path.exists(client.pidfile):
        os.remove(client.pidfile)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--param", action="append", default=[])
    parser.add_argument("--query", action="append", default=[])
    args = parser.parse_args()
    params = dict(p.split("=", 1) for p in args.param)

    from redislite.falkordb_client import FalkorDB

    with open(args.file, encoding="utf-8") as f:
        text = f.read()
    statements = [s for s in text.split(";\n") if s.strip()]

    with tempfile.TemporaryDirectory() as tmp:
        db = FalkorDB(os.path.join(tmp, "rolechain.rdb"))
        try:
            graph = db.select_graph("rolechain")
            start = time.perf_counter()
            for i, statement in enumerate(statements):
                try:
                    graph.query(statement)
                except Exception as e:
                    raise SystemExit(f"statement {i + 1} failed: {e}\n{statement[:2000]}")
            load_seconds = time.perf_counter() - start

            nodes = [
                {"labels": sorted(n.labels), "properties": n.properties}
                for [n] in graph.query("MATCH (n) RETURN n").result_set
            ]
            nodes.sort(key=lambda n: n["properties"].get("id", ""))
            edges = [
                {"type": r.relation, "from": a, "to": b, "properties": r.properties}
                for [a, r, b] in graph.query(
                    "MATCH (a)-[r]->(b) RETURN a.id, r, b.id"
                ).result_set
            ]
            edges.sort(key=lambda e: (e["from"], e["to"], e["type"]))
            queries = [graph.query(q, params).result_set for q in args.query]
        finally:
            stop(db)

    json.dump(
        {
            "statements": len(statements),
            "load_seconds": load_seconds,
            "nodes": nodes,
            "edges": edges,
            "queries": queries,
        },
        sys.stdout,
        ensure_ascii=False,
    )


if __name__ == "__main__":
    main()
