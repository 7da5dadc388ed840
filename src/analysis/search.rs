//! Breadth-first searches over the access graph's hop edges.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use petgraph::Direction;
use petgraph::graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use rayon::prelude::*;

use super::{Hop, Path, QueryError};
use crate::graph::{AccessGraph, EdgeKind, EdgeStatus, NodeKind};

/// How a container reaches a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Plane {
    /// With the task role's credentials, and the roles they assume.
    Task,
    /// Through the ECS agent, which fetches a value or pulls an image with the execution role.
    Agent,
    /// Through an ECS privilege escalation (`escalates`), and then either plane: a principal
    /// that runs its code in a container's place holds the container's task role and the values
    /// injected into it. Only paths with an `escalates` hop belong to it; the others are the
    /// two planes' own.
    Escalation,
}

impl Plane {
    /// Every plane, in the order answers list them.
    pub const ALL: [Plane; 3] = [Plane::Task, Plane::Agent, Plane::Escalation];

    /// The plane of a path: escalation when a hop escalates, agent when one injects or pulls,
    /// else task.
    pub fn of(path: &Path) -> Plane {
        if path.hops.iter().any(|h| h.kind == EdgeKind::Escalates) {
            Plane::Escalation
        } else if path
            .hops
            .iter()
            .any(|h| matches!(h.kind, EdgeKind::Injects | EdgeKind::Pulls))
        {
            Plane::Agent
        } else {
            Plane::Task
        }
    }

    /// True when a path this plane's search found is the plane's to report.
    fn keeps(self, path: &Path) -> bool {
        self != Plane::Escalation || path.hops.iter().any(|h| h.kind == EdgeKind::Escalates)
    }

    fn admits(self, kind: EdgeKind) -> bool {
        match self {
            Plane::Escalation => kind.is_hop(),
            Plane::Task => matches!(
                kind,
                EdgeKind::TaskRole
                    | EdgeKind::InstanceRole
                    | EdgeKind::Assumes
                    | EdgeKind::Accesses
            ),
            Plane::Agent => matches!(kind, EdgeKind::Injects | EdgeKind::Pulls),
        }
    }
}

/// True for node kinds that can start a path.
pub(crate) fn is_source(kind: NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Container
            | NodeKind::Role
            | NodeKind::User
            | NodeKind::ServicePrincipal
            | NodeKind::ExternalAccount
            // An account of the snapshot whose IAM was not collected, named by a policy.
            | NodeKind::Account
            | NodeKind::Anonymous
            | NodeKind::AnyPrincipal
            | NodeKind::Organization
            | NodeKind::Federated
    )
}

/// Edges out of (or into) `n` of the plane at or above `min`, sorted by the other end's id.
fn hop_edges(
    g: &AccessGraph,
    n: NodeIndex,
    dir: Direction,
    plane: Plane,
    min: EdgeStatus,
) -> Vec<(NodeIndex, EdgeIndex)> {
    let mut out = Vec::new();
    hop_edges_into(g, n, dir, plane, min, &mut out);
    out
}

/// [`hop_edges`] into `out`, which is cleared first, so that a search can reuse one buffer.
fn hop_edges_into(
    g: &AccessGraph,
    n: NodeIndex,
    dir: Direction,
    plane: Plane,
    min: EdgeStatus,
    out: &mut Vec<(NodeIndex, EdgeIndex)>,
) {
    out.clear();
    out.extend(
        g.graph
            .edges_directed(n, dir)
            .filter(|e| plane.admits(e.weight().kind) && e.weight().status >= min)
            .map(|e| {
                (
                    if dir == Direction::Outgoing {
                        e.target()
                    } else {
                        e.source()
                    },
                    e.id(),
                )
            }),
    );
    // INVARIANT: node indices follow sorted id order (graph::build inserts nodes sorted), so
    // sorting by index is sorting by id, and searches are deterministic. Keys are unique (the
    // edge index is part of each), so an unstable sort gives the one order.
    out.sort_unstable();
}

/// True when a node found at `depth` hops may not be left: the search stops there.
fn at_limit(depth: usize, max_depth: Option<usize>) -> bool {
    max_depth.is_some_and(|m| depth >= m)
}

/// A breadth-first search from `start`, following edges in `dir`, at most `max_depth` hops
/// (`None`: no limit). Returns, for each node reached, the edge it was first reached by.
///
/// The search is [`Tree::search`], in this thread's reused tree (or a fresh one when a search
/// of this thread already holds it), so that every search of the module explores alike.
fn bfs(
    g: &AccessGraph,
    start: NodeIndex,
    dir: Direction,
    plane: Plane,
    min: EdgeStatus,
    max_depth: Option<usize>,
) -> BTreeMap<NodeIndex, EdgeIndex> {
    let into = |tree: &mut Tree, buf: &mut Vec<(NodeIndex, EdgeIndex)>| {
        tree.search(g, start, dir, plane, min, max_depth, buf);
        tree.reached
            .iter()
            .filter_map(|&n| Some((n, tree.parent(n)?)))
            .collect()
    };
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => {
            let Scratch { strict, buf, .. } = &mut *scratch;
            into(strict, buf)
        }
        Err(_) => into(&mut Tree::default(), &mut Vec::new()),
    })
}

/// The number of hops from `start` to every node it reaches, without a limit, following edges
/// in `dir` that are allowed or conditional.
fn distances(
    g: &AccessGraph,
    start: NodeIndex,
    dir: Direction,
    plane: Plane,
) -> BTreeMap<NodeIndex, usize> {
    let mut depth = BTreeMap::from([(start, 0usize)]);
    let mut queue = VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        let d = depth[&n];
        for (next, _) in hop_edges(g, n, dir, plane, EdgeStatus::Conditional) {
            if let std::collections::btree_map::Entry::Vacant(e) = depth.entry(next) {
                e.insert(d + 1);
                queue.push_back(next);
            }
        }
    }
    depth.remove(&start);
    depth
}

/// Merges per-plane distances into the shortest distance over both planes.
fn nearest(into: &mut BTreeMap<NodeIndex, usize>, from: BTreeMap<NodeIndex, usize>) {
    for (n, d) in from {
        into.entry(n).and_modify(|x| *x = (*x).min(d)).or_insert(d);
    }
}

fn hop(g: &AccessGraph, e: EdgeIndex) -> Option<Hop> {
    let (a, b) = g.graph.edge_endpoints(e)?;
    let w = &g.graph[e];
    Some(Hop {
        from: g.graph[a].id.clone(),
        to: g.graph[b].id.clone(),
        kind: w.kind,
        status: w.status,
        because: w.proof.because.clone(),
        conditions: w.proof.conditions.clone(),
        notes: w.proof.notes.clone(),
    })
}

fn path_of(g: &AccessGraph, edges: Vec<EdgeIndex>) -> Option<Path> {
    let hops: Vec<Hop> = edges.iter().map(|&e| hop(g, e)).collect::<Option<_>>()?;
    let first = hops.first()?;
    let last = hops.last()?;
    let actions = g.graph[*edges.last()?].actions().to_vec();
    Some(Path {
        source: first.from.clone(),
        target: last.to.clone(),
        actions,
        status: hops.iter().map(|h| h.status).min()?,
        cross_account: edges.iter().any(|&e| g.graph[e].cross_account),
        hops,
    })
}

/// Follows BFS parents from `n` back to the root, giving edges in root-to-`n` order when
/// the search ran forward, and `n`-to-root order when it ran backward.
fn chain(
    g: &AccessGraph,
    parents: &BTreeMap<NodeIndex, EdgeIndex>,
    n: NodeIndex,
    dir: Direction,
) -> Vec<EdgeIndex> {
    chain_by(g, n, dir, |n| parents.get(&n).copied())
}

/// [`chain`] with the parent edge of each node given by `parent`.
fn chain_by(
    g: &AccessGraph,
    mut n: NodeIndex,
    dir: Direction,
    parent: impl Fn(NodeIndex) -> Option<EdgeIndex>,
) -> Vec<EdgeIndex> {
    let mut edges = Vec::new();
    while let Some(e) = parent(n) {
        edges.push(e);
        let Some((a, b)) = g.graph.edge_endpoints(e) else {
            break;
        };
        n = if dir == Direction::Outgoing { a } else { b };
    }
    if dir == Direction::Outgoing {
        edges.reverse();
    }
    edges
}

/// Sorts paths by source, then target, then length, then hop kinds: the order every answer
/// lists them in.
pub(crate) fn sort_paths(paths: &mut [Path]) {
    paths.sort_by(|a, b| {
        (&a.source, &a.target, a.hops.len())
            .cmp(&(&b.source, &b.target, b.hops.len()))
            .then_with(|| {
                a.hops
                    .iter()
                    .map(|h| h.kind)
                    .cmp(b.hops.iter().map(|h| h.kind))
            })
    });
}

/// True when a search of the escalation plane from `start` in `dir` can find a path with an
/// `escalates` hop: `start`, or a node that the task or agent plane reaches from it (`reached`),
/// has an `escalates` edge in that direction. Every other hop kind is in one of those planes, and
/// an agent hop ends the path, so a path reaches its first `escalates` hop through nodes of
/// `reached`; when none has one, the search would find only the other planes' paths.
fn escalation_possible(
    g: &AccessGraph,
    start: NodeIndex,
    reached: &BTreeSet<NodeIndex>,
    dir: Direction,
) -> bool {
    std::iter::once(start)
        .chain(reached.iter().copied())
        .any(|n| escalates_at(g, n, dir))
}

/// True when `n` has an `escalates` edge in `dir`.
fn escalates_at(g: &AccessGraph, n: NodeIndex, dir: Direction) -> bool {
    g.graph
        .edges_directed(n, dir)
        .any(|e| e.weight().kind == EdgeKind::Escalates)
}

/// A path as a search finds it: the edges it follows, before any id or proof is copied out of
/// the graph. [`Route::path`] gives the [`Path`] that [`reach`] reports for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The source node.
    pub source: NodeIndex,
    /// The target resource.
    pub target: NodeIndex,
    /// How the source reaches the target ([`Plane::of`] its path).
    pub plane: Plane,
    /// The edges, from the source to the target.
    pub edges: Vec<EdgeIndex>,
}

impl Route {
    /// The weakest edge's status.
    pub fn status(&self, g: &AccessGraph) -> EdgeStatus {
        self.edges
            .iter()
            .map(|&e| g.graph[e].status)
            .min()
            .unwrap_or(EdgeStatus::Allowed)
    }

    /// True when some edge crosses an account.
    pub fn cross_account(&self, g: &AccessGraph) -> bool {
        self.edges.iter().any(|&e| g.graph[e].cross_account)
    }

    /// The actions the last edge allows, sorted.
    pub fn actions<'g>(&self, g: &'g AccessGraph) -> &'g [String] {
        self.edges.last().map_or(&[], |&e| g.graph[e].actions())
    }

    /// The path, with its hops' ids and proofs.
    pub fn path(&self, g: &AccessGraph) -> Path {
        // INVARIANT: a route's edges are edges of `g` and there is at least one.
        path_of(g, self.edges.clone()).unwrap_or_else(|| Path {
            source: g.graph[self.source].id.clone(),
            target: g.graph[self.target].id.clone(),
            actions: Vec::new(),
            status: EdgeStatus::Allowed,
            cross_account: false,
            hops: Vec::new(),
        })
    }
}

/// A breadth-first tree over dense arrays indexed by node, reused from search to search on one
/// thread, so that a search allocates nothing once the arrays have grown to the graph.
#[derive(Default)]
struct Tree {
    /// `generation` where the node was reached in the current search.
    mark: Vec<u32>,
    generation: u32,
    /// The edge each node was first reached by (`u32::MAX` for the start).
    parent: Vec<u32>,
    /// The nodes reached, in the order they were reached; the start first.
    reached: Vec<NodeIndex>,
}

impl Tree {
    fn contains(&self, n: NodeIndex) -> bool {
        self.mark.get(n.index()) == Some(&self.generation)
    }

    fn parent(&self, n: NodeIndex) -> Option<EdgeIndex> {
        (self.contains(n) && self.parent[n.index()] != u32::MAX)
            .then(|| EdgeIndex::new(self.parent[n.index()] as usize))
    }

    /// A breadth-first search from `start`, following edges in `dir` that are at least `min`, at
    /// most `max_depth` hops (`None`: no limit), into this tree: each node reached, and the edge
    /// it was first reached by.
    #[expect(
        clippy::too_many_arguments,
        reason = "the parameters of `bfs`, plus the buffer reused from search to search"
    )]
    fn search(
        &mut self,
        g: &AccessGraph,
        start: NodeIndex,
        dir: Direction,
        plane: Plane,
        min: EdgeStatus,
        max_depth: Option<usize>,
        buf: &mut Vec<(NodeIndex, EdgeIndex)>,
    ) {
        let n = g.graph.node_count();
        if self.mark.len() < n {
            self.mark.resize(n, 0);
            self.parent.resize(n, u32::MAX);
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.mark.fill(0);
            self.generation = 1;
        }
        self.reached.clear();
        self.mark[start.index()] = self.generation;
        self.parent[start.index()] = u32::MAX;
        self.reached.push(start);
        // Level by level: the nodes of depth d are reached[level..end].
        let (mut level, mut depth) = (0, 0);
        while level < self.reached.len() {
            let end = self.reached.len();
            if at_limit(depth, max_depth) {
                break;
            }
            for i in level..end {
                let from = self.reached[i];
                hop_edges_into(g, from, dir, plane, min, buf);
                for &(next, edge) in buf.iter() {
                    if self.mark[next.index()] == self.generation {
                        continue;
                    }
                    self.mark[next.index()] = self.generation;
                    self.parent[next.index()] = edge.index() as u32;
                    self.reached.push(next);
                }
            }
            level = end;
            depth += 1;
        }
    }

    /// The edges from the start to `n` when the search ran forward, from `n` to the start when
    /// it ran backward (as [`chain`]).
    fn chain(&self, g: &AccessGraph, n: NodeIndex, dir: Direction) -> Vec<EdgeIndex> {
        chain_by(g, n, dir, |n| self.parent(n))
    }
}

/// The trees and edge buffer one thread's searches reuse.
#[derive(Default)]
struct Scratch {
    strict: Tree,
    loose: Tree,
    buf: Vec<(NodeIndex, EdgeIndex)>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// The shortest route per (target, plane) from `source`, preferring allowed to conditional, by
/// target index (id order) then plane.
fn routes_from(
    g: &AccessGraph,
    source: NodeIndex,
    to: Option<NodeIndex>,
    max_depth: Option<usize>,
    out: &mut Vec<Route>,
) {
    SCRATCH.with(|scratch| {
        let scratch = &mut *scratch.borrow_mut();
        let first = out.len();
        // True when the source, or a node the task or agent plane reaches, has an `escalates`
        // edge: only then can the escalation plane find a path of its own
        // ([`escalation_possible`]).
        let escalates = |n: NodeIndex| escalates_at(g, n, Direction::Outgoing);
        let mut escalation = escalates(source);
        for plane in Plane::ALL {
            if plane == Plane::Escalation && !escalation {
                continue;
            }
            let Scratch { strict, loose, buf } = scratch;
            strict.search(
                g,
                source,
                Direction::Outgoing,
                plane,
                EdgeStatus::Allowed,
                max_depth,
                buf,
            );
            loose.search(
                g,
                source,
                Direction::Outgoing,
                plane,
                EdgeStatus::Conditional,
                max_depth,
                buf,
            );
            if !escalation {
                escalation = loose.reached.iter().any(|&n| escalates(n));
            }
            let mut targets: Vec<NodeIndex> = loose
                .reached
                .iter()
                .copied()
                .filter(|&n| g.graph[n].kind.is_resource() && to.is_none_or(|to| to == n))
                .collect();
            targets.sort_unstable();
            for t in targets {
                let tree = if strict.contains(t) {
                    &*strict
                } else {
                    &*loose
                };
                let edges = tree.chain(g, t, Direction::Outgoing);
                if edges.is_empty() {
                    continue;
                }
                if plane == Plane::Escalation
                    && !edges
                        .iter()
                        .any(|&e| g.graph[e].kind == EdgeKind::Escalates)
                {
                    continue;
                }
                out.push(Route {
                    source,
                    target: t,
                    plane,
                    edges,
                });
            }
        }
        out[first..].sort_by_key(|r| (r.target, r.plane));
    });
}

/// Every route from each source, one shortest per (source, target, plane): the paths [`reach`]
/// reports, before their ids and proofs are copied out of the graph. Routes come by source in
/// the order given, then by target index (which is id order in a built graph), then plane.
///
/// # Complexity
/// As [`reach`], without the copying: two breadth-first searches per source and plane.
pub fn routes(
    g: &AccessGraph,
    sources: &[NodeIndex],
    to: Option<NodeIndex>,
    max_depth: Option<usize>,
) -> Vec<Route> {
    let mut out = Vec::new();
    for &s in sources {
        routes_from(g, s, to, max_depth, &mut out);
    }
    out
}

/// Every resource the sources reach, one shortest path per (source, target, plane).
///
/// `max_depth` is the most hops a path may have; `None` sets no limit, which is what a complete
/// answer needs: the searches are breadth-first, so an unlimited search costs no more than the
/// graph is large. With a limit, [`reach_beyond`] counts what it leaves out.
///
/// Allowed paths are preferred: a conditional path is reported only where no allowed path of
/// the same plane exists within the limit.
///
/// # Complexity
/// Two breadth-first searches per source and plane: O(S · (V + E)).
///
/// # Example
/// ```
/// use rolechain::{analysis, graph, model::Inventory};
/// let g = graph::build(&Inventory::default(), &graph::BuildOptions::default());
/// assert!(analysis::reach(&g, &[], None, None).is_empty());
/// ```
pub fn reach(
    g: &AccessGraph,
    sources: &[NodeIndex],
    to: Option<NodeIndex>,
    max_depth: Option<usize>,
) -> Vec<Path> {
    let mut found = routes(g, sources, to, max_depth);
    if !ends_in_id_order(g, &found) {
        let mut out: Vec<Path> = found.iter().map(|r| r.path(g)).collect();
        sort_paths(&mut out);
        return out;
    }
    // A build adds its nodes in id order, so comparing node indexes compares ids: the routes
    // are put in `sort_paths`' order before any path is made, without comparing a string. The
    // sort is stable, as `sort_paths` is, so ties keep the order they were found in.
    fn kinds<'r>(g: &'r AccessGraph, r: &'r Route) -> impl Iterator<Item = EdgeKind> + 'r {
        r.edges.iter().map(|&e| g.graph[e].kind)
    }
    found.sort_by(|a, b| {
        (a.source, a.target, a.edges.len())
            .cmp(&(b.source, b.target, b.edges.len()))
            .then_with(|| kinds(g, a).cmp(kinds(g, b)))
    });
    found.par_iter().map(|r| r.path(g)).collect()
}

/// True when the ids of the routes' sources and targets increase with their node indexes, as a
/// build adds nodes: then comparing those indexes compares ids. Only the ends are looked at, so
/// the cost follows the answer, not the graph (commands such as `findings` ask for the paths of
/// one source at a time).
fn ends_in_id_order(g: &AccessGraph, routes: &[Route]) -> bool {
    let mut ends: Vec<NodeIndex> = routes.iter().flat_map(|r| [r.source, r.target]).collect();
    ends.sort_unstable();
    ends.dedup();
    ends.windows(2).all(|w| g.graph[w[0]].id < g.graph[w[1]].id)
}

/// How many (source, resource) pairs `reach` with this `max_depth` leaves out: the source
/// reaches the resource (or `to`), but only in more than `max_depth` hops, in every plane.
///
/// It is the difference between [`reach`] without a limit and with this one, counted in
/// distinct (source, target) pairs: a pair that one plane connects within the limit is in the
/// answer and is not counted. For one source, it is the number of resources left out.
///
/// # Complexity
/// One unlimited breadth-first search per source and plane: O(S · (V + E)).
///
/// # Example
/// ```
/// use rolechain::{analysis, graph, model::Inventory};
/// let g = graph::build(&Inventory::default(), &graph::BuildOptions::default());
/// assert_eq!(analysis::reach_beyond(&g, &[], None, 3), 0);
/// ```
pub fn reach_beyond(
    g: &AccessGraph,
    sources: &[NodeIndex],
    to: Option<NodeIndex>,
    max_depth: usize,
) -> usize {
    let sources: BTreeSet<NodeIndex> = sources.iter().copied().collect();
    let mut beyond = 0;
    for s in sources {
        let mut nearest_hops = BTreeMap::new();
        for plane in Plane::ALL {
            nearest(
                &mut nearest_hops,
                distances(g, s, Direction::Outgoing, plane),
            );
        }
        beyond += nearest_hops
            .iter()
            .filter(|&(&n, &d)| {
                g.graph[n].kind.is_resource() && to.is_none_or(|t| t == n) && d > max_depth
            })
            .count();
    }
    beyond
}

/// Every source with a path to `target`: containers, roles, users, service principals and
/// principals outside the snapshot, one shortest path per (source, plane).
///
/// `max_depth` is the most hops a path may have; `None` sets no limit (see [`reach`]). With a
/// limit, [`who_can_beyond`] counts the sources it leaves out.
///
/// One backward breadth-first search from the target finds every source's shortest path at
/// once: the BFS tree of the reversed graph is a shortest-path tree toward the target.
///
/// # Complexity
/// O(V + E): two backward searches per plane, independent of the number of sources, plus the
/// paths reported.
///
/// # Example
/// ```
/// use rolechain::{analysis, graph, model::Inventory};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let snapshot = r#"{"schema": "rolechain.snapshot/v1", "accounts": [{"id": "111111111111",
///   "iam": {"RoleDetailList": [{"RoleName": "app", "Arn": "arn:aws:iam::111111111111:role/app",
///     "AssumeRolePolicyDocument": {"Statement": []},
///     "RolePolicyList": [{"PolicyName": "read", "PolicyDocument": {"Statement": [{
///       "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
///       "Resource": "arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbCdEf"}]}}]}]},
///   "regions": {"us-east-1": {"secrets": [{
///     "ARN": "arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbCdEf", "Name": "db"}]}}}]}"#;
/// let inventory = rolechain::collect::load_str(snapshot, "snapshot.json")?;
/// let g = graph::build(&inventory, &graph::BuildOptions::default());
/// let secret = analysis::lookup(&g, "arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbCdEf")?;
/// // No limit: the role reads it in one hop.
/// assert_eq!(analysis::who_can(&g, secret, None).len(), 1);
/// assert_eq!(analysis::who_can_beyond(&g, secret, 1), 0);
/// // A limit of 0 hops leaves the role out, and the count says so.
/// assert!(analysis::who_can(&g, secret, Some(0)).is_empty());
/// assert_eq!(analysis::who_can_beyond(&g, secret, 0), 1);
/// # Ok(())
/// # }
/// ```
pub fn who_can(g: &AccessGraph, target: NodeIndex, max_depth: Option<usize>) -> Vec<Path> {
    let mut out = Vec::new();
    let mut reached = BTreeSet::new();
    for plane in Plane::ALL {
        if plane == Plane::Escalation
            && !escalation_possible(g, target, &reached, Direction::Incoming)
        {
            continue;
        }
        let strict = bfs(
            g,
            target,
            Direction::Incoming,
            plane,
            EdgeStatus::Allowed,
            max_depth,
        );
        let loose = bfs(
            g,
            target,
            Direction::Incoming,
            plane,
            EdgeStatus::Conditional,
            max_depth,
        );
        reached.extend(loose.keys().copied());
        for &n in loose.keys() {
            if !is_source(g.graph[n].kind) {
                continue;
            }
            let parents = if strict.contains_key(&n) {
                &strict
            } else {
                &loose
            };
            if let Some(p) = path_of(g, chain(g, parents, n, Direction::Incoming)) {
                if plane.keeps(&p) {
                    out.push(p);
                }
            }
        }
    }
    sort_paths(&mut out);
    out
}

/// How many sources `who_can` with this `max_depth` leaves out: they reach `target`, but only
/// in more than `max_depth` hops, in every plane.
///
/// It is the difference between the sources of [`who_can`] without a limit and with this one:
/// a source that one plane brings within the limit is in the answer and is not counted.
///
/// # Complexity
/// O(V + E): one unlimited backward search per plane.
pub fn who_can_beyond(g: &AccessGraph, target: NodeIndex, max_depth: usize) -> usize {
    let mut nearest_hops = BTreeMap::new();
    for plane in Plane::ALL {
        nearest(
            &mut nearest_hops,
            distances(g, target, Direction::Incoming, plane),
        );
    }
    nearest_hops
        .iter()
        .filter(|&(&n, &d)| is_source(g.graph[n].kind) && d > max_depth)
        .count()
}

/// The ids closest to `id`, for "did you mean" hints: among ids of the same service and
/// resource type when `id` is an ARN, those whose last segment contains the given one or is
/// nearest by edit distance.
pub(crate) fn closest(g: &AccessGraph, id: &str) -> Vec<String> {
    let lower = id.to_ascii_lowercase();
    let tail = lower
        .rsplit(['/', ':', '#'])
        .next()
        .unwrap_or(&lower)
        .to_string();
    // `arn:aws:iam::111111111111:role/x` → `arn:aws:iam:` and `role`.
    let family = |s: &str| -> Option<(String, String, String)> {
        let arn = crate::model::arn::ArnRef::split(s)?;
        let kind = arn.resource.split(['/', ':']).next()?.to_string();
        Some((arn.partition.to_string(), arn.service.to_string(), kind))
    };
    let wanted = family(&lower);
    let mut scored: Vec<(usize, &String)> = g
        .index
        .keys()
        .filter(|k| wanted.is_none() || family(&k.to_ascii_lowercase()) == wanted)
        .map(|k| {
            let kl = k.to_ascii_lowercase();
            let ktail = kl.rsplit(['/', ':', '#']).next().unwrap_or(&kl);
            let d = if !tail.is_empty() && ktail.contains(tail.as_str()) {
                0
            } else {
                edit_distance(&tail, ktail) + 1
            };
            (d, k)
        })
        .collect();
    scored.sort();
    let limit = (tail.len() / 2).max(3);
    scored
        .into_iter()
        .filter(|(d, _)| *d <= limit)
        .take(3)
        .map(|(_, k)| k.clone())
        .collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Looks a node up by id.
///
/// # Errors
/// [`QueryError::UnknownNode`] with the closest ids.
pub fn lookup(g: &AccessGraph, id: &str) -> Result<NodeIndex, QueryError> {
    g.index
        .get(id)
        .copied()
        .ok_or_else(|| QueryError::UnknownNode {
            id: id.to_string(),
            suggestions: closest(g, id),
        })
}

/// The sources a `--from` id stands for: a container, role, user, service principal or external
/// account is itself; a task definition stands for its containers; a service for the containers
/// of the task definition it runs; a cluster for the containers of its services.
///
/// # Errors
/// An unknown id, or a resource or account.
pub fn resolve_sources(g: &AccessGraph, id: &str) -> Result<Vec<NodeIndex>, QueryError> {
    let n = lookup(g, id)?;
    let kind = g.graph[n].kind;
    if is_source(kind) {
        return Ok(vec![n]);
    }
    if !matches!(
        kind,
        NodeKind::Cluster | NodeKind::Service | NodeKind::TaskDefinition
    ) {
        return Err(QueryError::WrongKind {
            id: id.to_string(),
            kind: kind.as_str(),
            expected: "a container, task definition, service, cluster, role or user",
        });
    }
    // Follow structural edges (runs, defines) down to containers.
    let mut out = BTreeSet::new();
    let mut stack = vec![n];
    let mut seen = BTreeSet::new();
    while let Some(x) = stack.pop() {
        if !seen.insert(x) {
            continue;
        }
        for e in g.graph.edges_directed(x, Direction::Outgoing) {
            match e.weight().kind {
                EdgeKind::Runs | EdgeKind::Defines => {
                    if g.graph[e.target()].kind == NodeKind::Container {
                        out.insert(e.target());
                    } else {
                        stack.push(e.target());
                    }
                }
                _ => {}
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// Every node of the graph that can start a path, in id order: containers, roles, users,
/// service principals, accounts named by policies, and the sources outside the snapshot.
/// [`reach`] from all of them gives every path of the graph, which is how `diff` and the
/// report's who-can table answer for every resource at once.
pub fn sources(g: &AccessGraph) -> Vec<NodeIndex> {
    g.graph
        .node_indices()
        .filter(|&n| is_source(g.graph[n].kind))
        .collect()
}

/// Every container of the graph, in id order.
pub fn containers(g: &AccessGraph) -> Vec<NodeIndex> {
    g.graph
        .node_indices()
        .filter(|&n| g.graph[n].kind == NodeKind::Container)
        .collect()
}

/// The part of the graph on paths to or from `center`, within `depth` hops each way (`None`: no
/// limit), plus the ECS structure (task definitions, services, clusters) and accounts that
/// enclose what is kept.
///
/// `depth` bounds the drawing, not an answer: what lies further away is left out of the view.
///
/// # Complexity
/// O(V + E).
pub fn focus(g: &AccessGraph, center: NodeIndex, depth: Option<usize>) -> AccessGraph {
    let mut keep: BTreeSet<NodeIndex> = BTreeSet::from([center]);
    for dir in [Direction::Outgoing, Direction::Incoming] {
        for plane in Plane::ALL {
            keep.extend(bfs(g, center, dir, plane, EdgeStatus::Conditional, depth).keys());
        }
    }
    // A task definition, service or cluster in focus stands for its containers.
    if matches!(
        g.graph[center].kind,
        NodeKind::TaskDefinition | NodeKind::Service | NodeKind::Cluster
    ) {
        if let Ok(containers) = resolve_sources(g, &g.graph[center].id) {
            for c in containers {
                keep.insert(c);
                for plane in Plane::ALL {
                    keep.extend(
                        bfs(
                            g,
                            c,
                            Direction::Outgoing,
                            plane,
                            EdgeStatus::Conditional,
                            depth,
                        )
                        .keys(),
                    );
                }
            }
        }
    }
    // What fails at a kept container or task definition belongs to its view too: a denied
    // injection, pull or role (the searches above follow only what holds).
    let references: Vec<NodeIndex> = keep
        .iter()
        .filter(|&&n| {
            matches!(
                g.graph[n].kind,
                NodeKind::Container | NodeKind::TaskDefinition
            )
        })
        .flat_map(|&n| {
            g.graph
                .edges_directed(n, Direction::Outgoing)
                .filter(|e| {
                    matches!(
                        e.weight().kind,
                        EdgeKind::Injects
                            | EdgeKind::Pulls
                            | EdgeKind::TaskRole
                            | EdgeKind::ExecutionRole
                    )
                })
                .map(|e| e.target())
        })
        .collect();
    keep.extend(references);
    // Enclosing structure: parents up the chain.
    let mut stack: Vec<NodeIndex> = keep.iter().copied().collect();
    while let Some(n) = stack.pop() {
        if let Some(p) = g.graph[n].parent.as_ref().and_then(|p| g.index.get(p)) {
            if keep.insert(*p) {
                stack.push(*p);
            }
        }
    }
    let accounts: BTreeSet<String> = keep
        .iter()
        .filter_map(|&n| g.graph[n].account.clone())
        .collect();
    for n in g.graph.node_indices() {
        if g.graph[n].kind == NodeKind::Account
            && g.graph[n]
                .account
                .as_ref()
                .is_some_and(|a| accounts.contains(a))
        {
            keep.insert(n);
        }
    }
    subgraph(g, &keep)
}

/// The induced subgraph on `keep`, with node order (and so determinism) preserved.
pub(crate) fn subgraph(g: &AccessGraph, keep: &BTreeSet<NodeIndex>) -> AccessGraph {
    let mut out = AccessGraph {
        diagnostics: g.diagnostics.clone(),
        ..AccessGraph::default()
    };
    let mut map = BTreeMap::new();
    for &n in keep {
        let node = g.graph[n].clone();
        let ix = out.graph.add_node(node.clone());
        out.index.insert(node.id, ix);
        map.insert(n, ix);
    }
    for e in g.graph.edge_indices() {
        let Some((a, b)) = g.graph.edge_endpoints(e) else {
            continue;
        };
        if let (Some(&x), Some(&y)) = (map.get(&a), map.get(&b)) {
            out.graph.add_edge(x, y, g.graph[e].clone());
        }
    }
    out
}
