//! Path questions over the access graph: what a source reaches, who reaches a target, why one
//! pair is or is not connected, and which misconfigurations and risky paths it holds.
//!
//! Searches are breadth-first over petgraph views, so cycles (A assumes B assumes A) are handled
//! by the visited set, and only the shortest path per (source, target, plane) is reported.
//! Depth limits are optional (`max_depth: Option<usize>`, `None` for none): a breadth-first
//! search costs no more without one, and with one, `who_can_beyond` and `reach_beyond` count
//! what it leaves out.
//! Allowed paths are preferred to conditional ones: a search first follows allowed hops only,
//! then conditional ones for the pairs it did not reach.

use crate::graph::hop::Note;
use crate::graph::{EdgeKind, EdgeStatus};
use std::sync::Arc;

use crate::policy::{OpenCondition, Reason};

/// One hop of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    /// The node id it leaves.
    pub from: String,
    /// The node id it reaches.
    pub to: String,
    /// The edge kind.
    pub kind: EdgeKind,
    /// Allowed or conditional.
    pub status: EdgeStatus,
    /// The statements that allowed it (shared with the edge).
    pub because: Arc<[Reason]>,
    /// Open conditions (shared with the edge).
    pub conditions: Arc<[OpenCondition]>,
    /// Further facts (shared with the edge).
    pub notes: Arc<[Note]>,
}

/// A path from a source to a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    /// The source node id: a container, role, user, service principal or external account.
    pub source: String,
    /// The target resource id.
    pub target: String,
    /// The queried actions this path allows, sorted.
    pub actions: Vec<String>,
    /// The weakest hop's status.
    pub status: EdgeStatus,
    /// True when some hop crosses an account.
    pub cross_account: bool,
    /// The hops in order.
    pub hops: Vec<Hop>,
}

mod check;
mod diff;
mod explain;
mod findings;
mod search;

pub use check::{CheckError, CheckOptions, Report, RuleResult, check};
pub use diff::{Changed, Diff, HopChange, PathDelta, diff, plane_str};
pub use explain::{Attempt, Explanation, explain, explain_on_demand};
pub use findings::{Code, Finding, Findings, Involved, Severity, blocked_references, findings};
pub use search::{
    Plane, Route, containers, focus, lookup, reach, reach_beyond, resolve_sources, routes, sources,
    who_can, who_can_beyond,
};

/// Why a query cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The id names no node; `suggestions` are the closest ids.
    #[error("`{id}` is not a node of this snapshot{}", hint(suggestions))]
    UnknownNode {
        /// The id given.
        id: String,
        /// The closest ids, best first.
        suggestions: Vec<String>,
    },
    /// The node exists but cannot play this role in the query.
    #[error("`{id}` is a {kind}: expected {expected}")]
    WrongKind {
        /// The id given.
        id: String,
        /// Its kind.
        kind: &'static str,
        /// What the query needs.
        expected: &'static str,
    },
}

fn hint(suggestions: &[String]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!("; did you mean `{one}`?"),
        many => format!(
            "; did you mean one of {}?",
            many.iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
