//! What the hop evaluators say about a hop, as data: the request that was asked for and the facts
//! that explain a status. `hop/words.rs` words them; nothing here is prose.

use crate::policy::Blocker;

/// Who asks, for what and on what: the request of a hop, as `explain` and `findings` show it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ask {
    /// Who asks.
    pub who: Asker,
    /// The action, or what the asker does (`fetch the secret`, `task role`).
    pub action: String,
    /// What it is asked on.
    pub on: On,
    /// The service that calls on the asker's behalf (KMS through Secrets Manager).
    pub via: Option<String>,
    /// The account of the task on whose behalf ECS asks (the confused-deputy request).
    pub for_task_of: Option<String>,
}

/// Who asks.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Asker {
    /// A principal, by id.
    Principal(String),
    /// A service principal, by name.
    Service(String),
    /// The ECS container agent, with the execution role's credentials.
    Agent,
}

/// What a request is asked on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum On {
    /// Nothing more than the action says.
    Nothing,
    /// A resource or role, by id.
    Id(String),
    /// A resource the action itself names (`fetch the secret <id>`).
    Object(String),
    /// The KMS key, not known by id, that encrypts a value.
    KeyOf(String),
    /// An AWS-managed key (`aws/<service>`) of an account.
    AwsManagedKey {
        /// The service the key belongs to.
        service: String,
        /// Its account.
        account: String,
    },
}

impl Ask {
    /// `principal` asks for `action` on the resource or role `on`.
    pub fn call(principal: &str, action: &str, on: &str) -> Ask {
        Ask {
            who: Asker::Principal(principal.to_string()),
            action: action.to_string(),
            on: On::Id(on.to_string()),
            via: None,
            for_task_of: None,
        }
    }

    /// The service principal `service` asks for `action` on `on`.
    pub fn service(service: &str, action: &str, on: &str) -> Ask {
        Ask {
            who: Asker::Service(service.to_string()),
            ..Ask::call("", action, on)
        }
    }

    /// The ECS agent asks for `action` on `on`.
    pub fn agent(action: &str, on: On) -> Ask {
        Ask {
            who: Asker::Agent,
            on,
            ..Ask::call("", action, "")
        }
    }
}

/// Where S3 Block Public Access is set.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// On the account, by id.
    Account(String),
    /// On the bucket, by name.
    Bucket(String),
}

/// What a resource policy the snapshot does not hold leaves open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Open {
    /// The policy is the missing side: access from the caller depends on it.
    DependsOnIt,
    /// A key policy must allow the caller.
    MustAllow,
    /// The policy could still deny.
    CouldDeny,
}

/// A fact about a hop: why it is denied, why it is only conditional, or what the snapshot does
/// not show. Each variant holds the ids it names; `hop/words.rs` gives its sentence, which is
/// what every output prints. Notes are ordered by that sentence, so outputs list them as they
/// always have.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Note {
    /// The policy evaluator's answer: `blocker` stops `subject`, or nothing allows it.
    Blocked {
        /// The failing part; `None` when no statement allows.
        blocker: Option<Blocker>,
        /// What was asked for, as the sentence names it.
        subject: String,
    },
    /// Text from elsewhere: a note read back from a document.
    Text(String),

    // ---- access ----
    /// None of the queried actions applies to the resource type.
    NoActionApplies,
    /// The caller and the resource are in different partitions.
    AccessAcrossPartitions,
    /// RestrictPublicBuckets, set at `level`, limits a public bucket.
    PublicAccessBlocked {
        /// Where it is set.
        level: Level,
    },
    /// The Block Public Access settings of a public bucket were not collected.
    PublicAccessBlockUnknown {
        /// The bucket's name.
        bucket: String,
        /// Its account.
        account: String,
    },
    /// The policy of a resource is not in the snapshot.
    PolicyUnknown {
        /// The resource.
        resource: String,
        /// True for the key policy of a key the snapshot holds.
        key_policy: bool,
        /// What that leaves open.
        open: Open,
        /// The caller, for [`Open::DependsOnIt`].
        caller: String,
    },
    /// Unsigned requests cannot read objects under SSE-KMS.
    UnsignedKms {
        /// The bucket.
        bucket: String,
    },
    /// A value uses an AWS-managed key that no other account can use.
    AwsManagedKeyElsewhere {
        /// The value (secret, parameter, bucket).
        value: String,
        /// The key's service.
        service: String,
    },
    /// The key a value names is not in the snapshot.
    KeyReferenceUnresolved {
        /// The key reference as written.
        reference: String,
        /// The value.
        value: String,
    },
    /// A value is not in the snapshot, so its key is unknown.
    KeyOfValueUnknown {
        /// The value.
        value: String,
    },
    /// A KMS key is not in the snapshot.
    KeyNotInSnapshot {
        /// The key.
        key: String,
    },
    /// The key policy of a KMS key is not in the snapshot.
    KeyPolicyNotInSnapshot {
        /// The key.
        key: String,
    },
    /// KMS grants are not modelled.
    KmsGrants,

    // ---- trust ----
    /// ECS cannot pass a role of another account.
    EcsRoleOfOtherAccount {
        /// The role.
        role: String,
    },
    /// A role has no trust policy in the snapshot.
    NoTrustPolicy {
        /// The role.
        role: String,
    },
    /// A role does not exist in an account whose IAM was collected.
    RoleDoesNotExist {
        /// The role.
        role: String,
        /// Its account.
        account: String,
    },
    /// A role of an account whose IAM is not in the snapshot.
    AccountIamUnknown {
        /// The account.
        account: String,
        /// The role.
        role: String,
    },
    /// A role is not in the snapshot.
    RoleNotInSnapshot {
        /// The role.
        role: String,
    },
    /// The caller and the role are in different partitions.
    AssumeAcrossPartitions,
    /// The source is in an account the snapshot does not hold.
    OutsideAccountUnknown {
        /// The account, when known.
        account: Option<String>,
    },
    /// A grant to any account or organization: only this side is decided.
    AnyAccountOwnSide,

    // ---- the ECS agent ----
    /// No execution role to fetch a secret or parameter with.
    NoExecutionRoleToFetch,
    /// A secret or parameter that its account's listing does not hold.
    ValueDoesNotExist {
        /// `secret` or `parameter`.
        what: &'static str,
        /// The account listed.
        account: String,
        /// The region listed.
        region: String,
    },
    /// No execution role to pull an image with.
    NoExecutionRoleToPull,
    /// A repository its account's listing does not hold.
    RepositoryNotListed {
        /// The account listed.
        account: String,
        /// The region listed.
        region: String,
        /// The repository's name.
        repository: String,
    },
    /// A task definition names no task role.
    NoTaskRole,
    /// A task overrides the task role.
    TaskOverride {
        /// The task.
        task: String,
    },
    /// A container instance hands its role to containers through the metadata service.
    InstanceRole {
        /// Why the task may run on EC2, as the diagnostics say it.
        why: String,
        /// The container instance.
        instance: String,
        /// Its EC2 instance id.
        instance_id: String,
        /// Its instance profile.
        profile: String,
        /// The agent setting or network mode that leaves the metadata service open.
        setting: Imds,
    },

    // ---- escalation ----
    /// A role can only be passed to a service of its own account.
    PassRoleOfOtherAccount {
        /// The role.
        role: String,
    },
    /// ECS runs tasks only for principals of the definition's account.
    RunTaskOtherAccount,
    /// ECS Exec serves only principals of the task's account.
    ExecOtherAccount,
    /// ECS Exec is turned off.
    ExecOff,
    /// Whether ECS Exec is on was not collected.
    ExecUnknown,
    /// The repository's tags are immutable.
    TagsImmutable {
        /// The repository's name.
        repository: String,
    },
    /// The repository leaves only some tags mutable.
    TagsMutableWithExclusion {
        /// The repository's name.
        repository: String,
        /// Its tag mutability setting.
        setting: String,
    },
    /// The repository's tag mutability was not collected.
    TagMutabilityUnknown {
        /// The repository's name.
        repository: String,
    },
    /// The technique of a pass-role escalation.
    PassRole {
        /// The region of the task.
        region: String,
        /// The role's name.
        role: String,
    },
    /// The technique of a run-task escalation.
    RunTask {
        /// The task definition's name and revision.
        definition: String,
    },
    /// The technique of an execute-command escalation.
    ExecuteCommand {
        /// What runs the task: `task <id>`, `service <name>`.
        task: String,
    },
    /// The technique of an image-push escalation.
    ImagePush {
        /// The repository's name.
        repository: String,
    },
}

/// What leaves the instance metadata service open to a task's containers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Imds {
    /// awsvpc mode, and the agent's settings, collected, do not set `ECS_AWSVPC_BLOCK_IMDS`.
    AgentDoesNotBlock,
    /// awsvpc mode, and the agent's settings were not collected.
    AgentSettingsUnknown,
    /// Another network mode.
    NetworkMode(String),
}

impl PartialOrd for Note {
    fn partial_cmp(&self, other: &Note) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Note {
    /// By sentence: the order outputs list notes in.
    fn cmp(&self, other: &Note) -> std::cmp::Ordering {
        if self == other {
            return std::cmp::Ordering::Equal;
        }
        self.to_string().cmp(&other.to_string())
    }
}
