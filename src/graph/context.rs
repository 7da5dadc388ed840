//! Request context keys derived from the inventory (IAM-SEMANTICS R3.5, R3.6).
//!
//! Every key the snapshot can decide is filled in; every other key stays
//! [`ContextValue::Unknown`], so a condition on it makes the hop conditional rather than
//! silently true or false.

use crate::model::{self, Tags};
use crate::policy::{Context, ContextValue};

fn single(s: impl Into<String>) -> ContextValue {
    ContextValue::Single(s.into())
}

/// A context in which every key not set is unknown, with the keys every signed request has.
pub fn base() -> Context {
    let mut ctx = Context::new(ContextValue::Unknown);
    ctx.set("aws:SecureTransport", single("true"));
    ctx
}

/// Principal keys of a role session (R3.5, R4.5): the role ARN, tags, and a user id whose
/// session part is unknown. ECS task sessions carry no session tags, policies or MFA.
pub fn role_principal(ctx: &mut Context, role: &model::Role, account: &str) {
    ctx.set("aws:PrincipalArn", single(&role.arn));
    ctx.set("aws:PrincipalAccount", single(account));
    ctx.set("aws:PrincipalType", single("AssumedRole"));
    ctx.set("aws:PrincipalIsAWSService", single("false"));
    ctx.set("aws:username", ContextValue::Absent);
    ctx.set("aws:MultiFactorAuthPresent", ContextValue::Absent);
    ctx.set("aws:MultiFactorAuthAge", ContextValue::Absent);
    ctx.set("aws:PrincipalServiceName", ContextValue::Absent);
    match &role.role_id {
        Some(id) => ctx.set("aws:userid", ContextValue::Prefix(format!("{id}:"))),
        None => ctx.set("aws:userid", ContextValue::Unknown),
    };
    principal_tags(ctx, &role.tags);
}

/// Principal keys of an IAM user. Whether a person signed in with MFA is unknown.
pub fn user_principal(ctx: &mut Context, user: &model::User, account: &str) {
    ctx.set("aws:PrincipalArn", single(&user.arn));
    ctx.set("aws:PrincipalAccount", single(account));
    ctx.set("aws:PrincipalType", single("User"));
    ctx.set("aws:PrincipalIsAWSService", single("false"));
    ctx.set("aws:username", single(&user.name));
    ctx.set("aws:PrincipalServiceName", ContextValue::Absent);
    if let Some(id) = &user.user_id {
        ctx.set("aws:userid", single(id));
    }
    principal_tags(ctx, &user.tags);
}

fn principal_tags(ctx: &mut Context, tags: &Tags) {
    for (k, v) in tags {
        ctx.set(&format!("aws:PrincipalTag/{k}"), single(v));
    }
    ctx.absent_prefixes.push("aws:principaltag/".to_string());
}

/// `aws:PrincipalOrgID` and `aws:PrincipalOrgPaths`, absent when the account is in no organization.
pub fn principal_org(ctx: &mut Context, org: Option<(&str, Vec<String>)>) {
    match org {
        Some((id, paths)) => {
            ctx.set("aws:PrincipalOrgID", single(id));
            ctx.set("aws:PrincipalOrgPaths", ContextValue::Multi(paths));
        }
        None => {
            ctx.set("aws:PrincipalOrgID", ContextValue::Absent);
            ctx.set("aws:PrincipalOrgPaths", ContextValue::Absent);
        }
    }
}

/// Resource keys: account, organization and, when the snapshot holds them, tags.
pub fn resource(
    ctx: &mut Context,
    account: &str,
    org: Option<(&str, Vec<String>)>,
    tags: Option<&Tags>,
) {
    if !account.is_empty() {
        ctx.set("aws:ResourceAccount", single(account));
    }
    match org {
        Some((id, paths)) => {
            ctx.set("aws:ResourceOrgID", single(id));
            ctx.set("aws:ResourceOrgPaths", ContextValue::Multi(paths));
        }
        None if !account.is_empty() => {
            ctx.set("aws:ResourceOrgID", ContextValue::Absent);
            ctx.set("aws:ResourceOrgPaths", ContextValue::Absent);
        }
        None => {}
    }
    if let Some(tags) = tags {
        for (k, v) in tags {
            ctx.set(&format!("aws:ResourceTag/{k}"), single(v));
        }
        ctx.absent_prefixes.push("aws:resourcetag/".to_string());
    }
}

/// A call the principal makes itself: no service in between, no source resource.
pub fn direct_call(ctx: &mut Context, region: &str) {
    ctx.set("aws:ViaAWSService", single("false"));
    ctx.set("aws:CalledVia", ContextValue::Absent);
    ctx.set("aws:SourceAccount", ContextValue::Absent);
    ctx.set("aws:SourceArn", ContextValue::Absent);
    if !region.is_empty() {
        ctx.set("aws:RequestedRegion", single(region));
    }
}

/// A KMS call that Secrets Manager, SSM or S3 makes with the caller's credentials (R4.4, R7.1).
pub fn via_service(ctx: &mut Context, service: &str, region: &str, caller_account: &str) {
    // An unknown region leaves `kms:ViaService` and `aws:RequestedRegion` unknown.
    if !region.is_empty() {
        ctx.set(
            "kms:ViaService",
            single(format!("{service}.{region}.amazonaws.com")),
        );
        ctx.set("aws:RequestedRegion", single(region));
    }
    ctx.set("kms:CallerAccount", single(caller_account));
    ctx.set("aws:ViaAWSService", single("true"));
    ctx.set(
        "aws:CalledVia",
        ContextValue::Multi(vec![format!("{service}.amazonaws.com")]),
    );
    ctx.set("aws:SourceAccount", ContextValue::Absent);
    ctx.set("aws:SourceArn", ContextValue::Absent);
}

/// ECS assuming a task or execution role (R4.2): the source account is the task's, and the
/// source ARN is some ECS ARN in that account and region (task or cluster: which is unverified,
/// so only its prefix is known).
pub fn ecs_service(task_account: &str, task_region: &str, partition: &str) -> Context {
    let mut ctx = base();
    ctx.set("aws:SourceAccount", single(task_account));
    ctx.set(
        "aws:SourceArn",
        ContextValue::Prefix(format!("arn:{partition}:ecs:{task_region}:{task_account}:")),
    );
    ctx.set("aws:PrincipalIsAWSService", single("true"));
    ctx.set("aws:PrincipalServiceName", single(super::world::ECS_TASKS));
    ctx.set("aws:PrincipalArn", ContextValue::Absent);
    ctx.set("aws:PrincipalAccount", ContextValue::Absent);
    ctx.set("aws:PrincipalOrgID", ContextValue::Absent);
    ctx.set("aws:PrincipalOrgPaths", ContextValue::Absent);
    ctx.set("aws:PrincipalType", ContextValue::Absent);
    ctx.set("aws:userid", ContextValue::Absent);
    ctx.set("aws:username", ContextValue::Absent);
    ctx.set("sts:ExternalId", ContextValue::Absent);
    ctx.set("aws:MultiFactorAuthPresent", ContextValue::Absent);
    ctx.absent_prefixes.push("aws:principaltag/".to_string());
    ctx
}
