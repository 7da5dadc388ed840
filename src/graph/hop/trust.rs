//! Trust hops: ECS passing task and execution roles (R4.2), principals and services assuming
//! roles (R5.1).

use crate::graph::EdgeStatus;
use crate::graph::context;
use crate::graph::hop::{Ask, Note, Verdict};
use crate::graph::outside::{Outside, Outsider};
use crate::graph::world::{Caller, ECS_TASKS, Prepared, World, arn_account, arn_partition};
use crate::model::{self, Diagnostic, PolicyDocument};
use crate::policy::{
    self, Context, ContextValue, PolicyRef, PolicySet, PolicyType, Request, RequestPrincipal,
    RequestResource,
};

impl<'a> World<'a> {
    /// Evaluates ECS assuming `role` for a task of `task_arn_prefix`'s account and region (R4.2).
    pub fn ecs_trust(
        &self,
        role_arn: &str,
        task_account: &str,
        task_region: &str,
        partition: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let request_text = || Ask::service(ECS_TASKS, "sts:AssumeRole", role_arn);
        let Some(role) = self.roles.get(role_arn) else {
            return self.role_not_in_snapshot(role_arn, request_text);
        };
        if arn_account(role_arn) != task_account {
            return Verdict::denied(
                request_text(),
                None,
                Note::EcsRoleOfOtherAccount {
                    role: role_arn.to_string(),
                },
            );
        }
        let Some(trust) = &role.trust else {
            return Self::no_trust(role_arn, request_text);
        };
        let mut ctx = context::ecs_service(task_account, task_region, partition);
        ctx.parents
            .push(self.resource_ctx(role_arn, arn_account(role_arn), Some(&role.tags)));
        let principal = RequestPrincipal::Service(ECS_TASKS.to_string());
        self.trust_decision(principal, ctx, role, trust, Vec::new(), request_text, diags)
    }

    /// Decides `principal` assuming `target` where only its trust policy, the RCPs of its account
    /// and the given identity policies bear on the request: service principals and principals
    /// outside the snapshot, which have no SCPs or boundary the snapshot knows.
    #[allow(
        clippy::too_many_arguments,
        reason = "the three trust-only hops differ in exactly these parts"
    )]
    pub(in crate::graph) fn trust_decision(
        &self,
        principal: RequestPrincipal,
        context: Context,
        target: &model::Role,
        trust: &PolicyDocument,
        identity: Vec<PolicyRef<'_>>,
        request_text: impl FnOnce() -> Ask,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let account = arn_account(&target.arn);
        let request = Request {
            principal,
            action: "sts:AssumeRole".to_string(),
            resource: RequestResource::Arn(target.arn.clone()),
            resource_account: account.to_string(),
            context,
        };
        let set = PolicySet {
            identity,
            resource: Some(PolicyRef {
                policy_type: PolicyType::Trust,
                id: &target.arn,
                document: trust,
            }),
            rcps: self.rcps(account, "sts", false),
            ..PolicySet::default()
        };
        let mut decision = policy::evaluate(&request, &set);
        diags.append(&mut decision.diagnostics);
        Verdict::from_decision(decision, request_text, &target.arn)
    }

    /// A role without a trust policy in the snapshot cannot be assumed.
    pub(in crate::graph) fn no_trust(target: &str, request_text: impl FnOnce() -> Ask) -> Verdict {
        Verdict::denied(
            request_text(),
            None,
            Note::NoTrustPolicy {
                role: target.to_string(),
            },
        )
    }

    pub(in crate::graph) fn role_not_in_snapshot(
        &self,
        role_arn: &str,
        request_text: impl FnOnce() -> Ask,
    ) -> Verdict {
        let account = arn_account(role_arn);
        match self.accounts.get(account) {
            Some(a) if a.iam.is_some() => Verdict::denied(
                request_text(),
                None,
                Note::RoleDoesNotExist {
                    role: role_arn.to_string(),
                    account: account.to_string(),
                },
            ),
            _ => Verdict {
                status: EdgeStatus::Conditional,
                ..Verdict::allowed()
            }
            .note(Note::AccountIamUnknown {
                account: account.to_string(),
                role: role_arn.to_string(),
            }),
        }
    }

    /// Evaluates `caller` assuming `target` (R5.1): the trust policy and the caller's identity side.
    pub fn assume(
        &self,
        caller: &Prepared<'a>,
        target: &'a model::Role,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let request_text = || Ask::call(caller.id(), "sts:AssumeRole", &target.arn);
        let Some(trust) = &target.trust else {
            return Self::no_trust(&target.arn, request_text);
        };
        if !caller.caller.in_partition(arn_partition(&target.arn)) {
            return Verdict::denied(request_text(), None, Note::AssumeAcrossPartitions);
        }
        // Federated callers sign in with their own actions (R7.2).
        let action = match caller.caller {
            Caller::Outside(Outsider {
                who: Outside::Federated { provider, .. },
                ..
            }) if provider.contains(":saml-provider/") => "sts:AssumeRoleWithSAML",
            Caller::Outside(Outsider {
                who: Outside::Federated { .. },
                ..
            }) => "sts:AssumeRoleWithWebIdentity",
            _ => "sts:AssumeRole",
        };
        let ctx = Context::layered(
            ContextValue::Unknown,
            vec![
                self.shared.no_source.clone(),
                caller.context.clone(),
                self.resource_ctx(&target.arn, arn_account(&target.arn), Some(&target.tags)),
            ],
        );
        let request = Request {
            principal: Self::principal_of(caller),
            action: action.to_string(),
            resource: RequestResource::Arn(target.arn.clone()),
            resource_account: arn_account(&target.arn).to_string(),
            context: ctx,
        };
        let trust_ref = PolicyRef {
            policy_type: PolicyType::Trust,
            id: &target.arn,
            document: trust,
        };
        let decision = self.decide(caller, &request, Some(trust_ref), "sts", false, diags);
        Self::outside_verdict(
            caller,
            Verdict::from_decision(decision, request_text, &target.arn),
        )
    }

    /// Evaluates a service principal (other than ECS) assuming `target`: only the trust policy
    /// and the RCPs of the role's account decide.
    pub fn service_assume(
        &self,
        service: &str,
        target: &'a model::Role,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let request_text = || Ask::service(service, "sts:AssumeRole", &target.arn);
        let Some(trust) = &target.trust else {
            return Self::no_trust(&target.arn, request_text);
        };
        let mut ctx = context::base();
        ctx.set(
            "aws:PrincipalIsAWSService",
            ContextValue::Single("true".to_string()),
        );
        ctx.set(
            "aws:PrincipalServiceName",
            ContextValue::Single(service.to_string()),
        );
        ctx.set("aws:PrincipalArn", ContextValue::Absent);
        ctx.set("aws:PrincipalAccount", ContextValue::Absent);
        ctx.set("aws:PrincipalOrgID", ContextValue::Absent);
        ctx.set("sts:ExternalId", ContextValue::Absent);
        self.resource_context(&mut ctx, arn_account(&target.arn), Some(&target.tags));
        let principal = RequestPrincipal::Service(service.to_string());
        self.trust_decision(
            principal,
            ctx,
            target,
            trust,
            Vec::new(),
            request_text,
            diags,
        )
    }
}
