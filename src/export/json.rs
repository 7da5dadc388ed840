//! Versioned JSON output: the whole graph, a list of paths, one decision, an explanation,
//! findings, the outcome of a rules file, and the difference between two snapshots.
//!
//! Model types are not `Serialize`; this module maps them into private DTOs whose field names
//! are the wire format below. Every document is written into an [`io::Write`] as the
//! [module above](super) describes, pretty-printed with a two-space indent and ending with a
//! newline. The same input always gives the same bytes.
//!
//! # Wire format
//!
//! Each document is one JSON object whose `schema` field names its version. A later version may
//! add fields to any object; it never renames or drops one. Readers must ignore fields they do
//! not know.
//!
//! ## Graph: `rolechain.graph/v1`
//!
//! Written by [`write_graph_json`]:
//!
//! ```json
//! {
//!   "schema": "rolechain.graph/v1",
//!   "nodes": [ <node>, … ],
//!   "edges": [ <edge>, … ]
//! }
//! ```
//!
//! `nodes` is sorted by `id`; `edges` is sorted by `from`, then `to`, then `kind`.
//!
//! ## Node
//!
//! ```json
//! {
//!   "id": "arn:aws:iam::111111111111:role/web-task",
//!   "kind": "role",
//!   "account": "111111111111",
//!   "label": "web-task",
//!   "parent": null,
//!   "in_snapshot": true
//! }
//! ```
//!
//! - `id` is the node id of SNAPSHOT-V1 §2: an ARN, `<task definition ARN>#<container>`, a
//!   service principal's name or `arn:aws:iam::<id>:root`.
//! - `kind` is one of `account`, `cluster`, `service`, `task-definition`, `container`, `role`,
//!   `user`, `service-principal`, `external-account`, `secret`, `ssm-parameter`, `kms-key`,
//!   `ecr-repository`, `s3-bucket`, `log-group`.
//! - `account` is the owning account id, or `null` when there is none (service principals).
//! - `label` is a short name for people.
//! - `parent` is the id of the node it is drawn inside (service → cluster, task definition →
//!   service, container → task definition), or `null`.
//! - `in_snapshot` is false for nodes that a policy or task definition names but the snapshot
//!   does not hold.
//!
//! ## Edge
//!
//! ```json
//! {
//!   "from": "arn:aws:iam::111111111111:role/web-task",
//!   "to": "arn:aws:secretsmanager:us-east-1:222222222222:secret:prod/db-AbCdEf",
//!   "kind": "accesses",
//!   "status": "conditional",
//!   "cross_account": true,
//!   "actions": ["secretsmanager:GetSecretValue"],
//!   "because": [ <reason>, … ],
//!   "conditions": [ <condition>, … ],
//!   "notes": []
//! }
//! ```
//!
//! - `from` and `to` are node ids.
//! - `kind` is one of `runs`, `defines`, `task-role`, `execution-role`, `assumes`, `accesses`,
//!   `injects`, `pulls`.
//! - `status` is `allowed`, `conditional` (allowed if the open `conditions` hold) or `denied`.
//! - `cross_account` is true when the two ends are in different accounts.
//! - `actions` lists, sorted, the actions the edge allows (`accesses`, `injects`, `pulls`).
//! - `because` lists the statements that allowed the edge, or for a denied edge the Deny.
//! - `notes` are further facts in words, such as what blocks a denied edge.
//!
//! ## Paths: `rolechain.paths/v1`
//!
//! Written by [`write_paths_json`], and printed by `who-can` and `reach` with `--format json`
//! (SNAPSHOT-V1 §3):
//!
//! ```json
//! {
//!   "schema": "rolechain.paths/v1",
//!   "paths": [ <path>, … ]
//! }
//! ```
//!
//! The paths keep the order they are given in; callers sort them by `source`, then `target`.
//!
//! ## Path
//!
//! ```json
//! {
//!   "source": "arn:aws:ecs:us-east-1:111111111111:task-definition/web:7#app",
//!   "target": "arn:aws:secretsmanager:us-east-1:222222222222:secret:prod/db-AbCdEf",
//!   "actions": ["secretsmanager:GetSecretValue"],
//!   "status": "allowed",
//!   "cross_account": true,
//!   "hops": [ <hop>, … ]
//! }
//! ```
//!
//! - `actions` lists, sorted, the queried actions that this path allows.
//! - `status` is `allowed` or `conditional`, the weakest status of the hops.
//! - `cross_account` is true when some hop crosses an account boundary.
//!
//! ## Hop
//!
//! ```json
//! {
//!   "from": "arn:aws:iam::111111111111:role/web-task",
//!   "to": "arn:aws:iam::222222222222:role/reader",
//!   "kind": "assumes",
//!   "status": "allowed",
//!   "because": [ <reason>, … ],
//!   "conditions": [ <condition>, … ],
//!   "notes": []
//! }
//! ```
//!
//! `kind` and `status` are spelled as for edges; a hop is never `denied`.
//!
//! ## Decision: `rolechain.decision/v1`
//!
//! Written by [`write_decision_json`], and printed by `simulate` (SNAPSHOT-V1 §4):
//!
//! ```json
//! {
//!   "schema": "rolechain.decision/v1",
//!   "decision": "allowed",
//!   "conditional": false,
//!   "because": [ <reason>, … ],
//!   "conditions": [ <condition>, … ],
//!   "blocked_by": null,
//!   "diagnostics": [ <diagnostic>, … ]
//! }
//! ```
//!
//! - `decision` is `allowed`, `implicit_deny` or `explicit_deny`.
//! - `conditional` is true when the decision is `allowed` but depends on open `conditions`,
//!   possible denies included.
//! - `because` lists the statements that decided it: the allowing statements, or the Deny.
//! - `blocked_by` is `null` for an allowed request, and otherwise a [blocker](#blocker).
//!
//! ## Findings: `rolechain.findings/v1`
//!
//! Written by [`write_findings_json`], and printed by `findings --format json`
//! (docs/findings.md):
//!
//! ```json
//! {
//!   "schema": "rolechain.findings/v1",
//!   "counts": { "critical": 0, "high": 1, "medium": 0, "low": 0, "info": 0 },
//!   "findings": [ <finding>, … ]
//! }
//! ```
//!
//! `findings` is sorted by severity (strongest first), then `code`, `subject` and `nodes`.
//!
//! ## Finding
//!
//! ```json
//! {
//!   "code": "launch-secret-unreadable",
//!   "severity": "high",
//!   "subject": "arn:aws:ecs:us-east-1:111111111111:task-definition/app:14#app",
//!   "nodes": [ { "id": "arn:…", "kind": "container" }, … ],
//!   "paths": [ <path>, … ],
//!   "blocked": <attempt> | null
//! }
//! ```
//!
//! - `code` is one of the codes of docs/findings.md; `severity` is `critical`, `high`,
//!   `medium`, `low` or `info`, fixed per code.
//! - `subject` is the node id the finding is about; `nodes` lists every node involved, the
//!   subject first, each with its node `kind` (or `null` for ids that are not nodes of the graph,
//!   such as `ecs-tasks.amazonaws.com`).
//! - `paths` is the proof of a risky path or permission, as in `rolechain.paths/v1` (a single
//!   edge is a path of one hop); `blocked` is the proof of a failure, as an
//!   [attempt](#attempt).
//!
//! ## Attempt
//!
//! A hop that fails, as `explain` lists them:
//!
//! ```json
//! {
//!   "hop": "injects",
//!   "from": "arn:…#app",
//!   "to": "arn:aws:secretsmanager:…",
//!   "blocked_by": "key",
//!   "blocker": <blocker> | null,
//!   "request": "…",
//!   "message": "…"
//! }
//! ```
//!
//! `blocked_by` is a stable word (`trust`, `key`, `identity`, `explicit-deny`, `not-found`,
//! `structure`, …). `who-can` and `reach` add the denied references of the containers they cover,
//! as attempts, in an optional `blocked` list of their `rolechain.paths/v1` document; it is left
//! out when empty.
//!
//! ## Check: `rolechain.check/v1`
//!
//! Written by [`write_check_json`], and printed by `check --format json` (docs/check.md):
//!
//! ```json
//! {
//!   "schema": "rolechain.check/v1",
//!   "file": "rules.toml",
//!   "holds": false,
//!   "violated": 1,
//!   "rules": [ <rule>, … ],
//!   "diagnostics": [ <diagnostic>, … ]
//! }
//! ```
//!
//! - `file` is the rules file as it was named on the command line.
//! - `holds` is true when every rule holds; `violated` counts the rules that do not.
//! - `rules` lists one result per rule, in file order.
//! - `diagnostics` lists the selectors and actions that matched nothing, with `--allow-empty`
//!   (code `empty-selector`, subject `<file>:<line>:<column>`).
//!
//! ## Rule
//!
//! ```json
//! {
//!   "name": "prod-secrets-stay-in-prod",
//!   "description": "No container outside the Prod OU reads a secret tagged env=prod.",
//!   "expect": "never",
//!   "conditional": "count",
//!   "actions": [],
//!   "line": 4,
//!   "column": 1,
//!   "holds": false,
//!   "sources": 3,
//!   "targets": 2,
//!   "paths": [ <path>, … ],
//!   "uncounted": [ <path>, … ]
//! }
//! ```
//!
//! - `description` is `null` when the rule has none.
//! - `expect` is `never` (no path may exist) or `reach` (some path must).
//! - `conditional` is `count` or `ignore`: whether paths that hold only under conditions the
//!   snapshot cannot decide counted.
//! - `actions` are the rule's action globs; empty for every evaluated action.
//! - `line` and `column` (1-based) locate the rule's `[[rule]]` header.
//! - `sources` and `targets` count the sources its `from` matched and the resources its `to`
//!   matched.
//! - `paths` are the paths that count, as in `rolechain.paths/v1`: for `never`, the forbidden
//!   ones (the rule holds when there is none); for `reach`, those that satisfy it (the rule holds
//!   when there is one). Sorted by `source`, then `target`.
//! - `uncounted` are the conditional paths that `conditional = "ignore"` left out, sorted
//!   likewise.
//!
//! ## Diff: `rolechain.diff/v1`
//!
//! Written by [`write_diff_json`], and printed by `diff --format json` (docs/diff.md):
//!
//! ```json
//! {
//!   "schema": "rolechain.diff/v1",
//!   "summary": { "gained": 1, "lost": 0, "changed": 2, "findings_new": 1, "findings_resolved": 0 },
//!   "gained": [ <path change>, … ],
//!   "lost": [ <path change>, … ],
//!   "changed": [ <changed path>, … ],
//!   "findings_new": [ <finding>, … ],
//!   "findings_resolved": [ <finding>, … ]
//! }
//! ```
//!
//! - `summary` counts each list.
//! - `gained` lists the paths only the new snapshot has, `lost` those only the old one has, and
//!   `changed` those both have whose `status` or `actions` differ; each sorted by `source`, then
//!   `target`, then `plane`.
//! - `findings_new` and `findings_resolved` are findings only the new, or only the old, snapshot
//!   has, matched by (`code`, `subject`, `nodes`), in the order of `rolechain.findings/v1`.
//!
//! ## Path change
//!
//! A path (as in `rolechain.paths/v1`) with three more fields:
//!
//! ```json
//! {
//!   "source": "arn:aws:iam::999999999999:root",
//!   "target": "arn:aws:secretsmanager:…",
//!   "target_kind": "secret",
//!   "plane": "task",
//!   "actions": ["secretsmanager:GetSecretValue"],
//!   "status": "allowed",
//!   "cross_account": true,
//!   "hops": [ <hop>, … ],
//!   "changed_hop": <hop change> | null
//! }
//! ```
//!
//! - `target_kind` is the target's node kind; `plane` is `task` or `agent` (injected or pulled
//!   by the ECS agent).
//! - `changed_hop` is the first hop of the path whose edge the other snapshot lacks or decides
//!   differently, or `null` when every hop is the same there (the path is new only because a
//!   shorter or allowed one was preferred).
//!
//! ## Changed path
//!
//! ```json
//! {
//!   "source": "…", "target": "…", "target_kind": "secret", "plane": "task",
//!   "before": { "status": "allowed", "actions": [ … ], "hops": [ <hop>, … ] },
//!   "after": { "status": "conditional", "actions": [ … ], "hops": [ <hop>, … ] },
//!   "changed_hop": <hop change> | null
//! }
//! ```
//!
//! ## Hop change
//!
//! ```json
//! {
//!   "from": "arn:aws:iam::111111111111:role/app-task",
//!   "to": "arn:aws:secretsmanager:…",
//!   "kind": "accesses",
//!   "before": "allowed",
//!   "after": "conditional",
//!   "added": [ <reason>, … ],
//!   "removed": [ <reason>, … ],
//!   "conditions_added": [ <condition>, … ],
//!   "conditions_removed": [ <condition>, … ]
//! }
//! ```
//!
//! - `before` and `after` are the edge's status in each snapshot, or `null` where it has no such
//!   edge.
//! - `added` are the statements that decide the hop only in the new snapshot, `removed` those
//!   that decided it only in the old one: the statements responsible for the change.
//!
//! ## Reason
//!
//! ```json
//! { "policy_type": "trust", "policy": "arn:aws:iam::222222222222:role/reader", "statement": "0", "effect": "Allow" }
//! ```
//!
//! - `policy_type` is one of `identity`, `resource`, `trust`, `key`, `boundary`, `session`,
//!   `scp`, `rcp`.
//! - `policy` is the policy's id: a managed policy ARN, `<role ARN>#<inline policy name>`, the
//!   ARN of the resource that carries the policy, or an organization policy id.
//! - `statement` is the statement's `Sid`, or its zero-based index as a string.
//! - `effect` is `Allow` or `Deny`.
//!
//! ## Condition
//!
//! A condition the snapshot cannot decide:
//!
//! ```json
//! {
//!   "operator": "StringEquals",
//!   "key": "sts:ExternalId",
//!   "values": ["partner-7"],
//!   "policy": "arn:aws:iam::222222222222:role/reader",
//!   "statement": "TrustPartner",
//!   "effect": "Allow",
//!   "policy_type": "trust"
//! }
//! ```
//!
//! `operator` and `key` are as written in the policy. With `effect` `Allow` the access needs the
//! condition to hold; with `Deny` the access is denied if it holds.
//!
//! ## Blocker
//!
//! What blocks a denied request, tagged by `kind`:
//!
//! - `{"kind": "deny", "reason": <reason>}`: an applicable Deny statement.
//! - `{"kind": "scp_missing_allow", "target": "ou-a1b2-11111111"}`: an SCP level (root, OU or
//!   account id) with no applicable Allow.
//! - `{"kind": "identity_missing_allow"}`: no identity policy allows, where one is needed.
//! - `{"kind": "resource_missing_allow", "policy_type": "resource", "policy": "arn:…"}`: the
//!   resource, trust or key policy does not allow the principal where it must; `policy` may be
//!   `null`.
//! - `{"kind": "boundary_missing_allow", "policy": "arn:…"}`: the permissions boundary does not
//!   allow.
//! - `{"kind": "session_missing_allow", "policy": "…"}`: the session policy does not allow.
//! - `{"kind": "aws_managed_key_cross_account"}`: an AWS-managed KMS key used from another
//!   account.
//! - `{"kind": "not_found", "resource": "arn:…"}`: a secret or parameter that a task definition
//!   names does not exist (its account and region were collected, and it is not listed), so ECS
//!   cannot start the task.
//! - `{"kind": "aws_managed_alias"}`: `kms:CreateAlias`, `kms:UpdateAlias` or `kms:DeleteAlias`
//!   on an AWS-managed alias (`alias/aws/*`), which no one may change.
//! - `{"kind": "key_policy_missing"}`: a KMS key request with no key policy given; a key policy
//!   must always allow. Named only when nothing else blocks the request.
//! - `{"kind": "kms_not_cross_account", "action": "kms:PutKeyPolicy"}`: a KMS action that never
//!   works from another account.
//!
//! ## Diagnostic
//!
//! ```json
//! { "severity": "warning", "code": "unsupported-operator", "subject": "arn:…", "message": "…" }
//! ```
//!
//! `severity` is `warning` or `info`; `code` is a stable kebab-case code.

use std::io;

use serde::Serialize;

use std::collections::BTreeMap;

use crate::analysis::{self, Attempt, Findings, Hop, Path};
use crate::graph::hop::{Ask, Note};
use crate::graph::{AccessGraph, Edge, Node, NodeKind};
use crate::model::{Diagnostic, Severity};
use crate::policy::{Blocker, Decision, OpenCondition, Reason};

/// The `schema` of [`write_graph_json`].
pub const GRAPH_SCHEMA: &str = "rolechain.graph/v1";
/// The `schema` of [`write_paths_json`].
pub const PATHS_SCHEMA: &str = "rolechain.paths/v1";
/// The `schema` of [`write_decision_json`].
pub const DECISION_SCHEMA: &str = "rolechain.decision/v1";
/// The `schema` of [`write_check_json`].
pub const CHECK_SCHEMA: &str = "rolechain.check/v1";

#[derive(Serialize)]
struct GraphDto<'a> {
    schema: &'static str,
    nodes: Vec<NodeDto<'a>>,
    edges: Vec<EdgeDto<'a>>,
}

#[derive(Serialize)]
struct NodeDto<'a> {
    id: &'a str,
    kind: &'static str,
    account: Option<&'a str>,
    label: &'a str,
    parent: Option<&'a str>,
    in_snapshot: bool,
}

#[derive(Serialize)]
struct EdgeDto<'a> {
    from: &'a str,
    to: &'a str,
    kind: &'static str,
    status: &'static str,
    cross_account: bool,
    actions: &'a [String],
    because: Vec<ReasonDto<'a>>,
    conditions: Vec<ConditionDto<'a>>,
    notes: &'a [Note],
}

#[derive(Serialize)]
struct PathsDto<'a> {
    schema: &'static str,
    paths: Vec<PathDto<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    blocked: Vec<AttemptDto<'a>>,
}

#[derive(Serialize)]
struct PathDto<'a> {
    source: &'a str,
    target: &'a str,
    actions: &'a [String],
    status: &'static str,
    cross_account: bool,
    hops: Vec<HopDto<'a>>,
}

#[derive(Serialize)]
struct HopDto<'a> {
    from: &'a str,
    to: &'a str,
    kind: &'static str,
    status: &'static str,
    because: Vec<ReasonDto<'a>>,
    conditions: Vec<ConditionDto<'a>>,
    notes: &'a [Note],
}

#[derive(Serialize)]
struct DecisionDto<'a> {
    schema: &'static str,
    decision: &'static str,
    conditional: bool,
    because: Vec<ReasonDto<'a>>,
    conditions: Vec<ConditionDto<'a>>,
    blocked_by: Option<BlockerDto<'a>>,
    diagnostics: Vec<DiagnosticDto<'a>>,
}

#[derive(Serialize)]
struct ReasonDto<'a> {
    policy_type: &'static str,
    policy: &'a str,
    statement: &'a str,
    effect: &'static str,
}

#[derive(Serialize)]
struct ConditionDto<'a> {
    operator: &'a str,
    key: &'a str,
    values: &'a [String],
    policy: &'a str,
    statement: &'a str,
    effect: &'static str,
    policy_type: &'static str,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum BlockerDto<'a> {
    Deny {
        reason: ReasonDto<'a>,
    },
    ScpMissingAllow {
        target: &'a str,
    },
    IdentityMissingAllow,
    ResourceMissingAllow {
        policy_type: &'static str,
        policy: Option<&'a str>,
    },
    BoundaryMissingAllow {
        policy: &'a str,
    },
    SessionMissingAllow {
        policy: &'a str,
    },
    AwsManagedKeyCrossAccount,
    NotFound {
        resource: &'a str,
    },
    AwsManagedAlias,
    KeyPolicyMissing,
    KmsNotCrossAccount {
        action: &'a str,
    },
}

#[derive(Serialize)]
struct DiagnosticDto<'a> {
    severity: &'static str,
    code: &'static str,
    subject: &'a str,
    message: &'a str,
}

impl<'a> NodeDto<'a> {
    fn new(node: &'a Node) -> Self {
        NodeDto {
            id: &node.id,
            kind: node.kind.as_str(),
            account: node.account.as_deref(),
            label: &node.label,
            parent: node.parent.as_deref(),
            in_snapshot: node.in_snapshot,
        }
    }
}

impl<'a> EdgeDto<'a> {
    fn new(from: &'a str, to: &'a str, edge: &'a Edge) -> Self {
        EdgeDto {
            from,
            to,
            kind: edge.kind.as_str(),
            status: edge.status.as_str(),
            cross_account: edge.cross_account,
            actions: edge.actions(),
            because: reasons(edge.because()),
            conditions: conditions(edge.conditions()),
            notes: edge.notes(),
        }
    }
}

impl<'a> PathDto<'a> {
    fn new(path: &'a Path) -> Self {
        PathDto {
            source: &path.source,
            target: &path.target,
            actions: &path.actions,
            status: path.status.as_str(),
            cross_account: path.cross_account,
            hops: path.hops.iter().map(HopDto::new).collect(),
        }
    }
}

impl<'a> HopDto<'a> {
    fn new(hop: &'a Hop) -> Self {
        HopDto {
            from: &hop.from,
            to: &hop.to,
            kind: hop.kind.as_str(),
            status: hop.status.as_str(),
            because: reasons(&hop.because),
            conditions: conditions(&hop.conditions),
            notes: &hop.notes,
        }
    }
}

impl<'a> ReasonDto<'a> {
    fn new(reason: &'a Reason) -> Self {
        ReasonDto {
            policy_type: reason.policy_type.as_str(),
            policy: &reason.policy,
            statement: &reason.statement,
            effect: reason.effect.as_str(),
        }
    }
}

impl<'a> ConditionDto<'a> {
    fn new(condition: &'a OpenCondition) -> Self {
        ConditionDto {
            operator: &condition.operator,
            key: &condition.key,
            values: &condition.values,
            policy: &condition.policy,
            statement: &condition.statement,
            effect: condition.effect.as_str(),
            policy_type: condition.policy_type.as_str(),
        }
    }
}

impl<'a> BlockerDto<'a> {
    fn new(blocker: &'a Blocker) -> Self {
        match blocker {
            Blocker::Deny(reason) => BlockerDto::Deny {
                reason: ReasonDto::new(reason),
            },
            Blocker::ScpMissingAllow { target } => BlockerDto::ScpMissingAllow { target },
            Blocker::IdentityMissingAllow => BlockerDto::IdentityMissingAllow,
            Blocker::ResourceMissingAllow {
                policy_type,
                policy,
            } => BlockerDto::ResourceMissingAllow {
                policy_type: policy_type.as_str(),
                policy: policy.as_deref(),
            },
            Blocker::BoundaryMissingAllow { policy } => BlockerDto::BoundaryMissingAllow { policy },
            Blocker::SessionMissingAllow { policy } => BlockerDto::SessionMissingAllow { policy },
            Blocker::AwsManagedKeyCrossAccount => BlockerDto::AwsManagedKeyCrossAccount,
            Blocker::NotFound { resource } => BlockerDto::NotFound { resource },
            Blocker::AwsManagedAlias => BlockerDto::AwsManagedAlias,
            Blocker::KeyPolicyMissing => BlockerDto::KeyPolicyMissing,
            Blocker::KmsNotCrossAccount { action } => BlockerDto::KmsNotCrossAccount { action },
        }
    }
}

impl<'a> DiagnosticDto<'a> {
    fn new(diagnostic: &'a Diagnostic) -> Self {
        DiagnosticDto {
            severity: match diagnostic.severity {
                Severity::Info => "info",
                Severity::Warning => "warning",
            },
            code: diagnostic.code,
            subject: &diagnostic.subject,
            message: &diagnostic.message,
        }
    }
}

fn reasons(reasons: &[Reason]) -> Vec<ReasonDto<'_>> {
    reasons.iter().map(ReasonDto::new).collect()
}

fn conditions(conditions: &[OpenCondition]) -> Vec<ConditionDto<'_>> {
    conditions.iter().map(ConditionDto::new).collect()
}

/// One reason as a compact JSON object, spelled as in the wire format above, for exports that
/// store a proof as strings (Cypher and GraphML property values cannot be maps).
pub(super) fn reason_compact(reason: &Reason) -> String {
    // INVARIANT: the DTO holds only strings, so serializing it cannot fail.
    serde_json::to_string(&ReasonDto::new(reason)).unwrap_or_default()
}

/// One open condition as a compact JSON object, spelled as in the wire format above.
pub(super) fn condition_compact(condition: &OpenCondition) -> String {
    // INVARIANT: the DTO holds only strings and lists of strings, so serializing it cannot fail.
    serde_json::to_string(&ConditionDto::new(condition)).unwrap_or_default()
}

/// Pretty-prints with a two-space indent and a final newline, and flushes.
fn write_pretty<T: Serialize>(value: &T, mut out: impl io::Write) -> io::Result<()> {
    // INVARIANT: the DTOs hold only strings, booleans, sequences and structs with string keys,
    // so the only error serializing them can meet is the writer's; serde_json's conversion back
    // into `io::Error` returns that error as it was, kind and all.
    serde_json::to_writer_pretty(&mut out, value)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Writes the whole graph as a `rolechain.graph/v1` document: nodes sorted by id, edges sorted
/// by (from, to, kind).
///
/// It has the shape of every graph exporter, and has no warnings to return.
///
/// # Errors
///
/// The first error `out` returns, as it is.
///
/// # Complexity
///
/// O((n + e) log(n + e)) time and O(n + e) space for n nodes and e edges: edges are sorted once,
/// and nodes are looked up in ordered maps.
///
/// # Example
///
/// ```
/// let graph = rolechain::graph::AccessGraph::default();
/// let mut json = Vec::new();
/// let warnings = rolechain::export::write_graph_json(&graph, &mut json)?;
/// assert!(json.starts_with(b"{\n  \"schema\": \"rolechain.graph/v1\""));
/// assert!(warnings.is_empty());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_graph_json(graph: &AccessGraph, out: impl io::Write) -> io::Result<Vec<Diagnostic>> {
    let g = &graph.graph;
    let nodes = graph
        .index
        .values()
        .map(|&ix| NodeDto::new(&g[ix]))
        .collect();
    let edges = super::sorted_edges(graph)
        .into_iter()
        .filter_map(|e| {
            let (from, to) = g.edge_endpoints(e)?;
            Some(EdgeDto::new(&g[from].id, &g[to].id, &g[e]))
        })
        .collect();
    write_pretty(
        &GraphDto {
            schema: GRAPH_SCHEMA,
            nodes,
            edges,
        },
        out,
    )?;
    Ok(Vec::new())
}

/// Writes paths as a `rolechain.paths/v1` document (SNAPSHOT-V1 §3), in the order given.
///
/// The caller sorts them by source, then target, as the contract requires.
///
/// # Errors
///
/// The first error `out` returns, as it is.
pub fn write_paths_json(paths: &[Path], out: impl io::Write) -> io::Result<()> {
    write_pretty(
        &PathsDto {
            schema: PATHS_SCHEMA,
            paths: paths.iter().map(PathDto::new).collect(),
            blocked: Vec::new(),
        },
        out,
    )
}

/// Writes paths as [`write_paths_json`] does, with the denied references of the containers the
/// query covers in the optional `blocked` list (left out when empty, so the document is then
/// byte-identical to [`write_paths_json`]'s).
///
/// # Errors
///
/// The first error `out` returns, as it is.
pub fn write_paths_blocked_json(
    paths: &[Path],
    blocked: &[Attempt],
    out: impl io::Write,
) -> io::Result<()> {
    write_pretty(
        &PathsDto {
            schema: PATHS_SCHEMA,
            paths: paths.iter().map(PathDto::new).collect(),
            blocked: blocked.iter().map(AttemptDto::new).collect(),
        },
        out,
    )
}

/// The `schema` of [`write_findings_json`].
pub const FINDINGS_SCHEMA: &str = "rolechain.findings/v1";

#[derive(Serialize)]
struct FindingsDto<'a> {
    schema: &'static str,
    counts: BTreeMap<&'static str, usize>,
    findings: Vec<FindingDto<'a>>,
}

#[derive(Serialize)]
struct FindingDto<'a> {
    code: &'static str,
    severity: &'static str,
    subject: &'a str,
    nodes: Vec<InvolvedDto<'a>>,
    paths: Vec<PathDto<'a>>,
    blocked: Option<AttemptDto<'a>>,
}

#[derive(Serialize)]
struct InvolvedDto<'a> {
    id: &'a str,
    kind: Option<&'static str>,
}

/// Writes findings as a `rolechain.findings/v1` document, in their order.
///
/// # Errors
///
/// The first error `out` returns, as it is.
pub fn write_findings_json(findings: &Findings, out: impl io::Write) -> io::Result<()> {
    let dto = FindingsDto {
        schema: FINDINGS_SCHEMA,
        counts: analysis::Severity::ALL
            .iter()
            .map(|&s| (s.as_str(), findings.count(s)))
            .collect(),
        findings: findings.findings.iter().map(FindingDto::new).collect(),
    };
    write_pretty(&dto, out)
}

impl<'a> FindingDto<'a> {
    fn new(f: &'a analysis::Finding) -> Self {
        FindingDto {
            code: f.code.as_str(),
            severity: f.severity().as_str(),
            subject: &f.subject,
            nodes: f
                .nodes
                .iter()
                .map(|n| InvolvedDto {
                    id: &n.id,
                    kind: n.kind.map(NodeKind::as_str),
                })
                .collect(),
            paths: f.paths.iter().map(PathDto::new).collect(),
            blocked: f.blocked.as_ref().map(AttemptDto::new),
        }
    }
}

/// The `schema` of [`write_diff_json`].
pub const DIFF_SCHEMA: &str = "rolechain.diff/v1";

#[derive(Serialize)]
struct DiffDto<'a> {
    schema: &'static str,
    summary: SummaryDto,
    gained: Vec<PathDeltaDto<'a>>,
    lost: Vec<PathDeltaDto<'a>>,
    changed: Vec<ChangedDto<'a>>,
    findings_new: Vec<FindingDto<'a>>,
    findings_resolved: Vec<FindingDto<'a>>,
}

#[derive(Serialize)]
struct SummaryDto {
    gained: usize,
    lost: usize,
    changed: usize,
    findings_new: usize,
    findings_resolved: usize,
}

#[derive(Serialize)]
struct PathDeltaDto<'a> {
    source: &'a str,
    target: &'a str,
    target_kind: &'static str,
    plane: &'static str,
    actions: &'a [String],
    status: &'static str,
    cross_account: bool,
    hops: Vec<HopDto<'a>>,
    changed_hop: Option<HopChangeDto<'a>>,
}

#[derive(Serialize)]
struct ChangedDto<'a> {
    source: &'a str,
    target: &'a str,
    target_kind: &'static str,
    plane: &'static str,
    before: SideDto<'a>,
    after: SideDto<'a>,
    changed_hop: Option<HopChangeDto<'a>>,
}

#[derive(Serialize)]
struct SideDto<'a> {
    status: &'static str,
    actions: &'a [String],
    hops: Vec<HopDto<'a>>,
}

#[derive(Serialize)]
struct HopChangeDto<'a> {
    from: &'a str,
    to: &'a str,
    kind: &'static str,
    before: Option<&'static str>,
    after: Option<&'static str>,
    added: Vec<ReasonDto<'a>>,
    removed: Vec<ReasonDto<'a>>,
    conditions_added: Vec<ConditionDto<'a>>,
    conditions_removed: Vec<ConditionDto<'a>>,
}

impl<'a> PathDeltaDto<'a> {
    fn new(d: &'a analysis::PathDelta) -> Self {
        PathDeltaDto {
            source: &d.path.source,
            target: &d.path.target,
            target_kind: d.target_kind.as_str(),
            plane: analysis::plane_str(d.plane),
            actions: &d.path.actions,
            status: d.path.status.as_str(),
            cross_account: d.path.cross_account,
            hops: d.path.hops.iter().map(HopDto::new).collect(),
            changed_hop: d.hop.as_ref().map(HopChangeDto::new),
        }
    }
}

impl<'a> SideDto<'a> {
    fn new(p: &'a Path) -> Self {
        SideDto {
            status: p.status.as_str(),
            actions: &p.actions,
            hops: p.hops.iter().map(HopDto::new).collect(),
        }
    }
}

impl<'a> HopChangeDto<'a> {
    fn new(h: &'a analysis::HopChange) -> Self {
        HopChangeDto {
            from: &h.from,
            to: &h.to,
            kind: h.kind.as_str(),
            before: h.before.map(|s| s.as_str()),
            after: h.after.map(|s| s.as_str()),
            added: reasons(&h.added),
            removed: reasons(&h.removed),
            conditions_added: conditions(&h.conditions_added),
            conditions_removed: conditions(&h.conditions_removed),
        }
    }
}

/// Writes the difference between two snapshots as a `rolechain.diff/v1` document, in the
/// order of [`analysis::Diff`]'s lists.
///
/// # Errors
///
/// The first error `out` returns, as it is.
///
/// # Example
///
/// ```
/// let mut json = Vec::new();
/// rolechain::export::write_diff_json(&rolechain::analysis::Diff::default(), &mut json)?;
/// assert!(json.starts_with(b"{\n  \"schema\": \"rolechain.diff/v1\""));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_diff_json(diff: &analysis::Diff, out: impl io::Write) -> io::Result<()> {
    let dto = DiffDto {
        schema: DIFF_SCHEMA,
        summary: SummaryDto {
            gained: diff.gained.len(),
            lost: diff.lost.len(),
            changed: diff.changed.len(),
            findings_new: diff.new_findings.len(),
            findings_resolved: diff.resolved_findings.len(),
        },
        gained: diff.gained.iter().map(PathDeltaDto::new).collect(),
        lost: diff.lost.iter().map(PathDeltaDto::new).collect(),
        changed: diff
            .changed
            .iter()
            .map(|c| ChangedDto {
                source: &c.after.source,
                target: &c.after.target,
                target_kind: c.target_kind.as_str(),
                plane: analysis::plane_str(c.plane),
                before: SideDto::new(&c.before),
                after: SideDto::new(&c.after),
                changed_hop: c.hop.as_ref().map(HopChangeDto::new),
            })
            .collect(),
        findings_new: diff.new_findings.iter().map(FindingDto::new).collect(),
        findings_resolved: diff.resolved_findings.iter().map(FindingDto::new).collect(),
    };
    write_pretty(&dto, out)
}

/// Writes one decision as a `rolechain.decision/v1` document (SNAPSHOT-V1 §4).
///
/// # Errors
///
/// The first error `out` returns, as it is.
pub fn write_decision_json(decision: &Decision, out: impl io::Write) -> io::Result<()> {
    let dto = DecisionDto {
        schema: DECISION_SCHEMA,
        decision: decision.outcome.as_str(),
        conditional: decision.conditional,
        because: reasons(&decision.because),
        conditions: conditions(&decision.conditions),
        blocked_by: decision.blocked_by.as_ref().map(BlockerDto::new),
        diagnostics: decision
            .diagnostics
            .iter()
            .map(DiagnosticDto::new)
            .collect(),
    };
    write_pretty(&dto, out)
}

/// The schema name of `explain --format json`.
pub const EXPLANATION_SCHEMA: &str = "rolechain.explanation/v1";

#[derive(Serialize)]
struct ExplanationDto<'a> {
    schema: &'static str,
    from: &'a str,
    to: &'a str,
    actions: &'a [String],
    allowed: bool,
    paths: Vec<PathDto<'a>>,
    attempts: Vec<AttemptDto<'a>>,
}

#[derive(Serialize)]
struct AttemptDto<'a> {
    hop: &'static str,
    from: &'a str,
    to: &'a str,
    blocked_by: &'static str,
    blocker: Option<BlockerDto<'a>>,
    request: &'a Ask,
    message: &'a Note,
}

impl<'a> AttemptDto<'a> {
    fn new(a: &'a Attempt) -> Self {
        AttemptDto {
            hop: a.hop.as_str(),
            from: &a.from,
            to: &a.to,
            blocked_by: a.blocked_by(),
            blocker: a.block.blocker.as_ref().map(BlockerDto::new),
            request: &a.block.request,
            message: &a.block.message,
        }
    }
}

/// Writes an explanation as a `rolechain.explanation/v1` document: `allowed`, the working
/// `paths` (as in `rolechain.paths/v1`), and, when none works, the failed `attempts`, closest
/// first, each with the hop kind, its ends, `blocked_by` (a stable word such as `trust`, `key`,
/// `identity`, `explicit-deny`), the evaluator's blocker, the failing request and a sentence.
///
/// # Errors
///
/// The first error `out` returns, as it is.
pub fn write_explanation_json(
    explanation: &crate::analysis::Explanation,
    out: impl io::Write,
) -> io::Result<()> {
    let dto = ExplanationDto {
        schema: EXPLANATION_SCHEMA,
        from: &explanation.from,
        to: &explanation.to,
        actions: &explanation.actions,
        allowed: explanation.allowed(),
        paths: explanation.paths.iter().map(PathDto::new).collect(),
        attempts: explanation.attempts.iter().map(AttemptDto::new).collect(),
    };
    write_pretty(&dto, out)
}

#[derive(Serialize)]
struct CheckDto<'a> {
    schema: &'static str,
    file: &'a str,
    holds: bool,
    violated: usize,
    rules: Vec<RuleDto<'a>>,
    diagnostics: Vec<DiagnosticDto<'a>>,
}

#[derive(Serialize)]
struct RuleDto<'a> {
    name: &'a str,
    description: Option<&'a str>,
    expect: &'static str,
    conditional: &'static str,
    actions: &'a [String],
    line: usize,
    column: usize,
    holds: bool,
    sources: usize,
    targets: usize,
    paths: Vec<PathDto<'a>>,
    uncounted: Vec<PathDto<'a>>,
}

/// Writes the outcome of a rules file as a `rolechain.check/v1` document: one result per rule,
/// in file order, with the paths that count and those left uncounted.
///
/// # Errors
///
/// The first error `out` returns, as it is.
///
/// # Example
///
/// ```
/// let report = rolechain::analysis::Report {
///     file: "rules.toml".to_string(),
///     results: Vec::new(),
///     diagnostics: Vec::new(),
/// };
/// let mut json = Vec::new();
/// rolechain::export::write_check_json(&report, &mut json)?;
/// assert!(json.starts_with(b"{\n  \"schema\": \"rolechain.check/v1\""));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_check_json(report: &crate::analysis::Report, out: impl io::Write) -> io::Result<()> {
    write_pretty(
        &CheckDto {
            schema: CHECK_SCHEMA,
            file: &report.file,
            holds: report.holds(),
            violated: report.violated().count(),
            rules: report
                .results
                .iter()
                .map(|r| RuleDto {
                    name: &r.name,
                    description: r.description.as_deref(),
                    expect: r.expect.as_str(),
                    conditional: r.conditional.as_str(),
                    actions: &r.actions,
                    line: r.at.line,
                    column: r.at.column,
                    holds: r.holds(),
                    sources: r.sources,
                    targets: r.targets,
                    paths: r.paths.iter().map(PathDto::new).collect(),
                    uncounted: r.uncounted.iter().map(PathDto::new).collect(),
                })
                .collect(),
            diagnostics: report.diagnostics.iter().map(DiagnosticDto::new).collect(),
        },
        out,
    )
}
