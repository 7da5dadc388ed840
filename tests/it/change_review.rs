//! The change-review example (`examples/change-review/`): what `diff` and `check` say about a
//! change that opens a cross-account path and an ECS privilege escalation, as its README states.

use std::process::Command;

use insta_cmd::get_cargo_bin;
use serde_json::Value;

use crate::support;

pub const BEFORE: &str = "examples/change-review/before.json";
pub const AFTER: &str = "examples/change-review/after.json";
pub const RULES: &str = "examples/change-review/rules.toml";

const CONTAINER: &str = "arn:aws:ecs:us-east-1:111111111111:task-definition/reports:3#app";
const REPORTS_TASK: &str = "arn:aws:iam::111111111111:role/reports-task";
const LEDGER_READER: &str = "arn:aws:iam::333333333333:role/ledger-reader";
const LEDGER_TOKEN: &str =
    "arn:aws:secretsmanager:us-east-1:333333333333:secret:prod/ledger/api-token-Lq9Zx2";
const CI_DEPLOY: &str = "arn:aws:iam::111111111111:user/ci/ci-deploy";

fn cli() -> Command {
    let mut c = Command::new(get_cargo_bin("rolechain"));
    c.current_dir(support::root())
        .env_remove("ROLECHAIN_SNAPSHOT")
        .env("NO_COLOR", "1");
    c
}

/// The exit code and stdout of `rolechain` with these arguments.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = cli().args(args).output().unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

/// `rolechain diff before after --format json`, parsed.
fn diff_json() -> Value {
    let (code, stdout) = run(&["diff", BEFORE, AFTER, "--format", "json"]);
    assert_eq!(code, Some(0));
    serde_json::from_str(&stdout).unwrap()
}

/// The gained path of the diff from `source` to `target`.
#[track_caller]
fn gained<'d>(diff: &'d Value, source: &str, target: &str) -> &'d Value {
    diff["gained"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["source"] == source && p["target"] == target)
        .unwrap_or_else(|| panic!("no gained path {source} → {target} in {diff:#}"))
}

/// The reports container and its task role gain the ledger token of the data account, through
/// the new `assumes` hop, whose identity statement is the one the change added.
#[test]
fn diff_json_reports_the_new_cross_account_path() {
    let d = diff_json();
    assert_eq!(d["schema"], "rolechain.diff/v1");
    for source in [CONTAINER, REPORTS_TASK] {
        let path = gained(&d, source, LEDGER_TOKEN);
        assert_eq!(path["cross_account"], true);
        assert_eq!(path["status"], "allowed");
        assert_eq!(path["plane"], "task");
        assert_eq!(path["target_kind"], "secret");
        assert_eq!(
            path["actions"],
            serde_json::json!(["secretsmanager:GetSecretValue"])
        );
        let hop = &path["changed_hop"];
        assert_eq!(
            (&hop["from"], &hop["to"], &hop["kind"]),
            (
                &Value::from(REPORTS_TASK),
                &Value::from(LEDGER_READER),
                &Value::from("assumes")
            )
        );
        assert_eq!(
            (&hop["before"], &hop["after"]),
            (&Value::Null, &Value::from("allowed"))
        );
        let added: Vec<&str> = hop["added"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["statement"].as_str().unwrap())
            .collect();
        assert!(added.contains(&"AssumeLedgerReader"), "{added:?}");
        assert!(added.contains(&"ReportsTask"), "{added:?}");
        assert!(hop["removed"].as_array().unwrap().is_empty());
    }
    // Nothing was taken away.
    assert_eq!(d["summary"]["lost"], 0);
    assert_eq!(d["summary"]["changed"], 0);
    let new: Vec<(&str, &str)> = d["findings_new"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["subject"].as_str().unwrap()))
        .collect();
    assert!(
        new.contains(&("cross-account-secret-path", CONTAINER)),
        "{new:?}"
    );
}

#[test]
fn diff_text_reports_the_new_cross_account_path() {
    let (code, text) = run(&["diff", BEFORE, AFTER]);
    assert_eq!(code, Some(0));
    assert!(text.starts_with("gained\n"), "{text}");
    for source in [CONTAINER, REPORTS_TASK] {
        assert!(
            text.contains(&format!(
                "  {source} → {LEDGER_TOKEN} (task) allowed: secretsmanager:GetSecretValue\n"
            )),
            "{text}"
        );
    }
    assert!(
        text.contains(&format!(
            "    changed hop: assumes {REPORTS_TASK} → {LEDGER_READER} (none → allowed)\n      + identity `{REPORTS_TASK}#reports` statement `AssumeLedgerReader`\n"
        )),
        "{text}"
    );
    assert!(text.contains("0 lost, 0 changed;"), "{text}");
}

#[test]
fn diff_markdown_reports_the_new_cross_account_path() {
    let (code, md) = run(&["diff", BEFORE, AFTER, "--format", "markdown"]);
    assert_eq!(code, Some(0));
    assert!(md.starts_with("## rolechain diff\n"), "{md}");
    let gained = md
        .split("### Paths gained\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no gained table in:\n{md}"));
    let row = gained
        .lines()
        .find(|l| l.starts_with(&format!("| `{CONTAINER}` | `{LEDGER_TOKEN}` |")))
        .unwrap_or_else(|| panic!("no row for the reports container in:\n{md}"));
    assert!(
        row.contains(&format!(
            "| task | `secretsmanager:GetSecretValue` | allowed | assumes `{REPORTS_TASK}` → `{LEDGER_READER}`: none → allowed<br>+ `{REPORTS_TASK}#reports` `AssumeLedgerReader`"
        )),
        "{row}"
    );
    assert!(!md.contains("### Paths lost"), "{md}");
    assert!(
        md.contains("- **info** `cross-account-secret-path` `"),
        "{md}"
    );
}

/// `--fail-on-new-paths` fails the change on the ledger token, with `--target-kind secret` and
/// `--action secretsmanager:GetSecretValue` too; no path to the web service's secrets is gained.
#[test]
fn diff_fails_on_the_new_path_to_a_secret() {
    let code = |extra: &[&str]| run(&[&["diff", BEFORE, AFTER], extra].concat()).0;
    assert_eq!(code(&["--fail-on-new-paths"]), Some(1));
    assert_eq!(
        code(&["--fail-on-new-paths", "--target-kind", "secret"]),
        Some(1)
    );
    assert_eq!(
        code(&[
            "--fail-on-new-paths",
            "--action",
            "secretsmanager:GetSecretValue"
        ]),
        Some(1)
    );
    assert_eq!(
        code(&["--fail-on-new-paths", "--target", "*:secret:prod/web/*"]),
        Some(0)
    );
    assert_eq!(
        code(&["--fail-on-new-paths", "--action", "s3:GetObject"]),
        Some(0)
    );
    // Backwards, the change is undone: the paths are lost, and lost paths never fail.
    assert_eq!(
        run(&["diff", AFTER, BEFORE, "--fail-on-new-paths"]).0,
        Some(0)
    );
}

/// Every rule holds before the change; after it, exactly `ledger-secrets-stay-in-data` is
/// violated, by the reports container.
#[test]
fn check_passes_before_and_fails_after_naming_the_rule() {
    let (code, text) = run(&["check", "--rules", RULES, "--snapshot", BEFORE]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.ends_with("all 3 rules hold\n"), "{text}");

    let (code, text) = run(&["check", "--rules", RULES, "--snapshot", AFTER]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.starts_with("rule `ledger-secrets-stay-in-data` (never): violated by "),
        "{text}"
    );
    assert!(text.contains(&format!("{CONTAINER} reaches\n")), "{text}");
    assert!(
        text.contains("rule `web-secrets-stay-with-web` (never): ok\n"),
        "{text}"
    );
    assert!(
        text.contains("rule `web-gets-its-database-password` (reach): ok, 1 path\n"),
        "{text}"
    );
    assert!(text.ends_with("1 of 3 rules violated\n"), "{text}");

    let (code, json) = run(&[
        "check",
        "--rules",
        RULES,
        "--snapshot",
        AFTER,
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(1));
    let report: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (&report["holds"], &report["violated"]),
        (&Value::from(false), &Value::from(1))
    );
    let violated: Vec<&str> = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["holds"] == false)
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(violated, ["ledger-secrets-stay-in-data"]);
}

/// The contract name the graph gives ECS privilege-escalation edges.
const ESCALATES: &str = "escalates";

/// `ci-deploy` gains `iam:PassRole` on `reports-task` (for `ecs-tasks.amazonaws.com`), with
/// `ecs:RegisterTaskDefinition` and `ecs:RunTask`: it can run a task as `reports-task`, so the
/// diff must report a gained path from `ci-deploy` through an `escalates` edge to that role
/// (R4.6).
#[test]
fn r4_6_ci_deploy_gains_an_escalation_to_the_reports_task_role() {
    let d = diff_json();
    let escalates = |p: &&Value| {
        p["source"] == CI_DEPLOY
            && p["hops"].as_array().unwrap().iter().any(|h| {
                h["kind"] == ESCALATES && h["from"] == CI_DEPLOY && h["to"] == REPORTS_TASK
            })
    };
    let found: Vec<&Value> = d["gained"]
        .as_array()
        .unwrap()
        .iter()
        .filter(escalates)
        .collect();
    assert!(
        !found.is_empty(),
        "no gained path from {CI_DEPLOY} through an `{ESCALATES}` edge to {REPORTS_TASK} in {d:#}"
    );
    // Acting as reports-task, ci-deploy reaches what reports-task reaches, the ledger token
    // included.
    assert!(
        found.iter().any(|p| p["target"] == LEDGER_TOKEN),
        "{found:#?}"
    );
}
