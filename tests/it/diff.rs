//! `diff`: paths gained, lost and changed between two snapshots with the hop and statement
//! responsible, findings new and resolved, the three outputs, and the exit codes of
//! `--fail-on-new-paths`.

use std::process::Command;

use insta_cmd::{assert_cmd_snapshot, get_cargo_bin};
use rolechain::analysis::{self, Code, Diff, Plane};
use rolechain::collect;
use rolechain::export;
use rolechain::graph::{self, BuildOptions, EdgeKind, EdgeStatus, NodeKind};

use crate::support::{self, written};

const BEFORE: &str = "tests/fixtures/diff/before.json";
const AFTER: &str = "tests/fixtures/diff/after.json";
const MALFORMED: &str = "tests/fixtures/diff/malformed.json";
const ROLE: &str = "arn:aws:iam::111111111111:role/app-task";
const CONTAINER: &str = "arn:aws:ecs:us-east-1:111111111111:task-definition/app:1#app";
const PARTNER: &str = "arn:aws:iam::999999999999:root";
const API_KEY: &str = "arn:aws:secretsmanager:us-east-1:111111111111:secret:app/api-key-Xp4Rt2";
const LEGACY: &str = "arn:aws:secretsmanager:us-east-1:111111111111:secret:app/legacy-token-Qm3Vw8";

fn diff_of(old: &str, new: &str) -> Diff {
    let load = |p: &str| {
        let inventory = collect::load_file(&support::root().join(p)).unwrap();
        let g = graph::build(&inventory, &BuildOptions::default());
        (inventory, g)
    };
    let (oi, og) = load(old);
    let (ni, ng) = load(new);
    analysis::diff(&oi, &og, &ni, &ng)
}

fn statements(reasons: &[rolechain::policy::Reason]) -> Vec<&str> {
    reasons.iter().map(|r| &*r.statement).collect()
}

/// The cross-account trust grant gains the partner account a path to the API key, and the
/// hop responsible is its `assumes` edge, allowed by the trust statement `PartnerAssume`.
#[test]
fn gained_path_names_the_trust_statement() {
    let d = diff_of(BEFORE, AFTER);
    assert_eq!(d.gained.len(), 1, "{:#?}", d.gained);
    let g = &d.gained[0];
    assert_eq!((&*g.path.source, &*g.path.target), (PARTNER, API_KEY));
    assert_eq!((g.plane, g.target_kind), (Plane::Task, NodeKind::Secret));
    let hop = g.hop.as_ref().unwrap();
    assert_eq!(
        (&*hop.from, &*hop.to, hop.kind, hop.before),
        (PARTNER, ROLE, EdgeKind::Assumes, None)
    );
    assert_eq!(statements(&hop.added), ["PartnerAssume"]);
    assert!(hop.removed.is_empty());
}

/// Removing the statement that read the legacy token loses the container's and the role's
/// paths to it, and names the removed statement.
#[test]
fn lost_paths_name_the_removed_statement() {
    let d = diff_of(BEFORE, AFTER);
    let lost: Vec<(&str, &str)> = d
        .lost
        .iter()
        .map(|l| (&*l.path.source, &*l.path.target))
        .collect();
    assert_eq!(lost, [(CONTAINER, LEGACY), (ROLE, LEGACY)]);
    for l in &d.lost {
        let hop = l.hop.as_ref().unwrap();
        assert_eq!(
            (hop.kind, hop.before, hop.after),
            (EdgeKind::Accesses, Some(EdgeStatus::Allowed), None)
        );
        assert_eq!(statements(&hop.removed), ["ReadLegacyToken"]);
    }
}

/// The read of the API key now has an IP condition: allowed becomes conditional, and the
/// statement that replaced the old one is named with its condition.
#[test]
fn changed_status_names_the_replacing_statement() {
    let d = diff_of(BEFORE, AFTER);
    let changed: Vec<(&str, EdgeStatus, EdgeStatus)> = d
        .changed
        .iter()
        .map(|c| (&*c.after.source, c.before.status, c.after.status))
        .collect();
    assert_eq!(
        changed,
        [
            (CONTAINER, EdgeStatus::Allowed, EdgeStatus::Conditional),
            (ROLE, EdgeStatus::Allowed, EdgeStatus::Conditional)
        ]
    );
    let hop = d.changed[0].hop.as_ref().unwrap();
    assert_eq!((&*hop.from, &*hop.to), (ROLE, API_KEY));
    assert_eq!(statements(&hop.added), ["ReadSecretFromOffice"]);
    assert_eq!(statements(&hop.removed), ["ReadSecret"]);
    assert_eq!(hop.conditions_added.len(), 1);
    assert_eq!(hop.conditions_added[0].key, "aws:SourceIp");
}

#[test]
fn findings_new_and_resolved() {
    let d = diff_of(BEFORE, AFTER);
    let new: Vec<(Code, &str)> = d
        .new_findings
        .iter()
        .map(|f| (f.code, &*f.subject))
        .collect();
    assert!(
        new.contains(&(Code::TrustCrossAccountUnconstrained, ROLE)),
        "{new:?}"
    );
    assert!(
        new.contains(&(Code::ExposureExternalAccount, API_KEY)),
        "{new:?}"
    );
    // The role's unreferenced reads were the API key and the legacy token; now only the key.
    let resolved: Vec<(Code, &str)> = d
        .resolved_findings
        .iter()
        .map(|f| (f.code, &*f.subject))
        .collect();
    assert_eq!(resolved, [(Code::TaskRoleUnreferencedSecretRead, ROLE)]);
}

/// A snapshot compared with itself has no difference, for every scenario.
#[test]
fn itself_is_empty() {
    let mut seen = 0;
    for entry in std::fs::read_dir(support::root().join("tests/fixtures/scenarios")).unwrap() {
        let path = entry.unwrap().path().join("snapshot.json");
        if !path.exists() {
            continue;
        }
        let p = path
            .strip_prefix(support::root())
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let d = diff_of(&p, &p);
        assert!(d.is_empty(), "{p}: {d:#?}");
        seen += 1;
    }
    assert!(seen > 10);
}

/// Swapping the snapshots swaps gained and lost, and new and resolved findings.
#[test]
fn reversed_swaps_sides() {
    let forward = diff_of(BEFORE, AFTER);
    let back = diff_of(AFTER, BEFORE);
    let ends = |l: &[analysis::PathDelta]| -> Vec<(String, String)> {
        l.iter()
            .map(|d| (d.path.source.clone(), d.path.target.clone()))
            .collect()
    };
    assert_eq!(ends(&forward.gained), ends(&back.lost));
    assert_eq!(ends(&forward.lost), ends(&back.gained));
    assert_eq!(forward.new_findings.len(), back.resolved_findings.len());
    assert_eq!(forward.changed.len(), back.changed.len());
}

#[test]
fn gained_matching_filters_by_kind_and_glob() {
    let d = diff_of(BEFORE, AFTER);
    let count = |k, t| d.gained_matching(k, t).count();
    assert_eq!(count(None, None), 1);
    assert_eq!(count(Some(NodeKind::Secret), None), 1);
    assert_eq!(count(Some(NodeKind::S3Bucket), None), 0);
    assert_eq!(
        count(None, Some("arn:aws:secretsmanager:*:secret:app/*")),
        1
    );
    assert_eq!(count(None, Some("arn:aws:s3:::*")), 0);
}

/// The JSON is the documented contract and the same input gives the same bytes.
#[test]
fn json_is_deterministic_and_versioned() {
    let d = diff_of(BEFORE, AFTER);
    let a = written(|out| export::write_diff_json(&d, out));
    let b = written(|out| export::write_diff_json(&diff_of(BEFORE, AFTER), out));
    assert_eq!(a, b);
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert_eq!(v["schema"], "rolechain.diff/v1");
    assert_eq!(v["summary"]["gained"], 1);
    assert_eq!(
        v["gained"][0]["changed_hop"]["added"][0]["statement"],
        "PartnerAssume"
    );
}

fn cli() -> Command {
    let mut c = Command::new(get_cargo_bin("rolechain"));
    c.current_dir(support::root())
        .env_remove("ROLECHAIN_SNAPSHOT")
        .env("NO_COLOR", "1");
    c
}

#[test]
fn cli_text() {
    assert_cmd_snapshot!(cli().args(["diff", BEFORE, AFTER]));
}

#[test]
fn cli_json() {
    assert_cmd_snapshot!(cli().args(["diff", BEFORE, AFTER, "--format", "json"]));
}

#[test]
fn cli_markdown() {
    assert_cmd_snapshot!(cli().args(["diff", BEFORE, AFTER, "--format", "markdown"]));
}

#[test]
fn cli_itself_markdown() {
    assert_cmd_snapshot!(cli().args(["diff", BEFORE, BEFORE, "--format", "markdown"]));
}

/// `--fail-on-new-paths` exits 1 on a gained path, 0 when the filters leave none, and 0
/// without the flag.
#[test]
fn fail_on_new_paths_exit_codes() {
    let code = |extra: &[&str]| {
        let out = cli()
            .args(["diff", BEFORE, AFTER, "--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        out.status.code()
    };
    assert_eq!(code(&[]), Some(0));
    assert_eq!(code(&["--fail-on-new-paths"]), Some(1));
    assert_eq!(
        code(&["--fail-on-new-paths", "--target-kind", "secret"]),
        Some(1)
    );
    assert_eq!(
        code(&["--fail-on-new-paths", "--target-kind", "s3-bucket"]),
        Some(0)
    );
    assert_eq!(
        code(&[
            "--fail-on-new-paths",
            "--target",
            "arn:aws:secretsmanager:*:secret:app/api-key-*"
        ]),
        Some(1)
    );
    assert_eq!(
        code(&[
            "--fail-on-new-paths",
            "--target",
            "arn:aws:secretsmanager:*:secret:prod/*"
        ]),
        Some(0)
    );
    // Backwards, the legacy token's paths are gained; the API key's partner path is lost, and
    // lost paths never fail.
    let back = |target: &str| {
        cli()
            .args([
                "diff",
                AFTER,
                BEFORE,
                "--fail-on-new-paths",
                "--target",
                target,
            ])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(back("*:secret:app/legacy-token-*"), Some(1));
    assert_eq!(back("*:secret:app/api-key-*"), Some(0));
}

#[test]
fn cli_fail_on_new_paths_filtered() {
    assert_cmd_snapshot!(cli().args([
        "diff",
        BEFORE,
        AFTER,
        "--format",
        "markdown",
        "--fail-on-new-paths",
        "--target-kind",
        "secret"
    ]));
}

#[test]
fn cli_malformed_names_the_file() {
    assert_cmd_snapshot!(cli().args(["diff", BEFORE, MALFORMED]));
}

#[test]
fn cli_missing_names_the_file() {
    assert_cmd_snapshot!(cli().args(["diff", "tests/fixtures/diff/missing.json", AFTER]));
}

#[test]
fn cli_target_kind_needs_the_flag() {
    assert_cmd_snapshot!(cli().args(["diff", BEFORE, AFTER, "--target-kind", "secret"]));
}

/// The code and stdout of `rolechain diff` with these arguments.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = cli().arg("diff").args(args).output().unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

/// `-o FILE` writes what stdout would get, leaves no temporary file beside it, and keeps the
/// exit code of `--fail-on-new-paths`.
#[test]
fn output_file_matches_stdout_and_keeps_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("comment.md");
    let out = cli()
        .args([
            "diff",
            BEFORE,
            AFTER,
            "--format",
            "markdown",
            "--fail-on-new-paths",
        ])
        .arg("-o")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let (code, stdout) = run(&[BEFORE, AFTER, "--format", "markdown"]);
    assert_eq!(code, Some(0));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), stdout);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "only the output file remains: {names:?}");
}

/// An `-o` into a missing directory is refused before either snapshot is read.
#[test]
fn output_into_missing_directory_exits_2_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("missing/diff.json");
    let out = cli()
        .args(["diff", "tests/fixtures/diff/missing.json", AFTER, "-o"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("writing `"), "{stderr}");
    assert!(!stderr.contains("missing.json"), "{stderr}");
    assert!(!file.exists());
}

/// `--action` compares only the paths that allow one of its actions: the fixture's changes are
/// all secret reads, so asking for S3 reads finds none of them, and `--fail-on-new-paths`
/// passes.
#[test]
fn action_compares_only_paths_that_allow_it() {
    let summary = |extra: &[&str]| {
        let (code, stdout) = run(&[&[BEFORE, AFTER, "--format", "json"], extra].concat());
        assert_eq!(code, Some(0), "{extra:?}");
        let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let s = &v["summary"];
        (s["gained"].clone(), s["lost"].clone(), s["changed"].clone())
    };
    let all = summary(&[]);
    assert_eq!(all, (1.into(), 2.into(), 2.into()));
    assert_eq!(summary(&["--action", "secretsmanager:GetSecretValue"]), all);
    // IAM compares actions without case.
    assert_eq!(summary(&["--action", "SecretsManager:getSecretValue"]), all);
    assert_eq!(
        summary(&["--action", "s3:GetObject"]),
        (0.into(), 0.into(), 0.into())
    );
    assert_eq!(
        summary(&[
            "--action",
            "s3:GetObject",
            "--action",
            "secretsmanager:GetSecretValue"
        ]),
        all
    );
    let fail = |action: &str| run(&[BEFORE, AFTER, "--fail-on-new-paths", "--action", action]).0;
    assert_eq!(fail("secretsmanager:GetSecretValue"), Some(1));
    assert_eq!(fail("s3:GetObject"), Some(0));
}

/// The agent's injections carry what the agent does whatever was asked, so `--action` leaves
/// them out by their actions: comparing an organization with one that shares nothing, every
/// path gained or lost allows one of the asked actions.
#[test]
fn action_leaves_out_agent_paths_that_allow_none_of_them() {
    const EXAMPLE: &str = "examples/three-account-org/snapshot.json";
    let paths = |extra: &[&str]| -> Vec<(String, Vec<String>)> {
        let (code, stdout) = run(&[&[BEFORE, EXAMPLE, "--format", "json"], extra].concat());
        assert_eq!(code, Some(0), "{extra:?}");
        let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        ["gained", "lost"]
            .iter()
            .flat_map(|side| v[side].as_array().unwrap().clone())
            .map(|p| {
                let last = p["hops"].as_array().unwrap().last().unwrap().clone();
                let actions = p["actions"].as_array().unwrap();
                (
                    last["kind"].as_str().unwrap().to_owned(),
                    actions
                        .iter()
                        .map(|a| a.as_str().unwrap().to_owned())
                        .collect(),
                )
            })
            .collect()
    };
    let all = paths(&[]);
    // payments-worker's QUEUE_URL, which the agent reads with `ssm:GetParameters`.
    assert!(
        all.iter()
            .any(|(kind, actions)| kind == "injects" && actions == &["ssm:GetParameters"]),
        "{all:?}"
    );
    assert!(all.iter().any(|(kind, _)| kind == "accesses"), "{all:?}");
    let ssm = paths(&["--action", "ssm:GetParameter"]);
    assert!(!ssm.is_empty());
    for (kind, actions) in &ssm {
        assert_eq!(kind, "accesses");
        assert_eq!(actions, &["ssm:GetParameter"]);
    }
    let secrets = paths(&["--action", "secretsmanager:GetSecretValue"]);
    assert!(
        secrets.iter().any(|(kind, _)| kind == "injects"),
        "{secrets:?}"
    );
    for (_, actions) in &secrets {
        assert!(
            actions.contains(&"secretsmanager:GetSecretValue".to_owned()),
            "{secrets:?}"
        );
    }
}

#[test]
fn cli_action_must_name_a_service() {
    assert_cmd_snapshot!(cli().args(["diff", BEFORE, AFTER, "--action", "GetSecretValue"]));
}
