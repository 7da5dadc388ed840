//! The hop evaluators: does this hop hold, and why.
//!
//! Each evaluator builds the request and the policy set of one kind of hop and asks
//! [`crate::policy::evaluate`]. The graph builder, `explain` and every other command decide hops
//! only through them.

mod access;
mod agent;
mod deputy;
mod escalate;
mod note;
mod trust;
mod verdict;
mod words;

pub use deputy::FOREIGN_SOURCE_ACCOUNT;
pub(in crate::graph) use escalate::ecs_prefix;
pub use escalate::{LAUNCH_ACTIONS, PUSH_ACTIONS, RUN_ACTIONS, Technique};
pub use note::{Ask, Asker, Imds, Level, Note, On, Open};
pub use verdict::{Block, Verdict};
pub use words::describe_blocker;

use std::borrow::Cow;

use crate::graph::EdgeStatus;
use crate::graph::outside::Outside;
use crate::graph::world::NOT_IN_SNAPSHOT;
use crate::graph::world::{Caller, Prepared, World, arn_account, arn_partition};
use crate::model::Diagnostic;
use crate::policy::{self, Decision, PolicyRef, PolicySet, PolicyType, Request, RequestPrincipal};

impl<'a> World<'a> {
    pub(in crate::graph) fn principal_of(caller: &Prepared<'_>) -> RequestPrincipal {
        match caller.caller {
            Caller::Role(r) => RequestPrincipal::Session {
                role_arn: r.arn.clone(),
                session_name: None,
            },
            Caller::User(u) => RequestPrincipal::User { arn: u.arn.clone() },
            Caller::Outside(o) => match &o.who {
                Outside::Anonymous => RequestPrincipal::Anonymous,
                Outside::Federated { provider, .. } => RequestPrincipal::Federated {
                    provider: provider.clone(),
                },
                // Any principal of an account that no policy names: matched by `*` only.
                Outside::AnyPrincipal | Outside::Organization(_) => RequestPrincipal::AccountRoot {
                    partition: String::new(),
                    account: String::new(),
                },
                Outside::Account(arn) => RequestPrincipal::AccountRoot {
                    partition: arn_partition(arn).to_string(),
                    account: arn_account(arn).to_string(),
                },
                Outside::Principal(arn) if arn.contains(":user/") => {
                    RequestPrincipal::User { arn: arn.clone() }
                }
                Outside::Principal(arn) => RequestPrincipal::Session {
                    role_arn: arn.clone(),
                    session_name: None,
                },
            },
        }
    }

    /// An outsider's verdict: the stand-in identity policy leaves the proof, and where the
    /// outsider's own account decides its identity side, the hop is at best conditional.
    pub(in crate::graph) fn outside_verdict(
        caller: &Prepared<'_>,
        mut verdict: Verdict,
    ) -> Verdict {
        let Caller::Outside(o) = caller.caller else {
            return verdict;
        };
        verdict.because.retain(|r| &*r.policy != NOT_IN_SNAPSHOT);
        if verdict.status == EdgeStatus::Denied {
            return verdict;
        }
        match &o.who {
            _ if o.identity_unknown() => verdict.conditional(Note::OutsideAccountUnknown {
                account: o.account().map(str::to_string),
            }),
            Outside::AnyPrincipal | Outside::Organization(_) => {
                verdict.note(Note::AnyAccountOwnSide)
            }
            _ => verdict,
        }
    }

    pub(in crate::graph) fn decide(
        &self,
        caller: &Prepared<'a>,
        request: &Request,
        resource_policy: Option<PolicyRef<'_>>,
        resource_service: &str,
        aws_managed_key: bool,
        diags: &mut Vec<Diagnostic>,
    ) -> Decision {
        let set = PolicySet {
            identity: caller
                .identity
                .iter()
                .map(|o| PolicyRef {
                    policy_type: PolicyType::Identity,
                    id: &o.id,
                    document: o.doc,
                })
                .collect(),
            resource: resource_policy,
            boundary: caller.boundary.as_ref().map(|o| PolicyRef {
                policy_type: PolicyType::Boundary,
                id: &o.id,
                document: o.doc,
            }),
            session: None,
            scps: caller.scps.as_deref().map(Cow::Borrowed),
            rcps: self.rcps(&request.resource_account, resource_service, aws_managed_key),
            aws_managed_key,
        };
        let mut decision = policy::evaluate(request, &set);
        diags.append(&mut decision.diagnostics);
        decision
    }
}

#[cfg(test)]
mod tests;
