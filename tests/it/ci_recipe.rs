//! The README's CI recipe: its shell block, taken from README.md between the `ci-recipe` markers,
//! runs with bash against the built binary on the change-review example, and each step gives
//! what the README says it gives.

use std::path::Path;
use std::process::{Command, Output};

use insta_cmd::get_cargo_bin;

use crate::change_review::{AFTER, BEFORE, RULES};
use crate::support;

const START: &str = "<!-- ci-recipe:start -->\n```sh\n";
const END: &str = "```\n<!-- ci-recipe:end -->";

/// The shell block of the README's CI recipe, verbatim.
fn recipe() -> String {
    let readme = std::fs::read_to_string(support::root().join("README.md")).unwrap();
    let start = readme
        .find(START)
        .unwrap_or_else(|| panic!("README.md has no `{}`", START.trim_end()))
        + START.len();
    let len = readme[start..]
        .find(END)
        .unwrap_or_else(|| panic!("README.md has no `{END}` after the start marker"));
    readme[start..start + len].to_owned()
}

/// Runs the recipe with bash, the built `rolechain` first on `PATH` and `env` set, in a fresh
/// directory laid out as the repository root: `examples` links to the repository's, so the
/// recipe's paths resolve as they do there, and the reports it writes stay out of the tree.
fn run_recipe(dir: &Path, env: &[(&str, &str)]) -> Output {
    std::os::unix::fs::symlink(support::root().join("examples"), dir.join("examples")).unwrap();
    let bin = get_cargo_bin("rolechain");
    let path = std::env::join_paths(std::iter::once(bin.parent().unwrap().to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    Command::new("bash")
        .arg("-c")
        .arg(recipe())
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("ROLECHAIN_SNAPSHOT")
        .env_remove("OLD")
        .env_remove("NEW")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// What `rolechain` prints on stdout for these arguments, run from the repository root.
fn rolechain(args: &[&str]) -> String {
    let out = Command::new(get_cargo_bin("rolechain"))
        .args(args)
        .current_dir(support::root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// The lines in which the recipe names a gate that failed.
fn failed_gates(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("exit 1: "))
        .collect()
}

/// On the change, both gates fail (the rule `ledger-secrets-stay-in-data`, the gained paths to
/// the ledger token), the comment and the SARIF log are written all the same, and the job
/// exits 1.
#[test]
fn recipe_fails_on_the_change_after_writing_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_recipe(dir.path(), &[]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert_eq!(
        failed_gates(&stderr),
        [
            format!("exit 1: rolechain check --rules {RULES} --snapshot {AFTER}"),
            format!(
                "exit 1: rolechain diff {BEFORE} {AFTER} --fail-on-new-paths --target-kind secret"
            ),
        ],
        "{stderr}"
    );

    // The job log: check's report, then the diff's.
    let check = rolechain(&["check", "--rules", RULES, "--snapshot", AFTER]);
    let diff = rolechain(&[
        "diff",
        BEFORE,
        AFTER,
        "--fail-on-new-paths",
        "--target-kind",
        "secret",
    ]);
    assert_eq!(stdout, format!("{check}{diff}"));
    assert!(
        check.starts_with("rule `ledger-secrets-stay-in-data` (never): violated by "),
        "{check}"
    );
    assert!(check.ends_with("1 of 3 rules violated\n"), "{check}");
    assert!(diff.starts_with("gained\n"), "{diff}");

    // The pull-request comment.
    let comment = std::fs::read_to_string(dir.path().join("comment.md")).unwrap();
    assert_eq!(
        comment,
        rolechain(&["diff", BEFORE, AFTER, "--format", "markdown"])
    );
    assert!(comment.starts_with("## rolechain diff\n"), "{comment}");
    assert!(comment.contains("### Paths gained\n"), "{comment}");

    // The findings for code scanning.
    let sarif = std::fs::read_to_string(dir.path().join("findings.sarif")).unwrap();
    assert_eq!(
        sarif,
        rolechain(&["findings", "--snapshot", AFTER, "--format", "sarif"])
    );
    let log: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let rules: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"cross-account-secret-path"), "{rules:?}");
    support::assert_sarif_valid(&sarif);
}

/// Without a change (the old snapshot on both sides) every gate passes and the job exits 0,
/// with its reports written.
#[test]
fn recipe_passes_without_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_recipe(dir.path(), &[("NEW", BEFORE)]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(failed_gates(&stderr).is_empty(), "{stderr}");
    let comment = std::fs::read_to_string(dir.path().join("comment.md")).unwrap();
    assert!(
        comment.contains("No change in reachability or findings."),
        "{comment}"
    );
    let sarif = std::fs::read_to_string(dir.path().join("findings.sarif")).unwrap();
    support::assert_sarif_valid(&sarif);
}

/// A snapshot that cannot be read is an error, not a failed gate: the job stops at the first
/// command with exit 2 and writes no report.
#[test]
fn recipe_stops_with_exit_2_on_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_recipe(dir.path(), &[("NEW", "missing.json")]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(failed_gates(&stderr).is_empty(), "{stderr}");
    assert!(
        stderr.contains("rolechain: error: reading `missing.json`"),
        "{stderr}"
    );
    assert!(!dir.path().join("comment.md").exists());
    assert!(!dir.path().join("findings.sarif").exists());
}
