//! `rolechain report`: the pages of the example, their determinism, the bundled and split
//! diagrams (each within Mermaid's limits and accepted by Mermaid's parser), the who-can table
//! against `who_can`, the committed `output/report/`, the output directory's rules, and the site
//! built by MkDocs and drawn by Chromium.
//!
//! The checks that run Mermaid's parser, MkDocs or Chromium are skipped, with a line on stderr,
//! when those tools are not installed, unless `ROLECHAIN_REQUIRE_TOOLS=1`
//! (`support::tool_available`).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use insta_cmd::get_cargo_bin;
use rolechain::analysis;
use rolechain::collect;
use rolechain::export::mermaid::{MAX_EDGES, MAX_TEXT_SIZE};
use rolechain::export::report::{self, MARKER, MERMAID_URL, Page, Report, in_who_can, path_plane};
use rolechain::graph::{self, AccessGraph, BuildOptions};
use rolechain::model::Inventory;

use crate::support::{self, Tool, tool_available};
use crate::synth::org;

const EXAMPLE: &str = "examples/three-account-org/snapshot.json";
const STALE: &str = "is stale: run `bash output/regenerate.sh` and commit the result";

fn example() -> (Inventory, AccessGraph) {
    let inventory = collect::load_file(&support::root().join(EXAMPLE)).unwrap();
    let g = graph::build(&inventory, &BuildOptions::default());
    (inventory, g)
}

fn pages_of(inventory: &Inventory, g: &AccessGraph) -> Vec<Page> {
    report::pages(&Report::new(inventory, g)).unwrap()
}

fn page<'p>(pages: &'p [Page], path: &str) -> &'p str {
    let found = pages
        .iter()
        .find(|p| p.path == path)
        .unwrap_or_else(|| panic!("no page `{path}`"));
    std::str::from_utf8(&found.bytes).unwrap()
}

/// Every Mermaid block of a Markdown text.
fn mermaid_blocks(text: &str) -> Vec<&str> {
    text.split("```mermaid\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap())
        .collect()
}

fn edges_of(diagram: &str) -> usize {
    diagram
        .lines()
        .filter(|l| ["-->", "==>", "-.->", "--x"].iter().any(|a| l.contains(a)))
        .count()
}

/// Checks every Mermaid block of the pages against Mermaid's limits and parser; returns how
/// many there are.
#[track_caller]
fn assert_diagrams_drawable(pages: &[Page]) -> usize {
    let mut named = Vec::new();
    for p in pages.iter().filter(|p| p.path.ends_with(".md")) {
        let text = std::str::from_utf8(&p.bytes).unwrap();
        for (i, block) in mermaid_blocks(text).into_iter().enumerate() {
            let size = block.encode_utf16().count();
            let edges = edges_of(block);
            assert!(
                size <= MAX_TEXT_SIZE && edges <= MAX_EDGES,
                "{} diagram {i}: {edges} edges, {size} characters",
                p.path
            );
            named.push((format!("{}-{i}", p.path.replace('/', "_")), block));
        }
    }
    let refs: Vec<(&str, &str)> = named.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    support::assert_mermaid_parses(&refs);
    named.len()
}

#[test]
fn report_of_the_example_has_every_page() {
    let (inventory, g) = example();
    let pages = pages_of(&inventory, &g);
    let paths: Vec<&str> = pages.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            MARKER,
            "docs/accounts/111111111111.md",
            "docs/accounts/222222222222.md",
            "docs/accounts/333333333333.md",
            "docs/findings.md",
            "docs/index.md",
            "docs/javascripts/mermaid-init.js",
            "docs/services/111111111111-batch-reporting-batch.md",
            "docs/services/111111111111-prod-legacy-admin.md",
            "docs/services/111111111111-prod-notifications.md",
            "docs/services/111111111111-prod-payments-worker.md",
            "docs/services/111111111111-prod-web-api.md",
            "docs/who-can.md",
            "docs/who-can/111111111111.md",
            "docs/who-can/222222222222.md",
            "docs/who-can/333333333333.md",
            "mkdocs.yml",
        ]
    );
    // One who-can page per account, each linked from the who-can index.
    let who_can = page(&pages, "docs/who-can.md");
    for account in ["111111111111", "222222222222", "333333333333"] {
        assert!(
            who_can.contains(&format!("(who-can/{account}.md)")),
            "{who_can}"
        );
    }
    let index = page(&pages, "docs/index.md");
    for link in [
        "(accounts/111111111111.md)",
        "(services/111111111111-prod-web-api.md)",
        "(who-can.md)",
        "(findings.md)",
    ] {
        assert!(index.contains(link), "the index lacks {link}");
    }
    assert!(index.contains("| high |"), "{index}");
    let mkdocs = page(&pages, "mkdocs.yml");
    assert!(mkdocs.contains("docs_dir: docs\n") && mkdocs.contains(MERMAID_URL));
    assert!(mkdocs.contains("javascripts/mermaid-init.js"));
    assert!(!mkdocs.contains("plugins:"), "the site needs no plugin");
    let findings = page(&pages, "docs/findings.md");
    assert!(
        findings.contains("`launch-secret-unreadable`"),
        "{findings}"
    );
}

#[test]
fn report_is_deterministic() {
    let (inventory, g) = example();
    let first = pages_of(&inventory, &g);
    let (inventory, g) = example();
    assert!(first == pages_of(&inventory, &g), "two reports differ");
}

#[test]
fn account_overview_bundles_parallel_edges_and_has_a_legend() {
    let (inventory, g) = example();
    let pages = pages_of(&inventory, &g);
    let account = page(&pages, "docs/accounts/111111111111.md");
    let blocks = mermaid_blocks(account);
    assert_eq!(blocks.len(), 1, "the example's overview is one diagram");
    let overview = blocks[0];
    assert!(overview.contains("|\"5 execution roles pull from 5 repositories\"|"));
    assert!(overview.contains("|\"4 containers pull from 4 repositories\"|"));
    // The full graph draws 37 cross-account edges; bundled, a handful remain.
    let cross = overview.lines().filter(|l| l.contains("==>")).count();
    assert!(cross <= 12, "{cross} cross-account edges:\n{overview}");
    for page in pages.iter().filter(|p| p.path.ends_with(".md")) {
        for block in mermaid_blocks(std::str::from_utf8(&page.bytes).unwrap()) {
            assert!(
                block.contains("subgraph legend[\"legend\"]"),
                "{}: a diagram without a legend",
                page.path
            );
        }
    }
}

#[test]
fn service_page_shows_roles_chains_and_blocked_references() {
    let (inventory, g) = example();
    let pages = pages_of(&inventory, &g);
    let batch = page(
        &pages,
        "docs/services/111111111111-batch-reporting-batch.md",
    );
    assert!(batch.contains("`reporting-batch-task`") && batch.contains("`reporting-batch-exec`"));
    // The task role assumes a role of the data account, which reads the warehouse endpoint.
    assert!(batch.contains("assumes `analytics-readonly`"), "{batch}");
    let blocked = batch.split("## Blocked references").nth(1).unwrap();
    assert!(
        blocked.contains("- injects `reporting-batch:8#report` → `prod/reporting/warehouse-credentials`: blocked by "),
        "{blocked}"
    );
    assert!(mermaid_blocks(batch)[0].contains("injects (denied)"));
    let payments = page(&pages, "docs/services/111111111111-prod-payments-worker.md");
    assert!(payments.contains("None: ECS can deliver every"));
}

#[test]
fn every_diagram_is_within_limits_and_parses() {
    let (inventory, g) = example();
    let count = assert_diagrams_drawable(&pages_of(&inventory, &g));
    assert_eq!(count, 3 + 5, "one diagram per account and per service");
}

/// The who-can table, from one reach over every source, answers as `who_can` for each resource.
#[test]
fn who_can_table_matches_who_can_for_every_resource() {
    let (inventory, g) = example();
    let report = Report::new(&inventory, &g);
    let mut checked = 0;
    for (id, &ix) in &g.index {
        if !in_who_can(g.graph[ix].kind) {
            continue;
        }
        let mut expected: Vec<_> = analysis::who_can(&g, ix, None)
            .iter()
            .map(|p| {
                (
                    g.index[&p.source],
                    path_plane(p),
                    p.status,
                    p.cross_account,
                    p.hops.len(),
                )
            })
            .collect();
        expected.sort_by_key(|r| (r.0, r.1));
        let rows: Vec<_> = report
            .who_can(id)
            .unwrap()
            .iter()
            .map(|r| (r.source, r.plane, r.status, r.cross_account, r.hops))
            .collect();
        assert_eq!(rows, expected, "{id}");
        checked += 1;
    }
    assert!(checked >= 10, "{checked} resources");
}

#[test]
fn example_report_is_fresh() {
    let (inventory, g) = example();
    let pages = pages_of(&inventory, &g);
    let dir = support::root().join("output/report");
    for p in &pages {
        let committed = std::fs::read(dir.join(&p.path))
            .unwrap_or_else(|e| panic!("output/report/{} {STALE} ({e})", p.path));
        assert!(committed == p.bytes, "output/report/{} {STALE}", p.path);
    }
    let expected: BTreeSet<String> = pages.iter().map(|p| p.path.clone()).collect();
    let mut found = BTreeSet::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(&dir).unwrap().to_string_lossy();
                found.insert(rel.replace('\\', "/"));
            }
        }
    }
    let extra: Vec<_> = found.difference(&expected).collect();
    assert!(
        extra.is_empty(),
        "output/report has files the report does not write: {extra:?}"
    );
}

/// An organization of many accounts: the shared-services account, whose repositories and keys
/// every workload account uses, has an overview beyond Mermaid's limits in one diagram, so it is
/// split into one diagram per service and per account pair, each drawable.
#[test]
fn large_account_overview_is_split_into_drawable_parts() {
    let config = org::Config {
        accounts: 96,
        roles_per_account: 4,
        services_per_account: 2,
        resources_per_account: 8,
        seed: 3,
    };
    let (bytes, _) = org::to_vec(&config).unwrap();
    let inventory = collect::load_str(std::str::from_utf8(&bytes).unwrap(), "synth.json").unwrap();
    let g = graph::build(&inventory, &BuildOptions::default());
    let pages = pages_of(&inventory, &g);
    let split: Vec<&Page> = pages
        .iter()
        .filter(|p| p.path.starts_with("docs/accounts/"))
        .filter(|p| {
            std::str::from_utf8(&p.bytes)
                .unwrap()
                .contains("so it is drawn in parts")
        })
        .collect();
    assert!(!split.is_empty(), "no account overview was split");
    for p in &split {
        let text = std::str::from_utf8(&p.bytes).unwrap();
        // The shared-services account runs no service: its parts are one per account pair.
        let parts = text.matches("\n### With ").count();
        assert!(parts >= 2, "{}: {parts} parts", p.path);
        assert!(mermaid_blocks(text).len() >= parts, "{}", p.path);
        assert!(
            !text.contains("so it is not drawn"),
            "{}: a part is too large",
            p.path
        );
    }
    assert_diagrams_drawable(&pages);
}

/// An account that runs an ECS service whose task role reads a bucket in each of 600 other
/// accounts: its overview has more edges than Mermaid draws, so it is drawn in parts, first the
/// service's own edges, then one part per account it has edges with, each drawable.
#[test]
fn large_account_overview_is_split_per_service_then_per_account_pair() {
    use serde_json::json;
    const HOME: &str = "111111111111";
    const OTHERS: u64 = 600;
    let role = |name: &str, statements: serde_json::Value| {
        json!({"Arn": format!("arn:aws:iam::{HOME}:role/{name}"), "RoleName": name, "Path": "/",
               "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                   {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
               "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}]})
    };
    let mut accounts = vec![json!({
        "id": HOME,
        "iam": {"RoleDetailList": [
            role("web-task", json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}])),
            role("web-exec", json!([{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]))
        ]},
        "regions": {"us-east-1": {"ecs": {
            "clusters": [{"clusterArn": format!("arn:aws:ecs:us-east-1:{HOME}:cluster/main"), "clusterName": "main"}],
            "services": [{"serviceArn": format!("arn:aws:ecs:us-east-1:{HOME}:service/main/web"), "serviceName": "web",
                          "clusterArn": format!("arn:aws:ecs:us-east-1:{HOME}:cluster/main"),
                          "taskDefinition": format!("arn:aws:ecs:us-east-1:{HOME}:task-definition/web:1"), "launchType": "FARGATE"}],
            "task_definitions": [{"taskDefinitionArn": format!("arn:aws:ecs:us-east-1:{HOME}:task-definition/web:1"),
                                  "family": "web", "revision": 1,
                                  "taskRoleArn": format!("arn:aws:iam::{HOME}:role/web-task"),
                                  "executionRoleArn": format!("arn:aws:iam::{HOME}:role/web-exec"),
                                  "containerDefinitions": [{"name": "app", "image": "public.ecr.aws/nginx/nginx:1"}]}]
        }}}
    })];
    for n in 0..OTHERS {
        let id = format!("{}", 200_000_000_000 + n);
        accounts.push(json!({
            "id": id,
            "s3_buckets": [{"Name": format!("data-{id}"), "Region": "us-east-1",
                "Policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{HOME}:root")},
                    "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::data-{id}/*")}]}}]
        }));
    }
    let snapshot = json!({"schema": "rolechain.snapshot/v1", "accounts": accounts});
    let inventory = collect::load_str(&snapshot.to_string(), "many-accounts.json").unwrap();
    let g = graph::build(&inventory, &BuildOptions::default());
    let pages = pages_of(&inventory, &g);
    let home = pages
        .iter()
        .find(|p| p.path == format!("docs/accounts/{HOME}.md"))
        .unwrap();
    let text = std::str::from_utf8(&home.bytes).unwrap();
    assert!(text.contains("so it is drawn in parts"), "{text}");
    assert_eq!(text.matches("\n### ECS service web\n").count(), 1, "{text}");
    let pairs = text.matches("\n### With ").count();
    assert_eq!(pairs as u64, OTHERS, "one part per other account");
    assert!(!text.contains("so it is not drawn"), "a part is too large");
    assert!(mermaid_blocks(text).len() > pairs);
    assert_diagrams_drawable(&pages);
}

fn rolechain() -> Command {
    let mut c = Command::new(get_cargo_bin("rolechain"));
    c.env_remove("ROLECHAIN_SNAPSHOT").env("NO_COLOR", "1");
    c
}

fn run_report(dir: &Path) -> std::process::Output {
    rolechain()
        .args(["-q", "report", "--snapshot"])
        .arg(support::root().join(EXAMPLE))
        .arg("-o")
        .arg(dir)
        .output()
        .unwrap()
}

#[test]
fn report_directory_is_created_replaced_or_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("site");
    let out = run_report(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join(MARKER).is_file() && dir.join("docs/index.md").is_file());

    // An earlier report is replaced whole: a file it did not write is gone.
    std::fs::write(dir.join("docs/stray.md"), "old").unwrap();
    let out = run_report(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.join("docs/stray.md").exists());
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["site"], "temporary directories were left");

    // An empty directory is filled.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(run_report(&empty).status.success());
    assert!(empty.join("mkdocs.yml").is_file());

    // Any other directory, or a file, is refused with exit 2, naming the path.
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    let file = tmp.path().join("file.md");
    std::fs::write(&file, "x").unwrap();
    let missing = tmp.path().join("no/such/dir");
    for path in [&other, &file, &missing] {
        let out = run_report(path);
        assert_eq!(out.status.code(), Some(2), "{}", path.display());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("`{}`", path.display())),
            "{stderr}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(other.join("notes.txt")).unwrap(),
        "mine"
    );
}

/// The report as MkDocs builds it (no plugins, Mermaid from a local copy, since the tests have
/// no network), opened page by page in headless Chromium: every diagram is drawn as an SVG and
/// none shows Mermaid's error or size placeholder.
#[test]
fn report_site_builds_with_mkdocs_and_draws_in_chromium() {
    if !tool_available(Tool::ReportSite) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("report");
    let out = run_report(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mermaid = support::root().join("tools/mermaid/node_modules/mermaid/dist/mermaid.min.js");
    std::fs::copy(&mermaid, dir.join("docs/javascripts/mermaid.min.js")).unwrap();
    let yml = std::fs::read_to_string(dir.join("mkdocs.yml")).unwrap();
    assert!(yml.contains(MERMAID_URL));
    std::fs::write(
        dir.join("mkdocs.yml"),
        yml.replace(MERMAID_URL, "javascripts/mermaid.min.js"),
    )
    .unwrap();
    let site = tmp.path().join("site");
    let built = Command::new(support::root().join("tools/report/.venv/bin/mkdocs"))
        .args(["build", "--strict", "--quiet", "-f"])
        .arg(dir.join("mkdocs.yml"))
        .arg("-d")
        .arg(&site)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "mkdocs build failed:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let checked = Command::new("node")
        .arg(support::root().join("tools/report/check.mjs"))
        .arg(&site)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success(),
        "Chromium did not draw every diagram:\n{stdout}{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(
        stdout.contains("ok accounts/111111111111.html (1 diagrams)")
            && stdout.contains("ok services/111111111111-batch-reporting-batch.html (1 diagrams)"),
        "{stdout}"
    );
}
