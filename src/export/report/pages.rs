//! The report's page writers, one per kind of page, each into an [`io::Write`] it is given.

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use petgraph::Direction;
use petgraph::graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;

use super::diagram::{self, Bundles, Context, Key, Labels, Rendered, key_account};
use super::{DOCS_DIR, MERMAID_INIT, MERMAID_URL, Report, slug_part};
use crate::analysis::{Attempt, Finding, Path, Route, Severity, plane_str};
use crate::graph::{AccessGraph, EdgeKind, EdgeStatus, NodeKind};

/// A code span for Markdown text and table cells: pipes escaped (GFM and Python-Markdown read
/// `\|` in a table cell as a pipe), line breaks as spaces, and a longer fence around backticks.
fn code(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let text = text.replace('|', "\\|");
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

/// Escapes text for a Markdown link's label or a table cell outside code spans.
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The display label of a node id: the node's label, or the id.
fn label(g: &AccessGraph, id: &str) -> String {
    g.node(id).map_or_else(
        || id.to_owned(),
        |(_, n)| {
            if n.label.is_empty() {
                n.id.clone()
            } else {
                n.label.clone()
            }
        },
    )
}

fn label_of(g: &AccessGraph, ix: NodeIndex) -> String {
    let n = &g.graph[ix];
    if n.label.is_empty() {
        n.id.clone()
    } else {
        n.label.clone()
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Writes a diagram in a fence, or the sentence that says it is too large.
fn diagram_block(out: &mut impl io::Write, rendered: &Rendered, what: &str) -> io::Result<()> {
    if rendered.fits() {
        writeln!(out, "```mermaid\n{}```\n", rendered.text)
    } else {
        writeln!(out, "{}\n", rendered.too_large(what))
    }
}

impl Report<'_> {
    fn context(&self) -> Context<'_> {
        Context {
            graph: self.graph,
            names: &self.names,
            accounts: &self.account_ids,
        }
    }

    fn account_title(&self, id: &str) -> String {
        match self.names.get(id) {
            Some(name) => format!("{name} ({id})"),
            None => format!("account {id}"),
        }
    }

    /// The drawn nodes a graph node belongs to in an overview.
    pub(super) fn overview_keys(&self, ix: NodeIndex) -> Vec<Key> {
        let node = &self.graph.graph[ix];
        let account = node.account.clone();
        match node.kind {
            NodeKind::Container | NodeKind::TaskDefinition => match self.services_of.get(&ix) {
                Some(list) => list
                    .iter()
                    .map(|&i| Key::Service(self.services[i].node))
                    .collect(),
                None => vec![account.map_or(Key::Node(ix), Key::Unserviced)],
            },
            NodeKind::Role => {
                let role_use = self
                    .role_use
                    .get(&ix)
                    .copied()
                    .unwrap_or(diagram::RoleUse::Other);
                vec![account.map_or(Key::Node(ix), |a| Key::Roles(a, role_use))]
            }
            NodeKind::User
            | NodeKind::Secret
            | NodeKind::SsmParameter
            | NodeKind::KmsKey
            | NodeKind::EcrRepository
            | NodeKind::S3Bucket
            | NodeKind::LogGroup => {
                vec![account.map_or(Key::Node(ix), |a| Key::Kind(a, node.kind))]
            }
            NodeKind::Account
            | NodeKind::Cluster
            | NodeKind::Service
            | NodeKind::ServicePrincipal
            | NodeKind::ExternalAccount
            | NodeKind::Anonymous
            | NodeKind::AnyPrincipal
            | NodeKind::Organization
            | NodeKind::Federated => vec![Key::Node(ix)],
        }
    }
}

/// True for the edge kinds an overview draws: every kind but the ECS structure, which the
/// grouping already shows.
pub(super) fn in_overview(kind: EdgeKind) -> bool {
    match kind {
        EdgeKind::Runs | EdgeKind::Defines => false,
        EdgeKind::TaskRole
        | EdgeKind::ExecutionRole
        | EdgeKind::Assumes
        | EdgeKind::Accesses
        | EdgeKind::Injects
        | EdgeKind::Pulls
        | EdgeKind::InstanceRole
        | EdgeKind::Escalates => true,
    }
}

/// Every account's overview bundles: each edge an overview draws, between the groups of its
/// ends, filed under each account of the snapshot that one of its ends belongs to.
pub(super) fn overviews(report: &Report<'_>) -> BTreeMap<String, Bundles> {
    let g = report.graph;
    let mut keys: BTreeMap<NodeIndex, Vec<Key>> = BTreeMap::new();
    let mut out: BTreeMap<String, Bundles> = BTreeMap::new();
    for e in g.graph.edge_references() {
        if !in_overview(e.weight().kind) {
            continue;
        }
        for n in [e.source(), e.target()] {
            keys.entry(n).or_insert_with(|| report.overview_keys(n));
        }
        for from in &keys[&e.source()] {
            for to in &keys[&e.target()] {
                let accounts: BTreeSet<String> = [key_account(g, from), key_account(g, to)]
                    .into_iter()
                    .flatten()
                    .filter(|a| report.account_ids.contains(a))
                    .collect();
                for account in accounts {
                    out.entry(account)
                        .or_default()
                        .add(g, e.id(), from.clone(), to.clone());
                }
            }
        }
    }
    out
}

/// Writes `index.md`: the accounts, the services, the findings counted by severity, and links
/// to every page.
///
/// # Errors
/// The first error `out` returns, as it is.
pub fn write_index(report: &Report<'_>, mut out: impl io::Write) -> io::Result<()> {
    let out = &mut out;
    writeln!(out, "# rolechain report\n")?;
    writeln!(
        out,
        "{}, {}, {}.\n",
        plural(report.accounts.len(), "account", "accounts"),
        plural(report.services.len(), "ECS service", "ECS services"),
        plural(report.findings.findings.len(), "finding", "findings"),
    )?;
    writeln!(out, "- [Findings](findings.md)")?;
    writeln!(
        out,
        "- [Who can reach each secret, parameter and KMS key](who-can.md)\n"
    )?;

    writeln!(out, "## Findings by severity\n")?;
    writeln!(out, "| Severity | Findings |\n|---|---:|")?;
    for severity in Severity::ALL {
        writeln!(
            out,
            "| {} | {} |",
            severity.as_str(),
            report.findings.count(severity)
        )?;
    }

    writeln!(out, "\n## Accounts\n")?;
    writeln!(
        out,
        "| Account | ECS services | Roles | Resources |\n|---|---:|---:|---:|"
    )?;
    for account in &report.accounts {
        let nodes = report.of_account(&account.id);
        writeln!(
            out,
            "| [{}](accounts/{}.md) | {} | {} | {} |",
            plain(&account.title()),
            slug_part(&account.id),
            nodes.services.len(),
            nodes.roles.len(),
            nodes.resources.len(),
        )?;
    }

    writeln!(out, "\n## ECS services\n")?;
    if report.services.is_empty() {
        writeln!(out, "The snapshot has no ECS service.")?;
    } else {
        writeln!(
            out,
            "| Service | Cluster | Account | Containers |\n|---|---|---|---:|"
        )?;
        for (i, s) in report.services.iter().enumerate() {
            writeln!(
                out,
                "| [{}]({}) | {} | {} | {} |",
                plain(&s.name),
                report.service_page(i),
                code(&s.cluster),
                plain(&report.account_title(&s.account)),
                s.containers.len()
            )?;
        }
    }
    out.flush()
}

/// The sentence under an overview that says how to read it.
const OVERVIEW_NOTE: &str = "Each node stands for an ECS cluster (the task definitions and \
containers of its services), for the roles of an account used one way, or for the resources of one kind of an \
account; each edge stands for every edge of one kind and status between two of them, and its \
label counts both ends.";

/// Writes an account's page: its overview diagram (split when Mermaid could not draw it whole),
/// its services, roles and resources.
///
/// # Errors
/// The first error `out` returns, as it is.
pub fn write_account(
    report: &Report<'_>,
    account: &str,
    mut out: impl io::Write,
) -> io::Result<()> {
    let out = &mut out;
    let g = report.graph;
    let ctx = report.context();
    writeln!(out, "# {}\n", plain(&report.account_title(account)))?;
    writeln!(
        out,
        "[Index](../index.md) · [Findings](../findings.md) · [Who can](../who-can.md)\n"
    )?;

    writeln!(out, "## Overview\n")?;
    writeln!(out, "{OVERVIEW_NOTE}\n")?;
    let empty = Bundles::default();
    let bundles = report.overview.get(account).unwrap_or(&empty);
    if bundles.map.is_empty() {
        writeln!(out, "No edge touches this account.\n")?;
    } else {
        let whole = diagram::render(&ctx, &bundles.by_cluster(g).map, Labels::Counted, None);
        if whole.fits() {
            diagram_block(out, &whole, "this account")?;
        } else {
            writeln!(
                out,
                "The overview has {} edges and {} characters, more than Mermaid draws in one \
                 diagram, so it is drawn in parts: one per ECS service of the account, then one \
                 per account it has edges with.\n",
                whole.edges, whole.size
            )?;
            // Each service's bundles, then the rest by the other end's account.
            let mut rest: BTreeMap<Option<String>, Vec<_>> = BTreeMap::new();
            let mut per_service: BTreeMap<&Key, Vec<_>> = BTreeMap::new();
            for (key, bundle) in &bundles.map {
                let (from, to, _, _) = key;
                let own = |k: &Key| {
                    matches!(k, Key::Service(_)) && key_account(g, k).as_deref() == Some(account)
                };
                if own(from) {
                    per_service.entry(from).or_default().push((key, bundle));
                } else if own(to) {
                    per_service.entry(to).or_default().push((key, bundle));
                } else {
                    let (fa, ta) = (key_account(g, from), key_account(g, to));
                    let other = if fa.as_deref() == Some(account) {
                        ta
                    } else {
                        fa
                    };
                    rest.entry(other).or_default().push((key, bundle));
                }
            }
            for (key, list) in per_service {
                let title = match key {
                    Key::Service(ix) => format!("ECS service {}", label_of(g, *ix)),
                    _ => String::from("ECS service"),
                };
                writeln!(out, "### {}\n", plain(&title))?;
                let part = diagram::render(&ctx, list, Labels::Counted, None);
                diagram_block(out, &part, &title)?;
            }
            for (other, list) in rest {
                let title = match other.as_deref() {
                    Some(a) if a == account => format!("Within {}", report.account_title(a)),
                    Some(a) => format!("With {}", report.account_title(a)),
                    None => String::from("With sources of no account"),
                };
                writeln!(out, "### {}\n", plain(&title))?;
                let part = diagram::render(&ctx, list, Labels::Counted, None);
                diagram_block(out, &part, &title)?;
            }
        }
    }

    let nodes = report.of_account(account);
    let services: Vec<(usize, &super::Service)> = nodes
        .services
        .iter()
        .map(|&i| (i, &report.services[i]))
        .collect();
    writeln!(out, "## ECS services\n")?;
    if services.is_empty() {
        writeln!(out, "The account runs no ECS service.\n")?;
    } else {
        writeln!(
            out,
            "| Service | Cluster | Containers | Task roles | Execution roles |\n|---|---|---:|---|---|"
        )?;
        for (i, s) in services {
            let (task, execution) = service_roles(report, s);
            writeln!(
                out,
                "| [{}](../{}) | {} | {} | {} | {} |",
                plain(&s.name),
                report.service_page(i),
                code(&s.cluster),
                s.containers.len(),
                role_list(g, &task),
                role_list(g, &execution),
            )?;
        }
        writeln!(out)?;
    }

    let roles = &nodes.roles;
    writeln!(out, "## Roles\n")?;
    if roles.is_empty() {
        writeln!(out, "The snapshot holds no role of this account.\n")?;
    } else {
        writeln!(out, "| Role | Use |\n|---|---|")?;
        for &ix in roles {
            let role_use = report
                .role_use
                .get(&ix)
                .copied()
                .unwrap_or(diagram::RoleUse::Other);
            writeln!(out, "| {} | {} |", code(&label_of(g, ix)), role_use.noun(1))?;
        }
        writeln!(out)?;
    }

    let resources = &nodes.resources;
    writeln!(out, "## Resources\n")?;
    if resources.is_empty() {
        writeln!(out, "The snapshot holds no resource of this account.")?;
    } else {
        if resources
            .iter()
            .any(|&ix| super::in_who_can(g.graph[ix].kind))
        {
            writeln!(
                out,
                "Who reaches each secret, parameter and key: [Who can](../{}).\n",
                who_can_page(account)
            )?;
        }
        writeln!(out, "| Resource | Kind |\n|---|---|")?;
        for &ix in resources {
            writeln!(
                out,
                "| {} | {} |",
                code(&label_of(g, ix)),
                g.graph[ix].kind.as_str()
            )?;
        }
    }
    out.flush()
}

/// Roles with the status of the trust edge that reaches each.
type Roles = BTreeSet<(NodeIndex, EdgeStatus)>;

/// A service's task roles (from its containers) and execution roles (from its task
/// definitions), each with the status of the trust edge.
fn service_roles(report: &Report<'_>, s: &super::Service) -> (Roles, Roles) {
    let g = &report.graph.graph;
    let mut task = BTreeSet::new();
    let mut execution = BTreeSet::new();
    for &n in s.containers.iter().chain(&s.task_definitions) {
        for e in g.edges_directed(n, Direction::Outgoing) {
            let entry = (e.target(), e.weight().status);
            match e.weight().kind {
                EdgeKind::TaskRole => {
                    task.insert(entry);
                }
                EdgeKind::ExecutionRole => {
                    execution.insert(entry);
                }
                EdgeKind::Runs
                | EdgeKind::Defines
                | EdgeKind::Assumes
                | EdgeKind::Accesses
                | EdgeKind::Injects
                | EdgeKind::Pulls
                | EdgeKind::InstanceRole
                | EdgeKind::Escalates => {}
            }
        }
    }
    (task, execution)
}

fn role_list(g: &AccessGraph, roles: &Roles) -> String {
    if roles.is_empty() {
        return "none".to_owned();
    }
    roles
        .iter()
        .map(|&(ix, status)| match status {
            EdgeStatus::Allowed => code(&label_of(g, ix)),
            EdgeStatus::Conditional | EdgeStatus::Denied => {
                format!("{} ({})", code(&label_of(g, ix)), status.as_str())
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Hops in one line: `task-role` `web-api-task` → `assumes` `data` → `accesses`. Each hop is its
/// kind, its status when not allowed, and the label of the node it reaches, but for the last.
fn hops_line(hops: impl ExactSizeIterator<Item = (EdgeKind, EdgeStatus, String)>) -> String {
    let n = hops.len();
    let mut parts = Vec::new();
    for (i, (kind, status, to)) in hops.enumerate() {
        let mut part = kind.as_str().to_owned();
        if status != EdgeStatus::Allowed {
            part.push_str(&format!(" ({})", status.as_str()));
        }
        if i + 1 < n {
            part.push(' ');
            part.push_str(&code(&to));
        }
        parts.push(part);
    }
    parts.join(" → ")
}

/// A route's hops in one line ([`hops_line`]).
fn via(g: &AccessGraph, r: &Route) -> String {
    hops_line(r.edges.iter().map(|&e| {
        let edge = &g.graph[e];
        let to = g
            .graph
            .edge_endpoints(e)
            .map_or_else(String::new, |(_, to)| label_of(g, to));
        (edge.kind, edge.status, to)
    }))
}

/// A path's hops in one line ([`hops_line`]).
fn via_path(g: &AccessGraph, p: &Path) -> String {
    hops_line(p.hops.iter().map(|h| (h.kind, h.status, label(g, &h.to))))
}

/// One blocked reference in one line.
fn blocked_line(g: &AccessGraph, a: &Attempt) -> String {
    format!(
        "{} {} → {}: blocked by {}: {}",
        a.hop.as_str(),
        code(&label(g, &a.from)),
        code(&label(g, &a.to)),
        a.blocked_by(),
        plain(&a.block.message.to_string())
    )
}

/// Writes a service's page: its containers with their task and execution roles, a diagram of
/// its roles, role chains and what they reach, every path from its containers, and its blocked
/// references.
///
/// # Errors
/// The first error `out` returns, as it is.
pub fn write_service(report: &Report<'_>, index: usize, mut out: impl io::Write) -> io::Result<()> {
    let out = &mut out;
    let g = report.graph;
    let Some(s) = report.services.get(index) else {
        return out.flush();
    };
    writeln!(out, "# ECS service {}\n", plain(&s.name))?;
    writeln!(
        out,
        "Cluster {} in [{}](../accounts/{}.md) · {}\n",
        code(&s.cluster),
        plain(&report.account_title(&s.account)),
        slug_part(&s.account),
        code(&g.graph[s.node].id)
    )?;
    writeln!(
        out,
        "[Index](../index.md) · [Findings](../findings.md) · [Who can](../who-can.md)\n"
    )?;

    writeln!(out, "## Containers\n")?;
    if s.containers.is_empty() {
        writeln!(out, "The snapshot names no container of this service.\n")?;
    } else {
        writeln!(
            out,
            "| Container | Task definition | Task role | Execution role |\n|---|---|---|---|"
        )?;
        for &c in &s.containers {
            let mut task = BTreeSet::new();
            let mut execution = BTreeSet::new();
            let mut definitions = BTreeSet::new();
            for e in g.graph.edges_directed(c, Direction::Incoming) {
                if e.weight().kind == EdgeKind::Defines {
                    definitions.insert(e.source());
                    for x in g.graph.edges_directed(e.source(), Direction::Outgoing) {
                        if x.weight().kind == EdgeKind::ExecutionRole {
                            execution.insert((x.target(), x.weight().status));
                        }
                    }
                }
            }
            for e in g.graph.edges_directed(c, Direction::Outgoing) {
                if e.weight().kind == EdgeKind::TaskRole {
                    task.insert((e.target(), e.weight().status));
                }
            }
            let definitions: Vec<String> =
                definitions.iter().map(|&d| code(&label_of(g, d))).collect();
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                code(&label_of(g, c)),
                definitions.join(", "),
                role_list(g, &task),
                role_list(g, &execution)
            )?;
        }
        writeln!(out)?;
    }

    // The diagram: what the containers and task definitions point at, and every hop of their
    // paths.
    let mut edges: BTreeSet<EdgeIndex> = BTreeSet::new();
    for &n in s.task_definitions.iter().chain(&s.containers) {
        edges.extend(
            g.graph
                .edges_directed(n, Direction::Outgoing)
                .map(|e| e.id()),
        );
    }
    let paths: Vec<&Route> = s
        .containers
        .iter()
        .filter_map(|c| report.paths_from.get(c))
        .flatten()
        .collect();
    for p in &paths {
        edges.extend(p.edges.iter().copied());
    }
    let boxed: BTreeSet<Key> = s
        .task_definitions
        .iter()
        .chain(&s.containers)
        .map(|&n| Key::Node(n))
        .collect();
    let title = format!("ECS service {}", s.name);
    let draw = |group_resources: bool| {
        let mut bundles = Bundles::default();
        for &e in &edges {
            let Some((a, b)) = g.graph.edge_endpoints(e) else {
                continue;
            };
            let key = |n: NodeIndex| {
                let node = &g.graph[n];
                match (&node.account, group_resources && node.kind.is_resource()) {
                    (Some(account), true) => Key::Kind(account.clone(), node.kind),
                    _ => Key::Node(n),
                }
            };
            bundles.add(g, e, key(a), key(b));
        }
        diagram::render(
            &report.context(),
            &bundles.map,
            Labels::Kinds,
            Some((&boxed, &title)),
        )
    };
    writeln!(out, "## Diagram\n")?;
    if edges.is_empty() {
        writeln!(
            out,
            "Nothing to draw: the service's containers have no edge.\n"
        )?;
    } else {
        let one_by_one = draw(false);
        if one_by_one.fits() {
            diagram_block(out, &one_by_one, &title)?;
        } else {
            let grouped = draw(true);
            writeln!(
                out,
                "Drawn one by one, the diagram would have {} edges and {} characters, more \
                 than Mermaid draws, so the resources are grouped by account and kind; the \
                 paths below list each.\n",
                one_by_one.edges, one_by_one.size
            )?;
            diagram_block(out, &grouped, &title)?;
        }
    }

    writeln!(out, "## Paths\n")?;
    writeln!(
        out,
        "Every resource the containers reach, one shortest path per plane (task: the task \
         role's credentials and the roles they assume; agent: what ECS injects and pulls with \
         the execution role), as `rolechain reach` finds them.\n"
    )?;
    if paths.is_empty() {
        writeln!(out, "The containers reach no resource.\n")?;
    } else {
        writeln!(
            out,
            "| Container | Plane | Resource | Kind | Status | Cross-account | Via |\n|---|---|---|---|---|---|---|"
        )?;
        for p in &paths {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                code(&label_of(g, p.source)),
                plane_str(p.plane),
                code(&label_of(g, p.target)),
                g.graph[p.target].kind.as_str(),
                p.status(g).as_str(),
                yes_no(p.cross_account(g)),
                via(g, p)
            )?;
        }
        writeln!(out)?;
    }

    writeln!(out, "## Blocked references\n")?;
    let blocked = report.blocked_of(s);
    if blocked.is_empty() {
        writeln!(
            out,
            "None: ECS can deliver every secret, parameter and image the containers reference."
        )?;
    } else {
        writeln!(
            out,
            "Configured in the task definitions, but ECS cannot deliver them, so the task fails \
             to start:\n"
        )?;
        for a in blocked {
            writeln!(out, "- {}", blocked_line(g, a))?;
        }
    }
    out.flush()
}

/// The secrets, parameters and KMS keys of the graph by account, for the who-can pages.
pub(super) fn who_can_targets<'r>(report: &'r Report<'_>) -> &'r BTreeMap<String, Vec<NodeIndex>> {
    &report.who_targets
}

/// The page of an account's who-can tables, relative to the docs directory.
pub(super) fn who_can_page(account: &str) -> String {
    if account.is_empty() {
        "who-can/no-account.md".to_owned()
    } else {
        format!("who-can/{}.md", slug_part(account))
    }
}

/// Writes `who-can.md`: one line per account with the number of secrets, parameters and keys it
/// holds and of sources that reach them, linking to its page. One page per account keeps each
/// page readable at the size of an organization.
///
/// # Errors
/// The first error `out` returns, as it is.
pub fn write_who_can_index(report: &Report<'_>, mut out: impl io::Write) -> io::Result<()> {
    let out = &mut out;
    writeln!(out, "# Who can reach each secret, parameter and KMS key\n")?;
    writeln!(out, "[Index](index.md) · [Findings](findings.md)\n")?;
    writeln!(
        out,
        "One page per account. Each lists, for every secret, parameter and key of the account, \
         one row per source and plane with the shortest path (an allowed one before a \
         conditional one), as `rolechain who-can` answers for one resource.\n"
    )?;
    let by_account = who_can_targets(report);
    if by_account.is_empty() {
        writeln!(out, "The snapshot holds no secret, parameter or KMS key.")?;
        return out.flush();
    }
    writeln!(
        out,
        "| Account | Secrets, parameters and keys | Reached by no source | Rows |\n|---|---:|---:|---:|"
    )?;
    for (account, targets) in by_account {
        let title = if account.is_empty() {
            "No account".to_owned()
        } else {
            report.account_title(account)
        };
        let rows: Vec<usize> = targets
            .iter()
            .map(|t| report.who.get(t).map_or(0, Vec::len))
            .collect();
        writeln!(
            out,
            "| [{}]({}) | {} | {} | {} |",
            plain(&title),
            who_can_page(account),
            targets.len(),
            rows.iter().filter(|&&n| n == 0).count(),
            rows.iter().sum::<usize>()
        )?;
    }
    out.flush()
}

/// Writes one account's who-can page: for every secret, parameter and KMS key of `account`, each
/// source with a path to it, the plane, the path's status, whether it crosses accounts and its
/// hops.
///
/// # Errors
/// The first error `out` returns, as it is.
pub fn write_who_can(
    report: &Report<'_>,
    account: &str,
    mut out: impl io::Write,
) -> io::Result<()> {
    let out = &mut out;
    let g = report.graph;
    let title = if account.is_empty() {
        "No account".to_owned()
    } else {
        report.account_title(account)
    };
    writeln!(
        out,
        "# Who can reach the secrets, parameters and keys of {}\n",
        plain(&title)
    )?;
    writeln!(
        out,
        "[Index](../index.md) · [Who can](../who-can.md) · [Findings](../findings.md)\n"
    )?;
    writeln!(
        out,
        "One row per source and plane, with the shortest path (an allowed one before a \
         conditional one), as `rolechain who-can` answers for one resource.\n"
    )?;
    let targets = who_can_targets(report)
        .get(account)
        .map_or(&[][..], Vec::as_slice);
    for &t in targets {
        let node = &g.graph[t];
        writeln!(out, "## {}\n", code(&label_of(g, t)))?;
        let mut about = format!("{} · {}", node.kind.as_str(), code(&node.id));
        if !node.in_snapshot {
            about.push_str(" · not in the snapshot");
        }
        writeln!(out, "{about}\n")?;
        let rows = report.who.get(&t).map_or(&[][..], Vec::as_slice);
        if rows.is_empty() {
            writeln!(out, "No source reaches it.\n")?;
            continue;
        }
        writeln!(
            out,
            "| Source | Kind | Plane | Status | Cross-account | Hops |\n|---|---|---|---|---|---:|"
        )?;
        for r in rows {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                code(&label_of(g, r.source)),
                g.graph[r.source].kind.as_str(),
                plane_str(r.plane),
                r.status.as_str(),
                yes_no(r.cross_account),
                r.hops
            )?;
        }
        writeln!(out)?;
    }
    out.flush()
}

/// A finding's proof in one line: the blocked hop with its blocker, or its paths.
fn proof(g: &AccessGraph, f: &Finding) -> String {
    let mut parts = Vec::new();
    if let Some(a) = &f.blocked {
        parts.push(blocked_line(g, a));
    }
    const SHOWN: usize = 3;
    for p in f.paths.iter().take(SHOWN) {
        let mut flags = vec![p.status.as_str()];
        if p.cross_account {
            flags.push("cross-account");
        }
        parts.push(format!(
            "{} → {} → {} ({})",
            code(&label(g, &p.source)),
            via_path(g, p),
            code(&label(g, &p.target)),
            flags.join(", ")
        ));
    }
    if f.paths.len() > SHOWN {
        parts.push(format!("and {} more paths", f.paths.len() - SHOWN));
    }
    parts.join("; ")
}

/// Writes `findings.md`: every finding with its code, severity, subject and proof in one line.
///
/// # Errors
/// The first error `out` returns, as it is.
pub fn write_findings(report: &Report<'_>, mut out: impl io::Write) -> io::Result<()> {
    let out = &mut out;
    let g = report.graph;
    let found = &report.findings;
    writeln!(out, "# Findings\n")?;
    writeln!(out, "[Index](index.md) · [Who can](who-can.md)\n")?;
    let counts: Vec<String> = Severity::ALL
        .iter()
        .map(|&s| format!("{} {}", found.count(s), s.as_str()))
        .collect();
    writeln!(
        out,
        "{} ({}), strongest first. `rolechain findings` prints each with its full proof.\n",
        plural(found.findings.len(), "finding", "findings"),
        counts.join(", ")
    )?;
    if found.findings.is_empty() {
        return out.flush();
    }
    writeln!(
        out,
        "| Severity | Code | Subject | Proof |\n|---|---|---|---|"
    )?;
    for f in &found.findings {
        let subject = match g.node(&f.subject) {
            Some((ix, node)) => {
                let mut text = format!("{} ({})", code(&label_of(g, ix)), node.kind.as_str());
                if let Some(&i) = report.services_of.get(&ix).and_then(|l| l.first()) {
                    text.push_str(&format!(
                        ", [{}]({})",
                        plain(&report.services[i].name),
                        report.service_page(i)
                    ));
                }
                text
            }
            None => code(&f.subject),
        };
        writeln!(
            out,
            "| {} | {} | {subject} | {} |",
            f.severity().as_str(),
            code(f.code.as_str()),
            proof(g, f)
        )?;
    }
    out.flush()
}

/// A YAML double-quoted string (JSON's string syntax is YAML's).
fn yaml_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// Writes `mkdocs.yml`: the site name, `docs_dir`, the navigation, the default theme without
/// highlight.js, and Mermaid with the page script that starts it. It needs no plugin.
///
/// # Errors
/// The first error `out` returns, as it is.
pub fn write_mkdocs_yml(report: &Report<'_>, mut out: impl io::Write) -> io::Result<()> {
    let out = &mut out;
    writeln!(
        out,
        "# Written by `rolechain report`. Build the site with `mkdocs build` (no plugins needed)."
    )?;
    writeln!(out, "site_name: rolechain report")?;
    writeln!(out, "docs_dir: {DOCS_DIR}")?;
    writeln!(out, "use_directory_urls: false")?;
    writeln!(out, "theme:\n  name: mkdocs\n  highlightjs: false")?;
    writeln!(out, "nav:")?;
    writeln!(out, "  - Index: index.md")?;
    writeln!(out, "  - Findings: findings.md")?;
    let who_can = who_can_targets(report);
    if who_can.is_empty() {
        writeln!(out, "  - Who can: who-can.md")?;
    } else {
        writeln!(out, "  - Who can:")?;
        writeln!(out, "      - Accounts: who-can.md")?;
        for account in who_can.keys() {
            let title = if account.is_empty() {
                "No account".to_owned()
            } else {
                report.account_title(account)
            };
            writeln!(
                out,
                "      - {}: {}",
                yaml_string(&title),
                who_can_page(account)
            )?;
        }
    }
    if !report.accounts.is_empty() {
        writeln!(out, "  - Accounts:")?;
        for a in &report.accounts {
            writeln!(
                out,
                "      - {}: accounts/{}.md",
                yaml_string(&a.title()),
                slug_part(&a.id)
            )?;
        }
    }
    if !report.services.is_empty() {
        writeln!(out, "  - Services:")?;
        for (i, s) in report.services.iter().enumerate() {
            let title = format!(
                "{} ({}, {})",
                s.name,
                s.cluster,
                report.account_title(&s.account)
            );
            writeln!(
                out,
                "      - {}: {}",
                yaml_string(&title),
                report.service_page(i)
            )?;
        }
    }
    writeln!(out, "extra_javascript:")?;
    writeln!(out, "  - {MERMAID_URL}")?;
    writeln!(out, "  - {MERMAID_INIT}")?;
    out.flush()
}

/// Writes the page script that turns the `<pre><code class="language-mermaid">` blocks MkDocs
/// writes for Mermaid fences into `<pre class="mermaid">` and has Mermaid draw them.
///
/// # Errors
/// The first error `out` returns, as it is.
pub fn write_mermaid_init(mut out: impl io::Write) -> io::Result<()> {
    out.write_all(MERMAID_INIT_JS.as_bytes())?;
    out.flush()
}

const MERMAID_INIT_JS: &str = r#"// Written by `rolechain report`. MkDocs writes a ```mermaid fence as
// <pre><code class="language-mermaid">; this turns each into <pre class="mermaid"> and has
// Mermaid (loaded before this script) draw them, so the site needs no plugin.
(function () {
  function draw() {
    var blocks = document.querySelectorAll("pre > code.language-mermaid");
    blocks.forEach(function (code) {
      var pre = document.createElement("pre");
      pre.className = "mermaid";
      pre.textContent = code.textContent;
      code.parentNode.replaceWith(pre);
    });
    if (typeof mermaid === "undefined") {
      return;
    }
    mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
    mermaid.run({ querySelector: "pre.mermaid" }).then(function () {
      // A diagram shrunk to the column's width below 60% of its size has unreadable text:
      // draw it at 60% and let the block scroll sideways.
      document.querySelectorAll("pre.mermaid > svg").forEach(function (svg) {
        var natural = svg.viewBox && svg.viewBox.baseVal ? svg.viewBox.baseVal.width : 0;
        if (natural * 0.6 > svg.parentNode.clientWidth) {
          svg.style.maxWidth = "none";
          svg.style.width = Math.round(natural * 0.6) + "px";
        }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_survive_pipes_and_backticks() {
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("a\nb"), "`a b`");
    }
}
