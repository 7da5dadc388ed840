//! The command line as users meet it: exit codes, both streams, bad input and output files.

use std::process::Command;

use insta_cmd::{assert_cmd_snapshot, get_cargo_bin};
use rolechain::export::GraphFormat;

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

/// A denied `explain` prints its answer and exits 1, as grep does when nothing matches.
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

/// `explain` exits 0 when a path holds and 1 when none does, in every format.
#[test]
fn explain_exit_code_says_whether_a_path_holds() {
    let denied = [
        "--snapshot",
        "tests/fixtures/scenarios/injects-cmk-key-policy-missing/snapshot.json",
        "--from",
        "arn:aws:ecs:us-east-1:111111111111:task-definition/app:14#app",
        "--to",
        "arn:aws:secretsmanager:us-east-1:111111111111:secret:app/db-password-Tz6Bn4",
    ];
    let allowed = [
        "--snapshot",
        SMOKE,
        "--from",
        "arn:aws:ecs:us-east-1:111111111111:task-definition/app:1#app",
        "--to",
        SECRET,
    ];
    for (args, code, holds) in [(denied, 1, false), (allowed, 0, true)] {
        let output = cli()
            .arg("explain")
            .args(args)
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(code), "{output:?}");
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(json["allowed"], holds, "{json}");
        assert_eq!(
            json["paths"].as_array().unwrap().is_empty(),
            !holds,
            "{json}"
        );
        let text = cli().arg("explain").args(args).output().unwrap();
        assert_eq!(text.status.code(), Some(code), "{text:?}");
        assert!(!text.stdout.is_empty());
    }
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
    // Denied: the text names the condition of the resource policy that the request fails.
    assert_cmd_snapshot!(
        "simulate_text_names_the_failed_condition",
        cli().args(["simulate", req, "--format", "text"])
    );
    // Two conditions of one Deny statement are one statement: "denied if A and B".
    assert_cmd_snapshot!(
        "simulate_text_deny_with_two_conditions",
        cli().args([
            "simulate",
            "tests/fixtures/requests/deny-two-conditions.json",
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

/// The hint about `--snapshot` is for a command line that names no snapshot at all.
#[test]
fn no_snapshot_exits_2_with_hint() {
    assert_cmd_snapshot!(cli().args(["reach"]));
    // An empty ROLECHAIN_SNAPSHOT names no snapshot either.
    let output = cli()
        .env("ROLECHAIN_SNAPSHOT", "")
        .arg("reach")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no snapshot given"), "{stderr}");
    assert!(
        stderr.contains("hint: pass the snapshot with `--snapshot FILE`"),
        "{stderr}"
    );
}

/// A snapshot that was given but cannot be read gets an error naming it, and no hint.
#[test]
fn missing_snapshot_file_exits_2_naming_it() {
    assert_cmd_snapshot!(cli().args(["reach", "--snapshot", "no/such/file.json"]));
}

#[test]
fn snapshot_that_is_a_directory_exits_2_naming_it() {
    assert_cmd_snapshot!(cli().args(["reach", "--snapshot", "tests/fixtures"]));
}

#[test]
fn snapshot_that_is_not_utf8_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.json");
    std::fs::write(&path, b"{\"schema\": \"caf\xe9\"}").unwrap();
    let output = cli()
        .args(["reach", "--snapshot"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "`{}` is not UTF-8 text (invalid byte at offset 15)",
            path.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("hint:"), "{stderr}");
}

/// Each command's `--format` is its own value enum, so clap rejects a format of another command
/// and lists the valid ones.
#[test]
fn wrong_format_for_command_exits_2() {
    assert_cmd_snapshot!(cli().args(["who-can", SECRET, "--snapshot", SMOKE, "--format", "dot"]));
}

#[test]
fn malformed_action_exits_2() {
    assert_cmd_snapshot!(cli().args(["reach", "--snapshot", SMOKE, "--action", "GetSecretValue"]));
}

/// Actions are checked before the snapshot is read: a missing snapshot is not what is reported.
#[test]
fn malformed_action_is_reported_before_the_snapshot_is_read() {
    for command in [
        vec!["reach"],
        vec!["who-can", SECRET],
        vec!["graph"],
        vec!["explain", "--from", "a", "--to", "b"],
    ] {
        let output = cli()
            .args(&command)
            .args(["--snapshot", "no/such/file.json", "--action", "s3:"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{command:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            stderr,
            "rolechain: error: `s3:` is not an action: expected `service:Action`, such as \
             `secretsmanager:GetSecretValue`\n",
            "{command:?}"
        );
    }
}

/// The lines of one help section: from its heading to the next heading.
fn help_section<'h>(help: &'h str, heading: &str) -> &'h str {
    let marker = format!("\n{heading}:\n");
    let start = help
        .find(&marker)
        .unwrap_or_else(|| panic!("no `{heading}` section in:\n{help}"))
        + marker.len();
    let rest = &help[start..];
    let mut end = 0;
    for line in rest.split_inclusive('\n') {
        if !line.starts_with(' ') && line.trim_end().ends_with(':') {
            break;
        }
        end += line.len();
    }
    &rest[..end]
}

/// `--help` puts the analysis flags under "Analysis" and lists only the command's own formats.
#[test]
fn help_lists_each_command_formats_under_analysis() {
    for (command, formats, default) in [
        (vec!["who-can"], &["text", "json"][..], "text"),
        (vec!["reach"], &["text", "json"][..], "text"),
        (vec!["explain"], &["text", "json"][..], "text"),
        (
            vec!["graph"],
            &["dot", "mermaid", "json", "cypher", "graphml"][..],
            "dot",
        ),
        (vec!["simulate"], &["json", "text"][..], "json"),
        (vec!["check"], &["text", "json"][..], "text"),
        (vec!["diff"], &["text", "json", "markdown"][..], "text"),
    ] {
        let output = cli()
            .env("COLUMNS", "100")
            .args(&command)
            .arg("--help")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{command:?}");
        let help = String::from_utf8(output.stdout).unwrap();
        let analysis = help_section(&help, "Analysis");
        assert!(
            analysis.contains("--format <FORMAT>"),
            "{command:?}:\n{help}"
        );
        let listed: Vec<&str> = analysis
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- "))
            .filter_map(|l| l.split(':').next())
            .collect();
        assert_eq!(listed, formats, "{command:?}:\n{help}");
        assert!(
            analysis.contains(&format!("[default: {default}]")),
            "{command:?}:\n{help}"
        );
        if command[0] != "simulate" {
            assert!(
                analysis.contains("--action <ACTION>"),
                "{command:?}:\n{help}"
            );
            // `check` holds its rules over every path and `diff` compares every path: neither
            // takes a depth limit.
            assert_eq!(
                analysis.contains("--max-depth <N>"),
                !["check", "diff"].contains(&command[0]),
                "{command:?}:\n{help}"
            );
            // `diff` reads two snapshot files and never collects.
            if command[0] == "diff" {
                assert!(!help.contains("Collection:"), "{help}");
                continue;
            }
            let collection = help_section(&help, "Collection");
            assert!(collection.contains("--profile <PROFILE>"), "{help}");
            for flag in ["--action", "--max-depth", "--format", "--focus", "--output"] {
                assert!(!collection.contains(flag), "{command:?} {flag}:\n{help}");
            }
        }
    }
}

/// `rolechain --help` states the exit codes, including `explain`'s 1.
#[test]
fn help_states_the_exit_codes() {
    let output = cli().arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8(output.stdout).unwrap().replace('\n', " ");
    assert!(
        help.contains(
            "Exit codes: 0 success; 1 findings: `check` found a rule violated, `explain` found no \
             path that holds"
        ),
        "{help}"
    );
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
    let focused = rolechain::analysis::focus(&g, center, None);
    let dir = tempfile::tempdir().unwrap();
    for (format, expected) in [
        ("cypher", support::exported(&focused, GraphFormat::Cypher).0),
        (
            "graphml",
            support::exported(&focused, GraphFormat::Graphml).0,
        ),
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

/// `-o FILE` never changes what kind of thing the path names, and snapshots are private.
#[cfg(unix)]
mod output_file {
    use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
    use std::path::Path;

    use super::{SMOKE, cli};

    /// The DOT export of the smoke scenario, as printed to stdout.
    fn smoke_dot() -> Vec<u8> {
        let output = cli().args(["graph", "--snapshot", SMOKE]).output().unwrap();
        assert!(output.status.success(), "{output:?}");
        assert!(!output.stdout.is_empty());
        output.stdout
    }

    /// Runs `graph --snapshot SMOKE -o <out>`.
    fn graph_to(out: &Path) -> std::process::Output {
        cli()
            .args(["graph", "--snapshot", SMOKE, "-o"])
            .arg(out)
            .output()
            .unwrap()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn is_symlink(path: &Path) -> bool {
        std::fs::symlink_metadata(path)
            .unwrap()
            .file_type()
            .is_symlink()
    }

    #[test]
    fn symlink_keeps_the_link_and_replaces_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.dot");
        let link = dir.path().join("link.dot");
        std::fs::write(&target, "old").unwrap();
        std::os::unix::fs::symlink("target.dot", &link).unwrap();
        let output = graph_to(&link);
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        assert!(is_symlink(&link));
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("target.dot"));
        assert_eq!(std::fs::read(&target).unwrap(), smoke_dot());
        assert_eq!(names(dir.path()), ["link.dot", "target.dot"]);
    }

    /// A chain of links across directories: every link stays, the file at the end is replaced,
    /// and its temporary file was made beside it (nothing is left in either directory).
    #[test]
    fn symlink_chain_keeps_every_link_and_replaces_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let links = dir.path().join("links");
        let files = dir.path().join("files");
        std::fs::create_dir(&links).unwrap();
        std::fs::create_dir(&files).unwrap();
        let target = files.join("graph.dot");
        std::fs::write(&target, "old").unwrap();
        std::os::unix::fs::symlink("../files/graph.dot", links.join("first")).unwrap();
        std::os::unix::fs::symlink(links.join("first"), links.join("second")).unwrap();
        let output = graph_to(&links.join("second"));
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        assert!(is_symlink(&links.join("first")));
        assert!(is_symlink(&links.join("second")));
        assert_eq!(
            std::fs::read_link(links.join("second")).unwrap(),
            links.join("first")
        );
        assert_eq!(std::fs::read(&target).unwrap(), smoke_dot());
        assert_eq!(names(&links), ["first", "second"]);
        assert_eq!(names(&files), ["graph.dot"]);
    }

    /// A dangling link: its target is created, and the link stays.
    #[test]
    fn dangling_symlink_creates_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link.dot");
        std::os::unix::fs::symlink("new.dot", &link).unwrap();
        let output = graph_to(&link);
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        assert!(is_symlink(&link));
        assert_eq!(
            std::fs::read(dir.path().join("new.dot")).unwrap(),
            smoke_dot()
        );
    }

    /// A FIFO is written through, not replaced by a regular file.
    #[test]
    fn fifo_is_written_directly() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        // rolechain blocks opening the FIFO until this side opens it for reading.
        let child = cli()
            .args(["graph", "--snapshot", SMOKE, "-o"])
            .arg(&fifo)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        let output = child.wait_with_output().unwrap();
        // Should rolechain exit without opening the FIFO, open it as a writer once so that the
        // reader sees end of file instead of blocking forever (O_RDWR never blocks on Linux).
        drop(
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&fifo),
        );
        let read = reader.join().unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        assert_eq!(read, smoke_dot());
        let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(kind.is_fifo(), "{kind:?}");
        assert_eq!(names(dir.path()), ["pipe"]);
    }

    /// A write that fails part way (here at the file size limit of `ulimit -f`) leaves the file
    /// it was to replace as it was and no temporary file, and creates no new file.
    #[cfg(target_os = "linux")]
    #[test]
    fn failed_write_leaves_no_half_written_file() {
        use std::process::Command;

        use insta_cmd::get_cargo_bin;

        use crate::support;

        /// A snapshot whose exports are tens of KiB.
        const EXAMPLE: &str = "examples/three-account-org/snapshot.json";

        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old.json");
        let new = dir.path().join("new.json");
        std::fs::write(&old, "old").unwrap();
        for out in [&old, &new] {
            // A few KiB (`ulimit -f` counts blocks of 512 or 1,024 bytes), far less than the
            // example's graph. With SIGXFSZ ignored, which `exec` keeps, the write fails with
            // EFBIG instead of killing rolechain.
            let output = Command::new("sh")
                .args(["-c", "ulimit -f 4 && trap '' XFSZ && exec \"$0\" \"$@\""])
                .arg(get_cargo_bin("rolechain"))
                .args(["graph", "--snapshot", EXAMPLE, "--format", "json", "-o"])
                .arg(out)
                .current_dir(support::root())
                .env_remove("ROLECHAIN_SNAPSHOT")
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            assert_eq!(output.status.code(), Some(2), "{output:?}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                stderr.starts_with(&format!(
                    "rolechain: error: writing `{}`: File too large",
                    out.display()
                )),
                "{stderr}"
            );
        }
        assert_eq!(std::fs::read_to_string(&old).unwrap(), "old");
        assert_eq!(names(dir.path()), ["old.json"]);
    }

    /// A write error on a device is an error (ENOSPC), and the device stays a device.
    #[cfg(target_os = "linux")]
    #[test]
    fn dev_full_exits_2() {
        let output = graph_to(Path::new("/dev/full"));
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.starts_with("rolechain: error: writing `/dev/full`: No space left on device"),
            "{stderr}"
        );
        let kind = std::fs::symlink_metadata("/dev/full").unwrap().file_type();
        assert!(kind.is_char_device(), "{kind:?}");
    }

    #[test]
    fn dev_null_exits_0_and_stays_a_device() {
        let output = graph_to(Path::new("/dev/null"));
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        assert!(output.stderr.is_empty(), "{output:?}");
        let kind = std::fs::symlink_metadata("/dev/null").unwrap().file_type();
        assert!(kind.is_char_device(), "{kind:?}");
    }

    /// A directory is an error, found before the snapshot is read (this one does not exist).
    #[test]
    fn directory_exits_2_before_reading_the_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        for command in [
            vec!["graph", "--snapshot", "no/such/file.json"],
            vec!["merge", "no/such/file.json"],
        ] {
            let output = cli()
                .args(&command)
                .arg("-o")
                .arg(dir.path())
                .output()
                .unwrap();
            assert_eq!(output.status.code(), Some(2), "{output:?}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(
                stderr,
                format!(
                    "rolechain: error: writing `{}`: it is a directory; expected a file\n",
                    dir.path().display()
                )
            );
            assert!(std::fs::metadata(dir.path()).unwrap().is_dir());
            assert!(names(dir.path()).is_empty());
        }
    }

    /// A merged snapshot is readable only by its owner, new or replacing a readable file, and
    /// through a symlink its target is made private.
    #[test]
    fn merge_output_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("org.json");
        let merge = |out: &Path| {
            let output = cli()
                .args(["merge", SMOKE, "-o"])
                .arg(out)
                .output()
                .unwrap();
            assert_eq!(output.status.code(), Some(0), "{output:?}");
        };
        merge(&out);
        assert_eq!(mode(&out), 0o600);
        let merged = std::fs::read_to_string(&out).unwrap();
        assert!(merged.contains("rolechain.snapshot/v1"), "{merged}");

        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
        merge(&out);
        assert_eq!(mode(&out), 0o600);
        assert_eq!(std::fs::read_to_string(&out).unwrap(), merged);

        let link = dir.path().join("link.json");
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o664)).unwrap();
        std::os::unix::fs::symlink("org.json", &link).unwrap();
        merge(&link);
        assert!(is_symlink(&link));
        assert_eq!(mode(&out), 0o600);
    }

    /// An export keeps the permission bits of the file it replaces, and a new one gets the
    /// umask's.
    #[test]
    fn graph_output_keeps_the_mode_of_the_file_it_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("g.dot");
        std::fs::write(&out, "old").unwrap();
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
        let output = graph_to(&out);
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        assert_eq!(mode(&out), 0o640);
        assert_eq!(std::fs::read(&out).unwrap(), smoke_dot());

        // The umask rolechain inherits, as the shell prints it.
        let umask = std::process::Command::new("sh")
            .args(["-c", "umask"])
            .output()
            .unwrap();
        let umask =
            u32::from_str_radix(String::from_utf8(umask.stdout).unwrap().trim(), 8).unwrap();
        let fresh = dir.path().join("fresh.dot");
        let output = graph_to(&fresh);
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        assert_eq!(mode(&fresh), 0o666 & !umask);
    }
}

const CHECK_SNAPSHOT: &str = "tests/fixtures/check/snapshot.json";

fn check(rules: &str) -> Command {
    let mut c = cli();
    c.args(["check", "--rules", rules, "--snapshot", CHECK_SNAPSHOT]);
    c
}

/// A violated rule prints its paths as `reach` does and exits 1; the rules that hold get a line.
#[test]
fn check_violation_exits_1_with_its_paths() {
    assert_cmd_snapshot!(check("tests/fixtures/check/rules.toml"));
}

#[test]
fn check_clean_exits_0() {
    assert_cmd_snapshot!(check("tests/fixtures/check/clean.toml"));
}

/// `--format json` prints `rolechain.check/v1`, with the same exit code as the text.
#[test]
fn check_json_exits_1_with_the_violation() {
    assert_cmd_snapshot!(check("tests/fixtures/check/rules.toml").args(["--format", "json"]));
    let output = check("tests/fixtures/check/rules.toml")
        .args(["--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["schema"], "rolechain.check/v1");
    assert_eq!(json["holds"], false);
    assert_eq!(json["violated"], 1);
    let held: Vec<bool> = json["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["holds"].as_bool().unwrap())
        .collect();
    assert_eq!(held, [false, true, true]);
    let clean = check("tests/fixtures/check/clean.toml")
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(clean.status.code(), Some(0));
}

#[test]
fn check_toml_syntax_error_exits_2_with_line_and_column() {
    assert_cmd_snapshot!(check("tests/fixtures/check/syntax-error.toml"));
}

#[test]
fn check_unknown_selector_exits_2() {
    assert_cmd_snapshot!(check("tests/fixtures/check/unknown-selector.toml"));
}

/// A selector that matches nothing is an error at its line and column: under `not`, it would
/// make the rule match everything, and a rule over nothing would hold without saying so.
#[test]
fn check_empty_selector_exits_2() {
    assert_cmd_snapshot!(check("tests/fixtures/check/empty-selector.toml"));
}

/// With `--allow-empty` the same selectors are warnings, and the rules are checked as written.
#[test]
fn check_allow_empty_warns_and_checks() {
    assert_cmd_snapshot!(check("tests/fixtures/check/empty-selector.toml").arg("--allow-empty"));
}

/// The rules file is read and parsed in the settings step, before the snapshot: a mistake in
/// it is what is reported even when the snapshot does not exist.
#[test]
fn check_reads_the_rules_before_the_snapshot() {
    for (rules, message) in [
        (
            "tests/fixtures/check/syntax-error.toml",
            "rolechain: error: `tests/fixtures/check/syntax-error.toml:7:4`: key with no value",
        ),
        (
            "no/such/rules.toml",
            "rolechain: error: reading `no/such/rules.toml`: ",
        ),
        (
            "tests/fixtures/check",
            "rolechain: error: reading `tests/fixtures/check`: is a directory: expected a file",
        ),
    ] {
        let output = cli()
            .args(["check", "--rules", rules, "--snapshot", "no/such/file.json"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{rules}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with(message), "{rules}: {stderr}");
        assert!(!stderr.contains("no/such/file.json"), "{stderr}");
    }
}

/// `check` holds a rule over every path, so it has no `--max-depth`.
#[test]
fn check_takes_no_max_depth() {
    let output = check("tests/fixtures/check/clean.toml")
        .args(["--max-depth", "2"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unexpected argument '--max-depth'"),
        "{stderr}"
    );
}

/// The bundled example's rules file: one rule is violated, because legacy-admin's task role has
/// AdministratorAccess.
#[test]
fn check_example_rules_find_the_legacy_admin_violation() {
    assert_cmd_snapshot!(cli().args([
        "check",
        "--rules",
        "examples/three-account-org/rules.toml",
        "--snapshot",
        "examples/three-account-org/snapshot.json",
    ]));
}

/// docs/check.md shows the example's output as it is.
#[test]
fn check_example_output_in_the_docs_is_current() {
    let docs = std::fs::read_to_string(support::root().join("docs/check.md")).unwrap();
    let command = "rolechain check --rules examples/three-account-org/rules.toml --snapshot examples/three-account-org/snapshot.json\n```\n\n```text\n";
    let start = docs
        .find(command)
        .expect("docs/check.md shows the example's command")
        + command.len();
    let shown = &docs[start..start + docs[start..].find("```").unwrap()];
    let output = cli()
        .args([
            "check",
            "--rules",
            "examples/three-account-org/rules.toml",
            "--snapshot",
            "examples/three-account-org/snapshot.json",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), shown);
}
