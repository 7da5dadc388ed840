//! The decision procedure (IAM-SEMANTICS R2): statement matching, then the combination of
//! explicit denies, SCP and RCP levels, and the identity/resource/boundary/session formulas of
//! R2.4, all in three-valued logic.
//!
//! Choices where the spec leaves room, all documented here so proofs can be read against them:
//! - A statement with neither `Resource` nor `NotResource` applies to every resource. Resource,
//!   trust and key policies mean "the attached resource" by it (R1.3); IAM rejects such identity
//!   statements, so treating them alike changes nothing for valid input.
//! - `Principal`/`NotPrincipal` are only read in resource, trust, key and resource control
//!   policies; elsewhere IAM rejects them. A resource, trust or key statement with neither
//!   matches no one (with a `missing-principal` warning); an RCP statement without one matches
//!   everyone.
//! - Allow with `NotPrincipal` (no longer supported by AWS) is at best conditional: it applies
//!   `Unknown` to callers it does not exclude, with a `not-principal-allow` warning.
//! - Short ARNs (fewer than six fields) are padded with `*` in identity, boundary and session
//!   policies, padded only when they hold a wildcard in resource, trust and key policies, and
//!   never match in SCPs and RCPs (iam-simulate, R1.3); each one gets a `short-arn` warning.
//!   A service field that is exactly `*` (what padding produces) matches every service.
//! - The root user has an implicit identity Allow: it has no identity policies and full access
//!   to its own account, except where trust or key policies must allow (R2.4).
//! - Unknown principal matches (a named session whose session name is not known) and partly
//!   covering `Resource` patterns of a Deny are reported as open conditions whose operator is
//!   the element name (`Principal`, `NotPrincipal`, `Resource`, `NotResource`).
//! - Unions of several partly covering `Resource`/`NotResource` patterns are not combined: each
//!   pattern is judged alone, so a Deny covered only by the union stays `Unknown`.
//! - Service principals, anonymous callers (R7.1) and federated callers (R7.2) have no identity
//!   side: no identity policies, boundary, session policy or SCPs. Only a resource-policy Allow
//!   that matches them directly (`*`, their service name or their provider) grants; RCPs apply.
//! - Answers that no policy can change are decided before any policy is read, so no Deny
//!   statement or missing Allow hides them (R7.3, R2.7): `sts:GetCallerIdentity` is always
//!   allowed, with no proof; creating, updating or deleting an AWS-managed alias
//!   (`…:kms:…:alias/aws/…`) is denied ([`Blocker::AwsManagedAlias`]); a KMS action that does not
//!   work across accounts, asked from another account, is denied
//!   ([`Blocker::KmsNotCrossAccount`]). These denials are implicit: no statement decides them.
//! - A request on a KMS key (`…:kms:…:key/…`) with no resource policy in the set is always
//!   denied: a key policy must allow (R2.7, R7.3). The blocker is [`Blocker::KeyPolicyMissing`]
//!   only where nothing else blocks the request (an explicit Deny, an SCP, the identity side, the
//!   boundary or the session policy are named first, in the usual order); a caller of the
//!   evaluator that does not hold the key policy can therefore read that blocker as "allowed if
//!   the key policy allows".

use std::sync::Arc;

use super::condition::eval_clause;
use super::glob;
use super::matching::{ArnRules, RequestAction, arn_fields_match, arn_prefix_coverage, split_arn};
use super::principal::{Caller, PrincipalMatch, match_principal, not_principal_applies};
use super::variables::{Mode, Subst, has_variable, substitute, widened};
use super::{
    Blocker, Decision, OpenCondition, OrgLevel, Outcome, PolicyRef, PolicySet, PolicyType, Reason,
    Request, RequestResource, Tri,
};
use crate::model::{Diagnostic, Effect, Principal, Statement};

/// KMS actions that work across accounts (R2.7): cryptographic operations and a few grant and
/// key-description actions. Any other KMS action is same-account only.
const KMS_CROSS_ACCOUNT_ACTIONS: &[&str] = &[
    "Decrypt",
    "DeriveSharedSecret",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "VerifyMac",
    "CreateGrant",
    "DescribeKey",
    "GetKeyRotationStatus",
    "GetPublicKey",
    "ListGrants",
    "RetireGrant",
    "RevokeGrant",
];

/// True when a KMS action may be used from another account (R2.7). Non-KMS actions are not
/// restricted by this rule.
pub fn kms_action_works_cross_account(action: &str) -> bool {
    match action.split_once(':') {
        Some((service, name)) if service.eq_ignore_ascii_case("kms") => KMS_CROSS_ACCOUNT_ACTIONS
            .iter()
            .any(|a| a.eq_ignore_ascii_case(name)),
        _ => true,
    }
}

/// Decides one request.
///
/// Pure: no I/O and no panics. Warnings (unsupported operators, dangling principals, short
/// ARNs, …) come back in [`Decision::diagnostics`].
pub fn evaluate(request: &Request, policies: &PolicySet<'_>) -> Decision {
    Evaluator::new(request, policies).run()
}

/// The request resource, split once.
enum ResourceView<'r> {
    Any,
    Arn(Option<[&'r str; 6]>, &'r str),
    Under(&'r str),
}

/// How much of the request's resources one pattern covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cov {
    None,
    Some,
    All,
    Unknown,
}

/// The best statement for one part of a decision: the first `True` one in document order, or
/// else the first `Unknown` one.
#[derive(Clone, Copy, Debug)]
struct Side<'a> {
    tri: Tri,
    best: Option<(PolicyRef<'a>, &'a Statement)>,
}

impl<'a> Side<'a> {
    const FALSE: Side<'a> = Side {
        tri: Tri::False,
        best: None,
    };
    const TRUE: Side<'a> = Side {
        tri: Tri::True,
        best: None,
    };

    fn add(&mut self, tri: Tri, policy: PolicyRef<'a>, statement: &'a Statement) {
        if tri > self.tri {
            self.tri = tri;
            self.best = Some((policy, statement));
        }
    }

    fn merge(&mut self, other: Side<'a>) {
        if other.tri > self.tri {
            *self = other;
        }
    }
}

/// One policy's (or several policies') Allow and Deny results.
#[derive(Clone, Copy, Debug)]
struct Sides<'a> {
    deny: Side<'a>,
    allow: Side<'a>,
    unlimited: Side<'a>,
    limited: Side<'a>,
    account: Side<'a>,
}

impl<'a> Sides<'a> {
    const NONE: Sides<'a> = Sides {
        deny: Side::FALSE,
        allow: Side::FALSE,
        unlimited: Side::FALSE,
        limited: Side::FALSE,
        account: Side::FALSE,
    };

    fn merge(&mut self, other: Sides<'a>) {
        self.deny.merge(other.deny);
        self.allow.merge(other.allow);
        self.unlimited.merge(other.unlimited);
        self.limited.merge(other.limited);
        self.account.merge(other.account);
    }
}

/// A statement's match, split by principal class.
#[derive(Clone, Copy, Debug)]
struct StmtMatch {
    /// Action, resource and condition.
    rest: Tri,
    principal: PrincipalMatch,
}

impl StmtMatch {
    const NO: StmtMatch = StmtMatch {
        rest: Tri::False,
        principal: PrincipalMatch::NOBODY,
    };

    fn applies(&self) -> Tri {
        self.rest.and(self.principal.any())
    }
}

/// Which principal class of a resource policy a side stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Any,
    Unlimited,
    Limited,
    Account,
}

struct Evaluator<'r, 's, 'a> {
    request: &'r Request,
    policies: &'s PolicySet<'a>,
    caller: Caller<'r>,
    action: Option<RequestAction<'r>>,
    resource: ResourceView<'r>,
    diagnostics: Vec<Diagnostic>,
}

impl<'r, 's, 'a> Evaluator<'r, 's, 'a> {
    fn new(request: &'r Request, policies: &'s PolicySet<'a>) -> Self {
        let resource = match &request.resource {
            RequestResource::Any => ResourceView::Any,
            RequestResource::Arn(arn) => ResourceView::Arn(split_arn(arn), arn),
            RequestResource::Under(prefix) => ResourceView::Under(prefix),
        };
        Evaluator {
            request,
            policies,
            caller: Caller::new(&request.principal),
            action: RequestAction::new(&request.action),
            resource,
            diagnostics: Vec::new(),
        }
    }

    /// True for callers with no identity side: service principals, anonymous and federated.
    fn identityless(&self) -> bool {
        !self.caller.has_identity_side()
    }

    /// True when the caller belongs to an account other than the resource's.
    fn cross_account(&self) -> bool {
        self.caller
            .account()
            .is_some_and(|a| a != self.request.resource_account)
    }

    /// The service and resource fields of the request resource when it is an ARN, or a prefix
    /// that splits into six fields.
    fn resource_fields(&self) -> Option<(&'r str, &'r str)> {
        let fields = match self.resource {
            ResourceView::Arn(Some(fields), _) => fields,
            ResourceView::Under(prefix) => split_arn(prefix)?,
            ResourceView::Arn(None, _) | ResourceView::Any => return None,
        };
        Some((fields[2], fields[5]))
    }

    /// True when the request resource is a KMS resource whose resource part starts with `kind`.
    fn kms_resource_starts_with(&self, kind: &str) -> bool {
        self.resource_fields().is_some_and(|(service, resource)| {
            service.eq_ignore_ascii_case("kms") && resource.starts_with(kind)
        })
    }

    /// The action's name when its service is KMS.
    fn kms_action(&self) -> Option<&'r str> {
        match self.request.action.split_once(':') {
            Some((service, name)) if service.eq_ignore_ascii_case("kms") => Some(name),
            _ => None,
        }
    }

    /// A request on a KMS key that comes with no key policy (R2.7, R7.3).
    fn key_policy_missing(&self) -> bool {
        self.policies.resource.is_none()
            && self.kms_action().is_some()
            && self.kms_resource_starts_with("key/")
    }

    /// Answers that no policy changes, decided before any policy is read (R7.3, R2.7).
    fn fixed_answer(&self) -> Option<Decision> {
        if self
            .request
            .action
            .eq_ignore_ascii_case("sts:GetCallerIdentity")
        {
            return Some(fixed_decision(None));
        }
        let alias_change = self.kms_action().is_some_and(|name| {
            ["CreateAlias", "UpdateAlias", "DeleteAlias"]
                .iter()
                .any(|a| a.eq_ignore_ascii_case(name))
        });
        if alias_change && self.kms_resource_starts_with("alias/aws/") {
            return Some(fixed_decision(Some(Blocker::AwsManagedAlias)));
        }
        if self.cross_account() && !kms_action_works_cross_account(&self.request.action) {
            return Some(fixed_decision(Some(Blocker::KmsNotCrossAccount {
                action: self.request.action.clone(),
            })));
        }
        None
    }

    // ----- statements -----

    fn eval_statement(&mut self, policy: PolicyRef<'a>, st: &'a Statement) -> StmtMatch {
        let matches = |p: &String| match &self.action {
            Some(action) => action.matched_by(p),
            None => p == "*",
        };
        let action = match (&st.action, &st.not_action) {
            (Some(list), _) => list.iter().any(matches),
            (None, Some(list)) => !list.iter().any(matches),
            (None, None) => false,
        };
        if !action {
            return StmtMatch::NO;
        }
        let principal = self.eval_principal(policy, st);
        if principal.any() == Tri::False {
            return StmtMatch::NO;
        }
        let mut rest = self.eval_resource(policy, st);
        if rest == Tri::False {
            return StmtMatch::NO;
        }
        let vars = policy.document.variables_enabled();
        for clause in &st.condition {
            rest = rest.and(eval_clause(
                clause,
                &self.request.context,
                vars,
                policy.id,
                &mut self.diagnostics,
            ));
            if rest == Tri::False {
                return StmtMatch::NO;
            }
        }
        StmtMatch { rest, principal }
    }

    fn eval_principal(&mut self, policy: PolicyRef<'a>, st: &'a Statement) -> PrincipalMatch {
        let carries_principal = matches!(
            policy.policy_type,
            PolicyType::Resource | PolicyType::Trust | PolicyType::Key | PolicyType::Rcp
        );
        if !carries_principal {
            return PrincipalMatch::EVERYONE;
        }
        match (&st.principal, &st.not_principal) {
            (Some(p), _) => match_principal(
                p,
                &self.caller,
                policy.policy_type == PolicyType::Trust,
                policy.id,
                &mut self.diagnostics,
            ),
            (None, Some(np)) => {
                let mut applies =
                    not_principal_applies(np, &self.caller, policy.id, &mut self.diagnostics);
                match st.effect {
                    Effect::Deny => {
                        // R1.5: Deny with NotPrincipal always denies a principal with a boundary.
                        if self.policies.boundary.is_some() && !self.identityless() {
                            applies = Tri::True;
                        }
                    }
                    Effect::Allow => {
                        self.diagnostics.push(Diagnostic::warning(
                            "not-principal-allow",
                            policy.id,
                            format!(
                                "statement `{}` uses `NotPrincipal` with `Allow`, which AWS does not support; it is treated as at best conditional",
                                st.label()
                            ),
                        ));
                        applies = applies.and(Tri::Unknown);
                    }
                }
                PrincipalMatch {
                    unlimited: applies,
                    limited: Tri::False,
                    account: Tri::False,
                }
            }
            (None, None) if policy.policy_type == PolicyType::Rcp => PrincipalMatch::EVERYONE,
            (None, None) => {
                self.diagnostics.push(Diagnostic::warning(
                    "missing-principal",
                    policy.id,
                    format!(
                        "statement `{}` has no `Principal` and matches no one",
                        st.label()
                    ),
                ));
                PrincipalMatch::NOBODY
            }
        }
    }

    fn eval_resource(&mut self, policy: PolicyRef<'a>, st: &'a Statement) -> Tri {
        let effect = st.effect;
        match (&st.resource, &st.not_resource) {
            (Some(list), _) => {
                let mut out = Tri::False;
                for entry in list {
                    out = out.or(match (self.coverage(policy, entry), effect) {
                        (Cov::All, _) | (Cov::Some, Effect::Allow) => Tri::True,
                        (Cov::Some, Effect::Deny) | (Cov::Unknown, _) => Tri::Unknown,
                        (Cov::None, _) => Tri::False,
                    });
                    if out == Tri::True {
                        break;
                    }
                }
                out
            }
            (None, Some(list)) => {
                let mut excluded = Tri::False;
                for entry in list {
                    excluded = excluded.or(match (self.coverage(policy, entry), effect) {
                        (Cov::All, _) => Tri::True,
                        (Cov::Some, Effect::Deny) | (Cov::Unknown, _) => Tri::Unknown,
                        (Cov::Some, Effect::Allow) | (Cov::None, _) => Tri::False,
                    });
                    if excluded == Tri::True {
                        break;
                    }
                }
                excluded.not()
            }
            (None, None) => Tri::True,
        }
    }

    /// How much of the request resource one `Resource` entry covers.
    fn coverage(&mut self, policy: PolicyRef<'a>, entry: &str) -> Cov {
        if entry == "*" {
            return Cov::All;
        }
        if let ResourceView::Any = self.resource {
            return Cov::None;
        }
        let padded: [&str; 6];
        let pattern = match split_arn(entry) {
            Some(fields) if fields[0] == "arn" => fields,
            _ => match self.pad_short_arn(policy, entry) {
                Some(fields) => {
                    padded = fields;
                    padded
                }
                None => return Cov::None,
            },
        };
        let vars = policy.document.variables_enabled() && has_variable(pattern[5]);
        let subst;
        let (tail, escaped) = if vars {
            subst = substitute(pattern[5], &self.request.context, Mode::Glob);
            match &subst {
                Subst::Value(text, escaped) => (&**text, *escaped),
                Subst::Missing => return Cov::None,
                Subst::Unknown => {
                    // An unknown value could be anything, but not what the rest of the entry
                    // rules out: with every variable read as `*`, an entry that still covers
                    // nothing covers nothing whatever the values.
                    let wide = widened(pattern[5]);
                    let wide = [
                        pattern[0], pattern[1], pattern[2], pattern[3], pattern[4], &wide,
                    ];
                    return match self.cover(&wide, entry, true) {
                        Cov::None => Cov::None,
                        Cov::All | Cov::Some | Cov::Unknown => Cov::Unknown,
                    };
                }
            }
        } else {
            (pattern[5], false)
        };
        let pattern = [
            pattern[0], pattern[1], pattern[2], pattern[3], pattern[4], tail,
        ];
        self.cover(&pattern, entry, escaped)
    }

    /// How much of the request resource an ARN pattern covers (`escaped`: in the escaped glob
    /// form of substituted text).
    fn cover(&self, pattern: &[&str; 6], entry: &str, escaped: bool) -> Cov {
        match self.resource {
            ResourceView::Any => Cov::None,
            ResourceView::Arn(Some(fields), _) => {
                if arn_fields_match(ArnRules::Resource, pattern, &fields, escaped) {
                    Cov::All
                } else {
                    Cov::None
                }
            }
            ResourceView::Arn(None, raw) => {
                if entry == raw {
                    Cov::All
                } else {
                    Cov::None
                }
            }
            ResourceView::Under(prefix) => {
                match arn_prefix_coverage(ArnRules::Resource, pattern, prefix, escaped) {
                    Tri::True => Cov::All,
                    Tri::Unknown => Cov::Some,
                    Tri::False => Cov::None,
                }
            }
        }
    }

    /// Pads an ARN with fewer than six fields with `*`, where the policy type allows (R1.3).
    fn pad_short_arn<'e>(&mut self, policy: PolicyRef<'a>, entry: &'e str) -> Option<[&'e str; 6]> {
        if !entry.starts_with("arn:") {
            self.diagnostics.push(Diagnostic::warning(
                "invalid-resource",
                policy.id,
                format!("resource `{entry}` is not an ARN and matches nothing"),
            ));
            return None;
        }
        let pads = match policy.policy_type {
            PolicyType::Identity | PolicyType::Boundary | PolicyType::Session => true,
            PolicyType::Resource | PolicyType::Trust | PolicyType::Key => glob::has_wildcard(entry),
            PolicyType::Scp | PolicyType::Rcp => false,
        };
        self.diagnostics.push(Diagnostic::warning(
            "short-arn",
            policy.id,
            if pads {
                format!("resource `{entry}` has fewer than six ARN fields; the missing fields are treated as `*`")
            } else {
                format!("resource `{entry}` has fewer than six ARN fields and matches nothing in a {} policy", policy.policy_type.as_str())
            },
        ));
        if !pads {
            return None;
        }
        let mut fields = ["*"; 6];
        for (slot, part) in fields.iter_mut().zip(entry.split(':')) {
            *slot = part;
        }
        Some(fields)
    }

    // ----- policies -----

    fn eval_policy(&mut self, policy: PolicyRef<'a>) -> Sides<'a> {
        let mut sides = Sides::NONE;
        for st in &policy.document.statements {
            let m = self.eval_statement(policy, st);
            match st.effect {
                Effect::Deny => sides.deny.add(m.applies(), policy, st),
                Effect::Allow => {
                    sides.allow.add(m.applies(), policy, st);
                    sides
                        .unlimited
                        .add(m.rest.and(m.principal.unlimited), policy, st);
                    sides
                        .limited
                        .add(m.rest.and(m.principal.limited), policy, st);
                    sides
                        .account
                        .add(m.rest.and(m.principal.account), policy, st);
                }
            }
        }
        sides
    }

    fn eval_policies(&mut self, policies: &[PolicyRef<'a>]) -> Sides<'a> {
        let mut sides = Sides::NONE;
        for policy in policies {
            let s = self.eval_policy(*policy);
            sides.merge(s);
        }
        sides
    }

    // ----- decision -----

    fn run(mut self) -> Decision {
        if let Some(decision) = self.fixed_answer() {
            return decision;
        }
        let policies = self.policies;
        // Service principals, anonymous and federated callers: only a direct resource grant.
        let identityless = self.identityless();
        let cross = self.cross_account();
        let key_missing = self.key_policy_missing();

        // Every part, in the order denies are reported.
        let identity = if identityless || matches!(self.caller, Caller::Root { .. }) {
            None
        } else {
            Some(self.eval_policies(&policies.identity))
        };
        let resource = policies.resource.map(|p| self.eval_policy(p));
        let boundary = if identityless {
            None
        } else {
            policies.boundary.map(|p| self.eval_policy(p))
        };
        let session = if identityless {
            None
        } else {
            policies.session.map(|p| self.eval_policy(p))
        };
        let scps: Vec<Sides<'a>> = match (&policies.scps, identityless) {
            (Some(levels), false) => levels
                .iter()
                .map(|l| self.eval_policies(&l.policies))
                .collect(),
            _ => Vec::new(),
        };
        // RCPs do not apply to AWS-managed KMS keys (R2.2).
        let rcps: Vec<Sides<'a>> = match &policies.rcps {
            Some(_) if policies.aws_managed_key => Vec::new(),
            Some(levels) => levels
                .iter()
                .map(|l| self.eval_policies(&l.policies))
                .collect(),
            None => Vec::new(),
        };

        let mut deny = Side::FALSE;
        for part in identity
            .iter()
            .chain(&resource)
            .chain(&boundary)
            .chain(&session)
            .chain(&scps)
            .chain(&rcps)
        {
            deny.merge(part.deny);
        }

        let id = match (&identity, self.caller) {
            (_, Caller::Root { .. }) => Side::TRUE,
            (Some(sides), _) => sides.allow,
            (None, _) => Side::FALSE,
        };
        let pb = boundary.map_or(Side::TRUE, |s| s.allow);
        let sp = session.map_or(Side::TRUE, |s| s.allow);
        let rp = resource.unwrap_or(Sides::NONE);
        let resource_type = policies
            .resource
            .map_or(PolicyType::Resource, |p| p.policy_type);
        let trust_required = matches!(resource_type, PolicyType::Trust | PolicyType::Key);

        let scp_ok = scps.iter().fold(Tri::True, |acc, s| acc.and(s.allow.tri));
        let managed_block = policies.aws_managed_key && cross;

        // The ways to allow, each with the sides it uses (fixed arrays: this runs per request).
        // KMS actions that do not work across accounts were answered by `fixed_answer`.
        let mut paths: [Option<Path<'a>>; 3] = [None, None, None];
        let (boundary_side, session_side) =
            (Some((pb, SideId::Boundary)), Some((sp, SideId::Session)));
        if identityless {
            let unlimited = Some((rp.unlimited, SideId::Resource(Class::Unlimited)));
            paths[0] = Some((rp.unlimited.tri, [unlimited, None, None, None]));
        } else if cross {
            let (rp_side, class) = [
                (rp.unlimited, Class::Unlimited),
                (rp.limited, Class::Limited),
                (rp.account, Class::Account),
            ]
            .into_iter()
            .fold((Side::FALSE, Class::Any), |best, cur| {
                if cur.0.tri > best.0.tri { cur } else { best }
            });
            let tri = rp_side.tri.and(id.tri).and(pb.tri).and(sp.tri);
            let sides = [
                Some((id, SideId::Identity)),
                Some((rp_side, SideId::Resource(class))),
                boundary_side,
                session_side,
            ];
            paths[0] = Some((tri, sides));
        } else {
            let (trust_tri, trust_side) = if trust_required {
                (
                    rp.account.tri,
                    Some((rp.account, SideId::Resource(Class::Account))),
                )
            } else {
                (Tri::True, None)
            };
            let tri = id.tri.and(trust_tri).and(pb.tri).and(sp.tri);
            paths[0] = Some((
                tri,
                [
                    Some((id, SideId::Identity)),
                    trust_side,
                    boundary_side,
                    session_side,
                ],
            ));
            let unlimited = Some((rp.unlimited, SideId::Resource(Class::Unlimited)));
            paths[1] = Some((rp.unlimited.tri, [unlimited, None, None, None]));
            let limited = Some((rp.limited, SideId::Resource(Class::Limited)));
            let tri = rp.limited.tri.and(pb.tri).and(sp.tri);
            paths[2] = Some((tri, [limited, boundary_side, session_side, None]));
        }
        let core = paths
            .iter()
            .flatten()
            .fold(Tri::False, |acc, p| acc.or(p.0));
        let final_tri = deny
            .tri
            .not()
            .and(Tri::from(!managed_block))
            .and(Tri::from(!key_missing))
            .and(scp_ok)
            .and(core);

        let mut decision = Decision {
            outcome: Outcome::Allowed,
            conditional: false,
            because: Vec::new(),
            conditions: Vec::new(),
            blocked_by: None,
            diagnostics: Vec::new(),
        };
        match final_tri {
            Tri::True | Tri::Unknown => {
                decision.conditional = final_tri == Tri::Unknown;
                let mut because = Vec::new();
                for (tri, sides) in paths.iter().flatten() {
                    if *tri == core {
                        because.extend(
                            sides
                                .iter()
                                .flatten()
                                .filter_map(|(s, _)| s.best)
                                .map(|b| reason(b, Effect::Allow)),
                        );
                    }
                }
                for level in &scps {
                    because.extend(level.allow.best.map(|b| reason(b, Effect::Allow)));
                }
                because.sort();
                because.dedup();
                decision.because = because;
                if decision.conditional {
                    let mut open = Vec::new();
                    if deny.tri == Tri::Unknown {
                        self.open_denies(&mut open, identityless);
                    }
                    if core == Tri::Unknown {
                        for (tri, sides) in paths.iter().flatten() {
                            if *tri != Tri::Unknown {
                                continue;
                            }
                            for (side, id) in sides.iter().flatten() {
                                if side.tri == Tri::Unknown {
                                    self.open_allows(*id, &mut open);
                                }
                            }
                        }
                    }
                    if let Some(levels) = &policies.scps {
                        for (level, sides) in levels.iter().zip(&scps) {
                            if sides.allow.tri == Tri::Unknown {
                                self.open_level_allows(level, &mut open);
                            }
                        }
                    }
                    open.sort();
                    open.dedup();
                    decision.conditions = open;
                }
            }
            Tri::False => {
                if deny.tri == Tri::True {
                    decision.outcome = Outcome::ExplicitDeny;
                    if let Some(b) = deny.best {
                        let r = reason(b, Effect::Deny);
                        decision.because = vec![r.clone()];
                        decision.blocked_by = Some(Blocker::Deny(r));
                    }
                } else {
                    decision.outcome = Outcome::ImplicitDeny;
                    // Without a key policy, the part that the key policy would decide is it.
                    let resource_missing = || {
                        if key_missing {
                            Blocker::KeyPolicyMissing
                        } else {
                            Blocker::ResourceMissingAllow {
                                policy_type: resource_type,
                                policy: policies.resource.map(|p| p.id.to_string()),
                            }
                        }
                    };
                    let first_scp = policies.scps.as_ref().and_then(|levels| {
                        levels
                            .iter()
                            .zip(&scps)
                            .find(|(_, s)| s.allow.tri == Tri::False)
                            .map(|(l, _)| l.target)
                    });
                    let boundary_missing = || {
                        policies.boundary.map(|p| Blocker::BoundaryMissingAllow {
                            policy: p.id.to_string(),
                        })
                    };
                    let session_missing = || {
                        policies.session.map(|p| Blocker::SessionMissingAllow {
                            policy: p.id.to_string(),
                        })
                    };
                    let rp_any = rp.unlimited.tri.or(rp.limited.tri).or(rp.account.tri);
                    decision.blocked_by = if managed_block {
                        Some(Blocker::AwsManagedKeyCrossAccount)
                    } else if let (Some(target), false) = (first_scp, scp_ok == Tri::True) {
                        Some(Blocker::ScpMissingAllow {
                            target: target.to_string(),
                        })
                    } else if identityless {
                        Some(resource_missing())
                    } else if cross {
                        // When neither side allows, the caller's own side is named first: it
                        // never asked for the access.
                        // A missing key policy is named last, once everything else allows.
                        if id.tri == Tri::False {
                            Some(Blocker::IdentityMissingAllow)
                        } else if rp_any == Tri::False && !key_missing {
                            Some(resource_missing())
                        } else if pb.tri == Tri::False {
                            boundary_missing()
                        } else if sp.tri == Tri::False {
                            session_missing()
                        } else {
                            Some(resource_missing())
                        }
                    } else if trust_required && rp_any == Tri::False {
                        Some(resource_missing())
                    } else if rp.limited.tri != Tri::False {
                        if pb.tri == Tri::False {
                            boundary_missing()
                        } else {
                            session_missing()
                        }
                    } else if id.tri == Tri::False {
                        Some(Blocker::IdentityMissingAllow)
                    } else if pb.tri == Tri::False {
                        boundary_missing()
                    } else if sp.tri == Tri::False {
                        session_missing()
                    } else {
                        Some(resource_missing())
                    };
                }
            }
        }
        let mut diagnostics = std::mem::take(&mut self.diagnostics);
        diagnostics.sort();
        diagnostics.dedup();
        decision.diagnostics = diagnostics;
        decision
    }

    // ----- open conditions -----

    /// Open conditions of every Deny statement that may apply.
    fn open_denies(&mut self, out: &mut Vec<OpenCondition>, identityless: bool) {
        let policies = self.policies;
        let mut all: Vec<PolicyRef<'a>> = Vec::new();
        if !identityless {
            all.extend(policies.identity.iter().copied());
        }
        all.extend(policies.resource);
        if !identityless {
            all.extend(policies.boundary);
            all.extend(policies.session);
            if let Some(levels) = &policies.scps {
                all.extend(levels.iter().flat_map(|l| l.policies.iter().copied()));
            }
        }
        if let (Some(levels), false) = (&policies.rcps, policies.aws_managed_key) {
            all.extend(levels.iter().flat_map(|l| l.policies.iter().copied()));
        }
        for policy in all {
            for st in &policy.document.statements {
                if st.effect == Effect::Deny {
                    let m = self.eval_statement(policy, st);
                    if m.applies() == Tri::Unknown {
                        self.open_of_statement(policy, st, Class::Any, out);
                    }
                }
            }
        }
    }

    /// Open conditions of every Allow statement of one side that may apply.
    fn open_allows(&mut self, id: SideId, out: &mut Vec<OpenCondition>) {
        let policies = self.policies;
        let (list, class): (Vec<PolicyRef<'a>>, Class) = match id {
            SideId::Identity => (policies.identity.clone(), Class::Any),
            SideId::Resource(class) => (policies.resource.into_iter().collect(), class),
            SideId::Boundary => (policies.boundary.into_iter().collect(), Class::Any),
            SideId::Session => (policies.session.into_iter().collect(), Class::Any),
        };
        for policy in list {
            self.open_policy_allows(policy, class, out);
        }
    }

    fn open_level_allows(&mut self, level: &OrgLevel<'a>, out: &mut Vec<OpenCondition>) {
        for policy in &level.policies {
            self.open_policy_allows(*policy, Class::Any, out);
        }
    }

    fn open_policy_allows(
        &mut self,
        policy: PolicyRef<'a>,
        class: Class,
        out: &mut Vec<OpenCondition>,
    ) {
        for st in &policy.document.statements {
            if st.effect != Effect::Allow {
                continue;
            }
            let m = self.eval_statement(policy, st);
            if class_tri(&m, class) == Tri::Unknown {
                self.open_of_statement(policy, st, class, out);
            }
        }
    }

    /// The parts of one statement that are `Unknown`.
    fn open_of_statement(
        &mut self,
        policy: PolicyRef<'a>,
        st: &'a Statement,
        class: Class,
        out: &mut Vec<OpenCondition>,
    ) {
        let base = |operator: &str, key: &str, values: Vec<String>| OpenCondition {
            operator: operator.to_string(),
            key: key.to_string(),
            values,
            policy_type: policy.policy_type,
            policy: Arc::from(policy.id),
            statement: Arc::from(st.label()),
            effect: st.effect,
        };
        let pm = self.eval_principal(policy, st);
        let principal_tri = match class {
            Class::Any => pm.any(),
            Class::Unlimited => pm.unlimited,
            Class::Limited => pm.limited,
            Class::Account => pm.account,
        };
        if principal_tri == Tri::Unknown {
            let (operator, element) = match (&st.principal, &st.not_principal) {
                (Some(p), _) => ("Principal", Some(p)),
                (None, np) => ("NotPrincipal", np.as_ref()),
            };
            if let Some(element) = element {
                for (key, values) in principal_entries(element) {
                    out.push(base(operator, &key, values));
                }
            }
        }
        if self.eval_resource(policy, st) == Tri::Unknown {
            let (operator, values) = match (&st.resource, &st.not_resource) {
                (Some(v), _) => ("Resource", v.clone()),
                (None, Some(v)) => ("NotResource", v.clone()),
                (None, None) => ("Resource", Vec::new()),
            };
            out.push(base(operator, "Resource", values));
        }
        let vars = policy.document.variables_enabled();
        for clause in &st.condition {
            if eval_clause(
                clause,
                &self.request.context,
                vars,
                policy.id,
                &mut self.diagnostics,
            ) == Tri::Unknown
            {
                out.push(base(&clause.operator, &clause.key, clause.values.clone()));
            }
        }
    }
}

/// One way to allow: its truth value and the sides it uses.
type Path<'a> = (Tri, [Option<(Side<'a>, SideId)>; 4]);

/// Which side of the decision a set of statements forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SideId {
    Identity,
    Resource(Class),
    Boundary,
    Session,
}

fn class_tri(m: &StmtMatch, class: Class) -> Tri {
    m.rest.and(match class {
        Class::Any => m.principal.any(),
        Class::Unlimited => m.principal.unlimited,
        Class::Limited => m.principal.limited,
        Class::Account => m.principal.account,
    })
}

fn principal_entries(p: &Principal) -> Vec<(String, Vec<String>)> {
    match p {
        Principal::Wildcard => vec![("*".to_string(), vec!["*".to_string()])],
        Principal::Map(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    }
}

/// A decision that no policy took part in: allowed with no proof, or implicitly denied by
/// `blocker`.
fn fixed_decision(blocker: Option<Blocker>) -> Decision {
    Decision {
        outcome: if blocker.is_some() {
            Outcome::ImplicitDeny
        } else {
            Outcome::Allowed
        },
        conditional: false,
        because: Vec::new(),
        conditions: Vec::new(),
        blocked_by: blocker,
        diagnostics: Vec::new(),
    }
}

fn reason((policy, st): (PolicyRef<'_>, &Statement), effect: Effect) -> Reason {
    Reason {
        policy_type: policy.policy_type,
        policy: Arc::from(policy.id),
        statement: Arc::from(st.label()),
        effect,
    }
}
