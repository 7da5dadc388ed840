//! IAM: policy documents, roles (ECS task and execution roles, chain hops and the usual roles
//! that fill an account) and managed policies.
//!
//! Policy documents are JSON values in every snapshot, in the forms the AWS APIs return them:
//! managed policies URL-encoded, resource policies as JSON text, inline policies as objects.

use std::collections::BTreeSet;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rolechain::collect::snapshot::{
    AttachedDto, Document, IamDto, ManagedPolicyDto, NamedPolicyDto, PolicyVersionDto, RoleDto,
    TagDto,
};
use serde_json::{Value, json};

use super::Summary;
use super::plan::{Account, DATA, Gen, HOME_REGION, MGMT, SHARED, Trust, VENDOR_ACCOUNT};
use super::random::{MIXED62, UPPER32, alnum, fxhash, mix};

const ECS_TASKS: &str = "ecs-tasks.amazonaws.com";
pub(super) const EXEC_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
const ADMIN_POLICY: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

/// How AWS's IAM API encodes policy documents: everything but `A-Za-z0-9-_.` is escaped.
const IAM_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// A document as IAM returns it: URL-encoded JSON text.
pub(super) fn url_encoded(doc: &Value) -> Document {
    Document::from(Value::String(
        utf8_percent_encode(&doc.to_string(), IAM_ENCODE).to_string(),
    ))
}

/// A document as JSON text, as the APIs of resource policies return it.
pub(super) fn as_string(doc: &Value) -> Document {
    Document::from(Value::String(doc.to_string()))
}

/// A policy document of `statements`.
pub(super) fn policy(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

impl Gen<'_> {
    /// The trust policy of a task or execution role: ECS tasks of the role's own account.
    pub(super) fn ecs_trust(a: &Account) -> Value {
        policy(vec![json!({
            "Effect": "Allow",
            "Principal": {"Service": ECS_TASKS},
            "Action": "sts:AssumeRole",
            "Condition": {
                "ArnLike": {"aws:SourceArn": format!("arn:aws:ecs:{}:{}:*", a.region, a.id)},
                "StringEquals": {"aws:SourceAccount": a.id},
            },
        })])
    }

    pub(super) fn role(
        a: &Account,
        name: &str,
        trust: impl Into<Document>,
        inline: Vec<(String, Value)>,
        managed: &[&str],
        tags: &[(&str, &str)],
    ) -> RoleDto {
        let role_id = format!(
            "AROA{}",
            alnum(
                mix(name.len() as u64 ^ fxhash(&a.id) ^ fxhash(name)),
                17,
                UPPER32
            )
        );
        RoleDto {
            arn: Gen::role_arn(a, name),
            role_name: Some(name.to_string()),
            path: Some("/".to_string()),
            role_id: Some(role_id),
            assume_role_policy_document: Some(trust.into()),
            role_policy_list: inline
                .into_iter()
                .map(|(policy_name, policy_document)| NamedPolicyDto {
                    policy_name,
                    policy_document: policy_document.into(),
                })
                .collect(),
            attached_managed_policies: managed
                .iter()
                .map(|arn| AttachedDto {
                    policy_arn: arn.to_string(),
                })
                .collect(),
            permissions_boundary: None,
            tags: tags.iter().map(|&(k, v)| tag(k, v)).collect(),
            instance_profile_list: Vec::new(),
        }
    }

    /// A managed policy with one version, its document URL-encoded as IAM returns it.
    pub(super) fn managed_policy(arn: &str, name: &str, doc: &Value) -> ManagedPolicyDto {
        ManagedPolicyDto {
            arn: arn.to_string(),
            policy_name: Some(name.to_string()),
            default_version_id: Some("v1".to_string()),
            policy_version_list: vec![PolicyVersionDto {
                document: Some(url_encoded(doc)),
                version_id: Some("v1".to_string()),
                is_default_version: true,
            }],
        }
    }

    /// The AWS-managed policies that roles attach.
    pub(super) fn aws_managed_policies() -> Vec<ManagedPolicyDto> {
        let exec = policy(vec![json!({
            "Effect": "Allow",
            "Action": ["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        })]);
        let admin = policy(vec![
            json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        ]);
        vec![
            Gen::managed_policy(EXEC_POLICY, "AmazonECSTaskExecutionRolePolicy", &exec),
            Gen::managed_policy(ADMIN_POLICY, "AdministratorAccess", &admin),
        ]
    }

    /// The chain hop roles living in account `a`.
    pub(super) fn chain_roles(&self, a: &Account) -> Vec<RoleDto> {
        let mut out = Vec::new();
        for &(c, h) in self.hops_in.get(&a.idx).map(Vec::as_slice).unwrap_or(&[]) {
            let chain = &self.chains[c];
            let hop = &chain.hops[h];
            let (prev_account, prev_arn) = if h == 0 {
                let start = self.account(chain.account);
                let svc = self.service(&start, chain.service);
                (
                    start.id.clone(),
                    Gen::role_arn(&start, &format!("{}-task", svc.name)),
                )
            } else {
                let p = &chain.hops[h - 1];
                (
                    self.account_id(p.account),
                    self.role_arn_of(p.account, &p.name),
                )
            };
            let statement = match hop.trust {
                Trust::RoleArn => {
                    json!({"Sid": "ChainedFrom", "Effect": "Allow", "Principal": {"AWS": prev_arn}, "Action": "sts:AssumeRole"})
                }
                Trust::RootWithPrincipalArn => json!({
                    "Sid": "ChainedFromAccount", "Effect": "Allow",
                    "Principal": {"AWS": Gen::root_arn(&prev_account)}, "Action": "sts:AssumeRole",
                    "Condition": {"ArnEquals": {"aws:PrincipalArn": prev_arn}},
                }),
                Trust::ExternalId => json!({
                    "Sid": "ChainedWithExternalId", "Effect": "Allow",
                    "Principal": {"AWS": Gen::root_arn(&prev_account)}, "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": format!("chain-{c}-{}", alnum(self.hash(&[c as u64]), 8, MIXED62))}},
                }),
            };
            let trust = url_encoded(&policy(vec![statement]));
            let statements = if let Some(next) = chain.hops.get(h + 1) {
                vec![
                    json!({"Sid": "AssumeNextHop", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": self.role_arn_of(next.account, &next.name)}),
                ]
            } else {
                self.dataset_statements(chain.dataset)
            };
            out.push(Gen::role(
                a,
                &hop.name,
                trust,
                vec![(format!("{}-permissions", hop.name), policy(statements))],
                &[],
                &[("chain", &c.to_string())],
            ));
        }
        out
    }

    /// What the last role of a chain may do with dataset `d` of the data account.
    fn dataset_statements(&self, d: usize) -> Vec<Value> {
        let data = self.account_id(DATA);
        vec![
            json!({"Sid": "ReadDatasetSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                   "Resource": format!("arn:aws:secretsmanager:{HOME_REGION}:{data}:secret:datasets/ds{d}/*")}),
            json!({"Sid": "ReadDatasetObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                   "Resource": [format!("arn:aws:s3:::acme-data-ds{d}-*"), format!("arn:aws:s3:::acme-data-ds{d}-*/*")]}),
            json!({"Sid": "DecryptDatasets", "Effect": "Allow", "Action": "kms:Decrypt",
                   "Resource": self.key_arn(SHARED, HOME_REGION, 0),
                   "Condition": {"StringEquals": {"kms:ViaService": [format!("secretsmanager.{HOME_REGION}.amazonaws.com"), format!("s3.{HOME_REGION}.amazonaws.com")]}}}),
            json!({"Sid": "NeverDeleteDatasets", "Effect": "Deny", "Action": ["s3:DeleteObject", "s3:DeleteBucket", "secretsmanager:DeleteSecret"], "Resource": "*"}),
        ]
    }

    /// `OrganizationAccountAccessRole`, which the management account assumes.
    pub(super) fn org_admin_role(&self, a: &Account) -> RoleDto {
        Gen::role(
            a,
            "OrganizationAccountAccessRole",
            policy(vec![
                json!({"Effect": "Allow", "Principal": {"AWS": Gen::root_arn(&self.account_id(MGMT))}, "Action": "sts:AssumeRole"}),
            ]),
            vec![],
            &[ADMIN_POLICY],
            &[],
        )
    }

    /// Ordinary roles that fill an account up to `roles_per_account`.
    fn filler_role(&self, a: &Account, k: usize) -> RoleDto {
        let suffix = if k >= 6 {
            format!("-{}", k / 6)
        } else {
            String::new()
        };
        let env = a.env.as_str();
        let acct = &a.id;
        let r = a.region;
        match k % 6 {
            0 => Gen::role(
                a,
                &format!("lumen-observability{suffix}"),
                policy(vec![
                    json!({"Sid": "VendorWithExternalId", "Effect": "Allow", "Principal": {"AWS": Gen::root_arn(VENDOR_ACCOUNT)}, "Action": "sts:AssumeRole",
                                   "Condition": {"StringEquals": {"sts:ExternalId": format!("lumen-{}", alnum(fxhash(acct), 10, MIXED62))}}}),
                ]),
                vec![(
                    "read-service-logs".into(),
                    policy(vec![json!({"Sid": "ReadServiceLogs", "Effect": "Allow",
                    "Action": ["logs:DescribeLogGroups", "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery"],
                    "Resource": format!("arn:aws:logs:{r}:{acct}:log-group:/ecs/*")})]),
                )],
                &[],
                &[("vendor", "lumen")],
            ),
            1 => Gen::role(
                a,
                &format!("ci-deploy{suffix}"),
                policy(vec![
                    json!({"Sid": "SharedCiRunner", "Effect": "Allow", "Principal": {"AWS": self.role_arn_of(SHARED, "ci-runner")}, "Action": "sts:AssumeRole"}),
                ]),
                vec![(
                    "deploy".into(),
                    policy(vec![
                        json!({"Sid": "DeployServices", "Effect": "Allow", "Action": ["ecs:RegisterTaskDefinition", "ecs:UpdateService", "ecs:Describe*"], "Resource": "*"}),
                        json!({"Sid": "PassTaskRoles", "Effect": "Allow", "Action": "iam:PassRole",
                           "Resource": [format!("arn:aws:iam::{acct}:role/*-task"), format!("arn:aws:iam::{acct}:role/*-exec")],
                           "Condition": {"StringEquals": {"iam:PassedToService": ECS_TASKS}}}),
                    ]),
                )],
                &[],
                &[("owner", "platform")],
            ),
            2 => Gen::role(
                a,
                &format!("ops-poweruser{suffix}"),
                policy(vec![
                    json!({"Effect": "Allow", "Principal": {"AWS": Gen::root_arn(acct)}, "Action": "sts:AssumeRole",
                                   "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}),
                ]),
                vec![(
                    "power-user".into(),
                    policy(vec![
                        json!({"Sid": "EverythingButIdentity", "Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"}),
                        json!({"Sid": "NoSecretValues", "Effect": "Deny", "Action": "secretsmanager:GetSecretValue",
                           "Resource": format!("arn:aws:secretsmanager:*:{acct}:secret:{env}/*")}),
                    ]),
                )],
                &[],
                &[("owner", "ops")],
            ),
            3 => Gen::role(
                a,
                &format!("backup-operator{suffix}"),
                policy(vec![
                    json!({"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"}, "Action": "sts:AssumeRole"}),
                ]),
                vec![(
                    "backup".into(),
                    policy(vec![
                        json!({"Sid": "ReadBuckets", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket", "s3:GetBucket*"],
                           "Resource": [format!("arn:aws:s3:::{}-*", Gen::bucket_prefix(a)), format!("arn:aws:s3:::{}-*/*", Gen::bucket_prefix(a))]}),
                        json!({"Sid": "UseKeys", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": format!("arn:aws:kms:*:{acct}:key/*")}),
                    ]),
                )],
                &[],
                &[],
            ),
            4 => Gen::role(
                a,
                &format!("security-audit{suffix}"),
                policy(vec![
                    json!({"Effect": "Allow", "Principal": {"AWS": self.role_arn_of(MGMT, "security-audit")}, "Action": "sts:AssumeRole"}),
                ]),
                vec![(
                    "audit".into(),
                    policy(vec![
                        json!({"Sid": "Describe", "Effect": "Allow", "Action": ["secretsmanager:Describe*", "secretsmanager:List*", "ssm:Describe*", "kms:Describe*", "kms:List*", "s3:GetBucketPolicy", "ecr:Describe*"], "Resource": "*"}),
                        json!({"Sid": "NoData", "Effect": "Deny", "Action": ["secretsmanager:GetSecretValue", "ssm:GetParameter*", "s3:GetObject"], "Resource": "*"}),
                    ]),
                )],
                &[],
                &[("owner", "security")],
            ),
            _ => Gen::role(
                a,
                &format!("automation{suffix}"),
                policy(vec![
                    json!({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}),
                ]),
                vec![(
                    "rotate".into(),
                    policy(vec![
                        json!({"Sid": "RotateSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"],
                           "Resource": format!("arn:aws:secretsmanager:{r}:{acct}:secret:{env}/*/db-??????")}),
                        json!({"Sid": "ParametersExceptShared", "Effect": "Allow", "Action": "ssm:GetParameter*", "NotResource": format!("arn:aws:ssm:{r}:{acct}:parameter/shared/*")}),
                    ]),
                )],
                &[],
                &[],
            ),
        }
    }

    /// Adds ordinary roles until the account has `roles_per_account`.
    pub(super) fn fill(&self, a: &Account, roles: &mut Vec<RoleDto>) {
        let mut names: BTreeSet<String> =
            roles.iter().filter_map(|r| r.role_name.clone()).collect();
        let mut k = 0;
        while roles.len() < self.c.roles_per_account {
            let role = self.filler_role(a, k);
            k += 1;
            // The management account has its own `security-audit`; skip what would repeat a name.
            if role
                .role_name
                .as_ref()
                .is_some_and(|n| names.insert(n.clone()))
            {
                roles.push(role);
            }
        }
    }

    /// An account's IAM: its roles and managed policies, and no users or groups.
    pub(super) fn iam(
        roles: Vec<RoleDto>,
        policies: Vec<ManagedPolicyDto>,
        summary: &mut Summary,
    ) -> IamDto {
        summary.roles += roles.len();
        IamDto {
            user_detail_list: Vec::new(),
            group_detail_list: Vec::new(),
            role_detail_list: roles,
            policies,
        }
    }
}

/// A tag in `Key`/`Value` form.
pub(super) fn tag(key: &str, value: &str) -> TagDto {
    TagDto {
        key: key.to_string(),
        value: value.to_string(),
    }
}
