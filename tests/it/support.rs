//! Shared test helpers: building small access graphs by hand, and checking exports with the real
//! Graphviz and Mermaid parsers, mermaid-cli, a real FalkorDB and networkx.
//!
//! Every check that runs an external tool asks [`tool_available`] first. Under a plain
//! `cargo test` a missing tool skips the check and says so on stderr; with
//! `ROLECHAIN_REQUIRE_TOOLS=1`, which `scripts/test` (and so CI) sets, it fails the test.
//! `bash tools/install.sh --render` installs every tool.

#![allow(
    dead_code,
    reason = "each test module uses a different subset of the helpers"
)]
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test that calls them by panicking"
)]

use std::collections::BTreeSet;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};

use rolechain::export::{GraphFormat, write_graph};
use rolechain::graph::hop::Note;
use rolechain::graph::{AccessGraph, Edge, EdgeKind, EdgeStatus, Node, NodeKind, Proof};
use rolechain::model::{Diagnostic, Effect};
use rolechain::policy::{OpenCondition, PolicyType, Reason};

/// Builds an [`AccessGraph`] node by node and edge by edge.
///
/// Nodes may be added in any order; [`GraphBuilder::finish`] rebuilds the graph with nodes in
/// sorted id order and edges in sorted (from, to, kind) order, as `graph::build` does.
#[derive(Default)]
pub struct GraphBuilder {
    nodes: Vec<Node>,
    edges: Vec<(String, String, EdgeDraft)>,
}

/// An edge being written: [`Edge`] with its proof's lists in place, for tests to set.
#[derive(Clone, Debug)]
pub struct EdgeDraft {
    pub kind: EdgeKind,
    pub status: EdgeStatus,
    pub cross_account: bool,
    pub actions: Arc<[String]>,
    pub because: Arc<[Reason]>,
    pub conditions: Arc<[OpenCondition]>,
    pub notes: Arc<[String]>,
}

impl From<EdgeDraft> for Edge {
    fn from(d: EdgeDraft) -> Edge {
        Edge {
            kind: d.kind,
            status: d.status,
            cross_account: d.cross_account,
            proof: Arc::new(Proof {
                actions: d.actions,
                because: d.because,
                conditions: d.conditions,
                notes: d.notes.iter().cloned().map(Note::Text).collect(),
            }),
        }
    }
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
    pub fn edge(
        &mut self,
        from: &str,
        to: &str,
        kind: EdgeKind,
        status: EdgeStatus,
    ) -> &mut EdgeDraft {
        let edge = EdgeDraft {
            kind,
            status,
            cross_account: false,
            actions: Vec::new().into(),
            because: Vec::new().into(),
            conditions: Vec::new().into(),
            notes: Vec::new().into(),
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
            graph.graph.add_edge(a, b, edge.into());
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

/// A graph exported into memory: its text and its warnings.
pub fn exported(graph: &AccessGraph, format: GraphFormat) -> (String, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let warnings = write_graph(graph, format, &mut out).expect("writing into a Vec");
    (String::from_utf8(out).expect("exports are UTF-8"), warnings)
}

/// The text a document writer writes into memory.
pub fn written(write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
    let mut out = Vec::new();
    write(&mut out).expect("writing into a Vec");
    String::from_utf8(out).expect("documents are UTF-8")
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The environment variable that turns a missing tool from a skipped check into a failed test.
pub const REQUIRE_TOOLS: &str = "ROLECHAIN_REQUIRE_TOOLS";

/// An external tool that some checks run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tool {
    /// Graphviz's `dot` and `nop`.
    Graphviz,
    /// Node with Mermaid's parser and jsdom in `tools/mermaid`.
    MermaidParser,
    /// Node with mermaid-cli in `tools/mermaid`, and the Chromium its `puppeteer.json` names.
    MermaidCli,
    /// The graph-database checkers' Python environment, `tools/graphdb/.venv`.
    GraphDb,
    /// A Python with `jsonschema`: the SARIF checker's environment, `tools/sarif/.venv`, or else
    /// `python3` on PATH when it has the package.
    Jsonschema,
    /// MkDocs in `tools/report/.venv`, and Node with Puppeteer (`tools/mermaid`) and the Chromium
    /// its `puppeteer.json` names, which `tools/report/check.mjs` drives.
    ReportSite,
}

impl Tool {
    /// Why the tool cannot run here, or `None` when it can.
    fn missing(self) -> Option<String> {
        const INSTALL: &str = "run `bash tools/install.sh`";
        const INSTALL_RENDER: &str = "run `bash tools/install.sh --render`";
        let mermaid = root().join("tools/mermaid");
        match self {
            Tool::Graphviz => ["dot", "nop"]
                .into_iter()
                .find(|program| !on_path(program))
                .map(|program| format!("Graphviz's `{program}` is not installed; {INSTALL}")),
            Tool::MermaidParser => {
                if !on_path("node") {
                    Some(format!("`node` is not installed; {INSTALL}"))
                } else if !(mermaid.join("node_modules/mermaid").is_dir()
                    && mermaid.join("node_modules/jsdom").is_dir())
                {
                    Some(format!(
                        "Mermaid's parser is not installed in `{}`; {INSTALL}",
                        mermaid.display()
                    ))
                } else {
                    None
                }
            }
            Tool::MermaidCli => {
                let browser = chromium_path(&mermaid.join("puppeteer.json"));
                if !on_path("node") {
                    Some(format!("`node` is not installed; {INSTALL_RENDER}"))
                } else if !is_executable(&mermaid.join("node_modules/.bin/mmdc")) {
                    Some(format!(
                        "mermaid-cli is not installed in `{}`; {INSTALL_RENDER}",
                        mermaid.display()
                    ))
                } else if !browser.as_deref().is_some_and(is_executable) {
                    Some(format!(
                        "Chromium is not installed at `{}` (`tools/mermaid/puppeteer.json`); {INSTALL_RENDER}",
                        browser.unwrap_or_default().display()
                    ))
                } else {
                    None
                }
            }
            Tool::GraphDb => {
                let venv = root().join("tools/graphdb/.venv");
                // `is_executable` follows the link to the interpreter the environment was made from.
                (!(is_executable(&venv.join("bin/python"))
                    && venv.join(".installed-from-requirements.txt").is_file()))
                .then(|| {
                    format!(
                        "the graph-database checkers are not installed in `{}`; {INSTALL}",
                        venv.display()
                    )
                })
            }
            Tool::ReportSite => {
                let venv = root().join("tools/report/.venv");
                let browser = chromium_path(&mermaid.join("puppeteer.json"));
                if !(is_executable(&venv.join("bin/mkdocs"))
                    && venv.join(".installed-from-requirements.txt").is_file())
                {
                    Some(format!(
                        "MkDocs is not installed in `{}`; {INSTALL_RENDER}",
                        venv.display()
                    ))
                } else if !on_path("node") {
                    Some(format!("`node` is not installed; {INSTALL_RENDER}"))
                } else if !mermaid.join("node_modules/puppeteer").is_dir() {
                    Some(format!(
                        "Puppeteer is not installed in `{}`; {INSTALL_RENDER}",
                        mermaid.display()
                    ))
                } else if !browser.as_deref().is_some_and(is_executable) {
                    Some(format!(
                        "Chromium is not installed at `{}` (`tools/mermaid/puppeteer.json`); {INSTALL_RENDER}",
                        browser.unwrap_or_default().display()
                    ))
                } else {
                    None
                }
            }
            Tool::Jsonschema => jsonschema_python().is_none().then(|| {
                format!("no Python with `jsonschema` (`tools/sarif/.venv` or `python3`); {INSTALL}")
            }),
        }
    }
}

/// The Python that has `jsonschema`: the SARIF checker's environment, or `python3` on PATH
/// when it can import the package.
fn jsonschema_python() -> Option<PathBuf> {
    let venv = root().join("tools/sarif/.venv");
    if is_executable(&venv.join("bin/python"))
        && venv.join(".installed-from-requirements.txt").is_file()
    {
        return Some(venv.join("bin/python"));
    }
    let imports = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .output()
        .is_ok_and(|o| o.status.success());
    imports.then(|| PathBuf::from("python3"))
}

/// Validates a SARIF log against the official SARIF 2.1.0 schema
/// (`tests/fixtures/sarif/sarif-schema-2.1.0.json`) with Python's `jsonschema`, and fails the
/// test with the schema's errors. `None` (the check skipped) when no such Python is installed.
#[track_caller]
pub fn assert_sarif_valid(log: &str) -> Option<()> {
    if !tool_available(Tool::Jsonschema) {
        return None;
    }
    let python = jsonschema_python()?;
    let mut command = Command::new(python);
    command
        .arg(root().join("tools/sarif/validate.py"))
        .arg(root().join("tests/fixtures/sarif/sarif-schema-2.1.0.json"));
    let output = run_with_stdin(command, log);
    assert!(
        output.status.success(),
        "the SARIF log does not follow the SARIF 2.1.0 schema:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Some(())
}

/// True when `path` is a file that may be executed (following links).
fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// True when `program` is an executable file in a directory of `PATH`.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            is_executable(&dir.join(program))
                || cfg!(windows) && is_executable(&dir.join(format!("{program}.exe")))
        })
    })
}

/// The browser that `puppeteer.json` tells mermaid-cli to drive.
fn chromium_path(config: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(config).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["executablePath"].as_str().map(PathBuf::from)
}

/// The (test, tool) pairs whose skip has been reported, so that a test that checks fifty
/// scenarios says it once.
static REPORTED: Mutex<BTreeSet<(String, Tool)>> = Mutex::new(BTreeSet::new());

/// The gate of every check that runs an external tool: true when `tool` is installed.
///
/// When it is not, the check is skipped and this returns false after writing
/// `skipped: <test>: <reason>` to stderr, once per test and tool; with
/// `ROLECHAIN_REQUIRE_TOOLS=1` it fails the calling test instead. The line goes to the process's
/// stderr, not through `eprintln!`, which the test harness captures and shows only for failing
/// tests: a skip must be visible in a passing run.
#[track_caller]
pub fn tool_available(tool: Tool) -> bool {
    let Some(why) = tool.missing() else {
        return true;
    };
    match std::env::var(REQUIRE_TOOLS).as_deref() {
        Ok("1") => panic!("{why} ({REQUIRE_TOOLS}=1 requires every tool)"),
        Ok("" | "0") | Err(std::env::VarError::NotPresent) => {}
        Ok(_) | Err(std::env::VarError::NotUnicode(_)) => {
            panic!("set {REQUIRE_TOOLS} to `1` (require every tool) or `0`, or leave it unset")
        }
    }
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test").to_owned();
    let first = REPORTED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert((test.clone(), tool));
    if first {
        // One write of the whole line, so that lines of tests running in parallel do not mix.
        let line = format!("skipped: {test}: {why}\n");
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
    false
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
/// Skipped when Graphviz is not installed ([`tool_available`]).
#[track_caller]
pub fn assert_dot_parses(dot: &str) {
    if !tool_available(Tool::Graphviz) {
        return;
    }
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
/// error or warning. Returns the canonical output, or `None` when Graphviz is not installed and
/// the check is skipped ([`tool_available`]).
#[track_caller]
pub fn assert_dot_lays_out(dot: &str) -> Option<String> {
    if !tool_available(Tool::Graphviz) {
        return None;
    }
    let mut command = Command::new("dot");
    command.arg("-Tcanon");
    let output = run_with_stdin(command, dot);
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "Graphviz `dot -Tcanon` rejected the DOT output ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8(output.stdout).expect("canonical DOT is UTF-8"))
}

/// Checks each Mermaid text with Mermaid's own parser (`tools/mermaid/parse.mjs`, under jsdom),
/// at Mermaid's default limits. The texts are written to a temporary directory, named by `name`.
/// Skipped when Node or the parser is not installed ([`tool_available`]).
#[track_caller]
pub fn assert_mermaid_parses(diagrams: &[(&str, &str)]) {
    if !tool_available(Tool::MermaidParser) {
        return;
    }
    let script = root().join("tools/mermaid/parse.mjs");
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

/// Runs a checker of `tools/graphdb` on `text` (written to a temporary file named `file`) and
/// parses the JSON it prints; `None` when the checkers are not installed and the check is
/// skipped ([`tool_available`]).
#[track_caller]
fn run_graphdb_checker(
    script: &str,
    file: &str,
    text: &str,
    args: &[String],
) -> Option<serde_json::Value> {
    if !tool_available(Tool::GraphDb) {
        return None;
    }
    let python = root().join("tools/graphdb/.venv/bin/python");
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
    let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "`{script}` printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    Some(json)
}

/// Loads openCypher text into a real (embedded) FalkorDB with `tools/graphdb/load_cypher.py`,
/// then runs each query with the parameters. Returns what the checker prints: `statements`,
/// `load_seconds`, `nodes`, `edges` and `queries` (one list of rows per query); `None` when the
/// checkers are not installed and the check is skipped ([`tool_available`]).
#[track_caller]
pub fn load_cypher_into_falkordb(
    cypher: &str,
    params: &[(&str, &str)],
    queries: &[&str],
) -> Option<serde_json::Value> {
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
/// prints: `directed`, `multigraph`, `nodes` and `edges`; `None` when the checkers are not
/// installed and the check is skipped ([`tool_available`]).
#[track_caller]
pub fn read_graphml_with_networkx(graphml: &str) -> Option<serde_json::Value> {
    run_graphdb_checker("read_graphml.py", "graph.graphml", graphml, &[])
}
