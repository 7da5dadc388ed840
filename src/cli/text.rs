//! Text renderings for people: paths with their proofs, explanations and decisions.

use std::fmt::Write as _;

use rolechain::analysis::{Explanation, Hop, Path};
use rolechain::graph::{AccessGraph, EdgeStatus, NodeKind};
use rolechain::policy::{Decision, OpenCondition, Reason, Request};

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

fn condition(c: &OpenCondition) -> String {
    let lead = if c.effect == rolechain::model::Effect::Deny {
        "denied if"
    } else {
        "if"
    };
    format!(
        "{lead} {} {} {:?} ({} `{}` statement `{}`)",
        c.operator,
        c.key,
        c.values,
        c.policy_type.as_str(),
        c.policy,
        c.statement
    )
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
    for r in &h.because {
        let _ = writeln!(out, "         because {}", reason(r));
    }
    for c in &h.conditions {
        let _ = writeln!(out, "         {}", condition(c));
    }
    for n in &h.notes {
        let _ = writeln!(out, "         note: {n}");
    }
}

fn path(out: &mut String, g: &AccessGraph, p: &Path, show_source: bool) {
    let mut flags = vec![p.status.as_str().to_string()];
    if p.cross_account {
        flags.push("cross-account".to_string());
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

/// The group a source is listed under, with its singular and plural names.
fn kind_group(g: &AccessGraph, id: &str) -> (u8, &'static str, &'static str) {
    match g.node(id).map(|(_, n)| (n.kind, n.in_snapshot)) {
        Some((NodeKind::Container, _)) => (0, "container", "containers"),
        Some((NodeKind::Role, true)) => (1, "role", "roles"),
        Some((NodeKind::User, _)) => (2, "user", "users"),
        Some((NodeKind::ServicePrincipal, _)) => (3, "service principal", "service principals"),
        _ => (
            4,
            "principal outside the snapshot",
            "principals outside the snapshot",
        ),
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `who-can`: sources grouped by kind, containers first.
pub fn who_can(g: &AccessGraph, target: &str, paths: &[Path]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "who can reach {target}");
    if paths.is_empty() {
        let _ = writeln!(out, "\nno source reaches it");
        return out;
    }
    let mut sorted: Vec<&Path> = paths.iter().collect();
    sorted.sort_by_key(|p| (kind_group(g, &p.source).0, p.source.clone(), p.hops.len()));
    let mut current = None;
    let mut counts: Vec<(&'static str, &'static str, std::collections::BTreeSet<&str>)> =
        Vec::new();
    for p in sorted {
        let (rank, one, many) = kind_group(g, &p.source);
        if current != Some(rank) {
            let _ = writeln!(out, "\n{many}");
            current = Some(rank);
            counts.push((one, many, std::collections::BTreeSet::new()));
        }
        if let Some(last) = counts.last_mut() {
            last.2.insert(&p.source);
        }
        path(&mut out, g, p, true);
    }
    let summary: Vec<String> = counts
        .iter()
        .map(|(one, many, set)| count(set.len(), one, many))
        .collect();
    let _ = writeln!(
        out,
        "\n{}: {}",
        count(paths.len(), "path", "paths"),
        summary.join(", ")
    );
    out
}

/// `reach`: paths grouped by source.
pub fn reach(g: &AccessGraph, from: Option<&str>, paths: &[Path]) -> String {
    let mut out = String::new();
    if paths.is_empty() {
        let _ = match from {
            Some(id) => writeln!(out, "{id} reaches no resource"),
            None => writeln!(out, "no container reaches any resource"),
        };
        return out;
    }
    let mut current: Option<&str> = None;
    for p in paths {
        if current != Some(p.source.as_str()) {
            if current.is_some() {
                out.push('\n');
            }
            let _ = writeln!(out, "{} reaches", p.source);
            current = Some(&p.source);
        }
        path(&mut out, g, p, false);
    }
    let sources: std::collections::BTreeSet<&str> =
        paths.iter().map(|p| p.source.as_str()).collect();
    let _ = writeln!(
        out,
        "\n{} path(s) from {} source(s)",
        paths.len(),
        sources.len()
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
        for p in &e.paths {
            out.push('\n');
            path(&mut out, g, p, true);
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

/// `simulate --format text`.
pub fn decision(request: &Request, d: &Decision) -> String {
    let mut out = String::new();
    let verdict = match (d.outcome, d.conditional) {
        (rolechain::policy::Outcome::Allowed, false) => "allowed".to_string(),
        (rolechain::policy::Outcome::Allowed, true) => {
            "allowed, if the open conditions hold".to_string()
        }
        (o, _) => o.as_str().replace('_', " "),
    };
    let _ = writeln!(out, "{}: {verdict}", request.action);
    for r in &d.because {
        let _ = writeln!(out, "  because {} ({})", reason(r), r.effect.as_str());
    }
    for c in &d.conditions {
        let _ = writeln!(out, "  {}", condition(c));
    }
    if let Some(b) = &d.blocked_by {
        let _ = writeln!(
            out,
            "  blocked: {}",
            rolechain::graph::world::describe_blocker(Some(b), "the request")
        );
    }
    out
}
