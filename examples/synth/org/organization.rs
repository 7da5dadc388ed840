//! The `organization` part: OUs, the accounts' places among them, and the SCPs and RCP.

use std::collections::BTreeMap;

use rolechain::collect::snapshot::{OrgAccountDto, OrgDto, OrgPolicyDto, OrgPolicySummaryDto};
use serde_json::{Value, json};

use super::iam::{as_string, policy};
use super::plan::{Gen, MGMT, SHARED, VENDOR_ACCOUNT};

impl Gen<'_> {
    /// The organization: a root, the OUs `workloads` (with `prod`, `staging` and `dev`) and
    /// `infrastructure`, every account, `FullAWSAccess` at every level, guard-rail SCPs and a
    /// data-perimeter RCP.
    pub(super) fn organization(&self) -> OrgDto {
        let n = self.c.accounts;
        let accounts = (0..n)
            .map(|i| {
                let a = self.account(i);
                OrgAccountDto {
                    id: a.id,
                    name: Some(a.name),
                }
            })
            .collect();
        let mut parents = BTreeMap::new();
        let ou = |name: &str| self.ou.get(name).cloned().unwrap_or_default();
        for name in ["workloads", "infrastructure"] {
            parents.insert(ou(name), self.root_id.clone());
        }
        for name in ["prod", "staging", "dev"] {
            parents.insert(ou(name), ou("workloads"));
        }
        for i in 0..n {
            let a = self.account(i);
            let parent = match i {
                MGMT => self.root_id.clone(),
                SHARED => ou("infrastructure"),
                _ => ou(a.env.as_str()),
            };
            parents.insert(a.id, parent);
        }
        let mut every_level = vec![self.root_id.clone()];
        every_level.extend(self.ou.values().cloned());
        every_level.extend((0..n).map(|i| self.account_id(i)));
        let org_policy =
            |id: &str, name: &str, kind: &str, content: Value, targets: Vec<String>| OrgPolicyDto {
                summary: OrgPolicySummaryDto {
                    id: id.to_string(),
                    name: Some(name.to_string()),
                    kind: kind.to_string(),
                },
                content: as_string(&content),
                targets,
            };
        let scp = "SERVICE_CONTROL_POLICY";
        let policies = vec![
            org_policy(
                "p-FullAWSAccess",
                "FullAWSAccess",
                scp,
                policy(vec![
                    json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
                ]),
                every_level,
            ),
            org_policy(
                "p-guardrails",
                "baseline-guardrails",
                scp,
                policy(vec![
                    json!({"Sid": "DenyLeavingTheOrganization", "Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}),
                    json!({"Sid": "ProtectOrganizationTrail", "Effect": "Deny", "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail"], "Resource": "*"}),
                    json!({"Sid": "DenyRootUser", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}}),
                ]),
                vec![self.root_id.clone()],
            ),
            org_policy(
                "p-regions",
                "approved-regions",
                scp,
                policy(vec![json!({
                    "Sid": "DenyOutsideApprovedRegions",
                    "Effect": "Deny",
                    "NotAction": ["iam:*", "sts:*", "organizations:*", "support:*", "cloudfront:*", "route53:*", "s3:*"],
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}},
                })]),
                vec![ou("workloads")],
            ),
            org_policy(
                "p-prodprotect",
                "production-protections",
                scp,
                policy(vec![
                    json!({"Sid": "ProtectKeysAndSecrets", "Effect": "Deny", "Action": ["kms:ScheduleKeyDeletion", "kms:DisableKey", "secretsmanager:DeleteSecret"], "Resource": "*"}),
                    json!({"Sid": "NoLongTermCredentials", "Effect": "Deny", "Action": ["iam:CreateUser", "iam:CreateAccessKey"], "Resource": "*"}),
                ]),
                vec![ou("prod")],
            ),
            org_policy(
                "p-perimeter",
                "data-perimeter-trusted-identities",
                "RESOURCE_CONTROL_POLICY",
                policy(vec![json!({
                    "Sid": "EnforceOrgIdentities",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": ["sts:AssumeRole", "secretsmanager:*", "s3:*", "kms:*"],
                    "Resource": "*",
                    "Condition": {
                        "StringNotEqualsIfExists": {"aws:PrincipalOrgID": self.org_id, "aws:PrincipalAccount": [VENDOR_ACCOUNT]},
                        "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
                    },
                })]),
                vec![self.root_id.clone()],
            ),
        ];
        OrgDto {
            id: self.org_id.clone(),
            management_account_id: Some(self.account_id(MGMT)),
            accounts,
            parents,
            policies,
            organizational_units: Vec::new(),
        }
    }
}
