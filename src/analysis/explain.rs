//! `explain`: why a source does or does not reach a resource.
//!
//! For a pair that is connected, the explanation is its paths, each hop with its proof. For one
//! that is not, every way the source could have reached the target is re-evaluated, and the
//! failing hop that comes closest is reported first with what blocks it.

use std::collections::BTreeSet;

use petgraph::Direction;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;

use super::search::{lookup, reach, resolve_sources};
use super::{Path, QueryError};
use crate::graph::hop::{Ask, Block, Note, On};
use crate::graph::index::TrustIndex;
use crate::graph::kinds;
use crate::graph::outside::Outsiders;
use crate::graph::world::{Caller, World};
use crate::graph::{self, AccessGraph, BuildOptions, EdgeKind, EdgeStatus, NodeKind};
use crate::model::{Diagnostic, Inventory};
use crate::policy::{Blocker, PolicyType};

/// One failed way from the source to the target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The kind of the hop that fails.
    pub hop: EdgeKind,
    /// The hop's start.
    pub from: String,
    /// The hop's end.
    pub to: String,
    /// What blocks it.
    pub block: Block,
}

impl Attempt {
    /// A stable word for what blocks it: `explicit-deny`, `scp`, `rcp`, `identity`, `resource`,
    /// `trust`, `key`, `boundary`, `session`, `aws-managed-key`, or `structure` when the hop
    /// cannot exist at all (no task role, no execution role, a role that does not exist).
    pub fn blocked_by(&self) -> &'static str {
        match &self.block.blocker {
            None => "structure",
            Some(Blocker::Deny(r)) => match r.policy_type {
                PolicyType::Scp => "scp",
                PolicyType::Rcp => "rcp",
                _ => "explicit-deny",
            },
            Some(Blocker::ScpMissingAllow { .. }) => "scp",
            Some(Blocker::IdentityMissingAllow) => "identity",
            Some(Blocker::ResourceMissingAllow {
                policy_type: PolicyType::Trust,
                ..
            }) => "trust",
            Some(Blocker::ResourceMissingAllow {
                policy_type: PolicyType::Key,
                ..
            }) => "key",
            Some(Blocker::ResourceMissingAllow { .. }) => "resource",
            Some(Blocker::BoundaryMissingAllow { .. }) => "boundary",
            Some(Blocker::SessionMissingAllow { .. }) => "session",
            Some(Blocker::AwsManagedKeyCrossAccount) => "aws-managed-key",
            Some(Blocker::NotFound { .. }) => "not-found",
            Some(Blocker::AwsManagedAlias) => "aws-managed-alias",
            Some(Blocker::KeyPolicyMissing) => "key-policy-missing",
            Some(Blocker::KmsNotCrossAccount { .. }) => "kms-not-cross-account",
        }
    }
}

/// The answer to "why, or why not?".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// The `--from` id.
    pub from: String,
    /// The target id.
    pub to: String,
    /// The actions asked about.
    pub actions: Vec<String>,
    /// The paths that work; empty when the target is not reached.
    pub paths: Vec<Path>,
    /// When no path works: the failed attempts, the closest first.
    pub attempts: Vec<Attempt>,
    /// What the evaluation noticed on the way.
    pub diagnostics: Vec<Diagnostic>,
}

impl Explanation {
    /// True when some path works.
    pub fn allowed(&self) -> bool {
        !self.paths.is_empty()
    }
}

/// Explains whether `from` reaches `to`.
///
/// `graph` must have been built from `inventory` with the same actions. `max_depth` bounds the
/// paths as in [`reach`] (`None`: no limit).
///
/// # Errors
/// Unknown ids (with the closest ids), a `from` that is not a source, or a `to` that is not a
/// resource.
///
/// # Complexity
/// The searches of [`reach`], plus one evaluation per (reachable principal, role) pair to find
/// the assume hop that comes closest.
pub fn explain(
    inventory: &Inventory,
    graph: &AccessGraph,
    from: &str,
    to: &str,
    actions: Option<&[String]>,
    max_depth: Option<usize>,
) -> Result<Explanation, QueryError> {
    let (mut explanation, sources) = paths_of(graph, from, to, actions, max_depth)?;
    if !explanation.allowed() {
        attempts(inventory, graph, &sources, max_depth, &mut explanation);
    }
    Ok(explanation)
}

/// As [`explain`], building only what the answer needs instead of taking the full graph:
/// [`graph::build_toward`] the target for the paths, and only when none holds, the trust plane
/// of the organization (task, execution and instance roles and `assumes`, without accesses,
/// escalations or the actions of `options`) for the failed attempts. Returns the explanation
/// and the graph toward the target, whose diagnostics are those of both builds.
///
/// The answer is [`explain`]'s on the full graph: the graph toward the target holds every hop
/// that can lie on a path to it, and the attempts follow only the trust plane from the sources
/// (the property test `explain_on_demand_matches_full_build` checks it).
///
/// # Errors
/// As [`explain`].
///
/// # Complexity
/// That of [`graph::build_toward`], plus, for a "no", a build of the trust plane: no access or
/// escalation is evaluated.
pub fn explain_on_demand(
    inventory: &Inventory,
    from: &str,
    to: &str,
    options: &BuildOptions,
    max_depth: Option<usize>,
) -> Result<(Explanation, AccessGraph), QueryError> {
    let mut toward = graph::build_toward(inventory, to, options);
    let (mut explanation, sources) =
        paths_of(&toward, from, to, options.actions.as_deref(), max_depth)?;
    if !explanation.allowed() {
        let trust = graph::build(
            inventory,
            &BuildOptions {
                actions: Some(Vec::new()),
                no_escalation: true,
                exhaustive: options.exhaustive,
            },
        );
        attempts(inventory, &trust, &sources, max_depth, &mut explanation);
        toward.diagnostics.extend(trust.diagnostics);
        toward.diagnostics.sort();
        toward.diagnostics.dedup();
    }
    Ok((explanation, toward))
}

/// One source of an explanation: its id and kind.
struct Source {
    id: String,
    kind: NodeKind,
}

/// The sources `from` stands for, the target's checks, and the paths that work: an explanation
/// without attempts.
fn paths_of(
    graph: &AccessGraph,
    from: &str,
    to: &str,
    actions: Option<&[String]>,
    max_depth: Option<usize>,
) -> Result<(Explanation, Vec<Source>), QueryError> {
    let sources = resolve_sources(graph, from)?;
    let target = lookup(graph, to)?;
    let target_kind = graph.graph[target].kind;
    if !target_kind.is_resource() {
        return Err(QueryError::WrongKind {
            id: to.to_string(),
            kind: target_kind.as_str(),
            expected: "a resource",
        });
    }
    let actions = kinds::actions_for(target_kind, actions);
    let paths = reach(graph, &sources, Some(target), max_depth);
    let explanation = Explanation {
        from: from.to_string(),
        to: to.to_string(),
        actions,
        paths,
        attempts: Vec::new(),
        diagnostics: Vec::new(),
    };
    let sources = sources
        .into_iter()
        .map(|s| Source {
            id: graph.graph[s].id.clone(),
            kind: graph.graph[s].kind,
        })
        .collect();
    Ok((explanation, sources))
}

/// Fills in the failed attempts of `explanation`, whose target no source reaches: every way the
/// sources could have reached it, re-evaluated, the closest first. `graph` needs to hold only the
/// trust plane from the sources (task, instance roles and `assumes`); a source it lacks has none.
fn attempts(
    inventory: &Inventory,
    graph: &AccessGraph,
    sources: &[Source],
    max_depth: Option<usize>,
    explanation: &mut Explanation,
) {
    let to = explanation.to.clone();
    let to = to.as_str();
    let actions = explanation.actions.clone();
    let world = World::new(inventory);
    let outside = Outsiders::scan(&world);
    let trusts = TrustIndex::new(&world);
    let mut diags = Vec::new();
    let mut ranked: Vec<(u8, usize, Attempt)> = Vec::new();
    let resource = world
        .resources
        .get(to)
        .cloned()
        .or_else(|| world.placeholder(to));

    // Principals the sources reach, with their distance.
    let mut principals: Vec<(usize, NodeIndex)> = Vec::new();
    let mut seen = BTreeSet::new();
    for s in sources.iter().filter_map(|s| graph.index.get(&s.id)) {
        let mut frontier = vec![*s];
        let mut depth = 0;
        while !frontier.is_empty() && max_depth.is_none_or(|m| depth <= m) {
            let mut next = Vec::new();
            for n in frontier {
                if !seen.insert(n) {
                    continue;
                }
                if matches!(graph.graph[n].kind, NodeKind::Role | NodeKind::User) {
                    principals.push((depth, n));
                }
                for e in graph.graph.edges_directed(n, Direction::Outgoing) {
                    let w = e.weight();
                    if matches!(
                        w.kind,
                        EdgeKind::TaskRole | EdgeKind::InstanceRole | EdgeKind::Assumes
                    ) && w.status != EdgeStatus::Denied
                    {
                        next.push(e.target());
                    }
                }
            }
            frontier = next;
            depth += 1;
        }
    }
    principals.sort();
    let reached_any = !principals.is_empty();

    for node in sources {
        if node.kind != NodeKind::Container {
            continue;
        }
        let Some((place, container)) = world.container(&node.id) else {
            continue;
        };
        match &place.definition.task_role_arn {
            None => ranked.push((
                if reached_any { 4 } else { 1 },
                0,
                Attempt {
                    hop: EdgeKind::TaskRole,
                    from: node.id.clone(),
                    to: "(no task role)".to_string(),
                    block: Block {
                        request: Ask {
                            on: On::Nothing,
                            ..Ask::call(&node.id, "task role", "")
                        },
                        blocker: None,
                        message: Note::NoTaskRole,
                    },
                },
            )),
            Some(role) => {
                let v = world.ecs_trust(
                    role,
                    place.account,
                    place.region,
                    place.partition,
                    &mut diags,
                );
                if let Some(block) = v.blocked {
                    ranked.push((
                        if reached_any { 3 } else { 1 },
                        0,
                        Attempt {
                            hop: EdgeKind::TaskRole,
                            from: node.id.clone(),
                            to: role.clone(),
                            block,
                        },
                    ));
                }
            }
        }
        // The agent plane: the definition names the target. The build takes a container's
        // references from the same function.
        if resource.is_none() {
            continue;
        }
        for (kind, r, v) in
            world.container_references(place, &node.id, container, Some(to), &mut Vec::new())
        {
            if r.id != to {
                continue;
            }
            if let Some(block) = v.blocked {
                ranked.push((
                    0,
                    0,
                    Attempt {
                        hop: kind,
                        from: node.id.clone(),
                        to: to.to_string(),
                        block,
                    },
                ));
            }
        }
    }

    if let Some(resource) = &resource {
        let caller_of = |n: NodeIndex| {
            let id = graph.graph[n].id.as_str();
            match (world.roles.get(id), world.users.get(id)) {
                (Some(r), _) => Some(Caller::Role(r)),
                (None, Some(u)) => Some(Caller::User(u)),
                _ => None,
            }
        };
        for &(depth, p) in &principals {
            let Some(caller) = caller_of(p) else { continue };
            let v = world.access(&world.prepare(caller), resource, &actions, &mut diags);
            if let Some(block) = v.blocked {
                let rank = closeness(&block);
                ranked.push((
                    rank,
                    depth + 1,
                    Attempt {
                        hop: EdgeKind::Accesses,
                        from: caller.id().to_string(),
                        to: to.to_string(),
                        block,
                    },
                ));
            }
        }
        let could_read = |role: &crate::model::Role| {
            world
                .access(
                    &world.prepare(Caller::Role(role)),
                    resource,
                    &actions,
                    &mut Vec::new(),
                )
                .status
                != EdgeStatus::Denied
        };
        // Principals outside the snapshot and service principals: the roles whose trust admits
        // them (as the build finds them) and that could read the target.
        for node in sources {
            let outsider = outside.get(&node.id);
            let roles: Vec<&str> = match (node.kind, outsider) {
                (NodeKind::ServicePrincipal, _) => world
                    .roles
                    .keys()
                    .copied()
                    .filter(|arn| trusts.services_of(arn).any(|svc| svc == node.id))
                    .collect(),
                (_, Some(_)) => outside.roles_trusting(&node.id).collect(),
                _ => continue,
            };
            for arn in roles {
                let Some(role) = world.roles.get(arn) else {
                    continue;
                };
                if !could_read(role) {
                    continue;
                }
                let v = match outsider {
                    Some(o) => world.assume(&world.prepare(Caller::Outside(o)), role, &mut diags),
                    None => world.service_assume(&node.id, role, &mut diags),
                };
                if let Some(block) = v.blocked {
                    ranked.push((
                        closeness(&block),
                        1,
                        Attempt {
                            hop: EdgeKind::Assumes,
                            from: node.id.clone(),
                            to: arn.to_string(),
                            block,
                        },
                    ));
                }
            }
        }
        // Roles that could read the target but that no reached principal may assume; only
        // roles whose trust names the caller, its account or anyone come close.
        let reached: BTreeSet<&str> = principals
            .iter()
            .map(|&(_, p)| graph.graph[p].id.as_str())
            .collect();
        for (arn, role) in &world.roles {
            if reached.contains(arn) || !could_read(role) {
                continue;
            }
            for &(depth, p) in &principals {
                let Some(caller) = caller_of(p) else { continue };
                if !trusts.names(arn, caller.id()) {
                    continue;
                }
                let v = world.assume(&world.prepare(caller), role, &mut diags);
                if let Some(block) = v.blocked {
                    ranked.push((
                        closeness(&block),
                        depth + 1,
                        Attempt {
                            hop: EdgeKind::Assumes,
                            from: caller.id().to_string(),
                            to: arn.to_string(),
                            block,
                        },
                    ));
                }
            }
        }
    }
    // Closest first: what the definition itself names, then hops the caller's own policies
    // attempt (something other than a missing identity Allow blocks them), then the rest. Among
    // equals, the nearest hop; then, for hops the caller attempts, its direct access before a
    // detour, and for hops it does not, the assume of a role that could reach the target (the
    // route the policies were written for) before a direct access it never had.
    ranked.sort_by(|a, b| {
        let key = |r: &(u8, usize, Attempt)| {
            let detour_first = r.0 >= 4;
            (
                r.0,
                r.1,
                (r.2.hop == EdgeKind::Accesses) == detour_first,
                r.2.from.clone(),
                r.2.to.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    ranked.dedup_by(|a, b| a.2 == b.2);
    explanation.attempts = ranked.into_iter().map(|(_, _, a)| a).collect();
    diags.sort();
    diags.dedup();
    explanation.diagnostics = diags;
}

/// How close a failed hop comes: 2 when the caller's own identity policy allows it and something
/// else blocks it, 4 when the caller's identity policies do not even try.
fn closeness(block: &Block) -> u8 {
    match block.blocker {
        Some(Blocker::IdentityMissingAllow) | None => 4,
        _ => 2,
    }
}
