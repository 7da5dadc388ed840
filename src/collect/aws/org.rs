//! Reading the organization from a management or delegated-admin account (`--org-role`): its
//! accounts, the parent of every account and OU up to the root, SCPs and RCPs with their
//! targets; then assuming the role in each active member account.
//!
//! A member is read with aws-config's `AssumeRoleProvider`, which the SDK's identity cache asks
//! for fresh credentials shortly before the last ones expire, so a collection may last longer
//! than a role session. The session is always named `rolechain`, so that whoever reads a
//! member's CloudTrail sees who read the account.

use std::collections::{BTreeMap, BTreeSet};

use aws_config::Region;
use aws_config::sts::AssumeRoleProvider;
use aws_sdk_organizations::types::PolicyType;
use aws_sdk_sts::config::SharedCredentialsProvider;
use futures_util::future::join_all;

use super::decode::policy_document;
use super::ops;
use super::{CollectOptions, Ctx, Scope, Target};
use crate::collect::snapshot::{
    OrgAccountDto, OrgDto, OrgPolicyDto, OrgPolicySummaryDto, OrgUnitDto,
};

/// The role session name of every AssumeRole: fixed, so that member accounts' CloudTrail
/// readers recognise the collector.
pub(super) const SESSION_NAME: &str = "rolechain";

/// What reading the organization found.
pub(super) struct Organization {
    /// The organization, as the snapshot holds it.
    pub(super) dto: OrgDto,
    /// One target per active member account that could be assumed, other than `me`.
    pub(super) members: Vec<Target>,
    /// The account that read the organization.
    pub(super) me: String,
    /// Whether the list of accounts was read in full; if not, members may be missing and the
    /// `ListAccounts` gap says so.
    pub(super) complete: bool,
}

/// What a failed ListAccounts means, appended to its gap.
const MEMBERS_MAY_BE_MISSING: &str = "member accounts may be missing from this snapshot: the organization's account list was not read in full";

/// What a failed DescribeOrganization means, appended to its gap.
const ORGANIZATION_NOT_READ: &str =
    "the organization was not read, so member accounts may be missing from this snapshot";

/// The organization, and one target per active member account other than `base`'s own.
/// `None` when the organization cannot be described (a gap says why).
pub(super) async fn organization(
    ctx: &Ctx<'_>,
    base: &Target,
    role: &str,
    options: &CollectOptions,
) -> Option<Organization> {
    let client = aws_sdk_organizations::Client::new(&base.config);
    let label = base.label.clone();
    let (me, partition) = super::caller_identity(ctx, &base.config, &label).await?;
    let scope = Scope {
        ctx,
        account: &me,
        region: None,
    };
    let described = scope
        .call_noting(
            ops::DESCRIBE_ORGANIZATION,
            None,
            ORGANIZATION_NOT_READ,
            client.describe_organization().send(),
        )
        .await?;
    let org = described.organization()?;
    let mut dto = OrgDto {
        id: org.id().unwrap_or_default().to_string(),
        management_account_id: org.master_account_id().map(str::to_string),
        accounts: Vec::new(),
        parents: BTreeMap::new(),
        organizational_units: Vec::new(),
        policies: Vec::new(),
    };

    let mut active = Vec::new();
    let listed = scope
        .pages_noting(
            ops::LIST_ACCOUNTS,
            None,
            Some(MEMBERS_MAY_BE_MISSING),
            client.list_accounts().into_paginator().send(),
        )
        .await;
    for a in listed.pages.iter().flat_map(|p| p.accounts()) {
        let Some(id) = a.id() else { continue };
        dto.accounts.push(OrgAccountDto {
            id: id.to_string(),
            name: a.name().map(str::to_string),
        });
        let is_active = a
            .status()
            .is_none_or(|s| *s == aws_sdk_organizations::types::AccountStatus::Active);
        if is_active {
            active.push((id.to_string(), a.name().map(str::to_string)));
        }
    }
    dto.accounts.sort_by(|a, b| a.id.cmp(&b.id));

    // The root is where every chain of parents ends.
    let roots: Vec<String> = scope
        .pages(
            ops::LIST_ROOTS,
            None,
            client.list_roots().into_paginator().send(),
        )
        .await
        .iter()
        .flatten()
        .flat_map(|p| p.roots())
        .filter_map(|r| r.id().map(str::to_string))
        .collect();
    let mut pending: Vec<String> = dto.accounts.iter().map(|a| a.id.clone()).collect();
    while !pending.is_empty() {
        let found = join_all(pending.iter().map(|child| {
            let client = &client;
            async move {
                let pages = scope
                    .pages(
                        ops::LIST_PARENTS,
                        Some(child),
                        client
                            .list_parents()
                            .child_id(child)
                            .into_paginator()
                            .send(),
                    )
                    .await;
                let parent = pages
                    .iter()
                    .flatten()
                    .flat_map(|p| p.parents())
                    .find_map(|p| p.id().map(str::to_string));
                (child.clone(), parent)
            }
        }))
        .await;
        pending = Vec::new();
        for (child, parent) in found {
            let Some(parent) = parent else { continue };
            let new = !dto.parents.contains_key(&parent) && !roots.contains(&parent);
            dto.parents.insert(child, parent.clone());
            if new && !pending.contains(&parent) {
                pending.push(parent);
            }
        }
    }

    // The names of the OUs on those chains, which rules may name.
    let units: BTreeSet<&String> = dto
        .parents
        .keys()
        .chain(dto.parents.values())
        .filter(|id| id.starts_with("ou-"))
        .collect();
    let described = join_all(units.into_iter().map(|id| {
        let client = &client;
        async move {
            let out = scope
                .call(
                    ops::DESCRIBE_ORGANIZATIONAL_UNIT,
                    Some(id),
                    client
                        .describe_organizational_unit()
                        .organizational_unit_id(id)
                        .send(),
                )
                .await?;
            Some(OrgUnitDto {
                id: id.clone(),
                name: out.organizational_unit()?.name().map(str::to_string),
            })
        }
    }))
    .await;
    dto.organizational_units = described.into_iter().flatten().collect();

    for kind in [
        PolicyType::ServiceControlPolicy,
        PolicyType::ResourceControlPolicy,
    ] {
        let Some(pages) = scope
            .pages(
                ops::LIST_POLICIES,
                Some(kind.as_str()),
                client
                    .list_policies()
                    .filter(kind.clone())
                    .into_paginator()
                    .send(),
            )
            .await
        else {
            continue;
        };
        let kind = &kind;
        let ids: Vec<String> = pages
            .iter()
            .flat_map(|p| p.policies())
            .filter_map(|p| p.id().map(str::to_string))
            .collect();
        let read = join_all(ids.iter().map(|id| {
            let client = &client;
            async move {
                let described = scope
                    .call(
                        ops::DESCRIBE_POLICY,
                        Some(id),
                        client.describe_policy().policy_id(id).send(),
                    )
                    .await?;
                let policy = described.policy()?;
                let summary = policy.policy_summary()?;
                let Some(content) = policy.content().and_then(policy_document) else {
                    scope.gap(
                        ops::DESCRIBE_POLICY,
                        Some(id),
                        "the policy document is not JSON".to_string(),
                    );
                    return None;
                };
                let targets = scope
                    .pages(
                        ops::LIST_TARGETS_FOR_POLICY,
                        Some(id),
                        client
                            .list_targets_for_policy()
                            .policy_id(id)
                            .into_paginator()
                            .send(),
                    )
                    .await;
                let mut targets: Vec<String> = targets
                    .iter()
                    .flatten()
                    .flat_map(|p| p.targets())
                    .filter_map(|t| t.target_id().map(str::to_string))
                    .collect();
                targets.sort();
                Some(OrgPolicyDto {
                    summary: OrgPolicySummaryDto {
                        id: id.clone(),
                        name: summary.name().map(str::to_string),
                        kind: summary
                            .r#type()
                            .map_or_else(|| kind.as_str().to_string(), |t| t.as_str().to_string()),
                    },
                    content: content.into(),
                    targets,
                })
            }
        }))
        .await;
        dto.policies.extend(read.into_iter().flatten());
    }
    dto.policies.sort_by(|a, b| a.summary.id.cmp(&b.summary.id));

    let members = join_all(
        active
            .into_iter()
            .filter(|(id, _)| {
                *id != me && (options.accounts.is_empty() || options.accounts.contains(id))
            })
            .map(|(id, name)| assume(scope, base, &partition, id, name, role, options)),
    )
    .await;
    Some(Organization {
        dto,
        members: members.into_iter().flatten().collect(),
        me,
        complete: listed.complete,
    })
}

/// Assumes `role` in account `id` through a refreshing provider; a failure is a gap and the
/// account is skipped.
///
/// The provider is lazy, so a first call with its credentials (STS GetCallerIdentity, which
/// needs no permission) makes the first AssumeRole here, where a refusal becomes a gap for
/// `sts:AssumeRole` on the role with STS's answer, as for any other call. The SDK's identity
/// cache, shared by every client built from the returned configuration, keeps those credentials
/// and asks the provider again shortly before they expire.
async fn assume(
    scope: Scope<'_, '_>,
    base: &Target,
    partition: &str,
    id: String,
    name: Option<String>,
    role: &str,
    options: &CollectOptions,
) -> Option<Target> {
    let role_arn = format!("arn:{partition}:iam::{id}:role/{role}");
    let member = Scope {
        ctx: scope.ctx,
        account: &id,
        region: None,
    };
    let config = assumed_config(base, &role_arn, options.external_id.as_deref()).await;
    let sts = aws_sdk_sts::Client::new(&config);
    member
        .call_assumed(
            ops::GET_CALLER_IDENTITY,
            ops::ASSUME_ROLE,
            &role_arn,
            sts.get_caller_identity().send(),
        )
        .await?;
    Some(Target {
        config,
        regions: base.regions.clone(),
        label: format!("role `{role_arn}`"),
        id: Some(id),
        name,
    })
}

/// `base`'s configuration with the credentials of `role_arn`, assumed with `base`'s own
/// credentials, endpoint, retries and timeouts, in `base`'s region (or the first region read).
async fn assumed_config(
    base: &Target,
    role_arn: &str,
    external_id: Option<&str>,
) -> aws_config::SdkConfig {
    let mut provider = AssumeRoleProvider::builder(role_arn)
        .session_name(SESSION_NAME)
        .configure(&base.config);
    let region = base
        .config
        .region()
        .cloned()
        .or_else(|| base.regions.first().map(|r| Region::new(r.clone())));
    if let Some(region) = region {
        provider = provider.region(region);
    }
    if let Some(external_id) = external_id {
        provider = provider.external_id(external_id);
    }
    let provider = provider.build().await;
    base.config
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build()
}

#[cfg(test)]
#[path = "org_tests.rs"]
mod tests;
