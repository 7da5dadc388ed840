//! Graph-database exports against real engines: the openCypher export is loaded into an
//! embedded FalkorDB and read and queried back, and the GraphML export is read by networkx.
//!
//! The oracle is the JSON export: what an engine gives back, normalized into the shape of a
//! `rolechain.graph/v1` node or edge, must equal what `write_graph_json` writes for the same graph, so
//! every id, label and proof survives the trip, escapes included. The engines are installed by
//! `bash tools/install.sh` (`tools/graphdb/install.sh`); without them the checks that need them
//! are skipped with a line on stderr, or fail with `ROLECHAIN_REQUIRE_TOOLS=1`
//! (`support::tool_available`). The snapshots and determinism checks always run.

use rolechain::analysis;
use rolechain::collect;
use rolechain::export::GraphFormat;
use rolechain::graph::{self, AccessGraph, BuildOptions, EdgeKind, EdgeStatus, NodeKind};
use rolechain::model::Effect;
use rolechain::policy::PolicyType;
use serde_json::{Map, Value, json};

use crate::export::representative;
use crate::support::{
    self, GraphBuilder, load_cypher_into_falkordb, open_condition, read_graphml_with_networkx,
    reason,
};

const EXAMPLE: &str = "examples/three-account-org/snapshot.json";

/// The openCypher export of a graph.
fn cypher(graph: &AccessGraph) -> String {
    support::exported(graph, GraphFormat::Cypher).0
}

/// The GraphML export of a graph.
fn graphml(graph: &AccessGraph) -> String {
    support::exported(graph, GraphFormat::Graphml).0
}

fn example_graph() -> AccessGraph {
    let inventory = collect::load_file(&support::root().join(EXAMPLE)).unwrap();
    graph::build(&inventory, &BuildOptions::default())
}

/// Ids, labels and proofs made of what string escaping gets wrong: quotes of both kinds,
/// backslashes (also before `u` and `n`), line breaks, a `;` at the end of a line, tabs, other
/// control characters, non-ASCII letters and an astral-plane character, XML markup, Cypher
/// parameters and comments.
fn hostile() -> AccessGraph {
    const ROLE: &str = "arn:aws:iam::111111111111:role/q\"uo'te\\u0041\\n";
    const SECRET: &str = "arn:aws:secretsmanager:us-east-1:111111111111:secret:a;\nb//c-Xy";
    const CONTAINER: &str = "arn:aws:ecs:us-east-1:111111111111:task-definition/w:1#é 𝄞";
    let mut b = GraphBuilder::new();
    b.node(
        CONTAINER,
        NodeKind::Container,
        Some("111111111111"),
        "tab\there\r\nand\u{1}bell\u{7f} ]]> <x a=\"1\"/> &amp; $param {k: 1} `tick`",
        Some("arn:aws:ecs:us-east-1:111111111111:task-definition/w:1"),
    )
    .node(ROLE, NodeKind::Role, Some("111111111111"), "q\"uo'te", None)
    .node(SECRET, NodeKind::Secret, Some("111111111111"), "a;", None)
    .node(
        "ecs-tasks.amazonaws.com",
        NodeKind::ServicePrincipal,
        None,
        "",
        None,
    );
    b.edge(CONTAINER, ROLE, EdgeKind::TaskRole, EdgeStatus::Allowed)
        .because = vec![reason(PolicyType::Trust, ROLE, "Sid \"1\";", Effect::Allow)].into();
    {
        let e = b.edge(ROLE, SECRET, EdgeKind::Accesses, EdgeStatus::Conditional);
        e.actions = vec!["secretsmanager:GetSecretValue".to_owned()].into();
        e.conditions = vec![open_condition(
            "StringLike",
            "aws:PrincipalTag/team\\x",
            &["a*\"b\"", "line\nbreak", "ünï"],
            PolicyType::Resource,
            SECRET,
            "0",
        )]
        .into();
        e.notes = vec![
            "ends with a semicolon;".to_owned(),
            "two\nlines;".to_owned(),
        ]
        .into();
    }
    b.edge(
        "ecs-tasks.amazonaws.com",
        ROLE,
        EdgeKind::Assumes,
        EdgeStatus::Denied,
    )
    .notes = vec!["the trust policy names `ecs-tasks.amazonaws.com` under a condition".to_owned()]
        .into();
    b.finish()
}

/// `count` containers sharing one task role, so that one node kind and one edge kind each need
/// several `UNWIND` batches.
fn many_containers(count: usize) -> AccessGraph {
    const ROLE: &str = "arn:aws:iam::111111111111:role/shared";
    let mut b = GraphBuilder::new();
    b.node(ROLE, NodeKind::Role, Some("111111111111"), "shared", None);
    let ids: Vec<String> = (0..count)
        .map(|i| format!("arn:aws:ecs:us-east-1:111111111111:task-definition/t{i:04}:1#app"))
        .collect();
    for id in &ids {
        b.node(id, NodeKind::Container, Some("111111111111"), "app", None);
        b.edge(id, ROLE, EdgeKind::TaskRole, EdgeStatus::Allowed);
    }
    b.finish()
}

/// The nodes and edges of the graph's JSON export, the oracle.
fn expected(graph: &AccessGraph) -> (Vec<Value>, Vec<Value>) {
    let (text, _) = support::exported(graph, GraphFormat::Json);
    let mut json: Value = serde_json::from_str(&text).unwrap();
    let nodes = json["nodes"].as_array_mut().map(std::mem::take).unwrap();
    let mut edges = json["edges"].as_array_mut().map(std::mem::take).unwrap();
    sort_edges(&mut edges);
    (nodes, edges)
}

fn sort_edges(edges: &mut [Value]) {
    edges.sort_by(|a, b| {
        let key = |e: &Value| {
            (
                e["from"].as_str().unwrap_or_default().to_owned(),
                e["to"].as_str().unwrap_or_default().to_owned(),
                e["kind"].as_str().unwrap_or_default().to_owned(),
            )
        };
        key(a).cmp(&key(b))
    });
}

/// `task-definition` → `TaskDefinition`, `s3-bucket` → `S3Bucket`.
fn label_of(kind: &str) -> String {
    kind.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Takes `key` out of `object`, or `null` when it is absent.
fn take(object: &mut Map<String, Value>, key: &str) -> Value {
    object.remove(key).unwrap_or(Value::Null)
}

/// Parses each string of a list as JSON.
fn parse_each(list: &Value) -> Value {
    Value::Array(
        list.as_array()
            .unwrap_or_else(|| panic!("expected a list, found {list}"))
            .iter()
            .map(|s| serde_json::from_str(s.as_str().unwrap()).unwrap())
            .collect(),
    )
}

/// A node of `rolechain.graph/v1` from its properties, checking that none is left over.
fn graph_node(mut props: Map<String, Value>) -> Value {
    let node = json!({
        "id": take(&mut props, "id"),
        "kind": take(&mut props, "kind"),
        "account": take(&mut props, "account"),
        "label": take(&mut props, "label"),
        "parent": take(&mut props, "parent"),
        "in_snapshot": take(&mut props, "in_snapshot"),
    });
    assert!(props.is_empty(), "unexpected node properties: {props:?}");
    node
}

/// An edge of `rolechain.graph/v1` from its ends and properties, lists of proofs given as
/// `because` and `conditions` already parsed.
fn graph_edge(from: Value, to: Value, mut props: Map<String, Value>) -> Value {
    let edge = json!({
        "from": from,
        "to": to,
        "kind": take(&mut props, "kind"),
        "status": take(&mut props, "status"),
        "cross_account": take(&mut props, "cross_account"),
        "actions": take(&mut props, "actions"),
        "because": take(&mut props, "because"),
        "conditions": take(&mut props, "conditions"),
        "notes": take(&mut props, "notes"),
    });
    assert!(props.is_empty(), "unexpected edge properties: {props:?}");
    edge
}

/// What FalkorDB gave back, as `rolechain.graph/v1` nodes and edges; checks labels and types.
fn from_falkordb(loaded: &Value) -> (Vec<Value>, Vec<Value>) {
    let nodes = loaded["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let props = n["properties"].as_object().unwrap().clone();
            let kind = props["kind"].as_str().unwrap();
            let mut labels = vec!["RolechainNode".to_owned(), label_of(kind)];
            labels.sort();
            assert_eq!(n["labels"], json!(labels), "labels of {n}");
            graph_node(props)
        })
        .collect();
    let mut edges: Vec<Value> = loaded["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let mut props = e["properties"].as_object().unwrap().clone();
            let kind = props["kind"].as_str().unwrap();
            assert_eq!(
                e["type"].as_str().unwrap(),
                kind.to_uppercase().replace('-', "_"),
                "relationship type of {e}"
            );
            for key in ["because", "conditions"] {
                let parsed = parse_each(&props[key]);
                props.insert(key.to_owned(), parsed);
            }
            graph_edge(e["from"].clone(), e["to"].clone(), props)
        })
        .collect();
    sort_edges(&mut edges);
    (nodes, edges)
}

/// What networkx read, as `rolechain.graph/v1` nodes and edges.
fn from_networkx(read: &Value) -> (Vec<Value>, Vec<Value>) {
    assert_eq!(read["directed"], json!(true));
    let mut ids = std::collections::BTreeMap::new();
    let nodes = read["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let props: Map<String, Value> = n["attributes"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    let k = if k == "node_id" { "id" } else { k.as_str() };
                    (k.to_owned(), v.clone())
                })
                .collect();
            ids.insert(n["id"].as_str().unwrap().to_owned(), props["id"].clone());
            graph_node(props)
        })
        .collect();
    let mut edges: Vec<Value> = read["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let mut props = e["attributes"].as_object().unwrap().clone();
            let edge_id = take(&mut props, "id");
            assert!(
                edge_id.as_str().is_some_and(|id| id.starts_with('e')),
                "{e}"
            );
            for key in ["actions", "because", "conditions", "notes"] {
                let text = props[key].as_str().unwrap();
                let parsed: Value = serde_json::from_str(text).unwrap();
                props.insert(key.to_owned(), parsed);
            }
            let end = |key: &str| ids[e[key].as_str().unwrap()].clone();
            graph_edge(end("source"), end("target"), props)
        })
        .collect();
    sort_edges(&mut edges);
    (nodes, edges)
}

/// Replaces the characters XML 1.0 cannot hold with U+FFFD, as the GraphML export does.
fn xml_safe(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(
            s.chars()
                .map(|c| {
                    if u32::from(c) < 0x20 && !matches!(c, '\t' | '\n' | '\r') {
                        '\u{fffd}'
                    } else {
                        c
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(xml_safe).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, xml_safe(v))).collect())
        }
        other => other,
    }
}

#[test]
fn cypher_snapshot() {
    insta::assert_snapshot!("representative.cypher", cypher(&representative()));
}

#[test]
fn graphml_snapshot() {
    insta::assert_snapshot!("representative.graphml", graphml(&representative()));
}

#[test]
fn graphdb_exports_are_deterministic() {
    let (a, b) = (example_graph(), example_graph());
    assert_eq!(cypher(&a), cypher(&b));
    assert_eq!(graphml(&a), graphml(&b));
    assert_eq!(cypher(&representative()), cypher(&representative()));
    assert_eq!(graphml(&representative()), graphml(&representative()));
}

#[test]
fn cypher_loads_into_falkordb_with_every_value_intact() {
    for (name, graph) in [
        ("representative", representative()),
        ("hostile", hostile()),
        ("empty", AccessGraph::default()),
    ] {
        let Some(loaded) = load_cypher_into_falkordb(&cypher(&graph), &[], &[]) else {
            return;
        };
        assert_eq!(from_falkordb(&loaded), expected(&graph), "{name}");
    }
}

#[test]
fn cypher_loads_in_batches() {
    let graph = many_containers(1_200);
    let Some(loaded) = load_cypher_into_falkordb(
        &cypher(&graph),
        &[],
        &["MATCH (:Container)-[r:TASK_ROLE]->(:Role {label: \"shared\"}) RETURN count(r)"],
    ) else {
        return;
    };
    // Roles, three batches of containers, three of task-role edges.
    assert_eq!(loaded["statements"], json!(7));
    assert_eq!(loaded["nodes"].as_array().map(Vec::len), Some(1_201));
    assert_eq!(loaded["queries"], json!([[[1_200]]]));
}

/// The example's graph in FalkorDB has as many nodes and edges as the `AccessGraph`, and every
/// container → task role → assumed role → secret path that rolechain finds is found by Cypher.
#[test]
fn example_cypher_loads_into_falkordb_and_answers_path_queries() {
    let g = example_graph();
    let chains: Vec<Vec<String>> = analysis::reach(&g, &analysis::containers(&g), None, None)
        .into_iter()
        .filter(|p| {
            let kinds: Vec<EdgeKind> = p.hops.iter().map(|h| h.kind).collect();
            kinds == [EdgeKind::TaskRole, EdgeKind::Assumes, EdgeKind::Accesses]
                && g.node(&p.target).map(|(_, n)| n.kind) == Some(NodeKind::Secret)
        })
        .map(|p| {
            let mut ids = vec![p.source.clone()];
            ids.extend(p.hops.iter().map(|h| h.to.clone()));
            ids
        })
        .collect();
    assert!(!chains.is_empty(), "the example has a chain to a secret");

    let chain = "[c.id, r.id, q.id, s.id]";
    let pattern = "MATCH (c:Container)-[t:TASK_ROLE]->(r:Role)-[a:ASSUMES]->(q:Role)\
                   -[x:ACCESSES]->(s:Secret) \
                   WHERE t.status <> \"denied\" AND a.status <> \"denied\" \
                   AND x.status <> \"denied\"";
    let one = format!("{pattern} AND c.id = $from AND s.id = $to RETURN {chain}");
    let all = format!("{pattern} RETURN {chain} ORDER BY {chain}");
    let Some(loaded) = load_cypher_into_falkordb(
        &cypher(&g),
        &[("from", &chains[0][0]), ("to", &chains[0][3])],
        &[&one, &all],
    ) else {
        return;
    };
    assert_eq!(
        loaded["nodes"].as_array().map(Vec::len),
        Some(g.graph.node_count())
    );
    assert_eq!(
        loaded["edges"].as_array().map(Vec::len),
        Some(g.graph.edge_count())
    );
    assert_eq!(from_falkordb(&loaded), expected(&g));
    assert_eq!(loaded["queries"][0], json!([[chains[0]]]));
    // Cypher finds every chain; rolechain lists only the shortest path per source and target.
    let found = loaded["queries"][1].as_array().unwrap();
    for chain in &chains {
        assert!(
            found.contains(&json!([chain])),
            "{chain:?} not in {found:?}"
        );
    }
}

#[test]
fn graphml_reads_in_networkx_with_every_value_intact() {
    for (name, graph) in [
        ("representative", representative()),
        ("hostile", hostile()),
        ("empty", AccessGraph::default()),
        ("example", example_graph()),
    ] {
        let Some(read) = read_graphml_with_networkx(&graphml(&graph)) else {
            return;
        };
        assert_eq!(
            read["nodes"].as_array().map(Vec::len),
            Some(graph.graph.node_count()),
            "{name}"
        );
        assert_eq!(
            read["edges"].as_array().map(Vec::len),
            Some(graph.graph.edge_count()),
            "{name}"
        );
        let (nodes, edges) = expected(&graph);
        let nodes = nodes.into_iter().map(xml_safe).collect();
        let edges = edges.into_iter().map(xml_safe).collect();
        assert_eq!(from_networkx(&read), (nodes, edges), "{name}");
    }
}
