//! Organization levels: the SCP and RCP chains of each account, and its organization facts.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

use crate::graph::world::RCP_SERVICES;
use crate::graph::world::{Caller, World, arn_account};
use crate::model::{self, Diagnostic, OrgPolicyKind};
use crate::policy::{OrgLevel, PolicyRef, PolicyType};

/// One level of an organization chain and the policies attached there.
pub(in crate::graph) type Level<'a> = (&'a str, Vec<&'a model::OrgPolicy>);

impl<'a> World<'a> {
    pub(in crate::graph) fn index_organization(&mut self) {
        let inventory = self.inventory;
        let Some(org) = &inventory.organization else {
            return;
        };
        let mut missing_levels = BTreeSet::new();
        for account in &inventory.accounts {
            if org.management_account_id.as_deref() == Some(account.id.as_str()) {
                continue;
            }
            // The chain from the account up to the root, then reversed: root first.
            let mut chain: Vec<&'a str> = vec![&account.id];
            let mut cur: &'a str = &account.id;
            while let Some(parent) = org.parents.get(cur) {
                if chain.len() > 64 || chain.contains(&parent.as_str()) {
                    break;
                }
                chain.push(parent);
                cur = parent;
            }
            if chain.len() == 1 {
                // Not in the organization's tree: SCPs and RCPs of this organization do not apply.
                continue;
            }
            chain.reverse();
            for kind in [OrgPolicyKind::Scp, OrgPolicyKind::Rcp] {
                let mut levels = Vec::new();
                for &target in &chain {
                    let attached: Vec<&'a model::OrgPolicy> = org
                        .policies
                        .iter()
                        .filter(|p| p.kind == kind && p.targets.iter().any(|t| t == target))
                        .collect();
                    if kind == OrgPolicyKind::Scp && attached.is_empty() {
                        missing_levels.insert(target.to_string());
                        continue;
                    }
                    levels.push((target, attached));
                }
                let levels: Arc<[OrgLevel<'a>]> = org_levels(
                    &levels,
                    if kind == OrgPolicyKind::Scp {
                        PolicyType::Scp
                    } else {
                        PolicyType::Rcp
                    },
                )
                .into();
                let map = if kind == OrgPolicyKind::Scp {
                    &mut self.scp_levels
                } else {
                    &mut self.rcp_levels
                };
                map.insert(&account.id, levels);
            }
        }
        for target in missing_levels {
            self.diagnostics.push(Diagnostic::warning(
                "scp-level-empty",
                target,
                "no SCP is attached at this level in the snapshot; it is treated as allowing everything",
            ));
        }
    }

    pub(in crate::graph) fn scps(&self, caller: Caller<'a>) -> Option<Arc<[OrgLevel<'a>]>> {
        match caller {
            Caller::Role(r) if r.is_service_linked() => return None,
            // Outside the snapshot's organization: SCPs of the snapshot do not apply, and
            // anonymous requests have none (R7.1).
            Caller::Outside(_) => return None,
            _ => {}
        }
        self.scp_levels.get(arn_account(caller.id())).cloned()
    }

    pub(in crate::graph) fn rcps(
        &self,
        resource_account: &str,
        service: &str,
        aws_managed_key: bool,
    ) -> Option<Cow<'_, [OrgLevel<'a>]>> {
        if aws_managed_key || !RCP_SERVICES.contains(&service) {
            return None;
        }
        self.rcp_levels
            .get(resource_account)
            .map(|l| Cow::Borrowed(&l[..]))
    }

    /// The partition, account and organization facts of the principal, as context keys.
    pub(in crate::graph) fn org_of(&self, account: &str) -> Option<(&'a str, Vec<String>)> {
        let org = self.inventory.organization.as_ref()?;
        let mut path = vec![account.to_string()];
        let mut cur = account;
        while let Some(parent) = org.parents.get(cur) {
            if path.len() > 64 || path.contains(parent) {
                break;
            }
            path.push(parent.clone());
            cur = parent;
        }
        let in_org = path.len() > 1
            || org.management_account_id.as_deref() == Some(account)
            || org.accounts.iter().any(|a| a.id == account);
        if !in_org {
            return None;
        }
        path.reverse();
        // aws:PrincipalOrgPaths: o-id/r-root/ou-…/ (the account itself is not part of the path).
        let ous: Vec<&String> = path
            .iter()
            .filter(|p| !p.chars().all(|c| c.is_ascii_digit()))
            .collect();
        let mut text = format!("{}/", org.id);
        for ou in ous {
            text.push_str(ou);
            text.push('/');
        }
        Some((&org.id, vec![text]))
    }
}

pub(in crate::graph) fn org_levels<'a>(
    levels: &[Level<'a>],
    policy_type: PolicyType,
) -> Vec<OrgLevel<'a>> {
    levels
        .iter()
        .map(|(target, policies)| OrgLevel {
            target,
            policies: policies
                .iter()
                .map(|p| PolicyRef {
                    policy_type,
                    id: &p.id,
                    document: &p.document,
                })
                .collect(),
        })
        .collect()
}
