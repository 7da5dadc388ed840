//! The outcome of a hop: status, proof and what blocks it.

use crate::graph::EdgeStatus;
use crate::policy::{Blocker, Decision, OpenCondition, PolicyType, Reason};

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
    /// Facts for people: what blocks it, what is not in the snapshot.
    pub notes: Vec<String>,
    /// When denied: what blocks it.
    pub blocked: Option<Block>,
}

/// What blocks a denied hop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The request that failed, for people: `role/x → kms:Decrypt on key/…`.
    pub request: String,
    /// The failing part, from the evaluator; `None` when the hop is structurally impossible.
    pub blocker: Option<Blocker>,
    /// A sentence for people.
    pub message: String,
}

impl Verdict {
    pub(crate) fn denied(request: String, blocker: Option<Blocker>, message: String) -> Verdict {
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
        request: impl FnOnce() -> String,
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
            let message = describe_blocker(decision.blocked_by.as_ref(), subject);
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

    pub(in crate::graph) fn note(mut self, note: impl Into<String>) -> Verdict {
        self.notes.push(note.into());
        self.normalize();
        self
    }

    pub(in crate::graph) fn normalize(&mut self) {
        for list in [&mut self.actions, &mut self.notes] {
            list.sort();
            list.dedup();
        }
        self.because.sort();
        self.because.dedup();
        self.conditions.sort();
        self.conditions.dedup();
    }

    /// Lowers an allowed verdict to conditional, with a note saying why.
    pub(in crate::graph) fn conditional(mut self, note: impl Into<String>) -> Verdict {
        if self.status == EdgeStatus::Allowed {
            self.status = EdgeStatus::Conditional;
        }
        self.note(note)
    }
}

/// A sentence describing a blocker.
pub fn describe_blocker(blocker: Option<&Blocker>, subject: &str) -> String {
    match blocker {
        None => format!("{subject} is not allowed"),
        Some(Blocker::Deny(r)) => format!(
            "explicitly denied by statement `{}` of {} policy `{}`",
            r.statement,
            r.policy_type.as_str(),
            r.policy
        ),
        Some(Blocker::ScpMissingAllow { target }) => {
            format!("no SCP attached at `{target}` allows it")
        }
        Some(Blocker::IdentityMissingAllow) => {
            "no identity policy of the caller allows it".to_string()
        }
        Some(Blocker::ResourceMissingAllow {
            policy_type,
            policy,
        }) => {
            let what = match policy_type {
                PolicyType::Trust => "the trust policy",
                PolicyType::Key => "the KMS key policy",
                _ => "the resource policy",
            };
            match policy {
                Some(p) => format!("{what} of `{p}` does not allow the caller"),
                None => format!("{what} does not allow the caller"),
            }
        }
        Some(Blocker::BoundaryMissingAllow { policy }) => {
            format!("the permissions boundary `{policy}` does not allow it")
        }
        Some(Blocker::SessionMissingAllow { policy }) => {
            format!("the session policy `{policy}` does not allow it")
        }
        Some(Blocker::AwsManagedKeyCrossAccount) => {
            "an AWS-managed KMS key cannot be used from another account".to_string()
        }
        Some(Blocker::NotFound { resource }) => format!("`{resource}` does not exist"),
        Some(Blocker::AwsManagedAlias) => {
            "AWS-managed aliases (alias/aws/*) cannot be created, updated or deleted".to_string()
        }
        Some(Blocker::KeyPolicyMissing) => {
            "a KMS key request is denied when no key policy allows it, and no key policy was given"
                .to_string()
        }
        Some(Blocker::KmsNotCrossAccount { action }) => {
            format!("{action} cannot be used across accounts, whatever the key policy says")
        }
    }
}

impl Verdict {
    pub(in crate::graph) fn note_if_allowed(self, note: &str) -> Verdict {
        if self.status == EdgeStatus::Denied {
            self
        } else {
            self.note(note)
        }
    }
}
