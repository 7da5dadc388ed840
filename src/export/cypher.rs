//! openCypher output: statements that load the access graph into Neo4j, Memgraph or FalkorDB.
//!
//! Teams that keep their cloud inventory in a graph database (as cartography, awspx and
//! cloudfox users do) can load the evaluated graph next to it and query it there. The text uses
//! only syntax that all three engines accept: `UNWIND` over a list of map literals, `CREATE`
//! and `MATCH`, with string, boolean and list-of-string values.
//!
//! # Format
//!
//! The text is a sequence of statements. Each statement ends with `;` at the end of a line, and
//! no other line ends with `;` (strings never hold a raw line break), so splitting the text at
//! `";\n"` gives the statements, as FalkorDB needs; `cypher-shell` and `mgconsole` read the file
//! as it is. An empty graph gives an empty text. The statements create; they never merge or
//! delete, so load into an empty database (or delete the `RolechainNode` nodes first).
//!
//! Node statements come first, one per node kind (in [`NodeKind::ALL`] order) and per 500
//! nodes, nodes in id order:
//!
//! ```cypher
//! UNWIND [
//!   {id: "arn:aws:iam::111111111111:role/web-task", kind: "role", account: "111111111111", label: "web-task", parent: null, in_snapshot: true}
//! ] AS n
//! CREATE (:RolechainNode:Role {id: n.id, kind: n.kind, account: n.account, label: n.label, parent: n.parent, in_snapshot: n.in_snapshot});
//! ```
//!
//! Edge statements follow, one per edge kind and per 500 edges, edges in (from, to) order:
//!
//! ```cypher
//! UNWIND [
//!   {from: "arn:…:role/web-task", to: "arn:…:secret:db-AbCdEf", kind: "accesses", status: "allowed", cross_account: false, actions: ["secretsmanager:GetSecretValue"], because: ["{\"policy_type\":\"identity\",…}"], conditions: [], notes: []}
//! ] AS e
//! MATCH (a:RolechainNode {id: e.from})
//! MATCH (b:RolechainNode {id: e.to})
//! CREATE (a)-[:ACCESSES {kind: e.kind, status: e.status, cross_account: e.cross_account, actions: e.actions, because: e.because, conditions: e.conditions, notes: e.notes}]->(b);
//! ```
//!
//! ## Nodes
//!
//! Every node has the label `RolechainNode` and one label for its kind: `Account`, `Cluster`,
//! `Service`, `TaskDefinition`, `Container`, `Role`, `User`, `ServicePrincipal`,
//! `ExternalAccount`, `Anonymous`, `AnyPrincipal`, `Organization`, `Federated`, `Secret`, `SsmParameter`, `KmsKey`, `EcrRepository`, `S3Bucket`,
//! `LogGroup`. Its properties are those of a node of `rolechain.graph/v1` (see [`super::json`]):
//!
//! - `id` (string): the node id, unique among `RolechainNode` nodes.
//! - `kind` (string): the contract name of the kind, such as `task-definition`.
//! - `account` (string): the owning account id; absent when there is none.
//! - `label` (string): a short name for people.
//! - `parent` (string): the id of the node it is drawn inside; absent when there is none.
//! - `in_snapshot` (boolean): false for nodes a policy or task definition names but the snapshot
//!   does not hold.
//!
//! ## Relationships
//!
//! The relationship type is the edge kind: `RUNS`, `DEFINES`, `TASK_ROLE`, `EXECUTION_ROLE`,
//! `ASSUMES`, `ACCESSES`, `INJECTS`, `PULLS`, `INSTANCE_ROLE`. The properties are those of an edge of
//! `rolechain.graph/v1`, with the proof as lists of strings, because Neo4j and FalkorDB do not
//! store maps as property values:
//!
//! - `kind` (string): `runs`, `defines`, `task-role`, `execution-role`, `assumes`, `accesses`,
//!   `injects` or `pulls`.
//! - `status` (string): `allowed`, `conditional` or `denied`. Denied edges are kept, as in the
//!   graph: filter them out (`WHERE r.status <> "denied"`) when following paths.
//! - `cross_account` (boolean).
//! - `actions` (list of strings): the actions the edge allows, sorted.
//! - `because` (list of strings): each a compact JSON [reason](super::json#reason).
//! - `conditions` (list of strings): each a compact JSON [condition](super::json#condition).
//! - `notes` (list of strings).
//!
//! ## Strings
//!
//! Strings are double-quoted. `\` and `"` are escaped with a backslash, and line feed,
//! carriage return, tab, backspace and form feed as `\n`, `\r`, `\t`, `\b` and `\f`. Every
//! other character is written as it is, in UTF-8: FalkorDB does not read `\u` escapes, and the
//! three engines accept any other character inside a string. The one exception is NUL, which
//! FalkorDB cannot read in any form and no AWS name contains: it becomes U+FFFD.
//!
//! # Loading large graphs
//!
//! Each edge statement finds its two ends by `id`. Engines spell index creation differently, so
//! the text creates none; for graphs of thousands of nodes, create one before loading (Neo4j:
//! `CREATE INDEX FOR (n:RolechainNode) ON (n.id)`, Memgraph:
//! `CREATE INDEX ON :RolechainNode(id)`, FalkorDB: either form).

use std::io;

use petgraph::graph::EdgeIndex;

use super::json::{condition_compact, reason_compact};
use crate::graph::{AccessGraph, Edge, EdgeKind, Node, NodeKind};
use crate::model::Diagnostic;

/// The label every node carries, besides the label of its kind.
pub const NODE_LABEL: &str = "RolechainNode";

/// The most rows one `UNWIND` statement carries, which keeps each statement small enough for
/// FalkorDB's and Neo4j's query caches and each transaction short.
const BATCH: usize = 500;

/// Every edge kind, in the order their statements are written.
const EDGE_KINDS: [EdgeKind; 10] = EdgeKind::ALL;

/// The node label of a kind: `Account`, `TaskDefinition`, ….
pub fn node_label(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Account => "Account",
        NodeKind::Cluster => "Cluster",
        NodeKind::Service => "Service",
        NodeKind::TaskDefinition => "TaskDefinition",
        NodeKind::Container => "Container",
        NodeKind::Role => "Role",
        NodeKind::User => "User",
        NodeKind::ServicePrincipal => "ServicePrincipal",
        NodeKind::ExternalAccount => "ExternalAccount",
        NodeKind::Anonymous => "Anonymous",
        NodeKind::AnyPrincipal => "AnyPrincipal",
        NodeKind::Organization => "Organization",
        NodeKind::Federated => "Federated",
        NodeKind::Secret => "Secret",
        NodeKind::SsmParameter => "SsmParameter",
        NodeKind::KmsKey => "KmsKey",
        NodeKind::EcrRepository => "EcrRepository",
        NodeKind::S3Bucket => "S3Bucket",
        NodeKind::LogGroup => "LogGroup",
    }
}

/// The relationship type of an edge kind: `RUNS`, `TASK_ROLE`, ….
pub fn relationship_type(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::Runs => "RUNS",
        EdgeKind::Defines => "DEFINES",
        EdgeKind::TaskRole => "TASK_ROLE",
        EdgeKind::InstanceRole => "INSTANCE_ROLE",
        EdgeKind::ExecutionRole => "EXECUTION_ROLE",
        EdgeKind::Assumes => "ASSUMES",
        EdgeKind::Accesses => "ACCESSES",
        EdgeKind::Injects => "INJECTS",
        EdgeKind::Pulls => "PULLS",
        EdgeKind::Escalates => "ESCALATES",
    }
}

/// Writes `text` as a double-quoted Cypher string literal, escaped as the module doc says.
fn write_string(out: &mut impl io::Write, text: &str) -> io::Result<()> {
    out.write_all(b"\"")?;
    super::write_escaped(out, text, |c| match c {
        '\\' => Some("\\\\"),
        '"' => Some("\\\""),
        '\n' => Some("\\n"),
        '\r' => Some("\\r"),
        '\t' => Some("\\t"),
        '\u{8}' => Some("\\b"),
        '\u{c}' => Some("\\f"),
        '\0' => Some("\u{fffd}"),
        _ => None,
    })?;
    out.write_all(b"\"")
}

/// Writes a string literal, or `null`.
fn write_optional(out: &mut impl io::Write, text: Option<&str>) -> io::Result<()> {
    match text {
        Some(text) => write_string(out, text),
        None => out.write_all(b"null"),
    }
}

/// Writes a list of string literals.
fn write_list<S: AsRef<str>>(
    out: &mut impl io::Write,
    items: impl IntoIterator<Item = S>,
) -> io::Result<()> {
    out.write_all(b"[")?;
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b", ")?;
        }
        write_string(out, item.as_ref())?;
    }
    out.write_all(b"]")
}

/// Writes one node row of an `UNWIND` list.
fn write_node_row(out: &mut impl io::Write, node: &Node) -> io::Result<()> {
    out.write_all(b"{id: ")?;
    write_string(out, &node.id)?;
    out.write_all(b", kind: ")?;
    write_string(out, node.kind.as_str())?;
    out.write_all(b", account: ")?;
    write_optional(out, node.account.as_deref())?;
    out.write_all(b", label: ")?;
    write_string(out, &node.label)?;
    out.write_all(b", parent: ")?;
    write_optional(out, node.parent.as_deref())?;
    write!(out, ", in_snapshot: {}}}", node.in_snapshot)
}

/// Writes one edge row of an `UNWIND` list.
fn write_edge_row(out: &mut impl io::Write, (from, to, edge): EdgeRow<'_>) -> io::Result<()> {
    out.write_all(b"{from: ")?;
    write_string(out, from)?;
    out.write_all(b", to: ")?;
    write_string(out, to)?;
    out.write_all(b", kind: ")?;
    write_string(out, edge.kind.as_str())?;
    out.write_all(b", status: ")?;
    write_string(out, edge.status.as_str())?;
    write!(out, ", cross_account: {}", edge.cross_account)?;
    out.write_all(b", actions: ")?;
    write_list(out, edge.actions().iter())?;
    out.write_all(b", because: ")?;
    write_list(out, edge.because().iter().map(reason_compact))?;
    out.write_all(b", conditions: ")?;
    write_list(out, edge.conditions().iter().map(condition_compact))?;
    out.write_all(b", notes: ")?;
    write_list(out, edge.notes().iter().map(ToString::to_string))?;
    out.write_all(b"}")
}

/// An edge with the ids of its ends: from, to, edge.
type EdgeRow<'g> = (&'g str, &'g str, &'g Edge);

/// Writes `UNWIND [` and the rows, one per line, then `] AS <var>`.
fn write_unwind<W: io::Write, T: Copy>(
    out: &mut W,
    rows: &[T],
    var: &str,
    write_row: impl Fn(&mut W, T) -> io::Result<()>,
) -> io::Result<()> {
    out.write_all(b"UNWIND [\n")?;
    for (i, &row) in rows.iter().enumerate() {
        out.write_all(b"  ")?;
        write_row(out, row)?;
        if i + 1 < rows.len() {
            out.write_all(b",")?;
        }
        out.write_all(b"\n")?;
    }
    writeln!(out, "] AS {var}")
}

/// Writes the graph as openCypher statements for Neo4j, Memgraph and FalkorDB, in the format of
/// the module doc.
///
/// It has the shape of every graph exporter, and has no warnings to return.
///
/// # Errors
///
/// The first error `out` returns, as it is.
///
/// # Complexity
///
/// O((n + e) log(n + e)) time and O(n + e) space for n nodes and e edges: edges are sorted once.
///
/// # Example
///
/// ```
/// let graph = rolechain::graph::AccessGraph::default();
/// let mut cypher = Vec::new();
/// let warnings = rolechain::export::write_cypher(&graph, &mut cypher)?;
/// assert!(cypher.is_empty() && warnings.is_empty());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_cypher(graph: &AccessGraph, mut out: impl io::Write) -> io::Result<Vec<Diagnostic>> {
    let out = &mut out;
    let g = &graph.graph;

    for kind in NodeKind::ALL {
        let nodes: Vec<&Node> = graph
            .index
            .values()
            .map(|&ix| &g[ix])
            .filter(|node| node.kind == kind)
            .collect();
        for batch in nodes.chunks(BATCH) {
            write_unwind(out, batch, "n", |out, node| write_node_row(out, node))?;
            writeln!(
                out,
                "CREATE (:{NODE_LABEL}:{} {{id: n.id, kind: n.kind, account: n.account, \
                 label: n.label, parent: n.parent, in_snapshot: n.in_snapshot}});",
                node_label(kind)
            )?;
        }
    }

    let edges: Vec<EdgeIndex> = super::sorted_edges(graph);
    for kind in EDGE_KINDS {
        let rows: Vec<EdgeRow<'_>> = edges
            .iter()
            .filter(|&&e| g[e].kind == kind)
            .filter_map(|&e| {
                let (from, to) = g.edge_endpoints(e)?;
                Some((g[from].id.as_str(), g[to].id.as_str(), &g[e]))
            })
            .collect();
        for batch in rows.chunks(BATCH) {
            write_unwind(out, batch, "e", write_edge_row)?;
            writeln!(
                out,
                "MATCH (a:{NODE_LABEL} {{id: e.from}})\nMATCH (b:{NODE_LABEL} {{id: e.to}})"
            )?;
            writeln!(
                out,
                "CREATE (a)-[:{} {{kind: e.kind, status: e.status, \
                 cross_account: e.cross_account, actions: e.actions, because: e.because, \
                 conditions: e.conditions, notes: e.notes}}]->(b);",
                relationship_type(kind)
            )?;
        }
    }
    out.flush()?;
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(text: &str) -> String {
        let mut out = Vec::new();
        write_string(&mut out, text).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_escape_quotes_backslashes_and_line_breaks() {
        assert_eq!(literal(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(literal("a\nb\r\tc\u{8}\u{c}"), r#""a\nb\r\tc\b\f""#);
        assert_eq!(literal("é 𝄞 \u{1}"), "\"é 𝄞 \u{1}\"");
        assert_eq!(literal("a\0b"), "\"a\u{fffd}b\"");
    }

    #[test]
    fn no_string_ends_a_line_with_a_semicolon() {
        let text = literal("x;\ny;");
        assert!(!text.contains(";\n"), "{text}");
    }

    #[test]
    fn every_kind_has_a_label_and_every_edge_kind_a_type() {
        for kind in NodeKind::ALL {
            assert!(node_label(kind).chars().all(|c| c.is_ascii_alphanumeric()));
        }
        for kind in EDGE_KINDS {
            let ty = relationship_type(kind);
            assert_eq!(ty, kind.as_str().to_uppercase().replace('-', "_"));
        }
    }
}
