//! Tidiness rules the compiler cannot check: layer direction, module docs, and test hygiene.

use std::path::{Path, PathBuf};

use crate::support;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn files_under(rel: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    rust_files(&support::root().join(rel), &mut out);
    out
}

/// The core layers do no I/O, know nothing of the SDK or the CLI, and do not print.
#[test]
fn core_layers_stay_pure() {
    let forbidden = [
        "crate::collect",
        "crate::cli",
        "aws_sdk_",
        "aws_config",
        "aws_smithy",
        "aws_types",
        "println!",
        "eprintln!",
        "std::fs",
        "std::io::stdout",
        "std::process",
    ];
    let mut violations = Vec::new();
    for layer in ["model", "policy", "graph", "analysis", "export"] {
        for file in files_under(&format!("src/{layer}")) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for f in forbidden {
                    if code.contains(f) {
                        violations.push(format!("{}:{}: `{f}`", file.display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "the core must not use these:\n{}",
        violations.join("\n")
    );
}

/// Layers use only the layers before them: model → policy → graph → analysis → export.
#[test]
fn layers_depend_only_on_earlier_layers() {
    let order = ["model", "policy", "graph", "analysis", "export"];
    let mut violations = Vec::new();
    for (i, layer) in order.iter().enumerate() {
        for file in files_under(&format!("src/{layer}")) {
            let text = std::fs::read_to_string(&file).unwrap();
            for later in &order[i + 1..] {
                if text.contains(&format!("crate::{later}")) {
                    violations.push(format!("{} uses crate::{later}", file.display()));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

/// Collection turns AWS answers and snapshot files into the model (and requests into the
/// policy layer's types); it knows nothing of the graph, the analysis, the exporters or the CLI.
#[test]
fn collection_uses_only_the_model_and_the_policy_layer() {
    let mut violations = Vec::new();
    for file in files_under("src/collect") {
        let text = std::fs::read_to_string(&file).unwrap();
        for later in ["graph", "analysis", "export", "cli"] {
            if text.contains(&format!("crate::{later}")) {
                violations.push(format!("{} uses crate::{later}", file.display()));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

/// A layer's `pub(crate)` items are its internals: no other layer calls them. (Items other
/// layers need are `pub` and documented; `pub(in …)` items the compiler already keeps in.)
#[test]
fn no_layer_reaches_into_another_layers_internals() {
    let layers = [
        "model", "policy", "graph", "analysis", "export", "collect", "cli",
    ];
    let declared = |text: &str| -> Vec<String> {
        let mut names = Vec::new();
        for line in text.lines() {
            let Some(rest) = line.trim_start().strip_prefix("pub(crate) ") else {
                continue;
            };
            let rest = rest
                .trim_start_matches("const ")
                .trim_start_matches("unsafe ");
            for kw in [
                "fn ", "struct ", "enum ", "const ", "static ", "type ", "trait ",
            ] {
                if let Some(after) = rest.strip_prefix(kw) {
                    let name: String = after
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        names.push(name);
                    }
                }
            }
        }
        names
    };
    let mut internals = Vec::new();
    for layer in layers {
        for file in files_under(&format!("src/{layer}")) {
            let text = std::fs::read_to_string(&file).unwrap();
            internals.extend(declared(&text).into_iter().map(|n| (layer, n)));
        }
    }
    let mut violations = Vec::new();
    for layer in layers {
        for file in files_under(&format!("src/{layer}")) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (owner, name) in &internals {
                if *owner == layer {
                    continue;
                }
                let used = text.lines().any(|line| {
                    let code = line.split("//").next().unwrap_or("");
                    code.contains(&format!("::{name}"))
                        || code.contains(&format!("{name}("))
                            && code.contains(&format!("{owner}::"))
                });
                if used {
                    violations.push(format!(
                        "{} uses `{name}`, internal to src/{owner}",
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

/// Every module of the crate belongs to a layer the rules above check: nothing escapes them by
/// living beside the layers.
#[test]
fn every_module_belongs_to_a_layer() {
    let known = [
        "model", "policy", "graph", "analysis", "export", "collect", "cli", "lib.rs", "main.rs",
    ];
    let mut strays: Vec<String> = std::fs::read_dir(support::root().join("src"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !known.contains(&name.as_str()))
        .collect();
    strays.sort();
    assert!(
        strays.is_empty(),
        "modules outside the layers: {}",
        strays.join(", ")
    );
}

/// Every Rust file says why it exists in a `//!` doc at its top.
#[test]
fn every_file_starts_with_a_module_doc() {
    let mut missing = Vec::new();
    for dir in ["src", "tests/it", "benches", "examples"] {
        if !support::root().join(dir).is_dir() {
            continue;
        }
        for file in files_under(dir) {
            let text = std::fs::read_to_string(&file).unwrap();
            if !text.trim_start().starts_with("//!") {
                missing.push(file.display().to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "files without a `//!` doc:\n{}",
        missing.join("\n")
    );
}

/// No test is skipped or expects a panic.
#[test]
fn no_ignored_or_should_panic_tests() {
    let mut found = Vec::new();
    for dir in ["src", "tests"] {
        for file in files_under(dir) {
            let text = std::fs::read_to_string(&file).unwrap();
            for attr in ["#[ignore", "#[should_panic"] {
                // This file names them in order to forbid them.
                if text.contains(attr) && !file.ends_with("tidy.rs") {
                    found.push(format!("{}: {attr}", file.display()));
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
