//! GraphML output: the access graph as XML for Gephi, yEd, networkx and other graph tools.
//!
//! # Format
//!
//! One `<graphml>` document in the GraphML namespace, with `<key>` declarations for every
//! attribute and one directed `<graph id="rolechain">`. The text is UTF-8 and ends with a
//! newline.
//!
//! Nodes are `<node id="n0">`, `<node id="n1">`, … in id order: GraphML ids are XML name tokens,
//! which ARNs (with `/`, `#`, `*`) are not, so the node id is the attribute `node_id`. Edges are
//! `<edge id="e0" source="n…" target="n…">`, … in (from, to, kind) order. Each carries `<data>`
//! elements for these keys (a key's `id` is the attribute name for nodes and `edge_` plus the
//! name for edges, since key ids must be unique):
//!
//! | for  | attribute       | type    | value                                                   |
//! |------|-----------------|---------|---------------------------------------------------------|
//! | node | `node_id`       | string  | the node id of `rolechain.graph/v1`                     |
//! | node | `kind`          | string  | `account`, `cluster`, …, `log-group`                    |
//! | node | `account`       | string  | the owning account id; absent when there is none        |
//! | node | `label`         | string  | a short name for people (Gephi shows it as the label)   |
//! | node | `parent`        | string  | the node id it is drawn inside; absent when none        |
//! | node | `in_snapshot`   | boolean | false for nodes the snapshot names but does not hold    |
//! | edge | `kind`          | string  | `runs`, `defines`, `task-role`, …, `pulls`              |
//! | edge | `status`        | string  | `allowed`, `conditional` or `denied`                    |
//! | edge | `cross_account` | boolean | true when the ends are in different accounts            |
//! | edge | `actions`       | string  | a JSON array of the allowed actions                     |
//! | edge | `because`       | string  | a JSON array of [reasons](super::json#reason)           |
//! | edge | `conditions`    | string  | a JSON array of [conditions](super::json#condition)     |
//! | edge | `notes`         | string  | a JSON array of notes                                   |
//!
//! The node id is `node_id` rather than `id` because Gephi keeps `id` for its own node ids.
//! GraphML has no list type, so lists are JSON text (`json.loads` in Python gives them back).
//!
//! Text is escaped for XML: `&`, `<` and `>` as entities, and a carriage return as `&#13;`
//! (parsers would turn a raw one into a line feed). Characters that XML 1.0 cannot hold at all
//! (control characters other than tab, line feed and carriage return) become U+FFFD; no AWS name
//! contains one.

use std::collections::BTreeMap;
use std::io;

use petgraph::graph::NodeIndex;

use super::json::{condition_compact, reason_compact};
use crate::graph::{AccessGraph, Edge, Node};
use crate::model::Diagnostic;

/// The node attribute keys: id, attribute name, type.
const NODE_KEYS: [(&str, &str, &str); 6] = [
    ("node_id", "node_id", "string"),
    ("kind", "kind", "string"),
    ("account", "account", "string"),
    ("label", "label", "string"),
    ("parent", "parent", "string"),
    ("in_snapshot", "in_snapshot", "boolean"),
];

/// The edge attribute keys: id, attribute name, type.
const EDGE_KEYS: [(&str, &str, &str); 7] = [
    ("edge_kind", "kind", "string"),
    ("edge_status", "status", "string"),
    ("edge_cross_account", "cross_account", "boolean"),
    ("edge_actions", "actions", "string"),
    ("edge_because", "because", "string"),
    ("edge_conditions", "conditions", "string"),
    ("edge_notes", "notes", "string"),
];

/// Writes `text` escaped for XML character data.
fn write_escaped(out: &mut impl io::Write, text: &str) -> io::Result<()> {
    super::write_escaped(out, text, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '\r' => Some("&#13;"),
        '\t' | '\n' => None,
        c if u32::from(c) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => Some("\u{fffd}"),
        _ => None,
    })
}

/// Writes one `<data>` element.
fn write_data(out: &mut impl io::Write, key: &str, value: &str) -> io::Result<()> {
    write!(out, "      <data key=\"{key}\">")?;
    write_escaped(out, value)?;
    out.write_all(b"</data>\n")
}

/// A list of strings as a compact JSON array.
fn json_list<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let items: Vec<String> = items.into_iter().map(|s| s.as_ref().to_owned()).collect();
    // INVARIANT: a list of strings always serializes.
    serde_json::to_string(&items).unwrap_or_default()
}

/// A list of JSON objects (already serialized) as a JSON array.
fn json_objects(objects: impl IntoIterator<Item = String>) -> String {
    let objects: Vec<String> = objects.into_iter().collect();
    format!("[{}]", objects.join(","))
}

fn write_node(out: &mut impl io::Write, k: usize, node: &Node) -> io::Result<()> {
    writeln!(out, "    <node id=\"n{k}\">")?;
    write_data(out, "node_id", &node.id)?;
    write_data(out, "kind", node.kind.as_str())?;
    if let Some(account) = &node.account {
        write_data(out, "account", account)?;
    }
    write_data(out, "label", &node.label)?;
    if let Some(parent) = &node.parent {
        write_data(out, "parent", parent)?;
    }
    write_data(
        out,
        "in_snapshot",
        if node.in_snapshot { "true" } else { "false" },
    )?;
    out.write_all(b"    </node>\n")
}

fn write_edge(
    out: &mut impl io::Write,
    k: usize,
    from: usize,
    to: usize,
    edge: &Edge,
) -> io::Result<()> {
    writeln!(
        out,
        "    <edge id=\"e{k}\" source=\"n{from}\" target=\"n{to}\">"
    )?;
    write_data(out, "edge_kind", edge.kind.as_str())?;
    write_data(out, "edge_status", edge.status.as_str())?;
    write_data(
        out,
        "edge_cross_account",
        if edge.cross_account { "true" } else { "false" },
    )?;
    write_data(out, "edge_actions", &json_list(edge.actions().iter()))?;
    write_data(
        out,
        "edge_because",
        &json_objects(edge.because().iter().map(reason_compact)),
    )?;
    write_data(
        out,
        "edge_conditions",
        &json_objects(edge.conditions().iter().map(condition_compact)),
    )?;
    write_data(
        out,
        "edge_notes",
        &json_list(edge.notes().iter().map(ToString::to_string)),
    )?;
    out.write_all(b"    </edge>\n")
}

/// Writes the graph as a GraphML document, in the format of the module doc.
///
/// It has the shape of every graph exporter, and has no warnings to return.
///
/// # Errors
///
/// The first error `out` returns, as it is.
///
/// # Complexity
///
/// O((n + e) log(n + e)) time and O(n + e) space for n nodes and e edges: edges are sorted once,
/// and node numbers are looked up in an ordered map.
///
/// # Example
///
/// ```
/// let graph = rolechain::graph::AccessGraph::default();
/// let mut xml = Vec::new();
/// let warnings = rolechain::export::write_graphml(&graph, &mut xml)?;
/// let xml = String::from_utf8(xml).unwrap();
/// assert!(xml.contains("<graph id=\"rolechain\" edgedefault=\"directed\">"));
/// assert!(warnings.is_empty());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_graphml(graph: &AccessGraph, mut out: impl io::Write) -> io::Result<Vec<Diagnostic>> {
    let out = &mut out;
    let g = &graph.graph;
    out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")?;
    out.write_all(
        b"<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns \
         http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n",
    )?;
    for (keys, target) in [(&NODE_KEYS[..], "node"), (&EDGE_KEYS[..], "edge")] {
        for (id, name, ty) in keys {
            writeln!(
                out,
                "  <key id=\"{id}\" for=\"{target}\" attr.name=\"{name}\" attr.type=\"{ty}\"/>"
            )?;
        }
    }
    out.write_all(b"  <graph id=\"rolechain\" edgedefault=\"directed\">\n")?;

    // Node numbers follow id order, the order of the graph's index.
    let mut number: BTreeMap<NodeIndex, usize> = BTreeMap::new();
    for (k, &ix) in graph.index.values().enumerate() {
        number.insert(ix, k);
        write_node(out, k, &g[ix])?;
    }
    // INVARIANT: the index names every node, so both ends always have a number.
    let mut k = 0;
    for e in super::sorted_edges(graph) {
        let Some((from, to)) = g.edge_endpoints(e) else {
            continue;
        };
        let (Some(&from), Some(&to)) = (number.get(&from), number.get(&to)) else {
            continue;
        };
        write_edge(out, k, from, to, &g[e])?;
        k += 1;
    }
    out.write_all(b"  </graph>\n</graphml>\n")?;
    out.flush()?;
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str) -> String {
        let mut out = Vec::new();
        write_escaped(&mut out, text).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_is_escaped_for_xml() {
        assert_eq!(
            escaped("a<b>&\"c\"'d'"),
            "a&lt;b&gt;&amp;\"c\"'d'".to_owned()
        );
        assert_eq!(escaped("x\r\ny\tz"), "x&#13;\ny\tz");
        assert_eq!(escaped("a\u{1}b\0c é"), "a\u{fffd}b\u{fffd}c é");
    }

    #[test]
    fn key_ids_are_unique() {
        let mut ids: Vec<&str> = NODE_KEYS.iter().chain(&EDGE_KEYS).map(|k| k.0).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before);
    }
}
