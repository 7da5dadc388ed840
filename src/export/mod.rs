//! Exports: Graphviz DOT, Mermaid, versioned JSON, openCypher and GraphML for graph databases
//! and graph tools, a Markdown summary of a diff for pull-request comments, and the pages of
//! `rolechain report` ([`report`]).
//!
//! Every exporter writes into an [`io::Write`] it is given, in the manner of ripgrep's printers,
//! and has one of two shapes:
//!
//! - a graph exporter, `fn(&AccessGraph, impl io::Write) -> io::Result<Vec<Diagnostic>>`:
//!   [`write_dot`], [`write_mermaid`], [`write_graph_json`], [`write_cypher`] and
//!   [`write_graphml`], or any of them by [`GraphFormat`] through [`write_graph`]. The warnings
//!   say when a drawing is too large to read or to render; an exporter with nothing to say
//!   returns none.
//! - a document writer, `fn(&T, impl io::Write) -> io::Result<()>`: [`write_paths_json`],
//!   [`write_decision_json`], [`write_explanation_json`], [`write_findings_json`],
//!   [`write_findings_sarif`], [`write_diff_json`] and [`write_diff_markdown`].
//!
//! The writer may be owned or borrowed (`&mut Vec<u8>`, `&mut BufWriter<File>`,
//! `&mut dyn Write`). It receives many small writes, so a file or a socket wants an
//! [`io::BufWriter`]; every exporter flushes it before returning. The only error is the writer's
//! own, returned as it is (a closed pipe stays [`io::ErrorKind::BrokenPipe`]), and what was
//! written before it is a prefix of the whole text. Nothing here opens a file or a terminal; the
//! CLI chooses the writer.
//!
//! The diagrams share one layout, computed by `Layout::new`: accounts become boxes, ECS
//! clusters and services become boxes nested inside them, and every other node sits in the
//! innermost box its [`Node::parent`] chain leads to. Structural edges that the nesting already
//! shows (a cluster runs a service drawn inside it) are not drawn again.
//!
//! Output is deterministic: nodes are visited in sorted id order (the graph's index is a
//! `BTreeMap`) and edges in sorted (from, to, kind) order, so the same graph gives byte-identical
//! text.

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use petgraph::graph::{EdgeIndex, NodeIndex};

use crate::graph::{AccessGraph, Edge, EdgeKind, Node, NodeKind};
use crate::model::Diagnostic;

pub mod cypher;
pub mod dot;
pub mod graphml;
pub mod json;
pub mod markdown;
pub mod mermaid;
pub mod report;
pub mod sarif;

pub use cypher::write_cypher;
pub use dot::write_dot;
pub use graphml::write_graphml;
pub use json::{
    write_check_json, write_decision_json, write_diff_json, write_explanation_json,
    write_findings_json, write_graph_json, write_paths_blocked_json, write_paths_json,
};
pub use markdown::write_diff_markdown;
pub use mermaid::write_mermaid;
pub use sarif::write_findings_sarif;

/// A format a whole graph is exported in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum GraphFormat {
    /// Graphviz DOT ([`write_dot`]).
    Dot,
    /// A Mermaid flowchart ([`write_mermaid`]).
    Mermaid,
    /// `rolechain.graph/v1` JSON ([`write_graph_json`]).
    Json,
    /// openCypher statements ([`write_cypher`]).
    Cypher,
    /// GraphML ([`write_graphml`]).
    Graphml,
}

impl GraphFormat {
    /// Every format.
    pub const ALL: [GraphFormat; 5] = [
        GraphFormat::Dot,
        GraphFormat::Mermaid,
        GraphFormat::Json,
        GraphFormat::Cypher,
        GraphFormat::Graphml,
    ];
}

/// Writes `graph` in `format` to `out`, and returns warnings about it.
///
/// # Errors
///
/// The first error `out` returns, as it is.
///
/// # Complexity
///
/// That of the format's exporter: O((n + e) log(n + e)) time and O(n + e) space for n nodes and
/// e edges.
///
/// # Example
///
/// ```
/// use rolechain::export::{GraphFormat, write_graph};
///
/// let graph = rolechain::graph::AccessGraph::default();
/// let mut out = Vec::new();
/// let warnings = write_graph(&graph, GraphFormat::Json, &mut out)?;
/// assert!(out.starts_with(b"{\n  \"schema\": \"rolechain.graph/v1\""));
/// assert!(warnings.is_empty());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_graph(
    graph: &AccessGraph,
    format: GraphFormat,
    out: impl io::Write,
) -> io::Result<Vec<Diagnostic>> {
    match format {
        GraphFormat::Dot => write_dot(graph, out),
        GraphFormat::Mermaid => write_mermaid(graph, out),
        GraphFormat::Json => write_graph_json(graph, out),
        GraphFormat::Cypher => write_cypher(graph, out),
        GraphFormat::Graphml => write_graphml(graph, out),
    }
}

/// Writes `text`, with each character that `escape` maps replaced by what it maps to, in runs:
/// the text between two escapes is one write.
fn write_escaped(
    out: &mut impl io::Write,
    text: &str,
    escape: impl Fn(char) -> Option<&'static str>,
) -> io::Result<()> {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if let Some(replacement) = escape(c) {
            out.write_all(&bytes[start..i])?;
            out.write_all(replacement.as_bytes())?;
            start = i + c.len_utf8();
        }
    }
    out.write_all(&bytes[start..])
}

/// A box of the drawing: an ECS cluster or service, with what sits inside it.
#[derive(Clone, Debug, Default)]
struct Group {
    /// Nested boxes, in sorted id order.
    boxes: Vec<BoxGroup>,
    /// Nodes drawn directly in this box, in sorted id order.
    nodes: Vec<NodeIndex>,
}

impl Group {
    fn is_empty(&self) -> bool {
        self.boxes.is_empty() && self.nodes.is_empty()
    }
}

/// An ECS cluster or service drawn as a box.
#[derive(Clone, Debug)]
struct BoxGroup {
    /// The cluster or service node.
    node: NodeIndex,
    /// What sits inside.
    inner: Group,
}

/// An account drawn as a box.
#[derive(Clone, Debug)]
struct AccountGroup {
    /// The 12-digit account id (or whatever the nodes name as their account).
    id: String,
    /// The account's name, from its [`NodeKind::Account`] node, when it has one.
    name: Option<String>,
    /// True when no node of the account is in the snapshot.
    outside: bool,
    /// What sits inside.
    inner: Group,
}

/// The shared drawing layout of a graph.
#[derive(Clone, Debug)]
struct Layout {
    /// Accounts, sorted by id.
    accounts: Vec<AccountGroup>,
    /// Nodes and boxes that belong to no account (service principals, mostly).
    loose: Group,
    /// Sources outside the snapshot that belong to no account (anonymous, any principal,
    /// organizations, federated providers), drawn in a group of their own.
    outside: Group,
    /// Every node drawn as a node, in sorted id order.
    drawn: Vec<NodeIndex>,
    /// Every edge drawn, in sorted (from, to, kind) order.
    edges: Vec<EdgeIndex>,
}

/// True for the kinds drawn as boxes rather than nodes.
fn is_box_kind(kind: NodeKind) -> bool {
    matches!(kind, NodeKind::Cluster | NodeKind::Service)
}

/// Every edge of the graph in sorted (from id, to id, kind) order.
fn sorted_edges(graph: &AccessGraph) -> Vec<EdgeIndex> {
    let g = &graph.graph;
    let mut edges: Vec<EdgeIndex> = g.edge_indices().collect();
    edges.sort_by(|&a, &b| {
        let key = |e: EdgeIndex| {
            let (from, to) = g
                .edge_endpoints(e)
                .map_or(("", ""), |(f, t)| (g[f].id.as_str(), g[t].id.as_str()));
            (from, to, g[e].kind)
        };
        key(a).cmp(&key(b)).then(a.cmp(&b))
    });
    edges
}

impl Layout {
    /// Computes the layout.
    ///
    /// Account nodes are never drawn as nodes unless an edge touches them; cluster and service
    /// nodes become boxes, and are also drawn as a node inside their own box when an edge that
    /// the nesting does not explain touches them. Parent cycles are broken by ignoring the parent
    /// link that closes the cycle.
    fn new(graph: &AccessGraph) -> Layout {
        let g = &graph.graph;
        let order: Vec<NodeIndex> = graph.index.values().copied().collect();

        // The box each node sits in: the nearest cluster or service up its parent chain.
        let mut container: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
        for &ix in &order {
            let mut seen = BTreeSet::from([ix]);
            let mut current = ix;
            while let Some(parent) = g[current]
                .parent
                .as_deref()
                .and_then(|p| graph.index.get(p).copied())
            {
                if !seen.insert(parent) {
                    break;
                }
                if is_box_kind(g[parent].kind) {
                    container.insert(ix, parent);
                    break;
                }
                current = parent;
            }
        }
        // INVARIANT: after this loop the box containment relation is a forest.
        for &ix in &order {
            if !is_box_kind(g[ix].kind) {
                continue;
            }
            let mut seen = BTreeSet::from([ix]);
            let mut current = ix;
            while let Some(&up) = container.get(&current) {
                if !seen.insert(up) {
                    container.remove(&ix);
                    break;
                }
                current = up;
            }
        }
        let within = |mut node: NodeIndex, outer: NodeIndex| -> bool {
            let mut steps = 0usize;
            while let Some(&up) = container.get(&node) {
                if up == outer {
                    return true;
                }
                node = up;
                steps += 1;
                if steps > order.len() {
                    return false;
                }
            }
            false
        };

        // Edges the nesting already shows: structural edges between a box and something in it.
        let implied = |e: EdgeIndex| -> bool {
            let Some((a, b)) = g.edge_endpoints(e) else {
                return false;
            };
            matches!(g[e].kind, EdgeKind::Runs | EdgeKind::Defines)
                && ((is_box_kind(g[a].kind) && within(b, a))
                    || (is_box_kind(g[b].kind) && within(a, b)))
        };
        let edges: Vec<EdgeIndex> = sorted_edges(graph)
            .into_iter()
            .filter(|&e| !implied(e))
            .collect();
        let mut touched: BTreeSet<NodeIndex> = BTreeSet::new();
        for &e in &edges {
            if let Some((a, b)) = g.edge_endpoints(e) {
                touched.insert(a);
                touched.insert(b);
            }
        }

        let mut names: BTreeMap<String, String> = BTreeMap::new();
        for &ix in &order {
            let node = &g[ix];
            if node.kind == NodeKind::Account {
                let id = node.account.clone().unwrap_or_else(|| node.id.clone());
                if !node.label.is_empty() && node.label != id {
                    names.insert(id, node.label.clone());
                }
            }
        }

        let drawn: Vec<NodeIndex> = order
            .iter()
            .copied()
            .filter(|&ix| {
                let kind = g[ix].kind;
                !(is_box_kind(kind) || kind == NodeKind::Account) || touched.contains(&ix)
            })
            .collect();

        // Children of each box, and top-level items of each account.
        let mut children: BTreeMap<NodeIndex, Vec<NodeIndex>> = BTreeMap::new();
        let mut top: Vec<NodeIndex> = Vec::new();
        let drawn_set: BTreeSet<NodeIndex> = drawn.iter().copied().collect();
        for &ix in &order {
            let visible = drawn_set.contains(&ix) || is_box_kind(g[ix].kind);
            if !visible {
                continue;
            }
            match container.get(&ix) {
                Some(&up) => children.entry(up).or_default().push(ix),
                None => top.push(ix),
            }
            // A box drawn as a node too sits inside itself.
            if is_box_kind(g[ix].kind) && drawn_set.contains(&ix) {
                children.entry(ix).or_default().push(ix);
            }
        }

        fn fill(
            ix: NodeIndex,
            g: &AccessGraph,
            children: &BTreeMap<NodeIndex, Vec<NodeIndex>>,
            depth: usize,
        ) -> Group {
            let mut group = Group::default();
            for &child in children.get(&ix).map(Vec::as_slice).unwrap_or(&[]) {
                if child != ix && is_box_kind(g.graph[child].kind) && depth < 64 {
                    group.boxes.push(BoxGroup {
                        node: child,
                        inner: fill(child, g, children, depth + 1),
                    });
                } else {
                    group.nodes.push(child);
                }
            }
            group
        }

        let mut accounts: BTreeMap<String, AccountGroup> = BTreeMap::new();
        let mut loose = Group::default();
        let mut outside = Group::default();
        for ix in top {
            let node = &g[ix];
            let target = match &node.account {
                Some(account) => {
                    let name = names.get(account).cloned();
                    &mut accounts
                        .entry(account.clone())
                        .or_insert_with(|| AccountGroup {
                            id: account.clone(),
                            name,
                            outside: true,
                            inner: Group::default(),
                        })
                        .inner
                }
                None if node.kind.is_outside() => &mut outside,
                None => &mut loose,
            };
            if is_box_kind(node.kind) {
                let inner = fill(ix, graph, &children, 0);
                target.boxes.push(BoxGroup { node: ix, inner });
            } else {
                target.nodes.push(ix);
            }
        }
        for account in accounts.values_mut() {
            account.outside = !group_has_snapshot_node(&account.inner, graph);
        }
        let accounts = accounts
            .into_values()
            .filter(|a| !a.inner.is_empty())
            .collect();
        Layout {
            accounts,
            loose,
            outside,
            drawn,
            edges,
        }
    }
}

fn group_has_snapshot_node(group: &Group, graph: &AccessGraph) -> bool {
    group.nodes.iter().any(|&ix| graph.graph[ix].in_snapshot)
        || group
            .boxes
            .iter()
            .any(|b| graph.graph[b.node].in_snapshot || group_has_snapshot_node(&b.inner, graph))
}

/// How an edge is drawn, shared by the DOT and Mermaid exporters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Line {
    /// Runs or defines: thin and grey.
    Structure,
    /// A trust edge (task role, execution role, assumes): dashed.
    Trust,
    /// A permission edge (accesses, injects, pulls): solid.
    Permission,
}

impl Line {
    fn of(edge: &Edge) -> Line {
        Line::of_kind(edge.kind)
    }

    fn of_kind(kind: EdgeKind) -> Line {
        if matches!(kind, EdgeKind::Runs | EdgeKind::Defines) {
            Line::Structure
        } else if kind.is_trust() {
            Line::Trust
        } else {
            Line::Permission
        }
    }
}

/// The display label of a node: its label, or its id when the label is empty.
fn display_label(node: &Node) -> &str {
    if node.label.is_empty() {
        &node.id
    } else {
        &node.label
    }
}

/// The smaller second line of a node: its kind, marked when the snapshot does not hold it.
fn subtitle(node: &Node) -> String {
    let kind = node.kind.as_str();
    if node.in_snapshot {
        kind.to_owned()
    } else {
        format!("{kind}, not in snapshot")
    }
}

/// The title of an account box: `name (id)`, or the id alone.
fn account_title(account: &AccountGroup) -> String {
    let mut title = match &account.name {
        Some(name) => format!("{name} ({})", account.id),
        None => format!("account {}", account.id),
    };
    if account.outside {
        title.push_str(", outside the snapshot");
    }
    title
}

/// What a cluster or service box is: `ECS cluster` or `ECS service`, marked when the snapshot
/// does not hold it.
fn box_subtitle(node: &Node) -> String {
    let what = match node.kind {
        NodeKind::Cluster => "ECS cluster",
        NodeKind::Service => "ECS service",
        other => other.as_str(),
    };
    if node.in_snapshot {
        what.to_owned()
    } else {
        format!("{what}, not in snapshot")
    }
}

/// The title of a cluster or service box: `ECS cluster prod`, `ECS service web`.
fn box_title(node: &Node) -> String {
    format!("{} {}", box_subtitle(node), display_label(node))
}
