//! `findings`: each code on the scenario that shows it, the bundled example's findings, the
//! text, JSON and SARIF outputs, `--fail-on` exit codes, and the "blocked" part of `reach` and
//! `who-can`.

use std::process::Command;

use insta_cmd::{assert_cmd_snapshot, get_cargo_bin};
use rolechain::analysis::{self, Code, Finding, Findings, Severity};
use rolechain::collect;
use rolechain::export;
use rolechain::graph::{self, BuildOptions, EdgeKind};

use crate::support::{self, written};

const EXAMPLE: &str = "examples/three-account-org/snapshot.json";
const REPORT: &str = "arn:aws:ecs:us-east-1:111111111111:task-definition/reporting-batch:8#report";
const WAREHOUSE: &str = "arn:aws:secretsmanager:us-east-1:333333333333:secret:prod/reporting/warehouse-credentials-Hn2Lp9";

fn scenario_path(name: &str) -> String {
    format!("tests/fixtures/scenarios/{name}/snapshot.json")
}

fn findings_of(snapshot: &str) -> Findings {
    let inventory = collect::load_file(&support::root().join(snapshot)).unwrap();
    let g = graph::build(&inventory, &BuildOptions::default());
    analysis::findings(&inventory, &g)
}

/// The findings of a scenario with this code; fails when there is none.
#[track_caller]
fn with_code(scenario: &str, code: Code) -> Vec<Finding> {
    let all = findings_of(&scenario_path(scenario));
    let found: Vec<Finding> = all
        .findings
        .iter()
        .filter(|f| f.code == code)
        .cloned()
        .collect();
    assert!(
        !found.is_empty(),
        "{scenario}: no `{}` finding among {:?}",
        code.as_str(),
        all.findings
            .iter()
            .map(|f| f.code.as_str())
            .collect::<Vec<_>>()
    );
    found
}

/// The one finding of `code` about `subject`.
#[track_caller]
fn about(scenario: &str, code: Code, subject: &str) -> Finding {
    let found = with_code(scenario, code);
    found
        .iter()
        .find(|f| f.subject == subject)
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "{scenario}: no `{}` finding about `{subject}`; subjects: {:?}",
                code.as_str(),
                found.iter().map(|f| &f.subject).collect::<Vec<_>>()
            )
        })
}

#[track_caller]
fn blocked_by(f: &Finding) -> (&'static str, EdgeKind, &str) {
    let a = f
        .blocked
        .as_ref()
        .expect("a failure has its blocked attempt");
    (a.blocked_by(), a.hop, a.to.as_str())
}

#[test]
fn findings_launch_secret_unreadable_aws_managed_key_cross_account() {
    let f = about(
        "secret-aws-managed-key-cross-account",
        Code::LaunchSecretUnreadable,
        "arn:aws:ecs:us-east-1:111111111111:task-definition/app:31#app",
    );
    assert_eq!(blocked_by(&f).0, "aws-managed-key");
    assert_eq!(blocked_by(&f).1, EdgeKind::Injects);
    assert_eq!(f.severity(), Severity::High);
}

#[test]
fn findings_launch_secret_unreadable_key_policy_blocks_decrypt() {
    let f = with_code(
        "injects-cmk-key-policy-missing",
        Code::LaunchSecretUnreadable,
    );
    let (by, hop, _) = blocked_by(&f[0]);
    assert_eq!((by, hop), ("key", EdgeKind::Injects));
    // The key whose policy blocks is one of the nodes involved.
    assert!(f[0].nodes.iter().any(|n| n.id.contains(":key/")), "{f:?}");
}

#[test]
fn findings_launch_secret_unreadable_execution_role_trust_refuses_ecs() {
    let f = with_code("execution-role-trust-missing", Code::LaunchSecretUnreadable);
    assert_eq!(blocked_by(&f[0]).0, "trust");
}

#[test]
fn findings_launch_secret_not_found() {
    let f = with_code(
        "injects-not-found-and-own-region",
        Code::LaunchSecretNotFound,
    );
    assert!(f.iter().all(|f| blocked_by(f).0 == "not-found"), "{f:?}");
}

#[test]
fn findings_launch_image_unpullable_repository_policy_cross_account() {
    let f = with_code("ecr-pull-cross-account", Code::LaunchImageUnpullable);
    assert!(
        f.iter().all(|f| blocked_by(f).1 == EdgeKind::Pulls),
        "{f:?}"
    );
}

#[test]
fn findings_launch_image_unpullable_identity_missing_authorization_token() {
    let f = with_code(
        "ecr-pull-missing-authorization-token",
        Code::LaunchImageUnpullable,
    );
    assert_eq!(blocked_by(&f[0]).0, "identity");
}

#[test]
fn findings_trust_ecs_tasks_refused_task_role() {
    for scenario in [
        "task-role-trust-missing-ecs-tasks",
        "task-role-trust-wrong-source-account",
    ] {
        let f = with_code(scenario, Code::TrustEcsTasksRefused);
        let (by, hop, _) = blocked_by(&f[0]);
        assert_eq!((by, hop), ("trust", EdgeKind::TaskRole), "{scenario}");
    }
}

#[test]
fn findings_trust_ecs_tasks_refused_execution_role() {
    let f = with_code("execution-role-trust-missing", Code::TrustEcsTasksRefused);
    assert!(
        f.iter().any(|f| blocked_by(f).1 == EdgeKind::ExecutionRole),
        "{f:?}"
    );
}

/// A trust of `ecs-tasks.amazonaws.com` with no source condition admits a task of any account;
/// one pinned by `aws:SourceAccount` (the example's) does not.
#[test]
fn findings_trust_ecs_tasks_no_source_condition() {
    let f = with_code(
        "injects-reference-forms",
        Code::TrustEcsTasksNoSourceCondition,
    );
    assert_eq!(f[0].paths[0].hops[0].from, "ecs-tasks.amazonaws.com");
    assert!(!f[0].paths[0].hops[0].because.is_empty());
    let example = findings_of(EXAMPLE);
    assert!(
        !example
            .findings
            .iter()
            .any(|f| f.code == Code::TrustEcsTasksNoSourceCondition)
    );
}

#[test]
fn findings_trust_cross_account_unconstrained() {
    let f = about(
        "trust-allows-external-account-root",
        Code::TrustCrossAccountUnconstrained,
        "arn:aws:iam::111111111111:role/vendor-audit",
    );
    assert!(f.paths.iter().all(|p| p.hops[0].kind == EdgeKind::Assumes));
    // A trust that requires an external id is not reported.
    let all = findings_of(&scenario_path("assume-external-id-conditional"));
    assert!(
        !all.findings
            .iter()
            .any(|f| f.code == Code::TrustCrossAccountUnconstrained),
        "{all:?}"
    );
}

#[test]
fn findings_execution_role_broad_secret_read() {
    let f = with_code(
        "injects-not-found-and-own-region",
        Code::ExecutionRoleBroadSecretRead,
    );
    assert!(
        f.iter()
            .all(|f| f.paths.iter().all(|p| p.hops[0].kind == EdgeKind::Accesses))
    );
}

#[test]
fn findings_task_role_unreferenced_secret_read() {
    let f = about(
        EXAMPLE_SCENARIO,
        Code::TaskRoleUnreferencedSecretRead,
        "arn:aws:iam::111111111111:role/web-api-task",
    );
    assert_eq!(f.paths.len(), 1);
}

/// The example is checked where a scenario would be: its snapshot under `examples/`.
const EXAMPLE_SCENARIO: &str = "../../../examples/three-account-org";

#[test]
fn findings_secret_both_planes() {
    let f = about(
        EXAMPLE_SCENARIO,
        Code::SecretBothPlanes,
        "arn:aws:ecs:us-east-1:111111111111:task-definition/legacy-admin:3#admin-console",
    );
    let first_hops: Vec<EdgeKind> = f.paths.iter().map(|p| p.hops[0].kind).collect();
    assert_eq!(first_hops, [EdgeKind::Injects, EdgeKind::TaskRole]);
}

#[test]
fn findings_cross_account_secret_path() {
    let f = with_code("injects-cmk-cross-account", Code::CrossAccountSecretPath);
    assert!(f.iter().all(|f| f.paths[0].cross_account));
}

#[test]
fn findings_exposure_by_kind_of_outsider() {
    for (scenario, code, severity) in [
        (
            "s3-public-bucket-policy",
            Code::ExposureAnonymous,
            Severity::Critical,
        ),
        (
            "rcp-removes-public-secret-exposure",
            Code::ExposureAnyPrincipal,
            Severity::Critical,
        ),
        (
            "federated-github-actions-trusts",
            Code::ExposureFederated,
            Severity::High,
        ),
        (
            "trust-allows-external-account-root",
            Code::ExposureExternalAccount,
            Severity::Medium,
        ),
        (
            "principal-org-id-narrows-any-principal",
            Code::ExposureOrganization,
            Severity::Low,
        ),
    ] {
        let f = with_code(scenario, code);
        assert_eq!(f[0].severity(), severity, "{scenario}");
        assert_eq!(f[0].subject, f[0].paths[0].target, "{scenario}");
    }
    // Block Public Access removes the exposure.
    let all = findings_of(&scenario_path(
        "s3-public-bucket-restricted-by-bucket-block",
    ));
    assert!(all.findings.is_empty(), "{all:?}");
}

/// The bundled example's reporting-batch secret cannot be injected: the finding says so, with
/// the AWS-managed key that blocks it.
#[test]
fn findings_example_reporting_batch_secret_cannot_be_injected() {
    let all = findings_of(EXAMPLE);
    let f = all
        .findings
        .iter()
        .find(|f| f.code == Code::LaunchSecretUnreadable && f.subject == REPORT)
        .unwrap_or_else(|| panic!("{all:?}"));
    let a = f.blocked.as_ref().unwrap();
    assert_eq!(a.to, WAREHOUSE);
    assert_eq!(a.blocked_by(), "aws-managed-key");
    assert_eq!(all.worst(), Some(Severity::High));
    // Strongest first.
    let severities: Vec<Severity> = all.findings.iter().map(Finding::severity).collect();
    let mut sorted = severities.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(severities, sorted);
}

#[test]
fn findings_every_code_is_documented() {
    let docs = std::fs::read_to_string(support::root().join("docs/findings.md")).unwrap();
    let readme = std::fs::read_to_string(support::root().join("README.md")).unwrap();
    for code in Code::ALL {
        let row = format!("| `{}` | {} |", code.as_str(), code.severity().as_str());
        assert!(docs.contains(&row), "docs/findings.md has no row `{row}`");
        assert!(
            docs.contains(&format!("### `{}`", code.as_str())),
            "docs/findings.md has no section for `{}`",
            code.as_str()
        );
        assert!(readme.contains(&row), "README.md has no row `{row}`");
    }
}

#[test]
fn findings_sarif_follows_the_schema() {
    for snapshot in [
        EXAMPLE.to_string(),
        scenario_path("s3-public-bucket-policy"),
        scenario_path("assume-cycle"),
    ] {
        let sarif = written(|out| export::write_findings_sarif(&findings_of(&snapshot), out));
        let log: serde_json::Value = serde_json::from_str(&sarif).unwrap();
        let run = &log["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), Code::ALL.len());
        for result in run["results"].as_array().unwrap() {
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], result["ruleId"]);
            let first = &result["locations"][0]["logicalLocations"][0];
            assert!(first["fullyQualifiedName"].as_str().is_some(), "{result}");
        }
        support::assert_sarif_valid(&sarif);
    }
}

#[test]
fn findings_outputs_are_deterministic() {
    let f = findings_of(EXAMPLE);
    let json = written(|out| export::write_findings_json(&f, out));
    assert_eq!(
        json,
        written(|out| export::write_findings_json(&findings_of(EXAMPLE), out))
    );
    let sarif = written(|out| export::write_findings_sarif(&f, out));
    assert_eq!(
        sarif,
        written(|out| export::write_findings_sarif(&findings_of(EXAMPLE), out))
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
fn findings_cli_text() {
    assert_cmd_snapshot!(cli().args(["findings", "--snapshot", EXAMPLE]));
}

#[test]
fn findings_cli_json() {
    assert_cmd_snapshot!(cli().args([
        "findings",
        "--snapshot",
        &scenario_path("execution-role-trust-missing"),
        "--format",
        "json"
    ]));
}

#[test]
fn findings_cli_sarif() {
    assert_cmd_snapshot!(cli().args([
        "findings",
        "--snapshot",
        &scenario_path("secret-aws-managed-key-cross-account"),
        "--format",
        "sarif"
    ]));
}

/// `--fail-on` exits 1 when a finding at or above it exists, 0 otherwise; without it, 0.
#[test]
fn findings_fail_on_exit_codes() {
    // The example's strongest finding is high.
    for (fail_on, code) in [
        (None, 0),
        (Some("critical"), 0),
        (Some("high"), 1),
        (Some("medium"), 1),
        (Some("info"), 1),
    ] {
        for format in ["text", "json", "sarif"] {
            let mut c = cli();
            c.args(["findings", "--snapshot", EXAMPLE, "--format", format]);
            if let Some(s) = fail_on {
                c.args(["--fail-on", s]);
            }
            let out = c.output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(code),
                "{fail_on:?} {format}: {out:?}"
            );
            assert!(!out.stdout.is_empty());
        }
    }
    // No findings at all: 0 even with the lowest bar.
    let out = cli()
        .args([
            "findings",
            "--snapshot",
            &scenario_path("assume-cycle"),
            "--fail-on",
            "info",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // A severity that does not exist is a usage error, before the snapshot is read.
    let out = cli()
        .args([
            "findings",
            "--snapshot",
            "missing.json",
            "--fail-on",
            "severe",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// `reach` from a container shows, apart from its paths, the references that will not arrive.
#[test]
fn reach_shows_blocked_references_of_the_container() {
    assert_cmd_snapshot!(cli().args(["reach", "--snapshot", EXAMPLE, "--from", REPORT]));
    let out = cli()
        .args([
            "reach",
            "--snapshot",
            EXAMPLE,
            "--from",
            REPORT,
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["schema"], "rolechain.paths/v1");
    assert_eq!(json["blocked"][0]["to"], WAREHOUSE);
    assert_eq!(json["blocked"][0]["blocked_by"], "aws-managed-key");
}

/// `who-can` of a secret lists the containers whose injection of it fails.
#[test]
fn who_can_shows_blocked_references_to_the_resource() {
    assert_cmd_snapshot!(cli().args(["who-can", WAREHOUSE, "--snapshot", EXAMPLE]));
}
