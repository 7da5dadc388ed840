//! The collector's IAM policy: `docs/collector-policy.json` must allow every operation the code
//! calls, and only read-only ones.

use std::collections::BTreeSet;

use rolechain::collect::aws::OPERATIONS;

use crate::support;

/// `FooBar` from `foo_bar`, as the SDK names operations in snake case.
fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Every operation the collector's source sends: the first method of each builder chain that
/// ends in `.send()` or `.into_paginator()`, and AssumeRole where a refreshing
/// `AssumeRoleProvider` is built.
fn operations_in_source() -> BTreeSet<String> {
    let chain = regex::Regex::new(
        r"(?s)\b[a-z_]+\s*\.\s*([a-z][a-z_]*)\(\)((?:\s*\.\s*[a-z_]+\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\))*)\s*\.\s*(?:send|into_paginator)\(\)",
    )
    .unwrap();
    let mut found = BTreeSet::new();
    let dir = support::root().join("src/collect/aws");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for c in chain.captures_iter(&text) {
            found.insert(pascal(&c[1]));
        }
        // `--org-role` assumes roles through aws-config's refreshing provider, not a chain.
        if text.contains("AssumeRoleProvider::builder(") {
            found.insert("AssumeRole".to_string());
        }
    }
    found
}

fn policy_actions() -> BTreeSet<String> {
    let text = std::fs::read_to_string(support::root().join("docs/collector-policy.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut actions = BTreeSet::new();
    for s in doc["Statement"].as_array().unwrap() {
        assert_eq!(s["Effect"], "Allow");
        for a in s["Action"].as_array().unwrap() {
            actions.insert(a.as_str().unwrap().to_string());
        }
    }
    actions
}

#[test]
fn collector_policy_allows_every_call_the_code_makes() {
    let table: BTreeSet<String> = OPERATIONS.iter().map(|o| o.operation.to_string()).collect();
    let source = operations_in_source();
    assert!(
        source.len() >= 25,
        "the scan found too few calls: {source:?}"
    );
    let missing: Vec<_> = source.difference(&table).collect();
    assert!(
        missing.is_empty(),
        "called but not in ops::OPERATIONS: {missing:?}"
    );
    let unused: Vec<_> = table.difference(&source).collect();
    assert!(
        unused.is_empty(),
        "in ops::OPERATIONS but never called: {unused:?}"
    );

    let policy = policy_actions();
    let needed: BTreeSet<String> = OPERATIONS
        .iter()
        .filter_map(|o| o.action.map(str::to_string))
        .collect();
    let not_allowed: Vec<_> = needed.difference(&policy).collect();
    assert!(
        not_allowed.is_empty(),
        "docs/collector-policy.json lacks {not_allowed:?}"
    );
    let extra: Vec<_> = policy.difference(&needed).collect();
    assert!(
        extra.is_empty(),
        "docs/collector-policy.json allows more than the collector needs: {extra:?}"
    );
}

#[test]
fn collector_policy_is_read_only() {
    for action in policy_actions() {
        let (_, name) = action.split_once(':').unwrap();
        assert!(
            ["Get", "List", "Describe"]
                .iter()
                .any(|p| name.starts_with(p))
                || action == "sts:AssumeRole",
            "`{action}` is not a read-only action"
        );
    }
}
