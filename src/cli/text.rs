//! Text renderings for people: paths with their proofs, explanations, decisions and the outcome
//! of a rules file, and the difference between two snapshots.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use rolechain::analysis::{
    Attempt, Diff, Explanation, Findings, Hop, HopChange, Path, PathDelta, Plane, Report, Severity,
    plane_str,
};
use rolechain::graph::{AccessGraph, EdgeKind, EdgeStatus, NodeKind};
use rolechain::model::Effect;
use rolechain::model::rules::Expect;
use rolechain::policy::{
    Blocker, Context, ContextValue, Decision, OpenCondition, Outcome, PolicySet, PolicyType,
    Reason, Request,
};

/// What a `--max-depth` left out of an answer, as the analysis counted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// `who-can`: sources that reach the target only in more hops than the limit.
    Sources {
        /// How many.
        beyond: usize,
        /// The limit.
        max_depth: usize,
    },
    /// `reach` from one source: resources it reaches only in more hops than the limit.
    Resources {
        /// How many.
        beyond: usize,
        /// The limit.
        max_depth: usize,
    },
    /// `reach` from several sources: (source, resource) pairs connected only in more hops than
    /// the limit.
    Pairs {
        /// How many.
        beyond: usize,
        /// The limit.
        max_depth: usize,
    },
}

impl Cut {
    /// The limit.
    fn max_depth(&self) -> usize {
        match *self {
            Cut::Sources { max_depth, .. }
            | Cut::Resources { max_depth, .. }
            | Cut::Pairs { max_depth, .. } => max_depth,
        }
    }

    /// The sentence the warning and the text output's last line say.
    pub fn message(&self) -> String {
        let (what, max_depth) = match *self {
            Cut::Sources { beyond, max_depth } => (
                format!(
                    "{} the target",
                    count(beyond, "source reaches", "sources reach")
                ),
                max_depth,
            ),
            Cut::Resources { beyond, max_depth } => (
                count(beyond, "resource is reached", "resources are reached"),
                max_depth,
            ),
            Cut::Pairs { beyond, max_depth } => (
                count(
                    beyond,
                    "(source, resource) pair is connected",
                    "(source, resource) pairs are connected",
                ),
                max_depth,
            ),
        };
        format!(
            "{what} only in more than {}; raise --max-depth or leave it out",
            count(max_depth, "hop", "hops")
        )
    }
}

fn label(g: &AccessGraph, id: &str) -> String {
    match g.node(id) {
        Some((_, n)) => n.label.clone(),
        None => id.to_string(),
    }
}

fn reason(r: &Reason) -> String {
    format!(
        "{} `{}` statement `{}`",
        r.policy_type.as_str(),
        r.policy,
        r.statement
    )
}

/// One condition, without its statement.
fn clause(c: &OpenCondition) -> String {
    format!("{} {} {:?}", c.operator, c.key, c.values)
}

/// Conditions grouped by statement, statements in the order of their first condition.
fn statements(list: &[OpenCondition]) -> Vec<Vec<&OpenCondition>> {
    type Key = (Effect, PolicyType, Arc<str>, Arc<str>);
    let mut order: Vec<Key> = Vec::new();
    let mut by_statement: BTreeMap<Key, Vec<&OpenCondition>> = BTreeMap::new();
    for c in list {
        let key = (
            c.effect,
            c.policy_type,
            c.policy.clone(),
            c.statement.clone(),
        );
        let entry = by_statement.entry(key.clone()).or_default();
        if entry.is_empty() {
            order.push(key);
        }
        entry.push(c);
    }
    order
        .into_iter()
        .filter_map(|k| by_statement.remove(&k))
        .collect()
}

/// One statement's conditions on one line, joined by "and": a statement applies only when all
/// of them hold. "denied if … (…)" for a Deny, "if … (…)" for an Allow.
fn statement_line(group: &[&OpenCondition]) -> Option<String> {
    let first = group.first()?;
    let lead = if first.effect == Effect::Deny {
        "denied if"
    } else {
        "if"
    };
    let joined = group
        .iter()
        .map(|c| clause(c))
        .collect::<Vec<_>>()
        .join(" and ");
    Some(format!(
        "{lead} {joined} ({} `{}` statement `{}`)",
        first.policy_type.as_str(),
        first.policy,
        first.statement
    ))
}

/// Open conditions, one line per statement.
fn conditions(list: &[OpenCondition]) -> Vec<String> {
    statements(list)
        .iter()
        .filter_map(|group| statement_line(group))
        .collect()
}

/// The actions of the graph's edge that a hop follows.
fn hop_actions<'g>(g: &'g AccessGraph, h: &Hop) -> &'g [String] {
    let (Some((a, _)), Some((b, _))) = (g.node(&h.from), g.node(&h.to)) else {
        return &[];
    };
    g.graph
        .edges_connecting(a, b)
        .map(|e| e.weight())
        .find(|w| w.kind == h.kind)
        .map_or(&[], |w| w.actions())
}

fn hop(out: &mut String, g: &AccessGraph, i: usize, h: &Hop) {
    let status = if h.status == EdgeStatus::Conditional {
        " (conditional)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "    {}. {:<10} {} → {}{status}",
        i + 1,
        h.kind.as_str(),
        label(g, &h.from),
        label(g, &h.to)
    );
    // An escalation names every call it takes.
    if h.kind == EdgeKind::Escalates {
        let actions = hop_actions(g, h);
        if !actions.is_empty() {
            let _ = writeln!(out, "         with {}", actions.join(", "));
        }
    }
    // The agent plane's hops are calls the ECS agent makes with the execution role; say which.
    if matches!(h.kind, EdgeKind::Injects | EdgeKind::Pulls) {
        let actions = hop_actions(g, h);
        if !actions.is_empty() {
            let _ = writeln!(
                out,
                "         the ECS agent calls {} with the execution role",
                actions.join(", ")
            );
        }
    }
    for r in h.because.iter() {
        let _ = writeln!(out, "         because {}", reason(r));
    }
    for c in conditions(&h.conditions) {
        let _ = writeln!(out, "         {c}");
    }
    for n in h.notes.iter() {
        let _ = writeln!(out, "         note: {n}");
    }
}

/// The plane a path runs in (`analysis::Plane::of`).
fn plane(p: &Path) -> &'static str {
    match Plane::of(p) {
        Plane::Agent => "agent plane",
        Plane::Task => "task plane",
        Plane::Escalation => "escalation",
    }
}

/// One path: its row, then its hops. With `show_plane`, the row names the plane, which is what
/// tells apart two rows of the same source and target.
fn path(out: &mut String, g: &AccessGraph, p: &Path, show_source: bool, show_plane: bool) {
    let mut flags = vec![p.status.as_str()];
    if p.cross_account {
        flags.push("cross-account");
    }
    if show_plane || Plane::of(p) == Plane::Escalation {
        flags.push(plane(p));
    }
    let head = if show_source { &p.source } else { &p.target };
    let _ = writeln!(
        out,
        "  {head}  [{}]  {}",
        flags.join(", "),
        p.actions.join(", ")
    );
    for (i, h) in p.hops.iter().enumerate() {
        hop(out, g, i, h);
    }
}

/// The (source, target) pairs that more than one path connects (one per plane).
fn repeated(paths: &[Path]) -> BTreeSet<(&str, &str)> {
    let mut seen = BTreeSet::new();
    let mut twice = BTreeSet::new();
    for p in paths {
        let pair = (p.source.as_str(), p.target.as_str());
        if !seen.insert(pair) {
            twice.insert(pair);
        }
    }
    twice
}

/// The group a source is listed under, with its singular and plural names: principals outside
/// the snapshot first (anonymous, any principal, organizations, federated providers, external
/// accounts, and roles and users that policies name but the snapshot does not hold), then
/// containers, roles, users and service principals.
fn kind_group(g: &AccessGraph, id: &str) -> (u8, &'static str, &'static str) {
    const OUTSIDE: (u8, &str, &str) = (
        0,
        "principal outside the snapshot",
        "principals outside the snapshot",
    );
    match g.node(id).map(|(_, n)| (n.kind, n.in_snapshot)) {
        Some((kind, _)) if kind.is_outside() => OUTSIDE,
        Some((NodeKind::Role | NodeKind::User, false)) => OUTSIDE,
        Some((NodeKind::Container, _)) => (1, "container", "containers"),
        Some((NodeKind::Role, true)) => (2, "role", "roles"),
        Some((NodeKind::User, true)) => (3, "user", "users"),
        Some((NodeKind::ServicePrincipal, _)) => (4, "service principal", "service principals"),
        _ => OUTSIDE,
    }
}

/// The heading of a group of sources.
fn group_heading(rank: u8, many: &str) -> &str {
    if rank == 0 {
        "outside the snapshot"
    } else {
        many
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The closing line of `who-can` and `reach`: "4 paths from 4 sources (1 container, 2 roles,
/// 1 user) to 1 resource".
fn summary(g: &AccessGraph, paths: &[Path]) -> String {
    let sources: BTreeSet<&str> = paths.iter().map(|p| p.source.as_str()).collect();
    let targets: BTreeSet<&str> = paths.iter().map(|p| p.target.as_str()).collect();
    let mut groups: BTreeMap<u8, (&str, &str, usize)> = BTreeMap::new();
    for s in &sources {
        let (rank, one, many) = kind_group(g, s);
        groups.entry(rank).or_insert((one, many, 0)).2 += 1;
    }
    let kinds: Vec<String> = groups
        .values()
        .map(|&(one, many, n)| count(n, one, many))
        .collect();
    format!(
        "{} from {} ({}) to {}",
        count(paths.len(), "path", "paths"),
        count(sources.len(), "source", "sources"),
        kinds.join(", "),
        count(targets.len(), "resource", "resources")
    )
}

/// The configured references that fail, one line each with what blocks them: the part of
/// `reach` and `who-can` that says which secrets and images will not arrive.
fn blocked_part(out: &mut String, g: &AccessGraph, blocked: &[Attempt]) {
    if blocked.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nblocked (configured, but ECS cannot deliver them)");
    for a in blocked {
        let _ = writeln!(
            out,
            "  {} {} → {}: blocked by ({}) {}",
            a.hop.as_str(),
            label(g, &a.from),
            label(g, &a.to),
            a.blocked_by(),
            a.block.message
        );
    }
}

/// `who-can`: sources grouped by kind, those outside the snapshot first, then containers; then
/// the containers whose references to the target fail.
pub fn who_can(
    g: &AccessGraph,
    target: &str,
    paths: &[Path],
    blocked: &[Attempt],
    cut: Option<&Cut>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "who can reach {target}");
    if paths.is_empty() {
        let _ = match cut {
            Some(cut) => writeln!(
                out,
                "\nno source reaches it within {}",
                count(cut.max_depth(), "hop", "hops")
            ),
            None => writeln!(out, "\nno source reaches it"),
        };
    } else {
        let twice = repeated(paths);
        let mut sorted: Vec<&Path> = paths.iter().collect();
        sorted.sort_by_key(|p| (kind_group(g, &p.source).0, p.source.clone(), p.hops.len()));
        let mut current = None;
        for p in sorted {
            let (rank, _, many) = kind_group(g, &p.source);
            if current != Some(rank) {
                let _ = writeln!(out, "\n{}", group_heading(rank, many));
                current = Some(rank);
            }
            let show_plane = twice.contains(&(p.source.as_str(), p.target.as_str()));
            path(&mut out, g, p, true, show_plane);
        }
        blocked_part(&mut out, g, blocked);
        let _ = writeln!(out, "\n{}", summary(g, paths));
    }
    if paths.is_empty() {
        blocked_part(&mut out, g, blocked);
    }
    if let Some(cut) = cut {
        let _ = writeln!(out, "{}", cut.message());
    }
    out
}

/// Paths grouped by source, as `reach` lists them: "<source> reaches", then a row per target
/// with its hops.
fn by_source(out: &mut String, g: &AccessGraph, paths: &[Path]) {
    let twice = repeated(paths);
    let mut current: Option<&str> = None;
    for p in paths {
        if current != Some(p.source.as_str()) {
            if current.is_some() {
                out.push('\n');
            }
            let _ = writeln!(out, "{} reaches", p.source);
            current = Some(&p.source);
        }
        let show_plane = twice.contains(&(p.source.as_str(), p.target.as_str()));
        path(out, g, p, false, show_plane);
    }
}

/// `check`: a line per rule in file order; a violated rule then gives its description and the
/// paths that violate it (a `never` rule), or says that none exists (a `reach` rule), listing
/// the conditional paths it did not count. The last line counts the violated rules.
pub fn check(g: &AccessGraph, report: &Report) -> String {
    let mut out = String::new();
    for (i, r) in report.results.iter().enumerate() {
        let verdict = match (r.expect, r.holds()) {
            (Expect::Never, true) => "ok".to_string(),
            (Expect::Never, false) => {
                format!("violated by {}", count(r.paths.len(), "path", "paths"))
            }
            (Expect::Reach, true) => format!("ok, {}", count(r.paths.len(), "path", "paths")),
            (Expect::Reach, false) => format!(
                "violated: no path from {} to {}",
                count(r.sources, "source", "sources"),
                count(r.targets, "resource", "resources")
            ),
        };
        let uncounted = if r.uncounted.is_empty() {
            String::new()
        } else {
            format!(
                " ({} not counted)",
                count(r.uncounted.len(), "conditional path", "conditional paths")
            )
        };
        // A violated rule, with its details, stands apart from its neighbours.
        let previous_violated = i > 0 && !report.results[i - 1].holds();
        if i > 0 && (!r.holds() || previous_violated) {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "rule `{}` ({}): {verdict}{uncounted}",
            r.name,
            r.expect.as_str()
        );
        if r.holds() {
            continue;
        }
        if let Some(d) = &r.description {
            let _ = writeln!(out, "  {d}");
        }
        let _ = writeln!(out, "  at {}:{}", report.file, r.at);
        if !r.actions.is_empty() {
            let _ = writeln!(out, "  actions: {}", r.actions.join(", "));
        }
        if r.expect == Expect::Never {
            out.push('\n');
            by_source(&mut out, g, &r.paths);
        } else if !r.uncounted.is_empty() {
            let _ = writeln!(
                out,
                "\nconditional paths, not counted (the rule says `conditional = \"{}\"`):\n",
                r.conditional.as_str()
            );
            by_source(&mut out, g, &r.uncounted);
        }
    }
    let violated = report.violated().count();
    let total = report.results.len();
    let _ = if violated == 0 {
        writeln!(
            out,
            "\n{}",
            if total == 1 {
                "the rule holds".to_string()
            } else {
                format!("all {total} rules hold")
            }
        )
    } else {
        writeln!(
            out,
            "\n{violated} of {} violated",
            count(total, "rule", "rules")
        )
    };
    out
}

/// `reach`: paths grouped by source; then the queried containers' references that fail.
pub fn reach(
    g: &AccessGraph,
    from: Option<&str>,
    paths: &[Path],
    blocked: &[Attempt],
    cut: Option<&Cut>,
) -> String {
    let mut out = String::new();
    if paths.is_empty() {
        let within = cut.map_or_else(String::new, |cut| {
            format!(" within {}", count(cut.max_depth(), "hop", "hops"))
        });
        let _ = match from {
            Some(id) => writeln!(out, "{id} reaches no resource{within}"),
            None => writeln!(out, "no container reaches any resource{within}"),
        };
    } else {
        by_source(&mut out, g, paths);
        blocked_part(&mut out, g, blocked);
        let _ = writeln!(out, "\n{}", summary(g, paths));
    }
    if paths.is_empty() {
        blocked_part(&mut out, g, blocked);
    }
    if let Some(cut) = cut {
        let _ = writeln!(out, "{}", cut.message());
    }
    out
}

/// `findings`: grouped by severity, strongest first; each with its code, subject, what the code
/// means and its proof; then a count per severity.
pub fn findings(g: &AccessGraph, f: &Findings) -> String {
    let mut out = String::new();
    if f.findings.is_empty() {
        let _ = writeln!(out, "no findings");
        return out;
    }
    let mut current = None;
    for finding in &f.findings {
        let severity = finding.severity();
        if current != Some(severity) {
            if current.is_some() {
                out.push('\n');
            }
            let _ = writeln!(out, "{}", severity.as_str());
            current = Some(severity);
        }
        let _ = writeln!(out, "  [{}] {}", finding.code.as_str(), finding.subject);
        let _ = writeln!(out, "    {}", finding.code.summary());
        if let Some(a) = &finding.blocked {
            let _ = writeln!(
                out,
                "    {} {} → {}: blocked by ({}) {}",
                a.hop.as_str(),
                label(g, &a.from),
                label(g, &a.to),
                a.blocked_by(),
                a.block.message
            );
            let _ = writeln!(out, "    request: {}", a.block.request);
        }
        for p in &finding.paths {
            let mut flags = vec![p.status.as_str()];
            if p.cross_account {
                flags.push("cross-account");
            }
            let actions = if p.actions.is_empty() {
                String::new()
            } else {
                format!("  {}", p.actions.join(", "))
            };
            let _ = writeln!(
                out,
                "    {} → {}  [{}]{actions}",
                label(g, &p.source),
                label(g, &p.target),
                flags.join(", "),
            );
            for (i, h) in p.hops.iter().enumerate() {
                let mut hop_text = String::new();
                hop(&mut hop_text, g, i, h);
                // Two more spaces than a path's hops, under the finding.
                for line in hop_text.lines() {
                    let _ = writeln!(out, "  {line}");
                }
            }
        }
    }
    let counts: Vec<String> = Severity::ALL
        .iter()
        .map(|&s| format!("{} {}", f.count(s), s.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "\n{} ({})",
        count(f.findings.len(), "finding", "findings"),
        counts.join(", ")
    );
    out
}

/// `explain`: the working paths, or the failing hop and what blocks it.
pub fn explanation(g: &AccessGraph, e: &Explanation) -> String {
    let mut out = String::new();
    let actions = e.actions.join(", ");
    if e.allowed() {
        let status = e
            .paths
            .iter()
            .map(|p| p.status)
            .max()
            .unwrap_or(EdgeStatus::Allowed);
        let _ = writeln!(
            out,
            "yes: {} reaches {} ({actions}), {}",
            e.from,
            e.to,
            status.as_str()
        );
        let twice = repeated(&e.paths);
        for p in &e.paths {
            out.push('\n');
            let show_plane = twice.contains(&(p.source.as_str(), p.target.as_str()));
            path(&mut out, g, p, true, show_plane);
        }
        return out;
    }
    let _ = writeln!(out, "no: {} does not reach {} ({actions})", e.from, e.to);
    let Some(first) = e.attempts.first() else {
        let _ = writeln!(
            out,
            "\nnothing connects them: no principal it can become is named by a policy of the target"
        );
        return out;
    };
    let _ = writeln!(
        out,
        "\nfirst failing hop: {} {} → {}",
        first.hop.as_str(),
        label(g, &first.from),
        label(g, &first.to)
    );
    let _ = writeln!(
        out,
        "  blocked by ({}): {}",
        first.blocked_by(),
        first.block.message
    );
    let _ = writeln!(out, "  request: {}", first.block.request);
    if e.attempts.len() > 1 {
        let _ = writeln!(out, "\nother ways that fail:");
        for a in &e.attempts[1..] {
            let _ = writeln!(
                out,
                "  - {} {} → {}: {}",
                a.hop.as_str(),
                label(g, &a.from),
                label(g, &a.to),
                a.block.message
            );
        }
    }
    out
}

/// The kind of policy whose missing Allow blocks a request, for the blockers a condition can
/// cause.
fn missing_allow(blocker: &Blocker) -> Option<PolicyType> {
    match blocker {
        Blocker::ResourceMissingAllow { policy_type, .. } => Some(*policy_type),
        Blocker::IdentityMissingAllow => Some(PolicyType::Identity),
        Blocker::BoundaryMissingAllow { .. } => Some(PolicyType::Boundary),
        Blocker::SessionMissingAllow { .. } => Some(PolicyType::Session),
        Blocker::ScpMissingAllow { .. } => Some(PolicyType::Scp),
        _ => None,
    }
}

/// `request` with the context keys in `keys` (lowercase) made unknown, or every key when `keys`
/// is `None`.
fn with_unknown(request: &Request, keys: Option<&BTreeSet<String>>) -> Request {
    let context = match keys {
        None => Context::new(ContextValue::Unknown),
        Some(keys) => {
            let mut top = Context::layered(
                request.context.otherwise.clone(),
                vec![Arc::new(request.context.clone())],
            );
            for k in keys {
                top.set(k, ContextValue::Unknown);
            }
            top
        }
    };
    Request {
        context,
        ..request.clone()
    }
}

/// The Allow conditions of policies of kind `kind` that a decision leaves open.
fn open_allows(d: &Decision, kind: PolicyType) -> Vec<OpenCondition> {
    if d.outcome != Outcome::Allowed {
        return Vec::new();
    }
    d.conditions
        .iter()
        .filter(|c| c.effect == Effect::Allow && c.policy_type == kind)
        .cloned()
        .collect()
}

/// The conditions that keep the policy named by a missing-Allow blocker from allowing the
/// request, found by asking the evaluator again with context keys made unknown.
///
/// With every key unknown, the Allow statements of that policy that match the principal, action
/// and resource come back as open conditions: the candidates. A candidate key has failed when
/// the request stays denied with every other candidate key unknown and this one as given; the
/// conditions on the keys that failed are returned. When the candidates belong to statements
/// that each could allow alone, no single key decides, and every candidate is returned. Empty
/// when no condition is to blame (no statement of the policy matches at all).
///
/// `policy::Decision` does not carry the conditions that evaluated false; this is the closest
/// the CLI can get without the evaluator's help.
fn failed_conditions(
    request: &Request,
    policies: &PolicySet<'_>,
    d: &Decision,
) -> Vec<OpenCondition> {
    let Some(kind) = d.blocked_by.as_ref().and_then(missing_allow) else {
        return Vec::new();
    };
    let every = rolechain::policy::evaluate(&with_unknown(request, None), policies);
    let candidates = open_allows(&every, kind);
    let keys: BTreeSet<String> = candidates
        .iter()
        .map(|c| c.key.to_ascii_lowercase())
        .collect();
    let failed_keys: BTreeSet<&String> = keys
        .iter()
        .filter(|&key| {
            let mut others = keys.clone();
            others.remove(key);
            !rolechain::policy::evaluate(&with_unknown(request, Some(&others)), policies)
                .is_allowed()
        })
        .collect();
    let mut failed: Vec<OpenCondition> = candidates
        .iter()
        .filter(|c| failed_keys.contains(&c.key.to_ascii_lowercase()))
        .cloned()
        .collect();
    if failed.is_empty() {
        failed = candidates;
    }
    failed.sort();
    failed.dedup();
    failed
}

/// What the request gives for a context key.
fn given(request: &Request, key: &str) -> String {
    match request.context.get(key) {
        ContextValue::Single(v) => format!("the request has {key} = {v:?}"),
        ContextValue::Multi(vs) => format!("the request has {key} = {vs:?}"),
        ContextValue::Prefix(p) => format!("the request's {key} starts with {p:?}"),
        ContextValue::NoneOf(vs) => format!("the request's {key} is none of {vs:?}"),
        ContextValue::Unknown => format!("the request's {key} is unknown"),
        ContextValue::Absent => format!("the request has no {key}"),
    }
}

/// `simulate --format text`.
pub fn decision(request: &Request, policies: &PolicySet<'_>, d: &Decision) -> String {
    let mut out = String::new();
    let verdict = match (d.outcome, d.conditional) {
        (Outcome::Allowed, false) => "allowed".to_string(),
        (Outcome::Allowed, true) => "allowed, if the open conditions hold".to_string(),
        (o, _) => o.as_str().replace('_', " "),
    };
    let _ = writeln!(out, "{}: {verdict}", request.action);
    for r in &d.because {
        let _ = writeln!(out, "  because {} ({})", reason(r), r.effect.as_str());
    }
    for c in conditions(&d.conditions) {
        let _ = writeln!(out, "  {c}");
    }
    if let Some(b) = &d.blocked_by {
        let _ = writeln!(
            out,
            "  blocked: {}",
            rolechain::graph::hop::describe_blocker(Some(b), "the request")
        );
        let failed = failed_conditions(request, policies, d);
        for group in statements(&failed) {
            let Some(line) = statement_line(&group) else {
                continue;
            };
            let keys: BTreeSet<&str> = group.iter().map(|c| c.key.as_str()).collect();
            let facts: Vec<String> = keys.iter().map(|k| given(request, k)).collect();
            let _ = writeln!(
                out,
                "  condition not met: allowed only {line}; {}",
                facts.join(", ")
            );
        }
    }
    out
}

/// The hop a diff holds responsible, indented under its path.
fn hop_change(out: &mut String, h: &HopChange) {
    let status = |s: Option<EdgeStatus>| s.map_or("none", EdgeStatus::as_str);
    let _ = writeln!(
        out,
        "    changed hop: {} {} → {} ({} → {})",
        h.kind.as_str(),
        h.from,
        h.to,
        status(h.before),
        status(h.after)
    );
    for r in &h.added {
        let _ = writeln!(out, "      + {}", reason(r));
    }
    for r in &h.removed {
        let _ = writeln!(out, "      - {}", reason(r));
    }
    for c in &h.conditions_added {
        let _ = writeln!(out, "      + condition {}", clause(c));
    }
    for c in &h.conditions_removed {
        let _ = writeln!(out, "      - condition {}", clause(c));
    }
}

fn deltas(out: &mut String, title: &str, list: &[PathDelta]) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title}");
    for d in list {
        let _ = writeln!(
            out,
            "  {} → {} ({}) {}: {}",
            d.path.source,
            d.path.target,
            plane_str(d.plane),
            d.path.status.as_str(),
            d.path.actions.join(", ")
        );
        if let Some(h) = &d.hop {
            hop_change(out, h);
        }
    }
    out.push('\n');
}

/// `diff`: paths gained, lost and changed, each with the hop responsible; findings new and
/// resolved; then the counts.
pub fn diff(d: &Diff) -> String {
    let mut out = String::new();
    deltas(&mut out, "gained", &d.gained);
    deltas(&mut out, "lost", &d.lost);
    if !d.changed.is_empty() {
        let _ = writeln!(out, "changed");
        for c in &d.changed {
            let _ = writeln!(
                out,
                "  {} → {} ({}): {} → {}",
                c.after.source,
                c.after.target,
                plane_str(c.plane),
                c.before.status.as_str(),
                c.after.status.as_str()
            );
            if c.before.actions != c.after.actions {
                let _ = writeln!(
                    out,
                    "    actions: {} → {}",
                    c.before.actions.join(", "),
                    c.after.actions.join(", ")
                );
            }
            if let Some(h) = &c.hop {
                hop_change(&mut out, h);
            }
        }
        out.push('\n');
    }
    for (title, list) in [
        ("findings new", &d.new_findings),
        ("findings resolved", &d.resolved_findings),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{title}");
        for f in list {
            let _ = writeln!(
                out,
                "  {} [{}] {}",
                f.severity().as_str(),
                f.code.as_str(),
                f.subject
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", rolechain::export::markdown::diff_summary(d));
    out
}
