//! Scenario fixtures: each `tests/fixtures/scenarios/<name>/` is a tiny organization with the
//! queries and answers its `expect.json` lists. Adding a scenario needs no code.
//!
//! Every scenario's graph is also exported as DOT, Mermaid and JSON and snapshotted with insta,
//! and checked by Graphviz and by Mermaid's own parser where they are installed
//! (`support::tool_available`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rolechain::analysis;
use rolechain::collect;
use rolechain::export::GraphFormat;
use rolechain::graph::{self, AccessGraph, BuildOptions};
use rolechain::model::Inventory;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::support::{self, exported};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    description: String,
    rules: Vec<String>,
    queries: Vec<Query>,
}

/// One query of `expect.json`. Which of `who_can`, `reach` and `explain` it holds decides its
/// kind; a query with none or several of them, or with a field its kind does not take, is an
/// error.
enum Query {
    WhoCan(WhoCanQuery),
    Reach(ReachQuery),
    Explain(ExplainQuery),
}

/// `{"who_can": <resource id>, "actions"?: [...], "paths": [...]}`
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WhoCanQuery {
    who_can: String,
    actions: Option<Vec<String>>,
    paths: Vec<ExpectedPath>,
}

/// `{"reach": <source id or "*">, "to"?: <resource id>, "actions"?: [...], "paths": [...]}`
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReachQuery {
    reach: String,
    to: Option<String>,
    actions: Option<Vec<String>>,
    paths: Vec<ExpectedPath>,
}

/// `{"explain": {"from", "to", "action"?}, "allowed": true, "status"?: ...}` or
/// `{"explain": {...}, "allowed": false, "blocked_hop": ..., "blocked_by": ...}`.
#[derive(Deserialize)]
#[serde(try_from = "RawExplainQuery")]
struct ExplainQuery {
    explain: ExplainTarget,
    answer: ExplainAnswer,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExplainQuery {
    explain: ExplainTarget,
    allowed: bool,
    status: Option<String>,
    blocked_hop: Option<String>,
    blocked_by: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExplainTarget {
    from: String,
    to: String,
    action: Option<String>,
}

enum ExplainAnswer {
    /// Allowed; with a status, the weakest status of the paths found.
    Allowed { status: Option<String> },
    /// Denied: the first attempt is blocked at this hop kind, by this `blocked_by` word.
    Blocked { hop: String, by: String },
}

impl TryFrom<RawExplainQuery> for ExplainQuery {
    type Error = String;

    fn try_from(raw: RawExplainQuery) -> Result<Self, String> {
        let RawExplainQuery {
            explain,
            allowed,
            status,
            blocked_hop,
            blocked_by,
        } = raw;
        let answer = match (allowed, status, blocked_hop, blocked_by) {
            (true, status, None, None) => ExplainAnswer::Allowed { status },
            (true, ..) => {
                return Err(
                    "an `explain` query with `\"allowed\": true` takes `status`, not `blocked_hop` or `blocked_by`"
                        .to_owned(),
                );
            }
            (false, None, Some(hop), Some(by)) => ExplainAnswer::Blocked { hop, by },
            (false, ..) => {
                return Err(
                    "an `explain` query with `\"allowed\": false` needs `blocked_hop` and `blocked_by`, and takes no `status`"
                        .to_owned(),
                );
            }
        };
        Ok(ExplainQuery { explain, answer })
    }
}

impl<'de> Deserialize<'de> for Query {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        let kinds: Vec<&str> = ["who_can", "reach", "explain"]
            .into_iter()
            .filter(|k| map.contains_key(*k))
            .collect();
        let value = Value::Object(map);
        let query = match kinds.as_slice() {
            ["who_can"] => serde_json::from_value(value).map(Query::WhoCan),
            ["reach"] => serde_json::from_value(value).map(Query::Reach),
            ["explain"] => serde_json::from_value(value).map(Query::Explain),
            [] => {
                return Err(D::Error::custom(
                    "a query needs one of `who_can`, `reach` and `explain`",
                ));
            }
            several => {
                return Err(D::Error::custom(format!(
                    "a query takes one of `who_can`, `reach` and `explain`, not `{}`",
                    several.join("` and `")
                )));
            }
        };
        query.map_err(D::Error::custom)
    }
}

impl Query {
    /// The actions the graph is built for; `None` for each resource type's default actions.
    fn actions(&self) -> Option<Vec<String>> {
        match self {
            Query::WhoCan(q) => q.actions.clone(),
            Query::Reach(q) => q.actions.clone(),
            Query::Explain(q) => q.explain.action.clone().map(|a| vec![a]),
        }
    }
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

/// Reads a scenario directory: its snapshot and its `expect.json`, both required.
fn load_scenario(dir: &Path) -> Result<(Inventory, Expect), String> {
    for file in ["snapshot.json", "expect.json"] {
        if !dir.join(file).is_file() {
            return Err(format!(
                "no `{file}`: every scenario directory needs `snapshot.json` and `expect.json` (tests/fixtures/scenarios/README.md)"
            ));
        }
    }
    let inventory = collect::load_file(&dir.join("snapshot.json")).map_err(|e| format!("{e:#}"))?;
    let text = std::fs::read_to_string(dir.join("expect.json"))
        .map_err(|e| format!("reading `expect.json`: {e}"))?;
    let expect: Expect =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(&text))
            .map_err(|e| format!("`expect.json` at `{}`: {}", e.path(), e.inner()))?;
    if expect.description.is_empty() || expect.rules.is_empty() || expect.queries.is_empty() {
        return Err(
            "`expect.json` needs a `description`, the `rules` it checks and at least one query"
                .to_owned(),
        );
    }
    Ok((inventory, expect))
}

/// Runs one scenario's queries and returns the failures, one line each, each naming the
/// scenario and, where it is about one, the query (by its index in `queries`).
pub(crate) fn check_scenario(dir: &Path) -> Vec<String> {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let (inventory, expect) = match load_scenario(dir) {
        Ok(loaded) => loaded,
        Err(e) => return vec![format!("scenario `{name}`: {e}")],
    };
    expect
        .queries
        .iter()
        .enumerate()
        .filter_map(|(i, query)| {
            check_query(&inventory, query)
                .err()
                .map(|e| format!("scenario `{name}` query {i}: {e}"))
        })
        .collect()
}

/// Runs one query; the error says how the answer differs from the expected one.
fn check_query(inventory: &Inventory, query: &Query) -> Result<(), String> {
    let g = graph::build(
        inventory,
        &BuildOptions {
            actions: query.actions(),
            ..BuildOptions::default()
        },
    );
    let lookup = |id: &str| analysis::lookup(&g, id).map_err(|e| e.to_string());
    let (got, want) = match query {
        Query::WhoCan(q) => (analysis::who_can(&g, lookup(&q.who_can)?, None), &q.paths),
        Query::Reach(q) => {
            let sources = if q.reach == "*" {
                analysis::containers(&g)
            } else {
                analysis::resolve_sources(&g, &q.reach).map_err(|e| e.to_string())?
            };
            let to = q.to.as_deref().map(lookup).transpose()?;
            (analysis::reach(&g, &sources, to, None), &q.paths)
        }
        Query::Explain(q) => return check_explain(inventory, &g, q),
    };
    let want: BTreeSet<ExpectedPath> = want.iter().cloned().collect();
    let got = observed(&got);
    if got != want {
        return Err(format!(
            "paths differ\n missing:\n{}\n unexpected:\n{}",
            show(&want.difference(&got).cloned().collect()),
            show(&got.difference(&want).cloned().collect())
        ));
    }
    Ok(())
}

fn check_explain(inventory: &Inventory, g: &AccessGraph, q: &ExplainQuery) -> Result<(), String> {
    let actions = q.explain.action.clone().map(|a| vec![a]);
    let x = analysis::explain(
        inventory,
        g,
        &q.explain.from,
        &q.explain.to,
        actions.as_deref(),
        None,
    )
    .map_err(|e| e.to_string())?;
    let first = x.attempts.first();
    match &q.answer {
        ExplainAnswer::Allowed { status } => {
            if !x.allowed() {
                let first = first
                    .map(|a| format!("{} {}: {}", a.hop.as_str(), a.blocked_by(), a.block.message));
                return Err(format!(
                    "explain is denied (first attempt {first:?}), want allowed"
                ));
            }
            let got = x.paths.iter().map(|p| p.status).max().map(|s| s.as_str());
            if status.is_some() && got != status.as_deref() {
                return Err(format!("explain status {got:?}, want {status:?}"));
            }
        }
        ExplainAnswer::Blocked { hop, by } => {
            if x.allowed() {
                return Err("explain is allowed, want denied".to_owned());
            }
            let got_hop = first.map(|a| a.hop.as_str());
            let got_by = first.map(|a| a.blocked_by());
            if got_hop != Some(hop.as_str()) || got_by != Some(by.as_str()) {
                return Err(format!(
                    "explain blocked at {got_hop:?} by {got_by:?} ({}), want {hop:?} by {by:?}",
                    first.map_or("no attempt".to_string(), |a| a.block.message.to_string()),
                ));
            }
        }
    }
    Ok(())
}

/// Every directory under `tests/fixtures/scenarios`, each of which must be a scenario; a file
/// other than the README there is an error too.
pub(crate) fn scenario_dirs() -> Vec<PathBuf> {
    let root = support::root().join("tests/fixtures/scenarios");
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            dirs.push(path);
        } else {
            assert!(
                path.file_name().is_some_and(|n| n == "README.md"),
                "`{}` is not a scenario directory: scenarios are directories with `snapshot.json` and `expect.json`",
                path.display()
            );
        }
    }
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

/// A malformed scenario is a failure that names the scenario and the query: a typo in a field,
/// a query of two kinds or of none, a field of another kind, an `explain` answer that is half
/// there, and a directory without one of its two files.
#[test]
fn malformed_scenarios_are_errors_naming_the_scenario_and_query() {
    let smoke = support::root().join("tests/fixtures/scenarios/smoke");
    let secret = "arn:aws:secretsmanager:us-east-1:111111111111:secret:app/api-key-Xp4Rt2";
    let container = "arn:aws:ecs:us-east-1:111111111111:task-definition/app:1#app";
    let explain = serde_json::json!({"from": container, "to": secret});
    let good = serde_json::json!({"who_can": secret, "paths": []});
    let cases = [
        (
            "typo",
            serde_json::json!({"who_can": secret, "path": []}),
            "unknown field `path`",
        ),
        (
            "mixed",
            serde_json::json!({"who_can": secret, "explain": explain, "paths": []}),
            "not `who_can` and `explain`",
        ),
        (
            "no-kind",
            serde_json::json!({"paths": []}),
            "a query needs one of `who_can`, `reach` and `explain`",
        ),
        (
            "field-of-another-kind",
            serde_json::json!({"who_can": secret, "to": secret, "paths": []}),
            "unknown field `to`",
        ),
        (
            "missing-paths",
            serde_json::json!({"reach": "*"}),
            "missing field `paths`",
        ),
        (
            "half-an-answer",
            serde_json::json!({"explain": explain, "allowed": false, "blocked_hop": "accesses"}),
            "needs `blocked_hop` and `blocked_by`",
        ),
        (
            "allowed-and-blocked",
            serde_json::json!({"explain": explain, "allowed": true, "blocked_by": "identity"}),
            "takes `status`, not `blocked_hop` or `blocked_by`",
        ),
    ];
    let root = tempfile::tempdir().unwrap();
    for (name, query, message) in cases {
        let dir = root.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        std::fs::copy(smoke.join("snapshot.json"), dir.join("snapshot.json")).unwrap();
        let expect = serde_json::json!({
            "description": "A malformed query after a good one.",
            "rules": ["R4.2"],
            "queries": [good, query],
        });
        std::fs::write(dir.join("expect.json"), expect.to_string()).unwrap();
        let failures = check_scenario(&dir);
        assert!(
            failures.len() == 1
                && failures[0].starts_with(&format!(
                    "scenario `{name}`: `expect.json` at `queries[1]`: "
                ))
                && failures[0].contains(message),
            "{name}: {failures:?}"
        );
    }
    for missing in ["snapshot.json", "expect.json"] {
        let dir = root.path().join(format!("without-{missing}"));
        std::fs::create_dir(&dir).unwrap();
        for file in ["snapshot.json", "expect.json"] {
            if file != missing {
                std::fs::copy(smoke.join(file), dir.join(file)).unwrap();
            }
        }
        let failures = check_scenario(&dir);
        assert_eq!(
            failures,
            [format!(
                "scenario `without-{missing}`: no `{missing}`: every scenario directory needs `snapshot.json` and `expect.json` (tests/fixtures/scenarios/README.md)"
            )]
        );
    }
}

/// Every scenario's DOT, Mermaid and JSON exports match their snapshots, and a second build of
/// the same snapshot exports the same bytes.
#[test]
fn scenario_exports_are_stable() {
    insta::glob!("../fixtures/scenarios", "*/snapshot.json", |path| {
        let inventory = collect::load_file(path).unwrap();
        let g = graph::build(&inventory, &BuildOptions::default());
        let (dot, _) = exported(&g, GraphFormat::Dot);
        let (mmd, _) = exported(&g, GraphFormat::Mermaid);
        let (json, _) = exported(&g, GraphFormat::Json);
        let again = graph::build(&inventory, &BuildOptions::default());
        assert!(
            exported(&again, GraphFormat::Dot).0 == dot
                && exported(&again, GraphFormat::Mermaid).0 == mmd
                && exported(&again, GraphFormat::Json).0 == json,
            "building `{}` twice gives different exports",
            path.display()
        );
        insta::assert_snapshot!("dot", dot);
        insta::assert_snapshot!("mermaid", mmd);
        insta::assert_snapshot!("json", json);
    });
}

/// Graphviz lays every scenario's DOT out with no error or warning, and Mermaid's own parser
/// accepts every scenario's Mermaid. Skipped, with a line on stderr, when the tools are not
/// installed, unless `ROLECHAIN_REQUIRE_TOOLS=1`.
#[test]
fn scenario_exports_parse() {
    let mut mermaid = Vec::new();
    for dir in scenario_dirs() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let inventory = collect::load_file(&dir.join("snapshot.json"))
            .unwrap_or_else(|e| panic!("scenario `{name}`: {e:#}"));
        let g = graph::build(&inventory, &BuildOptions::default());
        support::assert_dot_lays_out(&exported(&g, GraphFormat::Dot).0);
        mermaid.push((name, exported(&g, GraphFormat::Mermaid).0));
    }
    let refs: Vec<(&str, &str)> = mermaid
        .iter()
        .map(|(n, m)| (n.as_str(), m.as_str()))
        .collect();
    support::assert_mermaid_parses(&refs);
}
