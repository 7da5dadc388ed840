//! `rolechain report`: a documentation site in Markdown, one page per account and per ECS
//! service, an index, a who-can table and the findings, with a `mkdocs.yml` that builds it with
//! no plugins. docs/report.md describes the layout.
//!
//! [`Report::new`] asks the analysis once for everything the pages show: the findings, the
//! blocked references of every container, and [`reach`](crate::analysis::reach) from every source node of the graph
//! (as `diff` does), grouped by target for the who-can table, so that no page runs a search of
//! its own. [`pages()`] then writes each page into a buffer through its writer ([`write_index`],
//! [`write_account`], [`write_service`], [`write_who_can_index`], [`write_who_can`], [`write_findings`],
//! [`write_mkdocs_yml`], [`write_mermaid_init`]) and returns them as (relative path, bytes).
//! Nothing here touches the file system: the CLI writes the pages into a temporary directory and
//! renames it into place.
//!
//! Output is deterministic: pages, rows and diagram parts are in sorted order, and nothing
//! depends on time.
//!
//! Mermaid draws a diagram of at most 500 edges and 50,000 characters. An account's overview
//! bundles parallel edges between groups (an ECS service, the task roles of an account, the
//! repositories of an account, …) into one labelled edge; when it still exceeds the limits it is
//! split into one diagram per service and one per account pair, and a part that still does not
//! fit is replaced by a sentence that says so. A service's diagram draws its nodes one by one,
//! and groups the resources it reaches by account and kind when that is too large.

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use petgraph::Direction;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use rayon::prelude::*;

use crate::analysis::{
    self, Attempt, Findings, Path, Plane, Route, blocked_references, routes, sources,
};
use crate::graph::{AccessGraph, EdgeKind, EdgeStatus, NodeKind};
use crate::model::Inventory;

mod diagram;
mod pages;

pub use diagram::RoleUse;
pub use pages::{
    write_account, write_findings, write_index, write_mermaid_init, write_mkdocs_yml,
    write_service, write_who_can, write_who_can_index,
};

/// The file at the root of a report directory that marks it as one, so that `report` replaces
/// it but refuses to replace any other non-empty directory.
pub const MARKER: &str = ".rolechain-report";
/// The directory of the Markdown pages, under the report's root (MkDocs' `docs_dir`).
pub const DOCS_DIR: &str = "docs";
/// The Mermaid script `mkdocs.yml` loads by default.
pub const MERMAID_URL: &str = "https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.min.js";
/// The page script, under [`DOCS_DIR`], that turns MkDocs' code blocks into Mermaid diagrams.
pub const MERMAID_INIT: &str = "javascripts/mermaid-init.js";

/// One file of the report: its path relative to the report's root, `/`-separated, and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// The relative path, such as `docs/accounts/111111111111.md`.
    pub path: String,
    /// The contents.
    pub bytes: Vec<u8>,
}

/// An account of the snapshot.
#[derive(Clone, Debug)]
pub struct Account {
    /// The 12-digit id.
    pub id: String,
    /// Its name, when the snapshot gives one.
    pub name: Option<String>,
}

impl Account {
    /// `name (id)`, or the id alone.
    pub fn title(&self) -> String {
        match &self.name {
            Some(name) => format!("{name} ({})", self.id),
            None => self.id.clone(),
        }
    }
}

/// An ECS service with what it runs.
#[derive(Clone, Debug)]
pub struct Service {
    /// Its node.
    pub node: NodeIndex,
    /// Its account.
    pub account: String,
    /// Its cluster's name.
    pub cluster: String,
    /// Its name.
    pub name: String,
    /// The page's file name without `.md`, unique in the report.
    pub slug: String,
    /// The task definitions it runs, in id order.
    pub task_definitions: Vec<NodeIndex>,
    /// Their containers, in id order.
    pub containers: Vec<NodeIndex>,
}

/// One source of a resource's who-can table: the shortest path of one plane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhoCanRow {
    /// The source node.
    pub source: NodeIndex,
    /// How the source reaches the resource.
    pub plane: Plane,
    /// Allowed or conditional.
    pub status: EdgeStatus,
    /// True when some hop crosses an account.
    pub cross_account: bool,
    /// The number of hops.
    pub hops: usize,
}

/// Everything the pages show, computed once.
pub struct Report<'g> {
    graph: &'g AccessGraph,
    findings: Findings,
    blocked: Vec<Attempt>,
    accounts: Vec<Account>,
    account_ids: BTreeSet<String>,
    names: BTreeMap<String, String>,
    services: Vec<Service>,
    /// The services that run each task definition and container.
    services_of: BTreeMap<NodeIndex, Vec<usize>>,
    role_use: BTreeMap<NodeIndex, RoleUse>,
    /// Reach's paths from each container, in its order.
    paths_from: BTreeMap<NodeIndex, Vec<Route>>,
    /// The who-can rows of each secret, parameter and key, by source then plane.
    who: BTreeMap<NodeIndex, Vec<WhoCanRow>>,
    /// Each account's overview, bundled.
    overview: BTreeMap<String, diagram::Bundles>,
    /// The roles, resources and services of each account of the snapshot, in id order.
    of_account: BTreeMap<String, AccountNodes>,
    /// The secrets, parameters and keys by account (`""` for none), in id order: the who-can
    /// pages.
    who_targets: BTreeMap<String, Vec<NodeIndex>>,
    /// The blocked references ([`Report::blocked`]'s indexes) of each container.
    blocked_of_container: BTreeMap<String, Vec<usize>>,
}

/// What an account's pages list, gathered once so that no page scans the whole graph.
#[derive(Default)]
struct AccountNodes {
    /// Its roles in the snapshot.
    roles: Vec<NodeIndex>,
    /// Its resources in the snapshot.
    resources: Vec<NodeIndex>,
    /// Its ECS services, as indexes into [`Report::services`].
    services: Vec<usize>,
}

/// The plane of a path ([`Plane::of`]).
pub fn path_plane(path: &Path) -> Plane {
    Plane::of(path)
}

/// True for the kinds the who-can table lists: secrets, parameters and keys.
pub fn in_who_can(kind: NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Secret | NodeKind::SsmParameter | NodeKind::KmsKey
    )
}

/// Makes `text` safe as a file name: ASCII letters, digits, `.`, `_` and `-` stay, anything else
/// becomes `-`.
fn slug_part(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

impl<'g> Report<'g> {
    /// Gathers what the pages of `graph` (the full graph of `inventory`) show.
    ///
    /// # Complexity
    /// That of [`analysis::findings`], plus one [`reach`](crate::analysis::reach) from every source node: O(S · (V + E))
    /// for S sources, however many resources the who-can table lists.
    pub fn new(inventory: &Inventory, graph: &'g AccessGraph) -> Report<'g> {
        // The findings and the search from every source are independent: run side by side.
        let (findings, searched) = rayon::join(
            || analysis::findings(inventory, graph),
            || search_every_source(graph),
        );
        let blocked = blocked_references(inventory, None, None);
        let g = &graph.graph;

        let mut accounts = Vec::new();
        let mut names = BTreeMap::new();
        for &ix in graph.index.values() {
            let node = &g[ix];
            if node.kind != NodeKind::Account {
                continue;
            }
            let id = node.account.clone().unwrap_or_else(|| node.id.clone());
            let name = (!node.label.is_empty() && node.label != id).then(|| node.label.clone());
            if let Some(name) = &name {
                names.insert(id.clone(), name.clone());
            }
            if node.in_snapshot {
                accounts.push(Account { id, name });
            }
        }
        accounts.sort_by(|a, b| a.id.cmp(&b.id));
        accounts.dedup_by(|a, b| a.id == b.id);
        let account_ids = accounts.iter().map(|a| a.id.clone()).collect();

        let mut services = Vec::new();
        for &ix in graph.index.values() {
            let node = &g[ix];
            if node.kind != NodeKind::Service {
                continue;
            }
            let mut task_definitions = BTreeSet::new();
            let mut containers = BTreeSet::new();
            for e in g.edges_directed(ix, Direction::Outgoing) {
                if e.weight().kind == EdgeKind::Runs
                    && g[e.target()].kind == NodeKind::TaskDefinition
                {
                    task_definitions.insert(e.target());
                    for d in g.edges_directed(e.target(), Direction::Outgoing) {
                        if d.weight().kind == EdgeKind::Defines {
                            containers.insert(d.target());
                        }
                    }
                }
            }
            let cluster = node
                .parent
                .as_deref()
                .and_then(|p| graph.node(p))
                .map_or_else(String::new, |(_, c)| c.label.clone());
            services.push(Service {
                node: ix,
                account: node.account.clone().unwrap_or_default(),
                cluster,
                name: node.label.clone(),
                slug: String::new(),
                task_definitions: task_definitions.into_iter().collect(),
                containers: containers.into_iter().collect(),
            });
        }
        assign_slugs(graph, &mut services);
        let mut services_of: BTreeMap<NodeIndex, Vec<usize>> = BTreeMap::new();
        for (i, s) in services.iter().enumerate() {
            for &n in s.task_definitions.iter().chain(&s.containers) {
                services_of.entry(n).or_default().push(i);
            }
        }

        let mut role_use = BTreeMap::new();
        for &ix in graph.index.values() {
            if g[ix].kind != NodeKind::Role {
                continue;
            }
            let mut found = RoleUse::Other;
            for e in g.edges_directed(ix, Direction::Incoming) {
                let used = match e.weight().kind {
                    EdgeKind::TaskRole => RoleUse::Task,
                    EdgeKind::ExecutionRole => RoleUse::Execution,
                    EdgeKind::InstanceRole => RoleUse::Instance,
                    EdgeKind::Runs
                    | EdgeKind::Defines
                    | EdgeKind::Assumes
                    | EdgeKind::Accesses
                    | EdgeKind::Injects
                    | EdgeKind::Pulls
                    | EdgeKind::Escalates => RoleUse::Other,
                };
                found = found.min(used);
            }
            role_use.insert(ix, found);
        }

        let (paths_from, who) = searched;

        // One pass over the nodes and services for what the account pages list.
        let mut of_account: BTreeMap<String, AccountNodes> = BTreeMap::new();
        let mut who_targets: BTreeMap<String, Vec<NodeIndex>> = BTreeMap::new();
        for &ix in graph.index.values() {
            let node = &g[ix];
            if in_who_can(node.kind) {
                who_targets
                    .entry(node.account.clone().unwrap_or_default())
                    .or_default()
                    .push(ix);
            }
            let (true, Some(account)) = (node.in_snapshot, &node.account) else {
                continue;
            };
            if node.kind == NodeKind::Role {
                of_account
                    .entry(account.clone())
                    .or_default()
                    .roles
                    .push(ix);
            } else if node.kind.is_resource() {
                of_account
                    .entry(account.clone())
                    .or_default()
                    .resources
                    .push(ix);
            }
        }
        for (i, s) in services.iter().enumerate() {
            of_account
                .entry(s.account.clone())
                .or_default()
                .services
                .push(i);
        }
        let mut blocked_of_container: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, a) in blocked.iter().enumerate() {
            blocked_of_container
                .entry(a.from.clone())
                .or_default()
                .push(i);
        }

        let mut report = Report {
            graph,
            findings,
            blocked,
            accounts,
            account_ids,
            names,
            services,
            services_of,
            role_use,
            paths_from,
            who,
            overview: BTreeMap::new(),
            of_account,
            who_targets,
            blocked_of_container,
        };
        report.overview = pages::overviews(&report);
        report
    }

    /// The graph.
    pub fn graph(&self) -> &AccessGraph {
        self.graph
    }

    /// The findings.
    pub fn findings(&self) -> &Findings {
        &self.findings
    }

    /// The accounts of the snapshot, by id.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// The ECS services, by id.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// The who-can rows of a secret, parameter or key, by source then plane; `None` for another
    /// id, and an empty list for one that nothing reaches.
    pub fn who_can(&self, target: &str) -> Option<&[WhoCanRow]> {
        let (ix, node) = self.graph.node(target)?;
        if !in_who_can(node.kind) {
            return None;
        }
        Some(self.who.get(&ix).map_or(&[], Vec::as_slice))
    }

    /// The blocked references of a service's containers.
    fn blocked_of(&self, service: &Service) -> Vec<&Attempt> {
        let mut found: Vec<usize> = service
            .containers
            .iter()
            .filter_map(|&c| self.blocked_of_container.get(&self.graph.graph[c].id))
            .flatten()
            .copied()
            .collect();
        // In the order of `blocked`, as the pages have always listed them.
        found.sort_unstable();
        found.dedup();
        found.into_iter().map(|i| &self.blocked[i]).collect()
    }

    /// What an account's pages list; empty for an account with none of it.
    fn of_account(&self, account: &str) -> &AccountNodes {
        static NONE: AccountNodes = AccountNodes {
            roles: Vec::new(),
            resources: Vec::new(),
            services: Vec::new(),
        };
        self.of_account.get(account).unwrap_or(&NONE)
    }

    /// The page of a service, relative to the docs directory.
    fn service_page(&self, i: usize) -> String {
        format!("services/{}.md", self.services[i].slug)
    }
}

/// Gives each service a unique slug: `<account>-<cluster>-<service>`, with the region added
/// where two services of different regions would share one, and a number where they still do.
fn assign_slugs(graph: &AccessGraph, services: &mut [Service]) {
    let base = |s: &Service| slug_part(&format!("{}-{}-{}", s.account, s.cluster, s.name));
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for s in services.iter() {
        *count.entry(base(s)).or_default() += 1;
    }
    let mut used: BTreeSet<String> = BTreeSet::new();
    for s in services.iter_mut() {
        let mut slug = base(s);
        if count.get(&slug).copied().unwrap_or(0) > 1 {
            let region =
                crate::model::arn::ArnRef::split(&graph.graph[s.node].id).map_or("", |a| a.region);
            slug = slug_part(&format!(
                "{}-{}-{}-{}",
                s.account, region, s.cluster, s.name
            ));
        }
        let mut unique = slug.clone();
        let mut n = 2;
        while !used.insert(unique.clone()) {
            unique = format!("{slug}-{n}");
            n += 1;
        }
        s.slug = unique;
    }
}

/// Every page of the report, in path order: `mkdocs.yml`, the marker, and under [`DOCS_DIR`] the
/// index, one page per account and per service, the who-can table, the findings and the Mermaid
/// page script.
///
/// # Errors
/// None in practice: the pages are written into buffers; an error of a writer is returned as it
/// is.
pub fn pages(report: &Report<'_>) -> io::Result<Vec<Page>> {
    /// Which page to write.
    enum Job<'r> {
        Marker,
        MkDocs,
        Index,
        Account(&'r str),
        Service(usize),
        WhoCanIndex,
        WhoCan(&'r str),
        Findings,
        MermaidInit,
    }
    let mut jobs = vec![
        (MARKER.to_owned(), Job::Marker),
        ("mkdocs.yml".to_owned(), Job::MkDocs),
        (format!("{DOCS_DIR}/index.md"), Job::Index),
    ];
    for account in &report.accounts {
        jobs.push((
            format!("{DOCS_DIR}/accounts/{}.md", slug_part(&account.id)),
            Job::Account(&account.id),
        ));
    }
    for i in 0..report.services.len() {
        jobs.push((
            format!("{DOCS_DIR}/{}", report.service_page(i)),
            Job::Service(i),
        ));
    }
    jobs.push((format!("{DOCS_DIR}/who-can.md"), Job::WhoCanIndex));
    for account in pages::who_can_targets(report).keys() {
        jobs.push((
            format!("{DOCS_DIR}/{}", pages::who_can_page(account)),
            Job::WhoCan(account),
        ));
    }
    jobs.push((format!("{DOCS_DIR}/findings.md"), Job::Findings));
    jobs.push((format!("{DOCS_DIR}/{MERMAID_INIT}"), Job::MermaidInit));
    // Pages are independent: written in parallel, then put in path order.
    let mut out = jobs
        .into_par_iter()
        .map(|(path, job)| {
            let mut b = Vec::new();
            match job {
                Job::Marker => io::Write::write_all(&mut b, b"rolechain report\n")?,
                Job::MkDocs => write_mkdocs_yml(report, &mut b)?,
                Job::Index => write_index(report, &mut b)?,
                Job::Account(id) => write_account(report, id, &mut b)?,
                Job::Service(i) => write_service(report, i, &mut b)?,
                Job::WhoCanIndex => write_who_can_index(report, &mut b)?,
                Job::WhoCan(account) => write_who_can(report, account, &mut b)?,
                Job::Findings => write_findings(report, &mut b)?,
                Job::MermaidInit => write_mermaid_init(&mut b)?,
            }
            Ok(Page { path, bytes: b })
        })
        .collect::<io::Result<Vec<Page>>>()?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Paths kept per container (their services' pages show them) and who-can rows per secret,
/// parameter and key.
type Searched = (
    BTreeMap<NodeIndex, Vec<Route>>,
    BTreeMap<NodeIndex, Vec<WhoCanRow>>,
);

/// One reach from every source node: the container paths and the who-can rows.
fn search_every_source(graph: &AccessGraph) -> Searched {
    let g = &graph.graph;
    // Reach from every source, one source at a time so that only the rows are kept, not the
    // paths (but those of containers, which their services' pages show). Routes name edges;
    // no id or proof is copied.
    let mut paths_from = BTreeMap::new();
    let mut who: BTreeMap<NodeIndex, Vec<WhoCanRow>> = BTreeMap::new();
    let all = sources(graph);
    // Sources are searched a chunk at a time in parallel; their rows join in source order.
    for chunk in all.chunks(256) {
        let found: Vec<(NodeIndex, Vec<Route>)> = chunk
            .par_iter()
            .map(|&source| (source, routes(graph, &[source], None, None)))
            .collect();
        for (source, mut found) in found {
            for r in &found {
                if !in_who_can(g[r.target].kind) {
                    continue;
                }
                who.entry(r.target).or_default().push(WhoCanRow {
                    source,
                    plane: r.plane,
                    status: r.status(graph),
                    cross_account: r.cross_account(graph),
                    hops: r.edges.len(),
                });
            }
            if g[source].kind == NodeKind::Container {
                // In the order `reach` lists them: by target (index order is id order), then
                // length, then hop kinds.
                found.sort_by(|a, b| {
                    (a.target, a.edges.len())
                        .cmp(&(b.target, b.edges.len()))
                        .then_with(|| {
                            a.edges
                                .iter()
                                .map(|&e| g[e].kind)
                                .cmp(b.edges.iter().map(|&e| g[e].kind))
                        })
                });
                paths_from.insert(source, found);
            }
        }
    }
    // Each source's rows come by target then plane, and sources in index order, which is id
    // order: each target's rows are sorted by source, then plane. Sort to be sure.
    for rows in who.values_mut() {
        rows.sort_by_key(|r| (r.source, r.plane));
    }
    (paths_from, who)
}
