//! Real ECS task definitions from public repositories (`tests/fixtures/taskdefs/`, sources in its
//! `MANIFEST.json`): each is wrapped into a one-account snapshot, loaded and built, and every
//! reference it makes must map to the node that the AWS rules give (IAM-SEMANTICS R4.3–R4.4) or,
//! when it cannot be read, to a warning that names the container or the JSON path.
//!
//! All failures of all fixtures are collected and reported in one assertion.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use rolechain::collect;
use rolechain::graph::{self, AccessGraph, BuildOptions, EdgeKind};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::support;

/// `expect.json`: the wrapper's account and region, and each file's expectations.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    account: String,
    region: String,
    files: BTreeMap<String, FileExpect>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileExpect {
    /// The task definition's node id: its `taskDefinitionArn`, or the one the wrapper adds.
    task_definition: String,
    references: Vec<Reference>,
}

/// One field that names a role, an image or a secret.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reference {
    /// The container's name; absent for `taskRoleArn` and `executionRoleArn`.
    #[serde(default)]
    container: Option<String>,
    /// The JSON path of the field in the task definition.
    path: String,
    /// The field as published.
    value: Value,
    /// A node id, `"warning"` or `"none"`.
    expect: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestEntry {
    file: String,
    repository: String,
    path: String,
    commit: String,
}

fn dir() -> std::path::PathBuf {
    support::root().join("tests/fixtures/taskdefs")
}

/// The task definition in a fixture: a task definition object, a `describe-task-definition`
/// output (`{"taskDefinition": …}`) or a bare `containerDefinitions` array (Terraform's
/// `container_definitions`), which is given the file's stem as its family.
fn task_definition(published: Value, stem: &str) -> Value {
    match published {
        Value::Array(containers) => json!({ "family": stem, "containerDefinitions": containers }),
        Value::Object(mut object) => match object.remove("taskDefinition") {
            Some(td @ Value::Object(_)) => td,
            Some(other) => {
                object.insert("taskDefinition".into(), other);
                Value::Object(object)
            }
            None => Value::Object(object),
        },
        other => other,
    }
}

/// The node id of the task definition, adding `taskDefinitionArn` when the fixture has none.
fn ensure_arn(td: &mut Value, stem: &str, account: &str, region: &str) -> String {
    let published = td
        .get("taskDefinitionArn")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty());
    if let Some(arn) = published {
        return arn.to_string();
    }
    let family = td
        .get("family")
        .and_then(Value::as_str)
        .filter(|f| !f.is_empty())
        .unwrap_or(stem)
        .to_string();
    let arn = format!("arn:aws:ecs:{region}:{account}:task-definition/{family}:1");
    td["taskDefinitionArn"] = Value::String(arn.clone());
    arn
}

/// A `rolechain.snapshot/v1` document holding the task definition, with the ECS and IAM lists
/// collected (empty) and the resource lists not collected.
fn wrap(td: Value, account: &str, region: &str) -> String {
    let snapshot = json!({
        "schema": "rolechain.snapshot/v1",
        "accounts": [{
            "id": account,
            "partition": "aws",
            "iam": {
                "UserDetailList": [],
                "GroupDetailList": [],
                "RoleDetailList": [],
                "Policies": []
            },
            "regions": {
                region: {
                    "ecs": {
                        "clusters": [],
                        "services": [],
                        "task_definitions": [td],
                        "tasks": []
                    }
                }
            }
        }]
    });
    serde_json::to_string_pretty(&snapshot).unwrap()
}

/// The error and its causes, as the CLI prints them.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let _ = write!(out, ": {s}");
        source = s.source();
    }
    out
}

fn edges(g: &AccessGraph) -> BTreeSet<(String, String, EdgeKind)> {
    g.graph
        .edge_indices()
        .map(|e| {
            let (a, b) = g.graph.edge_endpoints(e).unwrap();
            (
                g.graph[a].id.clone(),
                g.graph[b].id.clone(),
                g.graph[e].kind,
            )
        })
        .collect()
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("`{s}`"),
        other => other.to_string(),
    }
}

/// What checking one fixture found.
struct Outcome {
    /// The failures, one line each.
    failures: Vec<String>,
    /// The graph's diagnostics, kept when a warning was missing, to read next to the failures.
    diagnostics: Vec<String>,
}

impl From<String> for Outcome {
    fn from(failure: String) -> Self {
        Outcome {
            failures: vec![failure],
            diagnostics: Vec::new(),
        }
    }
}

/// Checks one fixture.
fn check(file: &str, want: &FileExpect, account: &str, region: &str) -> Outcome {
    let stem = file.trim_end_matches(".json");
    let text = std::fs::read_to_string(dir().join(file)).unwrap();
    let published: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file} is not JSON: {e}"));
    let mut td = task_definition(published, stem);
    let arn = ensure_arn(&mut td, stem, account, region);
    if arn != want.task_definition {
        return format!(
            "expect.json names task definition `{}`, the fixture gives `{arn}`",
            want.task_definition
        )
        .into();
    }
    let containers: Vec<String> = td
        .get("containerDefinitions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("name").and_then(Value::as_str))
        .map(|name| format!("{arn}#{name}"))
        .collect();

    let inventory = match collect::load_str(&wrap(td, account, region), file) {
        Ok(inventory) => inventory,
        Err(e) => return format!("loading fails: {}", chain(&e)).into(),
    };
    let g = graph::build(&inventory, &BuildOptions::default());
    let edges = edges(&g);
    let mut failures = Vec::new();

    for c in &containers {
        if g.node(c).is_none() {
            failures.push(format!("no container node `{c}`"));
        }
    }

    // The targets each (source, kind) may have: exactly those expected.
    let mut expected: BTreeMap<(String, EdgeKind), BTreeSet<String>> = BTreeMap::new();
    for r in &want.references {
        let (kind, sources) = match (r.path.as_str(), &r.container) {
            ("taskRoleArn", None) => (EdgeKind::TaskRole, containers.clone()),
            ("executionRoleArn", None) => (EdgeKind::ExecutionRole, vec![arn.clone()]),
            (path, Some(c)) if path.ends_with(".image") => {
                (EdgeKind::Pulls, vec![format!("{arn}#{c}")])
            }
            (_, Some(c)) => (EdgeKind::Injects, vec![format!("{arn}#{c}")]),
            (path, None) => panic!("{file}: `{path}` needs a `container`"),
        };
        let what = format!("{} {}", r.path, show(&r.value));
        match r.expect.as_str() {
            "none" => {}
            "warning" => {
                // A container's reference: a diagnostic naming the container or the JSON path.
                // A role field: one whose subject is the task definition, or that names the path
                // (a diagnostic about one of its containers does not count).
                let names = |text: &str| {
                    text.contains(r.path.as_str())
                        || match &r.container {
                            Some(c) => text.contains(&format!("{arn}#{c}")),
                            None => false,
                        }
                };
                let warned = g.diagnostics.iter().any(|d| {
                    names(&d.subject)
                        || names(&d.message)
                        || (r.container.is_none() && d.subject == arn)
                });
                if !warned {
                    let owner = match &r.container {
                        Some(c) => format!("{arn}#{c}"),
                        None => arn.clone(),
                    };
                    failures.push(format!(
                        "{what}: no diagnostic names `{owner}` or `{}`",
                        r.path
                    ));
                }
            }
            target => {
                for source in &sources {
                    expected
                        .entry((source.clone(), kind))
                        .or_default()
                        .insert(target.to_string());
                    if !edges.contains(&(source.clone(), target.to_string(), kind)) {
                        failures.push(format!(
                            "{what}: no `{}` edge `{source}` -> `{target}`",
                            kind.as_str()
                        ));
                    }
                }
            }
        }
    }

    // No reference may map anywhere else.
    let sources: BTreeSet<&str> = containers
        .iter()
        .map(String::as_str)
        .chain([arn.as_str()])
        .collect();
    for (from, to, kind) in &edges {
        let checked = match kind {
            EdgeKind::TaskRole | EdgeKind::Injects | EdgeKind::Pulls => from != &arn,
            EdgeKind::ExecutionRole => from == &arn,
            _ => false,
        };
        if !checked || !sources.contains(from.as_str()) {
            continue;
        }
        let allowed = expected
            .get(&(from.clone(), *kind))
            .is_some_and(|targets| targets.contains(to));
        if !allowed {
            failures.push(format!(
                "unexpected `{}` edge `{from}` -> `{to}`",
                kind.as_str()
            ));
        }
    }
    // A missing warning is easier to judge next to the warnings there are.
    let diagnostics = if failures.iter().any(|f| f.contains("no diagnostic names")) {
        g.diagnostics
            .iter()
            .map(|d| format!("{}: `{}`: {}", d.code, d.subject, d.message))
            .collect()
    } else {
        Vec::new()
    };
    Outcome {
        failures,
        diagnostics,
    }
}

/// The fixture files on disk, the manifest and `expect.json` list the same files, and each
/// manifest entry says where the file was published.
fn check_inventory(expect: &Expect) -> Vec<String> {
    let mut problems = Vec::new();
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| {
            Path::new(name).extension().is_some_and(|e| e == "json")
                && name != "MANIFEST.json"
                && name != "expect.json"
        })
        .collect();
    let manifest: Vec<ManifestEntry> =
        serde_json::from_str(&std::fs::read_to_string(dir().join("MANIFEST.json")).unwrap())
            .unwrap_or_else(|e| panic!("MANIFEST.json: {e}"));
    let listed: BTreeSet<String> = manifest.iter().map(|m| m.file.clone()).collect();
    let expected: BTreeSet<String> = expect.files.keys().cloned().collect();
    if listed.len() != manifest.len() {
        problems.push("MANIFEST.json lists a file twice".to_string());
    }
    for (name, set) in [("MANIFEST.json", &listed), ("expect.json", &expected)] {
        for missing in on_disk.difference(set) {
            problems.push(format!("{name} does not list `{missing}`"));
        }
        for extra in set.difference(&on_disk) {
            problems.push(format!(
                "{name} lists `{extra}`, which is not in the directory"
            ));
        }
    }
    for m in &manifest {
        let repository_ok = m.repository.split('/').count() == 2;
        let commit_ok = m.commit.len() == 40 && m.commit.bytes().all(|b| b.is_ascii_hexdigit());
        if !repository_ok || !commit_ok || m.path.is_empty() {
            problems.push(format!(
                "MANIFEST.json: `{}` needs an owner/name repository, a path and a 40-hex commit",
                m.file
            ));
        }
    }
    problems
}

#[test]
fn real_task_definitions_map_every_reference() {
    let expect: Expect =
        serde_json::from_str(&std::fs::read_to_string(dir().join("expect.json")).unwrap())
            .unwrap_or_else(|e| panic!("expect.json: {e}"));
    let inventory_problems = check_inventory(&expect);
    assert!(
        inventory_problems.is_empty(),
        "tests/fixtures/taskdefs is inconsistent:\n{}",
        inventory_problems.join("\n")
    );

    let references: usize = expect.files.values().map(|f| f.references.len()).sum();
    let mut report = String::new();
    let (mut failing_files, mut failures) = (0, 0);
    for (file, want) in &expect.files {
        let found = check(file, want, &expect.account, &expect.region);
        if found.failures.is_empty() {
            continue;
        }
        failing_files += 1;
        failures += found.failures.len();
        let _ = writeln!(report, "{file}:");
        for f in &found.failures {
            let _ = writeln!(report, "  {f}");
        }
        if !found.diagnostics.is_empty() {
            let _ = writeln!(report, "  (the graph's diagnostics:)");
            for d in &found.diagnostics {
                let _ = writeln!(report, "    {d}");
            }
        }
    }
    assert!(
        report.is_empty(),
        "{failing_files} of {} task definitions fail ({failures} failures; {references} references checked):\n{report}",
        expect.files.len()
    );
}
