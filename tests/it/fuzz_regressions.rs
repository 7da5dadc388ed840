//! Replays the fuzzers' saved inputs as ordinary tests: every file of `fuzz/corpus/<target>/` and
//! `fuzz/regressions/<target>/` goes through the same harness function the libFuzzer target runs
//! (`fuzz/src/lib.rs`, included here), so CI catches a panic on any input the fuzzers kept or
//! found, without cargo-fuzz or a nightly toolchain. An `Err` from a reader is fine; a panic is
//! not. See docs/fuzzing.md.

use std::path::{Path, PathBuf};

use crate::support;

#[path = "../../fuzz/src/lib.rs"]
mod harness;

/// The fuzz targets, each replayed by one test below.
const TARGETS: &[&str] = &["snapshot", "policy_eval", "request", "rules"];

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every saved input of `target` and returns how many there were and how many the reader
/// accepted; fails with the names of the inputs that panicked.
fn replay(target: &str, run: fn(&[u8]) -> bool) -> (usize, usize) {
    let root = support::root().join("fuzz");
    let mut panicked = Vec::new();
    let (mut total, mut accepted) = (0, 0);
    for dir in ["corpus", "regressions"] {
        for file in files_in(&root.join(dir).join(target)) {
            let data = std::fs::read(&file).unwrap();
            total += 1;
            match std::panic::catch_unwind(|| run(&data)) {
                Ok(true) => accepted += 1,
                Ok(false) => {}
                Err(_) => panicked.push(file.display().to_string()),
            }
        }
    }
    assert!(
        panicked.is_empty(),
        "`{target}` panics on these saved inputs:\n{}",
        panicked.join("\n")
    );
    (total, accepted)
}

#[test]
fn snapshot_corpus_and_regressions_do_not_panic() {
    let (total, accepted) = replay("snapshot", harness::snapshot);
    assert!(accepted > 0, "no snapshot seed loads ({total} inputs)");
}

#[test]
fn policy_eval_corpus_and_regressions_do_not_panic() {
    let (total, accepted) = replay("policy_eval", harness::policy_eval);
    assert!(accepted > 0, "no policy seed parses ({total} inputs)");
}

#[test]
fn request_corpus_and_regressions_do_not_panic() {
    let (total, accepted) = replay("request", harness::request);
    assert!(accepted > 0, "no request seed reads ({total} inputs)");
}

#[test]
fn rules_corpus_and_regressions_do_not_panic() {
    let (total, accepted) = replay("rules", harness::rules);
    assert!(accepted > 0, "no rules seed parses ({total} inputs)");
}

/// Every saved input sits in the directory of a target that exists, so none is silently skipped.
#[test]
fn saved_inputs_belong_to_known_targets() {
    let root = support::root().join("fuzz");
    let mut unknown = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !TARGETS.contains(&name.as_str()) {
                unknown.push(path.display().to_string());
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "not a fuzz target's directory:\n{}",
        unknown.join("\n")
    );
}
