//! Properties over the scenario organizations: adding a Deny never adds reachability, output
//! does not depend on the order of the snapshot's lists, and JSON exports round-trip.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rolechain::analysis::{self, DEFAULT_MAX_DEPTH};
use rolechain::collect;
use rolechain::export;
use rolechain::graph::{self, BuildOptions, EdgeStatus};
use rolechain::model::{InlinePolicy, Inventory, PolicyDocument};

use crate::support;

fn scenarios() -> Vec<(String, Inventory)> {
    let root = support::root().join("tests/fixtures/scenarios");
    let mut dirs: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("snapshot.json").is_file())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|d| {
            (
                d.file_name().unwrap().to_string_lossy().to_string(),
                collect::load_file(&d.join("snapshot.json")).unwrap(),
            )
        })
        .collect()
}

/// Every (source, target, plane) reached from any container, role or user, with its status.
fn reachability(inventory: &Inventory) -> BTreeMap<(String, String, bool), EdgeStatus> {
    let g = graph::build(inventory, &BuildOptions::default());
    let sources: Vec<_> = g
        .graph
        .node_indices()
        .filter(|&n| {
            matches!(
                g.graph[n].kind,
                graph::NodeKind::Container | graph::NodeKind::Role | graph::NodeKind::User
            )
        })
        .collect();
    analysis::reach(&g, &sources, None, DEFAULT_MAX_DEPTH)
        .into_iter()
        .map(|p| {
            let agent = matches!(
                p.hops[0].kind,
                graph::EdgeKind::Injects | graph::EdgeKind::Pulls
            );
            ((p.source, p.target, agent), p.status)
        })
        .collect()
}

const DENY_ACTIONS: &[&str] = &[
    "*",
    "sts:AssumeRole",
    "secretsmanager:*",
    "kms:Decrypt",
    "s3:Get*",
    "ssm:GetParameter*",
    "ecr:*",
    "logs:*",
    "iam:*",
];
const DENY_RESOURCES: &[&str] = &[
    "*",
    "arn:aws:secretsmanager:*:*:secret:prod/*",
    "arn:aws:iam::*:role/*",
    "arn:aws:s3:::*",
    "arn:aws:kms:*:*:key/*",
];

fn deny(action: &str, resource: &str, conditional: bool) -> PolicyDocument {
    let condition = if conditional {
        r#","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}"#
    } else {
        ""
    };
    PolicyDocument::parse_str(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Added","Effect":"Deny","Action":"{action}","Resource":"{resource}"{condition}}}]}}"#
    ))
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Adding a Deny to any role never adds a path, and never makes a path's status stronger.
    #[test]
    fn adding_a_deny_never_adds_reachability(
        scenario in any::<prop::sample::Index>(),
        role in any::<prop::sample::Index>(),
        action in prop::sample::select(DENY_ACTIONS),
        resource in prop::sample::select(DENY_RESOURCES),
        conditional in any::<bool>(),
    ) {
        let all = scenarios();
        let (name, inventory) = &all[scenario.index(all.len())];
        let before = reachability(inventory);
        let mut changed = inventory.clone();
        let mut roles: Vec<_> = changed.accounts.iter_mut().filter_map(|a| a.iam.as_mut()).flat_map(|i| i.roles.iter_mut()).collect();
        prop_assume!(!roles.is_empty());
        let n = roles.len();
        let target = &mut roles[role.index(n)];
        target.inline.push(InlinePolicy { name: "added-deny".into(), document: deny(action, resource, conditional) });
        let target = target.arn.clone();
        let after = reachability(&changed);
        for (key, status) in &after {
            let was = before.get(key);
            prop_assert!(was.is_some(), "{name}: a Deny on {} added the path {key:?}", target);
            prop_assert!(status <= was.unwrap(), "{name}: a Deny made {key:?} stronger");
        }
    }

    /// The order of the snapshot's lists does not change any export.
    #[test]
    fn exports_do_not_depend_on_list_order(scenario in any::<prop::sample::Index>()) {
        let all = scenarios();
        let (name, inventory) = &all[scenario.index(all.len())];
        let mut shuffled = inventory.clone();
        shuffled.accounts.reverse();
        for a in &mut shuffled.accounts {
            if let Some(iam) = a.iam.as_mut() {
                iam.roles.reverse();
                iam.users.reverse();
                iam.policies.reverse();
            }
            for r in a.regions.values_mut() {
                for list in [&mut r.secrets].into_iter().flatten() {
                    list.reverse();
                }
                if let Some(ecs) = r.ecs.as_mut() {
                    for list in [&mut ecs.task_definitions].into_iter().flatten() {
                        list.reverse();
                    }
                }
            }
        }
        let a = graph::build(inventory, &BuildOptions::default());
        let b = graph::build(&shuffled, &BuildOptions::default());
        prop_assert_eq!(export::graph_json(&a), export::graph_json(&b), "{}", name);
        prop_assert_eq!(export::to_dot(&a).0, export::to_dot(&b).0, "{}", name);
        prop_assert_eq!(export::to_mermaid(&a).0, export::to_mermaid(&b).0, "{}", name);
        prop_assert_eq!(export::to_cypher(&a), export::to_cypher(&b), "{}", name);
        prop_assert_eq!(export::to_graphml(&a), export::to_graphml(&b), "{}", name);
    }
}

/// The graph and paths JSON parse back to what was exported.
#[test]
fn json_exports_round_trip() {
    for (name, inventory) in scenarios() {
        let g = graph::build(&inventory, &BuildOptions::default());
        let v: serde_json::Value = serde_json::from_str(&export::graph_json(&g)).unwrap();
        assert_eq!(v["schema"], "rolechain.graph/v1");
        let nodes = v["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), g.graph.node_count(), "{name}");
        assert_eq!(
            v["edges"].as_array().unwrap().len(),
            g.graph.edge_count(),
            "{name}"
        );
        for n in nodes {
            let id = n["id"].as_str().unwrap();
            let (_, node) = g.node(id).unwrap();
            assert_eq!(n["kind"], node.kind.as_str(), "{name} {id}");
            assert_eq!(n["label"], node.label.as_str());
            assert_eq!(n["account"].as_str(), node.account.as_deref());
        }
        let paths = analysis::reach(&g, &analysis::containers(&g), None, DEFAULT_MAX_DEPTH);
        let v: serde_json::Value = serde_json::from_str(&export::paths_json(&paths)).unwrap();
        let out = v["paths"].as_array().unwrap();
        assert_eq!(out.len(), paths.len());
        for (p, j) in paths.iter().zip(out) {
            assert_eq!(j["source"], p.source.as_str());
            assert_eq!(j["target"], p.target.as_str());
            assert_eq!(j["status"], p.status.as_str());
            assert_eq!(j["cross_account"], p.cross_account);
            assert_eq!(j["hops"].as_array().unwrap().len(), p.hops.len());
        }
    }
}
