//! A chain of 1,000 roles in one account: `who-can` follows it whole by default, and a depth
//! limit says exactly how many sources it leaves out.
//!
//! The user may assume r-0, and each r-i may assume r-(i+1): every trust names the previous
//! principal by ARN, every identity policy allows `sts:AssumeRole` on the next role. Every tenth
//! role up to r-900 reads the secret `sec-0`. A role r-i with i ≤ 900 reaches the secret through
//! the next reader at or after it, in (that reader's index − i) assumes and one access; the
//! longest of these paths is r-891 … r-900 → sec-0, 10 hops. The user reaches it through r-0 in
//! 2 hops. r-901 … r-999 reach no reader.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Instant;

use insta_cmd::get_cargo_bin;
use rolechain::analysis;
use rolechain::collect;
use rolechain::graph::{self, AccessGraph, BuildOptions, EdgeKind};
use serde_json::{Value, json};

use crate::support;

const ACCOUNT: &str = "111111111111";
const ROLES: usize = 1000;
/// The last reader: r-0, r-10, …, r-900 read the secret.
const LAST_READER: usize = 900;
const SECRET: &str = "arn:aws:secretsmanager:us-east-1:111111111111:secret:sec-0-AbCdEf";
const USER: &str = "arn:aws:iam::111111111111:user/chain-user";

fn role_arn(i: usize) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/r-{i}")
}

fn policy(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn assume(arn: &str) -> Value {
    json!({"Sid": "AssumeNext", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": arn})
}

/// The snapshot: one account, the user, the 1,000 roles and the secret (no resource policy).
fn chain_snapshot() -> Value {
    let roles: Vec<Value> = (0..ROLES)
        .map(|i| {
            let previous = if i == 0 {
                USER.to_string()
            } else {
                role_arn(i - 1)
            };
            let mut statements = Vec::new();
            if i + 1 < ROLES {
                statements.push(assume(&role_arn(i + 1)));
            }
            if i % 10 == 0 && i <= LAST_READER {
                statements.push(json!({
                    "Sid": "ReadSecret",
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": SECRET
                }));
            }
            let inline = if statements.is_empty() {
                vec![]
            } else {
                vec![json!({"PolicyName": "chain", "PolicyDocument": policy(statements)})]
            };
            json!({
                "Path": "/",
                "RoleName": format!("r-{i}"),
                "RoleId": format!("AROACHAIN{i:011}"),
                "Arn": role_arn(i),
                "AssumeRolePolicyDocument": policy(vec![json!({
                    "Effect": "Allow",
                    "Principal": {"AWS": previous},
                    "Action": "sts:AssumeRole"
                })]),
                "InstanceProfileList": [],
                "RolePolicyList": inline,
                "AttachedManagedPolicies": [],
                "Tags": []
            })
        })
        .collect();
    json!({
        "schema": "rolechain.snapshot/v1",
        "collected_at": "2026-11-27T06:00:00Z",
        "accounts": [{
            "id": ACCOUNT,
            "name": "chain",
            "partition": "aws",
            "iam": {
                "UserDetailList": [{
                    "Path": "/",
                    "UserName": "chain-user",
                    "UserId": "AIDACHAINUSER0000000",
                    "Arn": USER,
                    "UserPolicyList": [
                        {"PolicyName": "chain", "PolicyDocument": policy(vec![assume(&role_arn(0))])}
                    ],
                    "GroupList": [],
                    "AttachedManagedPolicies": [],
                    "Tags": []
                }],
                "GroupDetailList": [],
                "RoleDetailList": roles,
                "Policies": []
            },
            "regions": {
                "us-east-1": {
                    "secrets": [{
                        "ARN": SECRET,
                        "Name": "sec-0",
                        "Tags": [],
                        "ResourcePolicy": null
                    }],
                    "ssm_parameters": [],
                    "kms_keys": [],
                    "ecr_repositories": [],
                    "log_groups": []
                }
            },
            "s3_buckets": []
        }]
    })
}

/// Prints how long a step took (seen with `--nocapture`): the test is kept fast, and this says
/// where its time goes.
#[allow(
    clippy::print_stderr,
    reason = "timings for people running the test with --nocapture"
)]
fn timed(what: &str, started: Instant) {
    eprintln!("chain: {what} in {:?}", started.elapsed());
}

fn chain_graph() -> AccessGraph {
    let started = Instant::now();
    let text = chain_snapshot().to_string();
    let inventory = collect::load_str(&text, "chain.json").unwrap();
    let g = graph::build(&inventory, &BuildOptions::default());
    timed("load and build", started);
    g
}

/// The sources within `depth` hops, counted from the chain's shape: the 91 readers (1 hop), the
/// user (2 hops) from 2 hops on, and of each reader's 9 predecessors r-(10j+r), r = 1…9, those
/// within 11 − r hops.
fn sources_within(depth: usize) -> usize {
    if depth == 0 {
        return 0;
    }
    let readers = LAST_READER / 10 + 1;
    let user = usize::from(depth >= 2);
    let predecessors = (LAST_READER / 10) * depth.saturating_sub(1).min(9);
    readers + user + predecessors
}

/// The distinct sources of some paths.
fn sources(paths: &[analysis::Path]) -> BTreeSet<&str> {
    paths.iter().map(|p| p.source.as_str()).collect()
}

#[test]
fn who_can_follows_the_whole_chain_by_default() {
    let g = chain_graph();
    let target = analysis::lookup(&g, SECRET).unwrap();

    let started = Instant::now();
    let paths = analysis::who_can(&g, target, None);
    timed("who-can", started);

    let expected: BTreeSet<String> = std::iter::once(USER.to_string())
        .chain((0..=LAST_READER).map(role_arn))
        .collect();
    let found: BTreeSet<String> = sources(&paths).into_iter().map(String::from).collect();
    assert_eq!(found.len(), 902);
    assert_eq!(found, expected);
    // One path per source: the chain has no containers, so only the task plane.
    assert_eq!(paths.len(), 902);

    let hops = |source: &str| {
        let p = paths.iter().find(|p| p.source == source).unwrap();
        p.hops.iter().map(|h| h.kind).collect::<Vec<_>>()
    };
    assert_eq!(hops(USER), [EdgeKind::Assumes, EdgeKind::Accesses]);
    assert_eq!(hops(&role_arn(900)), [EdgeKind::Accesses]);
    let longest = hops(&role_arn(891));
    assert_eq!(longest.len(), 10);
    assert_eq!(longest[..9], [EdgeKind::Assumes; 9]);
    assert_eq!(
        paths.iter().map(|p| p.hops.len()).max(),
        Some(10),
        "r-891 … r-900 → sec-0 is the longest shortest path"
    );
    assert!(!found.contains(&role_arn(901)));
    assert_eq!(analysis::who_can_beyond(&g, target, 10), 0);
}

/// A depth limit leaves sources out, and `who_can_beyond` counts exactly those.
#[test]
fn depth_limit_is_made_up_by_the_beyond_count() {
    let g = chain_graph();
    let target = analysis::lookup(&g, SECRET).unwrap();
    let all = analysis::who_can(&g, target, None);
    let all = sources(&all);
    for depth in [0, 1, 2, 5, 9, 10, 11, 1000] {
        let paths = analysis::who_can(&g, target, Some(depth));
        let within = sources(&paths);
        let beyond = analysis::who_can_beyond(&g, target, depth);
        assert!(within.is_subset(&all), "depth {depth}");
        assert!(paths.iter().all(|p| p.hops.len() <= depth), "depth {depth}");
        assert_eq!(within.len(), sources_within(depth), "depth {depth}");
        assert_eq!(within.len() + beyond, all.len(), "depth {depth}");
    }
    // The longest path has 10 hops: 9 cuts some sources, 10 cuts none.
    assert_eq!(analysis::who_can(&g, target, Some(9)).len(), 812);
    assert_eq!(analysis::who_can_beyond(&g, target, 9), 90);
    assert_eq!(analysis::who_can(&g, target, Some(5)).len(), 452);
    assert_eq!(analysis::who_can_beyond(&g, target, 5), 450);

    // reach: r-891 reaches the secret in 10 hops, so a limit of 9 leaves out its one resource.
    let r891 = analysis::resolve_sources(&g, &role_arn(891)).unwrap();
    let reached = analysis::reach(&g, &r891, None, None);
    assert_eq!(reached.len(), 1);
    assert_eq!(reached[0].target, SECRET);
    assert_eq!(reached[0].hops.len(), 10);
    assert!(analysis::reach(&g, &r891, None, Some(9)).is_empty());
    assert_eq!(analysis::reach_beyond(&g, &r891, None, 9), 1);
    assert_eq!(analysis::reach_beyond(&g, &r891, Some(target), 10), 0);
    // From the user and r-891 together, a limit of 1 cuts both pairs.
    let user = analysis::resolve_sources(&g, USER).unwrap();
    let both = [user, r891].concat();
    assert_eq!(analysis::reach(&g, &both, Some(target), Some(1)).len(), 0);
    assert_eq!(analysis::reach_beyond(&g, &both, Some(target), 1), 2);
    assert_eq!(analysis::reach_beyond(&g, &both, Some(target), 2), 1);
}

fn cli() -> Command {
    let mut c = Command::new(get_cargo_bin("rolechain"));
    c.current_dir(support::root())
        .env_remove("ROLECHAIN_SNAPSHOT")
        .env("NO_COLOR", "1");
    c
}

/// The binary: the default finds all 902 sources; `--max-depth 9` warns on stderr and ends its
/// text with the same count, for `who-can` and for `reach`.
#[test]
fn cli_on_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("chain.json");
    std::fs::write(&snapshot, chain_snapshot().to_string()).unwrap();

    let started = Instant::now();
    let output = cli()
        .args(["who-can", SECRET, "--format", "json", "--snapshot"])
        .arg(&snapshot)
        .output()
        .unwrap();
    eprintln!(
        "chain: CLI who-can --format json in {:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(output.stderr.is_empty(), "{output:?}");
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let paths = json["paths"].as_array().unwrap();
    let found: BTreeSet<&str> = paths
        .iter()
        .map(|p| p["source"].as_str().unwrap())
        .collect();
    assert_eq!(found.len(), 902);
    assert!(found.contains(USER) && found.contains(role_arn(891).as_str()));

    let output = cli()
        .args(["who-can", SECRET, "--max-depth", "9", "--snapshot"])
        .arg(&snapshot)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let message = "90 sources reach the target only in more than 9 hops; raise --max-depth or \
                   leave it out";
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        format!("warning: {message}\n")
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut last = stdout.lines().rev();
    assert_eq!(last.next(), Some(message), "{stdout}");
    assert_eq!(
        last.next(),
        Some("812 paths from 812 sources (811 roles, 1 user) to 1 resource"),
        "{stdout}"
    );

    let output = cli()
        .args([
            "reach",
            "--from",
            &role_arn(891),
            "--max-depth",
            "9",
            "--snapshot",
        ])
        .arg(&snapshot)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let message =
        "1 resource is reached only in more than 9 hops; raise --max-depth or leave it out";
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        format!("warning: {message}\n")
    );
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!(
            "{} reaches no resource within 9 hops\n{message}\n",
            role_arn(891)
        )
    );
}
