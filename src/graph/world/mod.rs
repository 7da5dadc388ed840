//! The indexed inventory: principals, resources, organization levels and request contexts.
//!
//! [`World`] borrows the inventory and indexes it once (linear in its size). It answers lookups;
//! the hop evaluators in [`super::hop`] decide requests against it.

mod builtin;
mod contexts;
mod org;
mod resources;
mod s3;
mod tasks;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use crate::graph::NodeKind;
use crate::model::{self, Diagnostic, Inventory, PolicyDocument};
use crate::policy::{Context, ContextValue, OrgLevel};

use crate::graph::outside::{Outside, Outsider};
pub(in crate::graph) use builtin::NOT_IN_SNAPSHOT;
use builtin::{ALLOW_ALL, KNOWN_AWS};
use s3::acl_statements;
pub use s3::policy_is_public;
use tasks::Tasks;
pub use tasks::{TaskPlace, container_id};

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
    pub(in crate::graph) fn account(&self) -> &'a str {
        match self {
            Caller::Outside(o) => o.account().unwrap_or(""),
            _ => arn_account(self.id()),
        }
    }

    /// True when the caller's partition is `partition` (or not fixed).
    pub(in crate::graph) fn in_partition(&self, partition: &str) -> bool {
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
    pub(in crate::graph) identity: Vec<Owned<'a>>,
    pub(in crate::graph) boundary: Option<Owned<'a>>,
    pub(in crate::graph) scps: Option<Arc<[OrgLevel<'a>]>>,
    pub(in crate::graph) context: Arc<Context>,
    /// What resolving it noticed: attached policies or groups missing from the snapshot.
    pub diagnostics: Vec<Diagnostic>,
}

impl<'a> Prepared<'a> {
    /// The caller's node id.
    pub fn id(&self) -> &'a str {
        self.caller.id()
    }

    /// The caller's identity policy documents.
    pub fn identity_documents(&self) -> impl Iterator<Item = &'a PolicyDocument> + Clone + '_ {
        self.identity.iter().map(|o| o.doc)
    }
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
    /// For ECR repositories: the repository, for its tag mutability.
    pub repository: Option<&'a model::EcrRepository>,
    /// For S3 buckets: the public grants of its ACL as Allow statements, when it has any and
    /// `IgnorePublicAcls` does not void them. They are evaluated with the bucket policy.
    pub acl: Option<Arc<PolicyDocument>>,
}

impl<'a> ResourceInfo<'a> {
    /// A resource the snapshot holds, with no tags, no encryption key and not AWS-managed.
    pub(in crate::graph) fn collected(
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
            repository: None,
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

/// A policy a principal carries, with the id proofs name it by.
pub(in crate::graph) struct Owned<'a> {
    pub(in crate::graph) id: String,
    pub(in crate::graph) doc: &'a PolicyDocument,
}

/// Contexts that many requests share, built once.
pub(in crate::graph) struct SharedContexts {
    /// `aws:SourceAccount` and `aws:SourceArn` absent: a principal calling with its own session.
    pub(in crate::graph) no_source: Arc<Context>,
    /// Per region: a direct call (no service in between, no source), with `aws:RequestedRegion`.
    pub(in crate::graph) direct: BTreeMap<String, Arc<Context>>,
    /// Per resource or role id: its account, organization and tags, built on first use.
    pub(in crate::graph) resources: BTreeMap<String, OnceLock<Arc<Context>>>,
}

/// The indexed inventory.
pub struct World<'a> {
    pub(in crate::graph) shared: SharedContexts,
    /// The inventory.
    pub inventory: &'a Inventory,
    /// Roles by ARN.
    pub roles: BTreeMap<&'a str, &'a model::Role>,
    /// Users by ARN.
    pub users: BTreeMap<&'a str, &'a model::User>,
    pub(in crate::graph) groups: BTreeMap<(&'a str, &'a str), &'a model::Group>,
    pub(in crate::graph) managed: BTreeMap<String, &'a PolicyDocument>,
    /// Accounts by id.
    pub accounts: BTreeMap<&'a str, &'a model::Account>,
    /// Resources by id, sorted.
    pub resources: BTreeMap<String, ResourceInfo<'a>>,
    pub(in crate::graph) tasks: Tasks<'a>,
    pub(in crate::graph) keys_by_id: BTreeMap<(String, String, String), String>,
    pub(in crate::graph) aliases: BTreeMap<(String, String, String), String>,
    pub(in crate::graph) scp_levels: BTreeMap<&'a str, Arc<[OrgLevel<'a>]>>,
    pub(in crate::graph) rcp_levels: BTreeMap<&'a str, Arc<[OrgLevel<'a>]>>,
    /// What indexing noticed.
    pub diagnostics: Vec<Diagnostic>,
}

/// The account of an ARN, empty when it has none.
pub(in crate::graph) fn arn_account(arn: &str) -> &str {
    model::arn::account_of(arn).unwrap_or("")
}

/// The partition of an ARN, `aws` when it is not one.
pub(in crate::graph) fn arn_partition(arn: &str) -> &str {
    model::arn::partition_of(arn).unwrap_or("aws")
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
            tasks: Tasks::index(inventory),
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

    /// The identity policies of a caller: inline, attached managed, and group policies.
    pub(in crate::graph) fn identity_policies(
        &self,
        caller: Caller<'a>,
    ) -> (Vec<Owned<'a>>, Vec<Diagnostic>) {
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

    pub(in crate::graph) fn managed_policy(&self, arn: &str) -> Option<&'a PolicyDocument> {
        if let Some(doc) = self.managed.get(arn) {
            return Some(doc);
        }
        KNOWN_AWS.iter().find(|(a, _)| *a == arn).map(|(_, d)| d)
    }

    pub(in crate::graph) fn boundary(&self, caller: Caller<'a>) -> Option<Owned<'a>> {
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

    /// Every principal of the snapshot that makes requests: its roles, then its users, each
    /// sorted by ARN.
    pub fn callers(&self) -> Vec<Caller<'a>> {
        let roles = self.roles.values().map(|r| Caller::Role(r));
        roles
            .chain(self.users.values().map(|u| Caller::User(u)))
            .collect()
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
}
