//! A Markdown summary of a [`Diff`], meant to be pasted as a pull-request comment: a heading,
//! one line of counts, a table of paths gained, lost and changed with the hop and statements
//! responsible, and the findings new and resolved.
//!
//! Its lists come sorted from [`crate::analysis::diff`], so the same two snapshots always give
//! the same bytes. Ids are written as code spans, and `|` in a cell is escaped.

use std::io;

use crate::analysis::{Diff, Finding, HopChange, PathDelta, plane_str};
use crate::graph::EdgeStatus;
use crate::policy::Reason;

/// The counts line shared with the text output: `N paths gained, M lost, K changed; F findings
/// new, R resolved`.
pub fn diff_summary(diff: &Diff) -> String {
    let paths = if diff.gained.len() == 1 {
        "path"
    } else {
        "paths"
    };
    let findings = if diff.new_findings.len() == 1 {
        "finding"
    } else {
        "findings"
    };
    format!(
        "{} {paths} gained, {} lost, {} changed; {} {findings} new, {} resolved",
        diff.gained.len(),
        diff.lost.len(),
        diff.changed.len(),
        diff.new_findings.len(),
        diff.resolved_findings.len()
    )
}

/// A table cell's text: `|` escaped and line breaks folded.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn code(text: &str) -> String {
    format!("`{}`", cell(text))
}

fn status(s: Option<EdgeStatus>) -> &'static str {
    s.map_or("none", EdgeStatus::as_str)
}

fn reason(r: &Reason) -> String {
    format!("{} {}", code(&r.policy), code(&r.statement))
}

/// The changed hop in one cell: its ends, kind, status change and statements.
fn hop_cell(hop: Option<&HopChange>) -> String {
    let Some(h) = hop else {
        return "–".to_string();
    };
    let mut out = format!(
        "{} {} → {}: {} → {}",
        h.kind.as_str(),
        code(&h.from),
        code(&h.to),
        status(h.before),
        status(h.after)
    );
    for r in &h.added {
        out.push_str(&format!("<br>+ {}", reason(r)));
    }
    for r in &h.removed {
        out.push_str(&format!("<br>− {}", reason(r)));
    }
    if !h.conditions_added.is_empty() || !h.conditions_removed.is_empty() {
        out.push_str(&format!(
            "<br>conditions +{} −{}",
            h.conditions_added.len(),
            h.conditions_removed.len()
        ));
    }
    out
}

fn actions(list: &[String]) -> String {
    if list.is_empty() {
        "–".to_string()
    } else {
        list.iter().map(|a| code(a)).collect::<Vec<_>>().join(", ")
    }
}

fn delta_table(out: &mut impl io::Write, title: &str, list: &[PathDelta]) -> io::Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n### {title}\n")?;
    writeln!(
        out,
        "| Source | Target | Plane | Actions | Status | Hop responsible |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    for d in list {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            code(&d.path.source),
            code(&d.path.target),
            plane_str(d.plane),
            actions(&d.path.actions),
            d.path.status.as_str(),
            hop_cell(d.hop.as_ref())
        )?;
    }
    Ok(())
}

fn findings_list(out: &mut impl io::Write, title: &str, list: &[Finding]) -> io::Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n### {title}\n")?;
    for f in list {
        writeln!(
            out,
            "- **{}** {} {}",
            f.severity().as_str(),
            code(f.code.as_str()),
            code(&f.subject)
        )?;
    }
    Ok(())
}

/// Writes `diff` as a Markdown pull-request comment.
///
/// # Errors
///
/// The first error `out` returns, as it is.
///
/// # Example
///
/// ```
/// let mut md = Vec::new();
/// rolechain::export::write_diff_markdown(&rolechain::analysis::Diff::default(), &mut md)?;
/// assert!(String::from_utf8_lossy(&md).contains("0 paths gained"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_diff_markdown(diff: &Diff, mut out: impl io::Write) -> io::Result<()> {
    writeln!(out, "## rolechain diff\n")?;
    writeln!(out, "**{}**", diff_summary(diff))?;
    if diff.is_empty() {
        writeln!(out, "\nNo change in reachability or findings.")?;
        return out.flush();
    }
    delta_table(&mut out, "Paths gained", &diff.gained)?;
    delta_table(&mut out, "Paths lost", &diff.lost)?;
    if !diff.changed.is_empty() {
        writeln!(out, "\n### Paths changed\n")?;
        writeln!(
            out,
            "| Source | Target | Plane | Status | Actions | Hop responsible |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for c in &diff.changed {
            let acts = if c.before.actions == c.after.actions {
                actions(&c.after.actions)
            } else {
                format!(
                    "{} → {}",
                    actions(&c.before.actions),
                    actions(&c.after.actions)
                )
            };
            writeln!(
                out,
                "| {} | {} | {} | {} → {} | {} | {} |",
                code(&c.after.source),
                code(&c.after.target),
                plane_str(c.plane),
                c.before.status.as_str(),
                c.after.status.as_str(),
                acts,
                hop_cell(c.hop.as_ref())
            )?;
        }
    }
    findings_list(&mut out, "Findings new", &diff.new_findings)?;
    findings_list(&mut out, "Findings resolved", &diff.resolved_findings)?;
    out.flush()
}
