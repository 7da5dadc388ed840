//! An indexed view of an inventory, and the evaluation of every kind of hop against it.
//!
//! [`World`] answers "may this principal do this to that" for the graph builder and for
//! `explain`, so both decide hops the same way. It borrows the inventory; building it is linear.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::model::{self, Arn, Diagnostic, Inventory, KeyManager, OrgPolicyKind, PolicyDocument};
use crate::policy::{
    self, Blocker, Context, ContextValue, Decision, OpenCondition, OrgLevel, PolicyRef, PolicySet,
    PolicyType, Reason, Request, RequestPrincipal, RequestResource,
};

use super::context;
use super::ecs::ValueFrom;
use super::{EdgeStatus, NodeKind};
use crate::model::arn::ssm_parameter_arn;

/// The service principal that assumes task and execution roles.
pub const ECS_TASKS: &str = "ecs-tasks.amazonaws.com";

/// Services whose resources resource control policies restrict (R2.2). Kept as data.
pub const RCP_SERVICES: &[&str] = &["s3", "sts", "kms", "sqs", "secretsmanager", "ecr", "aoss"];

/// A principal that makes requests.
#[derive(Clone, Copy, Debug)]
pub enum Caller<'a> {
    /// A session of a role in the snapshot.
    Role(&'a model::Role),
    /// A user in the snapshot.
    User(&'a model::User),
    /// A source outside the snapshot that a policy admits.
    Outside(&'a Outsider),
}

impl<'a> Caller<'a> {
    /// The node id: the role or user ARN, or the outsider's id.
    pub fn id(&self) -> &'a str {
        match self {
            Caller::Role(r) => &r.arn,
            Caller::User(u) => &u.arn,
            Caller::Outside(o) => &o.id,
        }
    }

    /// The caller's account, empty when it has none the snapshot knows (any principal).
    fn account(&self) -> &'a str {
        match self {
            Caller::Outside(o) => o.account().unwrap_or(""),
            _ => arn_account(self.id()),
        }
    }

    /// True when the caller's partition is `partition` (or not fixed).
    fn in_partition(&self, partition: &str) -> bool {
        match self {
            Caller::Outside(o) => o.partition().is_none_or(|p| p == partition),
            _ => arn_partition(self.id()) == partition,
        }
    }
}

/// A caller with everything about it that does not depend on the request, resolved once: its
/// identity policies, boundary, SCP levels and principal context keys.
pub struct Prepared<'a> {
    /// The caller.
    pub caller: Caller<'a>,
    identity: Vec<Owned<'a>>,
    boundary: Option<Owned<'a>>,
    scps: Option<Arc<[OrgLevel<'a>]>>,
    context: Arc<Context>,
    /// What resolving it noticed: attached policies or groups missing from the snapshot.
    pub diagnostics: Vec<Diagnostic>,
}

impl<'a> Prepared<'a> {
    /// The caller's node id.
    pub fn id(&self) -> &'a str {
        self.caller.id()
    }

    /// The caller's identity policy documents.
    pub fn identity_documents(&self) -> impl Iterator<Item = &'a PolicyDocument> + '_ {
        self.identity.iter().map(|o| o.doc)
    }
}

/// Who a source outside the snapshot is (R7.1, R7.2).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outside {
    /// Unsigned requests, where the service accepts them (S3).
    Anonymous,
    /// Any signed AWS principal of an account outside the snapshot's organization.
    AnyPrincipal,
    /// Any principal of an organization (or of an OU path in it) outside the snapshot: `o-…` or
    /// `o-…/r-…/ou-…/`.
    Organization(String),
    /// An account outside the snapshot, by its root ARN.
    Account(String),
    /// A role or user ARN of an account outside the snapshot.
    Principal(String),
    /// Tokens of an OIDC or SAML provider (or Cognito) whose claims satisfy a trust's
    /// conditions: each `(key, value)` is one claim condition the node admits, such as
    /// `token.actions.githubusercontent.com:sub` = `repo:acme/deploy:*`.
    Federated {
        /// The provider ARN, or `cognito-identity.amazonaws.com`.
        provider: String,
        /// The claim conditions, sorted.
        claims: Vec<(String, String)>,
    },
}

/// A source outside the snapshot that some policy admits: a node of its own, created only where
/// a resource policy or trust names it, and evaluated like any caller.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Outsider {
    /// Its node id.
    id: String,
    /// Who it is.
    pub who: Outside,
    /// For "any principal": the organizations that have nodes of their own, which it leaves
    /// out, so a principal is counted once.
    other_organizations: Vec<String>,
}

/// The node id of "anonymous".
pub const ANONYMOUS: &str = "anonymous";
/// The node id of "any AWS principal".
pub const ANY_PRINCIPAL: &str = "any-principal";

impl Outsider {
    /// The outsider, with its node id: `anonymous`, `any-principal`,
    /// `organization:<id or path>`, the account root or principal ARN, or for federated sources
    /// the provider ARN followed by `#` and the claim conditions (`#key=value&…`) when there are
    /// any.
    pub fn new(who: Outside) -> Outsider {
        let id = match &who {
            Outside::Anonymous => ANONYMOUS.to_string(),
            Outside::AnyPrincipal => ANY_PRINCIPAL.to_string(),
            Outside::Organization(o) => format!("organization:{o}"),
            Outside::Account(arn) | Outside::Principal(arn) => arn.clone(),
            Outside::Federated { provider, claims } => {
                if claims.is_empty() {
                    provider.clone()
                } else {
                    let parts: Vec<String> =
                        claims.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    format!("{provider}#{}", parts.join("&"))
                }
            }
        };
        Outsider {
            id,
            who,
            other_organizations: Vec::new(),
        }
    }

    /// "Any principal" outside these organizations too (they have nodes of their own).
    pub fn excluding_organizations(mut self, ids: Vec<String>) -> Outsider {
        self.other_organizations = ids;
        self
    }

    /// The node id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The node kind.
    pub fn kind(&self) -> NodeKind {
        match &self.who {
            Outside::Anonymous => NodeKind::Anonymous,
            Outside::AnyPrincipal => NodeKind::AnyPrincipal,
            Outside::Organization(_) => NodeKind::Organization,
            Outside::Account(_) => NodeKind::ExternalAccount,
            Outside::Principal(arn) if arn.contains(":user/") => NodeKind::User,
            Outside::Principal(_) => NodeKind::Role,
            Outside::Federated { .. } => NodeKind::Federated,
        }
    }

    /// The owning account, when there is one.
    pub fn account(&self) -> Option<&str> {
        match &self.who {
            Outside::Account(arn) | Outside::Principal(arn) => {
                Some(arn_account(arn)).filter(|a| !a.is_empty())
            }
            _ => None,
        }
    }

    /// The partition, when it is fixed.
    fn partition(&self) -> Option<&str> {
        match &self.who {
            Outside::Account(arn) | Outside::Principal(arn) => Some(arn_partition(arn)),
            Outside::Federated { provider, .. } if provider.starts_with("arn:") => {
                Some(arn_partition(provider))
            }
            _ => None,
        }
    }

    /// True when the snapshot cannot see its identity side: its own account's policies and
    /// SCPs decide, and they are not in the snapshot.
    fn identity_unknown(&self) -> bool {
        matches!(self.who, Outside::Account(_) | Outside::Principal(_))
    }

    /// A label that says plainly who this is.
    pub fn label(&self) -> String {
        match &self.who {
            Outside::Anonymous => "anyone on the internet (unsigned requests)".to_string(),
            Outside::AnyPrincipal => "any AWS principal, any account".to_string(),
            Outside::Organization(o) if o.contains('/') => format!("any principal in OU path {o}"),
            Outside::Organization(o) => format!("any principal in organization {o}"),
            Outside::Account(arn) => arn_account(arn).to_string(),
            Outside::Principal(arn) => arn.rsplit('/').next().unwrap_or(arn).to_string(),
            Outside::Federated { provider, claims } => federated_label(provider, claims),
        }
    }
}

/// "GitHub Actions: repo:acme/deploy:*", or plainly "any GitHub Actions workflow, any repository"
/// when no `sub` condition narrows the provider.
fn federated_label(provider: &str, claims: &[(String, String)]) -> String {
    let host = provider
        .split_once(":oidc-provider/")
        .map(|(_, h)| h)
        .unwrap_or(provider);
    let saml = provider.split_once(":saml-provider/").map(|(_, name)| name);
    let (name, anyone) = if let Some(name) = saml {
        (
            format!("SAML provider {name}"),
            format!("any user of SAML provider {name}"),
        )
    } else if host == "token.actions.githubusercontent.com" {
        (
            "GitHub Actions".to_string(),
            "any GitHub Actions workflow, any repository".to_string(),
        )
    } else if host.starts_with("oidc.eks.") {
        (
            format!("EKS cluster {}", host.rsplit('/').next().unwrap_or(host)),
            format!(
                "any service account of EKS cluster {}",
                host.rsplit('/').next().unwrap_or(host)
            ),
        )
    } else if host == "gitlab.com" {
        (
            "GitLab CI".to_string(),
            "any GitLab CI job, any project".to_string(),
        )
    } else if host == "app.terraform.io" {
        (
            "Terraform Cloud".to_string(),
            "any Terraform Cloud run, any organization".to_string(),
        )
    } else if host == "cognito-identity.amazonaws.com" {
        (
            "Cognito identities".to_string(),
            "any Cognito identity, any identity pool".to_string(),
        )
    } else {
        (
            format!("OIDC {host}"),
            format!("any token of OIDC provider {host}"),
        )
    };
    let narrowing: Vec<&str> = claims
        .iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            k.ends_with(":sub")
        })
        .map(|(_, v)| v.as_str())
        .collect();
    if narrowing.is_empty() || narrowing.iter().all(|v| v.trim_matches('*').is_empty()) {
        return anyone;
    }
    format!("{name}: {}", narrowing.join(", "))
}

/// A resource that access edges end at.
#[derive(Clone, Debug)]
pub struct ResourceInfo<'a> {
    /// The node id.
    pub id: String,
    /// The node kind.
    pub kind: NodeKind,
    /// The owning account.
    pub account: String,
    /// The region, empty for S3 when unknown.
    pub region: String,
    /// The partition.
    pub partition: String,
    /// A short label.
    pub label: String,
    /// The resource policy, if any.
    pub policy: Option<&'a PolicyDocument>,
    /// True when the snapshot holds this resource; false for ones only named by policies or
    /// task definitions.
    pub in_snapshot: bool,
    /// Tags, when the snapshot holds them.
    pub tags: Option<&'a model::Tags>,
    /// For secrets and SecureString parameters: the KMS key reference that encrypts the value.
    pub encryption_key: Option<KeyRef>,
    /// For KMS keys: AWS-managed.
    pub aws_managed_key: bool,
    /// For S3 buckets: the bucket, for its Block Public Access settings.
    pub bucket: Option<&'a model::Bucket>,
    /// For S3 buckets: the public grants of its ACL as Allow statements, when it has any and
    /// `IgnorePublicAcls` does not void them. They are evaluated with the bucket policy.
    pub acl: Option<Arc<PolicyDocument>>,
}

impl<'a> ResourceInfo<'a> {
    /// A resource the snapshot holds, with no tags, no encryption key and not AWS-managed.
    fn collected(
        kind: NodeKind,
        id: &str,
        account: &model::Account,
        region: &str,
        label: String,
        policy: Option<&'a PolicyDocument>,
    ) -> ResourceInfo<'a> {
        ResourceInfo {
            id: id.to_string(),
            kind,
            account: account.id.clone(),
            region: region.to_string(),
            partition: account.partition.clone(),
            label,
            policy,
            in_snapshot: true,
            tags: None,
            encryption_key: None,
            aws_managed_key: false,
            bucket: None,
            acl: None,
        }
    }

    /// True when the resource's policy is not known: the resource is not in the snapshot, or it
    /// is a KMS key whose key policy was not collected (every key has one).
    pub fn policy_unknown(&self) -> bool {
        !self.in_snapshot || (self.kind == NodeKind::KmsKey && self.policy.is_none())
    }
}

/// Which KMS key encrypts a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyRef {
    /// The AWS-managed key of the service (`aws/secretsmanager`, `aws/ssm`).
    AwsManaged,
    /// A key by ARN, resolved from a key id, key ARN, alias name or alias ARN.
    Key(String),
    /// A reference that does not resolve to a key in the snapshot.
    Unresolved(String),
    /// The value itself is not in the snapshot, so which key encrypts it is unknown.
    Unknown,
}

/// The outcome of evaluating a hop: one or more requests, each possibly for several actions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The hop's status.
    pub status: EdgeStatus,
    /// The actions allowed, sorted.
    pub actions: Vec<String>,
    /// The statements that allowed it (or, when denied, the Deny that blocked it).
    pub because: Vec<Reason>,
    /// Open conditions.
    pub conditions: Vec<OpenCondition>,
    /// Facts for people: what blocks it, what is not in the snapshot.
    pub notes: Vec<String>,
    /// When denied: what blocks it.
    pub blocked: Option<Block>,
}

/// What blocks a denied hop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The request that failed, for people: `role/x → kms:Decrypt on key/…`.
    pub request: String,
    /// The failing part, from the evaluator; `None` when the hop is structurally impossible.
    pub blocker: Option<Blocker>,
    /// A sentence for people.
    pub message: String,
}

impl Verdict {
    pub(crate) fn denied(request: String, blocker: Option<Blocker>, message: String) -> Verdict {
        Verdict {
            status: EdgeStatus::Denied,
            actions: Vec::new(),
            because: Vec::new(),
            conditions: Vec::new(),
            notes: vec![message.clone()],
            blocked: Some(Block {
                request,
                blocker,
                message,
            }),
        }
    }

    fn allowed() -> Verdict {
        Verdict {
            status: EdgeStatus::Allowed,
            actions: Vec::new(),
            because: Vec::new(),
            conditions: Vec::new(),
            notes: Vec::new(),
            blocked: None,
        }
    }

    /// `request` describes the request for people; it is only called when the decision denies.
    fn from_decision(
        decision: Decision,
        request: impl FnOnce() -> String,
        subject: &str,
    ) -> Verdict {
        if decision.is_allowed() {
            Verdict {
                status: if decision.conditional {
                    EdgeStatus::Conditional
                } else {
                    EdgeStatus::Allowed
                },
                actions: Vec::new(),
                because: decision.because,
                conditions: decision.conditions,
                notes: Vec::new(),
                blocked: None,
            }
        } else {
            let message = describe_blocker(decision.blocked_by.as_ref(), subject);
            let deny = match &decision.blocked_by {
                Some(Blocker::Deny(reason)) => Some(reason.clone()),
                _ => None,
            };
            let mut v = Verdict::denied(request(), decision.blocked_by, message);
            v.because.extend(deny);
            v
        }
    }

    /// Both this and `next` must allow: the weaker status wins, proofs join, and the first
    /// failure is kept.
    fn and(mut self, next: Verdict) -> Verdict {
        if self.status == EdgeStatus::Denied {
            return self;
        }
        if next.status == EdgeStatus::Denied {
            return next;
        }
        self.status = self.status.min(next.status);
        self.actions.extend(next.actions);
        self.because.extend(next.because);
        self.conditions.extend(next.conditions);
        self.notes.extend(next.notes);
        self.normalize();
        self
    }

    /// Either this or `other` suffices (two actions of one hop): the stronger status wins.
    fn or(mut self, other: Verdict) -> Verdict {
        if other.status == EdgeStatus::Denied {
            if self.status == EdgeStatus::Denied && self.blocked.is_none() {
                return other;
            }
            return self;
        }
        if self.status == EdgeStatus::Denied {
            return other;
        }
        self.status = self.status.max(other.status);
        self.actions.extend(other.actions);
        self.because.extend(other.because);
        self.conditions.extend(other.conditions);
        self.notes.extend(other.notes);
        self.normalize();
        self
    }

    fn note(mut self, note: impl Into<String>) -> Verdict {
        self.notes.push(note.into());
        self.normalize();
        self
    }

    fn normalize(&mut self) {
        for list in [&mut self.actions, &mut self.notes] {
            list.sort();
            list.dedup();
        }
        self.because.sort();
        self.because.dedup();
        self.conditions.sort();
        self.conditions.dedup();
    }

    /// Lowers an allowed verdict to conditional, with a note saying why.
    fn conditional(mut self, note: impl Into<String>) -> Verdict {
        if self.status == EdgeStatus::Allowed {
            self.status = EdgeStatus::Conditional;
        }
        self.note(note)
    }
}

/// A sentence describing a blocker.
pub fn describe_blocker(blocker: Option<&Blocker>, subject: &str) -> String {
    match blocker {
        None => format!("{subject} is not allowed"),
        Some(Blocker::Deny(r)) => format!(
            "explicitly denied by statement `{}` of {} policy `{}`",
            r.statement,
            r.policy_type.as_str(),
            r.policy
        ),
        Some(Blocker::ScpMissingAllow { target }) => {
            format!("no SCP attached at `{target}` allows it")
        }
        Some(Blocker::IdentityMissingAllow) => {
            "no identity policy of the caller allows it".to_string()
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
                Some(p) => format!("{what} of `{p}` does not allow the caller"),
                None => format!("{what} does not allow the caller"),
            }
        }
        Some(Blocker::BoundaryMissingAllow { policy }) => {
            format!("the permissions boundary `{policy}` does not allow it")
        }
        Some(Blocker::SessionMissingAllow { policy }) => {
            format!("the session policy `{policy}` does not allow it")
        }
        Some(Blocker::AwsManagedKeyCrossAccount) => {
            "an AWS-managed KMS key cannot be used from another account".to_string()
        }
        Some(Blocker::NotFound { resource }) => format!("`{resource}` does not exist"),
        Some(Blocker::AwsManagedAlias) => {
            "AWS-managed aliases (alias/aws/*) cannot be created, updated or deleted".to_string()
        }
        Some(Blocker::KeyPolicyMissing) => {
            "a KMS key request is denied when no key policy allows it, and no key policy was given"
                .to_string()
        }
        Some(Blocker::KmsNotCrossAccount { action }) => {
            format!("{action} cannot be used across accounts, whatever the key policy says")
        }
    }
}

/// Well-known AWS-managed policies, used when a snapshot attaches them without their documents.
const KNOWN_AWS_POLICIES: &[(&str, &str)] = &[
    (
        "arn:aws:iam::aws:policy/AdministratorAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    ),
    (
        "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#,
    ),
    (
        "arn:aws:iam::aws:policy/PowerUserAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":["iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeOrganization","account:ListRegions","account:GetAccountInformation"],"Resource":"*"}]}"#,
    ),
];

/// One level of an organization chain and the policies attached there.
type Level<'a> = (&'a str, Vec<&'a model::OrgPolicy>);

/// [`KNOWN_AWS_POLICIES`], parsed once.
static KNOWN_AWS: std::sync::LazyLock<Vec<(&'static str, PolicyDocument)>> =
    std::sync::LazyLock::new(|| {
        KNOWN_AWS_POLICIES
            .iter()
            .filter_map(|(arn, text)| PolicyDocument::parse_str(text).ok().map(|doc| (*arn, doc)))
            .collect()
    });

/// The id of the stand-in identity policy of principals outside the snapshot.
const NOT_IN_SNAPSHOT: &str = "(not in snapshot)";

/// An identity policy that allows everything: the stand-in for identity policies the snapshot
/// does not hold, so that only the side it does hold decides.
static ALLOW_ALL: std::sync::LazyLock<PolicyDocument> =
    std::sync::LazyLock::new(|| PolicyDocument {
        version: Some("2012-10-17".to_string()),
        statements: vec![model::Statement {
            sid: None,
            index: 0,
            effect: model::Effect::Allow,
            principal: None,
            not_principal: None,
            action: Some(vec!["*".to_string()]),
            not_action: None,
            resource: Some(vec!["*".to_string()]),
            not_resource: None,
            condition: Vec::new(),
        }],
    });

/// A policy a principal carries, with the id proofs name it by.
struct Owned<'a> {
    id: String,
    doc: &'a PolicyDocument,
}

/// Contexts that many requests share, built once.
struct SharedContexts {
    /// `aws:SourceAccount` and `aws:SourceArn` absent: a principal calling with its own session.
    no_source: Arc<Context>,
    /// Per region: a direct call (no service in between, no source), with `aws:RequestedRegion`.
    direct: BTreeMap<String, Arc<Context>>,
    /// Per resource or role id: its account, organization and tags.
    resources: BTreeMap<String, Arc<Context>>,
}

/// The indexed inventory.
pub struct World<'a> {
    shared: SharedContexts,
    /// The inventory.
    pub inventory: &'a Inventory,
    /// Roles by ARN.
    pub roles: BTreeMap<&'a str, &'a model::Role>,
    /// Users by ARN.
    pub users: BTreeMap<&'a str, &'a model::User>,
    groups: BTreeMap<(&'a str, &'a str), &'a model::Group>,
    managed: BTreeMap<String, &'a PolicyDocument>,
    /// Accounts by id.
    pub accounts: BTreeMap<&'a str, &'a model::Account>,
    /// Resources by id, sorted.
    pub resources: BTreeMap<String, ResourceInfo<'a>>,
    keys_by_id: BTreeMap<(String, String, String), String>,
    aliases: BTreeMap<(String, String, String), String>,
    scp_levels: BTreeMap<&'a str, Arc<[OrgLevel<'a>]>>,
    rcp_levels: BTreeMap<&'a str, Arc<[OrgLevel<'a>]>>,
    /// What indexing noticed.
    pub diagnostics: Vec<Diagnostic>,
}

fn arn_account(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or("")
}

fn arn_partition(arn: &str) -> &str {
    arn.split(':').nth(1).unwrap_or("aws")
}

impl<'a> World<'a> {
    /// Indexes an inventory.
    ///
    /// # Complexity
    /// O(n log n) in the size of the inventory.
    pub fn new(inventory: &'a Inventory) -> World<'a> {
        let mut w = World {
            shared: SharedContexts {
                no_source: Arc::new(Context::new(ContextValue::Unknown)),
                direct: BTreeMap::new(),
                resources: BTreeMap::new(),
            },
            inventory,
            roles: BTreeMap::new(),
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
            managed: BTreeMap::new(),
            accounts: BTreeMap::new(),
            resources: BTreeMap::new(),
            keys_by_id: BTreeMap::new(),
            aliases: BTreeMap::new(),
            scp_levels: BTreeMap::new(),
            rcp_levels: BTreeMap::new(),
            diagnostics: Vec::new(),
        };
        for account in &inventory.accounts {
            w.accounts.insert(&account.id, account);
            if let Some(iam) = &account.iam {
                for role in &iam.roles {
                    w.roles.insert(&role.arn, role);
                }
                for user in &iam.users {
                    w.users.insert(&user.arn, user);
                }
                for group in &iam.groups {
                    w.groups.insert((&account.id, &group.name), group);
                }
                for policy in &iam.policies {
                    if let Some(doc) = &policy.document {
                        w.managed.insert(policy.arn.clone(), doc);
                    }
                }
            }
        }
        w.diagnostics.extend(inventory.diagnostics.iter().cloned());
        w.index_resources();
        w.note_missing_parts();
        w.share_contexts();
        w.index_organization();
        w
    }

    fn index_resources(&mut self) {
        let inventory = self.inventory;
        // Keys first: secrets and parameters resolve their encryption keys against them.
        for account in &inventory.accounts {
            for (region, r) in &account.regions {
                for key in r.kms_keys.iter().flatten() {
                    let k = (account.id.clone(), region.clone(), key.key_id.clone());
                    self.keys_by_id.insert(k, key.arn.clone());
                    for alias in &key.aliases {
                        self.aliases.insert(
                            (account.id.clone(), region.clone(), alias.clone()),
                            key.arn.clone(),
                        );
                    }
                    let label = key
                        .aliases
                        .first()
                        .cloned()
                        .unwrap_or_else(|| format!("key/{}", key.key_id));
                    self.add(ResourceInfo {
                        tags: Some(&key.tags),
                        aws_managed_key: key.manager == KeyManager::Aws,
                        ..ResourceInfo::collected(
                            NodeKind::KmsKey,
                            &key.arn,
                            account,
                            region,
                            label,
                            key.policy.as_ref(),
                        )
                    });
                }
            }
        }
        for account in &inventory.accounts {
            for (region, r) in &account.regions {
                for s in r.secrets.iter().flatten() {
                    let key = self.resolve_key(
                        s.kms_key_id.as_deref(),
                        &account.id,
                        region,
                        "aws/secretsmanager",
                    );
                    self.add(ResourceInfo {
                        tags: Some(&s.tags),
                        encryption_key: Some(key),
                        ..ResourceInfo::collected(
                            NodeKind::Secret,
                            &s.arn,
                            account,
                            region,
                            s.name.clone(),
                            s.policy.as_ref(),
                        )
                    });
                }
                for param in r.ssm_parameters.iter().flatten() {
                    let key = (param.parameter_type == "SecureString").then(|| {
                        self.resolve_key(param.key_id.as_deref(), &account.id, region, "aws/ssm")
                    });
                    self.add(ResourceInfo {
                        encryption_key: key,
                        tags: param.tags.as_ref(),
                        ..ResourceInfo::collected(
                            NodeKind::SsmParameter,
                            &param.arn,
                            account,
                            region,
                            param.name.clone(),
                            None,
                        )
                    });
                }
                for repo in r.ecr_repositories.iter().flatten() {
                    let label = repo.name.clone();
                    self.add(ResourceInfo {
                        tags: repo.tags.as_ref(),
                        ..ResourceInfo::collected(
                            NodeKind::EcrRepository,
                            &repo.arn,
                            account,
                            region,
                            label,
                            repo.policy.as_ref(),
                        )
                    });
                }
                for lg in r.log_groups.iter().flatten() {
                    self.add(ResourceInfo {
                        tags: lg.tags.as_ref(),
                        ..ResourceInfo::collected(
                            NodeKind::LogGroup,
                            &lg.arn,
                            account,
                            region,
                            lg.name.clone(),
                            None,
                        )
                    });
                }
            }
            for b in account.s3_buckets.iter().flatten() {
                let id = format!("arn:{}:s3:::{}", account.partition, b.name);
                let region = b.region.clone().unwrap_or_default();
                let encryption_key = b
                    .default_kms_key
                    .as_ref()
                    .map(|key| self.resolve_key(key.as_deref(), &account.id, &region, "aws/s3"));
                let ignore_acls = [account.s3_public_access_block, b.public_access_block]
                    .iter()
                    .flatten()
                    .any(|block| block.ignore_public_acls);
                let acl = b
                    .public_grants
                    .as_deref()
                    .filter(|grants| !grants.is_empty() && !ignore_acls)
                    .map(|grants| Arc::new(acl_statements(&id, grants)));
                self.add(ResourceInfo {
                    tags: b.tags.as_ref(),
                    encryption_key,
                    bucket: Some(b),
                    acl,
                    ..ResourceInfo::collected(
                        NodeKind::S3Bucket,
                        &id,
                        account,
                        &region,
                        b.name.clone(),
                        b.policy.as_ref(),
                    )
                });
            }
        }
    }

    fn add(&mut self, resource: ResourceInfo<'a>) {
        self.resources.insert(resource.id.clone(), resource);
    }

    /// Resolves a `KmsKeyId`/`KeyId` reference: key ARN, key id, alias name or alias ARN.
    fn resolve_key(
        &self,
        reference: Option<&str>,
        account: &str,
        region: &str,
        aws_alias: &str,
    ) -> KeyRef {
        let Some(reference) = reference.filter(|r| !r.is_empty()) else {
            return KeyRef::AwsManaged;
        };
        let (acct, reg, local) = match Arn::parse(reference) {
            Ok(arn) if arn.service == "kms" => (
                arn.account.clone(),
                arn.region.clone(),
                arn.resource.clone(),
            ),
            _ => (
                account.to_string(),
                region.to_string(),
                reference.to_string(),
            ),
        };
        if let Some(alias) = local.strip_prefix("alias/") {
            if alias == aws_alias || alias.starts_with("aws/") {
                return match self.aliases.get(&(acct, reg, local.clone())) {
                    Some(arn) => KeyRef::Key(arn.clone()),
                    None => KeyRef::AwsManaged,
                };
            }
            return match self.aliases.get(&(acct, reg, local.clone())) {
                Some(arn) => KeyRef::Key(arn.clone()),
                None => KeyRef::Unresolved(reference.to_string()),
            };
        }
        let id = local.strip_prefix("key/").unwrap_or(&local).to_string();
        match self
            .keys_by_id
            .get(&(acct.clone(), reg.clone(), id.clone()))
        {
            Some(arn) => KeyRef::Key(arn.clone()),
            None if reference.starts_with("arn:") => KeyRef::Unresolved(reference.to_string()),
            None => KeyRef::Unresolved(format!("arn:aws:kms:{reg}:{acct}:key/{id}")),
        }
    }

    fn share_contexts(&mut self) {
        let mut no_source = Context::new(ContextValue::Unknown);
        no_source.set("aws:SourceAccount", ContextValue::Absent);
        no_source.set("aws:SourceArn", ContextValue::Absent);
        self.shared.no_source = Arc::new(no_source);
        let mut regions: BTreeSet<String> = BTreeSet::from([String::new()]);
        for a in &self.inventory.accounts {
            regions.extend(a.regions.keys().cloned());
            regions.extend(
                a.s3_buckets
                    .iter()
                    .flatten()
                    .filter_map(|b| b.region.clone()),
            );
        }
        for region in regions {
            let mut ctx = Context::new(ContextValue::Unknown);
            context::direct_call(&mut ctx, &region);
            self.shared.direct.insert(region, Arc::new(ctx));
        }
        let mut resources = BTreeMap::new();
        for r in self.resources.values() {
            resources.insert(r.id.clone(), self.build_resource_ctx(&r.account, r.tags));
        }
        for role in self.roles.values() {
            resources.insert(
                role.arn.clone(),
                self.build_resource_ctx(arn_account(&role.arn), Some(&role.tags)),
            );
        }
        self.shared.resources = resources;
    }

    fn build_resource_ctx(&self, account: &str, tags: Option<&model::Tags>) -> Arc<Context> {
        let mut ctx = Context::new(ContextValue::Unknown);
        self.resource_context(&mut ctx, account, tags);
        Arc::new(ctx)
    }

    /// The resource keys of a resource or role, shared between requests.
    fn resource_ctx(&self, id: &str, account: &str, tags: Option<&model::Tags>) -> Arc<Context> {
        match self.shared.resources.get(id) {
            Some(ctx) => ctx.clone(),
            None => self.build_resource_ctx(account, tags),
        }
    }

    /// The keys of a direct call in `region`.
    fn direct(&self, region: &str) -> Arc<Context> {
        match self.shared.direct.get(region) {
            Some(ctx) => ctx.clone(),
            None => {
                let mut ctx = Context::new(ContextValue::Unknown);
                context::direct_call(&mut ctx, region);
                Arc::new(ctx)
            }
        }
    }

    /// Says which parts of the snapshot were not collected, and what collection could not read,
    /// because answers that depend on them may be incomplete (SNAPSHOT-V1 §1).
    fn note_missing_parts(&mut self) {
        let inventory = self.inventory;
        for a in &inventory.accounts {
            if a.iam.is_none() {
                self.diagnostics.push(Diagnostic::warning(
                    "not-collected",
                    a.id.clone(),
                    "IAM was not collected for this account: its roles and users, and every path through them, are unknown",
                ));
            }
            let mut missing: Vec<String> = Vec::new();
            if a.s3_buckets.is_none() {
                missing.push("s3_buckets".to_string());
            }
            for (name, r) in &a.regions {
                let parts = [
                    ("ecs", r.ecs.is_none()),
                    ("secrets", r.secrets.is_none()),
                    ("ssm_parameters", r.ssm_parameters.is_none()),
                    ("kms_keys", r.kms_keys.is_none()),
                    ("ecr_repositories", r.ecr_repositories.is_none()),
                    ("log_groups", r.log_groups.is_none()),
                ];
                missing.extend(
                    parts
                        .iter()
                        .filter(|(_, m)| *m)
                        .map(|(p, _)| format!("{name}.{p}")),
                );
            }
            let unread = a
                .s3_buckets
                .iter()
                .flatten()
                .filter(|b| b.public_grants.is_none() || b.public_access_block.is_none())
                .count();
            let buckets = a.s3_buckets.as_ref().map_or(0, Vec::len);
            if unread > 0 || (buckets > 0 && a.s3_public_access_block.is_none()) {
                self.diagnostics.push(Diagnostic::warning(
                    "public-access-unknown",
                    a.id.clone(),
                    format!(
                        "the S3 Block Public Access settings of the account{} were not collected: public access through bucket ACLs is unknown, and RestrictPublicBuckets is not applied",
                        if unread > 0 {
                            format!(", or the ACL or settings of {unread} bucket(s),")
                        } else {
                            String::new()
                        }
                    ),
                ));
            }
            if !missing.is_empty() {
                self.diagnostics.push(Diagnostic::info(
                    "not-collected",
                    a.id.clone(),
                    format!(
                        "not collected, so resources there are unknown: {}",
                        missing.join(", ")
                    ),
                ));
            }
        }
        // Gaps, grouped by where they happened and what failed.
        let mut groups: BTreeMap<(String, String, String), (usize, String)> = BTreeMap::new();
        for g in &inventory.gaps {
            let key = (
                [g.account.as_deref(), g.region.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("/"),
                g.service.clone().unwrap_or_default(),
                g.operation.clone().unwrap_or_default(),
            );
            let entry = groups
                .entry(key)
                .or_insert((0, g.error.clone().unwrap_or_default()));
            entry.0 += 1;
        }
        for ((place, service, operation), (count, error)) in groups {
            let times = if count == 1 {
                String::new()
            } else {
                format!(" ({count} times)")
            };
            self.diagnostics.push(Diagnostic::warning(
                "collection-gap",
                if place.is_empty() { "(snapshot)".to_string() } else { place },
                format!("collection could not read {service} {operation}{times}: {error}; answers that depend on it may be incomplete"),
            ));
        }
    }

    fn index_organization(&mut self) {
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

    /// The identity policies of a caller: inline, attached managed, and group policies.
    fn identity_policies(&self, caller: Caller<'a>) -> (Vec<Owned<'a>>, Vec<Diagnostic>) {
        let mut out = Vec::new();
        let mut diags = Vec::new();
        let (arn, inline, attached): (&str, &'a [model::InlinePolicy], &'a [String]) = match caller
        {
            Caller::Role(r) => (&r.arn, &r.inline, &r.attached),
            Caller::User(u) => (&u.arn, &u.inline, &u.attached),
            Caller::Outside(o) => {
                // Anonymous and federated callers have no identity side (R7.1, R7.2); any other
                // outsider's own account decides it, which the snapshot does not hold.
                if !matches!(o.who, Outside::Anonymous | Outside::Federated { .. }) {
                    out.push(Owned {
                        id: NOT_IN_SNAPSHOT.to_string(),
                        doc: &ALLOW_ALL,
                    });
                }
                return (out, diags);
            }
        };
        for p in inline {
            out.push(Owned {
                id: format!("{arn}#{}", p.name),
                doc: &p.document,
            });
        }
        let mut attached_all: Vec<&'a str> = attached.iter().map(String::as_str).collect();
        if let Caller::User(u) = caller {
            let account = arn_account(&u.arn);
            for g in &u.groups {
                match self.groups.get(&(account, g.as_str())) {
                    Some(group) => {
                        for p in &group.inline {
                            out.push(Owned {
                                id: format!("{}#{}", group.arn, p.name),
                                doc: &p.document,
                            });
                        }
                        attached_all.extend(group.attached.iter().map(String::as_str));
                    }
                    None => diags.push(Diagnostic::warning(
                        "group-not-in-snapshot",
                        arn,
                        format!("group `{g}` is not in the snapshot; its policies are not counted"),
                    )),
                }
            }
        }
        for policy_arn in attached_all {
            match self.managed_policy(policy_arn) {
                Some(doc) => out.push(Owned { id: policy_arn.to_string(), doc }),
                None => diags.push(Diagnostic::warning(
                    "policy-not-in-snapshot",
                    arn,
                    format!("attached policy `{policy_arn}` is not in the snapshot; its permissions are not counted"),
                )),
            }
        }
        (out, diags)
    }

    fn managed_policy(&self, arn: &str) -> Option<&'a PolicyDocument> {
        if let Some(doc) = self.managed.get(arn) {
            return Some(doc);
        }
        KNOWN_AWS.iter().find(|(a, _)| *a == arn).map(|(_, d)| d)
    }

    fn boundary(&self, caller: Caller<'a>) -> Option<Owned<'a>> {
        let arn = match caller {
            Caller::Role(r) => r.boundary.as_deref()?,
            Caller::User(u) => u.boundary.as_deref()?,
            Caller::Outside(_) => return None,
        };
        // A boundary whose document is missing is treated as absent (with a warning at build).
        self.managed.get(arn).map(|doc| Owned {
            id: arn.to_string(),
            doc,
        })
    }

    fn scps(&self, caller: Caller<'a>) -> Option<Arc<[OrgLevel<'a>]>> {
        match caller {
            Caller::Role(r) if r.is_service_linked() => return None,
            // Outside the snapshot's organization: SCPs of the snapshot do not apply, and
            // anonymous requests have none (R7.1).
            Caller::Outside(_) => return None,
            _ => {}
        }
        self.scp_levels.get(arn_account(caller.id())).cloned()
    }

    fn rcps(
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
    fn org_of(&self, account: &str) -> Option<(&'a str, Vec<String>)> {
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

    /// Resolves what evaluations of `caller` share.
    pub fn prepare(&self, caller: Caller<'a>) -> Prepared<'a> {
        let (identity, diagnostics) = self.identity_policies(caller);
        Prepared {
            caller,
            identity,
            boundary: self.boundary(caller),
            scps: self.scps(caller),
            context: Arc::new(self.caller_context(caller)),
            diagnostics,
        }
    }

    fn caller_context(&self, caller: Caller<'a>) -> Context {
        let mut ctx = context::base();
        let account = arn_account(caller.id());
        match caller {
            Caller::Role(r) => context::role_principal(&mut ctx, r, account),
            Caller::User(u) => context::user_principal(&mut ctx, u, account),
            Caller::Outside(o) => {
                self.outsider_context(&mut ctx, o);
                return ctx;
            }
        }
        context::principal_org(&mut ctx, self.org_of(account));
        ctx
    }

    /// The principal keys of an outsider. What the snapshot cannot know stays unknown; what the
    /// outsider is fixes the rest: anonymous requests carry no principal keys, any principal is
    /// outside every account and the organization of the snapshot.
    fn outsider_context(&self, ctx: &mut Context, o: &Outsider) {
        let snapshot_accounts: Vec<String> = self.accounts.keys().map(|a| a.to_string()).collect();
        let mut snapshot_org: Vec<String> = self
            .inventory
            .organization
            .iter()
            .map(|o| o.id.clone())
            .collect();
        snapshot_org.extend(o.other_organizations.iter().cloned());
        snapshot_org.sort();
        snapshot_org.dedup();
        match &o.who {
            Outside::Anonymous => {
                for key in [
                    "aws:PrincipalArn",
                    "aws:PrincipalAccount",
                    "aws:PrincipalOrgID",
                    "aws:PrincipalOrgPaths",
                    "aws:PrincipalType",
                    "aws:PrincipalIsAWSService",
                    "aws:PrincipalServiceName",
                    "aws:userid",
                    "aws:username",
                    "aws:MultiFactorAuthPresent",
                    "aws:SourceAccount",
                    "aws:SourceArn",
                ] {
                    ctx.set(key, ContextValue::Absent);
                }
                ctx.set("aws:SecureTransport", ContextValue::Unknown);
                ctx.absent_prefixes.push("aws:principaltag/".to_string());
            }
            Outside::AnyPrincipal | Outside::Organization(_) => {
                ctx.set(
                    "aws:PrincipalAccount",
                    ContextValue::NoneOf(snapshot_accounts),
                );
                ctx.set(
                    "aws:PrincipalIsAWSService",
                    ContextValue::Single("false".into()),
                );
                ctx.set("aws:PrincipalServiceName", ContextValue::Absent);
                ctx.set("aws:SourceAccount", ContextValue::Absent);
                ctx.set("aws:SourceArn", ContextValue::Absent);
                match &o.who {
                    Outside::Organization(path) => {
                        let id = path.split('/').next().unwrap_or(path);
                        ctx.set("aws:PrincipalOrgID", ContextValue::Single(id.to_string()));
                        if path.contains('/') {
                            ctx.set(
                                "aws:PrincipalOrgPaths",
                                ContextValue::Multi(vec![path.clone()]),
                            );
                        }
                    }
                    _ if !snapshot_org.is_empty() => {
                        ctx.set("aws:PrincipalOrgID", ContextValue::NoneOf(snapshot_org));
                    }
                    _ => {}
                }
            }
            Outside::Account(arn) | Outside::Principal(arn) => {
                let account = arn_account(arn).to_string();
                ctx.set(
                    "aws:PrincipalAccount",
                    ContextValue::Single(account.clone()),
                );
                ctx.set(
                    "aws:PrincipalIsAWSService",
                    ContextValue::Single("false".into()),
                );
                ctx.set("aws:SourceAccount", ContextValue::Absent);
                ctx.set("aws:SourceArn", ContextValue::Absent);
                if matches!(o.who, Outside::Principal(_)) {
                    ctx.set("aws:PrincipalArn", ContextValue::Single(arn.clone()));
                }
                match (self.org_of(&account), &self.inventory.organization) {
                    (Some(org), _) => context::principal_org(ctx, Some(org)),
                    (None, Some(org)) => {
                        ctx.set(
                            "aws:PrincipalOrgID",
                            ContextValue::NoneOf(vec![org.id.clone()]),
                        );
                    }
                    (None, None) => {}
                }
            }
            Outside::Federated { provider, claims } => {
                ctx.set(
                    "aws:FederatedProvider",
                    ContextValue::Single(provider.clone()),
                );
                ctx.set(
                    "aws:PrincipalIsAWSService",
                    ContextValue::Single("false".into()),
                );
                ctx.set("aws:SourceAccount", ContextValue::Absent);
                ctx.set("aws:SourceArn", ContextValue::Absent);
                ctx.set("sts:ExternalId", ContextValue::Absent);
                for (key, value) in claims {
                    ctx.set(key, ContextValue::Single(value.clone()));
                }
            }
        }
    }

    fn resource_context(
        &self,
        ctx: &mut Context,
        resource_account: &str,
        tags: Option<&model::Tags>,
    ) {
        context::resource(ctx, resource_account, self.org_of(resource_account), tags);
    }

    fn principal_of(caller: &Prepared<'_>) -> RequestPrincipal {
        match caller.caller {
            Caller::Role(r) => RequestPrincipal::Session {
                role_arn: r.arn.clone(),
                session_name: None,
            },
            Caller::User(u) => RequestPrincipal::User { arn: u.arn.clone() },
            Caller::Outside(o) => match &o.who {
                Outside::Anonymous => RequestPrincipal::Anonymous,
                Outside::Federated { provider, .. } => RequestPrincipal::Federated {
                    provider: provider.clone(),
                },
                // Any principal of an account that no policy names: matched by `*` only.
                Outside::AnyPrincipal | Outside::Organization(_) => RequestPrincipal::AccountRoot {
                    partition: String::new(),
                    account: String::new(),
                },
                Outside::Account(arn) => RequestPrincipal::AccountRoot {
                    partition: arn_partition(arn).to_string(),
                    account: arn_account(arn).to_string(),
                },
                Outside::Principal(arn) if arn.contains(":user/") => {
                    RequestPrincipal::User { arn: arn.clone() }
                }
                Outside::Principal(arn) => RequestPrincipal::Session {
                    role_arn: arn.clone(),
                    session_name: None,
                },
            },
        }
    }

    /// An outsider's verdict: the stand-in identity policy leaves the proof, and where the
    /// outsider's own account decides its identity side, the hop is at best conditional.
    fn outside_verdict(caller: &Prepared<'_>, mut verdict: Verdict) -> Verdict {
        let Caller::Outside(o) = caller.caller else {
            return verdict;
        };
        verdict.because.retain(|r| &*r.policy != NOT_IN_SNAPSHOT);
        if verdict.status == EdgeStatus::Denied {
            return verdict;
        }
        match &o.who {
            _ if o.identity_unknown() => verdict.conditional(format!(
                "account {} is not in the snapshot; its identity policies and SCPs must also allow",
                o.account().unwrap_or("?")
            )),
            Outside::AnyPrincipal | Outside::Organization(_) => verdict.note(
                "any account can allow this to its own principals; only this side is decided by the snapshot",
            ),
            _ => verdict,
        }
    }

    fn decide(
        &self,
        caller: &Prepared<'a>,
        request: &Request,
        resource_policy: Option<PolicyRef<'_>>,
        resource_service: &str,
        aws_managed_key: bool,
        diags: &mut Vec<Diagnostic>,
    ) -> Decision {
        let set = PolicySet {
            identity: caller
                .identity
                .iter()
                .map(|o| PolicyRef {
                    policy_type: PolicyType::Identity,
                    id: &o.id,
                    document: o.doc,
                })
                .collect(),
            resource: resource_policy,
            boundary: caller.boundary.as_ref().map(|o| PolicyRef {
                policy_type: PolicyType::Boundary,
                id: &o.id,
                document: o.doc,
            }),
            session: None,
            scps: caller.scps.as_deref().map(Cow::Borrowed),
            rcps: self.rcps(&request.resource_account, resource_service, aws_managed_key),
            aws_managed_key,
        };
        let mut decision = policy::evaluate(request, &set);
        diags.append(&mut decision.diagnostics);
        decision
    }

    /// Evaluates ECS assuming `role` for a task of `task_arn_prefix`'s account and region (R4.2).
    pub fn ecs_trust(
        &self,
        role_arn: &str,
        task_account: &str,
        task_region: &str,
        partition: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let request_text = || format!("{ECS_TASKS} → sts:AssumeRole on `{role_arn}`");
        let Some(role) = self.roles.get(role_arn) else {
            return self.role_not_in_snapshot(role_arn, &request_text());
        };
        if arn_account(role_arn) != task_account {
            return Verdict::denied(
                request_text(),
                None,
                format!(
                    "`{role_arn}` is in another account; ECS can only pass roles of the task's account"
                ),
            );
        }
        let Some(trust) = &role.trust else {
            return Self::no_trust(role_arn, request_text);
        };
        let mut ctx = context::ecs_service(task_account, task_region, partition);
        ctx.parents
            .push(self.resource_ctx(role_arn, arn_account(role_arn), Some(&role.tags)));
        let principal = RequestPrincipal::Service(ECS_TASKS.to_string());
        self.trust_decision(principal, ctx, role, trust, Vec::new(), request_text, diags)
    }

    /// Decides `principal` assuming `target` where only its trust policy, the RCPs of its account
    /// and the given identity policies bear on the request: service principals and principals
    /// outside the snapshot, which have no SCPs or boundary the snapshot knows.
    #[allow(
        clippy::too_many_arguments,
        reason = "the three trust-only hops differ in exactly these parts"
    )]
    fn trust_decision(
        &self,
        principal: RequestPrincipal,
        context: Context,
        target: &model::Role,
        trust: &PolicyDocument,
        identity: Vec<PolicyRef<'_>>,
        request_text: impl FnOnce() -> String,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let account = arn_account(&target.arn);
        let request = Request {
            principal,
            action: "sts:AssumeRole".to_string(),
            resource: RequestResource::Arn(target.arn.clone()),
            resource_account: account.to_string(),
            context,
        };
        let set = PolicySet {
            identity,
            resource: Some(PolicyRef {
                policy_type: PolicyType::Trust,
                id: &target.arn,
                document: trust,
            }),
            rcps: self.rcps(account, "sts", false),
            ..PolicySet::default()
        };
        let mut decision = policy::evaluate(&request, &set);
        diags.append(&mut decision.diagnostics);
        Verdict::from_decision(decision, request_text, &target.arn)
    }

    /// A role without a trust policy in the snapshot cannot be assumed.
    fn no_trust(target: &str, request_text: impl FnOnce() -> String) -> Verdict {
        Verdict::denied(
            request_text(),
            None,
            format!("`{target}` has no trust policy in the snapshot"),
        )
    }

    fn role_not_in_snapshot(&self, role_arn: &str, request_text: &str) -> Verdict {
        let account = arn_account(role_arn);
        match self.accounts.get(account) {
            Some(a) if a.iam.is_some() => Verdict::denied(
                request_text.to_string(),
                None,
                format!("role `{role_arn}` does not exist in account {account}"),
            ),
            _ => Verdict { status: EdgeStatus::Conditional, ..Verdict::allowed() }
                .note(format!("IAM of account {account} is not in the snapshot; the trust policy of `{role_arn}` is unknown")),
        }
    }

    /// Evaluates `caller` assuming `target` (R5.1): the trust policy and the caller's identity side.
    pub fn assume(
        &self,
        caller: &Prepared<'a>,
        target: &'a model::Role,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let request_text = || format!("`{}` → sts:AssumeRole on `{}`", caller.id(), target.arn);
        let Some(trust) = &target.trust else {
            return Self::no_trust(&target.arn, request_text);
        };
        if !caller.caller.in_partition(arn_partition(&target.arn)) {
            return Verdict::denied(
                request_text(),
                None,
                "roles cannot be assumed across partitions".to_string(),
            );
        }
        // Federated callers sign in with their own actions (R7.2).
        let action = match caller.caller {
            Caller::Outside(Outsider {
                who: Outside::Federated { provider, .. },
                ..
            }) if provider.contains(":saml-provider/") => "sts:AssumeRoleWithSAML",
            Caller::Outside(Outsider {
                who: Outside::Federated { .. },
                ..
            }) => "sts:AssumeRoleWithWebIdentity",
            _ => "sts:AssumeRole",
        };
        let ctx = Context::layered(
            ContextValue::Unknown,
            vec![
                self.shared.no_source.clone(),
                caller.context.clone(),
                self.resource_ctx(&target.arn, arn_account(&target.arn), Some(&target.tags)),
            ],
        );
        let request = Request {
            principal: Self::principal_of(caller),
            action: action.to_string(),
            resource: RequestResource::Arn(target.arn.clone()),
            resource_account: arn_account(&target.arn).to_string(),
            context: ctx,
        };
        let trust_ref = PolicyRef {
            policy_type: PolicyType::Trust,
            id: &target.arn,
            document: trust,
        };
        let decision = self.decide(caller, &request, Some(trust_ref), "sts", false, diags);
        Self::outside_verdict(
            caller,
            Verdict::from_decision(decision, request_text, &target.arn),
        )
    }

    /// Evaluates a service principal (other than ECS) assuming `target`: only the trust policy
    /// and the RCPs of the role's account decide.
    pub fn service_assume(
        &self,
        service: &str,
        target: &'a model::Role,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let request_text = || format!("{service} → sts:AssumeRole on `{}`", target.arn);
        let Some(trust) = &target.trust else {
            return Self::no_trust(&target.arn, request_text);
        };
        let mut ctx = context::base();
        ctx.set(
            "aws:PrincipalIsAWSService",
            ContextValue::Single("true".to_string()),
        );
        ctx.set(
            "aws:PrincipalServiceName",
            ContextValue::Single(service.to_string()),
        );
        ctx.set("aws:PrincipalArn", ContextValue::Absent);
        ctx.set("aws:PrincipalAccount", ContextValue::Absent);
        ctx.set("aws:PrincipalOrgID", ContextValue::Absent);
        ctx.set("sts:ExternalId", ContextValue::Absent);
        self.resource_context(&mut ctx, arn_account(&target.arn), Some(&target.tags));
        let principal = RequestPrincipal::Service(service.to_string());
        self.trust_decision(
            principal,
            ctx,
            target,
            trust,
            Vec::new(),
            request_text,
            diags,
        )
    }

    /// The actions evaluated on a resource of this kind when none are given.
    pub fn default_actions(kind: NodeKind) -> &'static [&'static str] {
        match kind {
            NodeKind::Secret => &["secretsmanager:GetSecretValue"],
            NodeKind::SsmParameter => &["ssm:GetParameter", "ssm:GetParameters"],
            NodeKind::KmsKey => &["kms:Decrypt"],
            NodeKind::EcrRepository => &["ecr:BatchGetImage"],
            NodeKind::S3Bucket => &["s3:GetObject"],
            NodeKind::LogGroup => &["logs:GetLogEvents", "logs:FilterLogEvents"],
            _ => &[],
        }
    }

    /// The service prefix of a resource kind's actions.
    pub fn service_of(kind: NodeKind) -> &'static str {
        match kind {
            NodeKind::Secret => "secretsmanager",
            NodeKind::SsmParameter => "ssm",
            NodeKind::KmsKey => "kms",
            NodeKind::EcrRepository => "ecr",
            NodeKind::S3Bucket => "s3",
            NodeKind::LogGroup => "logs",
            _ => "",
        }
    }

    /// The request resource for an action on a resource (S3 objects and log streams are "some
    /// resource under" the bucket or group).
    fn request_resource(resource: &ResourceInfo<'_>, action: &str) -> RequestResource {
        let name = action.split_once(':').map_or(action, |(_, n)| n);
        match resource.kind {
            // Actions match whatever their case (R1.2): `s3:getobject` reads objects too.
            NodeKind::S3Bucket if name.to_ascii_lowercase().contains("object") => {
                RequestResource::Under(format!("{}/", resource.id))
            }
            NodeKind::LogGroup
                if name.eq_ignore_ascii_case("GetLogEvents")
                    || name.eq_ignore_ascii_case("GetLogRecord") =>
            {
                RequestResource::Under(format!("{}:log-stream:", resource.id))
            }
            NodeKind::LogGroup => RequestResource::Arn(format!("{}:*", resource.id)),
            _ => RequestResource::Arn(resource.id.clone()),
        }
    }

    /// Evaluates `caller` acting on `resource` with each of `actions`; the hop allows the actions
    /// that are allowed. Reading a value under a customer-managed key also needs `kms:Decrypt`
    /// through the owning service (R4.4).
    pub fn access(
        &self,
        caller: &Prepared<'a>,
        resource: &ResourceInfo<'a>,
        actions: &[String],
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let mut result: Option<Verdict> = None;
        for action in actions {
            let v = self.access_one(caller, resource, action, diags);
            let v = if v.status != EdgeStatus::Denied {
                Verdict {
                    actions: vec![action.clone()],
                    ..v
                }
            } else {
                v
            };
            result = Some(match result {
                None => v,
                Some(prev) => prev.or(v),
            });
        }
        let verdict = result.unwrap_or_else(|| {
            Verdict::denied(
                format!("`{}` → (no action) on `{}`", caller.id(), resource.id),
                None,
                "no queried action applies to this resource type".to_string(),
            )
        });
        Self::outside_verdict(caller, verdict)
    }

    fn access_one(
        &self,
        caller: &Prepared<'a>,
        resource: &ResourceInfo<'a>,
        action: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let request_text = || format!("`{}` → {action} on `{}`", caller.id(), resource.id);
        if !caller.caller.in_partition(&resource.partition) {
            return Verdict::denied(
                request_text(),
                None,
                "access never crosses partitions".to_string(),
            );
        }
        let mut ctx = Context::layered(
            ContextValue::Unknown,
            vec![
                self.direct(&resource.region),
                caller.context.clone(),
                self.resource_ctx(&resource.id, &resource.account, resource.tags),
            ],
        );
        if resource.kind == NodeKind::KmsKey {
            let account = caller.caller.account();
            ctx.set(
                "kms:CallerAccount",
                if account.is_empty() {
                    ContextValue::Unknown
                } else {
                    ContextValue::Single(account.to_string())
                },
            );
            ctx.set("kms:ViaService", ContextValue::Absent);
        }
        let request = Request {
            principal: Self::principal_of(caller),
            action: action.to_string(),
            resource: Self::request_resource(resource, action),
            resource_account: resource.account.clone(),
            context: ctx,
        };
        let policy_type = if resource.kind == NodeKind::KmsKey {
            PolicyType::Key
        } else {
            PolicyType::Resource
        };
        // A bucket's public ACL grants are weighed with its policy.
        let merged: Option<PolicyDocument> = resource.acl.as_ref().map(|acl| {
            let mut doc = resource.policy.cloned().unwrap_or(PolicyDocument {
                version: Some("2012-10-17".to_string()),
                statements: Vec::new(),
            });
            doc.statements.extend(acl.statements.iter().cloned());
            doc
        });
        let resource_ref = merged.as_ref().or(resource.policy).map(|doc| PolicyRef {
            policy_type,
            id: &resource.id,
            document: doc,
        });
        let service = Self::service_of(resource.kind);
        let decision = self.decide(
            caller,
            &request,
            resource_ref,
            service,
            resource.aws_managed_key,
            diags,
        );
        let mut verdict = Verdict::from_decision(decision, request_text, &resource.id);
        verdict = self.unknown_resource_policy(verdict, caller, resource);
        if verdict.status == EdgeStatus::Denied {
            return verdict;
        }
        if resource.kind == NodeKind::S3Bucket {
            verdict = self.public_access_block(verdict, caller, resource, request_text);
            if verdict.status == EdgeStatus::Denied {
                return verdict;
            }
        }
        let reads_value = matches!(
            (resource.kind, action.to_ascii_lowercase().as_str()),
            (NodeKind::Secret, "secretsmanager:getsecretvalue")
                | (
                    NodeKind::SsmParameter,
                    "ssm:getparameter" | "ssm:getparameters" | "ssm:getparametersbypath"
                )
                | (NodeKind::S3Bucket, "s3:getobject" | "s3:getobjectversion")
        );
        if reads_value {
            if let Some(key) = &resource.encryption_key {
                verdict = verdict.and(self.decrypt_via(caller, resource, key, diags));
            }
        }
        verdict
    }

    /// S3 Block Public Access (`RestrictPublicBuckets`, of the account or the bucket): a bucket
    /// whose policy is public serves only AWS service principals and principals of its own
    /// account. Where the settings were not collected, the hop keeps a note.
    fn public_access_block(
        &self,
        verdict: Verdict,
        caller: &Prepared<'_>,
        resource: &ResourceInfo<'_>,
        request_text: impl FnOnce() -> String,
    ) -> Verdict {
        let Some(bucket) = resource.bucket else {
            return verdict;
        };
        if !bucket.policy.as_ref().is_some_and(policy_is_public)
            || caller.caller.account() == resource.account
        {
            return verdict;
        }
        let account_block = self
            .accounts
            .get(resource.account.as_str())
            .and_then(|a| a.s3_public_access_block);
        let restricts = |b: Option<model::PublicAccessBlock>| b.map(|b| b.restrict_public_buckets);
        match (restricts(account_block), restricts(bucket.public_access_block)) {
            (Some(true), _) | (_, Some(true)) => {
                let level = if account_block.is_some_and(|b| b.restrict_public_buckets) {
                    format!("account {}", resource.account)
                } else {
                    format!("bucket `{}`", resource.label)
                };
                Verdict::denied(
                    request_text(),
                    None,
                    format!("S3 Block Public Access (RestrictPublicBuckets, set on {level}) limits this bucket, whose policy is public, to AWS services and its own account"),
                )
            }
            (Some(false), Some(false)) => verdict,
            _ => verdict.note(format!(
                "the Block Public Access settings of `{}` or of account {} were not collected; RestrictPublicBuckets would limit this public bucket to its own account",
                resource.label, resource.account
            )),
        }
    }

    /// A resource the snapshot does not hold has an unknown policy: where that policy could be
    /// the missing side, the hop is conditional rather than denied.
    fn unknown_resource_policy(
        &self,
        verdict: Verdict,
        caller: &Prepared<'_>,
        resource: &ResourceInfo<'_>,
    ) -> Verdict {
        if !resource.policy_unknown() {
            return verdict;
        }
        let what = if resource.in_snapshot {
            format!("the key policy of `{}` is not in the snapshot", resource.id)
        } else {
            format!("`{}` is not in the snapshot", resource.id)
        };
        let missing_resource_side = matches!(
            verdict.blocked.as_ref().and_then(|b| b.blocker.as_ref()),
            Some(Blocker::ResourceMissingAllow { .. } | Blocker::KeyPolicyMissing)
        );
        if missing_resource_side {
            return Verdict {
                status: EdgeStatus::Conditional,
                blocked: None,
                ..Verdict::allowed()
            }
            .note(format!(
                "{what}; access from `{}` depends on its policy",
                caller.id()
            ));
        }
        if verdict.status == EdgeStatus::Denied {
            return verdict;
        }
        if resource.kind == NodeKind::KmsKey {
            // A key policy must always allow (R2.7): without it the access is only possible.
            return verdict.conditional(format!("{what}; it must allow the caller"));
        }
        verdict.note(format!("{what}; its policy could still deny"))
    }

    /// `kms:Decrypt` on the key of a secret, a SecureString parameter or the objects of an SSE-KMS
    /// bucket, called through the service.
    fn decrypt_via(
        &self,
        caller: &Prepared<'a>,
        value: &ResourceInfo<'_>,
        key: &KeyRef,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let caller_account = caller.caller.account();
        let service = Self::service_of(value.kind);
        if matches!(caller.caller, Caller::Outside(o) if o.who == Outside::Anonymous) {
            // S3 serves objects under SSE-KMS only to requests signed with Signature Version 4,
            // whatever the key policy says (R7.1).
            return Verdict::denied(
                format!(
                    "`{}` → kms:Decrypt on the key of `{}` via {service}",
                    caller.id(),
                    value.id
                ),
                None,
                format!(
                    "objects under SSE-KMS are served only to signed requests (Signature Version 4), so no unsigned request reads `{}`",
                    value.id
                ),
            );
        }
        match key {
            KeyRef::AwsManaged => {
                if caller_account != value.account {
                    return Verdict::denied(
                        format!(
                            "`{}` → kms:Decrypt on aws/{service} of account {}",
                            caller.id(),
                            value.account
                        ),
                        Some(Blocker::AwsManagedKeyCrossAccount),
                        format!(
                            "`{}` uses the AWS-managed key aws/{service}, which no other account can use",
                            value.id
                        ),
                    );
                }
                Verdict::allowed()
            }
            KeyRef::Unresolved(reference) => Verdict::allowed().conditional(format!(
                "KMS key `{reference}` of `{}` is not in the snapshot",
                value.id
            )),
            KeyRef::Unknown => Verdict::allowed().conditional(format!(
                "`{}` is not in the snapshot, so the KMS key that encrypts it is unknown; a customer-managed key's policy must also allow",
                value.id
            )),
            KeyRef::Key(key_arn) => {
                let Some(info) = self.resources.get(key_arn) else {
                    return Verdict::allowed()
                        .conditional(format!("KMS key `{key_arn}` is not in the snapshot"));
                };
                if info.aws_managed_key && caller_account == info.account && info.policy.is_none() {
                    return Verdict::allowed();
                }
                let request_text = || {
                    format!(
                        "`{}` → kms:Decrypt on `{key_arn}` via {service}",
                        caller.id()
                    )
                };
                let mut ctx = Context::layered(
                    ContextValue::Unknown,
                    vec![
                        caller.context.clone(),
                        self.resource_ctx(&info.id, &info.account, info.tags),
                    ],
                );
                // A bucket's region may be unknown; its SSE-KMS key is in the bucket's region,
                // where S3 calls KMS, and a key's region is always known.
                let region = if value.region.is_empty() {
                    &info.region
                } else {
                    &value.region
                };
                context::via_service(&mut ctx, service, region, caller_account);
                match value.kind {
                    NodeKind::Secret => ctx.set(
                        "kms:EncryptionContext:SecretARN",
                        ContextValue::Single(value.id.clone()),
                    ),
                    NodeKind::S3Bucket => ctx.set(
                        "kms:EncryptionContext:aws:s3:arn",
                        ContextValue::Prefix(value.id.clone()),
                    ),
                    _ => ctx.set(
                        "kms:EncryptionContext:PARAMETER_ARN",
                        ContextValue::Single(value.id.clone()),
                    ),
                };
                let request = Request {
                    principal: Self::principal_of(caller),
                    action: "kms:Decrypt".to_string(),
                    resource: RequestResource::Arn(key_arn.clone()),
                    resource_account: info.account.clone(),
                    context: ctx,
                };
                let key_ref = info.policy.map(|doc| PolicyRef {
                    policy_type: PolicyType::Key,
                    id: &info.id,
                    document: doc,
                });
                if key_ref.is_none() {
                    return Verdict::allowed().conditional(format!(
                        "the key policy of `{key_arn}` is not in the snapshot"
                    ));
                }
                let decision = self.decide(
                    caller,
                    &request,
                    key_ref,
                    "kms",
                    info.aws_managed_key,
                    diags,
                );
                Verdict::from_decision(decision, request_text, key_arn)
                    .note_if_allowed("KMS grants are not modelled; a grant could allow more")
            }
        }
    }

    /// The injection of a value into a container by the execution role (agent plane, R4.3).
    ///
    /// The agent calls `secretsmanager:GetSecretValue` on a secret or `ssm:GetParameters` on a
    /// parameter, and `kms:Decrypt` through that service for a value under a customer-managed
    /// key. A secret read through Parameter Store (`via`, the `/aws/reference/secretsmanager/…`
    /// parameter) needs both `ssm:GetParameters` on that parameter and
    /// `secretsmanager:GetSecretValue` on the secret. The verdict's actions are the ones the agent
    /// performs.
    #[allow(
        clippy::too_many_arguments,
        reason = "a task's place (account, region, partition) and the reference's two resources"
    )]
    pub fn inject(
        &self,
        execution_role: Option<&str>,
        task_account: &str,
        task_region: &str,
        partition: &str,
        resource: &ResourceInfo<'a>,
        via: Option<&ResourceInfo<'a>>,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let action = match resource.kind {
            NodeKind::SsmParameter => "ssm:GetParameters",
            _ => "secretsmanager:GetSecretValue",
        };
        let Some(exec) = execution_role else {
            return Verdict::denied(
                format!("ECS agent → {action} on `{}`", resource.id),
                None,
                "the task definition has no execution role, so the agent cannot fetch the value"
                    .to_string(),
            );
        };
        let trust = self.ecs_trust(exec, task_account, task_region, partition, diags);
        if trust.status == EdgeStatus::Denied {
            return trust;
        }
        let Some(role) = self.roles.get(exec) else {
            return trust;
        };
        let caller = self.prepare(Caller::Role(role));
        let mut verdict = trust;
        if let Some(parameter) = via {
            verdict = verdict.and(self.access(
                &caller,
                parameter,
                &["ssm:GetParameters".to_string()],
                diags,
            ));
        }
        verdict = verdict.and(self.access(&caller, resource, &[action.to_string()], diags));
        if verdict.status != EdgeStatus::Denied {
            let decrypts = match &resource.encryption_key {
                Some(KeyRef::Key(arn)) => self
                    .resources
                    .get(arn)
                    .is_none_or(|key| !key.aws_managed_key),
                Some(KeyRef::Unresolved(_)) => true,
                Some(KeyRef::AwsManaged | KeyRef::Unknown) | None => false,
            };
            if decrypts {
                verdict.actions.push("kms:Decrypt".to_string());
            }
            verdict.normalize();
        }
        verdict
    }

    /// A value that a task definition names but that does not exist: the snapshot lists the
    /// secrets (or parameters) of its account and region, and it is not among them. ECS cannot
    /// fetch it, so the task fails to start.
    pub fn inject_not_found(&self, resource: &ResourceInfo<'_>) -> Verdict {
        let what = if resource.kind == NodeKind::SsmParameter {
            "parameter"
        } else {
            "secret"
        };
        Verdict::denied(
            format!("ECS agent → fetch the {what} `{}`", resource.id),
            Some(Blocker::NotFound {
                resource: resource.id.clone(),
            }),
            format!(
                "the {what} does not exist: account {} lists its {what}s in {} and this one is not among them, so ECS cannot start the task",
                resource.account, resource.region
            ),
        )
    }

    /// The image pull of a container by the execution role (agent plane, R4.3).
    pub fn pull(
        &self,
        execution_role: Option<&str>,
        task_account: &str,
        task_region: &str,
        partition: &str,
        repository: &ResourceInfo<'a>,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let Some(exec) = execution_role else {
            return Verdict::denied(
                format!("ECS agent → ecr:BatchGetImage on `{}`", repository.id),
                None,
                "the task definition has no execution role; on EC2 the container instance role pulls images".to_string(),
            );
        };
        let trust = self.ecs_trust(exec, task_account, task_region, partition, diags);
        if trust.status == EdgeStatus::Denied {
            return trust;
        }
        let Some(role) = self.roles.get(exec) else {
            return trust;
        };
        let caller = &self.prepare(Caller::Role(role));
        // GetAuthorizationToken is wildcard-only and only an identity policy can grant it.
        let token_text = format!("`{exec}` → ecr:GetAuthorizationToken on `*`");
        let ctx = Context::layered(
            ContextValue::Unknown,
            vec![self.direct(&repository.region), caller.context.clone()],
        );
        let request = Request {
            principal: Self::principal_of(caller),
            action: "ecr:GetAuthorizationToken".to_string(),
            resource: RequestResource::Any,
            resource_account: arn_account(exec).to_string(),
            context: ctx,
        };
        let decision = self.decide(caller, &request, None, "ecr", false, diags);
        let token = Verdict::from_decision(decision, || token_text, "*");
        let mut verdict = trust.and(token);
        for action in ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] {
            verdict = verdict.and(self.access_one(caller, repository, action, diags));
        }
        if verdict.status != EdgeStatus::Denied {
            verdict.actions = vec![
                "ecr:BatchGetImage".to_string(),
                "ecr:GetDownloadUrlForLayer".to_string(),
            ];
        }
        verdict
    }

    /// Resolves and evaluates one reference a container makes to a secret or parameter
    /// (`secrets[]`, `logConfiguration.secretOptions[]`, `repositoryCredentials`): the node it
    /// names, and whether the agent can inject it. The graph builder and `explain` both ask this,
    /// so they decide injections the same way. `None` when the reference cannot be read; a
    /// warning naming its JSON path goes to `diags`.
    #[allow(
        clippy::too_many_arguments,
        reason = "the task's place (account, region, partition) and the reference's own parts"
    )]
    pub fn injection(
        &self,
        td: &model::TaskDefinition,
        container: &str,
        reference: &model::SecretRef,
        is_registry_credentials: bool,
        account: &str,
        region: &str,
        partition: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<(ResourceInfo<'a>, Verdict)> {
        let warn = |diags: &mut Vec<Diagnostic>, code: &'static str, message: String| {
            diags.push(Diagnostic::warning(
                code,
                container.to_string(),
                format!("`{}`: {message}", reference.field),
            ));
        };
        let parsed = match super::ecs::parse_value_from(&reference.value_from) {
            Ok(p) => p,
            Err(message) => {
                warn(
                    diags,
                    "bad-value-from",
                    format!("{message}; this reference is not analysed"),
                );
                return None;
            }
        };
        // A secret by ARN (full or partial), resolved against the snapshot's secrets.
        let secret = |arn: &str, diags: &mut Vec<Diagnostic>| match self.lookup_secret(arn) {
            Ok(Some(r)) => Some((r.clone(), true)),
            Ok(None) => self.placeholder(arn).map(|p| (p, false)),
            Err(candidates) => {
                warn(
                    diags,
                    "ambiguous-secret",
                    format!("`{arn}` matches several secrets: {}", candidates.join(", ")),
                );
                self.placeholder(arn).map(|p| (p, false))
            }
        };
        let parameter = |arn: &str| match self.resources.get(arn) {
            Some(r) => Some((r.clone(), true)),
            None => self.placeholder(arn).map(|p| (p, false)),
        };
        let mut via = None;
        let found = match parsed {
            ValueFrom::Secret { arn, .. } => secret(&arn, diags),
            ValueFrom::Name(name) if is_registry_credentials => secret(
                &format!("arn:{partition}:secretsmanager:{region}:{account}:secret:{name}"),
                diags,
            ),
            ValueFrom::Name(name) => {
                parameter(&ssm_parameter_arn(partition, region, account, &name))
            }
            ValueFrom::ParameterArn(arn) => parameter(&arn),
            ValueFrom::SecretReference {
                parameter,
                secret_id,
            } => {
                // The reference parameter lives where the parameter is named: the task's account
                // and region for a name, the ARN's otherwise; the secret is in that place too.
                let (p_partition, p_region, p_account) = match Arn::parse(&parameter) {
                    Ok(arn) => (arn.partition, arn.region, arn.account),
                    Err(_) => (
                        partition.to_string(),
                        region.to_string(),
                        account.to_string(),
                    ),
                };
                let parameter_arn = if parameter.starts_with("arn:") {
                    parameter.clone()
                } else {
                    ssm_parameter_arn(&p_partition, &p_region, &p_account, &parameter)
                };
                via = Some(ResourceInfo {
                    id: parameter_arn,
                    kind: NodeKind::SsmParameter,
                    account: p_account.clone(),
                    region: p_region.clone(),
                    partition: p_partition.clone(),
                    label: parameter.clone(),
                    policy: None,
                    // Parameter Store serves it for every secret; it has no policy of its own.
                    in_snapshot: true,
                    tags: None,
                    encryption_key: None,
                    aws_managed_key: false,
                    bucket: None,
                    acl: None,
                });
                let secret_arn = if secret_id.starts_with("arn:") {
                    secret_id
                } else {
                    format!(
                        "arn:{p_partition}:secretsmanager:{p_region}:{p_account}:secret:{secret_id}"
                    )
                };
                secret(&secret_arn, diags)
            }
        };
        let Some((resource, in_snapshot)) = found else {
            warn(
                diags,
                "bad-value-from",
                format!(
                    "`{}` does not name a secret or parameter rolechain can place; this reference is not analysed",
                    reference.value_from
                ),
            );
            return None;
        };
        if !in_snapshot && self.collected(resource.kind, &resource.account, &resource.region) {
            let verdict = self.inject_not_found(&resource);
            return Some((resource, verdict));
        }
        let verdict = self.inject(
            td.execution_role_arn.as_deref(),
            account,
            region,
            partition,
            &resource,
            via.as_ref(),
            diags,
        );
        Some((resource, verdict))
    }

    /// Resolves and evaluates a container's image pull: the ECR repository its image names and
    /// whether the execution role can pull from it. `None` for images outside ECR, and for images
    /// that look like ECR but cannot be read (with a warning naming the JSON path).
    #[allow(
        clippy::too_many_arguments,
        reason = "the task's place (account, region, partition) and the container's own parts"
    )]
    pub fn image_pull(
        &self,
        td: &model::TaskDefinition,
        container_id: &str,
        container: &model::ContainerDefinition,
        account: &str,
        region: &str,
        partition: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<(ResourceInfo<'a>, Verdict)> {
        let image = container.image.as_deref()?;
        let repo_arn = match super::ecs::parse_image_repository(image) {
            Ok(Some(arn)) => arn,
            Ok(None) => return None,
            Err(message) => {
                diags.push(Diagnostic::warning(
                    "bad-image",
                    container_id.to_string(),
                    format!(
                        "`containerDefinitions[{}].image`: {message}; its pull is not analysed",
                        container.index
                    ),
                ));
                return None;
            }
        };
        let resource = match self.resources.get(&repo_arn) {
            Some(r) => r.clone(),
            None => self.placeholder(&repo_arn)?,
        };
        let mut verdict = self.pull(
            td.execution_role_arn.as_deref(),
            account,
            region,
            partition,
            &resource,
            diags,
        );
        if !resource.in_snapshot
            && verdict.status != EdgeStatus::Denied
            && self.collected(resource.kind, &resource.account, &resource.region)
        {
            verdict = verdict.note(format!(
                "account {} lists its repositories in {} and `{}` is not among them; only a pull-through cache rule, which creates it on first pull, would let the task start",
                resource.account, resource.region, resource.label
            ));
        }
        Some((resource, verdict))
    }

    /// Finds a resource node for a reference a task definition or policy makes, resolving partial
    /// secret ARNs (without the random suffix) and SSM names.
    pub fn lookup_secret(&self, arn: &str) -> Result<Option<&ResourceInfo<'a>>, Vec<String>> {
        if let Some(r) = self.resources.get(arn) {
            return Ok(Some(r));
        }
        // A partial ARN resolves only when it names exactly one secret (R4.4).
        let prefix = format!("{arn}-");
        let matches: Vec<&ResourceInfo<'a>> = self
            .resources
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, v)| v)
            .filter(|r| r.kind == NodeKind::Secret && r.id.len() == prefix.len() + 6)
            .collect();
        match matches.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            many => Err(many.iter().map(|r| r.id.clone()).collect()),
        }
    }

    /// True when the snapshot holds the list of resources of this kind for that account and
    /// region, so a resource missing from it does not exist.
    pub fn collected(&self, kind: NodeKind, account: &str, region: &str) -> bool {
        let Some(a) = self.accounts.get(account) else {
            return false;
        };
        if kind == NodeKind::S3Bucket {
            return a.s3_buckets.is_some();
        }
        let Some(r) = a.regions.get(region) else {
            return false;
        };
        match kind {
            NodeKind::Secret => r.secrets.is_some(),
            NodeKind::SsmParameter => r.ssm_parameters.is_some(),
            NodeKind::KmsKey => r.kms_keys.is_some(),
            NodeKind::EcrRepository => r.ecr_repositories.is_some(),
            NodeKind::LogGroup => r.log_groups.is_some(),
            _ => false,
        }
    }

    /// A placeholder for a resource that is named but not in the snapshot.
    pub fn placeholder(&self, id: &str) -> Option<ResourceInfo<'a>> {
        let arn = Arn::parse(id).ok()?;
        let (kind, label) = match (arn.service.as_str(), arn.resource_type()) {
            ("secretsmanager", "secret") => (NodeKind::Secret, arn.resource_name().to_string()),
            ("ssm", "parameter") => (NodeKind::SsmParameter, format!("/{}", arn.resource_name())),
            ("kms", "key") => (NodeKind::KmsKey, arn.resource.clone()),
            ("ecr", "repository") => (NodeKind::EcrRepository, arn.resource_name().to_string()),
            ("s3", _) if !arn.resource.contains('/') => (NodeKind::S3Bucket, arn.resource.clone()),
            ("logs", "log-group") => (NodeKind::LogGroup, arn.resource_name().to_string()),
            _ => return None,
        };
        if arn.resource.contains(['*', '?'])
            || (kind != NodeKind::S3Bucket && arn.account.is_empty())
        {
            return None;
        }
        let encryption_key = match kind {
            NodeKind::Secret => Some(KeyRef::Unknown),
            _ => None,
        };
        Some(ResourceInfo {
            id: id.to_string(),
            kind,
            account: arn.account.clone(),
            region: arn.region.clone(),
            partition: arn.partition.clone(),
            label,
            policy: None,
            in_snapshot: false,
            tags: None,
            encryption_key,
            aws_managed_key: false,
            bucket: None,
            acl: None,
        })
    }
}

impl Verdict {
    fn note_if_allowed(self, note: &str) -> Verdict {
        if self.status == EdgeStatus::Denied {
            self
        } else {
            self.note(note)
        }
    }
}

fn org_levels<'a>(levels: &[Level<'a>], policy_type: PolicyType) -> Vec<OrgLevel<'a>> {
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

/// The public grants of a bucket ACL as Allow statements, so the evaluator weighs them with the
/// bucket policy (explicit denies and RCPs still apply). `AllUsers` is `"*"` (anonymous
/// included); `AuthenticatedUsers` is any signed principal. A bucket ACL's `READ` lists the
/// bucket; reading objects depends on each object's own ACL, which is not collected, so
/// `s3:GetObject` is granted only under the open condition `rolechain:ObjectAclIsPublic`.
fn acl_statements(bucket: &str, grants: &[model::PublicGrant]) -> PolicyDocument {
    let mut statements = Vec::new();
    for g in grants {
        let (who, principal, condition) = match g.grantee {
            model::PublicGrantee::AllUsers => ("AllUsers", model::Principal::Wildcard, Vec::new()),
            model::PublicGrantee::AuthenticatedUsers => (
                "AuthenticatedUsers",
                model::Principal::Map(BTreeMap::from([("AWS".to_string(), vec!["*".to_string()])])),
                vec![model::ConditionClause {
                    operator: "Null".to_string(),
                    key: "aws:PrincipalIsAWSService".to_string(),
                    values: vec!["false".to_string()],
                }],
            ),
        };
        let (bucket_actions, object_actions): (&[&str], &[&str]) = match g.permission.as_str() {
            "READ" => (
                &[
                    "s3:ListBucket",
                    "s3:ListBucketVersions",
                    "s3:ListBucketMultipartUploads",
                ],
                &[],
            ),
            "WRITE" => (&[], &["s3:PutObject", "s3:DeleteObject"]),
            "READ_ACP" => (&["s3:GetBucketAcl"], &[]),
            "WRITE_ACP" => (&["s3:PutBucketAcl"], &[]),
            "FULL_CONTROL" => (
                &[
                    "s3:ListBucket",
                    "s3:ListBucketVersions",
                    "s3:ListBucketMultipartUploads",
                    "s3:GetBucketAcl",
                    "s3:PutBucketAcl",
                ],
                &["s3:PutObject", "s3:DeleteObject"],
            ),
            _ => (&[], &[]),
        };
        let sid = format!("acl:{who}:{}", g.permission);
        let statement = |actions: &[&str],
                         resource: String,
                         extra: Vec<model::ConditionClause>,
                         sid: String| model::Statement {
            sid: Some(sid),
            index: 0,
            effect: model::Effect::Allow,
            principal: Some(principal.clone()),
            not_principal: None,
            action: Some(actions.iter().map(|a| a.to_string()).collect()),
            not_action: None,
            resource: Some(vec![resource]),
            not_resource: None,
            condition: [condition.clone(), extra].concat(),
        };
        if !bucket_actions.is_empty() {
            statements.push(statement(
                bucket_actions,
                bucket.to_string(),
                Vec::new(),
                sid.clone(),
            ));
        }
        if !object_actions.is_empty() {
            statements.push(statement(
                object_actions,
                format!("{bucket}/*"),
                Vec::new(),
                format!("{sid}:objects"),
            ));
        }
        if matches!(g.permission.as_str(), "READ" | "FULL_CONTROL") {
            statements.push(statement(
                &["s3:GetObject"],
                format!("{bucket}/*"),
                vec![model::ConditionClause {
                    operator: "Bool".to_string(),
                    key: "rolechain:ObjectAclIsPublic".to_string(),
                    values: vec!["true".to_string()],
                }],
                format!("{sid}:objects-if-their-acl-is-public"),
            ));
        }
    }
    for (i, st) in statements.iter_mut().enumerate() {
        st.index = i;
    }
    PolicyDocument {
        version: Some("2012-10-17".to_string()),
        statements,
    }
}

/// Condition keys whose fixed values make a `"*"` statement of a bucket policy non-public, as S3
/// Block Public Access judges it.
const NON_PUBLIC_KEYS: &[&str] = &[
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalarn",
    "aws:userid",
    "aws:sourceip",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

/// True when a bucket policy is public, as S3 Block Public Access judges it: an Allow statement
/// grants to `"*"` without a fixed-value condition on a key that names who or where.
pub fn policy_is_public(doc: &PolicyDocument) -> bool {
    doc.statements.iter().any(|s| {
        let everyone = match &s.principal {
            Some(model::Principal::Wildcard) => true,
            Some(model::Principal::Map(m)) => {
                m.get("AWS").is_some_and(|v| v.iter().any(|p| p == "*"))
            }
            None => false,
        };
        s.effect == model::Effect::Allow
            && everyone
            && !s.condition.iter().any(|c| {
                let op = c.operator.to_ascii_lowercase();
                !op.contains("like")
                    && !op.contains("not")
                    && !c
                        .values
                        .iter()
                        .any(|v| v.contains('*') || v == "0.0.0.0/0" || v == "::/0")
                    && NON_PUBLIC_KEYS.contains(&c.key.to_ascii_lowercase().as_str())
            })
    })
}

#[cfg(test)]
mod tests;
