//! Scenario fixtures: each `tests/fixtures/scenarios/<name>/` is a tiny organization with the
//! queries and answers its `expect.json` lists. Adding a scenario needs no code.
//!
//! Every scenario's graph is also exported as DOT, Mermaid and JSON, snapshotted with insta, and
//! checked by Graphviz and by Mermaid's own parser.

use std::collections::BTreeSet;
use std::path::Path;

use rolechain::analysis::{self, DEFAULT_MAX_DEPTH};
use rolechain::collect;
use rolechain::export;
use rolechain::graph::{self, BuildOptions};
use serde::Deserialize;

use crate::support;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    description: String,
    rules: Vec<String>,
    queries: Vec<Query>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Query {
    who_can: Option<String>,
    reach: Option<String>,
    to: Option<String>,
    explain: Option<ExplainQuery>,
    actions: Option<Vec<String>>,
    paths: Option<Vec<ExpectedPath>>,
    allowed: Option<bool>,
    status: Option<String>,
    blocked_hop: Option<String>,
    blocked_by: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExplainQuery {
    from: String,
    to: String,
    action: Option<String>,
}

#[derive(Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
struct ExpectedPath {
    source: String,
    target: String,
    status: String,
    cross_account: bool,
    hops: Vec<String>,
}

fn observed(paths: &[analysis::Path]) -> BTreeSet<ExpectedPath> {
    paths
        .iter()
        .map(|p| ExpectedPath {
            source: p.source.clone(),
            target: p.target.clone(),
            status: p.status.as_str().to_string(),
            cross_account: p.cross_account,
            hops: p.hops.iter().map(|h| h.kind.as_str().to_string()).collect(),
        })
        .collect()
}

fn show(set: &BTreeSet<ExpectedPath>) -> String {
    set.iter()
        .map(|p| {
            format!(
                "  {} -> {} {} cross={} {:?}",
                p.source, p.target, p.status, p.cross_account, p.hops
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs one scenario's queries and returns the failures, one line each.
pub(crate) fn check_scenario(dir: &Path) -> Vec<String> {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let inventory =
        collect::load_file(&dir.join("snapshot.json")).unwrap_or_else(|e| panic!("{name}: {e:#}"));
    let text = std::fs::read_to_string(dir.join("expect.json")).unwrap();
    let expect: Expect =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}/expect.json: {e}"));
    assert!(
        !expect.description.is_empty() && !expect.rules.is_empty(),
        "{name}: describe the rule"
    );
    let mut failures = Vec::new();
    for (i, q) in expect.queries.iter().enumerate() {
        let actions = q.actions.clone().or_else(|| {
            q.explain
                .as_ref()
                .and_then(|e| e.action.clone())
                .map(|a| vec![a])
        });
        let g = graph::build(
            &inventory,
            &BuildOptions {
                actions: actions.clone(),
                ..BuildOptions::default()
            },
        );
        let lookup =
            |id: &str| analysis::lookup(&g, id).unwrap_or_else(|e| panic!("{name} query {i}: {e}"));
        let got = if let Some(target) = &q.who_can {
            Some(analysis::who_can(&g, lookup(target), DEFAULT_MAX_DEPTH))
        } else if let Some(from) = &q.reach {
            let sources = if from == "*" {
                analysis::containers(&g)
            } else {
                analysis::resolve_sources(&g, from)
                    .unwrap_or_else(|e| panic!("{name} query {i}: {e}"))
            };
            let to = q.to.as_deref().map(lookup);
            Some(analysis::reach(&g, &sources, to, DEFAULT_MAX_DEPTH))
        } else {
            None
        };
        if let Some(got) = got {
            let want: BTreeSet<ExpectedPath> =
                q.paths.clone().unwrap_or_default().into_iter().collect();
            let got = observed(&got);
            if got != want {
                failures.push(format!(
                    "{name} query {i}: paths differ\n missing:\n{}\n unexpected:\n{}",
                    show(&want.difference(&got).cloned().collect()),
                    show(&got.difference(&want).cloned().collect())
                ));
            }
            continue;
        }
        let Some(e) = &q.explain else {
            failures.push(format!(
                "{name} query {i}: expected `who_can`, `reach` or `explain`"
            ));
            continue;
        };
        let x = analysis::explain(
            &inventory,
            &g,
            &e.from,
            &e.to,
            actions.as_deref(),
            DEFAULT_MAX_DEPTH,
        )
        .unwrap_or_else(|err| panic!("{name} query {i}: {err}"));
        let want_allowed = q
            .allowed
            .unwrap_or_else(|| panic!("{name} query {i}: `allowed` is required with `explain`"));
        if x.allowed() != want_allowed {
            let first = x
                .attempts
                .first()
                .map(|a| format!("{} {}: {}", a.hop.as_str(), a.blocked_by(), a.block.message));
            failures.push(format!("{name} query {i}: explain allowed={} (first attempt {first:?}), want {want_allowed}", x.allowed()));
            continue;
        }
        if want_allowed {
            let status = x
                .paths
                .iter()
                .map(|p| p.status)
                .max()
                .map(|s| s.as_str().to_string());
            if q.status.is_some() && status != q.status {
                failures.push(format!(
                    "{name} query {i}: explain status {status:?}, want {:?}",
                    q.status
                ));
            }
        } else {
            let first = x.attempts.first();
            let hop = first.map(|a| a.hop.as_str().to_string());
            let by = first.map(|a| a.blocked_by().to_string());
            if hop != q.blocked_hop || by != q.blocked_by {
                failures.push(format!(
                    "{name} query {i}: explain blocked at {hop:?} by {by:?} ({}), want {:?} by {:?}",
                    first.map(|a| a.block.message.as_str()).unwrap_or("no attempt"),
                    q.blocked_hop,
                    q.blocked_by
                ));
            }
        }
    }
    failures
}

fn scenario_dirs() -> Vec<std::path::PathBuf> {
    let root = support::root().join("tests/fixtures/scenarios");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("snapshot.json").is_file())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 20,
        "expected the scenario fixtures under {}",
        root.display()
    );
    dirs
}

#[test]
fn scenarios_answer_as_expected() {
    let failures: Vec<String> = scenario_dirs()
        .iter()
        .flat_map(|d| check_scenario(d))
        .collect();
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn smoke() {
    let failures = check_scenario(&support::root().join("tests/fixtures/scenarios/smoke"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn scenario_exports_are_stable_and_parse() {
    let mut mermaid = Vec::new();
    insta::glob!("../fixtures/scenarios", "*/snapshot.json", |path| {
        let name = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let inventory = collect::load_file(path).unwrap();
        let g = graph::build(&inventory, &BuildOptions::default());
        let (dot, _) = export::to_dot(&g);
        let (mmd, _) = export::to_mermaid(&g);
        let json = export::graph_json(&g);
        // Graphviz lays every scenario out, with no error or warning.
        support::assert_dot_lays_out(&dot);
        insta::assert_snapshot!("dot", dot);
        insta::assert_snapshot!("mermaid", mmd.clone());
        insta::assert_snapshot!("json", json);
        mermaid.push((name, mmd));
    });
    let refs: Vec<(&str, &str)> = mermaid
        .iter()
        .map(|(n, m)| (n.as_str(), m.as_str()))
        .collect();
    support::assert_mermaid_parses(&refs);
}
