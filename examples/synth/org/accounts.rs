//! The accounts: the management, shared-services and data accounts (workload accounts are in
//! `workload.rs`), and the parts every account shares.

use std::collections::BTreeMap;

use rolechain::collect::snapshot::{
    AccountDto, AliasDto, BucketDto, Document, EcrRepositoryDto, EcsDto, IamDto, KeyMetadataDto,
    KmsKeyDto, RegionDto, SecretDto, SsmParameterDto,
};
use serde_json::{Value, json};

use super::Summary;
use super::iam::{as_string, policy, tag, url_encoded};
use super::plan::{Account, DATA, FIRST_WORKLOAD, Gen, HOME_REGION, MGMT, SHARED};
use super::random::{Choice, mix};

impl Gen<'_> {
    /// Account `idx`, as the snapshot holds it; counts what it holds into `summary`.
    pub(super) fn account_dto(&self, idx: usize, summary: &mut Summary) -> AccountDto {
        let a = self.account(idx);
        match idx {
            MGMT => self.management(&a, summary),
            SHARED => self.shared_services(&a, summary),
            DATA => self.data(&a, summary),
            _ => self.workload(&a, summary),
        }
    }

    /// An account with its IAM, its one region and its buckets. EC2 and the S3 account settings
    /// are not part of a generated organization, so they are left out (not collected).
    pub(super) fn account_frame(
        a: &Account,
        iam: IamDto,
        region: RegionDto,
        buckets: Vec<BucketDto>,
    ) -> AccountDto {
        AccountDto {
            id: a.id.clone(),
            name: Some(a.name.clone()),
            partition: Some("aws".to_string()),
            iam: Some(iam),
            regions: BTreeMap::from([(a.region.to_string(), region)]),
            s3_buckets: Some(buckets),
            s3_public_access_block: None,
        }
    }

    /// A region where every part was collected and holds nothing.
    fn empty_region() -> RegionDto {
        RegionDto {
            ecs: Some(EcsDto {
                clusters: Some(Vec::new()),
                services: Some(Vec::new()),
                task_definitions: Some(Vec::new()),
                tasks: Some(Vec::new()),
                container_instances: None,
            }),
            secrets: Some(Vec::new()),
            ssm_parameters: Some(Vec::new()),
            kms_keys: Some(Vec::new()),
            ecr_repositories: Some(Vec::new()),
            log_groups: Some(Vec::new()),
            ec2_instances: None,
        }
    }

    /// The management account: an audit role and an operator of the member accounts.
    fn management(&self, a: &Account, summary: &mut Summary) -> AccountDto {
        let mut roles = vec![
            Gen::role(
                a,
                "security-audit",
                policy(vec![
                    json!({"Effect": "Allow", "Principal": {"AWS": Gen::root_arn(&a.id)}, "Action": "sts:AssumeRole",
                                   "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}),
                ]),
                vec![(
                    "assume-audit".into(),
                    policy(vec![
                        json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/security-audit"}),
                    ]),
                )],
                &[],
                &[("owner", "security")],
            ),
            Gen::role(
                a,
                "org-operator",
                policy(vec![
                    json!({"Effect": "Allow", "Principal": {"AWS": Gen::root_arn(&a.id)}, "Action": "sts:AssumeRole"}),
                ]),
                vec![(
                    "operate-members".into(),
                    policy(vec![
                        json!({"Sid": "AssumeMemberAdmin", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/OrganizationAccountAccessRole"}),
                        json!({"Sid": "NotTheManagementAccount", "Effect": "Deny", "Action": "sts:AssumeRole", "Resource": format!("arn:aws:iam::{}:role/*", a.id)}),
                    ]),
                )],
                &[],
                &[("owner", "platform")],
            ),
        ];
        roles.extend(self.chain_roles(a));
        self.fill(a, &mut roles);
        let iam = Gen::iam(roles, Gen::aws_managed_policies(), summary);
        Gen::account_frame(a, iam, Gen::empty_region(), Vec::new())
    }

    /// The shared-services account: CI, the ECR repositories every workload pulls from, and
    /// customer-managed keys shared with the organization.
    fn shared_services(&self, a: &Account, summary: &mut Summary) -> AccountDto {
        let acct = &a.id;
        let mut roles = vec![
            self.org_admin_role(a),
            Gen::role(
                a,
                "ci-runner",
                policy(vec![json!({"Sid": "GitHubActions", "Effect": "Allow",
                    "Principal": {"Federated": format!("arn:aws:iam::{acct}:oidc-provider/token.actions.githubusercontent.com")},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/*:ref:refs/heads/main"}}})]),
                vec![(
                    "deploy-everywhere".into(),
                    policy(vec![
                        json!({"Sid": "AssumeDeployRoles", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ["arn:aws:iam::*:role/ci-deploy", self.role_arn_of(SHARED, "ecr-publisher")]}),
                    ]),
                )],
                &[],
                &[("owner", "platform")],
            ),
            Gen::role(
                a,
                "ecr-publisher",
                policy(vec![
                    json!({"Effect": "Allow", "Principal": {"AWS": self.role_arn_of(SHARED, "ci-runner")}, "Action": "sts:AssumeRole"}),
                ]),
                vec![(
                    "push".into(),
                    policy(vec![
                        json!({"Sid": "Login", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}),
                        json!({"Sid": "PushAndPull", "Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"],
                           "Resource": format!("arn:aws:ecr:{HOME_REGION}:{acct}:repository/*")}),
                    ]),
                )],
                &[],
                &[("owner", "platform")],
            ),
            Gen::role(
                a,
                "kms-admin",
                policy(vec![
                    json!({"Effect": "Allow", "Principal": {"AWS": Gen::root_arn(acct)}, "Action": "sts:AssumeRole"}),
                ]),
                vec![],
                &[],
                &[("owner", "security")],
            ),
        ];
        roles.extend(self.chain_roles(a));
        self.fill(a, &mut roles);
        let iam = Gen::iam(roles, Gen::aws_managed_policies(), summary);

        let org = &self.org_id;
        let mut keys = Vec::new();
        for (k, alias) in ["alias/shared/prod-secrets", "alias/shared/ecr"]
            .into_iter()
            .enumerate()
        {
            let key_policy = policy(vec![
                json!({"Sid": "EnableIAMUserPermissions", "Effect": "Allow", "Principal": {"AWS": Gen::root_arn(acct)}, "Action": "kms:*", "Resource": "*"}),
                json!({"Sid": "AllowKeyAdministration", "Effect": "Allow", "Principal": {"AWS": Gen::role_arn(a, "kms-admin")},
                       "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Get*", "kms:TagResource"], "Resource": "*"}),
                json!({"Sid": "AllowOrganizationThroughServices", "Effect": "Allow", "Principal": {"AWS": "*"},
                       "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*"], "Resource": "*",
                       "Condition": {"StringEquals": {"aws:PrincipalOrgID": org},
                                     "StringLike": {"kms:ViaService": ["secretsmanager.*.amazonaws.com", "ssm.*.amazonaws.com", "s3.*.amazonaws.com"]}}}),
                json!({"Sid": "DenyOutsideTheOrganization", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                       "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": org}, "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}),
            ]);
            keys.push(self.kms_key(a, HOME_REGION, k, alias, &key_policy));
        }
        summary.kms_keys += keys.len();

        let n = self.repositories();
        let mut repos = Vec::with_capacity(n);
        for j in 0..n {
            let name = self.repo_name(j);
            let kind = self.hash(&[Choice::RepoPolicy as u64, j as u64]) % 100;
            let pull = json!([
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchCheckLayerAvailability"
            ]);
            let policy_text = if kind < 92 {
                Some(as_string(
                    &json!({"Version": "2008-10-17", "Statement": [{"Sid": "PullFromTheOrganization", "Effect": "Allow", "Principal": "*", "Action": pull,
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": org}}}]}),
                ))
            } else if kind < 97 {
                let h = self.hash(&[Choice::RepoAccounts as u64, j as u64]);
                let listed: Vec<String> = (0..3)
                    .map(|i| {
                        Gen::root_arn(&self.account_id(
                            FIRST_WORKLOAD + (mix(h ^ i) % self.workloads() as u64) as usize,
                        ))
                    })
                    .collect();
                Some(as_string(
                    &json!({"Version": "2008-10-17", "Statement": [{"Sid": "PullFromListedAccounts", "Effect": "Allow", "Principal": {"AWS": listed}, "Action": pull}]}),
                ))
            } else {
                None
            };
            repos.push(EcrRepositoryDto {
                repository_arn: format!("arn:aws:ecr:{HOME_REGION}:{acct}:repository/{name}"),
                repository_uri: Some(format!("{acct}.dkr.ecr.{HOME_REGION}.amazonaws.com/{name}")),
                repository_name: Some(name),
                policy_text,
                tags: None,
                image_tag_mutability: None,
            });
        }
        summary.repositories += repos.len();
        let region = RegionDto {
            kms_keys: Some(keys),
            ecr_repositories: Some(repos),
            ..Gen::empty_region()
        };
        Gen::account_frame(a, iam, region, Vec::new())
    }

    /// Customer-managed key `k` of an account, with one alias.
    pub(super) fn kms_key(
        &self,
        a: &Account,
        region: &str,
        k: usize,
        alias: &str,
        key_policy: &Value,
    ) -> KmsKeyDto {
        KmsKeyDto {
            key_metadata: KeyMetadataDto {
                key_id: self.key_id(a.idx, k),
                arn: self.key_arn(a.idx, region, k),
                key_manager: Some("CUSTOMER".to_string()),
            },
            policy: Some(as_string(key_policy)),
            aliases: vec![AliasDto {
                alias_name: alias.to_string(),
            }],
            tags: Vec::new(),
        }
    }

    /// The data account: one secret per dataset (readable by the last roles of the chains that
    /// end there), dataset parameters and buckets readable by the organization.
    fn data(&self, a: &Account, summary: &mut Summary) -> AccountDto {
        let acct = &a.id;
        let org = &self.org_id;
        let mut roles = vec![
            self.org_admin_role(a),
            Gen::role(
                a,
                "analytics-readonly",
                url_encoded(&policy(vec![
                    json!({"Sid": "ReportingTasksOfTheOrganization", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": org}, "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/reporting-*-task"}}}),
                ])),
                vec![(
                    "analytics-read".into(),
                    policy(vec![
                        json!({"Sid": "ReadExports", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::acme-data-*", "arn:aws:s3:::acme-data-*/*"]}),
                        json!({"Sid": "ReadWarehouseParameters", "Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters"], "Resource": format!("arn:aws:ssm:{HOME_REGION}:{acct}:parameter/datasets/*")}),
                        json!({"Sid": "NoCredentials", "Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*"}),
                    ]),
                )],
                &[],
                &[("team", "analytics")],
            ),
        ];
        roles.extend(self.chain_roles(a));
        self.fill(a, &mut roles);
        let iam = Gen::iam(roles, Gen::aws_managed_policies(), summary);

        let layout = self.layout_data();
        let shared_key = self.key_arn(SHARED, HOME_REGION, 0);
        let mut secrets = Vec::with_capacity(layout.secrets);
        for d in 0..layout.secrets {
            let mut statements = vec![
                json!({"Sid": "NeverDelete", "Effect": "Deny", "Principal": "*", "Action": "secretsmanager:DeleteSecret", "Resource": "*"}),
            ];
            if let Some(readers) = self.dataset_readers.get(&d) {
                statements.insert(0, json!({"Sid": "ChainReaders", "Effect": "Allow", "Principal": {"AWS": readers}, "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], "Resource": "*"}));
            }
            secrets.push(SecretDto {
                arn: self.data_secret_arn(d),
                name: Some(format!("datasets/ds{d}/reader")),
                kms_key_id: Some(shared_key.clone()),
                tags: vec![tag("dataset", &format!("ds{d}"))],
                resource_policy: Some(as_string(&policy(statements))),
            });
        }
        let params: Vec<SsmParameterDto> = (0..layout.params)
            .map(|j| {
                Gen::parameter(
                    a,
                    HOME_REGION,
                    &format!("/datasets/ds{}/endpoint-{j}", j % layout.secrets),
                    false,
                    None,
                )
            })
            .collect();
        let buckets: Vec<BucketDto> = (0..layout.buckets)
            .map(|j| {
                let name = format!("acme-data-ds{}-{j}", j % layout.secrets);
                let p = policy(vec![
                    json!({"Sid": "ReadFromTheOrganization", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
                           "Resource": [format!("arn:aws:s3:::{name}"), format!("arn:aws:s3:::{name}/*")], "Condition": {"StringEquals": {"aws:PrincipalOrgID": org}}}),
                    json!({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                           "Resource": [format!("arn:aws:s3:::{name}"), format!("arn:aws:s3:::{name}/*")], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
                ]);
                Gen::bucket(name, HOME_REGION, Some(as_string(&p)))
            })
            .collect();
        summary.secrets += secrets.len();
        summary.parameters += params.len();
        summary.buckets += buckets.len();
        let region = RegionDto {
            secrets: Some(secrets),
            ssm_parameters: Some(params),
            ..Gen::empty_region()
        };
        Gen::account_frame(a, iam, region, buckets)
    }

    /// An SSM parameter; a `SecureString` under `key`, or the AWS-managed key when `None`.
    pub(super) fn parameter(
        a: &Account,
        region: &str,
        name: &str,
        secure: bool,
        key: Option<&str>,
    ) -> SsmParameterDto {
        SsmParameterDto {
            name: name.to_string(),
            arn: Some(format!(
                "arn:aws:ssm:{region}:{}:parameter/{}",
                a.id,
                name.trim_start_matches('/')
            )),
            parameter_type: Some(if secure { "SecureString" } else { "String" }.to_string()),
            key_id: key.map(str::to_string),
            tags: None,
        }
    }

    /// A bucket with its policy; the bucket's own settings are not part of a generated
    /// organization, so they are left out (not collected).
    pub(super) fn bucket(name: String, region: &str, policy: Option<Document>) -> BucketDto {
        BucketDto {
            name,
            region: Some(region.to_string()),
            policy,
            public_access_block: None,
            acl: None,
            encryption: None,
            tags: None,
        }
    }
}
