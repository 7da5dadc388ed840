//! Properties over the scenario organizations: adding a Deny never adds reachability, output
//! does not depend on the order of the snapshot's lists, and JSON exports round-trip.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rolechain::analysis;
use rolechain::collect;
use rolechain::export::{self, GraphFormat};
use rolechain::graph::{self, BuildOptions, EdgeStatus};
use rolechain::model::{InlinePolicy, Inventory, PolicyDocument};

use crate::contract;
use crate::scenarios::scenario_dirs;
use crate::support::{self, exported, written};

fn scenarios() -> Vec<(String, Inventory)> {
    scenario_dirs()
        .into_iter()
        .map(|d| {
            let name = d.file_name().unwrap().to_string_lossy().to_string();
            let inventory = collect::load_file(&d.join("snapshot.json"))
                .unwrap_or_else(|e| panic!("scenario `{name}`: {e:#}"));
            (name, inventory)
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
    analysis::reach(&g, &sources, None, None)
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
        for format in GraphFormat::ALL {
            prop_assert_eq!(exported(&a, format), exported(&b, format), "{} {:?}", name, format);
        }
    }
}

/// The graph and paths JSON of every scenario and of the example, read back through the
/// contract's mirror, equal the graph and paths they were written from, field by field.
#[test]
fn json_exports_round_trip() {
    let example = support::root().join("examples/three-account-org/snapshot.json");
    let example = (
        "three-account-org".to_owned(),
        collect::load_file(&example).unwrap(),
    );
    for (name, inventory) in scenarios().into_iter().chain([example]) {
        let g = graph::build(&inventory, &BuildOptions::default());
        contract::assert_graph_json_round_trips(&name, &g, &exported(&g, GraphFormat::Json).0);
        let paths = analysis::reach(&g, &analysis::containers(&g), None, None);
        let read = contract::read_paths_json(&written(|out| export::write_paths_json(&paths, out)));
        assert_eq!(read.len(), paths.len(), "{name}: path count");
        for (got, want) in read.iter().zip(&paths) {
            assert_eq!(
                got,
                &contract::as_written(want),
                "{name}: path {} -> {}",
                want.source,
                want.target
            );
        }
    }
}

/// A small random organization, as snapshot JSON: two accounts, a few roles with random trust
/// and identity policies, and resources of every kind with random resource policies.
fn random_org() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::json;
    const A: &str = "111111111111";
    const B: &str = "222222222222";
    let accounts = [A, B];
    let role_arn = |acct: &str, i: usize| format!("arn:aws:iam::{acct}:role/r{i}");
    let secret = |acct: &str, i: usize| {
        format!("arn:aws:secretsmanager:us-east-1:{acct}:secret:app/s{i}-AbCdE{i}")
    };
    let key = |acct: &str| format!("arn:aws:kms:us-east-1:{acct}:key/k-{acct}");
    let principals = move |acct: &str| -> Vec<serde_json::Value> {
        vec![
            json!("*"),
            json!({"AWS": "*"}),
            json!({"AWS": acct}),
            json!({"AWS": format!("arn:aws:iam::{acct}:root")}),
            json!({"AWS": role_arn(A, 0)}),
            json!({"AWS": role_arn(B, 1)}),
            json!({"AWS": format!("arn:aws:sts::{A}:assumed-role/r2/session")}),
            json!({"Service": "ecs-tasks.amazonaws.com"}),
        ]
    };
    let actions = vec![
        json!("secretsmanager:GetSecretValue"),
        json!("secretsmanager:*"),
        json!("s3:GetObject"),
        json!("s3:*"),
        json!("kms:Decrypt"),
        json!("kms:*"),
        json!("ssm:GetParameter*"),
        json!("logs:*"),
        json!("ecr:BatchGetImage"),
        json!("*"),
        json!("sts:AssumeRole"),
        json!(["secretsmanager:GetSecretValue", "kms:Decrypt"]),
        // ECS privilege escalation (R4.6).
        json!(["iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:RunTask"]),
        json!(["iam:PassRole", "ecs:RunTask"]),
        json!("ecs:*"),
        json!("ecs:ExecuteCommand"),
        json!([
            "ecr:GetAuthorizationToken",
            "ecr:PutImage",
            "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload",
            "ecr:BatchCheckLayerAvailability"
        ]),
    ];
    let resources = vec![
        json!("*"),
        json!(secret(A, 0)),
        json!(secret(B, 1)),
        json!("arn:aws:secretsmanager:*:*:secret:app/*"),
        json!(format!("arn:aws:secretsmanager:us-east-1:{B}:secret:*")),
        json!("arn:aws:s3:::bucket-a/*"),
        json!("arn:aws:s3:::bucket-*"),
        json!(key(A)),
        json!(key(B)),
        json!("arn:aws:kms:*:*:key/*"),
        json!(format!("arn:aws:ssm:us-east-1:{A}:parameter/app/*")),
        json!(format!("arn:aws:logs:us-east-1:{B}:log-group:/ecs/*")),
        json!(format!("arn:aws:ecr:us-east-1:{B}:repository/web")),
        json!(role_arn(B, 1)),
        json!("arn:aws:iam::*:role/*"),
        json!("arn:aws:secretsmanager:us-east-1"),
        json!("arn:aws:secretsmanager:US-EAST-1:*:secret:app/*"),
        json!("arn:aws:secretsmanager:us-east-1:333333333333:secret:outside-AbCdEf"),
        json!("arn:aws:kms:us-east-1:333333333333:key/outside"),
        json!("arn:aws:s3:::bucket-outside/*"),
    ];
    let statement = (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(actions),
        prop::sample::select(resources),
    )
        .prop_map(|(deny, not_action, not_resource, action, resource)| {
            let mut s = serde_json::Map::new();
            s.insert("Effect".into(), json!(if deny { "Deny" } else { "Allow" }));
            s.insert(
                if not_action && !deny {
                    "NotAction"
                } else {
                    "Action"
                }
                .into(),
                action,
            );
            s.insert(
                if not_resource && deny {
                    "NotResource"
                } else {
                    "Resource"
                }
                .into(),
                resource,
            );
            serde_json::Value::Object(s)
        });
    let resource_policy = move |acct: &'static str| {
        (prop::sample::select(principals(acct)), any::<bool>(), any::<bool>()).prop_map(|(principal, some, all_actions)| {
            if !some {
                return serde_json::Value::Null;
            }
            let action = if all_actions { json!("*") } else { json!(["secretsmanager:GetSecretValue", "s3:GetObject", "kms:Decrypt", "ecr:BatchGetImage"]) };
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"}]})
        })
    };
    let own_statement = statement.clone();
    let role = move |acct: &'static str, i: usize| {
        (prop::sample::select(principals(acct)), prop::collection::vec(own_statement.clone(), 0..4)).prop_map(move |(trusted, statements)| {
            json!({
                "Arn": role_arn(acct, i), "RoleName": format!("r{i}"), "Path": "/", "RoleId": format!("AROA{acct}{i}"),
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": trusted, "Action": "sts:AssumeRole"}]},
                "RolePolicyList": if statements.is_empty() { json!([]) } else { json!([{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}]) },
                // Every role of the account also has its managed policy: callers whose other
                // statements do not bear on a request share its decision (graph::share).
                "AttachedManagedPolicies": [{"PolicyName": "shared", "PolicyArn": format!("arn:aws:iam::{acct}:policy/shared")}],
                "Tags": [{"Key": "team", "Value": if i % 2 == 0 { "a" } else { "b" }}],
            })
        })
    };
    // The statements of an account's managed policy: random ones, and sometimes one whose
    // condition names the caller, which no caller may share.
    let shared_statements = (
        prop::collection::vec(statement.clone(), 0..3),
        prop::sample::select(vec![
            serde_json::Value::Null,
            json!({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
                   "Condition": {"StringEquals": {"aws:PrincipalTag/team": "a"}}}),
            json!({"Effect": "Deny", "Action": "*", "Resource": "*",
                   "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/r1"}}}),
            json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket-a/${aws:userid}/*"}),
        ]),
    )
        .prop_map(|(mut statements, special)| {
            if !special.is_null() {
                statements.push(special);
            }
            if statements.is_empty() {
                statements.push(json!({"Effect": "Allow", "Action": "logs:*", "Resource": "*"}));
            }
            statements
        });
    let account = move |acct: &'static str, first: usize| {
        (
            prop::collection::vec(Just(()), 2..4).prop_flat_map(move |n| {
                (first..first + n.len()).map(|i| role(acct, i)).collect::<Vec<_>>()
            }),
            resource_policy(acct),
            resource_policy(acct),
            resource_policy(acct),
            any::<bool>(),
            shared_statements.clone(),
        )
            .prop_map(move |(roles, secret_policy, bucket_policy, key_policy, cmk, shared)| {
                let mut secrets = vec![json!({"ARN": secret(acct, 0), "Name": "app/s0", "ResourcePolicy": secret_policy})];
                secrets.push(json!({"ARN": secret(acct, 1), "Name": "app/s1", "KmsKeyId": if cmk { json!(key(acct)) } else { json!(null) }}));
                json!({
                    "id": acct,
                    "iam": {"RoleDetailList": roles, "Policies": [{
                        "PolicyName": "shared", "Arn": format!("arn:aws:iam::{acct}:policy/shared"), "Path": "/",
                        "DefaultVersionId": "v1",
                        "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true,
                            "Document": {"Version": "2012-10-17", "Statement": shared}}]
                    }]},
                    "regions": {"us-east-1": {
                        "secrets": secrets,
                        "kms_keys": [{"KeyMetadata": {"KeyId": format!("k-{acct}"), "Arn": key(acct), "KeyManager": "CUSTOMER"}, "Policy": key_policy}],
                        "ssm_parameters": [{"Name": "/app/db", "Type": "SecureString", "KeyId": key(acct)}],
                        "log_groups": [{"logGroupName": "/ecs/web", "arn": format!("arn:aws:logs:us-east-1:{acct}:log-group:/ecs/web:*")}],
                        "ecr_repositories": [{"repositoryArn": format!("arn:aws:ecr:us-east-1:{acct}:repository/web"), "repositoryName": "web"}],
                        // A service whose tasks inject a secret and pull from account B's
                        // repository: what escalation can reach (R4.6).
                        "ecs": {
                            "clusters": [{"clusterArn": format!("arn:aws:ecs:us-east-1:{acct}:cluster/main"), "clusterName": "main"}],
                            "services": [{
                                "serviceArn": format!("arn:aws:ecs:us-east-1:{acct}:service/main/web"), "serviceName": "web",
                                "clusterArn": format!("arn:aws:ecs:us-east-1:{acct}:cluster/main"),
                                "taskDefinition": format!("arn:aws:ecs:us-east-1:{acct}:task-definition/web:1"),
                                "launchType": "FARGATE", "enableExecuteCommand": true
                            }],
                            "task_definitions": [{
                                "taskDefinitionArn": format!("arn:aws:ecs:us-east-1:{acct}:task-definition/web:1"),
                                "family": "web", "revision": 1,
                                "taskRoleArn": role_arn(acct, first), "executionRoleArn": role_arn(acct, first + 1),
                                "containerDefinitions": [{
                                    "name": "app", "image": format!("{B}.dkr.ecr.us-east-1.amazonaws.com/web:latest"),
                                    "secrets": [{"name": "S", "valueFrom": secret(acct, 1)}]
                                }]
                            }]
                        }
                    }},
                    "s3_buckets": [{"Name": if acct == A { "bucket-a" } else { "bucket-b" }, "Region": "us-east-1", "Policy": bucket_policy}]
                })
            })
    };
    let second = account.clone();
    (account(accounts[0], 0), second(accounts[1], 1))
        .prop_map(|(a, b)| json!({"schema": "rolechain.snapshot/v1", "accounts": [a, b]}))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The candidate indexes of the graph build skip only pairs that are surely denied: the
    /// indexed build equals evaluating every (principal, resource) pair.
    #[test]
    fn graph_build_matches_exhaustive_evaluation(org in random_org()) {
        let inventory = collect::load_str(&org.to_string(), "random.json").unwrap();
        let indexed = graph::build(&inventory, &BuildOptions::default());
        let exhaustive = graph::build(&inventory, &BuildOptions { exhaustive: true, ..BuildOptions::default() });
        prop_assert_eq!(exported(&indexed, GraphFormat::Json), exported(&exhaustive, GraphFormat::Json));
    }

    /// A build toward one resource answers `who-can` on it exactly as the full build does, for
    /// every resource of random organizations (trusts naming anyone, accounts, roles and
    /// services; resource policies admitting outsiders; cross-account keys).
    #[test]
    fn who_can_toward_matches_full_build(org in random_org()) {
        let inventory = collect::load_str(&org.to_string(), "random.json").unwrap();
        assert_who_can_toward_matches(&inventory, "random.json")?;
    }

    /// `reach` lists its paths by source id, target id, length and hop kinds, whatever order
    /// its search found them in.
    #[test]
    fn reach_lists_paths_by_source_target_length_and_kinds(org in random_org()) {
        let inventory = collect::load_str(&org.to_string(), "random.json").unwrap();
        let g = graph::build(&inventory, &BuildOptions::default());
        let paths = analysis::reach(&g, &analysis::sources(&g), None, None);
        let key = |p: &analysis::Path| {
            (p.source.clone(), p.target.clone(), p.hops.len(), p.hops.iter().map(|h| h.kind).collect::<Vec<_>>())
        };
        for pair in paths.windows(2) {
            prop_assert!(key(&pair[0]) <= key(&pair[1]), "{} -> {} listed before {} -> {}", pair[0].source, pair[0].target, pair[1].source, pair[1].target);
        }
    }
}

/// For every resource of `inventory`: `who_can` on [`graph::build_toward`] equals `who_can` on
/// the full build, with and without a depth limit.
fn assert_who_can_toward_matches(inventory: &Inventory, name: &str) -> Result<(), TestCaseError> {
    let full = graph::build(inventory, &BuildOptions::default());
    let resources: Vec<String> = full
        .graph
        .node_weights()
        .filter(|n| n.kind.is_resource())
        .map(|n| n.id.clone())
        .collect();
    for id in resources {
        let toward = graph::build_toward(inventory, &id, &BuildOptions::default());
        let (Some(&a), Some(&b)) = (full.index.get(&id), toward.index.get(&id)) else {
            return Err(TestCaseError::fail(format!(
                "{name}: `{id}` is missing from the build toward it"
            )));
        };
        for depth in [None, Some(1)] {
            prop_assert_eq!(
                analysis::who_can(&full, a, depth),
                analysis::who_can(&toward, b, depth),
                "{}: who-can `{}` (max depth {:?})",
                name,
                id,
                depth
            );
        }
        // The warnings that say the snapshot lacks part of someone's permissions stay, so an
        // answer that may leave a principal out says so.
        for d in full
            .diagnostics
            .iter()
            .filter(|d| UNKNOWN_PERMISSIONS.contains(&d.code))
        {
            prop_assert!(
                toward.diagnostics.contains(d),
                "{}: who-can `{}` drops the warning {:?}",
                name,
                id,
                d
            );
        }
    }
    Ok(())
}

/// Warning codes that mean a principal's permissions are not all in the snapshot.
const UNKNOWN_PERMISSIONS: &[&str] = &[
    "policy-not-in-snapshot",
    "group-not-in-snapshot",
    "boundary-not-in-snapshot",
];

/// A role whose attached policy the snapshot lacks reads nothing the snapshot can show, so the
/// build toward a secret never decides it; its warning must still reach `who-can`.
#[test]
fn who_can_toward_warns_of_callers_whose_policies_are_missing() {
    let snapshot = serde_json::json!({
        "schema": "rolechain.snapshot/v1",
        "accounts": [{
            "id": "111111111111",
            "iam": {"RoleDetailList": [{
                "Arn": "arn:aws:iam::111111111111:role/app", "RoleName": "app", "Path": "/",
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
                "AttachedManagedPolicies": [{"PolicyName": "gone", "PolicyArn": "arn:aws:iam::111111111111:policy/gone"}]
            }]},
            "regions": {"us-east-1": {"secrets": [
                {"ARN": "arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbCdEf", "Name": "db"}]}}
        }]
    });
    let inventory = collect::load_str(&snapshot.to_string(), "missing-policy.json").unwrap();
    let secret = "arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbCdEf";
    let toward = graph::build_toward(&inventory, secret, &BuildOptions::default());
    assert!(
        toward
            .diagnostics
            .iter()
            .any(|d| d.code == "policy-not-in-snapshot"
                && d.subject == "arn:aws:iam::111111111111:role/app"),
        "{:?}",
        toward.diagnostics
    );
    assert_who_can_toward_matches(&inventory, "missing-policy.json").unwrap();
}

/// The same on every scenario and the bundled example, whose task definitions inject, pull,
/// override task roles and run on EC2 instances.
#[test]
fn who_can_toward_matches_full_build_on_scenarios() {
    let mut snapshots = vec![support::root().join("examples/three-account-org/snapshot.json")];
    snapshots.extend(scenario_dirs().into_iter().map(|d| d.join("snapshot.json")));
    for path in snapshots {
        let inventory = collect::load_file(&path).unwrap();
        if let Err(e) = assert_who_can_toward_matches(&inventory, &path.display().to_string()) {
            panic!("{e}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Bad input is an error, never a panic: a snapshot cut short or with a byte changed either
    /// fails to load with a message, or loads and builds.
    #[test]
    fn damaged_snapshots_never_panic(cut in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let text = std::fs::read(support::root().join("examples/three-account-org/snapshot.json")).unwrap();
        let mut damaged = text[..cut.index(text.len()).max(1)].to_vec();
        let i = at.index(damaged.len());
        damaged[i] = byte;
        let Ok(damaged) = String::from_utf8(damaged) else { return Ok(()) };
        match collect::load_str(&damaged, "damaged.json") {
            Ok(inventory) => {
                let g = graph::build(&inventory, &BuildOptions::default());
                let _ = exported(&g, GraphFormat::Dot);
            }
            Err(e) => prop_assert!(e.to_string().starts_with("`damaged.json`"), "{e}"),
        }
    }

    /// Policy documents of any shape are parsed or refused, never a panic, and a parsed one can
    /// be evaluated.
    #[test]
    fn arbitrary_policy_text_never_panics(doc in "\\{\"Statement\":\\[\\{\"Effect\":\"(Allow|Deny)\",\"(Not)?Action\":\"[a-z*?:]{0,12}\",\"(Not)?Resource\":\"[a-z*?:/${}]{0,16}\"(,\"Condition\":\\{\"[A-Za-z:]{1,24}\":\\{\"[a-z:/]{1,12}\":\"[a-z*${}]{0,8}\"\\}\\})?\\}\\]\\}") {
        if let Ok(parsed) = rolechain::model::PolicyDocument::parse_str(&doc) {
            let request = rolechain::policy::Request {
                principal: rolechain::policy::RequestPrincipal::Session { role_arn: "arn:aws:iam::111111111111:role/r".into(), session_name: None },
                action: "s3:GetObject".into(),
                resource: rolechain::policy::RequestResource::Under("arn:aws:s3:::b/".into()),
                resource_account: "111111111111".into(),
                context: rolechain::policy::Context::new(rolechain::policy::ContextValue::Unknown),
            };
            let set = rolechain::policy::PolicySet {
                identity: vec![rolechain::policy::PolicyRef { policy_type: rolechain::policy::PolicyType::Identity, id: "p", document: &parsed }],
                ..Default::default()
            };
            let _ = rolechain::policy::evaluate(&request, &set);
        }
    }
}

/// Every path of a graph from every source, by (source, target, plane): what `diff` compares.
fn every_path(
    g: &graph::AccessGraph,
) -> BTreeMap<(String, String, analysis::Plane), analysis::Path> {
    analysis::reach(g, &analysis::sources(g), None, None)
        .into_iter()
        .map(|p| {
            (
                (p.source.clone(), p.target.clone(), analysis::Plane::of(&p)),
                p,
            )
        })
        .collect()
}

/// `diff` against comparing every path of both graphs: the same paths gained, lost and changed,
/// although it compares only the sources that reach a node the two graphs hold differently.
fn assert_diff_matches_every_path(old: &Inventory, new: &Inventory) -> Result<(), TestCaseError> {
    let (a, b) = (
        graph::build(old, &BuildOptions::default()),
        graph::build(new, &BuildOptions::default()),
    );
    let d = analysis::diff(old, &a, new, &b);
    let (before, after) = (every_path(&a), every_path(&b));
    let gained: Vec<&analysis::Path> = after
        .iter()
        .filter(|(k, _)| !before.contains_key(*k))
        .map(|(_, p)| p)
        .collect();
    let lost: Vec<&analysis::Path> = before
        .iter()
        .filter(|(k, _)| !after.contains_key(*k))
        .map(|(_, p)| p)
        .collect();
    let changed: Vec<(&analysis::Path, &analysis::Path)> = after
        .iter()
        .filter_map(|(k, p)| before.get(k).map(|o| (o, p)))
        .filter(|(o, p)| o.status != p.status || o.actions != p.actions)
        .collect();
    prop_assert_eq!(d.gained.iter().map(|x| &x.path).collect::<Vec<_>>(), gained);
    prop_assert_eq!(d.lost.iter().map(|x| &x.path).collect::<Vec<_>>(), lost);
    prop_assert_eq!(
        d.changed
            .iter()
            .map(|x| (&x.before, &x.after))
            .collect::<Vec<_>>(),
        changed
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// `diff` finds every path that differs between two random organizations of the same
    /// accounts, and between one and itself with a Deny added to one role.
    #[test]
    fn diff_matches_comparing_every_path(
        old in random_org(),
        new in random_org(),
        role in any::<prop::sample::Index>(),
        action in prop::sample::select(DENY_ACTIONS),
        resource in prop::sample::select(DENY_RESOURCES),
    ) {
        let old = collect::load_str(&old.to_string(), "old.json").unwrap();
        let new = collect::load_str(&new.to_string(), "new.json").unwrap();
        assert_diff_matches_every_path(&old, &new)?;
        let mut denied = old.clone();
        let mut roles: Vec<_> = denied.accounts.iter_mut().filter_map(|a| a.iam.as_mut()).flat_map(|i| i.roles.iter_mut()).collect();
        prop_assume!(!roles.is_empty());
        let n = roles.len();
        roles[role.index(n)].inline.push(InlinePolicy { name: "added-deny".into(), document: deny(action, resource, false) });
        assert_diff_matches_every_path(&old, &denied)?;
        assert_diff_matches_every_path(&denied, &old)?;
    }
}

/// As [`diff_matches_comparing_every_path`], on each scenario against itself with each role's
/// policies dropped in turn (the first three roles).
#[test]
fn diff_matches_comparing_every_path_on_scenarios() {
    for (name, inventory) in scenarios() {
        for i in 0..3 {
            let mut changed = inventory.clone();
            let Some(role) = changed
                .accounts
                .iter_mut()
                .filter_map(|a| a.iam.as_mut())
                .flat_map(|iam| iam.roles.iter_mut())
                .nth(i)
            else {
                break;
            };
            role.inline.clear();
            role.attached.clear();
            assert_diff_matches_every_path(&inventory, &changed)
                .unwrap_or_else(|e| panic!("{name}, role {i}: {e}"));
        }
    }
}

/// `explain_on_demand` (the graph toward the target, and the trust plane for a "no") against
/// `explain` on the full build, for `limit` sources (containers, roles, users) and `limit`
/// resources of `inventory`, with and without a depth limit.
fn assert_explain_on_demand_matches(
    inventory: &Inventory,
    name: &str,
    limit: usize,
) -> Result<(), TestCaseError> {
    let full = graph::build(inventory, &BuildOptions::default());
    let ids = |keep: fn(graph::NodeKind) -> bool| -> Vec<String> {
        full.graph
            .node_weights()
            .filter(|n| n.in_snapshot && keep(n.kind))
            .map(|n| n.id.clone())
            .take(limit)
            .collect()
    };
    let sources = ids(|k| {
        matches!(
            k,
            graph::NodeKind::Container | graph::NodeKind::Role | graph::NodeKind::User
        )
    });
    let resources = ids(graph::NodeKind::is_resource);
    prop_assume!(!sources.is_empty() && !resources.is_empty());
    for from in &sources {
        for to in &resources {
            for depth in [None, Some(1)] {
                let expected = analysis::explain(inventory, &full, from, to, None, depth);
                let found = analysis::explain_on_demand(
                    inventory,
                    from,
                    to,
                    &BuildOptions::default(),
                    depth,
                )
                .map(|(e, _)| e);
                prop_assert_eq!(
                    found,
                    expected,
                    "{}: explain `{}` → `{}` (max depth {:?})",
                    name,
                    from,
                    to,
                    depth
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Explaining on demand answers as explaining on the full build, on random organizations.
    #[test]
    fn explain_on_demand_matches_full_build(org in random_org()) {
        let inventory = collect::load_str(&org.to_string(), "random.json").unwrap();
        assert_explain_on_demand_matches(&inventory, "random.json", 8)?;
    }
}

/// The same on every scenario and the bundled example (their first sources and resources).
#[test]
fn explain_on_demand_matches_full_build_on_scenarios() {
    let mut snapshots = vec![support::root().join("examples/three-account-org/snapshot.json")];
    snapshots.extend(scenario_dirs().into_iter().map(|d| d.join("snapshot.json")));
    for path in snapshots {
        let inventory = collect::load_file(&path).unwrap();
        match assert_explain_on_demand_matches(&inventory, &path.display().to_string(), 4) {
            Ok(()) | Err(TestCaseError::Reject(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
}

/// Roles whose identity statements for a service are the same share decisions (graph::share), but
/// not on a resource whose policy names one of them, nor through a statement whose condition
/// reads the caller's own tag: there each is decided for that role alone, as the exhaustive
/// evaluation (which shares nothing) decides it.
#[test]
fn shared_decisions_never_cross_a_policy_that_names_the_caller() {
    use serde_json::json;
    let role = |name: &str| {
        json!({
            "Arn": format!("arn:aws:iam::111111111111:role/{name}"), "RoleName": name, "Path": "/",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
            "RolePolicyList": [],
            "AttachedManagedPolicies": [{"PolicyName": "logs", "PolicyArn": "arn:aws:iam::111111111111:policy/logs"}]
        })
    };
    let secret = |name: &str, effect: &str, principal: serde_json::Value| {
        json!({"ARN": format!("arn:aws:secretsmanager:us-east-1:111111111111:secret:{name}-AbCdEf"), "Name": name,
               "ResourcePolicy": {"Version": "2012-10-17", "Statement": [
                   {"Effect": effect, "Principal": principal, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}})
    };
    let roles: Vec<serde_json::Value> = ["a", "b", "c", "d", "e", "f", "g", "h"].map(role).into();
    let snapshot = json!({
        "schema": "rolechain.snapshot/v1",
        "accounts": [{
            "id": "111111111111",
            "iam": {
                "RoleDetailList": roles,
                "Policies": [{"PolicyName": "logs", "Arn": "arn:aws:iam::111111111111:policy/logs", "Path": "/", "DefaultVersionId": "v1",
                    "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": {"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Action": "logs:GetLogEvents", "Resource": "*"},
                        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "arn:aws:secretsmanager:*:*:secret:named-*"},
                        {"Effect": "Allow", "Action": "ssm:GetParameter*", "Resource": "arn:aws:ssm:*:*:parameter/tagged",
                         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}}}]}}]}]
            },
            "regions": {"us-east-1": {"secrets": [
                secret("named", "Deny", json!({"AWS": "arn:aws:iam::111111111111:role/a"})),
                secret("account", "Allow", json!({"AWS": "111111111111"}))
            ], "ssm_parameters": [{"Name": "/tagged", "Type": "String"}]}}
        }]
    });
    let mut snapshot = snapshot;
    // `b` is on team red; every other role of the eight has no tag.
    snapshot["accounts"][0]["iam"]["RoleDetailList"][1]["Tags"] =
        json!([{"Key": "team", "Value": "red"}]);
    let inventory = collect::load_str(&snapshot.to_string(), "shared.json").unwrap();
    let indexed = graph::build(&inventory, &BuildOptions::default());
    let exhaustive = graph::build(
        &inventory,
        &BuildOptions {
            exhaustive: true,
            ..BuildOptions::default()
        },
    );
    assert_eq!(
        exported(&indexed, GraphFormat::Json),
        exported(&exhaustive, GraphFormat::Json)
    );
    let reads = |role: &str, secret: &str| {
        let id = if secret == "tagged" {
            "arn:aws:ssm:us-east-1:111111111111:parameter/tagged".to_string()
        } else {
            format!("arn:aws:secretsmanager:us-east-1:111111111111:secret:{secret}-AbCdEf")
        };
        let (a, _) = indexed
            .node(&format!("arn:aws:iam::111111111111:role/{role}"))
            .unwrap();
        let (b, _) = indexed.node(&id).unwrap();
        indexed
            .graph
            .edges_connecting(a, b)
            .any(|e| e.weight().status != EdgeStatus::Denied)
    };
    let others = ["c", "d", "e", "f", "g", "h"];
    // All may read it by the same identity statement, but the secret's policy denies `a`.
    assert!(!reads("a", "named"));
    assert!(reads("b", "named") && others.iter().all(|r| reads(r, "named")));
    // Naming the account does not grant on its own: no identity Allow, so nobody.
    assert!(!reads("a", "account") && !reads("b", "account"));
    // The identity statement's condition reads the caller's tag: only `b` (team red) reads it.
    assert!(reads("b", "tagged"));
    assert!(!reads("a", "tagged") && others.iter().all(|r| !reads(r, "tagged")));
}
