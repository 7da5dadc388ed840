//! Sources outside the snapshot that policies admit: anonymous, any principal, organizations,
//! external accounts and principals, and federated identity providers (R7.1, R7.2).

use std::collections::{BTreeMap, BTreeSet};

use crate::graph::NodeKind;
use crate::graph::world::World;
use crate::graph::world::{arn_account, arn_partition};
use crate::model::arn::{account_root, last_segment};
use crate::model::{self, Diagnostic};

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
            Outside::Principal(arn) => last_segment(arn).to_string(),
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
            format!("EKS cluster {}", last_segment(host)),
            format!("any service account of EKS cluster {}", last_segment(host)),
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

/// The sources outside the snapshot that policies admit, sorted by id: the nodes the build gives
/// them, so `explain` starts from the same ones.
pub fn outsiders(world: &World<'_>) -> Vec<Outsider> {
    Outsiders::scan(world).list
}

/// The sources outside the snapshot that policies admit (R7.1, R7.2), and what admits each:
/// resource policies (by resource id) and trusts (by role ARN).
pub struct Outsiders {
    /// Sorted by id.
    pub(in crate::graph) list: Vec<Outsider>,
    pub(in crate::graph) resources: BTreeMap<String, BTreeSet<String>>,
    pub(in crate::graph) trusts: BTreeMap<String, BTreeSet<String>>,
    pub(in crate::graph) diagnostics: Vec<Diagnostic>,
}

impl Outsiders {
    /// The outsiders, sorted by id.
    pub fn list(&self) -> &[Outsider] {
        &self.list
    }

    /// An outsider by node id.
    pub fn get(&self, id: &str) -> Option<&Outsider> {
        self.list
            .binary_search_by(|o| o.id().cmp(id))
            .ok()
            .map(|i| &self.list[i])
    }

    /// The roles whose trust admits the outsider `id`, sorted.
    pub fn roles_trusting(&self, id: &str) -> impl Iterator<Item = &str> + '_ {
        self.trusts
            .get(id)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }
}

/// The most federated nodes one trust statement gives: one per combination of its claim values.
const MAX_CLAIM_COMBINATIONS: usize = 32;

impl Outsiders {
    /// Scans every resource policy, bucket ACL and trust of `world` for the sources outside the
    /// snapshot they admit.
    pub fn scan(world: &World<'_>) -> Outsiders {
        let mut out = Outsiders {
            list: Vec::new(),
            resources: BTreeMap::new(),
            trusts: BTreeMap::new(),
            diagnostics: Vec::new(),
        };
        let mut all: BTreeMap<String, Outsider> = BTreeMap::new();
        for r in world.resources.values() {
            let anonymous = r.kind == NodeKind::S3Bucket;
            // A bucket ACL's public grants admit like policy statements.
            let statements = r
                .policy
                .into_iter()
                .chain(r.acl.as_deref())
                .flat_map(|doc| doc.statements.iter());
            for st in statements.filter(|s| s.effect == model::Effect::Allow) {
                for o in admitted(world, st, anonymous, &mut out.diagnostics, &r.id) {
                    out.resources
                        .entry(o.id().to_string())
                        .or_default()
                        .insert(r.id.clone());
                    all.entry(o.id().to_string()).or_insert(o);
                }
            }
        }
        for role in world.roles.values() {
            let Some(trust) = &role.trust else { continue };
            for st in trust
                .statements
                .iter()
                .filter(|s| s.effect == model::Effect::Allow)
            {
                for o in admitted(world, st, false, &mut out.diagnostics, &role.arn) {
                    out.trusts
                        .entry(o.id().to_string())
                        .or_default()
                        .insert(role.arn.clone());
                    all.entry(o.id().to_string()).or_insert(o);
                }
            }
        }
        // "Any principal" leaves out the organizations that have nodes of their own.
        let organizations: Vec<String> = all
            .values()
            .filter_map(|o| match &o.who {
                Outside::Organization(path) => {
                    Some(path.split('/').next().unwrap_or(path).to_string())
                }
                _ => None,
            })
            .collect();
        out.list = all
            .into_values()
            .map(|o| match o.who {
                Outside::AnyPrincipal => o.excluding_organizations(organizations.clone()),
                _ => o,
            })
            .collect();
        out
    }
}

/// True for a condition operator that admits the values it lists (not a negated one).
fn positive(operator: &str) -> bool {
    let op = operator.to_ascii_lowercase();
    let op = op.rsplit(':').next().unwrap_or(&op);
    op.starts_with("string") && !op.contains("not")
}

/// The outsiders one Allow statement of a resource policy or trust admits.
fn admitted(
    world: &World<'_>,
    st: &model::Statement,
    anonymous: bool,
    diagnostics: &mut Vec<Diagnostic>,
    subject: &str,
) -> Vec<Outsider> {
    let mut out = Vec::new();
    let entries = st.principal_entries();
    let in_snapshot = |account: &str| world.accounts.get(account).is_some_and(|a| a.iam.is_some());
    let partition = model::arn::partition_of(subject).unwrap_or("aws");
    let org = world.inventory.organization.as_ref();
    // An Allow with NotPrincipal admits everyone it does not list.
    let entries = if st.not_principal.is_some() && entries.is_empty() {
        vec![("AWS", "*")]
    } else {
        entries
    };
    for (kind, value) in entries {
        match kind {
            "AWS" if value == "*" => {
                out.push(Outsider::new(Outside::AnyPrincipal));
                if anonymous {
                    out.push(Outsider::new(Outside::Anonymous));
                }
                // Conditions that narrow `*` to an organization or account name sources of
                // their own: principals there are not in the snapshot.
                for c in st.condition.iter().filter(|c| positive(&c.operator)) {
                    let key = c.key.to_ascii_lowercase();
                    for v in &c.values {
                        match key.as_str() {
                            "aws:principalorgid" | "aws:principalorgpaths" => {
                                let id = v.split('/').next().unwrap_or(v);
                                let own = org.is_some_and(|o| o.id == id);
                                // The snapshot's own organization counts only for its member
                                // accounts the snapshot does not hold.
                                let uncollected = org.is_some_and(|o| {
                                    o.accounts.iter().any(|a| !in_snapshot(&a.id))
                                });
                                if !id.is_empty() && (!own || uncollected) {
                                    out.push(Outsider::new(Outside::Organization(v.clone())));
                                }
                            }
                            "aws:principalaccount" | "kms:calleraccount"
                                if !in_snapshot(v) && model::arn::is_account_id(v) =>
                            {
                                out.push(Outsider::new(Outside::Account(account_root(
                                    partition, v,
                                ))));
                            }
                            _ => {}
                        }
                    }
                }
            }
            "AWS" => {
                let account = if model::arn::is_account_id(value) {
                    Some(value.to_string())
                } else if value.ends_with(":root") {
                    model::arn::account_of(value).map(str::to_string)
                } else {
                    None
                };
                match account {
                    Some(acct) if !in_snapshot(&acct) => {
                        out.push(Outsider::new(Outside::Account(account_root(
                            model::arn::partition_of(value)
                                .filter(|p| !p.is_empty())
                                .unwrap_or(partition),
                            &acct,
                        ))));
                    }
                    Some(_) => {}
                    None if (value.contains(":role/") || value.contains(":user/"))
                        && model::arn::account_of(value).is_some_and(|a| !in_snapshot(a)) =>
                    {
                        out.push(Outsider::new(Outside::Principal(value.to_string())));
                    }
                    None => {}
                }
            }
            "Federated" => out.extend(federated(value, st, diagnostics, subject)),
            _ => {}
        }
    }
    out
}

/// The federated sources a trust statement admits: the provider, narrowed by each combination of
/// the claim values its positive conditions list (R7.2).
fn federated(
    provider: &str,
    st: &model::Statement,
    diagnostics: &mut Vec<Diagnostic>,
    subject: &str,
) -> Vec<Outsider> {
    let saml = provider.contains(":saml-provider/");
    let host = provider
        .split_once(":oidc-provider/")
        .map_or(provider, |(_, h)| h)
        .to_ascii_lowercase();
    let prefix = if saml {
        "saml:".to_string()
    } else {
        format!("{host}:")
    };
    let mut claims: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in st.condition.iter().filter(|c| positive(&c.operator)) {
        if c.key.to_ascii_lowercase().starts_with(&prefix) {
            claims
                .entry(c.key.clone())
                .or_default()
                .extend(c.values.iter().cloned());
        }
    }
    // Cognito identities are narrowed by the identity pool (`aud`), other OIDC providers by the
    // subject (`sub`).
    let narrowing = if host == "cognito-identity.amazonaws.com" {
        ":aud"
    } else {
        ":sub"
    };
    if !saml
        && !claims
            .keys()
            .any(|k| k.to_ascii_lowercase().ends_with(narrowing))
    {
        diagnostics.push(Diagnostic::warning(
            "federated-trust-without-subject",
            subject.to_string(),
            format!("trust statement `{}` admits every token of `{provider}`: it has no `{host}{narrowing}` condition, so any subject of that provider (any repository, any service account, any identity pool) can assume the role", st.label()),
        ));
    }
    // One node per combination of claim values, so each node's label names exactly what it
    // admits.
    let mut combos: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for (key, values) in &claims {
        let mut values = values.clone();
        values.sort();
        values.dedup();
        let mut next = Vec::new();
        for combo in &combos {
            for v in &values {
                let mut c = combo.clone();
                c.push((key.clone(), v.clone()));
                next.push(c);
            }
        }
        if next.len() > MAX_CLAIM_COMBINATIONS {
            diagnostics.push(Diagnostic::warning(
                "federated-claims-too-many",
                subject.to_string(),
                format!("trust statement `{}` lists more than {MAX_CLAIM_COMBINATIONS} combinations of `{provider}` claims; `{key}` is left open", st.label()),
            ));
            continue;
        }
        combos = next;
    }
    combos
        .into_iter()
        .map(|claims| {
            Outsider::new(Outside::Federated {
                provider: provider.to_string(),
                claims,
            })
        })
        .collect()
}
