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
use std::fmt::Write as _;

use petgraph::graph::NodeIndex;

use super::json::{condition_compact, reason_compact};
use crate::graph::{AccessGraph, Edge, Node};

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

/// Appends `text` escaped for XML character data.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if u32::from(c) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

/// Appends one `<data>` element.
fn push_data(out: &mut String, key: &str, value: &str) {
    let _ = write!(out, "      <data key=\"{key}\">");
    push_escaped(out, value);
    out.push_str("</data>\n");
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

fn push_node(out: &mut String, k: usize, node: &Node) {
    let _ = writeln!(out, "    <node id=\"n{k}\">");
    push_data(out, "node_id", &node.id);
    push_data(out, "kind", node.kind.as_str());
    if let Some(account) = &node.account {
        push_data(out, "account", account);
    }
    push_data(out, "label", &node.label);
    if let Some(parent) = &node.parent {
        push_data(out, "parent", parent);
    }
    push_data(
        out,
        "in_snapshot",
        if node.in_snapshot { "true" } else { "false" },
    );
    out.push_str("    </node>\n");
}

fn push_edge(out: &mut String, k: usize, from: usize, to: usize, edge: &Edge) {
    let _ = writeln!(
        out,
        "    <edge id=\"e{k}\" source=\"n{from}\" target=\"n{to}\">"
    );
    push_data(out, "edge_kind", edge.kind.as_str());
    push_data(out, "edge_status", edge.status.as_str());
    push_data(
        out,
        "edge_cross_account",
        if edge.cross_account { "true" } else { "false" },
    );
    push_data(out, "edge_actions", &json_list(edge.actions.iter()));
    push_data(
        out,
        "edge_because",
        &json_objects(edge.because.iter().map(reason_compact)),
    );
    push_data(
        out,
        "edge_conditions",
        &json_objects(edge.conditions.iter().map(condition_compact)),
    );
    push_data(out, "edge_notes", &json_list(edge.notes.iter()));
    out.push_str("    </edge>\n");
}

/// The graph as a GraphML document, in the format of the module doc.
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
/// let xml = rolechain::export::to_graphml(&graph);
/// assert!(xml.contains("<graph id=\"rolechain\" edgedefault=\"directed\">"));
/// ```
pub fn to_graphml(graph: &AccessGraph) -> String {
    let g = &graph.graph;
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(
        "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns \
         http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n",
    );
    for (keys, target) in [(&NODE_KEYS[..], "node"), (&EDGE_KEYS[..], "edge")] {
        for (id, name, ty) in keys {
            let _ = writeln!(
                out,
                "  <key id=\"{id}\" for=\"{target}\" attr.name=\"{name}\" attr.type=\"{ty}\"/>"
            );
        }
    }
    out.push_str("  <graph id=\"rolechain\" edgedefault=\"directed\">\n");

    // Node numbers follow id order, the order of the graph's index.
    let mut number: BTreeMap<NodeIndex, usize> = BTreeMap::new();
    for (k, &ix) in graph.index.values().enumerate() {
        number.insert(ix, k);
        push_node(&mut out, k, &g[ix]);
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
        push_edge(&mut out, k, from, to, &g[e]);
        k += 1;
    }
    out.push_str("  </graph>\n</graphml>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str) -> String {
        let mut out = String::new();
        push_escaped(&mut out, text);
        out
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
