//! The command line as users meet it: exit codes, both streams, bad input and output files.

use std::process::Command;

use insta_cmd::{assert_cmd_snapshot, get_cargo_bin};

use crate::support;

const SMOKE: &str = "tests/fixtures/scenarios/smoke/snapshot.json";
const SECRET: &str = "arn:aws:secretsmanager:us-east-1:111111111111:secret:app/api-key-Xp4Rt2";

fn cli() -> Command {
    let mut c = Command::new(get_cargo_bin("rolechain"));
    c.current_dir(support::root())
        .env_remove("ROLECHAIN_SNAPSHOT")
        .env("NO_COLOR", "1");
    c
}

#[test]
fn who_can_text() {
    assert_cmd_snapshot!(cli().args(["who-can", SECRET, "--snapshot", SMOKE]));
}

#[test]
fn who_can_json_reads_snapshot_from_environment() {
    assert_cmd_snapshot!(
        cli()
            .env("ROLECHAIN_SNAPSHOT", SMOKE)
            .args(["who-can", SECRET, "--format", "json"])
    );
}

#[test]
fn reach_every_container_json() {
    assert_cmd_snapshot!(cli().args(["reach", "--snapshot", SMOKE, "--format", "json"]));
}

#[test]
fn explain_denied_names_the_blocking_policy() {
    assert_cmd_snapshot!(cli().args([
        "explain",
        "--snapshot",
        "tests/fixtures/scenarios/injects-cmk-key-policy-missing/snapshot.json",
        "--from",
        "arn:aws:ecs:us-east-1:111111111111:task-definition/app:14#app",
        "--to",
        "arn:aws:secretsmanager:us-east-1:111111111111:secret:app/db-password-Tz6Bn4",
    ]));
}

#[test]
fn simulate_json_and_text() {
    let req = "tests/fixtures/requests/cross-account-secret.json";
    assert_cmd_snapshot!("simulate_json", cli().args(["simulate", req]));
    assert_cmd_snapshot!(
        "simulate_unknown_as_conditional",
        cli().args([
            "simulate",
            req,
            "--unknown-as-conditional",
            "--format",
            "text"
        ])
    );
}

#[test]
fn unknown_id_exits_2_with_closest_ids() {
    assert_cmd_snapshot!(cli().args([
        "who-can",
        "arn:aws:secretsmanager:us-east-1:111111111111:secret:app/api-key",
        "--snapshot",
        SMOKE
    ]));
}

#[test]
fn unknown_from_exits_2() {
    assert_cmd_snapshot!(cli().args([
        "reach",
        "--snapshot",
        SMOKE,
        "--from",
        "arn:aws:iam::111111111111:role/nope"
    ]));
}

#[test]
fn bad_snapshots_exit_2_naming_file_and_path() {
    for name in [
        "truncated",
        "wrong-schema",
        "malformed-arn",
        "not-a-policy",
        "wrong-type",
    ] {
        let path = format!("tests/fixtures/bad/{name}.json");
        assert_cmd_snapshot!(name, cli().args(["reach", "--snapshot", &path]));
    }
}

#[test]
fn missing_snapshot_exits_2_with_hint() {
    assert_cmd_snapshot!(cli().args(["reach", "--snapshot", "no/such/file.json"]));
}

#[test]
fn wrong_format_for_command_exits_2() {
    assert_cmd_snapshot!(cli().args(["who-can", SECRET, "--snapshot", SMOKE, "--format", "dot"]));
}

#[test]
fn malformed_action_exits_2() {
    assert_cmd_snapshot!(cli().args(["reach", "--snapshot", SMOKE, "--action", "GetSecretValue"]));
}

#[test]
fn graph_output_file_matches_stdout_and_leaves_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g.dot");
    let status = cli()
        .args(["graph", "--snapshot", SMOKE, "-o"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let stdout = cli().args(["graph", "--snapshot", SMOKE]).output().unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), stdout.stdout);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "only the output file remains: {names:?}");
}

#[test]
fn graph_output_into_missing_directory_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("missing/g.dot");
    let output = cli()
        .args(["graph", "--snapshot", SMOKE, "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("writing `"));
    assert!(!out.exists());
}

#[test]
fn closed_stdout_is_not_an_error() {
    use std::process::Stdio;
    let mut child = cli()
        .args(["graph", "--snapshot", SMOKE, "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn output_is_byte_identical_across_runs() {
    for format in ["dot", "mermaid", "json"] {
        let a = cli()
            .args(["graph", "--snapshot", SMOKE, "--format", format])
            .output()
            .unwrap();
        let b = cli()
            .args(["graph", "--snapshot", SMOKE, "--format", format])
            .output()
            .unwrap();
        assert!(a.status.success());
        assert_eq!(a.stdout, b.stdout, "{format}");
    }
}

#[test]
fn gaps_and_parts_not_collected_are_warned_about() {
    assert_cmd_snapshot!(cli().args(["reach", "--snapshot", "tests/fixtures/gaps.json"]));
}

/// `graph --format cypher|graphml` writes what the library exports, with `--focus` and `-o`.
#[test]
fn graph_cypher_and_graphml_with_focus_and_output_file() {
    let snapshot = "examples/three-account-org/snapshot.json";
    let focus = "arn:aws:ecs:us-east-1:111111111111:service/prod/payments-worker";
    let inventory = rolechain::collect::load_file(&support::root().join(snapshot)).unwrap();
    let g = rolechain::graph::build(&inventory, &rolechain::graph::BuildOptions::default());
    let center = rolechain::analysis::lookup(&g, focus).unwrap();
    let focused = rolechain::analysis::focus(&g, center, rolechain::analysis::DEFAULT_MAX_DEPTH);
    let dir = tempfile::tempdir().unwrap();
    for (format, expected) in [
        ("cypher", rolechain::export::to_cypher(&focused)),
        ("graphml", rolechain::export::to_graphml(&focused)),
    ] {
        let out = dir.path().join(format!("g.{format}"));
        let output = cli()
            .args([
                "graph",
                "--snapshot",
                snapshot,
                "--format",
                format,
                "--focus",
                focus,
            ])
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        assert!(output.stdout.is_empty(), "{output:?}");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), expected, "{format}");
    }
}

#[test]
fn graph_database_formats_only_for_graph() {
    assert_cmd_snapshot!(
        "reach_cypher_exits_2",
        cli().args(["reach", "--snapshot", SMOKE, "--format", "cypher"])
    );
    assert_cmd_snapshot!(
        "who_can_graphml_exits_2",
        cli().args([
            "who-can",
            SECRET,
            "--snapshot",
            SMOKE,
            "--format",
            "graphml"
        ])
    );
}
