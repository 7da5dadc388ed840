//! Graphviz DOT output: an architecture diagram of the access graph, meant for `dot -Tsvg`.
//!
//! Accounts are drawn as boxes, with ECS clusters and services as boxes nested inside them.
//! Each node kind has its own shape and colour, and each node shows its label over a smaller
//! line naming its kind. Edges are styled by meaning:
//!
//! | edge                               | style                                  |
//! |------------------------------------|----------------------------------------|
//! | permission (accesses, injects, pulls) | solid                               |
//! | trust (task role, execution role, assumes) | dashed                         |
//! | conditional                        | dotted, orange                         |
//! | cross-account                      | bold, purple                           |
//! | denied                             | red, dashed, ending in a bar (`tee`)   |
//! | structure (runs, defines)          | thin, grey                             |
//!
//! A legend box shows the node kinds and edge styles that the drawing uses.
//!
//! Layout is layered left to right: every container is put in one rank and every resource in
//! another, so that workloads, roles and resources read as columns. Node ids are the graph's
//! ids (ARNs and so on), quoted and escaped; labels are HTML-like labels, escaped as HTML.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io;

use super::{
    AccountGroup, BoxGroup, Group, Layout, Line, account_title, box_subtitle, display_label,
    subtitle,
};
use crate::graph::{AccessGraph, Edge, EdgeKind, EdgeStatus, Node, NodeKind};
use crate::model::Diagnostic;

/// Above this many nodes, the drawing gets a warning.
pub const MAX_READABLE_NODES: usize = 500;
/// Above this many edges, the drawing gets a warning.
pub const MAX_READABLE_EDGES: usize = 1_500;

/// The prefix of the ids of nodes that the drawing adds: legend samples and placeholders. No
/// graph id starts with it: ids are ARNs, service principal names and container ids, none of
/// which start with `rolechain `.
const LEGEND: &str = "rolechain legend/";

const FONT: &str = "Helvetica,Arial,sans-serif";
const DENIED: &str = "#d62728";
const CROSS: &str = "#7b3fb5";
const CONDITIONAL: &str = "#d98c00";
const PLAIN: &str = "#4a4a4a";
const STRUCTURE: &str = "#a0a0a0";

/// How a node kind is drawn.
struct Look {
    shape: &'static str,
    fill: &'static str,
    stroke: &'static str,
}

fn look(kind: NodeKind) -> Look {
    let (shape, fill, stroke) = match kind {
        NodeKind::Account => ("house", "#eeeeee", "#777777"),
        NodeKind::Cluster | NodeKind::Service => ("tab", "#dbe8f7", "#4f7cac"),
        NodeKind::TaskDefinition => ("component", "#dbe8f7", "#4f7cac"),
        NodeKind::Container => ("box", "#c6dcf5", "#2f6aa8"),
        NodeKind::Role => ("hexagon", "#fde7b0", "#b5852a"),
        NodeKind::User => ("ellipse", "#fde7b0", "#b5852a"),
        NodeKind::ServicePrincipal => ("octagon", "#e6e0f3", "#6a5aa0"),
        NodeKind::ExternalAccount => ("doubleoctagon", "#f3dfe6", "#a05a74"),
        NodeKind::Anonymous | NodeKind::AnyPrincipal => ("doubleoctagon", "#f6c9c9", "#b22222"),
        NodeKind::Organization => ("doubleoctagon", "#f3dfe6", "#a05a74"),
        NodeKind::Federated => ("doubleoctagon", "#f9dcc4", "#b5652a"),
        NodeKind::Secret => ("cylinder", "#d4eed8", "#3d8a4e"),
        NodeKind::SsmParameter => ("folder", "#d4eed8", "#3d8a4e"),
        NodeKind::KmsKey => ("septagon", "#e4f0c8", "#6b8a2a"),
        NodeKind::EcrRepository => ("box3d", "#d3ecec", "#357f7f"),
        NodeKind::S3Bucket => ("invtrapezium", "#d3ecec", "#357f7f"),
        NodeKind::LogGroup => ("note", "#ececec", "#707070"),
    };
    Look {
        shape,
        fill,
        stroke,
    }
}

/// The column a node kind is held to, if any.
fn rank_group(kind: NodeKind) -> Option<usize> {
    match kind {
        NodeKind::Container => Some(0),
        kind if kind.is_resource() => Some(1),
        _ => None,
    }
}

/// Quotes a DOT id or attribute value.
///
/// Backslashes and quotes are escaped, a line break becomes `\n`, and other control characters
/// become spaces, so the result is one quoted token whatever the input.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Escapes text for an HTML-like label; a line break becomes `<BR/>`.
fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("<BR/>"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A two-line HTML-like label: the title, then a smaller grey line.
fn two_lines(title: &str, second: &str) -> String {
    format!(
        "<{}<BR/><FONT POINT-SIZE=\"8\" COLOR=\"#555555\">{}</FONT>>",
        html(title),
        html(second)
    )
}

/// Writes the DOT document for a graph to `out`, and returns warnings about it.
///
/// The warnings say when the graph has more than [`MAX_READABLE_NODES`] nodes or
/// [`MAX_READABLE_EDGES`] edges, which `dot` lays out slowly and people cannot read; they
/// suggest `--focus` or the `sfdp` layout.
///
/// # Errors
///
/// The first error `out` returns, as it is.
///
/// # Complexity
///
/// O((n + e) log(n + e)) time and O(n + e) space for n nodes and e edges: edges are sorted once,
/// and nodes are looked up in ordered maps.
///
/// # Example
///
/// ```
/// let graph = rolechain::graph::AccessGraph::default();
/// let mut dot = Vec::new();
/// let warnings = rolechain::export::write_dot(&graph, &mut dot)?;
/// assert!(dot.starts_with(b"digraph rolechain {"));
/// assert!(warnings.is_empty());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_dot(graph: &AccessGraph, mut out: impl io::Write) -> io::Result<Vec<Diagnostic>> {
    let out = &mut out;
    let layout = Layout::new(graph);
    out.write_all(b"digraph rolechain {\n")?;
    writeln!(
        out,
        "  graph [rankdir=LR, newrank=true, concentrate=true, fontname={f}, fontsize=12, nodesep=0.25, ranksep=0.9, \
         pad=0.3, labeljust=l, style=\"rounded\", penwidth=1.2];",
        f = quote(FONT)
    )?;
    writeln!(
        out,
        "  node [fontname={f}, fontsize=11, style=filled, penwidth=1.2, margin=\"0.12,0.05\"];",
        f = quote(FONT)
    )?;
    writeln!(
        out,
        "  edge [fontname={f}, fontsize=9, color={c}, arrowsize=0.7];",
        f = quote(FONT),
        c = quote(PLAIN)
    )?;

    let styles: BTreeSet<EdgeStyle> = layout
        .edges
        .iter()
        .map(|&e| EdgeStyle::of(&graph.graph[e]))
        .collect();
    // The legend comes first, which puts it at the top left.
    write_legend(out, graph, &layout, &styles)?;

    // Box numbers run across the whole document, so every cluster name is unique.
    let mut boxes = 0;
    for (i, account) in layout.accounts.iter().enumerate() {
        write_account(out, graph, account, i, &mut boxes)?;
    }
    write_group(out, graph, &layout.loose, 1, &mut boxes)?;
    if !layout.outside.is_empty() {
        out.write_all(b"  subgraph \"cluster_outside\" {\n")?;
        out.write_all(b"    label=<<B>outside the snapshot</B>>; fontsize=13; style=\"rounded,dashed,filled\"; fillcolor=\"#fff5f5\"; color=\"#b22222\";\n")?;
        write_group(out, graph, &layout.outside, 2, &mut boxes)?;
        out.write_all(b"  }\n")?;
    }

    // Columns: containers, then resources.
    let mut columns: [Vec<&str>; 2] = [Vec::new(), Vec::new()];
    for &ix in &layout.drawn {
        let node = &graph.graph[ix];
        if let Some(column) = rank_group(node.kind) {
            columns[column].push(&node.id);
        }
    }
    for column in columns.iter().filter(|c| c.len() > 1) {
        out.write_all(b"  { rank=same;")?;
        for id in column {
            write!(out, " {};", quote(id))?;
        }
        out.write_all(b" }\n")?;
    }

    let label_all = layout.edges.len() <= LABEL_ALL_EDGES_UP_TO;
    for &e in &layout.edges {
        let Some((a, b)) = graph.graph.edge_endpoints(e) else {
            continue;
        };
        let edge = &graph.graph[e];
        let style = EdgeStyle::of(edge);
        writeln!(
            out,
            "  {} -> {} [{}];",
            quote(&graph.graph[a].id),
            quote(&graph.graph[b].id),
            edge_attributes(edge, style, label_all)
        )?;
    }

    out.write_all(b"}\n")?;
    out.flush()?;

    let mut warnings = Vec::new();
    let (nodes, edges) = (graph.graph.node_count(), graph.graph.edge_count());
    if nodes > MAX_READABLE_NODES || edges > MAX_READABLE_EDGES {
        warnings.push(Diagnostic::warning(
            "large-diagram",
            "dot",
            format!(
                "the graph has {nodes} nodes and {edges} edges, more than `dot` lays out quickly or people can read \
                 ({MAX_READABLE_NODES} nodes or {MAX_READABLE_EDGES} edges); narrow it with `--focus`, or lay it out \
                 with `sfdp`"
            ),
        ));
    }
    Ok(warnings)
}

fn write_account(
    out: &mut impl io::Write,
    graph: &AccessGraph,
    account: &AccountGroup,
    i: usize,
    counter: &mut usize,
) -> io::Result<()> {
    writeln!(
        out,
        "  subgraph {} {{",
        quote(&format!("cluster_account_{i}"))
    )?;
    let title = match (&account.name, account.outside) {
        (Some(name), false) => format!("<<B>{}</B>  {}>", html(name), html(&account.id)),
        _ => format!("<<B>{}</B>>", html(&account_title(account))),
    };
    let (fill, stroke, style) = if account.outside {
        ("#fbfbfb", "#b0b0b0", "rounded,dashed,filled")
    } else {
        ("#f5f7fa", "#8a96a3", "rounded,filled")
    };
    writeln!(
        out,
        "    label={title}; fontsize=13; style={}; fillcolor={}; color={};",
        quote(style),
        quote(fill),
        quote(stroke)
    )?;
    write_group(out, graph, &account.inner, 2, counter)?;
    out.write_all(b"  }\n")
}

fn write_group(
    out: &mut impl io::Write,
    graph: &AccessGraph,
    group: &Group,
    depth: usize,
    counter: &mut usize,
) -> io::Result<()> {
    for b in &group.boxes {
        write_box(out, graph, b, depth, counter)?;
    }
    for &ix in &group.nodes {
        write_node(out, &graph.graph[ix], depth)?;
    }
    Ok(())
}

fn write_box(
    out: &mut impl io::Write,
    graph: &AccessGraph,
    b: &BoxGroup,
    depth: usize,
    counter: &mut usize,
) -> io::Result<()> {
    let indent = "  ".repeat(depth);
    let node = &graph.graph[b.node];
    let n = *counter;
    *counter += 1;
    let (fill, stroke) = match node.kind {
        NodeKind::Cluster => ("#e9f1fb", "#6f95c2"),
        _ => ("#f7fbff", "#9bb7d6"),
    };
    let style = if node.in_snapshot {
        "rounded,filled"
    } else {
        "rounded,dashed,filled"
    };
    writeln!(
        out,
        "{indent}subgraph {} {{",
        quote(&format!("cluster_ecs_{n}"))
    )?;
    writeln!(
        out,
        "{indent}  label=<<B>{}</B><BR/><FONT POINT-SIZE=\"8\" COLOR=\"#555555\">{}</FONT>>; \
         tooltip={}; fontsize=11; style={}; fillcolor={}; color={};",
        html(display_label(node)),
        html(&box_subtitle(node)),
        quote(&node.id),
        quote(style),
        quote(fill),
        quote(stroke)
    )?;
    write_group(out, graph, &b.inner, depth + 1, counter)?;
    if b.inner.is_empty() {
        // Graphviz does not draw an empty cluster, so an empty box gets a placeholder.
        writeln!(
            out,
            "{indent}  {} [label=\"(nothing collected)\", shape=plaintext, style=\"\", fontsize=9, fontcolor=\"#777777\"];",
            quote(&format!("{LEGEND}empty {n}"))
        )?;
    }
    writeln!(out, "{indent}}}")
}

fn write_node(out: &mut impl io::Write, node: &Node, depth: usize) -> io::Result<()> {
    let indent = "  ".repeat(depth);
    let look = look(node.kind);
    let mut style = String::from("filled");
    if node.kind == NodeKind::Container {
        style.push_str(",rounded");
    }
    if !node.in_snapshot {
        style.push_str(",dashed");
    }
    let fill = if node.in_snapshot {
        look.fill
    } else {
        "#ffffff"
    };
    writeln!(
        out,
        "{indent}{} [label={}, tooltip={}, shape={}, style={}, fillcolor={}, color={}];",
        quote(&node.id),
        two_lines(display_label(node), &subtitle(node)),
        quote(&node.id),
        look.shape,
        quote(&style),
        quote(fill),
        quote(look.stroke)
    )
}

/// The visual class of an edge; the legend shows one sample of each class drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct EdgeStyle {
    line: Line,
    status: EdgeStatus,
    cross_account: bool,
}

impl EdgeStyle {
    fn of(edge: &Edge) -> EdgeStyle {
        EdgeStyle {
            line: Line::of(edge),
            status: edge.status,
            cross_account: edge.cross_account,
        }
    }

    /// The legend's samples: one per feature that some drawn edge has, each alone on a
    /// permission edge, so the reader learns each feature once.
    fn samples(styles: &BTreeSet<EdgeStyle>) -> Vec<(&'static str, EdgeStyle)> {
        let sample = |line, status, cross_account| EdgeStyle {
            line,
            status,
            cross_account,
        };
        let mut samples = Vec::new();
        let has = |f: &dyn Fn(&EdgeStyle) -> bool| styles.iter().any(f);
        if has(&|s| s.line == Line::Permission) {
            samples.push((
                "permission",
                sample(Line::Permission, EdgeStatus::Allowed, false),
            ));
        }
        if has(&|s| s.line == Line::Trust) {
            samples.push(("trust", sample(Line::Trust, EdgeStatus::Allowed, false)));
        }
        if has(&|s| s.status == EdgeStatus::Conditional) {
            samples.push((
                "conditional",
                sample(Line::Permission, EdgeStatus::Conditional, false),
            ));
        }
        if has(&|s| s.cross_account) {
            samples.push((
                "cross-account",
                sample(Line::Permission, EdgeStatus::Allowed, true),
            ));
        }
        if has(&|s| s.status == EdgeStatus::Denied) {
            samples.push((
                "denied",
                sample(Line::Permission, EdgeStatus::Denied, false),
            ));
        }
        if has(&|s| s.line == Line::Structure) {
            samples.push((
                "runs / defines",
                sample(Line::Structure, EdgeStatus::Allowed, false),
            ));
        }
        samples
    }

    /// The attributes that give the style, without the label.
    fn attributes(self) -> String {
        if self.line == Line::Structure && self.status != EdgeStatus::Denied {
            return format!("color={}, penwidth=0.7, arrowsize=0.5", quote(STRUCTURE));
        }
        let (style, color) = match self.status {
            EdgeStatus::Denied => ("dashed", DENIED),
            EdgeStatus::Conditional => (
                "dotted",
                if self.cross_account {
                    CROSS
                } else {
                    CONDITIONAL
                },
            ),
            EdgeStatus::Allowed => (
                if self.line == Line::Trust {
                    "dashed"
                } else {
                    "solid"
                },
                if self.cross_account { CROSS } else { PLAIN },
            ),
        };
        let mut attributes = format!("style={style}, color={c}, fontcolor={c}", c = quote(color));
        if self.cross_account {
            attributes.push_str(", penwidth=2.4");
        } else if self.status == EdgeStatus::Conditional {
            attributes.push_str(", penwidth=1.6");
        }
        if self.status == EdgeStatus::Denied {
            attributes.push_str(", arrowhead=tee");
        }
        attributes
    }
}

/// A short summary of an edge's actions: `GetSecretValue` or `GetObject +2`.
fn action_summary(actions: &[String]) -> Option<String> {
    // The KMS decrypt that goes with a secret's read is named after the read itself.
    let first = actions
        .iter()
        .find(|a| !a.starts_with("kms:"))
        .or(actions.first())?;
    let short = first
        .split_once(':')
        .map_or(first.as_str(), |(_, name)| name);
    Some(if actions.len() == 1 {
        short.to_owned()
    } else {
        format!("{short} +{}", actions.len() - 1)
    })
}

/// Above this many drawn edges, allowed permission edges lose their labels (their tooltips keep
/// the actions): dozens of repeated `accesses: …` labels hide the structure.
const LABEL_ALL_EDGES_UP_TO: usize = 40;

fn edge_attributes(edge: &Edge, style: EdgeStyle, label_all: bool) -> String {
    let mut attributes = style.attributes();
    let mut tooltip = format!("{} ({})", edge.kind.as_str(), edge.status.as_str());
    for action in edge.actions().iter() {
        let _ = write!(tooltip, "\n{action}");
    }
    for condition in edge.conditions().iter() {
        let _ = write!(
            tooltip,
            "\nif {} {} {}",
            condition.operator,
            condition.key,
            condition.values.join(", ")
        );
    }
    for note in edge.notes().iter() {
        let _ = write!(tooltip, "\n{note}");
    }
    // Escalations are always named: they are the edges a reader must not take for plain access.
    let plain_permission = edge.status == EdgeStatus::Allowed
        && !edge.kind.is_trust()
        && edge.kind != EdgeKind::Escalates;
    if style.line != Line::Structure && (label_all || !plain_permission) {
        let mut label = edge.kind.as_str().to_owned();
        if let Some(summary) = action_summary(edge.actions()) {
            label = format!("{label}: {summary}");
        }
        match edge.status {
            EdgeStatus::Denied => label.push_str(" (denied)"),
            EdgeStatus::Conditional => label.push_str(" (if)"),
            EdgeStatus::Allowed => {}
        }
        let _ = write!(attributes, ", label={}", quote(&label));
    }
    let _ = write!(attributes, ", tooltip={}", quote(&tooltip));
    // An escalation runs back up the drawing (a principal into a container, whose roles sit
    // below it): ranking by it would make cycles through clusters, which Graphviz cannot lay
    // out.
    if edge.kind == EdgeKind::Escalates {
        attributes.push_str(", constraint=false");
    }
    attributes
}

fn write_legend(
    out: &mut impl io::Write,
    graph: &AccessGraph,
    layout: &Layout,
    styles: &BTreeSet<EdgeStyle>,
) -> io::Result<()> {
    let kinds: BTreeSet<NodeKind> = layout
        .drawn
        .iter()
        .map(|&ix| graph.graph[ix].kind)
        .collect();
    let has_boxes =
        layout.accounts.iter().any(|a| !a.inner.boxes.is_empty()) || !layout.loose.boxes.is_empty();
    if kinds.is_empty() && !has_boxes {
        return Ok(());
    }
    out.write_all(b"  subgraph \"cluster_legend\" {\n")?;
    writeln!(
        out,
        "    label=<<B>Legend</B>>; fontsize=12; style={}; fillcolor={}; color={};",
        quote("rounded,filled"),
        quote("#ffffff"),
        quote("#c8c8c8")
    )?;
    out.write_all(b"    node [fontsize=9, height=0.3, margin=\"0.06,0.02\"];\n")?;
    // Kinds in rows of two (more would stretch the legend across the main ranks): invisible edges keep each row on one line.
    let samples: Vec<NodeKind> = NodeKind::ALL
        .into_iter()
        .filter(|k| kinds.contains(k))
        .collect();
    for row in samples.chunks(2) {
        let mut ids = Vec::new();
        for &kind in row {
            let look = look(kind);
            let id = quote(&format!("{LEGEND}{}", kind.as_str()));
            let style = if kind == NodeKind::Container {
                "filled,rounded"
            } else {
                "filled"
            };
            writeln!(
                out,
                "    {id} [label={}, shape={}, style={}, fillcolor={}, color={}];",
                quote(kind.as_str()),
                look.shape,
                quote(style),
                quote(look.fill),
                quote(look.stroke)
            )?;
            ids.push(id);
        }
        if ids.len() > 1 {
            writeln!(out, "    {} [style=invis];", ids.join(" -> "))?;
        }
    }
    // Edge styles: a short sample edge from a dot to the style's description.
    for (i, (text, style)) in EdgeStyle::samples(styles).into_iter().enumerate() {
        let from = quote(&format!("{LEGEND}edge {i}"));
        let to = quote(&format!("{LEGEND}edge {i} text"));
        writeln!(
            out,
            "    {from} [label=\"\", shape=point, width=0.04, color={c}]; {to} [label={}, shape=plaintext, style=\"\"];",
            quote(text),
            c = quote("#888888")
        )?;
        writeln!(out, "    {from} -> {to} [{}];", style.attributes())?;
    }
    out.write_all(b"  }\n")
}
