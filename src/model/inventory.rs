//! The inventory: everything a snapshot holds about an organization, as plain values.
//!
//! `Option<Vec<_>>` keeps the snapshot's distinction between "not collected" (`None`) and
//! "collected, and there are none" (`Some(vec![])`). Lists are kept in snapshot order; the graph
//! sorts what it emits.

use std::collections::BTreeMap;

use crate::model::{Diagnostic, PolicyDocument};

/// Tags as a sorted map of key to value.
pub type Tags = BTreeMap<String, String>;

/// One organization's snapshot.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    /// When the snapshot was collected, if known (RFC 3339).
    pub collected_at: Option<String>,
    /// AWS Organizations data, when collected.
    pub organization: Option<Organization>,
    /// The accounts, in snapshot order.
    pub accounts: Vec<Account>,
    /// What collection could not read.
    pub gaps: Vec<Gap>,
    /// What reading the snapshot noticed: parts skipped or fields read as absent, each naming
    /// its JSON path.
    pub diagnostics: Vec<Diagnostic>,
}

/// AWS Organizations: the tree of accounts and OUs, SCPs and RCPs.
#[derive(Clone, Debug, Default)]
pub struct Organization {
    /// `o-…`.
    pub id: String,
    /// The management account, exempt from SCPs and RCPs.
    pub management_account_id: Option<String>,
    /// Member accounts as listed by Organizations.
    pub accounts: Vec<OrgAccount>,
    /// Child id (account, OU) to parent id (OU, root).
    pub parents: BTreeMap<String, String>,
    /// OU id to its name, for the OUs the snapshot names.
    pub unit_names: BTreeMap<String, String>,
    /// SCPs and RCPs with their targets.
    pub policies: Vec<OrgPolicy>,
}

/// An account as Organizations lists it.
#[derive(Clone, Debug, Default)]
pub struct OrgAccount {
    /// The account id.
    pub id: String,
    /// Its name, if given.
    pub name: Option<String>,
}

/// Whether an organization policy is an SCP or an RCP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OrgPolicyKind {
    /// A service control policy: limits principals of member accounts.
    Scp,
    /// A resource control policy: limits resources of member accounts.
    Rcp,
}

/// One SCP or RCP.
#[derive(Clone, Debug)]
pub struct OrgPolicy {
    /// `p-…`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// SCP or RCP.
    pub kind: OrgPolicyKind,
    /// The policy content.
    pub document: PolicyDocument,
    /// Root, OU and account ids it is attached to.
    pub targets: Vec<String>,
}

/// One AWS account.
#[derive(Clone, Debug, Default)]
pub struct Account {
    /// The 12-digit account id.
    pub id: String,
    /// A friendly name, if known.
    pub name: Option<String>,
    /// `aws` unless stated.
    pub partition: String,
    /// IAM, when collected.
    pub iam: Option<Iam>,
    /// Regional services by region name.
    pub regions: BTreeMap<String, Region>,
    /// S3 buckets, when collected.
    pub s3_buckets: Option<Vec<Bucket>>,
    /// The account's S3 Block Public Access settings, when collected.
    pub s3_public_access_block: Option<PublicAccessBlock>,
}

/// S3 Block Public Access settings of an account or a bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PublicAccessBlock {
    /// `BlockPublicAcls`: refuses new public ACLs (no effect on existing access).
    pub block_public_acls: bool,
    /// `IgnorePublicAcls`: public ACL grants are void.
    pub ignore_public_acls: bool,
    /// `BlockPublicPolicy`: refuses new public bucket policies (no effect on existing access).
    pub block_public_policy: bool,
    /// `RestrictPublicBuckets`: a bucket whose policy is public is limited to AWS service
    /// principals and principals of the owner account.
    pub restrict_public_buckets: bool,
}

/// Who a bucket ACL grant names, when it is public.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PublicGrantee {
    /// `http://acs.amazonaws.com/groups/global/AllUsers`: anyone, signed or not.
    AllUsers,
    /// `http://acs.amazonaws.com/groups/global/AuthenticatedUsers`: any signed AWS principal.
    AuthenticatedUsers,
}

/// A public grant of a bucket ACL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicGrant {
    /// Who it names.
    pub grantee: PublicGrantee,
    /// `READ`, `WRITE`, `READ_ACP`, `WRITE_ACP` or `FULL_CONTROL`.
    pub permission: String,
}

/// IAM principals and managed policies of one account.
#[derive(Clone, Debug, Default)]
pub struct Iam {
    /// Roles.
    pub roles: Vec<Role>,
    /// Users.
    pub users: Vec<User>,
    /// Groups.
    pub groups: Vec<Group>,
    /// Customer-managed and (if collected) AWS-managed policies, with their default version.
    pub policies: Vec<ManagedPolicy>,
}

/// A named inline policy.
#[derive(Clone, Debug)]
pub struct InlinePolicy {
    /// The policy name.
    pub name: String,
    /// The document.
    pub document: PolicyDocument,
}

/// An IAM role.
#[derive(Clone, Debug, Default)]
pub struct Role {
    /// The role ARN, path included.
    pub arn: String,
    /// The role name.
    pub name: String,
    /// The path, such as `/` or `/service-role/`.
    pub path: String,
    /// The unique id (`AROA…`), if known.
    pub role_id: Option<String>,
    /// The trust policy.
    pub trust: Option<PolicyDocument>,
    /// Inline policies.
    pub inline: Vec<InlinePolicy>,
    /// Attached managed policy ARNs.
    pub attached: Vec<String>,
    /// The permissions boundary policy ARN.
    pub boundary: Option<String>,
    /// Role tags.
    pub tags: Tags,
    /// ARNs of the instance profiles the role is in.
    pub instance_profiles: Vec<String>,
}

impl Role {
    /// True for service-linked roles, which SCPs do not restrict.
    pub fn is_service_linked(&self) -> bool {
        self.path.starts_with("/aws-service-role/")
    }
}

/// An IAM user.
#[derive(Clone, Debug, Default)]
pub struct User {
    /// The user ARN.
    pub arn: String,
    /// The user name.
    pub name: String,
    /// The unique id (`AIDA…`), if known.
    pub user_id: Option<String>,
    /// Inline policies.
    pub inline: Vec<InlinePolicy>,
    /// Attached managed policy ARNs.
    pub attached: Vec<String>,
    /// Group names.
    pub groups: Vec<String>,
    /// The permissions boundary policy ARN.
    pub boundary: Option<String>,
    /// User tags.
    pub tags: Tags,
}

/// An IAM group.
#[derive(Clone, Debug, Default)]
pub struct Group {
    /// The group ARN.
    pub arn: String,
    /// The group name.
    pub name: String,
    /// Inline policies.
    pub inline: Vec<InlinePolicy>,
    /// Attached managed policy ARNs.
    pub attached: Vec<String>,
}

/// A managed policy; only its default version counts.
#[derive(Clone, Debug)]
pub struct ManagedPolicy {
    /// The policy ARN.
    pub arn: String,
    /// The policy name.
    pub name: String,
    /// The default version's document, when the snapshot holds it.
    pub document: Option<PolicyDocument>,
}

/// Regional services of one account.
#[derive(Clone, Debug, Default)]
pub struct Region {
    /// ECS, when collected.
    pub ecs: Option<Ecs>,
    /// Secrets Manager secrets.
    pub secrets: Option<Vec<Secret>>,
    /// SSM parameters.
    pub ssm_parameters: Option<Vec<SsmParameter>>,
    /// KMS keys.
    pub kms_keys: Option<Vec<KmsKey>>,
    /// ECR repositories.
    pub ecr_repositories: Option<Vec<EcrRepository>>,
    /// CloudWatch log groups.
    pub log_groups: Option<Vec<LogGroup>>,
    /// EC2 instances with their instance profiles, when collected.
    pub ec2_instances: Option<Vec<Ec2Instance>>,
}

/// An EC2 instance.
#[derive(Clone, Debug, Default)]
pub struct Ec2Instance {
    /// `i-…`.
    pub instance_id: String,
    /// Its instance profile ARN, if it has one.
    pub instance_profile_arn: Option<String>,
}

/// ECS in one region.
#[derive(Clone, Debug, Default)]
pub struct Ecs {
    /// Clusters.
    pub clusters: Option<Vec<Cluster>>,
    /// Services.
    pub services: Option<Vec<Service>>,
    /// Task definitions.
    pub task_definitions: Option<Vec<TaskDefinition>>,
    /// Running tasks.
    pub tasks: Option<Vec<Task>>,
    /// Container instances (EC2 launch type) of every cluster, when collected.
    pub container_instances: Option<Vec<ContainerInstance>>,
}

/// An ECS container instance: an EC2 instance that runs tasks of a cluster.
#[derive(Clone, Debug, Default)]
pub struct ContainerInstance {
    /// The container instance ARN.
    pub arn: String,
    /// The cluster ARN, when known.
    pub cluster_arn: Option<String>,
    /// The EC2 instance id.
    pub ec2_instance_id: Option<String>,
    /// ECS agent settings that bear on credentials (`ECS_AWSVPC_BLOCK_IMDS`, …); `None` when
    /// unknown.
    pub agent_settings: Option<BTreeMap<String, String>>,
}

/// An ECS cluster.
#[derive(Clone, Debug, Default)]
pub struct Cluster {
    /// The cluster ARN.
    pub arn: String,
    /// The cluster name.
    pub name: String,
}

/// An ECS service.
#[derive(Clone, Debug, Default)]
pub struct Service {
    /// The service ARN.
    pub arn: String,
    /// The service name.
    pub name: String,
    /// The cluster ARN.
    pub cluster_arn: Option<String>,
    /// The task definition ARN the service runs.
    pub task_definition: Option<String>,
    /// `FARGATE`, `EC2`, `EXTERNAL`, if given.
    pub launch_type: Option<String>,
    /// The capacity providers of its strategy, if it has one.
    pub capacity_providers: Vec<String>,
    /// Whether ECS Exec is turned on for its tasks; `None` when not collected.
    pub enable_execute_command: Option<bool>,
}

/// An ECS task definition revision.
#[derive(Clone, Debug, Default)]
pub struct TaskDefinition {
    /// The task definition ARN, `…:task-definition/family:revision`.
    pub arn: String,
    /// The family.
    pub family: String,
    /// The revision.
    pub revision: Option<i64>,
    /// The task role ARN.
    pub task_role_arn: Option<String>,
    /// The execution role ARN.
    pub execution_role_arn: Option<String>,
    /// `networkMode`: `awsvpc`, `bridge`, `host` or `none`; absent means `bridge` on EC2.
    pub network_mode: Option<String>,
    /// `requiresCompatibilities`.
    pub requires_compatibilities: Vec<String>,
    /// Container definitions.
    pub containers: Vec<ContainerDefinition>,
}

/// A `secrets[]` or `secretOptions[]` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecretRef {
    /// The variable or option name.
    pub name: String,
    /// A Secrets Manager ARN (possibly with JSON key and version fields), an SSM ARN, or an SSM name.
    pub value_from: String,
    /// Where it stands in its task definition, as a JSON path, such as
    /// `containerDefinitions[0].secrets[2].valueFrom`.
    pub field: String,
}

/// One container of a task definition.
#[derive(Clone, Debug, Default)]
pub struct ContainerDefinition {
    /// The container name.
    pub name: String,
    /// Its position in `containerDefinitions`.
    pub index: usize,
    /// The image reference.
    pub image: Option<String>,
    /// `secrets[]`.
    pub secrets: Vec<SecretRef>,
    /// `logConfiguration.logDriver`.
    pub log_driver: Option<String>,
    /// `logConfiguration.options`.
    pub log_options: BTreeMap<String, String>,
    /// `logConfiguration.secretOptions[]`.
    pub log_secret_options: Vec<SecretRef>,
    /// `repositoryCredentials.credentialsParameter`, as a reference with its JSON path.
    pub repository_credentials: Option<SecretRef>,
}

/// A running ECS task.
#[derive(Clone, Debug, Default)]
pub struct Task {
    /// The task ARN.
    pub arn: String,
    /// The cluster ARN.
    pub cluster_arn: Option<String>,
    /// The task definition ARN.
    pub task_definition_arn: String,
    /// `overrides.taskRoleArn`.
    pub task_role_override: Option<String>,
    /// `overrides.executionRoleArn`.
    pub execution_role_override: Option<String>,
    /// `group`, such as `service:web`.
    pub group: Option<String>,
    /// `launchType`.
    pub launch_type: Option<String>,
    /// The container instance it runs on (EC2 launch type).
    pub container_instance_arn: Option<String>,
    /// Whether ECS Exec is turned on for it; `None` when not collected.
    pub enable_execute_command: Option<bool>,
}

/// A Secrets Manager secret.
#[derive(Clone, Debug, Default)]
pub struct Secret {
    /// The secret ARN, with its six-character suffix.
    pub arn: String,
    /// The secret name.
    pub name: String,
    /// `KmsKeyId`: a key ARN, key id, alias name or alias ARN; `None` means `aws/secretsmanager`.
    pub kms_key_id: Option<String>,
    /// The resource policy.
    pub policy: Option<PolicyDocument>,
    /// Tags.
    pub tags: Tags,
}

/// An SSM parameter.
#[derive(Clone, Debug, Default)]
pub struct SsmParameter {
    /// The parameter ARN (derived from the name when the API leaves it out).
    pub arn: String,
    /// The name, as given (with or without a leading `/`).
    pub name: String,
    /// `String`, `StringList` or `SecureString`.
    pub parameter_type: String,
    /// The KMS key of a `SecureString`; `None` or `alias/aws/ssm` means the AWS-managed key.
    pub key_id: Option<String>,
    /// Tags, when collected.
    pub tags: Option<Tags>,
}

/// Who manages a KMS key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyManager {
    /// AWS-managed: fixed policy, never usable across accounts.
    Aws,
    /// Customer-managed.
    Customer,
}

/// A KMS key.
#[derive(Clone, Debug)]
pub struct KmsKey {
    /// The key ARN.
    pub arn: String,
    /// The key id (UUID or `mrk-…`).
    pub key_id: String,
    /// AWS- or customer-managed.
    pub manager: KeyManager,
    /// The key policy.
    pub policy: Option<PolicyDocument>,
    /// Alias names, such as `alias/app`.
    pub aliases: Vec<String>,
    /// Tags.
    pub tags: Tags,
}

/// An ECR repository.
#[derive(Clone, Debug, Default)]
pub struct EcrRepository {
    /// The repository ARN.
    pub arn: String,
    /// The repository name.
    pub name: String,
    /// The repository URI, `<acct>.dkr.ecr.<region>.amazonaws.com/<name>`.
    pub uri: Option<String>,
    /// `MUTABLE`, `IMMUTABLE`, or either `…_WITH_EXCLUSION`; `None` when not collected.
    pub image_tag_mutability: Option<String>,
    /// The repository policy.
    pub policy: Option<PolicyDocument>,
    /// Tags, when collected.
    pub tags: Option<Tags>,
}

/// A CloudWatch Logs log group.
#[derive(Clone, Debug, Default)]
pub struct LogGroup {
    /// The log group ARN without the trailing `:*`.
    pub arn: String,
    /// The log group name.
    pub name: String,
    /// Tags, when collected.
    pub tags: Option<Tags>,
}

/// An S3 bucket.
#[derive(Clone, Debug, Default)]
pub struct Bucket {
    /// The bucket name.
    pub name: String,
    /// Its region, if known.
    pub region: Option<String>,
    /// The bucket policy.
    pub policy: Option<PolicyDocument>,
    /// Its Block Public Access settings, when collected.
    pub public_access_block: Option<PublicAccessBlock>,
    /// The public grants of its ACL, when the ACL was collected.
    pub public_grants: Option<Vec<PublicGrant>>,
    /// Its default encryption, when collected: `Some(key)` for SSE-KMS with that key
    /// (`None` key: the AWS-managed `aws/s3`), `None` for SSE-S3.
    pub default_kms_key: Option<Option<String>>,
    /// True when its default encryption was collected.
    pub encryption_collected: bool,
    /// Tags, when collected.
    pub tags: Option<Tags>,
}

/// Something collection could not read.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Gap {
    /// The account.
    pub account: Option<String>,
    /// The region.
    pub region: Option<String>,
    /// The service, such as `secretsmanager`.
    pub service: Option<String>,
    /// The API operation.
    pub operation: Option<String>,
    /// The resource concerned.
    pub resource: Option<String>,
    /// The error text.
    pub error: Option<String>,
}
