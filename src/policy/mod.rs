//! Pure IAM evaluation: one authorization request and the policies that bear on it go in, a
//! decision and its proof come out (IAM-SEMANTICS R1–R5).
//!
//! Conditions are evaluated in three-valued (Kleene) logic: context keys that the snapshot cannot
//! decide are [`ContextValue::Unknown`], and a statement that depends on one neither surely
//! applies nor surely does not. An Allow that depends on an unknown makes the decision
//! *conditional*; a Deny that depends on one makes it *possibly denied*, which is reported as a
//! conditional allow whose open conditions carry `effect: Deny`. Nothing unknown is dropped.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::model::{Diagnostic, Effect, PolicyDocument};

mod condition;
mod eval;
pub mod glob;
pub mod matching;
mod principal;
mod variables;

#[cfg(test)]
mod tests;

pub use eval::{evaluate, kms_action_works_cross_account};

/// Kleene truth value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tri {
    /// Surely false.
    False,
    /// Depends on something the snapshot cannot tell.
    Unknown,
    /// Surely true.
    True,
}

impl Tri {
    /// Kleene AND.
    pub fn and(self, other: Tri) -> Tri {
        self.min(other)
    }
    /// Kleene OR.
    pub fn or(self, other: Tri) -> Tri {
        self.max(other)
    }
    /// Kleene NOT.
    #[allow(
        clippy::should_implement_trait,
        reason = "Tri is not a bool; an inherent `not` reads better than `!`"
    )]
    pub fn not(self) -> Tri {
        match self {
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
            Tri::True => Tri::False,
        }
    }
}

impl From<bool> for Tri {
    fn from(b: bool) -> Tri {
        if b { Tri::True } else { Tri::False }
    }
}

/// Who makes a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestPrincipal {
    /// A service principal such as `ecs-tasks.amazonaws.com`.
    Service(String),
    /// A session of an IAM role: `arn:P:sts::A:assumed-role/Name/Session`.
    Session {
        /// The role ARN, path included.
        role_arn: String,
        /// The session name when known; ECS chooses it, so for task roles it is `None`.
        session_name: Option<String>,
    },
    /// An IAM user acting with its own credentials.
    User {
        /// The user ARN.
        arn: String,
    },
    /// An account's root user.
    AccountRoot {
        /// The partition.
        partition: String,
        /// The account id.
        account: String,
    },
    /// An unsigned request (R7.1). It has no identity side and no account: only `"*"` (or
    /// `{"AWS": "*"}`) in a resource, trust or key policy matches it, a resource-policy Allow
    /// alone decides, SCPs never apply and RCPs do. Principal condition keys
    /// (`aws:PrincipalAccount`, `aws:PrincipalArn`, …) are read from the context as given; the
    /// caller of the evaluator sets them absent.
    Anonymous,
    /// A caller of `sts:AssumeRoleWithWebIdentity` or `sts:AssumeRoleWithSAML` through an identity
    /// provider (R7.2). Only `{"Federated": <exactly this provider>}` and `"*"` match it; it has
    /// no identity side, no boundary and no SCPs, so the trust policy decides (with RCPs when
    /// given).
    Federated {
        /// An OIDC provider ARN (`arn:aws:iam::A:oidc-provider/<host>`), a SAML provider ARN
        /// (`arn:aws:iam::A:saml-provider/<name>`) or `cognito-identity.amazonaws.com`.
        provider: String,
    },
}

/// What a request acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestResource {
    /// `"*"`, for wildcard-only actions.
    Any,
    /// One ARN.
    Arn(String),
    /// Some resource whose ARN starts with this prefix, such as any object of a bucket
    /// (`arn:aws:s3:::bucket/`). A Resource pattern that covers every such ARN matches; one that
    /// covers only some matches for Allow (access to some objects is access) and is unknown for
    /// Deny (some objects may be denied).
    Under(String),
}

/// A context key's value for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContextValue {
    /// A single-valued key.
    Single(String),
    /// A multivalued key (`aws:TagKeys`, `aws:PrincipalOrgPaths`, …).
    Multi(Vec<String>),
    /// A value known to start with this prefix; the rest is unknown (for example `aws:SourceArn`
    /// when ECS assumes a task role: some ECS ARN in the task's account and region).
    Prefix(String),
    /// The key is absent or has a value that is none of these: for example
    /// `aws:PrincipalOrgID` of an account outside the snapshot's organization. Equality with any
    /// of them is surely false; anything else about the value is unknown.
    NoneOf(Vec<String>),
    /// The snapshot cannot tell the value, or whether the key is present.
    Unknown,
    /// The key is surely absent.
    Absent,
}

/// The request context: lowercase key to value, plus what a key not listed means.
///
/// Contexts can be layered: keys this context does not set are looked up in `parents`, in order,
/// so the principal's and the resource's keys are built once and shared by every request that
/// involves them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    /// Keys by lowercase name.
    pub values: BTreeMap<String, ContextValue>,
    /// The value of any key not in `values` or a parent: [`ContextValue::Absent`] for strict
    /// simulation, [`ContextValue::Unknown`] for analysis of a snapshot.
    pub otherwise: ContextValue,
    /// Lowercase key prefixes (such as `aws:resourcetag/`) whose keys, when not in `values`, are
    /// surely absent: the snapshot holds every tag of the resource, so an unlisted tag is absent.
    pub absent_prefixes: Vec<String>,
    /// Contexts consulted, in order, for keys this one does not set. Their `otherwise` is not
    /// used; their `absent_prefixes` are.
    pub parents: Vec<Arc<Context>>,
}

impl Context {
    /// An empty context in which every other key is `otherwise`.
    pub fn new(otherwise: ContextValue) -> Context {
        Context {
            values: BTreeMap::new(),
            otherwise,
            absent_prefixes: Vec::new(),
            parents: Vec::new(),
        }
    }

    /// A context that adds nothing to `parents` and in which every other key is `otherwise`.
    pub fn layered(otherwise: ContextValue, parents: Vec<Arc<Context>>) -> Context {
        Context {
            parents,
            ..Context::new(otherwise)
        }
    }

    /// Sets a key (stored lowercase).
    pub fn set(&mut self, key: &str, value: ContextValue) -> &mut Context {
        self.values.insert(key.to_ascii_lowercase(), value);
        self
    }

    fn find(&self, lower: &str) -> Option<&ContextValue> {
        if let Some(v) = self.values.get(lower) {
            return Some(v);
        }
        self.parents.iter().find_map(|p| p.find(lower))
    }

    fn absent_by_prefix(&self, lower: &str) -> bool {
        self.absent_prefixes
            .iter()
            .any(|p| lower.starts_with(p.as_str()))
            || self.parents.iter().any(|p| p.absent_by_prefix(lower))
    }

    fn get_lower(&self, lower: &str) -> &ContextValue {
        match self.find(lower) {
            Some(value) => value,
            None if self.absent_by_prefix(lower) => &ContextValue::Absent,
            None => &self.otherwise,
        }
    }

    /// Looks a key up, case-insensitively, without allocating for ordinary keys.
    pub fn get(&self, key: &str) -> &ContextValue {
        const CAP: usize = 128;
        if key.len() <= CAP && key.is_ascii() {
            let mut buf = [0u8; CAP];
            let lower = &mut buf[..key.len()];
            lower.copy_from_slice(key.as_bytes());
            lower.make_ascii_lowercase();
            if let Ok(k) = std::str::from_utf8(lower) {
                return self.get_lower(k);
            }
        }
        self.get_lower(&key.to_ascii_lowercase())
    }
}

/// One authorization question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Who asks.
    pub principal: RequestPrincipal,
    /// `service:Action`.
    pub action: String,
    /// What on.
    pub resource: RequestResource,
    /// The account that owns the resource (S3 ARNs carry none).
    pub resource_account: String,
    /// The context keys.
    pub context: Context,
}

/// The kind of a policy, which decides how it combines (R2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyType {
    /// Identity policies: inline, managed and group policies of the principal.
    Identity,
    /// A resource-based policy (secret, repository, bucket policy).
    Resource,
    /// An IAM role trust policy; it must always allow (R2.6).
    Trust,
    /// A KMS key policy; it must always allow (R2.7).
    Key,
    /// A permissions boundary.
    Boundary,
    /// A session policy.
    Session,
    /// A service control policy.
    Scp,
    /// A resource control policy.
    Rcp,
}

impl PolicyType {
    /// The contract name used in JSON output: `identity`, `resource`, `trust`, `key`,
    /// `boundary`, `session`, `scp`, `rcp`.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::Identity => "identity",
            PolicyType::Resource => "resource",
            PolicyType::Trust => "trust",
            PolicyType::Key => "key",
            PolicyType::Boundary => "boundary",
            PolicyType::Session => "session",
            PolicyType::Scp => "scp",
            PolicyType::Rcp => "rcp",
        }
    }
}

/// A policy with the id its proofs name.
#[derive(Clone, Copy, Debug)]
pub struct PolicyRef<'a> {
    /// The policy's kind.
    pub policy_type: PolicyType,
    /// Its id in proofs: a managed policy ARN, `<role ARN>#<inline name>`, the ARN of the resource
    /// that carries it, or an organization policy id.
    pub id: &'a str,
    /// The document.
    pub document: &'a PolicyDocument,
}

/// One level of an organization (root, an OU, the account) and the SCPs or RCPs attached there.
#[derive(Clone, Debug)]
pub struct OrgLevel<'a> {
    /// The root, OU or account id.
    pub target: &'a str,
    /// The policies attached to it.
    pub policies: Vec<PolicyRef<'a>>,
}

/// Every policy that bears on one request.
#[derive(Clone, Debug, Default)]
pub struct PolicySet<'a> {
    /// The principal's identity policies.
    pub identity: Vec<PolicyRef<'a>>,
    /// The resource's policy: resource, trust or key policy. Its type decides whether it must
    /// always allow (trust and key policies).
    pub resource: Option<PolicyRef<'a>>,
    /// The principal's permissions boundary.
    pub boundary: Option<PolicyRef<'a>>,
    /// The session policy, if any.
    pub session: Option<PolicyRef<'a>>,
    /// The SCP levels of the principal's account, root first; `None` when SCPs do not apply.
    pub scps: Option<Cow<'a, [OrgLevel<'a>]>>,
    /// The RCP levels of the resource's account, root first; `None` when RCPs do not apply.
    /// `RCPFullAWSAccess` is implicit at every level.
    pub rcps: Option<Cow<'a, [OrgLevel<'a>]>>,
    /// The resource is an AWS-managed KMS key, which no other account can use (R2.7).
    pub aws_managed_key: bool,
}

/// The outcome of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// Allowed, possibly conditionally.
    Allowed,
    /// No applicable Allow where one is needed.
    ImplicitDeny,
    /// An applicable Deny.
    ExplicitDeny,
}

impl Outcome {
    /// `allowed`, `implicit_deny` or `explicit_deny`, as `rolechain.decision/v1` spells them.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::ImplicitDeny => "implicit_deny",
            Outcome::ExplicitDeny => "explicit_deny",
        }
    }
}

/// A statement that decided part of a request.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reason {
    /// The kind of policy.
    pub policy_type: PolicyType,
    /// The policy id. Shared (`Arc`), because a graph cites the same statements on many edges.
    pub policy: Arc<str>,
    /// The statement's `Sid`, or its index as a string.
    pub statement: Arc<str>,
    /// Its effect.
    pub effect: Effect,
}

/// A condition the snapshot cannot decide, with the statement it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpenCondition {
    /// The operator as written.
    pub operator: String,
    /// The key as written.
    pub key: String,
    /// The values.
    pub values: Vec<String>,
    /// The policy type.
    pub policy_type: PolicyType,
    /// The policy id.
    pub policy: Arc<str>,
    /// The statement label.
    pub statement: Arc<str>,
    /// Allow: the access needs this condition. Deny: the access is denied if it holds.
    pub effect: Effect,
}

/// What blocks a denied request: the first failing part, in evaluation order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Blocker {
    /// An applicable Deny statement.
    Deny(Reason),
    /// An SCP level of the principal's account has no applicable Allow.
    ScpMissingAllow {
        /// The root, OU or account id.
        target: String,
    },
    /// No identity policy allows, where one is needed.
    IdentityMissingAllow,
    /// The resource policy does not allow this principal, where it must (cross-account, trust,
    /// key policy) or where it is the only possible grant (service principals).
    ResourceMissingAllow {
        /// The policy type: resource, trust or key.
        policy_type: PolicyType,
        /// The resource whose policy it is.
        policy: Option<String>,
    },
    /// The permissions boundary has no applicable Allow.
    BoundaryMissingAllow {
        /// The boundary policy id.
        policy: String,
    },
    /// The session policy has no applicable Allow.
    SessionMissingAllow {
        /// The session policy id.
        policy: String,
    },
    /// An AWS-managed KMS key used from another account.
    AwsManagedKeyCrossAccount,
    /// The resource does not exist: the snapshot lists its kind in its account and region, and
    /// it is not among them. The evaluator never returns it; the graph does, for references a
    /// task definition makes.
    NotFound {
        /// The resource named.
        resource: String,
    },
    /// `kms:CreateAlias`, `kms:UpdateAlias` or `kms:DeleteAlias` on an AWS-managed alias
    /// (`alias/aws/*`), which no principal may create, update or delete (R7.3).
    AwsManagedAlias,
    /// A request on a KMS key (`…:kms:…:key/…`) with no key policy given: a key policy must always
    /// allow (R2.7, R7.3). Named only when nothing else blocks the request, so it marks the key
    /// policy as the one missing part.
    KeyPolicyMissing,
    /// A KMS action that AWS never allows from another account (R2.7), whatever the key policy
    /// and identity policies say.
    KmsNotCrossAccount {
        /// The action as requested.
        action: String,
    },
}

/// The decision for one request, with its proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Allowed, implicitly denied or explicitly denied.
    pub outcome: Outcome,
    /// True when the outcome is `Allowed` but depends on conditions the context cannot decide,
    /// including possible denies.
    pub conditional: bool,
    /// The statements that decided it: for Allow, the allowing statements used on each side;
    /// for an explicit deny, the Deny.
    pub because: Vec<Reason>,
    /// Open conditions, sorted.
    pub conditions: Vec<OpenCondition>,
    /// For a denied request, what blocks it.
    pub blocked_by: Option<Blocker>,
    /// Warnings: unsupported operators, dangling principals, short ARNs, …
    pub diagnostics: Vec<Diagnostic>,
}

impl Decision {
    /// True when allowed, conditionally or not.
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allowed
    }
}
