//! The sentences of the hop evaluators' notes and requests: the one place that words them.
//!
//! Every output (text, JSON, DOT, Mermaid, GraphML, Cypher, SARIF, the report) prints these
//! sentences; the JSON contracts carry them as strings.

use std::fmt::{self, Display, Formatter};

use serde::{Serialize, Serializer};

use super::note::{Ask, Asker, Imds, Level, Note, On, Open};
use crate::policy::{Blocker, PolicyType};

impl Display for Ask {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.who {
            Asker::Principal(p) => write!(f, "`{p}`")?,
            Asker::Service(s) => f.write_str(s)?,
            Asker::Agent => f.write_str("ECS agent")?,
        }
        write!(f, " → {}", self.action)?;
        match &self.on {
            On::Nothing => {}
            On::Id(id) => write!(f, " on `{id}`")?,
            On::Object(id) => write!(f, " `{id}`")?,
            On::KeyOf(value) => write!(f, " on the key of `{value}`")?,
            On::AwsManagedKey { service, account } => {
                write!(f, " on aws/{service} of account {account}")?;
            }
        }
        if let Some(service) = &self.via {
            write!(f, " via {service}")?;
        }
        if let Some(account) = &self.for_task_of {
            write!(f, " for a task of account {account}")?;
        }
        Ok(())
    }
}

impl Display for Note {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Note::Blocked { blocker, subject } => blocked(f, blocker.as_ref(), subject),
            Note::Text(text) => f.write_str(text),
            Note::NoActionApplies => f.write_str("no queried action applies to this resource type"),
            Note::AccessAcrossPartitions => f.write_str("access never crosses partitions"),
            Note::PublicAccessBlocked { level } => {
                f.write_str("S3 Block Public Access (RestrictPublicBuckets, set on ")?;
                match level {
                    Level::Account(a) => write!(f, "account {a}")?,
                    Level::Bucket(b) => write!(f, "bucket `{b}`")?,
                }
                f.write_str(
                    ") limits this bucket, whose policy is public, to AWS services and its own account",
                )
            }
            Note::PublicAccessBlockUnknown { bucket, account } => write!(
                f,
                "the Block Public Access settings of `{bucket}` or of account {account} were not collected; RestrictPublicBuckets would limit this public bucket to its own account"
            ),
            Note::PolicyUnknown {
                resource,
                key_policy,
                open,
                caller,
            } => {
                if *key_policy {
                    write!(f, "the key policy of `{resource}` is not in the snapshot")?;
                } else {
                    write!(f, "`{resource}` is not in the snapshot")?;
                }
                match open {
                    Open::DependsOnIt => write!(f, "; access from `{caller}` depends on its policy"),
                    Open::MustAllow => f.write_str("; it must allow the caller"),
                    Open::CouldDeny => f.write_str("; its policy could still deny"),
                }
            }
            Note::UnsignedKms { bucket } => write!(
                f,
                "objects under SSE-KMS are served only to signed requests (Signature Version 4), so no unsigned request reads `{bucket}`"
            ),
            Note::AwsManagedKeyElsewhere { value, service } => write!(
                f,
                "`{value}` uses the AWS-managed key aws/{service}, which no other account can use"
            ),
            Note::KeyReferenceUnresolved { reference, value } => {
                write!(f, "KMS key `{reference}` of `{value}` is not in the snapshot")
            }
            Note::KeyOfValueUnknown { value } => write!(
                f,
                "`{value}` is not in the snapshot, so the KMS key that encrypts it is unknown; a customer-managed key's policy must also allow"
            ),
            Note::KeyNotInSnapshot { key } => write!(f, "KMS key `{key}` is not in the snapshot"),
            Note::KeyPolicyNotInSnapshot { key } => {
                write!(f, "the key policy of `{key}` is not in the snapshot")
            }
            Note::KmsGrants => f.write_str("KMS grants are not modelled; a grant could allow more"),
            Note::EcsRoleOfOtherAccount { role } => write!(
                f,
                "`{role}` is in another account; ECS can only pass roles of the task's account"
            ),
            Note::NoTrustPolicy { role } => write!(f, "`{role}` has no trust policy in the snapshot"),
            Note::RoleDoesNotExist { role, account } => {
                write!(f, "role `{role}` does not exist in account {account}")
            }
            Note::AccountIamUnknown { account, role } => write!(
                f,
                "IAM of account {account} is not in the snapshot; the trust policy of `{role}` is unknown"
            ),
            Note::RoleNotInSnapshot { role } => write!(f, "`{role}` is not in the snapshot"),
            Note::AssumeAcrossPartitions => f.write_str("roles cannot be assumed across partitions"),
            Note::OutsideAccountUnknown { account } => write!(
                f,
                "account {} is not in the snapshot; its identity policies and SCPs must also allow",
                account.as_deref().unwrap_or("?")
            ),
            Note::AnyAccountOwnSide => f.write_str(
                "any account can allow this to its own principals; only this side is decided by the snapshot",
            ),
            Note::NoExecutionRoleToFetch => f.write_str(
                "the task definition has no execution role, so the agent cannot fetch the value",
            ),
            Note::ValueDoesNotExist {
                what,
                account,
                region,
            } => write!(
                f,
                "the {what} does not exist: account {account} lists its {what}s in {region} and this one is not among them, so ECS cannot start the task"
            ),
            Note::NoExecutionRoleToPull => f.write_str(
                "the task definition has no execution role; on EC2 the container instance role pulls images",
            ),
            Note::RepositoryNotListed {
                account,
                region,
                repository,
            } => write!(
                f,
                "account {account} lists its repositories in {region} and `{repository}` is not among them; only a pull-through cache rule, which creates it on first pull, would let the task start"
            ),
            Note::NoTaskRole => f.write_str(
                "the task definition names no task role, so its containers get no credentials",
            ),
            Note::TaskOverride { task } => write!(f, "task `{task}` overrides the task role"),
            Note::InstanceRole {
                why,
                instance,
                instance_id,
                profile,
                setting,
            } => {
                write!(
                    f,
                    "{why}; container instance `{instance}` is EC2 instance {instance_id} with instance profile `{profile}`, whose role's credentials the instance metadata service hands to containers "
                )?;
                match setting {
                    Imds::AgentDoesNotBlock => {
                        f.write_str("its agent does not set ECS_AWSVPC_BLOCK_IMDS")
                    }
                    Imds::AgentSettingsUnknown => f.write_str(
                        "unless its agent sets ECS_AWSVPC_BLOCK_IMDS=true, which the snapshot cannot see",
                    ),
                    Imds::NetworkMode(network) => write!(
                        f,
                        "in {network} network mode, unless the instance blocks the metadata service (an iptables rule, or IMDSv2 with a hop limit of 1), which the snapshot cannot see"
                    ),
                }
            }
            Note::PassRoleOfOtherAccount { role } => write!(
                f,
                "`{role}` is in another account; a role can only be passed to a service of its own account"
            ),
            Note::RunTaskOtherAccount => f.write_str(
                "ECS runs tasks only for principals of the task definition's account",
            ),
            Note::ExecOtherAccount => {
                f.write_str("ECS Exec serves only principals of the task's account")
            }
            Note::ExecOff => f.write_str("ECS Exec is turned off"),
            Note::ExecUnknown => f.write_str(
                "whether ECS Exec is turned on (`enableExecuteCommand`) was not collected",
            ),
            Note::TagsImmutable { repository } => write!(
                f,
                "the tags of `{repository}` are immutable; a tag in use cannot be replaced"
            ),
            Note::TagsMutableWithExclusion {
                repository,
                setting,
            } => write!(
                f,
                "`{repository}` sets tag mutability {setting}; only a tag it leaves mutable can be replaced"
            ),
            Note::TagMutabilityUnknown { repository } => write!(
                f,
                "the tag mutability of `{repository}` was not collected; immutable tags would stop this"
            ),
            Note::PassRole { region, role } => write!(
                f,
                "pass-role: can start a task in {region} with `{role}` as its task role"
            ),
            Note::RunTask { definition } => write!(
                f,
                "run-task: can run `{definition}` with its own command in place of the containers'"
            ),
            Note::ExecuteCommand { task } => {
                write!(f, "execute-command: can open a shell in {task} with ECS Exec")
            }
            Note::ImagePush { repository } => write!(
                f,
                "image-push: can push to `{repository}`, whose image these containers pull by tag; it runs at their next deployment"
            ),
        }
    }
}

/// The sentence of a blocker: what stops `subject`.
fn blocked(f: &mut Formatter<'_>, blocker: Option<&Blocker>, subject: &str) -> fmt::Result {
    match blocker {
        None => write!(f, "{subject} is not allowed"),
        Some(Blocker::Deny(r)) => write!(
            f,
            "explicitly denied by statement `{}` of {} policy `{}`",
            r.statement,
            r.policy_type.as_str(),
            r.policy
        ),
        Some(Blocker::ScpMissingAllow { target }) => {
            write!(f, "no SCP attached at `{target}` allows it")
        }
        Some(Blocker::IdentityMissingAllow) => {
            f.write_str("no identity policy of the caller allows it")
        }
        Some(Blocker::ResourceMissingAllow {
            policy_type,
            policy,
        }) => {
            let what = match policy_type {
                PolicyType::Trust => "the trust policy",
                PolicyType::Key => "the KMS key policy",
                _ => "the resource policy",
            };
            match policy {
                Some(p) => write!(f, "{what} of `{p}` does not allow the caller"),
                None => write!(f, "{what} does not allow the caller"),
            }
        }
        Some(Blocker::BoundaryMissingAllow { policy }) => {
            write!(f, "the permissions boundary `{policy}` does not allow it")
        }
        Some(Blocker::SessionMissingAllow { policy }) => {
            write!(f, "the session policy `{policy}` does not allow it")
        }
        Some(Blocker::AwsManagedKeyCrossAccount) => {
            f.write_str("an AWS-managed KMS key cannot be used from another account")
        }
        Some(Blocker::NotFound { resource }) => write!(f, "`{resource}` does not exist"),
        Some(Blocker::AwsManagedAlias) => {
            f.write_str("AWS-managed aliases (alias/aws/*) cannot be created, updated or deleted")
        }
        Some(Blocker::KeyPolicyMissing) => f.write_str(
            "a KMS key request is denied when no key policy allows it, and no key policy was given",
        ),
        Some(Blocker::KmsNotCrossAccount { action }) => write!(
            f,
            "{action} cannot be used across accounts, whatever the key policy says"
        ),
    }
}

/// The sentence that describes a blocker of `subject`.
pub fn describe_blocker(blocker: Option<&Blocker>, subject: &str) -> String {
    Note::Blocked {
        blocker: blocker.cloned(),
        subject: subject.to_string(),
    }
    .to_string()
}

/// In JSON, a note is its sentence.
impl Serialize for Note {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// In JSON, a request is its sentence.
impl Serialize for Ask {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
