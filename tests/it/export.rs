//! Export tests: DOT, Mermaid and JSON snapshots of a small hand-built graph, checked with the
//! real Graphviz and Mermaid parsers, plus determinism, JSON round trips and size warnings.
//!
//! The snapshots and other pure checks always run; the checks with Graphviz and Mermaid's parser
//! are skipped, with a line on stderr, when those tools are not installed, unless
//! `ROLECHAIN_REQUIRE_TOOLS=1` (`support::tool_available`).

#![allow(
    clippy::expect_used,
    reason = "graph builders fail the test by panicking"
)]

use std::io;

use rolechain::analysis::{self, Explanation, Hop, Path};
use rolechain::collect;
use rolechain::export::mermaid::MAX_TEXT_SIZE;
use rolechain::export::{
    GraphFormat, write_decision_json, write_explanation_json, write_graph, write_paths_json,
};
use rolechain::graph::{AccessGraph, BuildOptions, EdgeKind, EdgeStatus, NodeKind, build};
use rolechain::model::{Diagnostic, Effect};
use rolechain::policy::{Blocker, Decision, Outcome, PolicyType};
use serde_json::Value;

use crate::contract;
use crate::support::{
    self, GraphBuilder, Tool, assert_dot_lays_out, assert_dot_parses, assert_mermaid_parses,
    exported, open_condition, reason, tool_available, written,
};

const PROD: &str = "111111111111";
const DATA: &str = "222222222222";
const CLUSTER: &str = "arn:aws:ecs:us-east-1:111111111111:cluster/main";
const SERVICE: &str = "arn:aws:ecs:us-east-1:111111111111:service/main/web";
const TASK_DEF: &str = "arn:aws:ecs:us-east-1:111111111111:task-definition/web:7";
const APP: &str = "arn:aws:ecs:us-east-1:111111111111:task-definition/web:7#app";
const SIDECAR: &str = "arn:aws:ecs:us-east-1:111111111111:task-definition/web:7#log \"router\"";
const TASK_ROLE: &str = "arn:aws:iam::111111111111:role/web-task";
const EXEC_ROLE: &str = "arn:aws:iam::111111111111:role/web-exec";
const READER: &str = "arn:aws:iam::222222222222:role/reader";
const PARTNER: &str = "arn:aws:iam::333333333333:root";
const SECRET: &str =
    "arn:aws:secretsmanager:us-east-1:222222222222:secret:prod/db\\\"primary\"-AbCdEf";
const GONE: &str = "arn:aws:secretsmanager:us-east-1:111111111111:secret:gone-XyZ123";
const PARAM: &str = "arn:aws:ssm:us-east-1:111111111111:parameter/web/api-key";
const KEY: &str = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const REPO: &str = "arn:aws:ecr:us-east-1:111111111111:repository/web";
const BUCKET: &str = "arn:aws:s3:::data-exports";
const LOGS: &str = "arn:aws:logs:us-east-1:111111111111:log-group:/ecs/web";

/// Two accounts and an outside one; a cluster, service, task definition and two containers; a
/// role chain with a conditional cross-account hop; denied edges; ids with quotes and
/// backslashes.
pub(crate) fn representative() -> AccessGraph {
    let mut b = GraphBuilder::new();
    b.node(PROD, NodeKind::Account, Some(PROD), "prod", None)
        .node(
            DATA,
            NodeKind::Account,
            Some(DATA),
            "data <shared> & \"core\"",
            None,
        )
        .node(CLUSTER, NodeKind::Cluster, Some(PROD), "main", None)
        .node(SERVICE, NodeKind::Service, Some(PROD), "web", Some(CLUSTER))
        .node(
            TASK_DEF,
            NodeKind::TaskDefinition,
            Some(PROD),
            "web:7",
            Some(SERVICE),
        )
        .node(APP, NodeKind::Container, Some(PROD), "app", Some(TASK_DEF))
        .node(
            SIDECAR,
            NodeKind::Container,
            Some(PROD),
            "log \"router\"\\1\nnext line",
            Some(TASK_DEF),
        )
        .node(TASK_ROLE, NodeKind::Role, Some(PROD), "web-task", None)
        .node(EXEC_ROLE, NodeKind::Role, Some(PROD), "web-exec", None)
        .node(READER, NodeKind::Role, Some(DATA), "reader", None)
        .node(
            "ecs-tasks.amazonaws.com",
            NodeKind::ServicePrincipal,
            None,
            "ecs-tasks.amazonaws.com",
            None,
        )
        .node(
            PARTNER,
            NodeKind::ExternalAccount,
            Some("333333333333"),
            "333333333333",
            None,
        )
        .outside()
        .node(
            SECRET,
            NodeKind::Secret,
            Some(DATA),
            "prod/db\\\"primary\"",
            None,
        )
        .node(GONE, NodeKind::Secret, Some(PROD), "gone", None)
        .outside()
        .node(
            PARAM,
            NodeKind::SsmParameter,
            Some(PROD),
            "/web/api-key",
            None,
        )
        .node(KEY, NodeKind::KmsKey, Some(DATA), "alias/data", None)
        .node(REPO, NodeKind::EcrRepository, Some(PROD), "web", None)
        .node(BUCKET, NodeKind::S3Bucket, Some(DATA), "data-exports", None)
        .node(LOGS, NodeKind::LogGroup, Some(PROD), "/ecs/web", None);

    b.edge(CLUSTER, SERVICE, EdgeKind::Runs, EdgeStatus::Allowed);
    b.edge(SERVICE, TASK_DEF, EdgeKind::Runs, EdgeStatus::Allowed);
    b.edge(TASK_DEF, APP, EdgeKind::Defines, EdgeStatus::Allowed);
    b.edge(TASK_DEF, SIDECAR, EdgeKind::Defines, EdgeStatus::Allowed);
    b.edge(APP, TASK_ROLE, EdgeKind::TaskRole, EdgeStatus::Allowed)
        .because = vec![reason(PolicyType::Trust, TASK_ROLE, "0", Effect::Allow)].into();
    b.edge(SIDECAR, TASK_ROLE, EdgeKind::TaskRole, EdgeStatus::Allowed)
        .because = vec![reason(PolicyType::Trust, TASK_ROLE, "0", Effect::Allow)].into();
    b.edge(
        TASK_DEF,
        EXEC_ROLE,
        EdgeKind::ExecutionRole,
        EdgeStatus::Allowed,
    )
    .because = vec![reason(
        PolicyType::Trust,
        EXEC_ROLE,
        "EcsTasks",
        Effect::Allow,
    )]
    .into();
    b.edge(
        "ecs-tasks.amazonaws.com",
        EXEC_ROLE,
        EdgeKind::Assumes,
        EdgeStatus::Allowed,
    )
    .because = vec![reason(
        PolicyType::Trust,
        EXEC_ROLE,
        "EcsTasks",
        Effect::Allow,
    )]
    .into();
    {
        let e = b.edge(
            TASK_ROLE,
            READER,
            EdgeKind::Assumes,
            EdgeStatus::Conditional,
        );
        e.cross_account = true;
        e.because = vec![
            reason(
                PolicyType::Identity,
                "arn:aws:iam::111111111111:policy/assume-reader",
                "AllowAssume",
                Effect::Allow,
            ),
            reason(PolicyType::Trust, READER, "TrustProd", Effect::Allow),
        ]
        .into();
        e.conditions = vec![open_condition(
            "StringEquals",
            "sts:ExternalId",
            &["web-7"],
            PolicyType::Trust,
            READER,
            "TrustProd",
        )]
        .into();
    }
    {
        let e = b.edge(PARTNER, READER, EdgeKind::Assumes, EdgeStatus::Denied);
        e.cross_account = true;
        e.because = vec![reason(
            PolicyType::Trust,
            READER,
            "NoPartners",
            Effect::Deny,
        )]
        .into();
        e.notes =
            vec!["the trust policy of `reader` denies account `333333333333`".to_owned()].into();
    }
    {
        let e = b.edge(READER, SECRET, EdgeKind::Accesses, EdgeStatus::Allowed);
        e.actions = vec!["secretsmanager:GetSecretValue".to_owned()].into();
        e.because = vec![reason(
            PolicyType::Identity,
            "arn:aws:iam::222222222222:role/reader#read",
            "Read",
            Effect::Allow,
        )]
        .into();
    }
    {
        let e = b.edge(READER, KEY, EdgeKind::Accesses, EdgeStatus::Allowed);
        e.actions = vec!["kms:Decrypt".to_owned(), "kms:DescribeKey".to_owned()].into();
        e.because = vec![
            reason(
                PolicyType::Identity,
                "arn:aws:iam::222222222222:role/reader#read",
                "Decrypt",
                Effect::Allow,
            ),
            reason(PolicyType::Key, KEY, "0", Effect::Allow),
        ]
        .into();
    }
    {
        let e = b.edge(TASK_ROLE, BUCKET, EdgeKind::Accesses, EdgeStatus::Denied);
        e.cross_account = true;
        e.because = vec![reason(
            PolicyType::Resource,
            BUCKET,
            "DenyOutside",
            Effect::Deny,
        )]
        .into();
        e.notes =
            vec!["the bucket policy denies principals outside the organization".to_owned()].into();
    }
    {
        let e = b.edge(APP, PARAM, EdgeKind::Injects, EdgeStatus::Allowed);
        e.actions = vec!["ssm:GetParameters".to_owned()].into();
        e.because = vec![reason(
            PolicyType::Identity,
            "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess",
            "0",
            Effect::Allow,
        )]
        .into();
    }
    {
        let e = b.edge(SIDECAR, GONE, EdgeKind::Injects, EdgeStatus::Denied);
        e.actions = vec!["secretsmanager:GetSecretValue".to_owned()].into();
        e.notes = vec!["the secret is not in the snapshot".to_owned()].into();
    }
    {
        let e = b.edge(APP, REPO, EdgeKind::Pulls, EdgeStatus::Allowed);
        e.actions = vec![
            "ecr:BatchGetImage".to_owned(),
            "ecr:GetDownloadUrlForLayer".to_owned(),
        ]
        .into();
    }
    {
        let e = b.edge(EXEC_ROLE, LOGS, EdgeKind::Accesses, EdgeStatus::Allowed);
        e.actions = vec![
            "logs:CreateLogStream".to_owned(),
            "logs:PutLogEvents".to_owned(),
        ]
        .into();
    }
    b.finish()
}

/// The two paths of the representative graph that reach the secret and the parameter.
fn representative_paths() -> Vec<Path> {
    let graph = representative();
    let hop = |from: &str, to: &str, kind: EdgeKind| {
        let (a, _) = graph.node(from).expect("from");
        let (b, _) = graph.node(to).expect("to");
        let e = graph.graph.find_edge(a, b).expect("edge");
        let edge = &graph.graph[e];
        assert_eq!(edge.kind, kind);
        Hop {
            from: from.to_owned(),
            to: to.to_owned(),
            kind,
            status: edge.status,
            because: edge.proof.because.clone(),
            conditions: edge.proof.conditions.clone(),
            notes: edge.proof.notes.clone(),
        }
    };
    vec![
        Path {
            source: APP.to_owned(),
            target: SECRET.to_owned(),
            actions: vec!["secretsmanager:GetSecretValue".to_owned()],
            status: EdgeStatus::Conditional,
            cross_account: true,
            hops: vec![
                hop(APP, TASK_ROLE, EdgeKind::TaskRole),
                hop(TASK_ROLE, READER, EdgeKind::Assumes),
                hop(READER, SECRET, EdgeKind::Accesses),
            ],
        },
        Path {
            source: APP.to_owned(),
            target: PARAM.to_owned(),
            actions: vec!["ssm:GetParameters".to_owned()],
            status: EdgeStatus::Allowed,
            cross_account: false,
            hops: vec![hop(APP, PARAM, EdgeKind::Injects)],
        },
    ]
}

fn allowed_decision() -> Decision {
    Decision {
        outcome: Outcome::Allowed,
        conditional: true,
        because: vec![
            reason(
                PolicyType::Identity,
                "arn:aws:iam::111111111111:policy/assume-reader",
                "AllowAssume",
                Effect::Allow,
            ),
            reason(PolicyType::Trust, READER, "TrustProd", Effect::Allow),
        ],
        conditions: vec![open_condition(
            "StringEquals",
            "sts:ExternalId",
            &["web-7"],
            PolicyType::Trust,
            READER,
            "TrustProd",
        )],
        blocked_by: None,
        diagnostics: vec![Diagnostic::warning(
            "unsupported-operator",
            READER,
            "operator `StringFancy` is not supported",
        )],
    }
}

fn denied_decision() -> Decision {
    let deny = reason(PolicyType::Scp, "p-deny-s3", "DenyOutside", Effect::Deny);
    Decision {
        outcome: Outcome::ExplicitDeny,
        conditional: false,
        because: vec![deny.clone()],
        conditions: Vec::new(),
        blocked_by: Some(Blocker::Deny(deny)),
        diagnostics: Vec::new(),
    }
}

/// The DOT export of a graph, and its warnings.
fn dot(graph: &AccessGraph) -> (String, Vec<Diagnostic>) {
    exported(graph, GraphFormat::Dot)
}

/// The Mermaid export of a graph, and its warnings.
fn mermaid(graph: &AccessGraph) -> (String, Vec<Diagnostic>) {
    exported(graph, GraphFormat::Mermaid)
}

/// The `rolechain.graph/v1` document of a graph.
fn graph_json(graph: &AccessGraph) -> String {
    exported(graph, GraphFormat::Json).0
}

/// The `rolechain.paths/v1` document of paths.
fn paths_json(paths: &[Path]) -> String {
    written(|out| write_paths_json(paths, out))
}

/// The `rolechain.decision/v1` document of a decision.
fn decision_json(decision: &Decision) -> String {
    written(|out| write_decision_json(decision, out))
}

#[test]
fn dot_snapshot() {
    let (dot, warnings) = dot(&representative());
    assert!(warnings.is_empty(), "{warnings:?}");
    insta::assert_snapshot!("representative.dot", dot);
}

#[test]
fn dot_parses_and_lays_out_with_graphviz() {
    let (dot, _) = dot(&representative());
    assert_dot_parses(&dot);
    assert_dot_lays_out(&dot);
}

#[test]
fn mermaid_snapshot() {
    let (text, warnings) = mermaid(&representative());
    assert!(warnings.is_empty(), "{warnings:?}");
    insta::assert_snapshot!("representative.mmd", text);
}

#[test]
fn mermaid_parses_with_mermaid() {
    let (text, _) = mermaid(&representative());
    assert_mermaid_parses(&[("representative", &text)]);
}

#[test]
fn graph_json_snapshot() {
    insta::assert_snapshot!("representative.graph.json", graph_json(&representative()));
}

#[test]
fn paths_json_snapshot() {
    insta::assert_snapshot!(
        "representative.paths.json",
        paths_json(&representative_paths())
    );
}

#[test]
fn decision_json_snapshots() {
    insta::assert_snapshot!("decision.allowed.json", decision_json(&allowed_decision()));
    insta::assert_snapshot!("decision.denied.json", decision_json(&denied_decision()));
}

/// Nodes and edges that sit oddly: a box with nothing in it, a container whose parent is missing,
/// an edge into a cluster box, an account node with an edge, a parent cycle, nodes without
/// labels and a graph with no nodes at all.
fn odd() -> AccessGraph {
    let mut b = GraphBuilder::new();
    b.node(
        "arn:aws:ecs:us-east-1:111111111111:cluster/empty",
        NodeKind::Cluster,
        Some(PROD),
        "empty",
        None,
    )
    .node(
        "arn:aws:ecs:us-east-1:111111111111:cluster/a",
        NodeKind::Cluster,
        Some(PROD),
        "",
        None,
    )
    .node(
        "arn:aws:ecs:us-east-1:111111111111:service/a/s",
        NodeKind::Service,
        Some(PROD),
        "s",
        Some("arn:aws:ecs:us-east-1:111111111111:service/a/t"),
    )
    .node(
        "arn:aws:ecs:us-east-1:111111111111:service/a/t",
        NodeKind::Service,
        Some(PROD),
        "t",
        Some("arn:aws:ecs:us-east-1:111111111111:service/a/s"),
    )
    .node("td#orphan", NodeKind::Container, None, "", Some("td"))
    .node(PROD, NodeKind::Account, Some(PROD), "prod", None)
    .node(
        "user \\ \"x\"",
        NodeKind::User,
        Some(PROD),
        "end %%{init: {\"theme\": \"dark\"}}%%",
        None,
    );
    b.edge(
        "user \\ \"x\"",
        "arn:aws:ecs:us-east-1:111111111111:cluster/a",
        EdgeKind::Accesses,
        EdgeStatus::Allowed,
    );
    b.edge(
        "user \\ \"x\"",
        PROD,
        EdgeKind::Assumes,
        EdgeStatus::Conditional,
    );
    b.edge(
        "td#orphan",
        "user \\ \"x\"",
        EdgeKind::TaskRole,
        EdgeStatus::Denied,
    );
    b.finish()
}

#[test]
fn odd_graphs_export_valid_text() {
    for (name, graph) in [("odd", odd()), ("empty", AccessGraph::default())] {
        let (dot, _) = dot(&graph);
        assert_dot_parses(&dot);
        assert_dot_lays_out(&dot);
        let (text, _) = mermaid(&graph);
        assert_mermaid_parses(&[(name, &text)]);
    }
}

#[test]
fn odd_graphs_export_every_node_and_edge() {
    for graph in [odd(), AccessGraph::default()] {
        let json: Value = serde_json::from_str(&graph_json(&graph)).expect("graph JSON");
        assert_eq!(
            json["nodes"].as_array().map(Vec::len),
            Some(graph.graph.node_count())
        );
    }
    // Every edge of the odd graph is drawn: none of them is explained by nesting.
    let (text, _) = mermaid(&odd());
    assert!(
        !text.contains("%%"),
        "a label cannot smuggle in a Mermaid directive:\n{text}"
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.contains(" --") || l.contains(" ==") || l.contains(" -."))
            .count(),
        3,
        "{text}"
    );
}

#[test]
fn exports_are_deterministic() {
    let (a, b) = (representative(), representative());
    assert_eq!(dot(&a), dot(&b));
    assert_eq!(mermaid(&a), mermaid(&b));
    assert_eq!(graph_json(&a), graph_json(&b));
    assert_eq!(
        paths_json(&representative_paths()),
        paths_json(&representative_paths())
    );
    assert_eq!(
        decision_json(&allowed_decision()),
        decision_json(&allowed_decision())
    );
    // A larger graph, with many boxes and rank groups, too.
    let big = generated(40, 3);
    assert_eq!(dot(&big).0, dot(&generated(40, 3)).0);
}

/// A writer that takes at most `chunk` bytes per call and `limit` bytes in all, and fails the
/// write that would go further with a broken pipe, as stdout does once its reader has gone.
///
/// Only that one write fails: whatever comes after it is taken, so an exporter that carried on
/// after an error (or swallowed it) leaves more than `limit` bytes.
struct Sink {
    written: Vec<u8>,
    limit: usize,
    chunk: usize,
    failed: bool,
}

impl Sink {
    /// Takes everything, in one piece per call.
    fn unlimited() -> Sink {
        Sink::failing_after(usize::MAX)
    }

    /// Takes `limit` bytes, then fails.
    fn failing_after(limit: usize) -> Sink {
        Sink {
            written: Vec::new(),
            limit,
            chunk: usize::MAX,
            failed: false,
        }
    }

    /// Takes everything, one byte per call.
    fn trickle() -> Sink {
        Sink {
            chunk: 1,
            ..Sink::unlimited()
        }
    }
}

impl io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = if self.failed {
            usize::MAX
        } else {
            self.limit - self.written.len()
        };
        if room == 0 && !buf.is_empty() {
            self.failed = true;
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the reader went away",
            ));
        }
        let n = buf.len().min(room).min(self.chunk);
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An exporter or document writer, named, writing one fixed input; warnings are dropped.
type Export<'a> = (String, Box<dyn Fn(&mut Sink) -> io::Result<()> + 'a>);

/// Every graph format of the representative graph, and every JSON document.
fn every_export<'a>(
    graph: &'a AccessGraph,
    paths: &'a [Path],
    decision: &'a Decision,
    explanation: &'a Explanation,
) -> Vec<Export<'a>> {
    let mut exports: Vec<Export<'a>> = GraphFormat::ALL
        .into_iter()
        .map(|format| -> Export<'a> {
            (
                format!("{format:?}"),
                Box::new(move |out: &mut Sink| write_graph(graph, format, out).map(drop)),
            )
        })
        .collect();
    exports.push((
        "paths".to_owned(),
        Box::new(|out: &mut Sink| write_paths_json(paths, out)),
    ));
    exports.push((
        "decision".to_owned(),
        Box::new(|out: &mut Sink| write_decision_json(decision, out)),
    ));
    exports.push((
        "explanation".to_owned(),
        Box::new(|out: &mut Sink| write_explanation_json(explanation, out)),
    ));
    exports
}

/// The explanation of the smoke scenario's container reaching its secret.
fn smoke_explanation() -> Explanation {
    let inventory =
        collect::load_file(&support::root().join("tests/fixtures/scenarios/smoke/snapshot.json"))
            .expect("smoke snapshot");
    let graph = build(&inventory, &BuildOptions::default());
    analysis::explain(
        &inventory,
        &graph,
        "arn:aws:ecs:us-east-1:111111111111:task-definition/app:1#app",
        "arn:aws:secretsmanager:us-east-1:111111111111:secret:app/api-key-Xp4Rt2",
        None,
        None,
    )
    .expect("smoke explanation")
}

/// Every exporter returns its writer's first error as it is, kind and message (so the CLI still
/// sees a closed pipe as one), and writes nothing after it, so what was written is a prefix of
/// the whole text; with room for exactly the whole text it succeeds.
#[test]
fn exporters_return_the_writers_error() {
    let (graph, paths) = (representative(), representative_paths());
    let (decision, explanation) = (denied_decision(), smoke_explanation());
    for (name, export) in every_export(&graph, &paths, &decision, &explanation) {
        let mut whole = Sink::unlimited();
        export(&mut whole).unwrap_or_else(|e| panic!("{name}: {e}"));
        let text = whole.written;
        assert!(text.len() > 2, "{name}");
        // About 130 places across the text, so every part of each exporter meets a failure.
        let step = text.len() / 128 + 1;
        for limit in (0..text.len()).step_by(step).chain([1, text.len() - 1]) {
            let mut out = Sink::failing_after(limit);
            let err = export(&mut out).expect_err(&format!("{name} fails after {limit} bytes"));
            assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{name} at {limit}");
            assert_eq!(err.to_string(), "the reader went away", "{name} at {limit}");
            assert!(
                out.written == text[..limit],
                "{name} at {limit}: wrote {} bytes after the error",
                out.written.len() - limit
            );
        }
        let mut exact = Sink::failing_after(text.len());
        export(&mut exact).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(exact.written == text, "{name}");
    }
}

/// A writer that takes one byte per call gets the same bytes, and the same warnings, as one
/// that takes everything at once.
#[test]
fn exports_do_not_depend_on_how_the_writer_takes_them() {
    let (graph, paths) = (representative(), representative_paths());
    let (decision, explanation) = (allowed_decision(), smoke_explanation());
    for (name, export) in every_export(&graph, &paths, &decision, &explanation) {
        let (mut whole, mut trickle) = (Sink::unlimited(), Sink::trickle());
        export(&mut whole).unwrap();
        export(&mut trickle).unwrap();
        assert!(whole.written == trickle.written, "{name}");
    }
    for graph in [generated(60, 4), representative()] {
        for format in GraphFormat::ALL {
            let (text, warnings) = exported(&graph, format);
            let mut trickle = Sink::trickle();
            assert_eq!(write_graph(&graph, format, &mut trickle).unwrap(), warnings);
            assert!(trickle.written == text.as_bytes(), "{format:?}");
        }
    }
}

/// Mermaid's text limit counts a JavaScript string's length (UTF-16 code units), not bytes: the
/// warning gives that length, also when the text reaches the writer a byte at a time.
#[test]
fn mermaid_size_warning_counts_javascript_characters() {
    let mut b = GraphBuilder::new();
    for i in 0..1_000 {
        let name = format!("/é/𝄞/p{i:04}");
        b.node(
            &format!("arn:aws:ssm:us-east-1:111111111111:parameter{name}"),
            NodeKind::SsmParameter,
            Some(PROD),
            &name,
            None,
        );
    }
    let graph = b.finish();
    let (text, warnings) = mermaid(&graph);
    let units = text.encode_utf16().count();
    assert!(units > MAX_TEXT_SIZE && units < text.len(), "{units}");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0]
            .message
            .contains(&format!(" {units} characters")),
        "{}",
        warnings[0]
    );
    let mut trickle = Sink::trickle();
    assert_eq!(
        write_graph(&graph, GraphFormat::Mermaid, &mut trickle).unwrap(),
        warnings
    );
}

/// The graph JSON, read back through the contract's mirror, is the graph: every node and edge
/// with every field, including the escapes in the representative graph's ids and labels.
#[test]
fn graph_json_round_trips() {
    let graph = representative();
    let text = graph_json(&graph);
    assert!(
        text.ends_with("}\n") && text.contains("\n  \"nodes\": ["),
        "pretty-printed with a 2-space indent"
    );
    let (nodes, edges) = contract::read_graph_json(&text);
    assert!(
        nodes.iter().map(|n| &n.id).is_sorted(),
        "nodes sorted by id"
    );
    assert!(
        edges
            .iter()
            .map(|(from, to, e)| (from, to, e.kind))
            .is_sorted(),
        "edges sorted by (from, to, kind)"
    );
    assert!(
        edges.iter().any(|(_, _, e)| !e.conditions().is_empty())
            && edges.iter().any(|(_, _, e)| !e.notes().is_empty())
            && nodes.iter().any(|n| !n.in_snapshot),
        "the representative graph has conditions, notes and nodes outside the snapshot"
    );
    contract::assert_graph_json_round_trips("representative", &graph, &text);
    for (name, graph) in [("odd", odd()), ("empty", AccessGraph::default())] {
        contract::assert_graph_json_round_trips(name, &graph, &graph_json(&graph));
    }
}

/// The paths JSON, read back through the contract's mirror, is the paths, hops and proofs
/// included, in the order given.
#[test]
fn paths_json_round_trips() {
    let paths = representative_paths();
    assert_eq!(contract::read_paths_json(&paths_json(&paths)), paths);
    let reversed: Vec<Path> = paths.iter().rev().cloned().collect();
    assert_eq!(contract::read_paths_json(&paths_json(&reversed)), reversed);
    assert!(contract::read_paths_json(&paths_json(&[])).is_empty());
}

/// The exact key sets of SNAPSHOT-V1 §3 and §4, plus the fields this version adds.
#[test]
fn paths_and_decision_json_follow_the_contract() {
    // Sorted here: with the `aws` feature the SDK turns on serde_json's `preserve_order`, so a
    // parsed object keeps the document's key order.
    let keys = |v: &Value| -> Vec<String> {
        let mut keys: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        keys.sort();
        keys
    };
    let paths: Value =
        serde_json::from_str(&paths_json(&representative_paths())).expect("paths JSON");
    assert_eq!(keys(&paths), ["paths", "schema"]);
    assert_eq!(paths["schema"], "rolechain.paths/v1");
    let first = &paths["paths"][0];
    assert_eq!(
        keys(first),
        [
            "actions",
            "cross_account",
            "hops",
            "source",
            "status",
            "target"
        ]
    );
    assert_eq!(first["source"], APP);
    assert_eq!(first["status"], "conditional");
    assert_eq!(first["cross_account"], true);
    let hop = &first["hops"][1];
    assert_eq!(
        keys(hop),
        [
            "because",
            "conditions",
            "from",
            "kind",
            "notes",
            "status",
            "to"
        ]
    );
    assert_eq!(hop["kind"], "assumes");
    assert_eq!(
        keys(&hop["conditions"][0]),
        [
            "effect",
            "key",
            "operator",
            "policy",
            "policy_type",
            "statement",
            "values"
        ]
    );
    assert_eq!(hop["conditions"][0]["key"], "sts:ExternalId");
    assert_eq!(
        keys(&hop["because"][0]),
        ["effect", "policy", "policy_type", "statement"]
    );
    assert_eq!(
        paths["paths"][1]["target"], PARAM,
        "paths keep the order given"
    );

    let allowed: Value =
        serde_json::from_str(&decision_json(&allowed_decision())).expect("decision JSON");
    assert_eq!(
        keys(&allowed),
        [
            "because",
            "blocked_by",
            "conditional",
            "conditions",
            "decision",
            "diagnostics",
            "schema"
        ]
    );
    assert_eq!(allowed["schema"], "rolechain.decision/v1");
    assert_eq!(allowed["decision"], "allowed");
    assert_eq!(allowed["conditional"], true);
    assert_eq!(allowed["blocked_by"], Value::Null);
    assert_eq!(allowed["diagnostics"][0]["code"], "unsupported-operator");

    let denied: Value =
        serde_json::from_str(&decision_json(&denied_decision())).expect("decision JSON");
    assert_eq!(denied["decision"], "explicit_deny");
    assert_eq!(denied["blocked_by"]["kind"], "deny");
    assert_eq!(denied["blocked_by"]["reason"]["policy_type"], "scp");
    for (outcome, name) in [
        (Outcome::ImplicitDeny, "implicit_deny"),
        (Outcome::ExplicitDeny, "explicit_deny"),
    ] {
        let decision = Decision {
            outcome,
            blocked_by: Some(Blocker::IdentityMissingAllow),
            ..denied_decision()
        };
        let json: Value = serde_json::from_str(&decision_json(&decision)).expect("decision JSON");
        assert_eq!(json["decision"], name);
        assert_eq!(
            json["blocked_by"],
            serde_json::json!({"kind": "identity_missing_allow"})
        );
    }
}

/// A generated organization: `services` ECS services in each of three accounts, each with
/// `containers` containers, a task role, an execution role, and resources the roles reach, some
/// through a cross-account role.
fn generated(services: usize, containers: usize) -> AccessGraph {
    let mut b = GraphBuilder::new();
    let accounts = ["111111111111", "222222222222", "333333333333"];
    for (a, account) in accounts.iter().enumerate() {
        b.node(
            account,
            NodeKind::Account,
            Some(account),
            &format!("acct-{a}"),
            None,
        );
        let cluster = format!("arn:aws:ecs:us-east-1:{account}:cluster/c{a}");
        b.node(
            &cluster,
            NodeKind::Cluster,
            Some(account),
            &format!("c{a}"),
            None,
        );
        let shared = format!("arn:aws:iam::{account}:role/shared");
        b.node(&shared, NodeKind::Role, Some(account), "shared", None);
        for s in 0..services {
            let service = format!("arn:aws:ecs:us-east-1:{account}:service/c{a}/svc{s}");
            let task_def = format!("arn:aws:ecs:us-east-1:{account}:task-definition/svc{s}:1");
            let task_role = format!("arn:aws:iam::{account}:role/svc{s}-task");
            let exec_role = format!("arn:aws:iam::{account}:role/svc{s}-exec");
            let secret = format!("arn:aws:secretsmanager:us-east-1:{account}:secret:svc{s}-AbCdEf");
            let bucket = format!("arn:aws:s3:::{account}-svc{s}");
            b.node(
                &service,
                NodeKind::Service,
                Some(account),
                &format!("svc{s}"),
                Some(&cluster),
            )
            .node(
                &task_def,
                NodeKind::TaskDefinition,
                Some(account),
                &format!("svc{s}:1"),
                Some(&service),
            )
            .node(
                &task_role,
                NodeKind::Role,
                Some(account),
                &format!("svc{s}-task"),
                None,
            )
            .node(
                &exec_role,
                NodeKind::Role,
                Some(account),
                &format!("svc{s}-exec"),
                None,
            )
            .node(
                &secret,
                NodeKind::Secret,
                Some(account),
                &format!("svc{s}"),
                None,
            )
            .node(
                &bucket,
                NodeKind::S3Bucket,
                Some(account),
                &format!("{account}-svc{s}"),
                None,
            );
            b.edge(&cluster, &service, EdgeKind::Runs, EdgeStatus::Allowed);
            b.edge(&service, &task_def, EdgeKind::Runs, EdgeStatus::Allowed);
            b.edge(
                &task_def,
                &exec_role,
                EdgeKind::ExecutionRole,
                EdgeStatus::Allowed,
            );
            b.edge(&task_role, &bucket, EdgeKind::Accesses, EdgeStatus::Allowed);
            b.edge(
                &task_role,
                &shared,
                EdgeKind::Assumes,
                if s % 3 == 0 {
                    EdgeStatus::Conditional
                } else {
                    EdgeStatus::Allowed
                },
            );
            let next = accounts[(a + 1) % accounts.len()];
            b.edge(
                &task_role,
                &format!("arn:aws:iam::{next}:role/shared"),
                EdgeKind::Assumes,
                EdgeStatus::Denied,
            )
            .cross_account = true;
            b.edge(&shared, &secret, EdgeKind::Accesses, EdgeStatus::Allowed);
            for c in 0..containers {
                let container = format!("{task_def}#c{c}");
                b.node(
                    &container,
                    NodeKind::Container,
                    Some(account),
                    &format!("c{c}"),
                    Some(&task_def),
                );
                b.edge(
                    &task_def,
                    &container,
                    EdgeKind::Defines,
                    EdgeStatus::Allowed,
                );
                b.edge(
                    &container,
                    &task_role,
                    EdgeKind::TaskRole,
                    EdgeStatus::Allowed,
                );
                b.edge(&container, &secret, EdgeKind::Injects, EdgeStatus::Allowed);
            }
        }
    }
    b.finish()
}

#[test]
fn size_warnings_trigger_on_large_graphs() {
    let small = generated(4, 2);
    assert!(dot(&small).1.is_empty());
    assert!(mermaid(&small).1.is_empty());

    // 3 accounts × 60 services × (6 nodes + 4 containers): over 1,800 nodes and 2,600 edges.
    let large = generated(60, 4);
    assert!(large.graph.node_count() > 500 && large.graph.edge_count() > 1_500);
    let (dot, warnings) = dot(&large);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].code, "large-diagram");
    assert!(
        warnings[0].message.contains("--focus") && warnings[0].message.contains("sfdp"),
        "{}",
        warnings[0]
    );
    assert_dot_parses(&dot);
    let (_, warnings) = mermaid(&large);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].message.contains("--focus"), "{}", warnings[0]);
}

/// A graph of about 1,000 nodes but under 500 edges: many resources that nothing reaches yet.
fn wide(nodes: usize) -> AccessGraph {
    let mut b = GraphBuilder::new();
    let role = "arn:aws:iam::111111111111:role/reader";
    b.node(role, NodeKind::Role, Some(PROD), "reader", None);
    for i in 0..nodes - 1 {
        let id = format!("arn:aws:ssm:us-east-1:111111111111:parameter/app/p{i:04}");
        b.node(
            &id,
            NodeKind::SsmParameter,
            Some(PROD),
            &format!("/app/p{i:04}"),
            None,
        );
        if i % 3 == 0 {
            b.edge(role, &id, EdgeKind::Accesses, EdgeStatus::Allowed)
                .actions = vec!["ssm:GetParameter".to_owned()].into();
        }
    }
    b.finish()
}

#[test]
fn thousand_node_mermaid_parses() {
    let graph = wide(1_000);
    let (text, warnings) = mermaid(&graph);
    // Over 50,000 characters: Mermaid would parse it but not render it with default settings.
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    if !tool_available(Tool::MermaidParser) {
        return;
    }
    // How long it takes is a benchmark's business, not a test's: this checks that it parses.
    assert_mermaid_parses(&[("wide", &text)]);
}

#[test]
fn dot_lays_out_a_few_hundred_nodes() {
    let graph = generated(12, 3);
    assert!(
        graph.graph.node_count() > 300,
        "{}",
        graph.graph.node_count()
    );
    let (dot, warnings) = dot(&graph);
    assert!(warnings.is_empty());
    if !tool_available(Tool::Graphviz) {
        return;
    }
    assert_dot_lays_out(&dot);
}
