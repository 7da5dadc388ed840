//! `analysis::check` as a library: the three rules of docs/check.md on their fixture, the node
//! attributes selectors read, conditional paths under each default, actions that select paths by
//! their last hop, and selectors that match nothing.

use rolechain::analysis::{self, CheckError, CheckOptions, Report};
use rolechain::collect;
use rolechain::graph::{
    self, AccessGraph, Attributes, BuildOptions, EdgeKind, EdgeStatus, NodeKind,
};
use rolechain::model::Inventory;
use rolechain::model::rules::Position;

use crate::support::{self, GraphBuilder};

const FIXTURE: &str = "tests/fixtures/check/snapshot.json";

fn load(path: &str) -> (Inventory, AccessGraph) {
    let inventory = collect::load_file(&support::root().join(path)).unwrap();
    let g = graph::build(&inventory, &BuildOptions::default());
    (inventory, g)
}

/// Checks `rules` (the body of a rules file, after its `schema`) against a snapshot file.
#[track_caller]
fn check_on(path: &str, rules: &str, options: &CheckOptions) -> Result<Report, CheckError> {
    let (inventory, g) = load(path);
    let attributes = Attributes::new(&inventory, &g);
    let text = format!("schema = \"rolechain.rules/v1\"\n{rules}");
    let rules = collect::rules::parse_rules(&text, "rules.toml").unwrap();
    analysis::check(&g, &attributes, &rules, options)
}

/// (source, target, status) of each path.
fn pairs(paths: &[analysis::Path]) -> Vec<(&str, &str, &str)> {
    paths
        .iter()
        .map(|p| (p.source.as_str(), p.target.as_str(), p.status.as_str()))
        .collect()
}

const SHELL: &str = "arn:aws:ecs:us-east-1:222222222222:task-definition/debug-shell:2#shell";
const TOKEN: &str =
    "arn:aws:secretsmanager:us-east-1:333333333333:secret:analytics/warehouse-token-Qw34Er";
const WEB: &str = "arn:aws:ecs:us-east-1:111111111111:task-definition/web:12#app";
const WEB_DB: &str = "arn:aws:secretsmanager:us-east-1:111111111111:secret:web/db-Ab12Cd";

/// The three rules of docs/check.md: the debug shell of the Dev OU breaks the first, the other
/// two hold, and each finds what it is about.
#[test]
fn the_three_documented_rules() {
    let text =
        std::fs::read_to_string(support::root().join("tests/fixtures/check/rules.toml")).unwrap();
    let rules = collect::rules::parse_rules(&text, "rules.toml").unwrap();
    let (inventory, g) = load(FIXTURE);
    let report = analysis::check(
        &g,
        &Attributes::new(&inventory, &g),
        &rules,
        &CheckOptions::default(),
    )
    .unwrap();
    let [prod, billing, web] = report.results.as_slice() else {
        panic!("{report:?}")
    };
    // 1. No container outside the Prod OU reaches a secret tagged env=prod: three containers,
    //    one of them in Dev; three prod secrets, and not the dev copy of web/db.
    assert!(!prod.holds());
    assert_eq!((prod.sources, prod.targets), (1, 3));
    assert_eq!(pairs(&prod.paths), [(SHELL, TOKEN, "allowed")]);
    let hops: Vec<EdgeKind> = prod.paths[0].hops.iter().map(|h| h.kind).collect();
    assert_eq!(
        hops,
        [EdgeKind::TaskRole, EdgeKind::Assumes, EdgeKind::Accesses]
    );
    // 2. Only billing reaches billing/*: the other two containers do not.
    assert!(billing.holds());
    assert_eq!((billing.sources, billing.targets), (2, 1));
    assert!(billing.paths.is_empty());
    // 3. The web service reaches its database secret, through the ECS agent.
    assert!(web.holds());
    assert_eq!(pairs(&web.paths), [(WEB, WEB_DB, "allowed")]);
    assert_eq!(web.paths[0].hops[0].kind, EdgeKind::Injects);
    assert!(!report.holds());
    assert_eq!(report.violated().count(), 1);
    assert!(report.diagnostics.is_empty());
}

/// Tags come from the inventory, OUs from the organization (names included), services and
/// clusters from the graph's structure.
#[test]
fn attributes_carry_tags_units_services_and_clusters() {
    let (inventory, g) = load(FIXTURE);
    let a = Attributes::new(&inventory, &g);
    let tags = a.tags(TOKEN).unwrap();
    assert_eq!(tags.get("env").map(String::as_str), Some("prod"));
    assert_eq!(
        a.tags("arn:aws:iam::111111111111:role/billing-task")
            .and_then(|t| t.get("team"))
            .map(String::as_str),
        Some("billing")
    );
    assert_eq!(a.units("222222222222"), ["ou-c1h2-dev00001", "r-c1h2"]);
    assert_eq!(a.unit_name("ou-c1h2-dev00001"), Some("Dev"));
    assert_eq!(
        a.account_names("333333333333").collect::<Vec<_>>(),
        ["data-prod"]
    );
    let (shell, _) = g.node(SHELL).unwrap();
    let services: Vec<&str> = a
        .services(shell)
        .map(|s| g.graph[s].label.as_str())
        .collect();
    assert_eq!(services, ["debug-shell"]);
    let clusters: Vec<&str> = a
        .clusters(shell)
        .map(|c| g.graph[c].label.as_str())
        .collect();
    assert_eq!(clusters, ["dev"]);
    // A role runs in no service.
    let (role, _) = g
        .node("arn:aws:iam::222222222222:role/debug-shell-task")
        .unwrap();
    assert_eq!(a.services(role).count(), 0);
}

const CONDITIONAL: &str = "tests/fixtures/scenarios/assume-external-id-conditional/snapshot.json";
const APP: &str = "arn:aws:ecs:us-east-1:111111111111:task-definition/app:4#app";
const EXPORTS: &str = "arn:aws:s3:::acme-audit-exports";

/// The container reaches the bucket only through a trust that needs `sts:ExternalId`: a `never`
/// rule counts that conditional path, a `reach` rule does not, and either can be told otherwise.
#[test]
fn conditional_paths_count_for_never_and_not_for_reach_unless_told() {
    let rule = |expect: &str, extra: &str| {
        format!(
            "[[rule]]\nname = \"r\"\nexpect = \"{expect}\"\nfrom = {{ kind = \"container\" }}\nto = {{ id = \"{EXPORTS}\" }}\n{extra}"
        )
    };
    let options = CheckOptions::default();
    let never = check_on(CONDITIONAL, &rule("never", ""), &options).unwrap();
    assert_eq!(
        pairs(&never.results[0].paths),
        [(APP, EXPORTS, "conditional")]
    );
    assert!(!never.holds());
    let never = check_on(
        CONDITIONAL,
        &rule("never", "conditional = \"ignore\""),
        &options,
    )
    .unwrap();
    assert!(never.holds());
    assert_eq!(
        pairs(&never.results[0].uncounted),
        [(APP, EXPORTS, "conditional")]
    );
    let reach = check_on(CONDITIONAL, &rule("reach", ""), &options).unwrap();
    assert!(!reach.holds());
    assert!(reach.results[0].paths.is_empty());
    assert_eq!(
        pairs(&reach.results[0].uncounted),
        [(APP, EXPORTS, "conditional")]
    );
    let reach = check_on(
        CONDITIONAL,
        &rule("reach", "conditional = \"count\""),
        &options,
    )
    .unwrap();
    assert!(reach.holds());
}

/// A graph where the task role reads a secret, and a role it assumes may also write it: the
/// shortest path allows only the read.
fn read_and_write() -> AccessGraph {
    let mut b = GraphBuilder::new();
    b.node("c", NodeKind::Container, Some("111111111111"), "app", None)
        .node(
            "arn:aws:iam::111111111111:role/task",
            NodeKind::Role,
            Some("111111111111"),
            "task",
            None,
        )
        .node(
            "arn:aws:iam::111111111111:role/writer",
            NodeKind::Role,
            Some("111111111111"),
            "writer",
            None,
        )
        .node(
            "arn:aws:secretsmanager:us-east-1:111111111111:secret:s-AbCdEf",
            NodeKind::Secret,
            Some("111111111111"),
            "s",
            None,
        );
    b.edge(
        "c",
        "arn:aws:iam::111111111111:role/task",
        EdgeKind::TaskRole,
        EdgeStatus::Allowed,
    );
    b.edge(
        "arn:aws:iam::111111111111:role/task",
        "arn:aws:iam::111111111111:role/writer",
        EdgeKind::Assumes,
        EdgeStatus::Allowed,
    );
    b.edge(
        "arn:aws:iam::111111111111:role/task",
        "arn:aws:secretsmanager:us-east-1:111111111111:secret:s-AbCdEf",
        EdgeKind::Accesses,
        EdgeStatus::Allowed,
    )
    .actions = vec!["secretsmanager:GetSecretValue".into()].into();
    b.edge(
        "arn:aws:iam::111111111111:role/writer",
        "arn:aws:secretsmanager:us-east-1:111111111111:secret:s-AbCdEf",
        EdgeKind::Accesses,
        EdgeStatus::Allowed,
    )
    .actions = vec![
        "secretsmanager:GetSecretValue".into(),
        "secretsmanager:PutSecretValue".into(),
    ]
    .into();
    b.finish()
}

/// `actions` selects paths by what their last hop allows, so the shorter read-only path does
/// not hide the longer one that writes; an action the graph did not evaluate is an error.
#[test]
fn actions_select_paths_by_their_last_hop() {
    let g = read_and_write();
    let attributes = Attributes::new(&Inventory::default(), &g);
    let rules = |actions: &str| {
        collect::rules::parse_rules(
            &format!("schema = \"rolechain.rules/v1\"\n[[rule]]\nname = \"no-writes\"\nexpect = \"never\"\nfrom = {{ kind = \"container\" }}\nto = {{ kind = \"secret\" }}\nactions = [{actions}]\n"),
            "rules.toml",
        )
        .unwrap()
    };
    let built = CheckOptions {
        actions: Some(vec![
            "secretsmanager:GetSecretValue".into(),
            "secretsmanager:PutSecretValue".into(),
        ]),
        allow_empty: false,
    };
    let report =
        analysis::check(&g, &attributes, &rules("\"secretsmanager:Put*\""), &built).unwrap();
    let path = &report.results[0].paths[0];
    let hops: Vec<&str> = path.hops.iter().map(|h| h.to.as_str()).collect();
    assert_eq!(
        hops,
        [
            "arn:aws:iam::111111111111:role/task",
            "arn:aws:iam::111111111111:role/writer",
            "arn:aws:secretsmanager:us-east-1:111111111111:secret:s-AbCdEf"
        ]
    );
    // Without the actions the shortest path is the read.
    let report = analysis::check(
        &g,
        &attributes,
        &rules("\"secretsmanager:GetSecretValue\""),
        &built,
    )
    .unwrap();
    assert_eq!(report.results[0].paths[0].hops.len(), 2);
    // With the default actions, `DeleteSecret` was never evaluated (no edge carries it either): a
    // rule about it would hold for want of evaluation, so it is an error at the action.
    let e = analysis::check(
        &g,
        &attributes,
        &rules("\"secretsmanager:DeleteSecret\""),
        &CheckOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "`rules.toml:7:12`: rule `no-writes`: action `secretsmanager:DeleteSecret` is not evaluated on the resources `to` matches; pass it with `--action`"
    );
}

/// Every test must match some node, wherever it stands; each side must match a source or a
/// resource. With `allow_empty` these are warnings and the rules run as written.
#[test]
fn selectors_that_match_nothing_are_errors_unless_allowed() {
    let body = "[[rule]]\nname = \"r\"\nexpect = \"never\"\nfrom = { kind = \"container\", not = { id = \"arn:aws:iam::111111111111:role/web-tsk\" } }\nto = { kind = \"secret\" }\n";
    let e = check_on(FIXTURE, body, &CheckOptions::default()).unwrap_err();
    let CheckError::Empty {
        at, suggestions, ..
    } = &e;
    assert_eq!(
        *at,
        Position {
            line: 5,
            column: 43
        }
    );
    assert_eq!(suggestions, &["arn:aws:iam::111111111111:role/web-task"]);
    let allowed = CheckOptions {
        allow_empty: true,
        ..CheckOptions::default()
    };
    let report = check_on(FIXTURE, body, &allowed).unwrap();
    assert_eq!(report.diagnostics.len(), 1);
    assert_eq!(report.diagnostics[0].subject, "rules.toml:5:43");
    // The rule ran over every container.
    assert_eq!(report.results[0].sources, 3);

    // A side may match nodes, but no source (a service is not one; its containers are).
    let body = "[[rule]]\nname = \"r\"\nexpect = \"reach\"\nfrom = { kind = \"service\" }\nto = { kind = \"secret\" }\n";
    let e = check_on(FIXTURE, body, &CheckOptions::default()).unwrap_err();
    assert!(e.to_string().contains("`from` matches no source"), "{e}");
    // Over nothing, a `reach` rule fails and a `never` rule holds.
    let report = check_on(FIXTURE, body, &allowed).unwrap();
    assert!(!report.holds());
    let report = check_on(FIXTURE, &body.replace("\"reach\"", "\"never\""), &allowed).unwrap();
    assert!(report.holds());

    // An OU name when the snapshot names no OU says where names come from.
    let e = check_on(
        "tests/fixtures/scenarios/smoke/snapshot.json",
        "[[rule]]\nname = \"r\"\nexpect = \"never\"\nfrom = { ou = \"Prod\" }\nto = { kind = \"secret\" }\n",
        &CheckOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string().ends_with(
            "(the snapshot names no OU: OU names come from `organization.organizational_units`)"
        ),
        "{e}"
    );
}

/// Account, OU, service and cluster tests take ids and names alike; tag values are globs.
#[test]
fn tests_take_ids_and_names() {
    let rule = |from: &str| {
        format!(
            "[[rule]]\nname = \"r\"\nexpect = \"reach\"\nfrom = {from}\nto = {{ tag = {{ env = \"pr*\" }} }}\nconditional = \"count\"\n"
        )
    };
    let sources = |from: &str| {
        check_on(FIXTURE, &rule(from), &CheckOptions::default())
            .unwrap()
            .results[0]
            .sources
    };
    assert_eq!(
        sources("{ account = \"apps-dev\" }"),
        sources("{ account = \"222222222222\" }")
    );
    assert_eq!(
        sources("{ ou = \"Dev\" }"),
        sources("{ ou = \"ou-c1h2-dev00001\" }")
    );
    // In Dev: the debug shell's container, its task role, and the account itself (a source
    // when a policy names it and its IAM was not collected).
    assert_eq!(sources("{ ou = \"Dev\" }"), 3);
    assert_eq!(
        sources("{ service = \"web\" }"),
        sources("{ service = \"arn:aws:ecs:us-east-1:111111111111:service/prod/web\" }")
    );
    assert_eq!(sources("{ cluster = \"prod\" }"), 2);
    assert_eq!(
        sources("{ any = [{ cluster = \"prod\" }, { cluster = \"dev\" }] }"),
        3
    );
    // Outside the organization: nothing is, in this snapshot (sources outside it are nodes only
    // where a policy admits them). The rule would hold over nothing, so it is an error unless the
    // rule allows it, and then a warning.
    let outside = rule("{ not = { ou = \"r-c1h2\" } }").replace("\"reach\"", "\"never\"");
    let e = check_on(FIXTURE, &outside, &CheckOptions::default()).unwrap_err();
    assert!(e.to_string().contains("`from` matches no source"), "{e}");
    let report = check_on(
        FIXTURE,
        &format!("{outside}allow_empty = true\n"),
        &CheckOptions::default(),
    )
    .unwrap();
    assert!(report.holds());
    assert_eq!(report.diagnostics.len(), 1);
}

/// `check` searches each rule from its smaller side; `who_can` per target and `reach` per source
/// must then agree on every (source, target, plane) they connect, with the same status and the
/// same length, on the fixture and on the bundled example.
#[test]
fn searching_from_either_side_finds_the_same_pairs() {
    fn key(p: &analysis::Path) -> (String, String, bool, EdgeStatus, usize) {
        let agent = matches!(
            p.hops.first().map(|h| h.kind),
            Some(EdgeKind::Injects | EdgeKind::Pulls)
        );
        (
            p.source.clone(),
            p.target.clone(),
            agent,
            p.status,
            p.hops.len(),
        )
    }
    for path in [
        FIXTURE,
        "examples/three-account-org/snapshot.json",
        CONDITIONAL,
    ] {
        let (_, g) = load(path);
        let mut backward: Vec<_> = g
            .graph
            .node_indices()
            .filter(|&n| g.graph[n].kind.is_resource())
            .flat_map(|t| analysis::who_can(&g, t, None))
            .map(|p| key(&p))
            .collect();
        let sources: Vec<_> = backward
            .iter()
            .map(|k| g.node(&k.0).unwrap().0)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut forward: Vec<_> = analysis::reach(&g, &sources, None, None)
            .iter()
            .map(key)
            .collect();
        backward.sort();
        forward.sort();
        assert!(!forward.is_empty(), "{path}");
        assert_eq!(backward, forward, "{path}");
    }
}
