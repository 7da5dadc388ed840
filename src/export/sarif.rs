//! Findings as SARIF 2.1.0, the format code-scanning services read.
//!
//! One run of the tool `rolechain`, with one rule per finding code (every code, found or not, so
//! a rule's index never changes) and one result per finding, in the order of the findings.
//!
//! - A rule has the code as `id`, a PascalCase `name`, the code's summary as `shortDescription`,
//!   `help` naming the code's section of docs/findings.md (the project publishes no web address
//!   to point `helpUri` at, so there is none), and a default level from the
//!   code's severity: `critical` and `high` are `error`, `medium` is `warning`, `low` and `info`
//!   are `note`. Its `properties` carry `severity` and a `security-severity` score (critical 9.5,
//!   high 8.0, medium 5.5, low 3.0, info 0.0) for services that rank by it.
//! - A result names its rule by `ruleId` and `ruleIndex`, says what and where in `message.text`,
//!   and lists the nodes involved as `locations`, one logical location each:
//!   `fullyQualifiedName` is the node id (an ARN, a container id), `name` its last part, and
//!   `kind` the node kind (`container`, `role`, `secret`, …). The first location is the subject.
//!   `partialFingerprints` holds `rolechain/v1`, the code and node ids joined, which stays the
//!   same from one run to the next while the finding stays.
//!
//! The same findings always give the same bytes: nothing here depends on time or hash order.

use std::io;

use serde::Serialize;

use crate::analysis::{Code, Finding, Findings, Severity};

/// The SARIF version written.
pub const SARIF_VERSION: &str = "2.1.0";
/// The `$schema` of the document written.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
struct Run<'a> {
    tool: Tool,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Text,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    severity: &'static str,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    tags: [&'static str; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    rule_index: usize,
    kind: &'static str,
    level: &'static str,
    message: Text,
    locations: Vec<Location<'a>>,
    partial_fingerprints: Fingerprints,
    properties: ResultProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    logical_locations: [LogicalLocation<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation<'a> {
    name: &'a str,
    fully_qualified_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
}

#[derive(Serialize)]
struct Fingerprints {
    #[serde(rename = "rolechain/v1")]
    v1: String,
}

#[derive(Serialize)]
struct ResultProperties {
    severity: &'static str,
}

/// The SARIF level of a severity.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// `launch-secret-unreadable` → `LaunchSecretUnreadable`.
fn pascal(code: &str) -> String {
    code.split('-')
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// The last part of an id: what follows its last `/` or `#`, or the id.
fn short_name(id: &str) -> &str {
    id.rsplit(['/', '#', ':'])
        .find(|s| !s.is_empty())
        .unwrap_or(id)
}

fn rule(code: Code) -> Rule {
    let severity = code.severity();
    Rule {
        id: code.as_str(),
        name: pascal(code.as_str()),
        short_description: Text {
            text: code.summary().to_string(),
        },
        full_description: Text {
            text: format!("{}.", code.summary()),
        },
        help: Text {
            text: format!(
                "{}. See docs/findings.md#{}.",
                code.summary(),
                code.as_str()
            ),
        },
        default_configuration: Configuration {
            level: level(severity),
        },
        properties: RuleProperties {
            severity: severity.as_str(),
            security_severity: security_severity(severity),
            tags: ["security"],
        },
    }
}

/// The result's message: the subject, what the code means, and the proof in one sentence.
fn message(f: &Finding) -> String {
    let mut text = format!("`{}`: {}", f.subject, f.code.summary());
    if let Some(a) = &f.blocked {
        text.push_str(&format!(
            "; {} `{}` → `{}` is blocked ({}): {}",
            a.hop.as_str(),
            a.from,
            a.to,
            a.blocked_by(),
            a.block.message
        ));
    }
    for p in &f.paths {
        let because: Vec<String> = p
            .hops
            .iter()
            .flat_map(|h| h.because.iter())
            .map(|r| {
                format!(
                    "{} `{}` statement `{}`",
                    r.policy_type.as_str(),
                    r.policy,
                    r.statement
                )
            })
            .collect();
        text.push_str(&format!(
            "; `{}` → `{}` ({}, {} hop{})",
            p.source,
            p.target,
            p.status.as_str(),
            p.hops.len(),
            if p.hops.len() == 1 { "" } else { "s" }
        ));
        if !because.is_empty() {
            text.push_str(&format!(" because {}", because.join(", ")));
        }
    }
    text
}

/// Writes findings as one SARIF 2.1.0 log: every code as a rule, every finding as a result.
///
/// # Errors
///
/// The first error `out` returns, as it is.
pub fn write_findings_sarif(findings: &Findings, out: impl io::Write) -> io::Result<()> {
    let rules: Vec<Rule> = Code::ALL.iter().map(|&c| rule(c)).collect();
    let results = findings
        .findings
        .iter()
        .map(|f| {
            let rule_index = Code::ALL.iter().position(|&c| c == f.code).unwrap_or(0);
            let ids: Vec<&str> = f.nodes.iter().map(|n| n.id.as_str()).collect();
            SarifResult {
                rule_id: f.code.as_str(),
                rule_index,
                kind: "fail",
                level: level(f.severity()),
                message: Text { text: message(f) },
                locations: f
                    .nodes
                    .iter()
                    .map(|n| Location {
                        logical_locations: [LogicalLocation {
                            name: short_name(&n.id),
                            fully_qualified_name: &n.id,
                            kind: n.kind.map(|k| k.as_str()),
                        }],
                    })
                    .collect(),
                partial_fingerprints: Fingerprints {
                    v1: format!("{}|{}", f.code.as_str(), ids.join("|")),
                },
                properties: ResultProperties {
                    severity: f.severity().as_str(),
                },
            }
        })
        .collect();
    let log = Log {
        schema: SARIF_SCHEMA,
        version: SARIF_VERSION,
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "rolechain",
                    version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            results,
        }],
    };
    let mut out = out;
    // INVARIANT: the log holds only strings, numbers, sequences and structs with string keys, so
    // the only error serializing it can meet is the writer's.
    serde_json::to_writer_pretty(&mut out, &log)?;
    out.write_all(b"\n")?;
    out.flush()
}
