//! Sources outside the snapshot that policies admit: anonymous, any principal, organizations,
//! external accounts and principals, and federated identity providers (R7.1, R7.2).

use crate::graph::NodeKind;
use crate::graph::world::{arn_account, arn_partition};

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
    pub(in crate::graph) id: String,
    /// Who it is.
    pub who: Outside,
    /// For "any principal": the organizations that have nodes of their own, which it leaves
    /// out, so a principal is counted once.
    pub(in crate::graph) other_organizations: Vec<String>,
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
    pub(in crate::graph) fn partition(&self) -> Option<&str> {
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
    pub(in crate::graph) fn identity_unknown(&self) -> bool {
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
pub(in crate::graph) fn federated_label(provider: &str, claims: &[(String, String)]) -> String {
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
