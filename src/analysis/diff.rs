//! `diff`: what a change to an organization did to its reachability, comparing the graphs of two
//! snapshots (before and after).
//!
//! Paths come from [`super::reach`] over every source node of each graph (containers, roles, users,
//! service principals and the sources outside the snapshot), and are keyed by (source, target,
//! plane): the same key [`super::reach`] reports one shortest path for. Only the sources that
//! reach a node the two graphs hold differently are searched: from any other, both graphs hold
//! the same paths.
//! A path that only one side has is gained or lost; a path both sides have whose status or
//! actions differ is changed.
//! For each, the proof names the first hop whose edge differs between the two graphs, with the
//! statements added and removed, so a reviewer sees the statement responsible.
//! Findings are compared by (code, subject, nodes).

use std::collections::{BTreeMap, BTreeSet};

use petgraph::Direction;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use rayon::prelude::*;

use super::search::{Plane, Route, routes, sources};
use super::{Finding, Hop, Path, findings};
use crate::graph::{AccessGraph, Edge, EdgeKind, EdgeStatus, NodeKind};
use crate::model::Inventory;
use crate::policy::{OpenCondition, Reason, glob};

/// What changed between two snapshots.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// Paths only the new snapshot has, sorted by (source, target, plane).
    pub gained: Vec<PathDelta>,
    /// Paths only the old snapshot has, sorted by (source, target, plane).
    pub lost: Vec<PathDelta>,
    /// Paths both have whose status or actions differ, sorted by (source, target, plane).
    pub changed: Vec<Changed>,
    /// Findings only the new snapshot has, in the order of [`findings()`].
    pub new_findings: Vec<Finding>,
    /// Findings only the old snapshot has, in the order of [`findings()`].
    pub resolved_findings: Vec<Finding>,
}

/// A path that one side has and the other has not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathDelta {
    /// The path, as its side's graph has it.
    pub path: Path,
    /// How the source reaches the target.
    pub plane: Plane,
    /// The kind of the path's target.
    pub target_kind: NodeKind,
    /// The first hop of the path whose edge the other graph lacks or decides differently.
    pub hop: Option<HopChange>,
}

/// A path both sides have, whose status or actions differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changed {
    /// The old path.
    pub before: Path,
    /// The new path.
    pub after: Path,
    /// How the source reaches the target.
    pub plane: Plane,
    /// The kind of the path's target.
    pub target_kind: NodeKind,
    /// The first hop whose proof differs.
    pub hop: Option<HopChange>,
}

/// One hop whose proof differs between the two snapshots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HopChange {
    /// The node id it leaves.
    pub from: String,
    /// The node id it reaches.
    pub to: String,
    /// The edge kind.
    pub kind: EdgeKind,
    /// Its status in the old graph; `None` when the old graph has no such edge.
    pub before: Option<EdgeStatus>,
    /// Its status in the new graph; `None` when the new graph has no such edge.
    pub after: Option<EdgeStatus>,
    /// Statements that decide it only in the new graph, sorted.
    pub added: Vec<Reason>,
    /// Statements that decided it only in the old graph, sorted.
    pub removed: Vec<Reason>,
    /// Open conditions only the new graph has, sorted.
    pub conditions_added: Vec<OpenCondition>,
    /// Open conditions only the old graph had, sorted.
    pub conditions_removed: Vec<OpenCondition>,
}

impl Diff {
    /// The gained paths whose target is of `kind` (when given) and whose id matches the ARN glob
    /// `target` (when given; `*` and `?` as in IAM, case-sensitive).
    pub fn gained_matching<'d>(
        &'d self,
        kind: Option<NodeKind>,
        target: Option<&'d str>,
    ) -> impl Iterator<Item = &'d PathDelta> + 'd {
        self.gained.iter().filter(move |d| {
            kind.is_none_or(|k| d.target_kind == k)
                && target.is_none_or(|pattern| glob::matches(pattern, &d.path.target))
        })
    }

    /// Keeps only the paths that allow one of `actions` (globs, `*` and `?`, case ignored as
    /// IAM compares actions): a gained or lost path whose actions include one, a changed path
    /// when its old or new actions do. Findings are kept.
    ///
    /// A graph built with these actions ([`crate::graph::BuildOptions::actions`]) already
    /// carries no others on its `accesses` edges; the agent's `injects` and `pulls` carry what
    /// the agent does whatever was asked, so this is what leaves them out. Each plane is keyed
    /// apart, so no path left out hides another that allows one of `actions`.
    pub fn retain_actions(&mut self, actions: &[String]) {
        let allows = |path: &Path| {
            path.actions
                .iter()
                .any(|a| actions.iter().any(|p| glob::matches_ignore_case(p, a)))
        };
        self.gained.retain(|d| allows(&d.path));
        self.lost.retain(|d| allows(&d.path));
        self.changed
            .retain(|c| allows(&c.before) || allows(&c.after));
    }

    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.gained.is_empty()
            && self.lost.is_empty()
            && self.changed.is_empty()
            && self.new_findings.is_empty()
            && self.resolved_findings.is_empty()
    }
}

/// The plane's contract name: `task` or `agent`.
pub fn plane_str(plane: Plane) -> &'static str {
    match plane {
        Plane::Task => "task",
        Plane::Agent => "agent",
        Plane::Escalation => "escalation",
    }
}

/// The routes of one source, by (target id, plane); none when `g` has no such source.
fn routes_by_key(g: &AccessGraph, source: Option<NodeIndex>) -> BTreeMap<(&str, Plane), Route> {
    source
        .map(|ix| routes(g, &[ix], None, None))
        .unwrap_or_default()
        .into_iter()
        .map(|r| ((g.graph[r.target].id.as_str(), r.plane), r))
        .collect()
}

/// How many sources are compared at a time: their paths are held only while they are compared.
const SOURCES_AT_ONCE: usize = 256;

/// The paths gained, lost and changed from one source. Only the paths that differ are copied
/// out of the graphs.
fn compare_source(
    old: &AccessGraph,
    new: &AccessGraph,
    before: Option<NodeIndex>,
    after: Option<NodeIndex>,
) -> (Vec<PathDelta>, Vec<PathDelta>, Vec<Changed>) {
    let (before, after) = (routes_by_key(old, before), routes_by_key(new, after));
    let (mut gained, mut lost, mut changed) = (Vec::new(), Vec::new(), Vec::new());
    for (key, route) in &after {
        match before.get(key) {
            None => gained.push(delta(route, new, old, true)),
            Some(old_route) => {
                if old_route.status(old) != route.status(new)
                    || old_route.actions(old) != route.actions(new)
                {
                    let (old_path, path) = (old_route.path(old), route.path(new));
                    let hop = first_changed(&path, old, true)
                        .or_else(|| first_changed(&old_path, new, false))
                        .or_else(|| first_positional(&old_path, &path));
                    changed.push(Changed {
                        before: old_path,
                        after: path,
                        plane: key.1,
                        target_kind: new.graph[route.target].kind,
                        hop,
                    });
                }
            }
        }
    }
    for (key, route) in &before {
        if !after.contains_key(key) {
            lost.push(delta(route, old, new, false));
        }
    }
    (gained, lost, changed)
}

/// A route of `g` that `other` lacks, with the first hop `other` decides differently; `is_new`
/// says whether `g` is the new graph.
fn delta(route: &Route, g: &AccessGraph, other: &AccessGraph, is_new: bool) -> PathDelta {
    let path = route.path(g);
    PathDelta {
        plane: route.plane,
        target_kind: g.graph[route.target].kind,
        hop: first_changed(&path, other, is_new),
        path,
    }
}

/// The hop edges out of `n`, by the other end's id then kind.
fn hops_out(g: &AccessGraph, n: NodeIndex) -> Vec<(&str, &Edge)> {
    let mut out: Vec<(&str, &Edge)> = g
        .graph
        .edges_directed(n, Direction::Outgoing)
        .filter(|e| e.weight().kind.is_hop())
        .map(|e| (g.graph[e.target()].id.as_str(), e.weight()))
        .collect();
    out.sort_by(|a, b| (a.0, a.1.kind).cmp(&(b.0, b.1.kind)));
    out
}

/// The nodes of each graph from which a search may find paths that differ from the other
/// graph's: those that reach, through hop edges, a node the two graphs do not hold alike.
///
/// A node is held alike when both graphs have it, of the same kind, with the same hop edges out
/// of it (to the same ids, with equal status, actions, proofs and notes). From a source that
/// reaches no node held differently, both graphs hold the same nodes and edges on every path
/// (by induction from the source), and a search visits them in the same order (node index order
/// is id order in a built graph), so its paths are the same: comparing it can find nothing.
fn differing_reach(old: &AccessGraph, new: &AccessGraph) -> (Vec<bool>, Vec<bool>) {
    let differs = |a: &AccessGraph, b: &AccessGraph, n: NodeIndex| {
        let node = &a.graph[n];
        match b.node(&node.id) {
            None => true,
            Some((m, other)) => other.kind != node.kind || hops_out(a, n) != hops_out(b, m),
        }
    };
    let mark = |a: &AccessGraph, b: &AccessGraph| -> Vec<bool> {
        let seeds: Vec<NodeIndex> = a
            .graph
            .node_indices()
            .collect::<Vec<_>>()
            .into_par_iter()
            .filter(|&n| differs(a, b, n))
            .collect();
        // Backwards through every hop edge, whatever its status.
        let mut marked = vec![false; a.graph.node_count()];
        let mut stack = seeds;
        for &n in &stack {
            marked[n.index()] = true;
        }
        while let Some(n) = stack.pop() {
            for e in a.graph.edges_directed(n, Direction::Incoming) {
                if e.weight().kind.is_hop() && !marked[e.source().index()] {
                    marked[e.source().index()] = true;
                    stack.push(e.source());
                }
            }
        }
        marked
    };
    let (mut old_marked, mut new_marked) = rayon::join(|| mark(old, new), || mark(new, old));
    // A node reaching a difference in either graph is compared from both sides.
    for n in old.graph.node_indices() {
        if let Some((m, _)) = new.node(&old.graph[n].id) {
            let either = old_marked[n.index()] || new_marked[m.index()];
            old_marked[n.index()] = either;
            new_marked[m.index()] = either;
        }
    }
    (old_marked, new_marked)
}

fn sorted<T: Ord + Clone>(items: &[T]) -> BTreeSet<T> {
    items.iter().cloned().collect()
}

/// How `hop` (of a path in one graph) compares with the edge of the same ends and kind in
/// `other`; `None` when `other` decides it the same way with the same statements.
/// `hop_is_new` says which side `hop` is on.
fn compare_hop(hop: &Hop, other: &AccessGraph, hop_is_new: bool) -> Option<HopChange> {
    let edge = other
        .node(&hop.from)
        .zip(other.node(&hop.to))
        .and_then(|((a, _), (b, _))| {
            other
                .graph
                .edges_connecting(a, b)
                .map(|e| e.weight())
                .find(|e| e.kind == hop.kind)
        });
    let empty: (BTreeSet<Reason>, BTreeSet<OpenCondition>) = (BTreeSet::new(), BTreeSet::new());
    let (other_because, other_conditions) = edge
        .map(|e| (sorted(e.because()), sorted(e.conditions())))
        .unwrap_or(empty);
    let (because, conditions) = (sorted(&hop.because), sorted(&hop.conditions));
    let other_status = edge.map(|e| e.status);
    if other_status == Some(hop.status)
        && other_because == because
        && other_conditions == conditions
    {
        return None;
    }
    let (new_b, old_b, new_c, old_c, before, after) = if hop_is_new {
        (
            &because,
            &other_because,
            &conditions,
            &other_conditions,
            other_status,
            Some(hop.status),
        )
    } else {
        (
            &other_because,
            &because,
            &other_conditions,
            &conditions,
            Some(hop.status),
            other_status,
        )
    };
    Some(HopChange {
        from: hop.from.clone(),
        to: hop.to.clone(),
        kind: hop.kind,
        before,
        after,
        added: new_b.difference(old_b).cloned().collect(),
        removed: old_b.difference(new_b).cloned().collect(),
        conditions_added: new_c.difference(old_c).cloned().collect(),
        conditions_removed: old_c.difference(new_c).cloned().collect(),
    })
}

/// The first hop of `path` whose edge `other` lacks or decides differently.
fn first_changed(path: &Path, other: &AccessGraph, path_is_new: bool) -> Option<HopChange> {
    path.hops
        .iter()
        .find_map(|h| compare_hop(h, other, path_is_new))
}

/// The first position where two paths' hops differ, as a change from `before` to `after`.
fn first_positional(before: &Path, after: &Path) -> Option<HopChange> {
    let len = before.hops.len().max(after.hops.len());
    (0..len).find_map(|i| match (before.hops.get(i), after.hops.get(i)) {
        (Some(b), Some(a)) if b == a => None,
        (Some(b), Some(a)) if (&b.from, &b.to, b.kind) == (&a.from, &a.to, a.kind) => {
            let (bb, ab) = (sorted(&b.because), sorted(&a.because));
            let (bc, ac) = (sorted(&b.conditions), sorted(&a.conditions));
            Some(HopChange {
                from: a.from.clone(),
                to: a.to.clone(),
                kind: a.kind,
                before: Some(b.status),
                after: Some(a.status),
                added: ab.difference(&bb).cloned().collect(),
                removed: bb.difference(&ab).cloned().collect(),
                conditions_added: ac.difference(&bc).cloned().collect(),
                conditions_removed: bc.difference(&ac).cloned().collect(),
            })
        }
        (_, Some(a)) => Some(HopChange {
            from: a.from.clone(),
            to: a.to.clone(),
            kind: a.kind,
            before: None,
            after: Some(a.status),
            added: sorted(&a.because).into_iter().collect(),
            removed: Vec::new(),
            conditions_added: sorted(&a.conditions).into_iter().collect(),
            conditions_removed: Vec::new(),
        }),
        (Some(b), None) => Some(HopChange {
            from: b.from.clone(),
            to: b.to.clone(),
            kind: b.kind,
            before: Some(b.status),
            after: None,
            added: Vec::new(),
            removed: sorted(&b.because).into_iter().collect(),
            conditions_added: Vec::new(),
            conditions_removed: sorted(&b.conditions).into_iter().collect(),
        }),
        (None, None) => None,
    })
}

/// A finding's identity across snapshots.
fn finding_key(f: &Finding) -> (super::Code, &str, Vec<&str>) {
    (
        f.code,
        f.subject.as_str(),
        f.nodes.iter().map(|n| n.id.as_str()).collect(),
    )
}

/// Compares two snapshots: the paths gained, lost and changed, and the findings new and
/// resolved.
///
/// Each graph must be the full graph of its inventory ([`crate::graph::build`]), built with the
/// same options, as [`findings()`] requires.
///
/// # Errors
/// None: differences are values.
///
/// # Complexity
/// One [`routes`] search from every source of each graph that reaches a node the two graphs hold
/// differently (found in O(V + E)), and [`findings()`] of each: O(S · (V + E)) for S such
/// sources; then O(P log P + F log F) to match P paths and F findings. Sources are compared a
/// chunk at a time, in parallel, and only the paths that differ are kept, so memory follows the
/// size of the answer, not the number of paths.
///
/// # Example
/// ```
/// use rolechain::{analysis, graph, model::Inventory};
/// let inventory = Inventory::default();
/// let g = graph::build(&inventory, &graph::BuildOptions::default());
/// assert!(analysis::diff(&inventory, &g, &inventory, &g).is_empty());
/// ```
pub fn diff(
    old_inventory: &Inventory,
    old: &AccessGraph,
    new_inventory: &Inventory,
    new: &AccessGraph,
) -> Diff {
    // Every source of either graph, by id, with its index on each side; only those that
    // reach a node the graphs hold differently are compared.
    let (old_differs, new_differs) = differing_reach(old, new);
    let mut both: BTreeMap<&str, (Option<NodeIndex>, Option<NodeIndex>)> = BTreeMap::new();
    for ix in sources(old) {
        if old_differs[ix.index()] {
            both.entry(old.graph[ix].id.as_str()).or_default().0 = Some(ix);
        }
    }
    for ix in sources(new) {
        if new_differs[ix.index()] {
            both.entry(new.graph[ix].id.as_str()).or_default().1 = Some(ix);
        }
    }
    let sides: Vec<(Option<NodeIndex>, Option<NodeIndex>)> = both.into_values().collect();
    let mut out = Diff::default();
    for chunk in sides.chunks(SOURCES_AT_ONCE) {
        let compared: Vec<_> = chunk
            .par_iter()
            .map(|&(before, after)| compare_source(old, new, before, after))
            .collect();
        // In source order, and within a source by (target, plane): the order of the contract.
        for (gained, lost, changed) in compared {
            out.gained.extend(gained);
            out.lost.extend(lost);
            out.changed.extend(changed);
        }
    }
    // The two sides' findings are independent: decided side by side.
    let (old_findings, new_findings) = rayon::join(
        || findings(old_inventory, old).findings,
        || findings(new_inventory, new).findings,
    );
    let old_keys: BTreeSet<_> = old_findings.iter().map(finding_key).collect();
    let new_keys: BTreeSet<_> = new_findings.iter().map(finding_key).collect();
    out.new_findings = new_findings
        .iter()
        .filter(|f| !old_keys.contains(&finding_key(f)))
        .cloned()
        .collect();
    out.resolved_findings = old_findings
        .iter()
        .filter(|f| !new_keys.contains(&finding_key(f)))
        .cloned()
        .collect();
    out
}
