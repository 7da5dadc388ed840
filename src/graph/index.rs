//! Candidate indexes that keep the graph build near-linear.
//!
//! Evaluating every (principal, resource) pair is quadratic. These indexes list, for one caller,
//! the resources that some policy could connect it to, and the builder evaluates only those. The
//! result is exactly what evaluating every pair gives, because a resource left out could only be
//! denied:
//!
//! - An allowed request needs an applicable Allow in an identity policy or in the resource's
//!   policy (R2.4). An identity Allow applies only if one of its `Resource` patterns matches; a
//!   pattern matches an ARN only if the ARN starts with the pattern's literal prefix (the text
//!   before its first `*`, `?` or `${`), or, for S3 objects and log streams (requests "under" the
//!   resource), the prefix extends the resource's ARN. [`ResourceIndex::by_pattern`] returns
//!   every resource that passes that test in the pattern's service and account.
//! - A resource-policy Allow applies only if its principal matches the caller: `*`, the caller's
//!   account, or the caller's role or user name in its account (matched case-insensitively and
//!   without path, a superset of what the evaluator accepts). [`ResourceIndex::naming`] returns
//!   those resources. `NotPrincipal` Allow statements are treated as naming everyone.
//! - Across accounts both sides must allow (R2.4), so there a resource is a candidate only if
//!   its policy could name the caller *and* some identity pattern could match it
//!   ([`IdentityMatcher::may_match`]: the statement's services and the patterns' literal prefixes,
//!   compared ignoring case). Identity patterns are therefore only expanded within the caller's
//!   own account, which keeps each caller's work proportional to its own account plus the
//!   resources that name it, not to the organization.
//! - A KMS key's policy must always allow (R2.7), so a key whose policy is known is a candidate
//!   only when that policy could name the caller.
//! - Resources whose policy the snapshot does not hold (named by policies but not collected, or
//!   keys without their key policy) are candidates wherever an identity pattern could match them.
//!
//! The property test `graph_build_matches_exhaustive_evaluation` checks the claim against the
//! builder's exhaustive mode on random organizations.

use std::collections::{BTreeMap, BTreeSet};

use super::NodeKind;
use super::world::ResourceInfo;
use crate::model::arn::ArnRef;
use crate::model::{Effect, PolicyDocument, Principal};

/// The literal prefix of a pattern: the text before its first wildcard or policy variable.
fn literal_prefix(pattern: &str) -> &str {
    let end = pattern.find(['*', '?']).unwrap_or(pattern.len());
    let end = pattern[..end].find("${").unwrap_or(end);
    &pattern[..end]
}

/// The services an Allow statement's actions could belong to; `None` means any service.
pub fn statement_services(
    action: Option<&Vec<String>>,
    not_action: bool,
) -> Option<BTreeSet<String>> {
    if not_action {
        return None;
    }
    let mut out = BTreeSet::new();
    for a in action.into_iter().flatten() {
        match a.split_once(':') {
            Some((svc, _)) if !svc.contains(['*', '?']) => {
                out.insert(svc.to_ascii_lowercase());
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Where resources are filed: by service and account, sorted by the resource part of the ARN.
pub struct ResourceIndex {
    /// (service, account) → sorted (resource part, position).
    buckets: BTreeMap<(String, String), Vec<(String, usize)>>,
    /// Resources whose policy the snapshot does not hold (see [`ResourceInfo::policy_unknown`]).
    unknown_policy: Vec<usize>,
    /// service → positions.
    by_service: BTreeMap<String, Vec<usize>>,
    /// Resource-policy principals: `*` (and NotPrincipal Allow).
    anyone: Vec<usize>,
    /// Resource-policy principals: account id.
    by_account: BTreeMap<String, Vec<usize>>,
    /// Resource-policy principals: (account, lowercase role or user name).
    by_name: BTreeMap<(String, String), Vec<usize>>,
}

fn service_of(kind: NodeKind) -> &'static str {
    super::kinds::service_of(kind)
}

impl ResourceIndex {
    /// Indexes `resources` by position.
    ///
    /// # Complexity
    /// O(n log n) in the number of resources and resource-policy statements.
    pub fn new(resources: &[ResourceInfo<'_>]) -> ResourceIndex {
        let mut index = ResourceIndex {
            buckets: BTreeMap::new(),
            unknown_policy: Vec::new(),
            by_service: BTreeMap::new(),
            anyone: Vec::new(),
            by_account: BTreeMap::new(),
            by_name: BTreeMap::new(),
        };
        for (i, r) in resources.iter().enumerate() {
            let service = service_of(r.kind).to_string();
            let part = ArnRef::split(&r.id)
                .map(|a| a.resource)
                .unwrap_or_default()
                .to_string();
            index
                .buckets
                .entry((service.clone(), r.account.clone()))
                .or_default()
                .push((part, i));
            if r.policy_unknown() {
                index.unknown_policy.push(i);
            }
            index.by_service.entry(service).or_default().push(i);
            if let Some(doc) = r.policy {
                index.file_principals(doc, i);
            }
            // A bucket ACL's public grants allow like a policy statement for `*`.
            if let Some(acl) = &r.acl {
                index.file_principals(acl, i);
            }
        }
        for list in index.buckets.values_mut() {
            list.sort();
        }
        for list in index
            .by_account
            .values_mut()
            .chain(index.by_name.values_mut())
        {
            list.sort_unstable();
            list.dedup();
        }
        index.anyone.sort_unstable();
        index.anyone.dedup();
        index
    }

    fn file_principals(&mut self, doc: &PolicyDocument, i: usize) {
        for s in doc.statements.iter().filter(|s| s.effect == Effect::Allow) {
            if s.not_principal.is_some() {
                self.anyone.push(i);
                continue;
            }
            let values: Vec<&str> = match &s.principal {
                Some(Principal::Wildcard) => vec!["*"],
                Some(Principal::Map(m)) => m
                    .get("AWS")
                    .into_iter()
                    .flatten()
                    .map(String::as_str)
                    .collect(),
                None => Vec::new(),
            };
            for v in values {
                if v == "*" {
                    self.anyone.push(i);
                } else if crate::model::arn::is_account_id(v) {
                    self.by_account.entry(v.to_string()).or_default().push(i);
                } else if let Some(arn) = v.strip_prefix("arn:") {
                    let fields: Vec<&str> = arn.splitn(5, ':').collect();
                    let (Some(account), Some(resource)) = (fields.get(3), fields.get(4)) else {
                        continue;
                    };
                    if *resource == "root" {
                        self.by_account
                            .entry(account.to_string())
                            .or_default()
                            .push(i);
                    } else if let Some(rest) = resource.strip_prefix("assumed-role/") {
                        let name = rest.split('/').next().unwrap_or_default();
                        self.by_name
                            .entry((account.to_string(), name.to_ascii_lowercase()))
                            .or_default()
                            .push(i);
                    } else if resource.starts_with("role/")
                        || resource.starts_with("user/")
                        || resource.starts_with("federated-user/")
                    {
                        let name = resource.rsplit('/').next().unwrap_or_default();
                        self.by_name
                            .entry((account.to_string(), name.to_ascii_lowercase()))
                            .or_default()
                            .push(i);
                    }
                }
            }
        }
    }

    /// Resources whose policy the snapshot does not hold.
    pub fn unknown_policy(&self) -> &[usize] {
        &self.unknown_policy
    }

    /// Resources whose policy has an Allow whose principal could be the caller: `*`, its account,
    /// or its name in its account.
    pub fn naming(&self, account: &str, name: &str, out: &mut BTreeSet<usize>) {
        out.extend(self.anyone.iter().copied());
        if let Some(list) = self.by_account.get(account) {
            out.extend(list.iter().copied());
        }
        if let Some(list) = self
            .by_name
            .get(&(account.to_string(), name.to_ascii_lowercase()))
        {
            out.extend(list.iter().copied());
        }
    }

    /// Every resource of one of `services` (`None`: any) in `account`.
    pub fn of_services(
        &self,
        services: Option<&BTreeSet<String>>,
        account: &str,
        out: &mut BTreeSet<usize>,
    ) {
        for service in self.by_service.keys() {
            if services.is_none_or(|s| s.contains(service)) {
                if let Some(list) = self.buckets.get(&(service.clone(), account.to_string())) {
                    out.extend(list.iter().map(|(_, i)| *i));
                }
            }
        }
    }

    /// Resources in `only_account` that an identity `Resource` pattern could match, among
    /// `services` (`None`: any).
    pub fn by_pattern(
        &self,
        pattern: &str,
        services: Option<&BTreeSet<String>>,
        only_account: &str,
        out: &mut BTreeSet<usize>,
    ) {
        let fields = ArnRef::split(pattern).filter(|_| pattern != "*");
        let Some(fields) = fields else {
            // "*", short and malformed ARNs: every resource of the services (the evaluator pads
            // short ARNs with wildcards).
            self.of_services(services, only_account, out);
            return;
        };
        let service = fields.service.to_ascii_lowercase();
        let wanted: Vec<&String> = match (&service[..], services) {
            (s, _) if s.contains(['*', '?']) || s.contains("${") => self
                .by_service
                .keys()
                .filter(|k| services.is_none_or(|set| set.contains(*k)))
                .collect(),
            (_, Some(set)) if !set.contains(&service) => return,
            _ => match self.by_service.get_key_value(&service) {
                Some((k, _)) => vec![k],
                None => return,
            },
        };
        let account = fields.account;
        let region = fields.region;
        let literal = literal_prefix(fields.resource);
        for service in wanted {
            // S3 ARNs carry no account: their buckets are filed under the owning account.
            let any_account =
                account.is_empty() || account.contains(['*', '?']) || account.contains("${");
            if !any_account && account != only_account {
                continue;
            }
            if let Some(list) = self
                .buckets
                .get(&(service.clone(), only_account.to_string()))
            {
                self.scan(list, literal, out);
            }
        }
        // A literal region narrows nothing further here: the evaluator decides it exactly.
        let _ = region;
    }

    /// Adds the resources of a sorted bucket whose resource part starts with `literal`, or is a
    /// prefix of it ending at a `/` or `:` boundary (a request under the resource).
    fn scan(&self, list: &[(String, usize)], literal: &str, out: &mut BTreeSet<usize>) {
        let start = list.partition_point(|(k, _)| k.as_str() < literal);
        for (k, i) in &list[start..] {
            if !k.starts_with(literal) {
                break;
            }
            out.insert(*i);
        }
        for (pos, ch) in literal.char_indices() {
            if ch == '/' || ch == ':' {
                let base = &literal[..pos];
                let at = list.partition_point(|(k, _)| k.as_str() < base);
                for (k, i) in &list[at..] {
                    if k != base {
                        break;
                    }
                    out.insert(*i);
                }
            }
        }
    }
}

/// A caller's identity Allow statements reduced to what can rule a resource out: the services of
/// their actions and the literal prefixes of their `Resource` patterns.
pub struct IdentityMatcher {
    statements: Vec<Reduced>,
}

/// One Allow statement, reduced: its services (`None`: any) and its patterns' literal prefixes
/// (`None`: any resource, for `NotResource` or no `Resource`).
type Reduced = (Option<BTreeSet<String>>, Option<Vec<String>>);

impl IdentityMatcher {
    /// Reduces the Allow statements of `documents`.
    pub fn new<'d>(documents: impl Iterator<Item = &'d PolicyDocument>) -> IdentityMatcher {
        let mut statements = Vec::new();
        for doc in documents {
            for s in doc.statements.iter().filter(|s| s.effect == Effect::Allow) {
                let services = statement_services(s.action.as_ref(), s.not_action.is_some());
                let prefixes = match (&s.resource, &s.not_resource) {
                    (Some(patterns), None) => Some(
                        patterns
                            .iter()
                            .map(|p| literal_prefix(p).to_ascii_lowercase())
                            .collect(),
                    ),
                    _ => None,
                };
                statements.push((services, prefixes));
            }
        }
        IdentityMatcher { statements }
    }

    /// False only when no identity Allow statement can apply to an action on `resource`: none
    /// names its service, or none has a `Resource` pattern whose literal prefix fits its ARN
    /// (compared ignoring case, a superset of what the evaluator matches).
    pub fn may_match(&self, resource: &ResourceInfo<'_>) -> bool {
        let service = service_of(resource.kind);
        let id = resource.id.to_ascii_lowercase();
        self.statements.iter().any(|(services, prefixes)| {
            services.as_ref().is_none_or(|s| s.contains(service))
                && prefixes.as_ref().is_none_or(|list| {
                    list.iter().any(|l| {
                        id.starts_with(l.as_str())
                            || (l.starts_with(id.as_str())
                                && matches!(l.as_bytes().get(id.len()), Some(b'/' | b':')))
                    })
                })
        })
    }
}

/// For each role, the callers of the snapshot its trust policy could admit, and the service
/// principals (other than ECS) it trusts. The builder evaluates `assumes` hops for these pairs
/// only, and `explain` looks for the closest failed hop among them, so both agree on who a trust
/// names:
///
/// - `"*"` names every caller;
/// - an account id or root ARN names every caller of that account, when the snapshot holds its
///   IAM (an account outside it is an outsider, see [`super::outside`]);
/// - a role or user ARN names every caller of that account and name (without path, ignoring
///   case: a superset of what the evaluator accepts).
///
/// Only Allow statements name callers: a Deny never lets anyone in.
pub struct TrustIndex<'a> {
    callers: BTreeMap<&'a str, BTreeSet<&'a str>>,
    services: BTreeMap<&'a str, BTreeSet<String>>,
    /// Trusts that allow anyone without conditions, and trusts naming principals that do not
    /// exist in accounts the snapshot holds.
    pub diagnostics: Vec<crate::model::Diagnostic>,
}

/// A role or user ARN's account and lowercase name, without its path.
pub(super) fn principal_name(arn: &str) -> (String, String) {
    let name = crate::model::arn::last_segment(arn).to_ascii_lowercase();
    (
        crate::model::arn::account_of(arn)
            .unwrap_or_default()
            .to_string(),
        name,
    )
}

impl<'a> TrustIndex<'a> {
    /// Indexes the trust policies of every role of `world`.
    ///
    /// # Complexity
    /// Linear in the trust statements plus the pairs they name.
    pub fn new(world: &super::world::World<'a>) -> TrustIndex<'a> {
        use crate::model::arn::{account_of, is_account_id};
        use crate::model::{Diagnostic, Effect};
        let callers = world.callers();
        let mut out = TrustIndex {
            callers: BTreeMap::new(),
            services: BTreeMap::new(),
            diagnostics: Vec::new(),
        };
        let mut by_account: BTreeMap<&str, Vec<&'a str>> = BTreeMap::new();
        let mut by_name: BTreeMap<(String, String), Vec<&'a str>> = BTreeMap::new();
        for c in &callers {
            by_account
                .entry(account_of(c.id()).unwrap_or_default())
                .or_default()
                .push(c.id());
            by_name
                .entry(principal_name(c.id()))
                .or_default()
                .push(c.id());
        }
        let holds_iam =
            |account: &str| world.accounts.get(account).is_some_and(|a| a.iam.is_some());
        for target in world.roles.values() {
            let Some(trust) = &target.trust else { continue };
            let mut named: BTreeSet<&'a str> = BTreeSet::new();
            let mut services: BTreeSet<String> = BTreeSet::new();
            for s in trust
                .statements
                .iter()
                .filter(|s| s.effect == Effect::Allow)
            {
                for (kind, value) in s.principal_entries() {
                    match kind {
                        "AWS" if value == "*" => {
                            named.extend(callers.iter().map(|c| c.id()));
                            if s.condition.is_empty() {
                                out.diagnostics.push(Diagnostic::warning(
                                    "trust-allows-anyone",
                                    target.arn.clone(),
                                    format!("trust statement `{}` allows any AWS principal without conditions", s.label()),
                                ));
                            }
                        }
                        "AWS" => {
                            let account = if is_account_id(value) {
                                Some(value)
                            } else if value.ends_with(":root") {
                                account_of(value)
                            } else {
                                None
                            };
                            match account {
                                Some(acct) if holds_iam(acct) => {
                                    named.extend(by_account.get(acct).into_iter().flatten());
                                }
                                // An account outside the snapshot: an outsider.
                                Some(_) => {}
                                None => match by_name.get(&principal_name(value)) {
                                    // The evaluator matches role and user principals by
                                    // account and name; every caller of that name is named.
                                    Some(ids) => named.extend(ids),
                                    None if (value.contains(":role/")
                                        || value.contains(":user/"))
                                        && account_of(value).is_some_and(holds_iam) =>
                                    {
                                        out.diagnostics.push(Diagnostic::warning(
                                            "principal-not-in-snapshot",
                                            target.arn.clone(),
                                            format!("trust names `{value}`, which does not exist in the snapshot"),
                                        ));
                                    }
                                    None => {}
                                },
                            }
                        }
                        "Service" if value != super::world::ECS_TASKS => {
                            services.insert(value.to_string());
                        }
                        _ => {}
                    }
                }
            }
            named.remove(target.arn.as_str());
            named.remove("");
            if !named.is_empty() {
                out.callers.insert(&target.arn, named);
            }
            if !services.is_empty() {
                out.services.insert(&target.arn, services);
            }
        }
        out
    }

    /// The callers a role's trust could admit, sorted.
    pub fn callers_of(&self, role: &str) -> impl Iterator<Item = &'a str> + '_ {
        self.callers.get(role).into_iter().flatten().copied()
    }

    /// The service principals (other than ECS) a role's trust names, sorted.
    pub fn services_of(&self, role: &str) -> impl Iterator<Item = &str> + '_ {
        self.services
            .get(role)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// True when a role's trust could admit `caller`.
    pub fn names(&self, role: &str, caller: &str) -> bool {
        self.callers.get(role).is_some_and(|c| c.contains(caller))
    }
}
