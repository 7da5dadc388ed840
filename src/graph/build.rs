//! Building the graph from an inventory: nodes for everything the snapshot holds or names, and
//! an evaluated edge for every hop the policies allow.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};
use rustc_hash::{FxHashMap, FxHashSet};

use rayon::prelude::*;

use super::escalation::{Targets, Wanted, may_escalate};
use super::hop::{Imds, Note, Verdict};
use super::index::{IdentityMatcher, ResourceIndex, TrustIndex, statement_services};
use super::kinds;
use super::outside::{Outsider, Outsiders};
use super::share::{self, Sharing};
use super::world::{Caller, Prepared, ResourceInfo, TaskPlace, World, container_id};
use super::{AccessGraph, Edge, EdgeKind, EdgeStatus, Node, NodeKind, Proof};
use crate::model::arn::{account_root, last_segment};
use crate::model::{self, Diagnostic, Inventory};
use crate::policy::{OpenCondition, Reason};

/// How many callers are decided in parallel before their verdicts join the graph.
const CHUNK: usize = 256;

/// Decides `items` a chunk of `size` at a time, each chunk in parallel, and hands every chunk's
/// results to `merge` in order, so the graph does not depend on scheduling. The verdicts in
/// flight stay bounded (two chunks), and one chunk is merged while the next is decided: merging
/// (interning ids and proofs into the builder) is sequential, and would otherwise leave the
/// other cores idle.
fn pipelined<T: Sync, R: Send>(
    items: &[T],
    size: usize,
    decide: impl Fn(&[T]) -> R + Sync,
    mut merge: impl FnMut(&[T], R) + Send,
) {
    let mut chunks = items.chunks(size);
    let Some(first) = chunks.next() else {
        return;
    };
    let mut current = (first, decide(first));
    for next in chunks {
        let (chunk, decided) = current;
        let ((), after) = rayon::join(|| merge(chunk, decided), || decide(next));
        current = (next, after);
    }
    merge(current.0, current.1);
}

/// Options for [`build`].
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// The actions to evaluate on resources; `None` means each resource type's defaults
    /// ([`kinds::default_actions`]). Actions of another service than the resource's are
    /// skipped ([`kinds::actions_for`]).
    pub actions: Option<Vec<String>>,
    /// Evaluate every (principal, resource) pair instead of the indexed candidates. The result is
    /// the same (the candidate indexes only skip pairs that are surely denied); this exists to
    /// check that claim, and is quadratic.
    pub exhaustive: bool,
    /// Leave out `escalates` edges (ECS privilege escalation), and the work of finding them.
    pub no_escalation: bool,
}

/// Builds the access graph of an inventory.
///
/// Every edge is decided by [`crate::policy::evaluate`]: `task-role` and `execution-role` by the
/// role's trust of `ecs-tasks.amazonaws.com`, `assumes` by R5.1 on both sides, `accesses` by the
/// resource type's actions, and `injects`/`pulls` by what the execution role may read. Edges the
/// policies deny are kept only where the snapshot itself makes the reference (a task definition
/// naming a role, secret or image), with what blocks them.
///
/// # Complexity
/// Near-linear: each principal is evaluated against the resources its identity patterns could
/// match in its own account and the resources whose policies could name it (see
/// [`super::index`]), not against every resource; trust edges are evaluated for the principals
/// each trust policy names. Callers are evaluated in parallel.
pub fn build(inventory: &Inventory, options: &BuildOptions) -> AccessGraph {
    let world = World::new(inventory);
    let found = Outsiders::scan(&world);
    let mut b = Builder::new(&world);
    b.accounts();
    b.principals();
    for r in world.resources.values() {
        b.resource_node(r);
    }
    b.ecs();
    let prepared: BTreeMap<&str, Prepared<'_>> = b
        .world
        .callers()
        .par_iter()
        .map(|c| (c.id(), world.prepare(*c)))
        .collect();
    for p in prepared.values() {
        b.diagnostics.extend(p.diagnostics.iter().cloned());
    }
    let outside: BTreeMap<&str, Prepared<'_>> = found
        .list
        .iter()
        .map(|o| (o.id(), world.prepare(Caller::Outside(o))))
        .collect();
    b.trust_edges(&prepared, &found, &outside);
    b.access_edges(options, &prepared, &found, &outside);
    if !options.no_escalation {
        let targets = Targets::new(&world, options.exhaustive, None);
        let callers: Vec<&Prepared<'_>> = prepared.values().collect();
        pipelined(
            &callers,
            CHUNK,
            escalations_of(&world, &targets),
            |_, decided| {
                for (from, edges, diags) in decided {
                    b.diagnostics.extend(diags);
                    for (to, verdict) in edges {
                        b.edge(from, &to, EdgeKind::Escalates, verdict);
                    }
                }
            },
        );
        b.diagnostics.extend(targets.diagnostics);
    }
    b.finish()
}

/// Every escalation of the given prepared callers (see [`super::escalation`]), decided in parallel
/// and listed in caller order, each caller with what its evaluations warned of.
type Escalations<'a> = Vec<(&'a str, Vec<(String, Verdict)>, Vec<Diagnostic>)>;

fn escalations<'a>(
    world: &World<'a>,
    targets: &Targets<'a>,
    callers: &[&Prepared<'a>],
) -> Escalations<'a> {
    if targets.is_empty() {
        return Vec::new();
    }
    callers
        .par_iter()
        .map(|p| {
            let mut diags = Vec::new();
            let found = targets.of(world, p, &mut diags);
            (p.id(), found, diags)
        })
        .collect()
}

/// The verdict of each (caller, role) pair's `assume`, decided in parallel; `None` for a caller
/// that is not prepared.
fn assumed<'a>(
    world: &World<'a>,
    prepared: &BTreeMap<&'a str, Prepared<'a>>,
    pairs: &[(&'a str, &'a model::Role)],
) -> Vec<Option<(Verdict, Vec<Diagnostic>)>> {
    pairs
        .par_iter()
        .map(|(caller, role)| {
            let p = prepared.get(caller)?;
            let mut diags = Vec::new();
            let verdict = world.assume(p, role, &mut diags);
            Some((verdict, diags))
        })
        .collect()
}

/// [`escalations`] of a chunk of callers, for [`pipelined`].
fn escalations_of<'w, 'a>(
    world: &'w World<'a>,
    targets: &'w Targets<'a>,
) -> impl Fn(&[&Prepared<'a>]) -> Escalations<'a> + Sync + 'w {
    move |chunk| escalations(world, targets, chunk)
}

/// The callers of a build toward one target that may escalate, prepared when the first
/// escalation is asked for.
struct Escalating<'a> {
    may: Vec<Caller<'a>>,
    prepared: Option<BTreeMap<&'a str, Prepared<'a>>>,
    exhaustive: bool,
}

impl<'a> Escalating<'a> {
    /// Adds the escalations into the `wanted` roles and containers (only those: nothing else is
    /// indexed or evaluated) to `b`; a role or user of the snapshot that escalates joins `roles`
    /// and `queue`, to be followed like any role reached.
    fn join<'q>(
        &mut self,
        b: &mut Builder<'_, 'a>,
        wanted: &Wanted<'_>,
        roles: &mut BTreeSet<String>,
        queue: &mut Vec<&'q str>,
    ) where
        'a: 'q,
    {
        let world = b.world;
        let callers = self.prepared.get_or_insert_with(|| {
            self.may
                .par_iter()
                .map(|c| (c.id(), world.prepare(*c)))
                .collect()
        });
        let targets = Targets::new(world, self.exhaustive, Some(wanted));
        b.diagnostics.extend(targets.diagnostics.iter().cloned());
        let callers: Vec<&Prepared<'a>> = callers.values().collect();
        for (from, edges, diags) in escalations(world, &targets, &callers) {
            b.diagnostics.extend(diags);
            for (to, verdict) in edges {
                if !(wanted.roles.contains(&to) || wanted.containers.contains(&to)) {
                    continue;
                }
                b.edge(from, &to, EdgeKind::Escalates, verdict);
                if world.roles.contains_key(from) && roles.insert(from.to_string()) {
                    queue.push(from);
                }
            }
        }
    }
}

/// What a build toward one target keeps: the target, and the roles from which it can be reached.
/// Hops that cannot lie on a path to the target are not evaluated.
struct Focus {
    target: String,
    roles: BTreeSet<String>,
}

/// An interned id ([`Builder::intern`]), compared and hashed by address: every id an edge key
/// holds is the one shared copy of its text, so equal addresses are equal ids and the reverse.
#[derive(Clone)]
struct Id(Arc<str>);

impl PartialEq for Id {
    fn eq(&self, other: &Id) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Id {}

impl std::hash::Hash for Id {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.0).cast::<u8>().hash(state);
    }
}

struct Builder<'w, 'a> {
    focus: Option<Focus>,
    world: &'w World<'a>,
    /// Nodes by id; put in id order by [`Builder::finish`].
    nodes: FxHashMap<String, Node>,
    /// Edges by (from, to, kind); put in that order by [`Builder::finish`].
    edges: FxHashMap<(Id, Id, EdgeKind), Edge>,
    diagnostics: Vec<Diagnostic>,
    /// One shared copy of every id and statement label that edges cite: millions of edges cite
    /// the same few thousand policies and nodes.
    interned: FxHashSet<Arc<str>>,
    lists: Lists,
}

fn account_of(arn: &str) -> Option<String> {
    model::arn::account_of(arn).map(str::to_string)
}

/// Builds the part of the access graph that can end at `target`: every node, and the hops that
/// can lie on a path to it. `who_can` (in `analysis`) on the result gives exactly what it
/// gives on [`build`]'s graph (the property test `who_can_toward_matches_full_build` checks
/// it), for a fraction of the work.
///
/// The search runs backwards from the target, through the same indexes and evaluators as
/// [`build`]:
/// - the callers that may act on it: those [`super::index`] would make candidates for it, each
///   evaluated as in the full build; and the outsiders its policy admits;
/// - then, role by role, the principals, services and outsiders whose trust edge into a role
///   already reached holds ([`TrustIndex`]), until no new role appears;
/// - then the containers whose task role, task override or instance role is one of those roles,
///   and the containers that inject or pull the target itself;
/// - and the escalations into the roles and containers reached, found forward from the callers
///   that may escalate but only into those, each asked once; a principal that escalates is then
///   followed like any reached role, until no new role appears.
///
/// Warnings are those of the hops evaluated. A target that is not a resource of the snapshot
/// (or an unknown id) gets the full build, so lookups and suggestions do not change.
pub fn build_toward(inventory: &Inventory, target: &str, options: &BuildOptions) -> AccessGraph {
    let world = World::new(inventory);
    let Some(resource) = world.resources.get(target).cloned() else {
        return build(inventory, options);
    };
    let found = Outsiders::scan(&world);
    let mut b = Builder::new(&world);
    b.accounts();
    b.principals();
    for r in world.resources.values() {
        b.resource_node(r);
    }
    let actions = kinds::actions_for(resource.kind, options.actions.as_deref());
    let one = std::slice::from_ref(&resource);
    let index = ResourceIndex::new(one);
    // The callers that may act on the target, decided in parallel.
    let callers = world.callers();
    // Every caller is read, and says when the snapshot lacks one of its policies or groups,
    // whether or not it turns out to be a candidate: the missing policy could be the one that
    // would let it reach the target. The candidates are then decided in parallel.
    // Each also says whether it may escalate (see `escalation::may_escalate`).
    let decided: Vec<(Caller<'_>, Option<Verdict>, Vec<Diagnostic>, bool)> = callers
        .par_iter()
        .map(|caller| {
            let (identity, mut diags) = world.identity_policies(*caller);
            let docs = identity.iter().map(|o| o.doc);
            let escalates = !options.no_escalation && may_escalate(docs.clone());
            if actions.is_empty() || candidates(caller.id(), docs, one, &index).is_empty() {
                return (*caller, None, diags, escalates);
            }
            // `prepare` reads the same identity policies, and the same warnings.
            let p = world.prepare(*caller);
            let verdict = world.access(&p, &resource, &actions, &mut diags);
            let held = (verdict.status != EdgeStatus::Denied).then_some(verdict);
            (*caller, held, diags, escalates)
        })
        .collect();
    let mut roles: BTreeSet<String> = BTreeSet::new();
    let mut queue: Vec<&str> = Vec::new();
    let mut may_escalate_callers: Vec<Caller<'_>> = Vec::new();
    for (caller, verdict, diags, escalates) in decided {
        b.diagnostics.extend(diags);
        if escalates {
            may_escalate_callers.push(caller);
        }
        let Some(verdict) = verdict else { continue };
        b.edge(caller.id(), &resource.id, EdgeKind::Accesses, verdict);
        if let Caller::Role(r) = caller {
            if roles.insert(r.arn.clone()) {
                queue.push(&r.arn);
            }
        }
    }
    let mut outside: BTreeMap<&str, Prepared<'_>> = BTreeMap::new();
    for id in found.list.iter().map(Outsider::id) {
        let admitted = found.resources.get(id).is_some_and(|r| r.contains(target));
        if admitted && !actions.is_empty() {
            let o = found
                .get(id)
                .map(|o| (o, world.prepare(Caller::Outside(o))));
            if let Some((o, p)) = o {
                let mut diags = Vec::new();
                let verdict = world.access(&p, &resource, &actions, &mut diags);
                b.diagnostics.extend(diags);
                b.outside_edge(o, target, EdgeKind::Accesses, verdict);
                outside.insert(id, p);
            }
        }
    }
    // Backwards through trusts, one layer of roles at a time.
    let trusts = TrustIndex::new(&world);
    b.diagnostics.extend(trusts.diagnostics.iter().cloned());
    b.diagnostics.extend(found.diagnostics.iter().cloned());
    let mut trusted_by_outsiders: BTreeMap<&str, Vec<&Outsider>> = BTreeMap::new();
    for o in &found.list {
        for role in found.roles_trusting(o.id()) {
            trusted_by_outsiders.entry(role).or_default().push(o);
        }
    }
    let mut prepared: BTreeMap<&str, Prepared<'_>> = BTreeMap::new();
    // Escalations are found forward from the callers that may escalate (as in the full build),
    // but only into the roles and containers found on a path to the target, each asked once;
    // the callers are prepared when the first is found.
    let mut escalating = Escalating {
        may: may_escalate_callers,
        prepared: None,
        exhaustive: options.exhaustive,
    };
    let mut asked_roles: BTreeSet<String> = BTreeSet::new();
    let mut asked_containers: BTreeSet<String> = BTreeSet::new();
    let none = BTreeSet::new();
    // Until no new role appears: roles backwards through trusts and escalations into them, then
    // the containers that reach the target and the escalations into those.
    loop {
        while !queue.is_empty() {
            let layer = std::mem::take(&mut queue);
            let pairs: Vec<(&str, &model::Role)> = layer
                .iter()
                .filter_map(|arn| world.roles.get(arn).map(|r| (*arn, *r)))
                .flat_map(|(arn, role)| trusts.callers_of(arn).map(move |c| (c, role)))
                .collect();
            let callers: BTreeSet<&str> = pairs.iter().map(|(c, _)| *c).collect();
            let fresh: Vec<Caller<'_>> = callers
                .into_iter()
                .filter(|c| !prepared.contains_key(c))
                .filter_map(|c| match (world.roles.get(c), world.users.get(c)) {
                    (Some(r), _) => Some(Caller::Role(r)),
                    (None, Some(u)) => Some(Caller::User(u)),
                    _ => None,
                })
                .collect();
            let made: Vec<Prepared<'_>> = fresh.par_iter().map(|c| world.prepare(*c)).collect();
            for p in made {
                b.diagnostics.extend(p.diagnostics.iter().cloned());
                prepared.insert(p.id(), p);
            }
            let verdicts = assumed(&world, &prepared, &pairs);
            for ((caller, role), decided) in pairs.into_iter().zip(verdicts) {
                let Some((verdict, diags)) = decided else {
                    continue;
                };
                b.diagnostics.extend(diags);
                if verdict.status == EdgeStatus::Denied {
                    continue;
                }
                b.edge(caller, &role.arn, EdgeKind::Assumes, verdict);
                if world.roles.contains_key(caller) && roles.insert(caller.to_string()) {
                    queue.push(caller);
                }
            }
            for arn in layer {
                let Some(role) = world.roles.get(arn) else {
                    continue;
                };
                for service in trusts.services_of(arn) {
                    b.service_edge(service, role);
                }
                for o in trusted_by_outsiders.get(arn).into_iter().flatten() {
                    let p = outside
                        .entry(o.id())
                        .or_insert_with(|| world.prepare(Caller::Outside(o)));
                    let mut diags = Vec::new();
                    let verdict = world.assume(p, role, &mut diags);
                    b.diagnostics.extend(diags);
                    b.outside_edge(o, arn, EdgeKind::Assumes, verdict);
                }
            }
        }
        let fresh: BTreeSet<String> = roles.difference(&asked_roles).cloned().collect();
        if !options.no_escalation && !fresh.is_empty() {
            asked_roles.extend(fresh.iter().cloned());
            let wanted = Wanted {
                roles: &fresh,
                containers: &none,
            };
            escalating.join(&mut b, &wanted, &mut roles, &mut queue);
        }
        // The containers: task roles among those reached, and references to the target.
        b.focus = Some(Focus {
            target: target.to_string(),
            roles: roles.clone(),
        });
        b.ecs();
        let containers: BTreeSet<String> = b
            .edges
            .iter()
            .filter(|((Id(from), _, kind), edge)| {
                edge.status != EdgeStatus::Denied
                    && matches!(
                        kind,
                        EdgeKind::TaskRole
                            | EdgeKind::InstanceRole
                            | EdgeKind::Injects
                            | EdgeKind::Pulls
                    )
                    && b.nodes
                        .get(&**from)
                        .is_some_and(|n| n.kind == NodeKind::Container)
            })
            .map(|((Id(from), _, _), _)| from.to_string())
            .filter(|c| !asked_containers.contains(c))
            .collect();
        if !options.no_escalation && !containers.is_empty() {
            asked_containers.extend(containers.iter().cloned());
            let wanted = Wanted {
                roles: &none,
                containers: &containers,
            };
            escalating.join(&mut b, &wanted, &mut roles, &mut queue);
        }
        if queue.is_empty() {
            break;
        }
    }
    b.finish()
}

/// The one shared copy of each distinct proof edges carry, and of each distinct list in one
/// (see [`Proof`]).
#[derive(Default)]
struct Lists {
    strings: FxHashSet<Arc<[String]>>,
    notes: FxHashSet<Arc<[Note]>>,
    reasons: FxHashSet<Arc<[Reason]>>,
    conditions: FxHashSet<Arc<[OpenCondition]>>,
    /// Proofs by the addresses of their (shared) lists: equal addresses, equal lists.
    proofs: FxHashMap<[usize; 4], Arc<Proof>>,
}

impl Lists {
    /// The shared copy of the proof made of these lists.
    fn proof(
        &mut self,
        actions: Vec<String>,
        because: Vec<Reason>,
        conditions: Vec<OpenCondition>,
        notes: Vec<Note>,
    ) -> Arc<Proof> {
        let proof = Proof {
            actions: share(&mut self.strings, actions),
            because: share(&mut self.reasons, because),
            conditions: share(&mut self.conditions, conditions),
            notes: share(&mut self.notes, notes),
        };
        let key = [
            Arc::as_ptr(&proof.actions).cast::<()>().addr(),
            Arc::as_ptr(&proof.because).cast::<()>().addr(),
            Arc::as_ptr(&proof.conditions).cast::<()>().addr(),
            Arc::as_ptr(&proof.notes).cast::<()>().addr(),
        ];
        self.proofs
            .entry(key)
            .or_insert_with(|| Arc::new(proof))
            .clone()
    }
}

/// The shared copy of `items`.
fn share<T: Eq + std::hash::Hash>(set: &mut FxHashSet<Arc<[T]>>, items: Vec<T>) -> Arc<[T]> {
    match set.get(items.as_slice()) {
        Some(shared) => shared.clone(),
        None => {
            let shared: Arc<[T]> = Arc::from(items);
            set.insert(shared.clone());
            shared
        }
    }
}

impl<'w, 'a> Builder<'w, 'a> {
    fn new(world: &'w World<'a>) -> Builder<'w, 'a> {
        Builder {
            focus: None,
            world,
            nodes: FxHashMap::default(),
            edges: FxHashMap::default(),
            diagnostics: Vec::new(),
            interned: FxHashSet::default(),
            lists: Lists::default(),
        }
    }
}

impl<'a> Builder<'_, 'a> {
    fn node(
        &mut self,
        id: &str,
        kind: NodeKind,
        account: Option<String>,
        label: String,
        parent: Option<String>,
        in_snapshot: bool,
    ) {
        self.nodes.entry(id.to_string()).or_insert(Node {
            id: id.to_string(),
            kind,
            account,
            label,
            parent,
            in_snapshot,
        });
    }

    fn edge(&mut self, from: &str, to: &str, kind: EdgeKind, verdict: Verdict) {
        let cross_account = match (
            self.nodes.get(from).and_then(|n| n.account.as_deref()),
            self.nodes.get(to).and_then(|n| n.account.as_deref()),
        ) {
            (Some(a), Some(b)) => a != b,
            _ => false,
        };
        let mut because = verdict.because;
        for r in &mut because {
            r.policy = self.intern(&r.policy);
            r.statement = self.intern(&r.statement);
        }
        let mut conditions = verdict.conditions;
        for c in &mut conditions {
            c.policy = self.intern(&c.policy);
            c.statement = self.intern(&c.statement);
        }
        let edge = Edge {
            kind,
            status: verdict.status,
            cross_account,
            proof: self
                .lists
                .proof(verdict.actions, because, conditions, verdict.notes),
        };
        let key = (Id(self.intern(from)), Id(self.intern(to)), kind);
        match self.edges.get_mut(&key) {
            // The same hop reached twice (a task definition and a task override naming one role):
            // keep the stronger.
            Some(existing) if existing.status >= edge.status => {}
            _ => {
                self.edges.insert(key, edge);
            }
        }
    }

    /// The shared copy of `text`.
    fn intern(&mut self, text: &str) -> Arc<str> {
        match self.interned.get(text) {
            Some(shared) => shared.clone(),
            None => {
                let shared: Arc<str> = Arc::from(text);
                self.interned.insert(shared.clone());
                shared
            }
        }
    }

    fn structural(&mut self, from: &str, to: &str, kind: EdgeKind) {
        let v = Verdict {
            status: EdgeStatus::Allowed,
            actions: vec![],
            because: vec![],
            conditions: vec![],
            notes: vec![],
            blocked: None,
        };
        self.edge(from, to, kind, v);
    }

    /// True when hops into `role` can lie on a path the build keeps: always, unless the build
    /// is toward one target that `role` does not reach.
    fn toward(&self, role: &str) -> bool {
        self.focus.as_ref().is_none_or(|f| f.roles.contains(role))
    }

    fn accounts(&mut self) {
        for a in &self.world.inventory.accounts {
            let label = a.name.clone().unwrap_or_else(|| a.id.clone());
            self.node(
                &account_root(&a.partition, &a.id),
                NodeKind::Account,
                Some(a.id.clone()),
                label,
                None,
                true,
            );
        }
    }

    fn principals(&mut self) {
        for (arn, role) in &self.world.roles {
            self.node(
                arn,
                NodeKind::Role,
                account_of(arn),
                role.name.clone(),
                None,
                true,
            );
            if let Some(b) = &role.boundary {
                if self
                    .world
                    .inventory
                    .accounts
                    .iter()
                    .all(|a| a.iam.iter().all(|i| i.policies.iter().all(|p| &p.arn != b)))
                {
                    self.diagnostics.push(Diagnostic::warning(
                        "boundary-not-in-snapshot",
                        *arn,
                        format!("permissions boundary `{b}` is not in the snapshot; it is treated as absent"),
                    ));
                }
            }
        }
        for (arn, user) in &self.world.users {
            self.node(
                arn,
                NodeKind::User,
                account_of(arn),
                user.name.clone(),
                None,
                true,
            );
        }
    }

    fn resource_node(&mut self, r: &ResourceInfo<'_>) {
        self.node(
            &r.id,
            r.kind,
            (!r.account.is_empty()).then(|| r.account.clone()),
            r.label.clone(),
            None,
            r.in_snapshot,
        );
    }

    fn role_node(&mut self, arn: &str) {
        if !self.nodes.contains_key(arn) {
            let label = last_segment(arn).to_string();
            self.node(arn, NodeKind::Role, account_of(arn), label, None, false);
        }
    }

    fn ecs(&mut self) {
        let world = self.world;
        // Which services run each task definition, to nest it under a single one.
        let mut runners: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for account in &world.inventory.accounts {
            for r in account.regions.values() {
                let Some(ecs) = &r.ecs else { continue };
                for c in ecs.clusters.iter().flatten() {
                    self.node(
                        &c.arn,
                        NodeKind::Cluster,
                        Some(account.id.clone()),
                        c.name.clone(),
                        None,
                        true,
                    );
                }
                for s in ecs.services.iter().flatten() {
                    if let Some(td) = &s.task_definition {
                        runners.entry(td).or_default().push(&s.arn);
                    }
                }
            }
        }
        for account in &world.inventory.accounts {
            for r in account.regions.values() {
                let Some(ecs) = &r.ecs else { continue };
                for s in ecs.services.iter().flatten() {
                    if let Some(cluster) = &s.cluster_arn {
                        let name = last_segment(cluster).to_string();
                        self.node(
                            cluster,
                            NodeKind::Cluster,
                            Some(account.id.clone()),
                            name,
                            None,
                            false,
                        );
                    }
                    self.node(
                        &s.arn,
                        NodeKind::Service,
                        Some(account.id.clone()),
                        s.name.clone(),
                        s.cluster_arn.clone(),
                        true,
                    );
                    if let Some(cluster) = &s.cluster_arn {
                        self.structural(cluster, &s.arn, EdgeKind::Runs);
                    }
                    if let Some(td) = &s.task_definition {
                        if world.task_definition(td).is_none() {
                            self.diagnostics.push(Diagnostic::warning(
                                "task-definition-not-in-snapshot",
                                td.clone(),
                                format!("service `{}` runs this task definition, which the snapshot does not hold", s.arn),
                            ));
                            let label = last_segment(td).to_string();
                            self.node(
                                td,
                                NodeKind::TaskDefinition,
                                account_of(td),
                                label,
                                Some(s.arn.clone()),
                                false,
                            );
                        }
                        self.structural(&s.arn, td, EdgeKind::Runs);
                    }
                }
            }
        }
        for (arn, place) in world.task_definitions() {
            let parent = match runners.get(arn).map(Vec::as_slice) {
                Some([one]) => Some(one.to_string()),
                _ => None,
            };
            let label = last_segment(arn).to_string();
            self.node(
                arn,
                NodeKind::TaskDefinition,
                Some(place.account.to_string()),
                label.clone(),
                parent,
                true,
            );
            self.task_definition(place, &label);
        }
        self.instance_roles();
        // Running tasks may override the task role.
        for account in &world.inventory.accounts {
            for (region, r) in &account.regions {
                for task in r.ecs.iter().flat_map(|e| e.tasks.iter().flatten()) {
                    let Some(role) = &task.task_role_override else {
                        continue;
                    };
                    if !self.toward(role) {
                        continue;
                    }
                    let Some(place) = world.task_definition(&task.task_definition_arn) else {
                        continue;
                    };
                    let mut diags = Vec::new();
                    let verdict =
                        world.ecs_trust(role, &account.id, region, &account.partition, &mut diags);
                    self.diagnostics.extend(diags);
                    self.role_node(role);
                    for c in &place.definition.containers {
                        let id = container_id(&place.definition.arn, &c.name);
                        let v = verdict.clone();
                        let v = Verdict {
                            notes: [
                                v.notes,
                                vec![Note::TaskOverride {
                                    task: task.arn.clone(),
                                }],
                            ]
                            .concat(),
                            ..v
                        };
                        self.edge(&id, role, EdgeKind::TaskRole, v);
                    }
                }
            }
        }
    }

    /// Containers of tasks that may run on EC2 container instances reach the instance's role
    /// through the instance metadata service (R4.1): a conditional `instance-role` edge, unless
    /// the network mode or a known agent setting blocks it. Fargate tasks never get one.
    fn instance_roles(&mut self) {
        let world = self.world;
        // (task definition, cluster) pairs that may run on EC2, with why.
        let mut placements: BTreeMap<(&str, String), String> = BTreeMap::new();
        for account in &world.inventory.accounts {
            for r in account.regions.values() {
                let Some(ecs) = &r.ecs else { continue };
                for s in ecs.services.iter().flatten() {
                    let (Some(td), Some(cluster)) = (&s.task_definition, &s.cluster_arn) else {
                        continue;
                    };
                    let fargate_only = s.launch_type.as_deref() == Some("FARGATE")
                        || (!s.capacity_providers.is_empty()
                            && s.capacity_providers
                                .iter()
                                .all(|c| c == "FARGATE" || c == "FARGATE_SPOT"));
                    if !fargate_only && s.launch_type.as_deref() != Some("EXTERNAL") {
                        let why = match s.launch_type.as_deref() {
                            Some("EC2") => format!("service `{}` runs it on EC2", s.name),
                            _ => format!("service `{}` may place it on EC2 capacity", s.name),
                        };
                        placements
                            .entry((td.as_str(), cluster.clone()))
                            .or_insert(why);
                    }
                }
                for t in ecs.tasks.iter().flatten() {
                    let on_ec2 = t.launch_type.as_deref() == Some("EC2")
                        || t.container_instance_arn.is_some();
                    if let (true, Some(cluster)) = (on_ec2, &t.cluster_arn) {
                        placements
                            .entry((t.task_definition_arn.as_str(), cluster.clone()))
                            .or_insert_with(|| format!("task `{}` runs it on EC2", t.arn));
                    }
                }
            }
        }
        // The roles of each instance profile, and the profile of each EC2 instance per account
        // and region, each gathered once: looked up per container instance, they made this
        // loop quadratic in the roles and instances of an organization.
        let mut by_profile: FxHashMap<&str, Vec<&str>> = FxHashMap::default();
        for role in world.roles.values() {
            for p in &role.instance_profiles {
                by_profile
                    .entry(p.as_str())
                    .or_default()
                    .push(role.arn.as_str());
            }
        }
        let mut profiles: FxHashMap<(&str, &str), FxHashMap<&str, Option<&str>>> =
            FxHashMap::default();
        for ((td_arn, cluster), why) in placements {
            let Some(TaskPlace {
                definition: td,
                account,
                region,
                ..
            }) = world.task_definition(td_arn)
            else {
                continue;
            };
            let Some(r) = world
                .accounts
                .get(account)
                .and_then(|a| a.regions.get(region))
            else {
                continue;
            };
            let Some(instances) = r.ecs.as_ref().and_then(|e| e.container_instances.as_ref())
            else {
                self.diagnostics.push(Diagnostic::warning(
                    "container-instances-not-collected",
                    td_arn.to_string(),
                    format!("{why} in cluster `{cluster}`, whose container instances were not collected: the instance role its containers could reach is unknown"),
                ));
                continue;
            };
            let network = td.network_mode.as_deref().unwrap_or("bridge");
            if network == "none" {
                continue;
            }
            // Instance role → the instances that give it, for one edge per role.
            let mut roles: BTreeMap<&str, Vec<Note>> = BTreeMap::new();
            let mut blocked = 0usize;
            for ci in instances
                .iter()
                .filter(|c| c.cluster_arn.as_deref() == Some(cluster.as_str()))
            {
                let block_imds = ci
                    .agent_settings
                    .as_ref()
                    .and_then(|s| s.get("ECS_AWSVPC_BLOCK_IMDS"))
                    .is_some_and(|v| v.eq_ignore_ascii_case("true"));
                if network == "awsvpc" && block_imds {
                    blocked += 1;
                    continue;
                }
                let Some(instance_id) = &ci.ec2_instance_id else {
                    continue;
                };
                let of_region = profiles.entry((account, region)).or_insert_with(|| {
                    let mut ids = FxHashMap::default();
                    for i in r.ec2_instances.iter().flatten() {
                        // The first instance listed with an id, as a search would find.
                        ids.entry(i.instance_id.as_str())
                            .or_insert(i.instance_profile_arn.as_deref());
                    }
                    ids
                });
                let profile = of_region.get(instance_id.as_str()).copied().flatten();
                let Some(profile) = profile else {
                    if r.ec2_instances.is_none() {
                        self.diagnostics.push(Diagnostic::warning(
                            "ec2-instances-not-collected",
                            ci.arn.clone(),
                            format!("EC2 instances were not collected, so the instance profile of `{instance_id}` is unknown"),
                        ));
                    }
                    continue;
                };
                let setting = if network == "awsvpc" {
                    match &ci.agent_settings {
                        Some(_) => Imds::AgentDoesNotBlock,
                        None => Imds::AgentSettingsUnknown,
                    }
                } else {
                    Imds::NetworkMode(network.to_string())
                };
                for role in by_profile.get(profile).into_iter().flatten() {
                    roles.entry(role).or_default().push(Note::InstanceRole {
                        why: why.to_string(),
                        instance: ci.arn.clone(),
                        instance_id: instance_id.clone(),
                        profile: profile.to_string(),
                        setting: setting.clone(),
                    });
                }
            }
            if blocked > 0 && roles.is_empty() {
                self.diagnostics.push(Diagnostic::info(
                    "instance-metadata-blocked",
                    td_arn.to_string(),
                    format!("{blocked} container instance(s) of `{cluster}` set ECS_AWSVPC_BLOCK_IMDS=true, so awsvpc tasks cannot reach their instance role"),
                ));
            }
            for (role, mut notes) in roles {
                if !self.toward(role) {
                    continue;
                }
                notes.sort();
                notes.dedup();
                for c in &td.containers {
                    let id = container_id(&td.arn, &c.name);
                    let verdict = Verdict {
                        status: EdgeStatus::Conditional,
                        actions: Vec::new(),
                        because: Vec::new(),
                        conditions: Vec::new(),
                        notes: notes.clone(),
                        blocked: None,
                    };
                    self.edge(&id, role, EdgeKind::InstanceRole, verdict);
                }
            }
        }
    }

    fn task_definition(&mut self, place: TaskPlace<'a>, label: &str) {
        let world = self.world;
        let TaskPlace {
            definition: td,
            account,
            region,
            partition,
        } = place;
        let mut diags = Vec::new();
        if let Some(exec) = &td.execution_role_arn {
            self.role_node(exec);
            // No path runs through the execution-role edge: the agent plane starts at the
            // container.
            if self.focus.is_none() {
                let v = world.ecs_trust(exec, account, region, partition, &mut diags);
                self.edge(&td.arn, exec, EdgeKind::ExecutionRole, v);
            }
        }
        let task_role = td.task_role_arn.as_deref().and_then(|role| {
            self.role_node(role);
            self.toward(role).then(|| {
                (
                    role,
                    world.ecs_trust(role, account, region, partition, &mut diags),
                )
            })
        });
        let only = self.focus.as_ref().map(|f| f.target.clone());
        for c in &td.containers {
            let id = container_id(&td.arn, &c.name);
            self.node(
                &id,
                NodeKind::Container,
                Some(account.to_string()),
                format!("{label}#{}", c.name),
                Some(td.arn.clone()),
                true,
            );
            self.structural(&td.arn, &id, EdgeKind::Defines);
            if let Some((role, verdict)) = &task_role {
                self.edge(&id, role, EdgeKind::TaskRole, verdict.clone());
            }
            for (kind, resource, verdict) in
                world.container_references(place, &id, c, only.as_deref(), &mut diags)
            {
                self.resource_node(&resource);
                self.edge(&id, &resource.id, kind, verdict);
            }
        }
        self.diagnostics.extend(diags);
    }

    /// Adds an outsider's node (once) and an edge from it, when the edge holds. Outsiders that
    /// name an account (an external account or principal) are nodes even when denied, so
    /// `explain` can start from them.
    fn outside_edge(&mut self, o: &Outsider, to: &str, kind: EdgeKind, verdict: Verdict) {
        let keep_node = verdict.status != EdgeStatus::Denied || o.account().is_some();
        if keep_node && !self.nodes.contains_key(o.id()) {
            self.node(
                o.id(),
                o.kind(),
                o.account().map(str::to_string),
                o.label(),
                None,
                false,
            );
        }
        if verdict.status != EdgeStatus::Denied {
            self.edge(o.id(), to, kind, verdict);
        }
    }

    /// A service principal's node, and its edge into `role` when the trust lets it assume it.
    fn service_edge(&mut self, service: &str, role: &model::Role) {
        let mut diags = Vec::new();
        let verdict = self.world.service_assume(service, role, &mut diags);
        self.diagnostics.extend(diags);
        self.node(
            service,
            NodeKind::ServicePrincipal,
            None,
            service.to_string(),
            None,
            true,
        );
        if verdict.status != EdgeStatus::Denied {
            self.edge(service, &role.arn, EdgeKind::Assumes, verdict);
        }
    }

    fn trust_edges(
        &mut self,
        prepared: &BTreeMap<&'a str, Prepared<'a>>,
        found: &Outsiders,
        outside: &BTreeMap<&str, Prepared<'a>>,
    ) {
        let world = self.world;
        // (caller, role) pairs whose trust names the caller, evaluated in parallel below.
        let trusts = TrustIndex::new(world);
        let mut pairs: Vec<(&'a str, &'a model::Role)> = Vec::new();
        for target in world.roles.values() {
            pairs.extend(trusts.callers_of(&target.arn).map(|c| (c, *target)));
            for service in trusts.services_of(&target.arn) {
                self.service_edge(service, target);
            }
        }
        self.diagnostics.extend(trusts.diagnostics.iter().cloned());
        let decide = |chunk: &[(&'a str, &'a model::Role)]| assumed(world, prepared, chunk);
        pipelined(&pairs, CHUNK * 16, decide, |chunk, decided| {
            for ((caller_id, target), decided) in chunk.iter().zip(decided) {
                let Some((verdict, diags)) = decided else {
                    continue;
                };
                self.diagnostics.extend(diags);
                if verdict.status != EdgeStatus::Denied {
                    self.edge(caller_id, &target.arn, EdgeKind::Assumes, verdict);
                }
            }
        });
        // Sources outside the snapshot that trusts admit (R7.1, R7.2).
        for o in &found.list {
            let Some(p) = outside.get(o.id()) else {
                continue;
            };
            for role_arn in found.trusts.get(o.id()).into_iter().flatten() {
                let Some(target) = world.roles.get(role_arn.as_str()) else {
                    continue;
                };
                let mut diags = Vec::new();
                let verdict = world.assume(p, target, &mut diags);
                self.diagnostics.extend(diags);
                self.outside_edge(o, role_arn, EdgeKind::Assumes, verdict);
            }
        }
        self.diagnostics.extend(found.diagnostics.iter().cloned());
    }

    fn access_edges(
        &mut self,
        options: &BuildOptions,
        prepared: &BTreeMap<&'a str, Prepared<'a>>,
        found: &Outsiders,
        outside: &BTreeMap<&str, Prepared<'a>>,
    ) {
        let world = self.world;
        let callers = self.world.callers();
        // Resources that identity policies name literally but the snapshot does not hold.
        let mut named: BTreeMap<String, ResourceInfo<'a>> = BTreeMap::new();
        for doc in world
            .inventory
            .accounts
            .iter()
            .flat_map(|a| a.iam.iter())
            .flat_map(|iam| {
                let roles = iam
                    .roles
                    .iter()
                    .flat_map(|r| r.inline.iter().map(|p| &p.document));
                let users = iam
                    .users
                    .iter()
                    .flat_map(|u| u.inline.iter().map(|p| &p.document));
                let groups = iam
                    .groups
                    .iter()
                    .flat_map(|g| g.inline.iter().map(|p| &p.document));
                let managed = iam.policies.iter().filter_map(|p| p.document.as_ref());
                roles.chain(users).chain(groups).chain(managed)
            })
        {
            for s in doc
                .statements
                .iter()
                .filter(|s| s.effect == model::Effect::Allow)
            {
                for r in s.resource.iter().flatten() {
                    if !world.resources.contains_key(r) && !named.contains_key(r) {
                        // Only where the snapshot did not collect that kind of resource there:
                        // otherwise the named resource does not exist.
                        if let Some(p) = world
                            .placeholder(r)
                            .filter(|p| !world.collected(p.kind, &p.account, &p.region))
                        {
                            named.insert(r.clone(), p);
                        }
                    }
                }
            }
        }
        let resources: Vec<ResourceInfo<'a>> = world
            .resources
            .values()
            .cloned()
            .chain(named.into_values())
            .collect();
        let actions: Vec<Vec<String>> = resources
            .iter()
            .map(|resource| kinds::actions_for(resource.kind, options.actions.as_deref()))
            .collect();
        let index = ResourceIndex::new(&resources);
        // Callers whose policies decide a resource alike share its decision (see `share`); the
        // exhaustive build, which checks the indexed one, shares nothing.
        let sharing = (!options.exhaustive).then(|| Sharing::new(world, &resources, &actions));
        // Each caller's candidates are evaluated on its own, callers in parallel a chunk at a
        // time (see `pipelined`).
        let decide = |chunk: &[Caller<'a>]| -> Vec<Vec<(usize, Verdict, Vec<Diagnostic>)>> {
            chunk
                .par_iter()
                .map(|caller| {
                    let Some(p) = prepared.get(caller.id()) else {
                        return Vec::new();
                    };
                    let candidates = if options.exhaustive {
                        (0..resources.len()).collect()
                    } else {
                        candidates(p.id(), p.identity_documents(), &resources, &index)
                    };
                    let mut shared = sharing.as_ref().map(|s| s.caller(p));
                    candidates
                        .into_iter()
                        .filter(|&i| !actions[i].is_empty())
                        .filter_map(|i| {
                            let decide = |diags: &mut Vec<Diagnostic>| {
                                world.access(p, &resources[i], &actions[i], diags)
                            };
                            let (verdict, diags) = match shared.as_mut() {
                                Some(shared) => shared.decide(i, decide),
                                None => share::alone(decide),
                            };
                            verdict.map(|verdict| (i, verdict, diags))
                        })
                        .collect()
                })
                .collect()
        };
        pipelined(&callers, CHUNK, decide, |chunk, decided| {
            for (caller, hits) in chunk.iter().zip(decided) {
                for (i, verdict, diags) in hits {
                    self.diagnostics.extend(diags);
                    let resource = &resources[i];
                    if !self.nodes.contains_key(&resource.id) {
                        self.resource_node(resource);
                    }
                    self.edge(caller.id(), &resource.id, EdgeKind::Accesses, verdict);
                }
            }
        });
        // Sources outside the snapshot that resource policies (and bucket ACLs) admit.
        let position: BTreeMap<&str, usize> = resources
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        for o in &found.list {
            let Some(p) = outside.get(o.id()) else {
                continue;
            };
            for id in found.resources.get(o.id()).into_iter().flatten() {
                let Some(&i) = position.get(id.as_str()) else {
                    continue;
                };
                if actions[i].is_empty() {
                    continue;
                }
                let mut diags = Vec::new();
                let verdict = world.access(p, &resources[i], &actions[i], &mut diags);
                self.diagnostics.extend(diags);
                self.outside_edge(o, id, EdgeKind::Accesses, verdict);
            }
        }
    }

    fn finish(mut self) -> AccessGraph {
        let mut graph = DiGraph::with_capacity(self.nodes.len(), 0);
        let mut index = BTreeMap::new();
        // Nodes in id order, so that node index order is id order; each interned id's address
        // then gives its node.
        let mut nodes: Vec<(String, Node)> = std::mem::take(&mut self.nodes).into_iter().collect();
        nodes.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut at: FxHashMap<*const u8, NodeIndex> = FxHashMap::default();
        for (id, node) in nodes {
            let ix = graph.add_node(node);
            if let Some(shared) = self.interned.get(id.as_str()) {
                at.insert(Arc::as_ptr(shared).cast::<u8>(), ix);
            }
            index.insert(id, ix);
        }
        // Edges in (from, to, kind) order: node index order is id order. The map is gone before
        // the graph's edges are allocated, so at most two copies of the edges exist at once.
        let mut edges: Vec<(NodeIndex, NodeIndex, Edge)> = Vec::with_capacity(self.edges.len());
        edges.extend(std::mem::take(&mut self.edges).into_iter().filter_map(
            |((from, to, _), edge)| {
                let a = *at.get(&Arc::as_ptr(&from.0).cast::<u8>())?;
                let b = *at.get(&Arc::as_ptr(&to.0).cast::<u8>())?;
                Some((a, b, edge))
            },
        ));
        drop(at);
        edges.sort_unstable_by_key(|(a, b, edge)| (*a, *b, edge.kind));
        graph.reserve_exact_edges(edges.len());
        for (a, b, edge) in edges {
            graph.add_edge(a, b, edge);
        }
        let mut diagnostics = self.world.diagnostics.clone();
        diagnostics.append(&mut self.diagnostics);
        diagnostics.sort();
        diagnostics.dedup();
        AccessGraph {
            graph,
            index,
            diagnostics,
        }
    }
}

/// The resources a prepared caller could be allowed to use (see [`super::index`]):
/// - in its own account, those its identity Allow patterns could match, and those whose policy
///   could name it (a resource policy can grant on its own there);
/// - in other accounts, those whose policy could name it and that some identity Allow pattern
///   could match (across accounts both sides must allow);
/// - anywhere, those whose policy the snapshot does not hold and that an identity pattern could
///   match.
///
/// KMS keys must always be allowed by their key policy, so a key whose policy is known qualifies
/// only when that policy could name the caller.
pub(super) fn candidates<'d>(
    id: &str,
    documents: impl Iterator<Item = &'d model::PolicyDocument> + Clone,
    resources: &[ResourceInfo<'_>],
    index: &ResourceIndex,
) -> BTreeSet<usize> {
    let account = account_of(id).unwrap_or_default();
    let name = last_segment(id);
    let identity = IdentityMatcher::new(documents.clone());
    let mut own = BTreeSet::new();
    for doc in documents {
        for s in doc
            .statements
            .iter()
            .filter(|s| s.effect == model::Effect::Allow)
        {
            let services = statement_services(s.action.as_ref(), s.not_action.is_some());
            match (&s.resource, &s.not_resource) {
                (Some(patterns), None) => {
                    for pattern in patterns {
                        index.by_pattern(pattern, services.as_ref(), &account, &mut own);
                    }
                }
                _ => index.of_services(services.as_ref(), &account, &mut own),
            }
        }
    }
    let mut out: BTreeSet<usize> = own
        .into_iter()
        .filter(|&i| resources[i].kind != NodeKind::KmsKey || resources[i].policy_unknown())
        .collect();
    let mut named = BTreeSet::new();
    index.naming(&account, name, &mut named);
    out.extend(
        named
            .into_iter()
            .filter(|&i| resources[i].account == account || identity.may_match(&resources[i])),
    );
    out.extend(
        index
            .unknown_policy()
            .iter()
            .copied()
            .filter(|&i| identity.may_match(&resources[i])),
    );
    out
}
