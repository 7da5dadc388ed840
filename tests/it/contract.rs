//! A reader's mirror of the JSON contract (`rolechain.graph/v1` and `rolechain.paths/v1`, see
//! `export::json`), so the round-trip tests read an export back into graph and path values and
//! compare them with what was exported.
//!
//! The mirror is written from the contract, not from the exporter's DTOs: kinds, statuses, policy
//! types and effects are spelled out here as the contract spells them. Every object denies
//! unknown fields and every field is required (`null` included), so a field the exporter adds,
//! drops or renames fails the round trips until the contract and this mirror follow.

use std::sync::Arc;

use rolechain::analysis::{Hop, Path};
use rolechain::graph::hop::Note;
use rolechain::graph::{AccessGraph, Edge, EdgeKind, EdgeStatus, Node, NodeKind, Proof};
use rolechain::model::Effect;
use rolechain::policy::{OpenCondition, PolicyType, Reason};
use serde::{Deserialize, Deserializer};

/// Makes an `Option` field required: it must be present, as `null` or a value.
fn required<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    T::deserialize(d)
}

/// A `rolechain.graph/v1` document.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GraphDoc {
    schema: String,
    nodes: Vec<NodeDoc>,
    edges: Vec<EdgeDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeDoc {
    id: String,
    kind: NodeKindDoc,
    #[serde(deserialize_with = "required")]
    account: Option<String>,
    label: String,
    #[serde(deserialize_with = "required")]
    parent: Option<String>,
    in_snapshot: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EdgeDoc {
    from: String,
    to: String,
    kind: EdgeKindDoc,
    status: StatusDoc,
    cross_account: bool,
    actions: Vec<String>,
    because: Vec<ReasonDoc>,
    conditions: Vec<ConditionDoc>,
    notes: Vec<String>,
}

/// A `rolechain.paths/v1` document.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PathsDoc {
    schema: String,
    paths: Vec<PathDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PathDoc {
    source: String,
    target: String,
    actions: Vec<String>,
    status: StatusDoc,
    cross_account: bool,
    hops: Vec<HopDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HopDoc {
    from: String,
    to: String,
    kind: EdgeKindDoc,
    status: StatusDoc,
    because: Vec<ReasonDoc>,
    conditions: Vec<ConditionDoc>,
    notes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonDoc {
    policy_type: PolicyTypeDoc,
    policy: String,
    statement: String,
    effect: EffectDoc,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionDoc {
    operator: String,
    key: String,
    values: Vec<String>,
    policy: String,
    statement: String,
    effect: EffectDoc,
    policy_type: PolicyTypeDoc,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum NodeKindDoc {
    Account,
    Cluster,
    Service,
    TaskDefinition,
    Container,
    Role,
    User,
    ServicePrincipal,
    ExternalAccount,
    Anonymous,
    AnyPrincipal,
    Organization,
    Federated,
    Secret,
    SsmParameter,
    KmsKey,
    EcrRepository,
    S3Bucket,
    LogGroup,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum EdgeKindDoc {
    Runs,
    Defines,
    TaskRole,
    ExecutionRole,
    Assumes,
    Accesses,
    Injects,
    Pulls,
    InstanceRole,
    Escalates,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum StatusDoc {
    Allowed,
    Conditional,
    Denied,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum PolicyTypeDoc {
    Identity,
    Resource,
    Trust,
    Key,
    Boundary,
    Session,
    Scp,
    Rcp,
}

#[derive(Deserialize)]
enum EffectDoc {
    Allow,
    Deny,
}

impl From<NodeKindDoc> for NodeKind {
    fn from(kind: NodeKindDoc) -> Self {
        match kind {
            NodeKindDoc::Account => NodeKind::Account,
            NodeKindDoc::Cluster => NodeKind::Cluster,
            NodeKindDoc::Service => NodeKind::Service,
            NodeKindDoc::TaskDefinition => NodeKind::TaskDefinition,
            NodeKindDoc::Container => NodeKind::Container,
            NodeKindDoc::Role => NodeKind::Role,
            NodeKindDoc::User => NodeKind::User,
            NodeKindDoc::ServicePrincipal => NodeKind::ServicePrincipal,
            NodeKindDoc::ExternalAccount => NodeKind::ExternalAccount,
            NodeKindDoc::Anonymous => NodeKind::Anonymous,
            NodeKindDoc::AnyPrincipal => NodeKind::AnyPrincipal,
            NodeKindDoc::Organization => NodeKind::Organization,
            NodeKindDoc::Federated => NodeKind::Federated,
            NodeKindDoc::Secret => NodeKind::Secret,
            NodeKindDoc::SsmParameter => NodeKind::SsmParameter,
            NodeKindDoc::KmsKey => NodeKind::KmsKey,
            NodeKindDoc::EcrRepository => NodeKind::EcrRepository,
            NodeKindDoc::S3Bucket => NodeKind::S3Bucket,
            NodeKindDoc::LogGroup => NodeKind::LogGroup,
        }
    }
}

impl From<EdgeKindDoc> for EdgeKind {
    fn from(kind: EdgeKindDoc) -> Self {
        match kind {
            EdgeKindDoc::Runs => EdgeKind::Runs,
            EdgeKindDoc::Defines => EdgeKind::Defines,
            EdgeKindDoc::TaskRole => EdgeKind::TaskRole,
            EdgeKindDoc::ExecutionRole => EdgeKind::ExecutionRole,
            EdgeKindDoc::Assumes => EdgeKind::Assumes,
            EdgeKindDoc::Accesses => EdgeKind::Accesses,
            EdgeKindDoc::Injects => EdgeKind::Injects,
            EdgeKindDoc::Pulls => EdgeKind::Pulls,
            EdgeKindDoc::InstanceRole => EdgeKind::InstanceRole,
            EdgeKindDoc::Escalates => EdgeKind::Escalates,
        }
    }
}

impl From<StatusDoc> for EdgeStatus {
    fn from(status: StatusDoc) -> Self {
        match status {
            StatusDoc::Allowed => EdgeStatus::Allowed,
            StatusDoc::Conditional => EdgeStatus::Conditional,
            StatusDoc::Denied => EdgeStatus::Denied,
        }
    }
}

impl From<PolicyTypeDoc> for PolicyType {
    fn from(policy_type: PolicyTypeDoc) -> Self {
        match policy_type {
            PolicyTypeDoc::Identity => PolicyType::Identity,
            PolicyTypeDoc::Resource => PolicyType::Resource,
            PolicyTypeDoc::Trust => PolicyType::Trust,
            PolicyTypeDoc::Key => PolicyType::Key,
            PolicyTypeDoc::Boundary => PolicyType::Boundary,
            PolicyTypeDoc::Session => PolicyType::Session,
            PolicyTypeDoc::Scp => PolicyType::Scp,
            PolicyTypeDoc::Rcp => PolicyType::Rcp,
        }
    }
}

impl From<EffectDoc> for Effect {
    fn from(effect: EffectDoc) -> Self {
        match effect {
            EffectDoc::Allow => Effect::Allow,
            EffectDoc::Deny => Effect::Deny,
        }
    }
}

impl From<ReasonDoc> for Reason {
    fn from(r: ReasonDoc) -> Self {
        Reason {
            policy_type: r.policy_type.into(),
            policy: Arc::from(r.policy),
            statement: Arc::from(r.statement),
            effect: r.effect.into(),
        }
    }
}

impl From<ConditionDoc> for OpenCondition {
    fn from(c: ConditionDoc) -> Self {
        OpenCondition {
            operator: c.operator,
            key: c.key,
            values: c.values,
            policy_type: c.policy_type.into(),
            policy: Arc::from(c.policy),
            statement: Arc::from(c.statement),
            effect: c.effect.into(),
        }
    }
}

impl From<NodeDoc> for Node {
    fn from(n: NodeDoc) -> Self {
        Node {
            id: n.id,
            kind: n.kind.into(),
            account: n.account,
            label: n.label,
            parent: n.parent,
            in_snapshot: n.in_snapshot,
        }
    }
}

impl From<EdgeDoc> for (String, String, Edge) {
    fn from(e: EdgeDoc) -> Self {
        let edge = Edge {
            kind: e.kind.into(),
            status: e.status.into(),
            cross_account: e.cross_account,
            proof: Arc::new(Proof {
                actions: e.actions.into(),
                because: e.because.into_iter().map(Reason::from).collect(),
                conditions: e.conditions.into_iter().map(OpenCondition::from).collect(),
                notes: e.notes.into_iter().map(Note::Text).collect(),
            }),
        };
        (e.from, e.to, edge)
    }
}

impl From<HopDoc> for Hop {
    fn from(h: HopDoc) -> Self {
        Hop {
            from: h.from,
            to: h.to,
            kind: h.kind.into(),
            status: h.status.into(),
            because: h.because.into_iter().map(Reason::from).collect(),
            conditions: h.conditions.into_iter().map(OpenCondition::from).collect(),
            notes: h.notes.into_iter().map(Note::Text).collect(),
        }
    }
}

impl From<PathDoc> for Path {
    fn from(p: PathDoc) -> Self {
        Path {
            source: p.source,
            target: p.target,
            actions: p.actions,
            status: p.status.into(),
            cross_account: p.cross_account,
            hops: p.hops.into_iter().map(Hop::from).collect(),
        }
    }
}

/// A graph as plain values: its nodes in id order and its edges in (from, to, kind) order, the
/// order `rolechain.graph/v1` lists them in.
pub type GraphParts = (Vec<Node>, Vec<(String, String, Edge)>);

/// The nodes and edges of `graph`, sorted as the contract sorts them.
pub fn graph_parts(graph: &AccessGraph) -> GraphParts {
    let mut nodes: Vec<Node> = graph.graph.node_weights().cloned().collect();
    nodes.sort_by(|a, b| a.id.cmp(&b.id));
    let mut edges: Vec<(String, String, Edge)> = graph
        .graph
        .edge_indices()
        .map(|e| {
            let (a, b) = graph.graph.edge_endpoints(e).expect("an edge of the graph");
            let mut edge = graph.graph[e].clone();
            edge.proof = Arc::new(Proof {
                notes: worded(&edge.proof.notes),
                ..(*edge.proof).clone()
            });
            (graph.graph[a].id.clone(), graph.graph[b].id.clone(), edge)
        })
        .collect();
    edges.sort_by(|a, b| (&a.0, &a.1, a.2.kind).cmp(&(&b.0, &b.1, b.2.kind)));
    (nodes, edges)
}

/// Notes as a document holds them: their sentences.
pub fn worded(notes: &[Note]) -> Arc<[Note]> {
    notes.iter().map(|n| Note::Text(n.to_string())).collect()
}

/// A path as a document holds it: its notes as sentences.
pub fn as_written(path: &Path) -> Path {
    let mut path = path.clone();
    for hop in &mut path.hops {
        hop.notes = worded(&hop.notes);
    }
    path
}

/// Reads a `rolechain.graph/v1` document back into nodes and edges, in document order.
pub fn read_graph_json(text: &str) -> GraphParts {
    let doc: GraphDoc = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("the graph JSON does not follow the contract: {e}"));
    assert_eq!(doc.schema, "rolechain.graph/v1");
    (
        doc.nodes.into_iter().map(Node::from).collect(),
        doc.edges
            .into_iter()
            .map(<(String, String, Edge)>::from)
            .collect(),
    )
}

/// Reads a `rolechain.paths/v1` document back into paths, in document order.
pub fn read_paths_json(text: &str) -> Vec<Path> {
    let doc: PathsDoc = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("the paths JSON does not follow the contract: {e}"));
    assert_eq!(doc.schema, "rolechain.paths/v1");
    doc.paths.into_iter().map(Path::from).collect()
}

/// Reads `text`, the graph JSON of `graph`, back and checks that it holds exactly the graph:
/// every node's id, kind, account, label, parent and `in_snapshot`, and every edge's ends, kind,
/// status, `cross_account`, actions, proofs (`because`), open conditions and notes, in the
/// contract's order. `name` names the graph in failures.
#[track_caller]
pub fn assert_graph_json_round_trips(name: &str, graph: &AccessGraph, text: &str) {
    let (nodes, edges) = read_graph_json(text);
    let (want_nodes, want_edges) = graph_parts(graph);
    assert_eq!(nodes.len(), want_nodes.len(), "{name}: node count");
    for (got, want) in nodes.iter().zip(&want_nodes) {
        assert_eq!(got, want, "{name}: node `{}`", want.id);
    }
    assert_eq!(edges.len(), want_edges.len(), "{name}: edge count");
    for (got, want) in edges.iter().zip(&want_edges) {
        assert_eq!(
            got,
            want,
            "{name}: edge `{}` -> `{}` ({})",
            want.0,
            want.1,
            want.2.kind.as_str()
        );
    }
}
