//! `findings`: misconfigurations and risky paths, each with a stable code, a severity, the nodes
//! involved and its proof.
//!
//! No finding decides anything of its own. Each asks the functions the build and `explain` ask,
//! or reads the edges the build decided:
//!
//! - launch failures are the denied references of [`World::container_references`], with the
//!   evaluator's blocker;
//! - trusts that refuse ECS are [`World::ecs_trust`]'s denials; a trust that does not pin the
//!   task's account is one that [`World::ecs_trust_foreign_source`] allows, the same evaluation
//!   asked for a task of an account outside the snapshot;
//! - cross-account trusts, breadth and both-planes findings read the graph's `assumes`,
//!   `accesses` and `injects` edges and the statements that allowed them;
//! - cross-account paths and exposure are [`reach`]'s paths from containers and from the nodes
//!   the build gives sources outside the snapshot.
//!
//! Findings carry typed proofs (paths with their statements, or a failed attempt with its
//! blocker); the words for people are the CLI's and the exporters'.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rustc_hash::FxHashSet;

use petgraph::Direction;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use rayon::prelude::*;

use super::explain::Attempt;
use super::search::{containers, reach, routes};
use super::{Hop, Path};
use crate::graph::hop::{Block, Verdict};
use crate::graph::world::{ECS_TASKS, World, container_id};
use crate::graph::{AccessGraph, Edge, EdgeKind, EdgeStatus, NodeKind};
use crate::model::{Diagnostic, Inventory};
use crate::policy::{Blocker, PolicyType};

/// How much a finding matters, weakest first: `info` < `low` < `medium` < `high` < `critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; often intended.
    Info,
    /// Wider than it needs to be.
    Low,
    /// A weakness an attacker or a mistake could use.
    Medium,
    /// Something fails, or a trust is open wider than it should.
    High,
    /// Anyone outside can reach a resource.
    Critical,
}

impl Severity {
    /// `info`, `low`, `medium`, `high` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Every severity, strongest first.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];
}

/// What a finding is. Each code has one severity; docs/findings.md describes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// A secret or parameter a container references that its execution role cannot read.
    LaunchSecretUnreadable,
    /// A secret or parameter a container references that does not exist.
    LaunchSecretNotFound,
    /// An ECR image a container names that its execution role cannot pull.
    LaunchImageUnpullable,
    /// A task or execution role whose trust does not let ECS assume it for the task.
    TrustEcsTasksRefused,
    /// A task or execution role that ECS would assume for a task of any account.
    TrustEcsTasksNoSourceCondition,
    /// A role that another account may assume with no external id and no organization condition.
    TrustCrossAccountUnconstrained,
    /// An execution role that can read secrets or parameters that no task definition it serves
    /// references.
    ExecutionRoleBroadSecretRead,
    /// A task role that can read secrets or parameters that its task definitions do not
    /// reference.
    TaskRoleUnreferencedSecretRead,
    /// A container that gets the same secret or parameter through both planes.
    SecretBothPlanes,
    /// A container that reaches a secret, parameter or key of another account.
    CrossAccountSecretPath,
    /// A resource that unsigned requests from anyone reach.
    ExposureAnonymous,
    /// A resource that any AWS principal of any account reaches.
    ExposureAnyPrincipal,
    /// A resource that tokens of an OIDC or SAML provider reach.
    ExposureFederated,
    /// A resource that an account outside the snapshot (or one of its principals) reaches.
    ExposureExternalAccount,
    /// A resource that any principal of an organization outside the snapshot reaches.
    ExposureOrganization,
    /// A principal can make ECS run its code as a role or in a container's place (R4.6).
    EcsPrivilegeEscalation,
}

impl Code {
    /// Every code, in documentation order.
    pub const ALL: [Code; 16] = [
        Code::LaunchSecretUnreadable,
        Code::LaunchSecretNotFound,
        Code::LaunchImageUnpullable,
        Code::TrustEcsTasksRefused,
        Code::TrustEcsTasksNoSourceCondition,
        Code::TrustCrossAccountUnconstrained,
        Code::ExecutionRoleBroadSecretRead,
        Code::TaskRoleUnreferencedSecretRead,
        Code::SecretBothPlanes,
        Code::CrossAccountSecretPath,
        Code::ExposureAnonymous,
        Code::ExposureAnyPrincipal,
        Code::ExposureFederated,
        Code::ExposureExternalAccount,
        Code::ExposureOrganization,
        Code::EcsPrivilegeEscalation,
    ];

    /// The stable kebab-case code.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::LaunchSecretUnreadable => "launch-secret-unreadable",
            Code::LaunchSecretNotFound => "launch-secret-not-found",
            Code::LaunchImageUnpullable => "launch-image-unpullable",
            Code::TrustEcsTasksRefused => "trust-ecs-tasks-refused",
            Code::TrustEcsTasksNoSourceCondition => "trust-ecs-tasks-no-source-condition",
            Code::TrustCrossAccountUnconstrained => "trust-cross-account-unconstrained",
            Code::ExecutionRoleBroadSecretRead => "execution-role-broad-secret-read",
            Code::TaskRoleUnreferencedSecretRead => "task-role-unreferenced-secret-read",
            Code::SecretBothPlanes => "secret-both-planes",
            Code::CrossAccountSecretPath => "cross-account-secret-path",
            Code::ExposureAnonymous => "exposure-anonymous",
            Code::ExposureAnyPrincipal => "exposure-any-principal",
            Code::ExposureFederated => "exposure-federated",
            Code::ExposureExternalAccount => "exposure-external-account",
            Code::ExposureOrganization => "exposure-organization",
            Code::EcsPrivilegeEscalation => "ecs-privilege-escalation",
        }
    }

    /// The code's severity.
    pub fn severity(self) -> Severity {
        match self {
            Code::ExposureAnonymous | Code::ExposureAnyPrincipal => Severity::Critical,
            Code::LaunchSecretUnreadable
            | Code::LaunchSecretNotFound
            | Code::LaunchImageUnpullable
            | Code::TrustEcsTasksRefused
            | Code::ExposureFederated
            | Code::EcsPrivilegeEscalation => Severity::High,
            Code::TrustEcsTasksNoSourceCondition
            | Code::TrustCrossAccountUnconstrained
            | Code::ExecutionRoleBroadSecretRead
            | Code::ExposureExternalAccount => Severity::Medium,
            Code::TaskRoleUnreferencedSecretRead
            | Code::SecretBothPlanes
            | Code::ExposureOrganization => Severity::Low,
            Code::CrossAccountSecretPath => Severity::Info,
        }
    }

    /// One line that says what the code means, as docs/findings.md's table says it.
    pub fn summary(self) -> &'static str {
        match self {
            Code::LaunchSecretUnreadable => {
                "the execution role cannot read a secret or parameter the container references; ECS fails to start the task"
            }
            Code::LaunchSecretNotFound => {
                "a secret or parameter the container references does not exist; ECS fails to start the task"
            }
            Code::LaunchImageUnpullable => {
                "the execution role cannot pull the container's ECR image; ECS fails to start the task"
            }
            Code::TrustEcsTasksRefused => {
                "the trust of a task or execution role does not let ecs-tasks.amazonaws.com assume it for the task"
            }
            Code::TrustEcsTasksNoSourceCondition => {
                "the trust lets ecs-tasks.amazonaws.com assume the role for tasks of any account (no aws:SourceAccount or aws:SourceArn condition)"
            }
            Code::TrustCrossAccountUnconstrained => {
                "another account may assume the role with no sts:ExternalId and no organization condition"
            }
            Code::ExecutionRoleBroadSecretRead => {
                "the execution role can read secrets or parameters that no task definition it serves references"
            }
            Code::TaskRoleUnreferencedSecretRead => {
                "the task role can read secrets or parameters that its task definitions do not reference"
            }
            Code::SecretBothPlanes => {
                "the container gets the same secret or parameter both injected by the agent and readable through its task role"
            }
            Code::CrossAccountSecretPath => {
                "the container reaches a secret, parameter or KMS key of another account"
            }
            Code::ExposureAnonymous => "anyone on the internet reaches the resource unsigned",
            Code::ExposureAnyPrincipal => "any AWS principal of any account reaches the resource",
            Code::ExposureFederated => {
                "tokens of an OIDC or SAML identity provider reach the resource"
            }
            Code::ExposureExternalAccount => {
                "an account outside the snapshot, or one of its principals, reaches the resource"
            }
            Code::ExposureOrganization => {
                "any principal of an organization outside the snapshot reaches the resource"
            }
            Code::EcsPrivilegeEscalation => {
                "the principal can make ECS run its code as a role or in a container's place: pass the role to a task it starts, run a task definition with its own command, open ECS Exec, or push an image the container pulls"
            }
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What it is; its severity is [`Code::severity`].
    pub code: Code,
    /// The node id it is about: the container, task definition, role or resource.
    pub subject: String,
    /// Every node involved, the subject first, without repeats.
    pub nodes: Vec<Involved>,
    /// The proof of a risky path or permission: the paths (or single hops, as one-hop paths)
    /// that allow it, with their statements.
    pub paths: Vec<Path>,
    /// The proof of a failure: the hop that fails and what blocks it.
    pub blocked: Option<Attempt>,
}

/// A node a finding involves.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Involved {
    /// The node id.
    pub id: String,
    /// Its kind, when the graph has the node (`ecs-tasks.amazonaws.com` and policies' owners
    /// outside the graph have none).
    pub kind: Option<NodeKind>,
}

/// A finding while it is being found: its nodes by id only.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Draft {
    code: Code,
    subject: String,
    nodes: Vec<String>,
    paths: Vec<Path>,
    blocked: Option<Attempt>,
}

impl Finding {
    /// The finding's severity.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }
}

/// Every finding of an inventory, strongest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    /// Sorted by severity (strongest first), then code, subject and nodes.
    pub findings: Vec<Finding>,
    /// What the evaluations noticed on the way, sorted.
    pub diagnostics: Vec<Diagnostic>,
}

impl Findings {
    /// The strongest severity found, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(Finding::severity).max()
    }

    /// How many findings have this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity() == severity)
            .count()
    }
}

/// Finds the misconfigurations and risky paths of `inventory`.
///
/// `graph` must be the full graph of `inventory` ([`crate::graph::build`], not `build_toward`),
/// built with the default actions so that `accesses` edges mean reads.
///
/// # Errors
/// None: every finding is a value.
///
/// # Complexity
/// One evaluation per container reference and per task and execution role, one [`reach`] from
/// every container and every source outside the snapshot, and one per (container, injected
/// value) pair: O(C · (V + E)) for C containers and outside sources.
///
/// # Example
/// ```
/// use rolechain::{analysis, graph, model::Inventory};
/// let inventory = Inventory::default();
/// let g = graph::build(&inventory, &graph::BuildOptions::default());
/// assert!(analysis::findings(&inventory, &g).findings.is_empty());
/// ```
pub fn findings(inventory: &Inventory, graph: &AccessGraph) -> Findings {
    let world = World::new(inventory);
    let mut diags = Vec::new();
    let mut out = Vec::new();
    let referenced = launch(&world, &mut out);
    ecs_trusts(&world, &mut out, &mut diags);
    cross_account_trusts(&world, graph, &mut out);
    breadth(&world, graph, &referenced, &mut out);
    both_planes(graph, &mut out);
    cross_account_paths(graph, &mut out);
    exposure(graph, &mut out);
    escalations(graph, &mut out);
    let mut out: Vec<Finding> = out
        .into_iter()
        .map(|d| Finding {
            code: d.code,
            nodes: d
                .nodes
                .into_iter()
                .map(|id| Involved {
                    kind: graph.node(&id).map(|(_, n)| n.kind),
                    id,
                })
                .collect(),
            subject: d.subject,
            paths: d.paths,
            blocked: d.blocked,
        })
        .collect();
    // INVARIANT: the order is total over what reaches output, so the same inventory always
    // lists its findings in the same order.
    out.sort_by(|a, b| {
        // Borrowed, so that no comparison copies a finding.
        let key = |f: &Finding| (std::cmp::Reverse(f.severity()), f.code);
        fn tail(f: &Finding) -> impl Iterator<Item = (&str, &str, usize)> {
            f.paths
                .iter()
                .map(|p| (p.source.as_str(), p.target.as_str(), p.hops.len()))
        }
        (key(a), &a.subject, &a.nodes)
            .cmp(&(key(b), &b.subject, &b.nodes))
            .then_with(|| tail(a).cmp(tail(b)))
    });
    out.dedup();
    diags.sort();
    diags.dedup();
    Findings {
        findings: out,
        diagnostics: diags,
    }
}

/// The secrets, parameters and repositories each task definition's containers reference.
type Referenced = BTreeMap<String, BTreeSet<String>>;

/// The non-empty ids of `ids`, each once, in the order first seen: linear however many paths a
/// finding lists.
fn listed<'s>(ids: impl IntoIterator<Item = &'s str>) -> Vec<String> {
    let mut seen = FxHashSet::default();
    ids.into_iter()
        .filter(|id| !id.is_empty() && seen.insert(*id))
        .map(str::to_string)
        .collect()
}

fn push_unique(nodes: &mut Vec<String>, id: &str) {
    if !id.is_empty() && !nodes.iter().any(|n| n == id) {
        nodes.push(id.to_string());
    }
}

/// The policy a blocker names, when it is a policy of some node (a key policy, a resource
/// policy, a trust), so that the node is listed with the finding.
fn blocker_policy(block: &Block) -> Option<&str> {
    match block.blocker.as_ref()? {
        Blocker::Deny(r) if matches!(r.policy_type, PolicyType::Key | PolicyType::Resource) => {
            Some(&r.policy)
        }
        Blocker::ResourceMissingAllow {
            policy: Some(p), ..
        } => Some(p),
        _ => None,
    }
}

/// Launch failures: every reference of every container, decided by `container_references`.
fn launch(world: &World<'_>, out: &mut Vec<Draft>) -> Referenced {
    let mut referenced = Referenced::new();
    for (td_arn, place) in world.task_definitions() {
        let refs = referenced.entry(td_arn.to_string()).or_default();
        for container in &place.definition.containers {
            let cid = container_id(td_arn, &container.name);
            // The build reported these references' warnings already.
            for (kind, resource, verdict) in
                world.container_references(place, &cid, container, None, &mut Vec::new())
            {
                refs.insert(resource.id.clone());
                let Some(block) = verdict.blocked else {
                    continue;
                };
                let code = match (kind, &block.blocker) {
                    (EdgeKind::Pulls, _) => Code::LaunchImageUnpullable,
                    (_, Some(Blocker::NotFound { .. })) => Code::LaunchSecretNotFound,
                    _ => Code::LaunchSecretUnreadable,
                };
                let mut nodes = vec![cid.clone()];
                if let Some(exec) = &place.definition.execution_role_arn {
                    push_unique(&mut nodes, exec);
                }
                push_unique(&mut nodes, &resource.id);
                if let Some(policy) = blocker_policy(&block) {
                    push_unique(&mut nodes, policy);
                }
                out.push(Draft {
                    code,
                    subject: cid.clone(),
                    nodes,
                    paths: Vec::new(),
                    blocked: Some(Attempt {
                        hop: kind,
                        from: cid.clone(),
                        to: resource.id.clone(),
                        block,
                    }),
                });
            }
        }
    }
    referenced
}

/// A one-hop path from a verdict that allows it.
fn verdict_path(from: &str, to: &str, kind: EdgeKind, verdict: Verdict) -> Path {
    Path {
        source: from.to_string(),
        target: to.to_string(),
        actions: verdict.actions.clone(),
        status: verdict.status,
        cross_account: false,
        hops: vec![Hop {
            from: from.to_string(),
            to: to.to_string(),
            kind,
            status: verdict.status,
            because: Arc::from(verdict.because),
            conditions: Arc::from(verdict.conditions),
            notes: Arc::from(verdict.notes),
        }],
    }
}

/// Trusts of task and execution roles: refusals of ECS, and trusts that do not pin the task's
/// account.
fn ecs_trusts(world: &World<'_>, out: &mut Vec<Draft>, diags: &mut Vec<Diagnostic>) {
    // Each role ECS may assume, with the first place it serves and the hop it plays there.
    let mut admitted: BTreeMap<&str, (&str, &str, EdgeKind)> = BTreeMap::new();
    for (td_arn, place) in world.task_definitions() {
        let td = place.definition;
        let roles = [
            (td.task_role_arn.as_deref(), EdgeKind::TaskRole),
            (td.execution_role_arn.as_deref(), EdgeKind::ExecutionRole),
        ];
        for (role, hop) in roles {
            let Some(role) = role else { continue };
            let verdict =
                world.ecs_trust(role, place.account, place.region, place.partition, diags);
            match verdict.blocked {
                Some(block) => out.push(Draft {
                    code: Code::TrustEcsTasksRefused,
                    subject: td_arn.to_string(),
                    nodes: vec![td_arn.to_string(), role.to_string()],
                    paths: Vec::new(),
                    blocked: Some(Attempt {
                        hop,
                        from: td_arn.to_string(),
                        to: role.to_string(),
                        block,
                    }),
                }),
                None => {
                    admitted
                        .entry(role)
                        .or_insert((place.region, place.partition, hop));
                }
            }
        }
    }
    for (role, (region, partition, hop)) in admitted {
        let verdict = world.ecs_trust_foreign_source(role, region, partition, diags);
        if verdict.status == EdgeStatus::Denied {
            continue;
        }
        out.push(Draft {
            code: Code::TrustEcsTasksNoSourceCondition,
            subject: role.to_string(),
            nodes: vec![role.to_string(), ECS_TASKS.to_string()],
            paths: vec![verdict_path(ECS_TASKS, role, hop, verdict)],
            blocked: None,
        });
    }
}

/// A path of one graph edge.
fn edge_path(g: &AccessGraph, from: NodeIndex, to: NodeIndex, edge: &Edge) -> Path {
    let (from, to) = (&g.graph[from].id, &g.graph[to].id);
    Path {
        source: from.clone(),
        target: to.clone(),
        actions: edge.actions().to_vec(),
        status: edge.status,
        cross_account: edge.cross_account,
        hops: vec![Hop {
            from: from.clone(),
            to: to.clone(),
            kind: edge.kind,
            status: edge.status,
            because: edge.proof.because.clone(),
            conditions: edge.proof.conditions.clone(),
            notes: edge.proof.notes.clone(),
        }],
    }
}

/// The condition keys that tie a cross-account trust to one party: the external id a third
/// party must present, or the caller's organization.
const PINNING_KEYS: [&str; 3] = [
    "sts:externalid",
    "aws:principalorgid",
    "aws:principalorgpaths",
];

fn pins(key: &str) -> bool {
    PINNING_KEYS.contains(&key.to_ascii_lowercase().as_str())
}

/// Roles another account may assume with neither an external id nor an organization condition:
/// the build's `assumes` edges into a role from another account or from outside the snapshot,
/// whose allowing trust statements and open conditions name none of [`PINNING_KEYS`].
fn cross_account_trusts(world: &World<'_>, g: &AccessGraph, out: &mut Vec<Draft>) {
    let mut by_role: BTreeMap<NodeIndex, Vec<Path>> = BTreeMap::new();
    for e in g.graph.edge_references() {
        let edge = e.weight();
        if edge.kind != EdgeKind::Assumes || edge.status == EdgeStatus::Denied {
            continue;
        }
        let (from, to) = (&g.graph[e.source()], &g.graph[e.target()]);
        let other_account = match from.kind {
            NodeKind::Role | NodeKind::User => edge.cross_account || !from.in_snapshot,
            NodeKind::ExternalAccount | NodeKind::AnyPrincipal => true,
            _ => false,
        };
        if !other_account || edge.conditions().iter().any(|c| pins(&c.key)) {
            continue;
        }
        let trust = world
            .roles
            .get(to.id.as_str())
            .and_then(|r| r.trust.as_ref());
        let pinned_by_statement = edge
            .because()
            .iter()
            .filter(|r| r.policy_type == PolicyType::Trust)
            .any(|r| {
                trust
                    .into_iter()
                    .flat_map(|t| &t.statements)
                    .filter(|s| s.label() == *r.statement)
                    .any(|s| s.condition.iter().any(|c| pins(&c.key)))
            });
        if pinned_by_statement {
            continue;
        }
        by_role
            .entry(e.target())
            .or_default()
            .push(edge_path(g, e.source(), e.target(), edge));
    }
    for (role, mut paths) in by_role {
        paths.sort_by(|a, b| a.source.cmp(&b.source));
        let subject = g.graph[role].id.clone();
        let nodes = listed(
            std::iter::once(subject.as_str()).chain(paths.iter().map(|p| p.source.as_str())),
        );
        out.push(Draft {
            code: Code::TrustCrossAccountUnconstrained,
            subject,
            nodes,
            paths,
            blocked: None,
        });
    }
}

/// Principals with `escalates` edges, one finding each, with every escalation as its proof.
fn escalations(g: &AccessGraph, out: &mut Vec<Draft>) {
    let mut by_principal: BTreeMap<NodeIndex, Vec<Path>> = BTreeMap::new();
    for e in g.graph.edge_references() {
        let edge = e.weight();
        if edge.kind != EdgeKind::Escalates || edge.status == EdgeStatus::Denied {
            continue;
        }
        by_principal.entry(e.source()).or_default().push(edge_path(
            g,
            e.source(),
            e.target(),
            edge,
        ));
    }
    for (principal, mut paths) in by_principal {
        paths.sort_by(|a, b| a.target.cmp(&b.target));
        let subject = g.graph[principal].id.clone();
        let nodes = listed(
            std::iter::once(subject.as_str()).chain(paths.iter().map(|p| p.target.as_str())),
        );
        out.push(Draft {
            code: Code::EcsPrivilegeEscalation,
            subject,
            nodes,
            paths,
            blocked: None,
        });
    }
}

/// The task definitions a role serves, and what their containers reference.
type Served<'a> = (BTreeSet<&'a str>, BTreeSet<&'a str>);

/// Execution and task roles that read secrets or parameters beyond what their task definitions
/// reference: the build's `accesses` edges out of the role.
fn breadth(world: &World<'_>, g: &AccessGraph, referenced: &Referenced, out: &mut Vec<Draft>) {
    // Role → (task definitions it serves, what they reference), per plane.
    let mut served: BTreeMap<(Code, &str), Served<'_>> = BTreeMap::new();
    for (td_arn, place) in world.task_definitions() {
        let td = place.definition;
        let roles = [
            (
                td.execution_role_arn.as_deref(),
                Code::ExecutionRoleBroadSecretRead,
            ),
            (
                td.task_role_arn.as_deref(),
                Code::TaskRoleUnreferencedSecretRead,
            ),
        ];
        for (role, code) in roles {
            let Some(role) = role else { continue };
            let entry = served.entry((code, role)).or_default();
            entry.0.insert(td_arn);
            entry.1.extend(
                referenced
                    .get(td_arn)
                    .into_iter()
                    .flatten()
                    .map(String::as_str),
            );
        }
    }
    for ((code, role), (tds, refs)) in served {
        let Some((ix, _)) = g.node(role) else {
            continue;
        };
        let mut paths: Vec<Path> = g
            .graph
            .edges_directed(ix, Direction::Outgoing)
            .filter(|e| {
                let w = e.weight();
                let target = &g.graph[e.target()];
                w.kind == EdgeKind::Accesses
                    && w.status != EdgeStatus::Denied
                    && matches!(target.kind, NodeKind::Secret | NodeKind::SsmParameter)
                    && !refs.contains(target.id.as_str())
            })
            .map(|e| edge_path(g, ix, e.target(), e.weight()))
            .collect();
        if paths.is_empty() {
            continue;
        }
        paths.sort_by(|a, b| a.target.cmp(&b.target));
        let nodes = listed(
            std::iter::once(role)
                .chain(paths.iter().map(|p| p.target.as_str()))
                .chain(tds.iter().copied()),
        );
        out.push(Draft {
            code,
            subject: role.to_string(),
            nodes,
            paths,
            blocked: None,
        });
    }
}

/// The first hop of a path runs in the agent plane.
fn agent_plane(p: &Path) -> bool {
    matches!(
        p.hops.first().map(|h| h.kind),
        Some(EdgeKind::Injects | EdgeKind::Pulls)
    )
}

/// Containers that get a value injected and can also read it through the task plane.
fn both_planes(g: &AccessGraph, out: &mut Vec<Draft>) {
    for c in containers(g) {
        let injected: BTreeSet<NodeIndex> = g
            .graph
            .edges_directed(c, Direction::Outgoing)
            .filter(|e| {
                e.weight().kind == EdgeKind::Injects && e.weight().status != EdgeStatus::Denied
            })
            .map(|e| e.target())
            .collect();
        for target in injected {
            let paths = reach(g, &[c], Some(target), None);
            let (agent, task): (Vec<&Path>, Vec<&Path>) =
                paths.iter().partition(|p| agent_plane(p));
            if agent.is_empty() || task.is_empty() {
                continue;
            }
            let subject = g.graph[c].id.clone();
            let mut nodes = vec![subject.clone(), g.graph[target].id.clone()];
            for h in task.iter().flat_map(|p| &p.hops) {
                push_unique(&mut nodes, &h.to);
            }
            out.push(Draft {
                code: Code::SecretBothPlanes,
                subject,
                nodes,
                paths: agent.into_iter().chain(task).cloned().collect(),
                blocked: None,
            });
        }
    }
}

/// The nodes of a path: its source, its target, then every node it passes.
fn path_nodes(first: &str, p: &Path) -> Vec<String> {
    let mut nodes = vec![first.to_string()];
    push_unique(&mut nodes, &p.source);
    push_unique(&mut nodes, &p.target);
    for h in &p.hops {
        push_unique(&mut nodes, &h.to);
    }
    nodes
}

/// Containers' paths to secrets, parameters and keys of another account.
fn cross_account_paths(g: &AccessGraph, out: &mut Vec<Draft>) {
    // Routes first: only the paths that become findings are copied out of the graph.
    let all = containers(g);
    let found: Vec<Path> = all
        .par_chunks(64)
        .flat_map_iter(|chunk| {
            routes(g, chunk, None, None)
                .into_iter()
                .filter(|r| {
                    matches!(
                        g.graph[r.target].kind,
                        NodeKind::Secret | NodeKind::SsmParameter | NodeKind::KmsKey
                    ) && r.cross_account(g)
                })
                .map(|r| r.path(g))
        })
        .collect();
    for p in found {
        out.push(Draft {
            code: Code::CrossAccountSecretPath,
            subject: p.source.clone(),
            nodes: path_nodes(&p.source, &p),
            paths: vec![p],
            blocked: None,
        });
    }
}

/// Resources that sources outside the snapshot reach: the build's outside nodes, and roles and
/// users that policies name but the snapshot does not hold.
fn exposure(g: &AccessGraph, out: &mut Vec<Draft>) {
    let sources: Vec<NodeIndex> = g
        .graph
        .node_indices()
        .filter(|&n| {
            let node = &g.graph[n];
            node.kind.is_outside()
                || (matches!(node.kind, NodeKind::Role | NodeKind::User) && !node.in_snapshot)
        })
        .collect();
    for p in reach(g, &sources, None, None) {
        let Some((_, source)) = g.node(&p.source) else {
            continue;
        };
        let code = match source.kind {
            NodeKind::Anonymous => Code::ExposureAnonymous,
            NodeKind::AnyPrincipal => Code::ExposureAnyPrincipal,
            NodeKind::Federated => Code::ExposureFederated,
            NodeKind::Organization => Code::ExposureOrganization,
            _ => Code::ExposureExternalAccount,
        };
        out.push(Draft {
            code,
            subject: p.target.clone(),
            nodes: path_nodes(&p.target, &p),
            paths: vec![p],
            blocked: None,
        });
    }
}

/// The configured references of containers that fail: the denied injections and pulls of
/// `containers` (every container of the inventory when `None`), only those naming `to` when it
/// is given. `reach` and `who-can` show them apart from their paths, so that a container's
/// secret that will not arrive is seen where its paths are.
///
/// Each is decided by [`World::container_references`], as the build decides them.
///
/// # Complexity
/// One evaluation per reference of the containers.
pub fn blocked_references(
    inventory: &Inventory,
    containers: Option<&[String]>,
    to: Option<&str>,
) -> Vec<Attempt> {
    let world = World::new(inventory);
    let ids: Vec<String> = match containers {
        Some(ids) => ids.to_vec(),
        None => world
            .task_definitions()
            .flat_map(|(arn, place)| {
                place
                    .definition
                    .containers
                    .iter()
                    .map(move |c| container_id(arn, &c.name))
            })
            .collect(),
    };
    let mut out = Vec::new();
    for id in ids {
        let Some((place, container)) = world.container(&id) else {
            continue;
        };
        for (kind, resource, verdict) in
            world.container_references(place, &id, container, to, &mut Vec::new())
        {
            if to.is_some_and(|t| t != resource.id) {
                continue;
            }
            if let Some(block) = verdict.blocked {
                out.push(Attempt {
                    hop: kind,
                    from: id.clone(),
                    to: resource.id,
                    block,
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.from, &a.to, a.hop).cmp(&(&b.from, &b.to, b.hop)));
    out.dedup();
    out
}
