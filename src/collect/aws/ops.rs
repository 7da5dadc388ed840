//! The one table of AWS operations the collector calls, with the IAM action each needs.
//!
//! Every SDK call goes through [`super::call::Scope::call`] with one of these constants, so a gap
//! names the operation as AWS does. `docs/collector-policy.json` must allow every action here; a
//! test checks the table against that policy and against the client calls in the source.

/// One AWS API operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    /// The service, as IAM action prefixes name it (`secretsmanager`, `logs`); S3 Control, whose
    /// actions are `s3:` ones, is `s3control`, so that its gaps are told apart from S3's.
    pub service: &'static str,
    /// The operation's name in the API (`GetAccountAuthorizationDetails`).
    pub operation: &'static str,
    /// The IAM action the call needs, or `None` when it needs none (`sts:GetCallerIdentity`).
    pub action: Option<&'static str>,
}

const fn op(service: &'static str, operation: &'static str, action: &'static str) -> Op {
    Op {
        service,
        operation,
        action: Some(action),
    }
}

pub(super) const GET_CALLER_IDENTITY: Op = Op {
    service: "sts",
    operation: "GetCallerIdentity",
    action: None,
};
pub(super) const ASSUME_ROLE: Op = op("sts", "AssumeRole", "sts:AssumeRole");
pub(super) const GAAD: Op = op(
    "iam",
    "GetAccountAuthorizationDetails",
    "iam:GetAccountAuthorizationDetails",
);
pub(super) const LIST_CLUSTERS: Op = op("ecs", "ListClusters", "ecs:ListClusters");
pub(super) const DESCRIBE_CLUSTERS: Op = op("ecs", "DescribeClusters", "ecs:DescribeClusters");
pub(super) const LIST_SERVICES: Op = op("ecs", "ListServices", "ecs:ListServices");
pub(super) const DESCRIBE_SERVICES: Op = op("ecs", "DescribeServices", "ecs:DescribeServices");
pub(super) const LIST_TASKS: Op = op("ecs", "ListTasks", "ecs:ListTasks");
pub(super) const DESCRIBE_TASKS: Op = op("ecs", "DescribeTasks", "ecs:DescribeTasks");
pub(super) const LIST_TASK_DEFINITIONS: Op =
    op("ecs", "ListTaskDefinitions", "ecs:ListTaskDefinitions");
pub(super) const DESCRIBE_TASK_DEFINITION: Op = op(
    "ecs",
    "DescribeTaskDefinition",
    "ecs:DescribeTaskDefinition",
);
/// The container instances of a cluster.
pub(super) const LIST_CONTAINER_INSTANCES: Op = op(
    "ecs",
    "ListContainerInstances",
    "ecs:ListContainerInstances",
);
/// Container instances, up to 100 a call.
pub(super) const DESCRIBE_CONTAINER_INSTANCES: Op = op(
    "ecs",
    "DescribeContainerInstances",
    "ecs:DescribeContainerInstances",
);
pub(super) const LIST_SECRETS: Op = op(
    "secretsmanager",
    "ListSecrets",
    "secretsmanager:ListSecrets",
);
pub(super) const GET_RESOURCE_POLICY: Op = op(
    "secretsmanager",
    "GetResourcePolicy",
    "secretsmanager:GetResourcePolicy",
);
pub(super) const DESCRIBE_PARAMETERS: Op =
    op("ssm", "DescribeParameters", "ssm:DescribeParameters");
/// A parameter's tags.
pub(super) const SSM_LIST_TAGS_FOR_RESOURCE: Op =
    op("ssm", "ListTagsForResource", "ssm:ListTagsForResource");
pub(super) const LIST_KEYS: Op = op("kms", "ListKeys", "kms:ListKeys");
pub(super) const DESCRIBE_KEY: Op = op("kms", "DescribeKey", "kms:DescribeKey");
pub(super) const GET_KEY_POLICY: Op = op("kms", "GetKeyPolicy", "kms:GetKeyPolicy");
pub(super) const LIST_ALIASES: Op = op("kms", "ListAliases", "kms:ListAliases");
/// A KMS key's tags.
pub(super) const LIST_RESOURCE_TAGS: Op = op("kms", "ListResourceTags", "kms:ListResourceTags");
pub(super) const DESCRIBE_REPOSITORIES: Op =
    op("ecr", "DescribeRepositories", "ecr:DescribeRepositories");
pub(super) const GET_REPOSITORY_POLICY: Op =
    op("ecr", "GetRepositoryPolicy", "ecr:GetRepositoryPolicy");
/// A repository's tags.
pub(super) const ECR_LIST_TAGS_FOR_RESOURCE: Op =
    op("ecr", "ListTagsForResource", "ecr:ListTagsForResource");
pub(super) const DESCRIBE_LOG_GROUPS: Op =
    op("logs", "DescribeLogGroups", "logs:DescribeLogGroups");
/// A log group's tags (by its ARN without the trailing `:*`).
pub(super) const LOGS_LIST_TAGS_FOR_RESOURCE: Op =
    op("logs", "ListTagsForResource", "logs:ListTagsForResource");
pub(super) const LIST_BUCKETS: Op = op("s3", "ListBuckets", "s3:ListAllMyBuckets");
pub(super) const GET_BUCKET_LOCATION: Op = op("s3", "GetBucketLocation", "s3:GetBucketLocation");
pub(super) const GET_BUCKET_POLICY: Op = op("s3", "GetBucketPolicy", "s3:GetBucketPolicy");
/// A bucket's Block Public Access settings.
pub(super) const GET_PUBLIC_ACCESS_BLOCK: Op = op(
    "s3",
    "GetPublicAccessBlock",
    "s3:GetBucketPublicAccessBlock",
);
/// A bucket's ACL.
pub(super) const GET_BUCKET_ACL: Op = op("s3", "GetBucketAcl", "s3:GetBucketAcl");
/// A bucket's default encryption.
pub(super) const GET_BUCKET_ENCRYPTION: Op =
    op("s3", "GetBucketEncryption", "s3:GetEncryptionConfiguration");
/// A bucket's tags.
pub(super) const GET_BUCKET_TAGGING: Op = op("s3", "GetBucketTagging", "s3:GetBucketTagging");
/// The account's Block Public Access settings (S3 Control).
pub(super) const GET_ACCOUNT_PUBLIC_ACCESS_BLOCK: Op = op(
    "s3control",
    "GetPublicAccessBlock",
    "s3:GetAccountPublicAccessBlock",
);
/// EC2 instances and their instance profiles.
pub(super) const DESCRIBE_INSTANCES: Op = op("ec2", "DescribeInstances", "ec2:DescribeInstances");
pub(super) const DESCRIBE_ORGANIZATION: Op = op(
    "organizations",
    "DescribeOrganization",
    "organizations:DescribeOrganization",
);
pub(super) const LIST_ACCOUNTS: Op = op(
    "organizations",
    "ListAccounts",
    "organizations:ListAccounts",
);
pub(super) const LIST_ROOTS: Op = op("organizations", "ListRoots", "organizations:ListRoots");
pub(super) const LIST_PARENTS: Op = op("organizations", "ListParents", "organizations:ListParents");
/// An OU's name, for rules that name OUs.
pub(super) const DESCRIBE_ORGANIZATIONAL_UNIT: Op = op(
    "organizations",
    "DescribeOrganizationalUnit",
    "organizations:DescribeOrganizationalUnit",
);
pub(super) const LIST_POLICIES: Op = op(
    "organizations",
    "ListPolicies",
    "organizations:ListPolicies",
);
pub(super) const DESCRIBE_POLICY: Op = op(
    "organizations",
    "DescribePolicy",
    "organizations:DescribePolicy",
);
pub(super) const LIST_TARGETS_FOR_POLICY: Op = op(
    "organizations",
    "ListTargetsForPolicy",
    "organizations:ListTargetsForPolicy",
);

/// Every operation the collector calls.
pub const OPERATIONS: &[Op] = &[
    GET_CALLER_IDENTITY,
    ASSUME_ROLE,
    GAAD,
    LIST_CLUSTERS,
    DESCRIBE_CLUSTERS,
    LIST_SERVICES,
    DESCRIBE_SERVICES,
    LIST_TASKS,
    DESCRIBE_TASKS,
    LIST_TASK_DEFINITIONS,
    DESCRIBE_TASK_DEFINITION,
    LIST_CONTAINER_INSTANCES,
    DESCRIBE_CONTAINER_INSTANCES,
    LIST_SECRETS,
    GET_RESOURCE_POLICY,
    DESCRIBE_PARAMETERS,
    SSM_LIST_TAGS_FOR_RESOURCE,
    LIST_KEYS,
    DESCRIBE_KEY,
    GET_KEY_POLICY,
    LIST_ALIASES,
    LIST_RESOURCE_TAGS,
    DESCRIBE_REPOSITORIES,
    GET_REPOSITORY_POLICY,
    ECR_LIST_TAGS_FOR_RESOURCE,
    DESCRIBE_LOG_GROUPS,
    LOGS_LIST_TAGS_FOR_RESOURCE,
    LIST_BUCKETS,
    GET_BUCKET_LOCATION,
    GET_BUCKET_POLICY,
    GET_PUBLIC_ACCESS_BLOCK,
    GET_BUCKET_ACL,
    GET_BUCKET_ENCRYPTION,
    GET_BUCKET_TAGGING,
    GET_ACCOUNT_PUBLIC_ACCESS_BLOCK,
    DESCRIBE_INSTANCES,
    DESCRIBE_ORGANIZATION,
    LIST_ACCOUNTS,
    LIST_ROOTS,
    LIST_PARENTS,
    DESCRIBE_ORGANIZATIONAL_UNIT,
    LIST_POLICIES,
    DESCRIBE_POLICY,
    LIST_TARGETS_FOR_POLICY,
];
