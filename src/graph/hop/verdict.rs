//! The outcome of a hop: status, proof and what blocks it.

use super::note::{Ask, Note};
use crate::graph::EdgeStatus;
use crate::policy::{Blocker, Decision, OpenCondition, Reason};

/// The outcome of evaluating a hop: one or more requests, each possibly for several actions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The hop's status.
    pub status: EdgeStatus,
    /// The actions allowed, sorted.
    pub actions: Vec<String>,
    /// The statements that allowed it (or, when denied, the Deny that blocked it).
    pub because: Vec<Reason>,
    /// Open conditions.
    pub conditions: Vec<OpenCondition>,
    /// Facts: what blocks it, what is not in the snapshot.
    pub notes: Vec<Note>,
    /// When denied: what blocks it.
    pub blocked: Option<Block>,
}

/// What blocks a denied hop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The request that failed: `role/x → kms:Decrypt on key/…`.
    pub request: Ask,
    /// The failing part, from the evaluator; `None` when the hop is structurally impossible.
    pub blocker: Option<Blocker>,
    /// Why it fails.
    pub message: Note,
}

impl Verdict {
    pub(crate) fn denied(request: Ask, blocker: Option<Blocker>, message: Note) -> Verdict {
        Verdict {
            status: EdgeStatus::Denied,
            actions: Vec::new(),
            because: Vec::new(),
            conditions: Vec::new(),
            notes: vec![message.clone()],
            blocked: Some(Block {
                request,
                blocker,
                message,
            }),
        }
    }

    pub(in crate::graph) fn allowed() -> Verdict {
        Verdict {
            status: EdgeStatus::Allowed,
            actions: Vec::new(),
            because: Vec::new(),
            conditions: Vec::new(),
            notes: Vec::new(),
            blocked: None,
        }
    }

    /// `request` describes the request for people; it is only called when the decision denies.
    pub(in crate::graph) fn from_decision(
        decision: Decision,
        request: impl FnOnce() -> Ask,
        subject: &str,
    ) -> Verdict {
        if decision.is_allowed() {
            Verdict {
                status: if decision.conditional {
                    EdgeStatus::Conditional
                } else {
                    EdgeStatus::Allowed
                },
                actions: Vec::new(),
                because: decision.because,
                conditions: decision.conditions,
                notes: Vec::new(),
                blocked: None,
            }
        } else {
            let message = Note::Blocked {
                blocker: decision.blocked_by.clone(),
                subject: subject.to_string(),
            };
            let deny = match &decision.blocked_by {
                Some(Blocker::Deny(reason)) => Some(reason.clone()),
                _ => None,
            };
            let mut v = Verdict::denied(request(), decision.blocked_by, message);
            v.because.extend(deny);
            v
        }
    }

    /// Both this and `next` must allow: the weaker status wins, proofs join, and the first
    /// failure is kept.
    pub(in crate::graph) fn and(mut self, next: Verdict) -> Verdict {
        if self.status == EdgeStatus::Denied {
            return self;
        }
        if next.status == EdgeStatus::Denied {
            return next;
        }
        self.status = self.status.min(next.status);
        self.actions.extend(next.actions);
        self.because.extend(next.because);
        self.conditions.extend(next.conditions);
        self.notes.extend(next.notes);
        self.normalize();
        self
    }

    /// Either this or `other` suffices (two actions of one hop): the stronger status wins.
    pub(in crate::graph) fn or(mut self, other: Verdict) -> Verdict {
        if other.status == EdgeStatus::Denied {
            if self.status == EdgeStatus::Denied && self.blocked.is_none() {
                return other;
            }
            return self;
        }
        if self.status == EdgeStatus::Denied {
            return other;
        }
        self.status = self.status.max(other.status);
        self.actions.extend(other.actions);
        self.because.extend(other.because);
        self.conditions.extend(other.conditions);
        self.notes.extend(other.notes);
        self.normalize();
        self
    }

    pub(in crate::graph) fn note(mut self, note: Note) -> Verdict {
        self.notes.push(note);
        self.normalize();
        self
    }

    pub(in crate::graph) fn normalize(&mut self) {
        self.actions.sort();
        self.actions.dedup();
        self.notes.sort();
        self.notes.dedup();
        self.because.sort();
        self.because.dedup();
        self.conditions.sort();
        self.conditions.dedup();
    }

    /// Lowers an allowed verdict to conditional, with a note saying why.
    pub(in crate::graph) fn conditional(mut self, note: Note) -> Verdict {
        if self.status == EdgeStatus::Allowed {
            self.status = EdgeStatus::Conditional;
        }
        self.note(note)
    }
}

impl Verdict {
    pub(in crate::graph) fn note_if_allowed(self, note: Note) -> Verdict {
        if self.status == EdgeStatus::Denied {
            self
        } else {
            self.note(note)
        }
    }
}
