//! Shared test helpers: building small access graphs by hand, and checking exports with the real
//! Graphviz and Mermaid parsers, a real FalkorDB and networkx.

#![allow(
    dead_code,
    reason = "each test module uses a different subset of the helpers"
)]
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test that calls them by panicking"
)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use rolechain::graph::{AccessGraph, Edge, EdgeKind, EdgeStatus, Node, NodeKind};
use rolechain::model::Effect;
use rolechain::policy::{OpenCondition, PolicyType, Reason};

/// Builds an [`AccessGraph`] node by node and edge by edge.
///
/// Nodes may be added in any order; [`GraphBuilder::finish`] rebuilds the graph with nodes in
/// sorted id order and edges in sorted (from, to, kind) order, as `graph::build` does.
#[derive(Default)]
pub struct GraphBuilder {
    nodes: Vec<Node>,
    edges: Vec<(String, String, Edge)>,
}

impl GraphBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a node that the snapshot holds.
    pub fn node(
        &mut self,
        id: &str,
        kind: NodeKind,
        account: Option<&str>,
        label: &str,
        parent: Option<&str>,
    ) -> &mut Self {
        self.nodes.push(Node {
            id: id.to_owned(),
            kind,
            account: account.map(str::to_owned),
            label: label.to_owned(),
            parent: parent.map(str::to_owned),
            in_snapshot: true,
        });
        self
    }

    /// Marks the last node added as not in the snapshot.
    pub fn outside(&mut self) -> &mut Self {
        if let Some(node) = self.nodes.last_mut() {
            node.in_snapshot = false;
        }
        self
    }

    /// Adds an edge and returns it for further changes.
    pub fn edge(&mut self, from: &str, to: &str, kind: EdgeKind, status: EdgeStatus) -> &mut Edge {
        let edge = Edge {
            kind,
            status,
            cross_account: false,
            actions: Vec::new(),
            because: Vec::new(),
            conditions: Vec::new(),
            notes: Vec::new(),
        };
        self.edges.push((from.to_owned(), to.to_owned(), edge));
        &mut self.edges.last_mut().expect("just pushed").2
    }

    /// The graph. Panics when an edge names a node that was not added.
    pub fn finish(&self) -> AccessGraph {
        let mut graph = AccessGraph::default();
        let mut nodes = self.nodes.clone();
        nodes.sort_by(|a, b| a.id.cmp(&b.id));
        for node in nodes {
            let id = node.id.clone();
            let ix = graph.graph.add_node(node);
            assert!(
                graph.index.insert(id.clone(), ix).is_none(),
                "node `{id}` added twice"
            );
        }
        let mut edges = self.edges.clone();
        edges.sort_by(|a, b| (&a.0, &a.1, a.2.kind).cmp(&(&b.0, &b.1, b.2.kind)));
        for (from, to, edge) in edges {
            let a = *graph
                .index
                .get(&from)
                .unwrap_or_else(|| panic!("no node `{from}`"));
            let b = *graph
                .index
                .get(&to)
                .unwrap_or_else(|| panic!("no node `{to}`"));
            graph.graph.add_edge(a, b, edge);
        }
        graph
    }
}

/// A reason for proofs.
pub fn reason(policy_type: PolicyType, policy: &str, statement: &str, effect: Effect) -> Reason {
    Reason {
        policy_type,
        policy: policy.into(),
        statement: statement.into(),
        effect,
    }
}

/// An open Allow condition.
pub fn open_condition(
    operator: &str,
    key: &str,
    values: &[&str],
    policy_type: PolicyType,
    policy: &str,
    statement: &str,
) -> OpenCondition {
    OpenCondition {
        operator: operator.to_owned(),
        key: key.to_owned(),
        values: values.iter().map(|v| (*v).to_owned()).collect(),
        policy_type,
        policy: policy.into(),
        statement: statement.into(),
        effect: Effect::Allow,
    }
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run_with_stdin(mut command: Command, input: &str) -> std::process::Output {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{program}` (is Graphviz installed? run `bash tools/install.sh`): {e}"
            )
        });
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes())
        .expect("writing to Graphviz");
    child.wait_with_output().expect("waiting for Graphviz")
}

/// Checks DOT text with Graphviz's parser (`nop -p`), which is fast enough for large graphs.
#[track_caller]
pub fn assert_dot_parses(dot: &str) {
    let mut command = Command::new("nop");
    command.arg("-p");
    let output = run_with_stdin(command, dot);
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "Graphviz `nop -p` rejected the DOT output ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Lays DOT text out with `dot -Tcanon`, which also checks HTML-like labels, and fails on any
/// error or warning. Returns the canonical output.
#[track_caller]
pub fn assert_dot_lays_out(dot: &str) -> String {
    let mut command = Command::new("dot");
    command.arg("-Tcanon");
    let output = run_with_stdin(command, dot);
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "Graphviz `dot -Tcanon` rejected the DOT output ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("canonical DOT is UTF-8")
}

/// The Mermaid checker script, failing clearly when its dependencies are not installed.
fn mermaid_parser() -> PathBuf {
    let dir = root().join("tools/mermaid");
    assert!(
        dir.join("node_modules/mermaid").is_dir() && dir.join("node_modules/jsdom").is_dir(),
        "Mermaid's parser is not installed in `{}`: run `bash tools/install.sh` (or `npm ci --prefix tools/mermaid`)",
        dir.display()
    );
    dir.join("parse.mjs")
}

/// Checks each Mermaid text with Mermaid's own parser (`tools/mermaid/parse.mjs`, under jsdom),
/// at Mermaid's default limits. The texts are written to a temporary directory, named by `name`.
#[track_caller]
pub fn assert_mermaid_parses(diagrams: &[(&str, &str)]) {
    let script = mermaid_parser();
    let dir = tempfile::tempdir().expect("temporary directory");
    let files: Vec<PathBuf> = diagrams
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(format!("{name}.mmd"));
            std::fs::write(&path, text).expect("writing a Mermaid file");
            path
        })
        .collect();
    let output = Command::new("node")
        .arg(&script)
        .args(&files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `node` (run `bash tools/install.sh`): {e}"));
    assert!(
        output.status.success(),
        "Mermaid's parser rejected the output ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The Python of the graph-database checkers' environment, failing clearly when it is not
/// installed.
fn graphdb_python() -> PathBuf {
    let dir = root().join("tools/graphdb");
    let python = dir.join(".venv/bin/python");
    assert!(
        python.is_file() && dir.join(".venv/.installed-from-requirements.txt").is_file(),
        "the graph-database checkers are not installed in `{}`: run `bash tools/install.sh` (or `bash tools/graphdb/install.sh`)",
        dir.join(".venv").display()
    );
    python
}

/// Runs a checker of `tools/graphdb` on `text` (written to a temporary file named `file`) and
/// parses the JSON it prints.
#[track_caller]
fn run_graphdb_checker(script: &str, file: &str, text: &str, args: &[String]) -> serde_json::Value {
    let python = graphdb_python();
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join(file);
    std::fs::write(&path, text).expect("writing the export");
    let output = Command::new(&python)
        .arg(root().join("tools/graphdb").join(script))
        .arg(&path)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{}` (run `bash tools/install.sh`): {e}",
                python.display()
            )
        });
    assert!(
        output.status.success(),
        "`{script}` failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "`{script}` printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// Loads openCypher text into a real (embedded) FalkorDB with `tools/graphdb/load_cypher.py`,
/// then runs each query with the parameters. Returns what the checker prints: `statements`,
/// `load_seconds`, `nodes`, `edges` and `queries` (one list of rows per query).
#[track_caller]
pub fn load_cypher_into_falkordb(
    cypher: &str,
    params: &[(&str, &str)],
    queries: &[&str],
) -> serde_json::Value {
    let mut args = Vec::new();
    for (name, value) in params {
        args.push(format!("--param={name}={value}"));
    }
    for query in queries {
        args.push(format!("--query={query}"));
    }
    run_graphdb_checker("load_cypher.py", "graph.cypher", cypher, &args)
}

/// Reads GraphML with networkx (`tools/graphdb/read_graphml.py`). Returns what the checker
/// prints: `directed`, `multigraph`, `nodes` and `edges`.
#[track_caller]
pub fn read_graphml_with_networkx(graphml: &str) -> serde_json::Value {
    run_graphdb_checker("read_graphml.py", "graph.graphml", graphml, &[])
}
