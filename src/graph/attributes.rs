//! What rules may ask of a node beyond its id, kind and account: its tags, its account's names
//! and OUs, and the ECS services and clusters that run it.
//!
//! The graph draws none of these, so they are gathered once, next to it, from the inventory the
//! graph was built from and from the graph's structural edges (`runs`, `defines`): a table
//! beside the graph rather than fields of [`Node`](super::Node), so that exports stay as they
//! are and the builder stays the one place that makes nodes.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::Direction;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;

use super::{AccessGraph, EdgeKind, NodeKind};
use crate::model::{Inventory, Tags};

/// Facts about the nodes of one graph, for selectors.
#[derive(Clone, Debug, Default)]
pub struct Attributes {
    /// Node id to its tags, for roles, users and resources whose tags the snapshot holds.
    tags: BTreeMap<String, Tags>,
    /// Account id to its names (the snapshot's `name` and Organizations' `Name`).
    account_names: BTreeMap<String, BTreeSet<String>>,
    /// Account id to the OUs and root above it, nearest first.
    units: BTreeMap<String, Vec<String>>,
    /// OU id to its name.
    unit_names: BTreeMap<String, String>,
    /// Container, task definition or service to the services that run it.
    services: BTreeMap<NodeIndex, BTreeSet<NodeIndex>>,
    /// Container, task definition, service or cluster to the clusters it runs in.
    clusters: BTreeMap<NodeIndex, BTreeSet<NodeIndex>>,
}

const NONE: &[String] = &[];

impl Attributes {
    /// Gathers the facts of `graph`, which [`super::build()`] made from `inventory`.
    ///
    /// # Complexity
    /// O((n + e) log n) in the inventory's size and the graph's nodes and edges.
    pub fn new(inventory: &Inventory, graph: &AccessGraph) -> Attributes {
        let mut a = Attributes::default();
        a.inventory_facts(inventory);
        a.ecs_facts(inventory, graph);
        a
    }

    fn inventory_facts(&mut self, inventory: &Inventory) {
        let mut put = |id: &str, tags: Option<&Tags>| {
            if let Some(tags) = tags.filter(|t| !t.is_empty()) {
                self.tags.insert(id.to_string(), tags.clone());
            }
        };
        for account in &inventory.accounts {
            for role in account.iam.iter().flat_map(|i| &i.roles) {
                put(&role.arn, Some(&role.tags));
            }
            for user in account.iam.iter().flat_map(|i| &i.users) {
                put(&user.arn, Some(&user.tags));
            }
            for r in account.regions.values() {
                for s in r.secrets.iter().flatten() {
                    put(&s.arn, Some(&s.tags));
                }
                for p in r.ssm_parameters.iter().flatten() {
                    put(&p.arn, p.tags.as_ref());
                }
                for k in r.kms_keys.iter().flatten() {
                    put(&k.arn, Some(&k.tags));
                }
                for e in r.ecr_repositories.iter().flatten() {
                    put(&e.arn, e.tags.as_ref());
                }
                for l in r.log_groups.iter().flatten() {
                    put(&l.arn, l.tags.as_ref());
                }
            }
            for b in account.s3_buckets.iter().flatten() {
                // The node id of SNAPSHOT-V1 §2.
                put(
                    &format!("arn:{}:s3:::{}", account.partition, b.name),
                    b.tags.as_ref(),
                );
            }
        }
        for account in &inventory.accounts {
            if let Some(name) = &account.name {
                self.name_account(&account.id, name);
            }
        }
        let Some(org) = &inventory.organization else {
            return;
        };
        for account in &org.accounts {
            if let Some(name) = &account.name {
                self.name_account(&account.id, name);
            }
        }
        self.unit_names = org.unit_names.clone();
        for child in org.parents.keys().filter(|c| !c.starts_with("ou-")) {
            let mut chain = Vec::new();
            let mut at = child;
            // A malformed `parents` may loop; a chain is never longer than the map.
            while let Some(parent) = org.parents.get(at) {
                if chain.contains(parent) || chain.len() > org.parents.len() {
                    break;
                }
                chain.push(parent.clone());
                at = parent;
            }
            self.units.insert(child.clone(), chain);
        }
    }

    fn name_account(&mut self, id: &str, name: &str) {
        self.account_names
            .entry(id.to_string())
            .or_default()
            .insert(name.to_string());
    }

    fn ecs_facts(&mut self, inventory: &Inventory, graph: &AccessGraph) {
        let g = &graph.graph;
        let into = |n: NodeIndex, edge: EdgeKind, from: NodeKind| -> BTreeSet<NodeIndex> {
            g.edges_directed(n, Direction::Incoming)
                .filter(|e| e.weight().kind == edge && g[e.source()].kind == from)
                .map(|e| e.source())
                .collect()
        };
        // Standalone tasks run a task definition in a cluster without a service.
        let mut task_clusters: BTreeMap<&str, BTreeSet<NodeIndex>> = BTreeMap::new();
        for account in &inventory.accounts {
            for r in account.regions.values() {
                for t in r.ecs.iter().flat_map(|e| e.tasks.iter().flatten()) {
                    if let Some(c) = t.cluster_arn.as_deref().and_then(|c| graph.index.get(c)) {
                        task_clusters
                            .entry(&t.task_definition_arn)
                            .or_default()
                            .insert(*c);
                    }
                }
            }
        }
        // INVARIANT: services before task definitions before containers, so each finds the
        // facts of what runs it already gathered.
        for kind in [
            NodeKind::Cluster,
            NodeKind::Service,
            NodeKind::TaskDefinition,
            NodeKind::Container,
        ] {
            for n in g.node_indices().filter(|&n| g[n].kind == kind) {
                let (services, clusters) = match kind {
                    NodeKind::Cluster => (BTreeSet::new(), BTreeSet::from([n])),
                    NodeKind::Service => (
                        BTreeSet::from([n]),
                        into(n, EdgeKind::Runs, NodeKind::Cluster),
                    ),
                    NodeKind::TaskDefinition => {
                        let services = into(n, EdgeKind::Runs, NodeKind::Service);
                        let mut clusters = self.union(&services, |a| &a.clusters);
                        clusters.extend(task_clusters.get(g[n].id.as_str()).into_iter().flatten());
                        (services, clusters)
                    }
                    _ => {
                        let defs = into(n, EdgeKind::Defines, NodeKind::TaskDefinition);
                        (
                            self.union(&defs, |a| &a.services),
                            self.union(&defs, |a| &a.clusters),
                        )
                    }
                };
                if !services.is_empty() {
                    self.services.insert(n, services);
                }
                if !clusters.is_empty() {
                    self.clusters.insert(n, clusters);
                }
            }
        }
    }

    fn union(
        &self,
        of: &BTreeSet<NodeIndex>,
        table: impl Fn(&Attributes) -> &BTreeMap<NodeIndex, BTreeSet<NodeIndex>>,
    ) -> BTreeSet<NodeIndex> {
        of.iter()
            .filter_map(|n| table(self).get(n))
            .flatten()
            .copied()
            .collect()
    }

    /// The tags of the node with this id, when the snapshot holds any.
    pub fn tags(&self, id: &str) -> Option<&Tags> {
        self.tags.get(id)
    }

    /// The names of an account, sorted.
    pub fn account_names(&self, account: &str) -> impl Iterator<Item = &str> {
        self.account_names
            .get(account)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// The ids of the OUs and the root above an account, nearest first; empty when the
    /// snapshot's organization does not place it.
    pub fn units(&self, account: &str) -> &[String] {
        self.units.get(account).map_or(NONE, Vec::as_slice)
    }

    /// The name of an OU, when the snapshot gives it.
    pub fn unit_name(&self, unit: &str) -> Option<&str> {
        self.unit_names.get(unit).map(String::as_str)
    }

    /// Every OU or root id on some account's chain, and every OU the snapshot names, sorted.
    pub fn known_units(&self) -> BTreeSet<&str> {
        self.units
            .values()
            .flatten()
            .map(String::as_str)
            .chain(self.unit_names.keys().map(String::as_str))
            .collect()
    }

    /// The services that run a container, task definition or service (a service runs itself).
    pub fn services(&self, n: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.services.get(&n).into_iter().flatten().copied()
    }

    /// The clusters a container, task definition, service or cluster runs in (a cluster runs in
    /// itself).
    pub fn clusters(&self, n: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.clusters.get(&n).into_iter().flatten().copied()
    }
}
