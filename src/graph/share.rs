//! Shared decisions: callers whose policies decide a resource's requests alike get one decision.
//!
//! A caller's access to a resource is decided by the statements that can match its requests: the
//! identity statements whose `Action` (or `NotAction`) can name an action of the request's
//! services, its permission boundary, the SCPs of its account, and on the resource's side the
//! resource policy (with a bucket's ACL grants), the RCPs of the resource's account and the key
//! policy of the key that encrypts the value. The policy evaluator never looks at a statement
//! whose action does not match (`policy::eval`), so two callers of one account and partition with
//! the same such identity statements (the same policy and position), the same boundary and the
//! same SCPs get the same decision for every request of those services, unless something
//! depends on which caller asks:
//! - a condition on a key of the caller's own (`aws:PrincipalArn`, `aws:PrincipalTag/…`,
//!   `aws:userid`, `aws:username`, `aws:SourceIdentity`, and any other `aws:Principal…` key
//!   but the organization, account and type keys, which are the same for every role of an
//!   account) or a policy variable, in any of those policies;
//! - a resource-side `Principal` that names a role, user or session rather than an account, a
//!   service or everyone, or any `NotPrincipal`;
//! - a resource whose policy the snapshot does not hold (the note of such a hop names the caller).
//!
//! [`Sharing`] finds, for each caller and resource, a key that two callers share only when their
//! decisions are the same; where anything above depends on the caller, there is no key and the
//! hop is decided alone. A caller's key depends only on the services of the request, so it is
//! made once per caller and set of services ([`Shared`]), not once per resource. The property
//! test `graph_build_matches_exhaustive_evaluation` compares the build with an exhaustive one
//! that shares nothing, on organizations whose roles share a managed policy.

use std::collections::BTreeMap;
use std::sync::Mutex;

use rustc_hash::FxHashMap;

use super::hop::Verdict;
use super::kinds;
use super::world::{Caller, KeyRef, Prepared, ResourceInfo, World};
use crate::model::{Diagnostic, PolicyDocument, Principal, Statement};

/// True for a condition key whose value depends on which principal of an account asks.
fn names_the_caller(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    if let Some(rest) = key.strip_prefix("aws:principal") {
        // The same for every role of one account (and of one organization path).
        return !matches!(
            rest,
            "orgid" | "orgpaths" | "account" | "type" | "isawsservice" | "servicename"
        );
    }
    matches!(
        key.as_str(),
        "aws:userid" | "aws:username" | "aws:sourceidentity" | "aws:federatedprovider"
    ) || key.starts_with("aws:requesttag")
        || key.starts_with("sts:")
        || key.starts_with("ec2:")
}

/// True when a statement's conditions and resources depend on nothing of the caller's own.
fn statement_alike(st: &Statement) -> bool {
    let variable = |s: &String| s.contains("${");
    !st.condition
        .iter()
        .any(|c| names_the_caller(&c.key) || c.values.iter().any(variable))
        && !st.resource.iter().flatten().any(variable)
        && !st.not_resource.iter().flatten().any(variable)
}

/// True when a resource-side statement admits principals by account, service or everyone only.
fn principals_alike(st: &Statement) -> bool {
    if st.not_principal.is_some() {
        return false;
    }
    match &st.principal {
        None | Some(Principal::Wildcard) => true,
        Some(Principal::Map(map)) => map.iter().all(|(kind, values)| {
            kind != "AWS"
                || values.iter().all(|v| {
                    v == "*"
                        || (v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()))
                        || (v.starts_with("arn:") && v.ends_with(":root"))
                })
        }),
    }
}

/// True when no statement of a resource-side document depends on which caller asks.
fn resource_doc_alike(doc: &PolicyDocument) -> bool {
    doc.statements
        .iter()
        .all(|st| statement_alike(st) && principals_alike(st))
}

/// True when an identity-side document (a boundary, an SCP) depends on nothing of the caller's.
fn identity_doc_alike(doc: &PolicyDocument) -> bool {
    doc.statements.iter().all(statement_alike)
}

/// The services an action list names: the part before the first `:`, lower-cased.
fn services_of(actions: &[String]) -> Vec<String> {
    let mut out: Vec<String> = actions
        .iter()
        .filter_map(|a| a.split_once(':').map(|(s, _)| s.to_ascii_lowercase()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// True when a statement's `Action` can name an action of one of `services` (a `NotAction` can).
fn may_name(st: &Statement, services: &[String]) -> bool {
    match (&st.action, &st.not_action) {
        (Some(list), _) => list.iter().any(|p| {
            p == "*"
                || p.split_once(':')
                    .is_some_and(|(s, _)| services.iter().any(|svc| s.eq_ignore_ascii_case(svc)))
        }),
        (None, Some(_)) => true,
        (None, None) => false,
    }
}

/// What decides a caller's requests of some services, when no policy depends on which caller
/// asks: its account and partition, its boundary, and the identity statements that can match.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct CallerKey {
    account: String,
    partition: String,
    boundary: Option<String>,
    statements: Vec<(String, usize)>,
}

/// The shared decisions of one build.
pub(super) struct Sharing {
    /// Per resource (by position): the set of services its requests name (an index into `sets`),
    /// when nothing on its side depends on which caller asks.
    resources: Vec<Option<usize>>,
    /// The distinct sets of services, sorted.
    sets: Vec<Vec<String>>,
    /// Per account: whether its SCPs depend on nothing of the caller's own.
    scps_alike: BTreeMap<String, bool>,
    /// Caller keys by number.
    keys: Mutex<FxHashMap<CallerKey, u32>>,
    /// Decisions by (caller key, resource position): the verdict (`None` when denied) and what
    /// evaluating it noticed.
    decided: Mutex<FxHashMap<(u32, usize), Decided>>,
}

/// One shared decision: the verdict (`None` when denied) and the diagnostics of evaluating it.
pub(super) type Decided = (Option<Verdict>, Vec<Diagnostic>);

/// One caller's keys, made when first asked for, per set of services.
pub(super) struct Shared<'s, 'p, 'a> {
    sharing: &'s Sharing,
    caller: &'p Prepared<'a>,
    /// `None` when nothing of this caller may be shared.
    keys: Option<Vec<Option<Option<u32>>>>,
}

impl Sharing {
    /// Indexes `resources` (with the actions asked of each) for sharing.
    pub(super) fn new(
        world: &World<'_>,
        resources: &[ResourceInfo<'_>],
        actions: &[Vec<String>],
    ) -> Sharing {
        let rcps_alike = |account: &str, service: &str, aws_managed: bool| {
            world
                .rcps(account, service, aws_managed)
                .is_none_or(|levels| {
                    levels
                        .iter()
                        .flat_map(|l| &l.policies)
                        .all(|p| resource_doc_alike(p.document))
                })
        };
        let mut sets: Vec<Vec<String>> = Vec::new();
        let resources = resources
            .iter()
            .zip(actions)
            .map(|(r, actions)| {
                let service = kinds::service_of(r.kind);
                if r.policy_unknown()
                    || !r.policy.is_none_or(resource_doc_alike)
                    || !r.acl.as_deref().is_none_or(resource_doc_alike)
                    || !rcps_alike(&r.account, service, r.aws_managed_key)
                {
                    return None;
                }
                let mut services = services_of(actions);
                // A value under a customer-managed key is also decrypted through its service,
                // with that key's policy and the RCPs of its account.
                if let Some(KeyRef::Key(arn)) = &r.encryption_key {
                    if let Some(info) = world.resources.get(arn) {
                        if !info.policy.is_none_or(resource_doc_alike)
                            || !rcps_alike(&info.account, "kms", info.aws_managed_key)
                        {
                            return None;
                        }
                    }
                }
                if r.encryption_key.is_some() {
                    services.push("kms".to_string());
                    services.sort();
                    services.dedup();
                }
                Some(match sets.iter().position(|s| *s == services) {
                    Some(at) => at,
                    None => {
                        sets.push(services);
                        sets.len() - 1
                    }
                })
            })
            .collect();
        let scps_alike = world
            .scp_levels
            .iter()
            .map(|(account, levels)| {
                let alike = levels
                    .iter()
                    .flat_map(|l| &l.policies)
                    .all(|p| identity_doc_alike(p.document));
                (account.to_string(), alike)
            })
            .collect();
        Sharing {
            resources,
            sets,
            scps_alike,
            keys: Mutex::new(FxHashMap::default()),
            decided: Mutex::new(FxHashMap::default()),
        }
    }

    /// `p`'s share of the decisions: a role of the snapshot whose boundary and SCPs depend on
    /// nothing of its own may share; anything else decides alone.
    pub(super) fn caller<'s, 'p, 'a>(&'s self, p: &'p Prepared<'a>) -> Shared<'s, 'p, 'a> {
        let may = matches!(p.caller, Caller::Role(_))
            && self
                .scps_alike
                .get(p.caller.account())
                .copied()
                .unwrap_or(true)
            && p.boundary
                .as_ref()
                .is_none_or(|b| identity_doc_alike(b.doc));
        Shared {
            sharing: self,
            caller: p,
            keys: may.then(|| vec![None; self.sets.len()]),
        }
    }

    /// The number of the key of `p` for the requests of the services `set`, when its decisions
    /// may be shared: none of its identity statements that can name those requests depends on
    /// anything of its own.
    fn key(&self, p: &Prepared<'_>, set: usize) -> Option<u32> {
        let services = self.sets.get(set)?;
        let Caller::Role(role) = p.caller else {
            return None;
        };
        let mut statements = Vec::new();
        for o in &p.identity {
            for st in &o.doc.statements {
                if may_name(st, services) {
                    if !statement_alike(st) {
                        return None;
                    }
                    statements.push((o.id.clone(), st.index));
                }
            }
        }
        let key = CallerKey {
            account: p.caller.account().to_string(),
            partition: crate::model::arn::partition_of(&role.arn)
                .unwrap_or_default()
                .to_string(),
            boundary: p.boundary.as_ref().map(|b| b.id.clone()),
            statements,
        };
        let mut keys = self.keys.lock().ok()?;
        let next = u32::try_from(keys.len()).ok()?;
        Some(*keys.entry(key).or_insert(next))
    }
}

impl Shared<'_, '_, '_> {
    /// The caller's decision on resource `i`: shared with every caller of the same key, or made
    /// by `decide` (and then shared). Diagnostics of a shared decision come with it.
    pub(super) fn decide(
        &mut self,
        i: usize,
        decide: impl FnOnce(&mut Vec<Diagnostic>) -> Verdict,
    ) -> Decided {
        let sharing = self.sharing;
        let caller = self.caller;
        let set = sharing.resources.get(i).copied().flatten();
        let key = match (self.keys.as_mut(), set) {
            (Some(keys), Some(set)) => keys
                .get_mut(set)
                .and_then(|k| *k.get_or_insert_with(|| sharing.key(caller, set))),
            _ => None,
        };
        let Some(key) = key else {
            return alone(decide);
        };
        if let Some(found) = sharing
            .decided
            .lock()
            .ok()
            .and_then(|d| d.get(&(key, i)).cloned())
        {
            return found;
        }
        let made = alone(decide);
        if let Ok(mut d) = sharing.decided.lock() {
            d.entry((key, i)).or_insert_with(|| made.clone());
        }
        made
    }
}

/// A decision made for one caller alone: the verdict, `None` when denied, and its diagnostics.
pub(super) fn alone(decide: impl FnOnce(&mut Vec<Diagnostic>) -> Verdict) -> Decided {
    let mut diags = Vec::new();
    let verdict = decide(&mut diags);
    let held = (verdict.status != super::EdgeStatus::Denied).then_some(verdict);
    (held, diags)
}
