//! Holding a graph to reachability rules (`rolechain check`): each rule's sources and targets
//! are the nodes its selectors match, and its paths are those [`who_can`] and [`reach`] find
//! between them.
//!
//! A selector that matches nothing is never silently true. Every test in a rule (`ou = "Prod"`,
//! `tag = { env = "prod" }`, …), wherever it stands, even under `not`, must match some node of
//! the graph; each rule's `from` must match some source and its `to` some resource; and each of
//! its actions must be one the graph evaluated on those resources. Otherwise [`check`] fails
//! with [`CheckError::Empty`], or, with [`CheckOptions::allow_empty`] or the rule's own
//! `allow_empty`, goes on and returns a warning: a `never` rule over nothing then holds, and a
//! `reach` rule over nothing fails.
//!
//! Each rule searches from its smaller side: one backward search per target ([`who_can`]) or one
//! forward search per source ([`reach`]). Both give, for each (source, target, plane), one
//! shortest path, allowed preferred to conditional, so the choice changes at most which of two
//! equally short paths is shown (`searching_from_either_side_finds_the_same_pairs` in
//! tests/it/check.rs holds them to that).
//!
//! The paths are exact for the question asked. A rule with `actions` is searched in a view of the
//! graph whose last hops (`accesses`, `injects`, `pulls`) allow one of them, so a shorter path
//! that allows other actions cannot hide one that allows these. A path that is conditional is
//! counted or not as the rule says (`conditional`); the searches prefer allowed paths, so a pair
//! with any allowed path is reported with one.

use std::collections::BTreeSet;

use petgraph::graph::NodeIndex;

use super::search::{closest, is_source, sort_paths};
use super::{Path, reach, who_can};
use crate::graph::kinds;
use crate::graph::{AccessGraph, Attributes, EdgeKind, EdgeStatus};
use crate::model::Diagnostic;
use crate::model::rules::{Conditional, Expect, Located, Position, Rule, Rules, Selector, Test};
use crate::policy::glob;

/// How to check.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// The actions the graph was built with (`BuildOptions::actions`): `None` for each resource
    /// type's defaults. Rule actions are checked against them.
    pub actions: Option<Vec<String>>,
    /// A selector or action that matches nothing is a warning instead of an error.
    pub allow_empty: bool,
}

/// The outcome of one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleResult {
    /// The rule's name.
    pub name: String,
    /// The rule's description.
    pub description: Option<String>,
    /// Never reachable, or reachable.
    pub expect: Expect,
    /// Whether conditional paths counted.
    pub conditional: Conditional,
    /// The rule's action globs, empty for every evaluated action.
    pub actions: Vec<String>,
    /// Where the rule starts in its file.
    pub at: Position,
    /// How many sources `from` matched.
    pub sources: usize,
    /// How many resources `to` matched.
    pub targets: usize,
    /// The paths that count: for `never`, the forbidden ones; for `reach`, those that satisfy
    /// it. One per (source, target, plane), sorted by source, then target.
    pub paths: Vec<Path>,
    /// Conditional paths left out because the rule does not count them, sorted likewise.
    pub uncounted: Vec<Path>,
}

impl RuleResult {
    /// True when the rule holds: no counted path for `never`, some for `reach`.
    pub fn holds(&self) -> bool {
        match self.expect {
            Expect::Never => self.paths.is_empty(),
            Expect::Reach => !self.paths.is_empty(),
        }
    }
}

/// The outcome of a rules file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The rules file, as named.
    pub file: String,
    /// One result per rule, in file order.
    pub results: Vec<RuleResult>,
    /// Selectors and actions that matched nothing, with `allow_empty`.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// The rules that do not hold.
    pub fn violated(&self) -> impl Iterator<Item = &RuleResult> {
        self.results.iter().filter(|r| !r.holds())
    }

    /// True when every rule holds.
    pub fn holds(&self) -> bool {
        self.results.iter().all(RuleResult::holds)
    }
}

/// Why a rules file cannot be checked against a graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// A test, a side of a rule or an action matches nothing.
    #[error("`{file}:{at}`: rule `{rule}`: {what}")]
    Empty {
        /// The rules file.
        file: String,
        /// Where the part that matches nothing is written.
        at: Position,
        /// The rule's name.
        rule: String,
        /// What matches nothing, in words.
        what: String,
        /// The node ids closest to an `id` test that matches nothing.
        suggestions: Vec<String>,
    },
}

/// Checks every rule of `rules` against `graph`, whose [`Attributes`] are `attributes`.
///
/// # Errors
/// [`CheckError::Empty`] for the first test, side or action that matches nothing, unless
/// `options.allow_empty` or the rule's `allow_empty`.
///
/// # Complexity
/// Per rule, O(k · n) to match its k tests against the n nodes, then one breadth-first search
/// per target or per source, whichever are fewer: O(min(S, T) · (V + E)). A rule with actions
/// first copies the graph without the last hops that allow none of them: O(V + E).
///
/// # Example
/// ```
/// use rolechain::{analysis, collect, graph};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let snapshot = r#"{"schema": "rolechain.snapshot/v1", "accounts": [{"id": "111111111111",
///   "iam": {"RoleDetailList": [{"RoleName": "app", "Arn": "arn:aws:iam::111111111111:role/app",
///     "AssumeRolePolicyDocument": {"Statement": []},
///     "RolePolicyList": [{"PolicyName": "read", "PolicyDocument": {"Statement": [{
///       "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}}]}]},
///   "regions": {"us-east-1": {"secrets": [{"Name": "db", "Tags": [{"Key": "env", "Value": "prod"}],
///     "ARN": "arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbCdEf"}]}}}]}"#;
/// let inventory = collect::load_str(snapshot, "snapshot.json")?;
/// let g = graph::build(&inventory, &graph::BuildOptions::default());
/// let attributes = graph::Attributes::new(&inventory, &g);
/// let rules = collect::rules::parse_rules(r#"
///     schema = "rolechain.rules/v1"
///     [[rule]]
///     name = "no role reads prod secrets"
///     expect = "never"
///     from = { kind = "role" }
///     to = { tag = { env = "prod" } }
/// "#, "rules.toml")?;
/// let report = analysis::check(&g, &attributes, &rules, &analysis::CheckOptions::default())?;
/// assert!(!report.holds());
/// assert_eq!(report.results[0].paths[0].source, "arn:aws:iam::111111111111:role/app");
/// # Ok(())
/// # }
/// ```
pub fn check(
    graph: &AccessGraph,
    attributes: &Attributes,
    rules: &Rules,
    options: &CheckOptions,
) -> Result<Report, CheckError> {
    let m = Matcher {
        g: graph,
        a: attributes,
    };
    let mut diagnostics = Vec::new();
    let mut empty = |rule: &Rule, at: Position, what: String, suggestions: Vec<String>| {
        if options.allow_empty || rule.allow_empty {
            diagnostics.push(Diagnostic::warning(
                "empty-selector",
                format!("{}:{at}", rules.file),
                format!("rule `{}`: {what}", rule.name),
            ));
            Ok(())
        } else {
            Err(CheckError::Empty {
                file: rules.file.clone(),
                at,
                rule: rule.name.clone(),
                what,
                suggestions,
            })
        }
    };
    let mut results = Vec::new();
    for rule in &rules.rules {
        for side in [&rule.from, &rule.to] {
            for test in tests(side) {
                if !graph.graph.node_indices().any(|n| m.test(n, &test.value)) {
                    let suggestions = match &test.value {
                        Test::Id(ids) => ids.iter().flat_map(|id| closest(graph, id)).collect(),
                        _ => Vec::new(),
                    };
                    empty(rule, test.at, m.nothing(&test.value), suggestions)?;
                }
            }
        }
        let sources: BTreeSet<NodeIndex> = graph
            .graph
            .node_indices()
            .filter(|&n| is_source(graph.graph[n].kind) && m.selector(n, &rule.from))
            .collect();
        let targets: BTreeSet<NodeIndex> = graph
            .graph
            .node_indices()
            .filter(|&n| graph.graph[n].kind.is_resource() && m.selector(n, &rule.to))
            .collect();
        if sources.is_empty() {
            empty(
                rule,
                rule.at,
                "`from` matches no source of the snapshot (a container, role, user, service principal or principal outside the snapshot)".to_string(),
                Vec::new(),
            )?;
        }
        if targets.is_empty() {
            empty(
                rule,
                rule.at,
                "`to` matches no resource of the snapshot".to_string(),
                Vec::new(),
            )?;
        }
        for action in &rule.actions {
            if !targets.is_empty() && !evaluated(graph, &targets, options, &action.value) {
                empty(
                    rule,
                    action.at,
                    format!(
                        "action `{}` is not evaluated on the resources `to` matches; pass it with `--action`",
                        action.value
                    ),
                    Vec::new(),
                )?;
            }
        }
        results.push(evaluate(graph, rule, &sources, &targets));
    }
    Ok(Report {
        file: rules.file.clone(),
        results,
        diagnostics,
    })
}

/// The paths of one rule between its matched sources and targets.
fn evaluate(
    graph: &AccessGraph,
    rule: &Rule,
    sources: &BTreeSet<NodeIndex>,
    targets: &BTreeSet<NodeIndex>,
) -> RuleResult {
    let view;
    let g = if rule.actions.is_empty() {
        graph
    } else {
        view = allowing(graph, &rule.actions);
        &view
    };
    let mut found = Vec::new();
    if !sources.is_empty() && !targets.is_empty() {
        // Search from the smaller side: one backward search per target, or one forward search
        // per source.
        if targets.len() <= sources.len() {
            for &t in targets {
                found.extend(
                    who_can(g, t, None)
                        .into_iter()
                        .filter(|p| g.index.get(&p.source).is_some_and(|s| sources.contains(s))),
                );
            }
        } else {
            let list: Vec<NodeIndex> = sources.iter().copied().collect();
            found.extend(
                reach(g, &list, None, None)
                    .into_iter()
                    .filter(|p| g.index.get(&p.target).is_some_and(|t| targets.contains(t))),
            );
        }
    }
    sort_paths(&mut found);
    let (paths, uncounted) = match rule.conditional {
        Conditional::Count => (found, Vec::new()),
        Conditional::Ignore => found
            .into_iter()
            .partition(|p| p.status == EdgeStatus::Allowed),
    };
    RuleResult {
        name: rule.name.clone(),
        description: rule.description.clone(),
        expect: rule.expect,
        conditional: rule.conditional,
        actions: rule.actions.iter().map(|a| a.value.clone()).collect(),
        at: rule.at,
        sources: sources.len(),
        targets: targets.len(),
        paths,
        uncounted,
    }
}

/// True for the last hops of paths: the edges that end at a resource and carry its actions.
fn is_last_hop(kind: EdgeKind) -> bool {
    matches!(
        kind,
        EdgeKind::Accesses | EdgeKind::Injects | EdgeKind::Pulls
    )
}

fn action_matches(pattern: &str, action: &str) -> bool {
    glob::matches_ignore_case(pattern, action)
}

/// The graph without the last hops that allow none of `actions`. Nodes keep their indices.
fn allowing(g: &AccessGraph, actions: &[Located<String>]) -> AccessGraph {
    let graph = g.graph.filter_map(
        |_, node| Some(node.clone()),
        |_, edge| {
            let keep = !is_last_hop(edge.kind)
                || edge
                    .actions()
                    .iter()
                    .any(|a| actions.iter().any(|p| action_matches(&p.value, a)));
            keep.then(|| edge.clone())
        },
    );
    AccessGraph {
        graph,
        index: g.index.clone(),
        diagnostics: Vec::new(),
    }
}

/// True when the graph evaluated an action that `pattern` matches on some of `targets`: one of
/// the build's actions for the target's type, or one an edge into it carries (the agent's
/// `kms:Decrypt`, say).
fn evaluated(
    g: &AccessGraph,
    targets: &BTreeSet<NodeIndex>,
    options: &CheckOptions,
    pattern: &str,
) -> bool {
    targets.iter().any(|&t| {
        let built = kinds::actions_for(g.graph[t].kind, options.actions.as_deref())
            .iter()
            .any(|a| action_matches(pattern, a));
        built
            || g.graph
                .edges_directed(t, petgraph::Direction::Incoming)
                .flat_map(|e| e.weight().actions().iter())
                .any(|a| action_matches(pattern, a))
    })
}

/// Every test of a selector, wherever it stands.
fn tests(s: &Selector) -> Vec<&Located<Test>> {
    match s {
        Selector::All(parts) | Selector::Any(parts) => parts.iter().flat_map(tests).collect(),
        Selector::Not(inner) => tests(inner),
        Selector::Test(t) => vec![t],
    }
}

struct Matcher<'a> {
    g: &'a AccessGraph,
    a: &'a Attributes,
}

impl Matcher<'_> {
    fn selector(&self, n: NodeIndex, s: &Selector) -> bool {
        match s {
            Selector::All(parts) => parts.iter().all(|p| self.selector(n, p)),
            Selector::Any(parts) => parts.iter().any(|p| self.selector(n, p)),
            Selector::Not(inner) => !self.selector(n, inner),
            Selector::Test(t) => self.test(n, &t.value),
        }
    }

    fn test(&self, n: NodeIndex, test: &Test) -> bool {
        let node = &self.g.graph[n];
        let account = node.account.as_deref();
        // A service or cluster is named by its ARN or its name.
        let names = |x: NodeIndex, values: &[String]| {
            let other = &self.g.graph[x];
            values.contains(&other.id) || values.contains(&other.label)
        };
        match test {
            Test::Id(ids) => ids.contains(&node.id),
            Test::Arn(globs) => globs.iter().any(|p| glob::matches(p, &node.id)),
            Test::Kind(kinds) => kinds.iter().any(|k| k == node.kind.as_str()),
            Test::Account(values) => account.is_some_and(|a| {
                values.iter().any(|v| v == a)
                    || self
                        .a
                        .account_names(a)
                        .any(|name| values.iter().any(|v| v == name))
            }),
            Test::Ou(values) => account.is_some_and(|a| {
                self.a.units(a).iter().any(|u| {
                    values.contains(u)
                        || self
                            .a
                            .unit_name(u)
                            .is_some_and(|name| values.iter().any(|v| v == name))
                })
            }),
            Test::Tag(wanted) => self.a.tags(&node.id).is_some_and(|tags| {
                wanted
                    .iter()
                    .all(|(k, pattern)| tags.get(k).is_some_and(|v| glob::matches(pattern, v)))
            }),
            Test::Service(values) => self.a.services(n).any(|x| names(x, values)),
            Test::Cluster(values) => self.a.clusters(n).any(|x| names(x, values)),
        }
    }

    /// Why a test matches no node, in words.
    fn nothing(&self, test: &Test) -> String {
        let mut what = format!("`{test}` matches no node of the snapshot");
        if let Test::Ou(values) = test {
            let known = self.a.known_units();
            if values
                .iter()
                .all(|v| !v.starts_with("ou-") && !v.starts_with("r-"))
                && known.iter().all(|u| self.a.unit_name(u).is_none())
            {
                what.push_str(" (the snapshot names no OU: OU names come from `organization.organizational_units`)");
            }
        }
        what
    }
}

#[cfg(test)]
mod tests {
    use crate::graph::NodeKind;
    use crate::model::rules::KINDS;

    /// The rules file's node kinds are the graph's.
    #[test]
    fn rule_kinds_are_the_graph_kinds() {
        let graph: Vec<&str> = NodeKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(graph, KINDS);
    }
}
