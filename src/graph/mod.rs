//! The access graph: ECS workloads, IAM principals and resources as nodes; structural, trust
//! and permission edges, each evaluated by [`crate::policy`] and carrying its proof.
//!
//! [`build()`] is the only constructor. Node and edge order is deterministic: nodes are inserted in
//! sorted id order and edges in sorted (from, to, kind) order, so every export of the same
//! inventory is byte-identical.

use std::collections::BTreeMap;
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};

use crate::model::Diagnostic;
use crate::policy::{OpenCondition, Reason};
use hop::Note;

pub mod attributes;
mod build;
pub mod context;
mod ecs;
mod escalation;
pub mod hop;
pub mod index;
pub mod kinds;
pub mod outside;
mod share;
pub mod world;

pub use attributes::Attributes;
pub use build::{BuildOptions, build, build_toward};
pub use ecs::{ReferenceError, ValueFrom, parse_image_repository, parse_value_from};
pub use outside::outsiders;
pub use outside::{ANONYMOUS, ANY_PRINCIPAL, Outside, Outsider};

/// What a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKind {
    /// An AWS account in the snapshot.
    Account,
    /// An ECS cluster.
    Cluster,
    /// An ECS service.
    Service,
    /// An ECS task definition revision.
    TaskDefinition,
    /// A container of a task definition.
    Container,
    /// An IAM role.
    Role,
    /// An IAM user.
    User,
    /// A service principal such as `ecs-tasks.amazonaws.com`.
    ServicePrincipal,
    /// An account outside the snapshot, named by a policy.
    ExternalAccount,
    /// Unsigned requests from anyone on the internet, where a policy or ACL admits them (S3).
    Anonymous,
    /// Any signed AWS principal of an account outside the snapshot's organization.
    AnyPrincipal,
    /// Any principal of an organization (or OU path) that a policy condition names.
    Organization,
    /// Tokens of an OIDC or SAML provider that a trust admits, narrowed by its conditions.
    Federated,
    /// A Secrets Manager secret.
    Secret,
    /// An SSM parameter.
    SsmParameter,
    /// A KMS key.
    KmsKey,
    /// An ECR repository.
    EcrRepository,
    /// An S3 bucket.
    S3Bucket,
    /// A CloudWatch Logs log group.
    LogGroup,
}

impl NodeKind {
    /// The contract name: `account`, `cluster`, `service`, `task-definition`, `container`,
    /// `role`, `user`, `service-principal`, `external-account`, `anonymous`, `any-principal`,
    /// `organization`, `federated`, `secret`, `ssm-parameter`, `kms-key`, `ecr-repository`,
    /// `s3-bucket`, `log-group`.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Account => "account",
            NodeKind::Cluster => "cluster",
            NodeKind::Service => "service",
            NodeKind::TaskDefinition => "task-definition",
            NodeKind::Container => "container",
            NodeKind::Role => "role",
            NodeKind::User => "user",
            NodeKind::ServicePrincipal => "service-principal",
            NodeKind::ExternalAccount => "external-account",
            NodeKind::Anonymous => "anonymous",
            NodeKind::AnyPrincipal => "any-principal",
            NodeKind::Organization => "organization",
            NodeKind::Federated => "federated",
            NodeKind::Secret => "secret",
            NodeKind::SsmParameter => "ssm-parameter",
            NodeKind::KmsKey => "kms-key",
            NodeKind::EcrRepository => "ecr-repository",
            NodeKind::S3Bucket => "s3-bucket",
            NodeKind::LogGroup => "log-group",
        }
    }

    /// Every kind, in display order.
    pub const ALL: [NodeKind; 19] = [
        NodeKind::Account,
        NodeKind::Cluster,
        NodeKind::Service,
        NodeKind::TaskDefinition,
        NodeKind::Container,
        NodeKind::Role,
        NodeKind::User,
        NodeKind::ServicePrincipal,
        NodeKind::ExternalAccount,
        NodeKind::Anonymous,
        NodeKind::AnyPrincipal,
        NodeKind::Organization,
        NodeKind::Federated,
        NodeKind::Secret,
        NodeKind::SsmParameter,
        NodeKind::KmsKey,
        NodeKind::EcrRepository,
        NodeKind::S3Bucket,
        NodeKind::LogGroup,
    ];

    /// True for sources outside the snapshot that no account of it holds: anonymous, any
    /// principal, organizations, federated providers and external accounts.
    pub fn is_outside(self) -> bool {
        matches!(
            self,
            NodeKind::Anonymous
                | NodeKind::AnyPrincipal
                | NodeKind::Organization
                | NodeKind::Federated
                | NodeKind::ExternalAccount
        )
    }

    /// True for resources: secrets, parameters, keys, repositories, buckets and log groups.
    pub fn is_resource(self) -> bool {
        matches!(
            self,
            NodeKind::Secret
                | NodeKind::SsmParameter
                | NodeKind::KmsKey
                | NodeKind::EcrRepository
                | NodeKind::S3Bucket
                | NodeKind::LogGroup
        )
    }
}

/// A node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The node id (SNAPSHOT-V1 §2).
    pub id: String,
    /// What it is.
    pub kind: NodeKind,
    /// The owning account, when known.
    pub account: Option<String>,
    /// A short human label, such as a role name or `web:7#app`.
    pub label: String,
    /// The id of the node it sits in for drawing: service → cluster, task definition → service
    /// (when exactly one service runs it), container → task definition.
    pub parent: Option<String>,
    /// False for nodes that policies or task definitions name but the snapshot does not hold.
    pub in_snapshot: bool,
}

/// What an edge means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeKind {
    /// Structure: cluster → service, service → task definition.
    Runs,
    /// Structure: task definition → container.
    Defines,
    /// Task plane: container → task role (ecs-tasks trust evaluated).
    TaskRole,
    /// Agent plane: task definition → execution role (ecs-tasks trust evaluated). Not a path hop.
    ExecutionRole,
    /// Task plane: principal → role through `sts:AssumeRole` (R5.1).
    Assumes,
    /// Task plane: principal → resource through the resource type's actions.
    Accesses,
    /// Agent plane: container → secret or parameter the execution role fetches into it.
    Injects,
    /// Agent plane: container → ECR repository its image is pulled from.
    Pulls,
    /// Task plane: container → the role of the EC2 container instance its task may run on,
    /// whose credentials the instance metadata service hands out (R4.1). Never for Fargate.
    InstanceRole,
    /// Privilege escalation: principal → role or container, when the principal can make ECS run
    /// code of its choosing as that role or in that container's place (R4.6): passing the role
    /// to a task it starts, running a task definition with its own command, ECS Exec, or
    /// pushing an image the container pulls.
    Escalates,
}

impl EdgeKind {
    /// Every kind, in order.
    pub const ALL: [EdgeKind; 10] = [
        EdgeKind::Runs,
        EdgeKind::Defines,
        EdgeKind::TaskRole,
        EdgeKind::ExecutionRole,
        EdgeKind::Assumes,
        EdgeKind::Accesses,
        EdgeKind::Injects,
        EdgeKind::Pulls,
        EdgeKind::InstanceRole,
        EdgeKind::Escalates,
    ];

    /// The contract name: `runs`, `defines`, `task-role`, `execution-role`, `assumes`,
    /// `accesses`, `injects`, `pulls`, `instance-role`, `escalates`.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Runs => "runs",
            EdgeKind::Defines => "defines",
            EdgeKind::TaskRole => "task-role",
            EdgeKind::ExecutionRole => "execution-role",
            EdgeKind::Assumes => "assumes",
            EdgeKind::Accesses => "accesses",
            EdgeKind::Injects => "injects",
            EdgeKind::Pulls => "pulls",
            EdgeKind::InstanceRole => "instance-role",
            EdgeKind::Escalates => "escalates",
        }
    }

    /// True for edges that are hops of access paths.
    pub fn is_hop(self) -> bool {
        matches!(
            self,
            EdgeKind::TaskRole
                | EdgeKind::Assumes
                | EdgeKind::Accesses
                | EdgeKind::Injects
                | EdgeKind::Pulls
                | EdgeKind::InstanceRole
                | EdgeKind::Escalates
        )
    }

    /// True for trust edges (drawn dashed): a role's trust policy decided them.
    pub fn is_trust(self) -> bool {
        matches!(
            self,
            EdgeKind::TaskRole
                | EdgeKind::ExecutionRole
                | EdgeKind::Assumes
                | EdgeKind::InstanceRole
        )
    }
}

/// An evaluated edge's status. Ordered weakest first, so a path's status is its hops' minimum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeStatus {
    /// The policies deny it. Kept only for references the snapshot makes (a task role whose trust
    /// refuses ECS, a secret the execution role cannot read), never as a path hop.
    Denied,
    /// Allowed if conditions the snapshot cannot decide hold.
    Conditional,
    /// Allowed.
    Allowed,
}

impl EdgeStatus {
    /// `denied`, `conditional` or `allowed`.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeStatus::Denied => "denied",
            EdgeStatus::Conditional => "conditional",
            EdgeStatus::Allowed => "allowed",
        }
    }
}

/// What an edge allows and why: its actions, the statements that allowed it, the conditions left
/// open and further notes.
///
/// Proofs are shared: the build keeps one copy of each distinct proof (and of each distinct list
/// inside one), and every edge with that proof, and every hop of a path over such an edge,
/// points at it. Millions of edges cite a few thousand statements, so the graph's size follows
/// the number of distinct proofs, not the number of edges.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Proof {
    /// The actions the edge allows (for `accesses`, `injects`, `pulls`), sorted.
    pub actions: Arc<[String]>,
    /// The statements that allowed it, sorted and deduplicated; for a denied edge, the Deny if any.
    pub because: Arc<[Reason]>,
    /// Open conditions, sorted.
    pub conditions: Arc<[OpenCondition]>,
    /// Further facts: what blocks a denied edge, data not in the snapshot, KMS grants not modelled.
    pub notes: Arc<[Note]>,
}

/// An evaluated edge: what it means, whether it holds, and a pointer to its shared [`Proof`].
/// Sixteen bytes, whatever the length of the proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// What it means.
    pub kind: EdgeKind,
    /// Allowed, conditional or denied.
    pub status: EdgeStatus,
    /// True when the two ends are in different accounts.
    pub cross_account: bool,
    /// Why: shared with every edge that has the same proof.
    pub proof: Arc<Proof>,
}

impl Edge {
    /// The actions this edge allows (for `accesses`, `injects`, `pulls`), sorted.
    pub fn actions(&self) -> &[String] {
        &self.proof.actions
    }

    /// The statements that allowed it, sorted and deduplicated; for a denied edge, the Deny if
    /// any.
    pub fn because(&self) -> &[Reason] {
        &self.proof.because
    }

    /// Open conditions, sorted.
    pub fn conditions(&self) -> &[OpenCondition] {
        &self.proof.conditions
    }

    /// Further facts: what blocks a denied edge, data not in the snapshot, KMS grants not
    /// modelled.
    pub fn notes(&self) -> &[Note] {
        &self.proof.notes
    }
}

/// The graph of one inventory.
#[derive(Clone, Debug, Default)]
pub struct AccessGraph {
    /// The graph itself.
    pub graph: DiGraph<Node, Edge>,
    /// Node id to index.
    pub index: BTreeMap<String, NodeIndex>,
    /// What the build noticed: unsupported constructs, missing data, dangling references.
    pub diagnostics: Vec<Diagnostic>,
}

impl AccessGraph {
    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<(NodeIndex, &Node)> {
        self.index.get(id).map(|&ix| (ix, &self.graph[ix]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edge_is_sixteen_bytes_whatever_its_proof() {
        // Millions of edges at organization scale: the proof lives behind one shared pointer.
        assert_eq!(std::mem::size_of::<Edge>(), 16);
    }
}
