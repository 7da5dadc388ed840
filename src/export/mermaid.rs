//! Mermaid output: a `flowchart LR` of the access graph, for Markdown pages that render Mermaid.
//!
//! It draws the same picture as [`super::dot`]: accounts as subgraphs, ECS clusters and services
//! as nested subgraphs, a shape and a class per node kind, and edge styles by meaning (trust
//! edges dotted `-.->`, permission edges solid, cross-account edges thick `==>`, denied edges
//! ending in a cross `--x`), with `linkStyle` lines that colour conditional, denied,
//! cross-account and structural edges by their index.
//!
//! ARNs contain `:` and `/`, which Mermaid ids cannot, so nodes are named `n0`, `n1`, … in sorted
//! id order and subgraphs `acct0`, … and `box0`, …. Every label is quoted (`["…"]`) and escaped
//! with Mermaid's entity codes (`#quot;`, `#35;`, …).
//!
//! Mermaid refuses diagrams with more than 500 edges or 50,000 characters by default; the
//! exporter then returns a warning that suggests `--focus`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write as _};

use petgraph::graph::NodeIndex;

use super::{Group, Layout, Line, account_title, box_title, display_label, subtitle};
use crate::graph::{AccessGraph, Edge, EdgeKind, EdgeStatus, Node, NodeKind};
use crate::model::Diagnostic;

/// Mermaid's default `maxEdges`: a diagram with more edges fails to parse.
pub const MAX_EDGES: usize = 500;
/// Mermaid's default `maxTextSize`: a longer diagram is not rendered.
pub const MAX_TEXT_SIZE: usize = 50_000;

/// Escapes text for a quoted Mermaid label.
///
/// Characters that end a string or start markup become entity codes; line breaks become `<br/>`
/// and other control characters spaces.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '&' => out.push_str("#amp;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '\\' => out.push_str("#92;"),
            '`' => out.push_str("#96;"),
            '|' => out.push_str("#124;"),
            // `%%{…}%%` anywhere in the text is a directive that reconfigures Mermaid.
            '%' => out.push_str("#37;"),
            '\n' => out.push_str("<br/>"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The brackets around a node kind's label, which give its shape.
///
/// Circles are avoided: Mermaid sizes them to the label's width, so they come out huge. The
/// kinds that share the plain box are told apart by their class colours.
pub(super) fn brackets(kind: NodeKind) -> (&'static str, &'static str) {
    match kind {
        NodeKind::Account | NodeKind::Cluster | NodeKind::Service => ("[", "]"),
        NodeKind::TaskDefinition => ("[[", "]]"),
        NodeKind::Container => ("(", ")"),
        NodeKind::Role => ("{{", "}}"),
        NodeKind::User => ("([", "])"),
        NodeKind::ServicePrincipal => (">", "]"),
        NodeKind::ExternalAccount
        | NodeKind::Anonymous
        | NodeKind::AnyPrincipal
        | NodeKind::Organization
        | NodeKind::Federated => ("[", "]"),
        NodeKind::Secret => ("[(", ")]"),
        NodeKind::SsmParameter => ("[/", "/]"),
        NodeKind::KmsKey => ("[/", "\\]"),
        NodeKind::EcrRepository => ("[\\", "\\]"),
        NodeKind::S3Bucket => ("[\\", "/]"),
        NodeKind::LogGroup => ("[", "]"),
    }
}

/// The `classDef` style of a node kind.
pub(super) fn class_style(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Account => "fill:#eeeeee,stroke:#777777,color:#1a1a1a",
        NodeKind::Cluster | NodeKind::Service | NodeKind::TaskDefinition => {
            "fill:#dbe8f7,stroke:#4f7cac,color:#1a1a1a"
        }
        NodeKind::Container => "fill:#c6dcf5,stroke:#2f6aa8,color:#1a1a1a",
        NodeKind::Role | NodeKind::User => "fill:#fde7b0,stroke:#b5852a,color:#1a1a1a",
        NodeKind::ServicePrincipal => "fill:#e6e0f3,stroke:#6a5aa0,color:#1a1a1a",
        NodeKind::ExternalAccount | NodeKind::Organization => {
            "fill:#f3dfe6,stroke:#a05a74,color:#1a1a1a"
        }
        NodeKind::Anonymous | NodeKind::AnyPrincipal => "fill:#f6c9c9,stroke:#b22222,color:#1a1a1a",
        NodeKind::Federated => "fill:#f9dcc4,stroke:#b5652a,color:#1a1a1a",
        NodeKind::Secret | NodeKind::SsmParameter => "fill:#d4eed8,stroke:#3d8a4e,color:#1a1a1a",
        NodeKind::KmsKey => "fill:#e4f0c8,stroke:#6b8a2a,color:#1a1a1a",
        NodeKind::EcrRepository | NodeKind::S3Bucket => "fill:#d3ecec,stroke:#357f7f,color:#1a1a1a",
        NodeKind::LogGroup => "fill:#ececec,stroke:#707070,color:#1a1a1a",
    }
}

/// The class name of a node kind: `k_task_definition`, `k_role`, ….
pub(super) fn class_name(kind: NodeKind) -> String {
    format!("k_{}", kind.as_str().replace('-', "_"))
}

/// The arrow of an edge.
fn arrow(edge: &Edge) -> &'static str {
    arrow_of(Line::of(edge), edge.status, edge.cross_account)
}

/// The arrow of an edge drawn as `line`, with this status, crossing accounts or not.
pub(super) fn arrow_of(line: Line, status: EdgeStatus, cross_account: bool) -> &'static str {
    if status == EdgeStatus::Denied {
        "--x"
    } else if line == Line::Structure {
        "-->"
    } else if cross_account {
        "==>"
    } else if line == Line::Trust {
        "-.->"
    } else {
        "-->"
    }
}

/// The `linkStyle` of an edge, for the edges the arrow alone does not tell apart.
fn link_style(edge: &Edge) -> Option<String> {
    link_style_of(Line::of(edge), edge.status, edge.cross_account)
}

/// The `linkStyle` of an edge drawn as `line`, with this status, crossing accounts or not;
/// `None` for a plain allowed edge, which the default style draws.
pub(super) fn link_style_of(line: Line, status: EdgeStatus, cross_account: bool) -> Option<String> {
    let dashes = match (status, line) {
        (EdgeStatus::Denied, _) => Some("6 4"),
        (EdgeStatus::Conditional, _) => Some("2 3"),
        (EdgeStatus::Allowed, Line::Trust) if cross_account => Some("5 4"),
        _ => None,
    };
    let (color, width) = match status {
        EdgeStatus::Denied => ("#d62728", "1.5px"),
        _ if cross_account => ("#7b3fb5", "3px"),
        EdgeStatus::Conditional => ("#d98c00", "2px"),
        EdgeStatus::Allowed if line == Line::Structure => ("#a0a0a0", "1px"),
        EdgeStatus::Allowed => return None,
    };
    let mut style = format!("stroke:{color},stroke-width:{width}");
    if let Some(dashes) = dashes {
        let _ = write!(style, ",stroke-dasharray:{dashes}");
    }
    Some(style)
}

/// The `classDef` style of a subgraph class: `account`, `outside_account`, `ecs_cluster` or
/// `ecs_service`.
pub(super) fn subgraph_style(class: &str) -> &'static str {
    match class {
        "account" => "fill:#f5f7fa,stroke:#8a96a3,color:#1a1a1a",
        "outside_account" => "fill:#fbfbfb,stroke:#b0b0b0,stroke-dasharray:4 3,color:#1a1a1a",
        "ecs_cluster" => "fill:#e9f1fb,stroke:#6f95c2,color:#1a1a1a",
        _ => "fill:#f7fbff,stroke:#9bb7d6,color:#1a1a1a",
    }
}

/// Above this many drawn edges, allowed permission edges lose their labels: dozens of repeated
/// `accesses` labels hide the structure, and the target's shape already says what the edge is.
const LABEL_ALL_EDGES_UP_TO: usize = 40;

/// The label of an edge: its kind, marked when denied or conditional.
fn edge_label(edge: &Edge, label_all: bool) -> Option<String> {
    if Line::of(edge) == Line::Structure {
        return None;
    }
    // Escalations are always named: they are the edges a reader must not take for plain access.
    if !label_all
        && edge.status == EdgeStatus::Allowed
        && !edge.kind.is_trust()
        && edge.kind != EdgeKind::Escalates
    {
        return None;
    }
    let mut label = edge.kind.as_str().to_owned();
    match edge.status {
        EdgeStatus::Denied => label.push_str(" (denied)"),
        EdgeStatus::Conditional => label.push_str(" (if)"),
        EdgeStatus::Allowed => {}
    }
    Some(label)
}

/// Passes bytes through to a writer and counts the UTF-16 code units of the UTF-8 text that
/// went through, which is how Mermaid measures `maxTextSize` (a JavaScript string's length).
struct Utf16Count<W> {
    inner: W,
    units: usize,
}

impl<W: io::Write> io::Write for Utf16Count<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.units += utf16_units(buf.get(..written).unwrap_or(buf));
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The UTF-16 code units of UTF-8 bytes, counted byte by byte so that a character split across
/// two writes counts once: every byte but a continuation byte starts a character, and a
/// character of four bytes (lead byte `0xF0` and up) lies outside the BMP, a surrogate pair.
pub(super) fn utf16_units(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .map(|&b| usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0))
        .sum()
}

struct Writer<'g, W> {
    graph: &'g AccessGraph,
    ids: BTreeMap<NodeIndex, String>,
    out: Utf16Count<W>,
    boxes: usize,
    subgraph_classes: BTreeMap<&'static str, Vec<String>>,
}

impl<W: io::Write> Writer<'_, W> {
    fn node(&mut self, ix: NodeIndex, depth: usize) -> io::Result<()> {
        let node: &Node = &self.graph.graph[ix];
        let (open, close) = brackets(node.kind);
        let id = self.ids.get(&ix).map_or("", String::as_str);
        let label = format!(
            "{}<br/><small>{}</small>",
            escape(display_label(node)),
            escape(&subtitle(node))
        );
        writeln!(
            self.out,
            "{:indent$}{id}{open}\"{label}\"{close}",
            "",
            indent = depth * 2
        )
    }

    fn group(&mut self, group: &Group, depth: usize) -> io::Result<()> {
        for b in &group.boxes {
            let node = &self.graph.graph[b.node];
            let name = format!("box{}", self.boxes);
            self.boxes += 1;
            writeln!(
                self.out,
                "{:indent$}subgraph {name}[\"{}\"]",
                "",
                escape(&box_title(node)),
                indent = depth * 2
            )?;
            let class = if node.kind == NodeKind::Cluster {
                "ecs_cluster"
            } else {
                "ecs_service"
            };
            self.subgraph_classes.entry(class).or_default().push(name);
            self.group(&b.inner, depth + 1)?;
            writeln!(self.out, "{:indent$}end", "", indent = depth * 2)?;
        }
        for &ix in &group.nodes {
            self.node(ix, depth)?;
        }
        Ok(())
    }
}

/// Writes the Mermaid flowchart for a graph to `out`, and returns warnings about it.
///
/// The warnings say when the text breaks Mermaid's default limits ([`MAX_EDGES`] edges,
/// [`MAX_TEXT_SIZE`] characters), so that Mermaid would refuse it; they suggest `--focus`.
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
/// let mut text = Vec::new();
/// let warnings = rolechain::export::write_mermaid(&graph, &mut text)?;
/// assert!(text.starts_with(b"flowchart LR\n"));
/// assert!(warnings.is_empty());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_mermaid(graph: &AccessGraph, out: impl io::Write) -> io::Result<Vec<Diagnostic>> {
    let layout = Layout::new(graph);
    let ids = layout
        .drawn
        .iter()
        .enumerate()
        .map(|(k, &ix)| (ix, format!("n{k}")))
        .collect();
    let mut w = Writer {
        graph,
        ids,
        out: Utf16Count {
            inner: out,
            units: 0,
        },
        boxes: 0,
        subgraph_classes: BTreeMap::new(),
    };
    w.out.write_all(b"flowchart LR\n")?;

    for (i, account) in layout.accounts.iter().enumerate() {
        let name = format!("acct{i}");
        writeln!(
            w.out,
            "  subgraph {name}[\"{}\"]",
            escape(&account_title(account))
        )?;
        let class = if account.outside {
            "outside_account"
        } else {
            "account"
        };
        w.subgraph_classes.entry(class).or_default().push(name);
        w.group(&account.inner, 2)?;
        w.out.write_all(b"  end\n")?;
    }
    w.group(&layout.loose, 1)?;
    if !layout.outside.is_empty() {
        w.out
            .write_all(b"  subgraph outside[\"outside the snapshot\"]\n")?;
        w.subgraph_classes
            .entry("outside_account")
            .or_default()
            .push("outside".to_string());
        w.group(&layout.outside, 2)?;
        w.out.write_all(b"  end\n")?;
    }

    let mut styles: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut count = 0;
    let label_all = layout.edges.len() <= LABEL_ALL_EDGES_UP_TO;
    for &e in &layout.edges {
        let Some((a, b)) = graph.graph.edge_endpoints(e) else {
            continue;
        };
        let (Some(from), Some(to)) = (w.ids.get(&a), w.ids.get(&b)) else {
            continue;
        };
        let edge = &graph.graph[e];
        let label = edge_label(edge, label_all)
            .map(|l| format!("|\"{}\"|", escape(&l)))
            .unwrap_or_default();
        writeln!(w.out, "  {from} {}{label} {to}", arrow(edge))?;
        if let Some(style) = link_style(edge) {
            styles.entry(style).or_default().push(count);
        }
        count += 1;
    }

    let mut by_kind: BTreeMap<NodeKind, Vec<&str>> = BTreeMap::new();
    let mut outside: Vec<&str> = Vec::new();
    for &ix in &layout.drawn {
        let node = &graph.graph[ix];
        let Some(id) = w.ids.get(&ix) else { continue };
        by_kind.entry(node.kind).or_default().push(id);
        if !node.in_snapshot {
            outside.push(id);
        }
    }
    let out = &mut w.out;
    for (kind, members) in &by_kind {
        let name = class_name(*kind);
        writeln!(out, "  classDef {name} {}", class_style(*kind))?;
        writeln!(out, "  class {} {name}", members.join(","))?;
    }
    if !outside.is_empty() {
        out.write_all(b"  classDef outside stroke-dasharray:4 3,fill:#ffffff\n")?;
        writeln!(out, "  class {} outside", outside.join(","))?;
    }
    for (class, members) in &w.subgraph_classes {
        writeln!(out, "  classDef {class} {}", subgraph_style(class))?;
        writeln!(out, "  class {} {class}", members.join(","))?;
    }
    for (style, indices) in &styles {
        let list: Vec<String> = indices.iter().map(usize::to_string).collect();
        writeln!(out, "  linkStyle {} {style}", list.join(","))?;
    }
    out.flush()?;

    let mut warnings = Vec::new();
    let size = out.units;
    if count > MAX_EDGES || size > MAX_TEXT_SIZE {
        warnings.push(Diagnostic::warning(
            "large-diagram",
            "mermaid",
            format!(
                "the diagram has {count} edges and {size} characters, more than Mermaid accepts by default \
                 ({MAX_EDGES} edges, {MAX_TEXT_SIZE} characters); narrow it with `--focus`"
            ),
        ));
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counting byte by byte agrees with JavaScript's string length wherever the text is split.
    #[test]
    fn utf16_units_match_javascript_length_across_splits() {
        let text = "a é ✓ 𝄞 %%{x}%% #quot;";
        let bytes = text.as_bytes();
        for split in 0..=bytes.len() {
            let (a, b) = bytes.split_at(split);
            assert_eq!(
                utf16_units(a) + utf16_units(b),
                text.encode_utf16().count(),
                "split at {split}"
            );
        }
    }
}
