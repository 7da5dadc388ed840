//! The confused-deputy question of an ECS trust: would ECS assume the role for a task of some
//! other account (R4.2)?
//!
//! ECS passes `aws:SourceAccount` and `aws:SourceArn` when it assumes a task or execution role.
//! A trust that names `ecs-tasks.amazonaws.com` without pinning either lets ECS assume the role on
//! behalf of any account's tasks. Rather than look for those keys in the trust, the trust is asked
//! the question itself, through the same evaluation as [`World::ecs_trust`], with a source account
//! that the snapshot does not hold.

use crate::graph::context;
use crate::graph::hop::{Ask, Note, Verdict};
use crate::graph::world::{ECS_TASKS, World, arn_account};
use crate::model::Diagnostic;
use crate::policy::RequestPrincipal;

/// The account that stands for "some other account" in [`World::ecs_trust_foreign_source`]: one
/// that no snapshot holds (`000000000000` is not an account AWS issues).
pub const FOREIGN_SOURCE_ACCOUNT: &str = "000000000000";

impl World<'_> {
    /// Evaluates ECS assuming `role_arn` for a task of an account outside the snapshot
    /// ([`FOREIGN_SOURCE_ACCOUNT`]) in `task_region`. Allowed or conditional means the trust does
    /// not pin the task's account or ARN; denied means it does (or the role cannot be evaluated:
    /// not in the snapshot, or without a trust).
    pub fn ecs_trust_foreign_source(
        &self,
        role_arn: &str,
        task_region: &str,
        partition: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let request_text = || Ask {
            for_task_of: Some(FOREIGN_SOURCE_ACCOUNT.to_string()),
            ..Ask::service(ECS_TASKS, "sts:AssumeRole", role_arn)
        };
        let Some(role) = self.roles.get(role_arn) else {
            return Verdict::denied(
                request_text(),
                None,
                Note::RoleNotInSnapshot {
                    role: role_arn.to_string(),
                },
            );
        };
        let Some(trust) = &role.trust else {
            return Self::no_trust(role_arn, request_text);
        };
        let mut ctx = context::ecs_service(FOREIGN_SOURCE_ACCOUNT, task_region, partition);
        ctx.parents
            .push(self.resource_ctx(role_arn, arn_account(role_arn), Some(&role.tags)));
        let principal = RequestPrincipal::Service(ECS_TASKS.to_string());
        self.trust_decision(principal, ctx, role, trust, Vec::new(), request_text, diags)
    }
}
