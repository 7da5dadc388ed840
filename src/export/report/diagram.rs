//! The report's Mermaid diagrams: nodes that stand for one graph node or for a group of them,
//! and edges that bundle every graph edge of one kind and status between the same two drawn
//! nodes into one labelled edge ("5 execution roles pull from 5 repositories").
//!
//! Shapes, classes, arrows and link styles are those of [`super::super::mermaid`], so a report
//! diagram reads like `graph --format mermaid`. Every diagram ends with a legend of the node
//! kinds and edge styles it uses, as the DOT export draws one.
//!
//! A diagram is rendered whole into a `String` before it is written: it is bounded by Mermaid's
//! limits, and the caller needs its size to decide whether to split it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use petgraph::graph::{EdgeIndex, NodeIndex};

use super::super::mermaid::{
    MAX_EDGES, MAX_TEXT_SIZE, arrow_of, brackets, class_name, class_style, escape, link_style_of,
    subgraph_style, utf16_units,
};
use super::super::{Line, display_label, subtitle};
use crate::graph::{AccessGraph, EdgeKind, EdgeStatus, NodeKind};

/// How a role is used, for grouping roles in overviews.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoleUse {
    /// A task role of some container.
    Task,
    /// An execution role of some task definition (and no task's role).
    Execution,
    /// The role of an EC2 container instance (and neither of the above).
    Instance,
    /// Any other role.
    Other,
}

impl RoleUse {
    /// The noun, singular or plural.
    pub fn noun(self, n: usize) -> &'static str {
        match (self, n == 1) {
            (RoleUse::Task, true) => "task role",
            (RoleUse::Task, false) => "task roles",
            (RoleUse::Execution, true) => "execution role",
            (RoleUse::Execution, false) => "execution roles",
            (RoleUse::Instance, true) => "instance role",
            (RoleUse::Instance, false) => "instance roles",
            (RoleUse::Other, true) => "other role",
            (RoleUse::Other, false) => "other roles",
        }
    }
}

/// A drawn node: one graph node, or a group of them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    /// One graph node, drawn as itself.
    Node(NodeIndex),
    /// An ECS cluster, standing for the task definitions and containers of its services.
    Cluster(NodeIndex),
    /// An ECS service, standing for its task definitions and containers.
    Service(NodeIndex),
    /// The task definitions and containers of an account that no service runs.
    Unserviced(String),
    /// The roles of an account used one way.
    Roles(String, RoleUse),
    /// The nodes of one kind of an account (users, secrets, repositories, …).
    Kind(String, NodeKind),
}

/// Every graph edge of one kind and status between two drawn nodes.
#[derive(Clone, Debug, Default)]
pub struct Bundle {
    /// The graph nodes the edges leave.
    pub from: BTreeSet<NodeIndex>,
    /// The graph nodes the edges reach.
    pub to: BTreeSet<NodeIndex>,
    /// How many graph edges it stands for.
    pub edges: usize,
    /// True when one of them crosses accounts.
    pub cross_account: bool,
}

/// A bundle's identity: its two ends, the edge kind and status.
pub type BundleKey = (Key, Key, EdgeKind, EdgeStatus);

/// Edges bundled between drawn nodes, to be rendered whole or in parts.
#[derive(Clone, Debug, Default)]
pub struct Bundles {
    /// The bundles, in key order.
    pub map: BTreeMap<BundleKey, Bundle>,
}

impl Bundles {
    /// Adds graph edge `e` between the drawn nodes `from` and `to`.
    pub fn add(&mut self, g: &AccessGraph, e: EdgeIndex, from: Key, to: Key) {
        let Some((a, b)) = g.graph.edge_endpoints(e) else {
            return;
        };
        let edge = &g.graph[e];
        let bundle = self
            .map
            .entry((from, to, edge.kind, edge.status))
            .or_default();
        bundle.from.insert(a);
        bundle.to.insert(b);
        bundle.edges += 1;
        bundle.cross_account |= edge.cross_account;
    }
}

impl Bundles {
    /// The same edges with every service replaced by its cluster (when the graph has the
    /// cluster), bundles that then share their ends merged.
    pub fn by_cluster(&self, g: &AccessGraph) -> Bundles {
        let coarse = |key: &Key| match key {
            Key::Service(ix) => g.graph[*ix]
                .parent
                .as_deref()
                .and_then(|p| g.node(p))
                .filter(|(_, n)| n.kind == NodeKind::Cluster)
                .map_or_else(|| key.clone(), |(c, _)| Key::Cluster(c)),
            Key::Node(_)
            | Key::Cluster(_)
            | Key::Unserviced(_)
            | Key::Roles(..)
            | Key::Kind(..) => key.clone(),
        };
        let mut out = Bundles::default();
        for ((from, to, kind, status), bundle) in &self.map {
            let merged = out
                .map
                .entry((coarse(from), coarse(to), *kind, *status))
                .or_default();
            merged.from.extend(&bundle.from);
            merged.to.extend(&bundle.to);
            merged.edges += bundle.edges;
            merged.cross_account |= bundle.cross_account;
        }
        out
    }
}

/// What the drawing needs to know beyond the graph.
pub struct Context<'a> {
    /// The graph.
    pub graph: &'a AccessGraph,
    /// Account names by id.
    pub names: &'a BTreeMap<String, String>,
    /// The accounts the snapshot holds.
    pub accounts: &'a BTreeSet<String>,
}

/// How bundles are labelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Labels {
    /// Counts of both ends: "5 execution roles pull from 5 repositories".
    Counted,
    /// The edge kind for an edge between two single nodes, counts otherwise.
    Kinds,
}

/// A rendered diagram: its text (without the fences) and its size as Mermaid measures it.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// The Mermaid text.
    pub text: String,
    /// Edges drawn, legend included.
    pub edges: usize,
    /// UTF-16 code units, as JavaScript counts `maxTextSize`.
    pub size: usize,
}

impl Rendered {
    /// True when Mermaid draws it at its default limits.
    pub fn fits(&self) -> bool {
        self.edges <= MAX_EDGES && self.size <= MAX_TEXT_SIZE
    }

    /// The sentence that says why it is not drawn.
    pub fn too_large(&self, what: &str) -> String {
        format!(
            "The diagram of {what} has {} edges and {} characters, more than Mermaid draws \
             ({MAX_EDGES} edges, {MAX_TEXT_SIZE} characters), so it is not drawn; the tables \
             below list everything it would show.",
            self.edges, self.size
        )
    }
}

/// The account a drawn node sits in, if any.
pub fn key_account(g: &AccessGraph, key: &Key) -> Option<String> {
    match key {
        Key::Node(ix) | Key::Cluster(ix) | Key::Service(ix) => g.graph[*ix].account.clone(),
        Key::Unserviced(a) | Key::Roles(a, _) | Key::Kind(a, _) => Some(a.clone()),
    }
}

/// The node kind whose shape and colour a drawn node takes.
fn key_kind(g: &AccessGraph, key: &Key) -> NodeKind {
    match key {
        Key::Node(ix) => g.graph[*ix].kind,
        Key::Cluster(_) => NodeKind::Cluster,
        Key::Service(_) => NodeKind::Service,
        Key::Unserviced(_) => NodeKind::TaskDefinition,
        Key::Roles(..) => NodeKind::Role,
        Key::Kind(_, kind) => *kind,
    }
}

/// The singular and plural noun of a node kind.
pub fn kind_noun(kind: NodeKind, n: usize) -> &'static str {
    let (one, many) = match kind {
        NodeKind::Account => ("account principal", "account principals"),
        NodeKind::Cluster => ("cluster", "clusters"),
        NodeKind::Service => ("service", "services"),
        NodeKind::TaskDefinition => ("task definition", "task definitions"),
        NodeKind::Container => ("container", "containers"),
        NodeKind::Role => ("role", "roles"),
        NodeKind::User => ("user", "users"),
        NodeKind::ServicePrincipal => ("service principal", "service principals"),
        NodeKind::ExternalAccount => ("external account", "external accounts"),
        NodeKind::Anonymous => ("anonymous source", "anonymous sources"),
        NodeKind::AnyPrincipal => ("any-principal source", "any-principal sources"),
        NodeKind::Organization => ("organization", "organizations"),
        NodeKind::Federated => ("federated provider", "federated providers"),
        NodeKind::Secret => ("secret", "secrets"),
        NodeKind::SsmParameter => ("parameter", "parameters"),
        NodeKind::KmsKey => ("KMS key", "KMS keys"),
        NodeKind::EcrRepository => ("repository", "repositories"),
        NodeKind::S3Bucket => ("bucket", "buckets"),
        NodeKind::LogGroup => ("log group", "log groups"),
    };
    if n == 1 { one } else { many }
}

/// The verb of an edge kind toward a target kind, singular and plural subject.
fn verb(kind: EdgeKind, target: NodeKind) -> (&'static str, &'static str) {
    match kind {
        EdgeKind::Runs => ("runs", "run"),
        EdgeKind::Defines => ("defines", "define"),
        EdgeKind::TaskRole => ("runs as", "run as"),
        EdgeKind::ExecutionRole => ("launches with", "launch with"),
        EdgeKind::Assumes => ("assumes", "assume"),
        EdgeKind::Accesses => match target {
            NodeKind::EcrRepository => ("pulls from", "pull from"),
            NodeKind::KmsKey => ("decrypts with", "decrypt with"),
            _ => ("reads", "read"),
        },
        EdgeKind::Injects => ("is injected with", "are injected with"),
        EdgeKind::Pulls => ("pulls from", "pull from"),
        EdgeKind::InstanceRole => ("may run as", "may run as"),
        EdgeKind::Escalates => ("can run code as", "can run code as"),
    }
}

/// The noun of the graph nodes at one end of a bundle.
fn end_noun(ctx: &Context<'_>, key: &Key, members: &BTreeSet<NodeIndex>) -> &'static str {
    let n = members.len();
    let kinds: BTreeSet<NodeKind> = members.iter().map(|&m| ctx.graph.graph[m].kind).collect();
    match (key, kinds.len()) {
        (Key::Roles(_, role_use), _) => role_use.noun(n),
        (_, 1) => kinds.first().map_or("nodes", |&kind| kind_noun(kind, n)),
        _ => {
            if n == 1 {
                "node"
            } else {
                "nodes"
            }
        }
    }
}

/// The status mark of a label: ` (denied)`, ` (if)` or nothing.
fn status_mark(status: EdgeStatus) -> &'static str {
    match status {
        EdgeStatus::Denied => " (denied)",
        EdgeStatus::Conditional => " (if)",
        EdgeStatus::Allowed => "",
    }
}

fn bundle_label(ctx: &Context<'_>, key: &BundleKey, bundle: &Bundle, labels: Labels) -> String {
    let (from, to, kind, status) = key;
    let line = Line::of_kind(*kind);
    let single = bundle.from.len() == 1 && bundle.to.len() == 1;
    if labels == Labels::Kinds && single {
        if line == Line::Structure {
            return String::new();
        }
        return format!("{}{}", kind.as_str(), status_mark(*status));
    }
    let target = bundle
        .to
        .first()
        .map_or(NodeKind::Secret, |&t| ctx.graph.graph[t].kind);
    let (one, many) = verb(*kind, target);
    format!(
        "{} {} {} {} {}{}",
        bundle.from.len(),
        end_noun(ctx, from, &bundle.from),
        if bundle.from.len() == 1 { one } else { many },
        bundle.to.len(),
        end_noun(ctx, to, &bundle.to),
        status_mark(*status)
    )
}

/// The two lines of a drawn node.
fn key_label(ctx: &Context<'_>, key: &Key, members: &BTreeSet<NodeIndex>) -> (String, String) {
    let g = &ctx.graph.graph;
    let n = members.len();
    match key {
        Key::Node(ix) => (display_label(&g[*ix]).to_owned(), subtitle(&g[*ix])),
        Key::Service(ix) => {
            let node = &g[*ix];
            let cluster = node
                .parent
                .as_deref()
                .and_then(|p| ctx.graph.node(p))
                .map_or("", |(_, c)| display_label(c));
            let containers = members
                .iter()
                .filter(|&&m| g[m].kind == NodeKind::Container)
                .count();
            let mut second = format!("ECS service in {cluster}");
            if containers > 0 {
                let _ = write!(
                    second,
                    ", {containers} {}",
                    kind_noun(NodeKind::Container, containers)
                );
            }
            (display_label(node).to_owned(), second)
        }
        Key::Cluster(ix) => {
            let containers = members
                .iter()
                .filter(|&&m| g[m].kind == NodeKind::Container)
                .count();
            let mut second = "ECS cluster".to_owned();
            if containers > 0 {
                let _ = write!(
                    second,
                    ", {containers} {}",
                    kind_noun(NodeKind::Container, containers)
                );
            }
            (display_label(&g[*ix]).to_owned(), second)
        }
        Key::Unserviced(_) => (
            "task definitions no service runs".to_owned(),
            format!("{n} {}", if n == 1 { "node" } else { "nodes" }),
        ),
        Key::Roles(_, role_use) => (format!("{n} {}", role_use.noun(n)), "role".to_owned()),
        Key::Kind(_, kind) => (
            format!("{n} {}", kind_noun(*kind, n)),
            kind.as_str().to_owned(),
        ),
    }
}

/// The title of an account subgraph.
fn account_title(ctx: &Context<'_>, account: &str) -> String {
    let mut title = match ctx.names.get(account) {
        Some(name) => format!("{name} ({account})"),
        None => format!("account {account}"),
    };
    if !ctx.accounts.contains(account) {
        title.push_str(", outside the snapshot");
    }
    title
}

/// Renders bundles (all of them, or those `keep` admits) as a Mermaid flowchart with a legend.
///
/// `boxed` names drawn nodes to nest in a box titled `box_title` inside their account (a
/// service's task definitions and containers on its page).
pub fn render<'b>(
    ctx: &Context<'_>,
    bundles: impl IntoIterator<Item = (&'b BundleKey, &'b Bundle)>,
    labels: Labels,
    boxed: Option<(&BTreeSet<Key>, &str)>,
) -> Rendered {
    let g = ctx.graph;
    let bundles: Vec<(&BundleKey, &Bundle)> = bundles.into_iter().collect();
    // Members of each drawn node, over the bundles drawn.
    let mut members: BTreeMap<&Key, BTreeSet<NodeIndex>> = BTreeMap::new();
    for ((from, to, _, _), bundle) in &bundles {
        members.entry(from).or_default().extend(&bundle.from);
        members.entry(to).or_default().extend(&bundle.to);
    }
    let ids: BTreeMap<&Key, String> = members
        .keys()
        .enumerate()
        .map(|(i, &k)| (k, format!("g{i}")))
        .collect();

    // Drawn nodes by account (`None`: no account), outside sources apart.
    let mut by_account: BTreeMap<Option<String>, Vec<&Key>> = BTreeMap::new();
    for &key in members.keys() {
        by_account.entry(key_account(g, key)).or_default().push(key);
    }

    let mut out = String::from("flowchart LR\n");
    let mut subgraph_classes: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let node_line = |out: &mut String, key: &Key, indent: usize| {
        let (first, second) = key_label(ctx, key, &members[key]);
        let (open, close) = brackets(key_kind(g, key));
        let _ = writeln!(
            out,
            "{:indent$}{}{open}\"{}<br/><small>{}</small>\"{close}",
            "",
            ids[key],
            escape(&first),
            escape(&second),
        );
    };
    for (i, (account, keys)) in by_account.iter().enumerate() {
        let Some(account) = account else { continue };
        let name = format!("acct{i}");
        let _ = writeln!(
            out,
            "  subgraph {name}[\"{}\"]",
            escape(&account_title(ctx, account))
        );
        let class = if ctx.accounts.contains(account) {
            "account"
        } else {
            "outside_account"
        };
        subgraph_classes.entry(class).or_default().push(name);
        let (inner, rest): (Vec<&Key>, Vec<&Key>) = keys
            .iter()
            .partition(|k| boxed.is_some_and(|(set, _)| set.contains(**k)));
        if let (Some((_, title)), false) = (boxed, inner.is_empty()) {
            let _ = writeln!(out, "    subgraph box{i}[\"{}\"]", escape(title));
            subgraph_classes
                .entry("ecs_service")
                .or_default()
                .push(format!("box{i}"));
            for key in inner {
                node_line(&mut out, key, 6);
            }
            out.push_str("    end\n");
        }
        for key in rest {
            node_line(&mut out, key, 4);
        }
        out.push_str("  end\n");
    }
    if let Some(keys) = by_account.get(&None) {
        let (outside, loose): (Vec<&Key>, Vec<&Key>) =
            keys.iter().partition(|k| key_kind(g, k).is_outside());
        for key in loose {
            node_line(&mut out, key, 2);
        }
        if !outside.is_empty() {
            out.push_str("  subgraph outside[\"outside the snapshot\"]\n");
            subgraph_classes
                .entry("outside_account")
                .or_default()
                .push("outside".to_owned());
            for key in outside {
                node_line(&mut out, key, 4);
            }
            out.push_str("  end\n");
        }
    }

    // Edges, then the legend's, so that link indices count the edges in order.
    let mut styles: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut count = 0;
    let mut used: BTreeSet<(Line, EdgeStatus, bool)> = BTreeSet::new();
    for (key, bundle) in &bundles {
        let (from, to, kind, status) = key;
        let line = Line::of_kind(*kind);
        let label = bundle_label(ctx, key, bundle, labels);
        let label = if label.is_empty() {
            String::new()
        } else {
            format!("|\"{}\"|", escape(&label))
        };
        let cross = bundle.cross_account && line != Line::Structure;
        let _ = writeln!(
            out,
            "  {} {}{label} {}",
            ids[from],
            arrow_of(line, *status, cross),
            ids[to]
        );
        if let Some(style) = link_style_of(line, *status, cross) {
            styles.entry(style).or_default().push(count);
        }
        used.insert((line, *status, cross));
        count += 1;
    }

    // The legend: a sample of each node kind drawn, and of each edge style drawn.
    let kinds: BTreeSet<NodeKind> = members.keys().map(|k| key_kind(g, k)).collect();
    out.push_str("  subgraph legend[\"legend\"]\n");
    subgraph_classes
        .entry("legend")
        .or_default()
        .push("legend".to_owned());
    let mut by_kind: BTreeMap<NodeKind, Vec<String>> = BTreeMap::new();
    for (i, kind) in kinds.iter().enumerate() {
        let (open, close) = brackets(*kind);
        let id = format!("lk{i}");
        let _ = writeln!(out, "    {id}{open}\"{}\"{close}", escape(kind.as_str()));
        by_kind.entry(*kind).or_default().push(id);
    }
    let samples = legend_samples(&used);
    let mut points = Vec::new();
    for (i, (text, line, status, cross)) in samples.iter().enumerate() {
        let _ = writeln!(
            out,
            "    le{i}a[\" \"] {}|\"{}\"| le{i}b[\" \"]",
            arrow_of(*line, *status, *cross),
            escape(text)
        );
        points.push(format!("le{i}a"));
        points.push(format!("le{i}b"));
        if let Some(style) = link_style_of(*line, *status, *cross) {
            styles.entry(style).or_default().push(count);
        }
        count += 1;
    }
    out.push_str("  end\n");

    for (key, id) in &ids {
        by_kind
            .entry(key_kind(g, key))
            .or_default()
            .push(id.clone());
    }
    for (kind, list) in &by_kind {
        let name = class_name(*kind);
        let _ = writeln!(out, "  classDef {name} {}", class_style(*kind));
        let _ = writeln!(out, "  class {} {name}", list.join(","));
    }
    let outside: Vec<&str> = members
        .iter()
        .filter(|(k, _)| matches!(k, Key::Node(ix) if !g.graph[*ix].in_snapshot))
        .map(|(k, _)| ids[k].as_str())
        .collect();
    if !outside.is_empty() {
        out.push_str("  classDef outside stroke-dasharray:4 3,fill:#ffffff\n");
        let _ = writeln!(out, "  class {} outside", outside.join(","));
    }
    if !points.is_empty() {
        out.push_str(
            "  classDef legend_point fill:#ffffff,stroke:#ffffff,color:#ffffff,font-size:4px\n",
        );
        let _ = writeln!(out, "  class {} legend_point", points.join(","));
    }
    for (class, list) in &subgraph_classes {
        let style = if *class == "legend" {
            "fill:#ffffff,stroke:#c8c8c8,color:#1a1a1a"
        } else {
            subgraph_style(class)
        };
        let _ = writeln!(out, "  classDef {class} {style}");
        let _ = writeln!(out, "  class {} {class}", list.join(","));
    }
    for (style, indices) in &styles {
        let list: Vec<String> = indices.iter().map(usize::to_string).collect();
        let _ = writeln!(out, "  linkStyle {} {style}", list.join(","));
    }
    let size = utf16_units(out.as_bytes());
    Rendered {
        text: out,
        edges: count,
        size,
    }
}

/// The legend's edge samples for the styles used: (text, line, status, cross-account).
fn legend_samples(
    used: &BTreeSet<(Line, EdgeStatus, bool)>,
) -> Vec<(&'static str, Line, EdgeStatus, bool)> {
    let any = |f: &dyn Fn(&(Line, EdgeStatus, bool)) -> bool| used.iter().any(f);
    let mut samples = Vec::new();
    if any(&|u| u.0 == Line::Structure) {
        samples.push(("structure", Line::Structure, EdgeStatus::Allowed, false));
    }
    if any(&|u| u.0 == Line::Trust && !u.2 && u.1 != EdgeStatus::Denied) {
        samples.push(("trust", Line::Trust, EdgeStatus::Allowed, false));
    }
    if any(&|u| u.0 == Line::Permission && !u.2 && u.1 != EdgeStatus::Denied) {
        samples.push(("permission", Line::Permission, EdgeStatus::Allowed, false));
    }
    if any(&|u| u.2 && u.1 != EdgeStatus::Denied) {
        samples.push(("cross-account", Line::Permission, EdgeStatus::Allowed, true));
    }
    if any(&|u| u.1 == EdgeStatus::Conditional) {
        samples.push((
            "conditional",
            Line::Permission,
            EdgeStatus::Conditional,
            false,
        ));
    }
    if any(&|u| u.1 == EdgeStatus::Denied) {
        samples.push(("denied", Line::Permission, EdgeStatus::Denied, false));
    }
    samples
}
