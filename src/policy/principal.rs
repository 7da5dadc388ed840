//! `Principal` and `NotPrincipal` matching (IAM-SEMANTICS R1.4, R1.5).
//!
//! A `Principal` element matches a request in one of three ways, which decide how the grant
//! combines with identity policies and permissions boundaries (R2.4):
//! - *unlimited direct*: the session ARN, the user ARN when the user itself asks, `*`, or the
//!   service principal. Not limited by an implicit deny in identity policies or boundaries.
//! - *limited direct*: the role ARN, which covers every session of the role (and, in trust
//!   policies, a user ARN). Limited by the boundary and session policy, not by identity policies.
//! - *account*: the account id or `arn:…:iam::A:root`. Never grants on its own.
//!
//! Choices where the spec leaves room:
//! - `"*"` and `{"AWS": "*"}` both match service principals too (✱ R1.4, following the RCP
//!   examples that exempt services explicitly).
//! - Role names are compared ignoring ASCII case (IAM role names are unique ignoring case), the
//!   role path is ignored (the session ARN has none), partition and account must be equal.
//! - Principal ARNs with wildcards are compared literally: principals hold no partial wildcards.
//! - An anonymous caller (R7.1) is matched only by `"*"` and `{"AWS": "*"}`; a federated caller
//!   (R7.2) by those and by a `Federated` entry equal to its provider, compared exactly. Neither
//!   has an account, so account entries never match them. A `NotPrincipal` element lists an
//!   anonymous caller only through `"*"`, and a federated caller through `"*"` or its provider.

use super::matching::split_arn;
use super::{RequestPrincipal, Tri};
use crate::model::{Diagnostic, Principal, arn::is_account_id};

/// The request principal, parsed once per evaluation.
#[derive(Clone, Copy, Debug)]
pub enum Caller<'a> {
    /// A service principal.
    Service(&'a str),
    /// A role session.
    Session {
        /// Partition of the role ARN.
        partition: &'a str,
        /// Account of the role ARN.
        account: &'a str,
        /// The last path segment of the role ARN.
        role_name: &'a str,
        /// The session name, when known.
        session_name: Option<&'a str>,
    },
    /// An IAM user.
    User {
        /// The user ARN.
        arn: &'a str,
        /// Its partition.
        partition: &'a str,
        /// Its account.
        account: &'a str,
    },
    /// An account root user.
    Root {
        /// The partition.
        partition: &'a str,
        /// The account.
        account: &'a str,
    },
    /// An unsigned request.
    Anonymous,
    /// A web-identity or SAML caller, by its provider.
    Federated(&'a str),
}

impl<'a> Caller<'a> {
    /// Parses the request principal. A malformed ARN yields empty fields, which match nothing.
    pub fn new(principal: &'a RequestPrincipal) -> Caller<'a> {
        match principal {
            RequestPrincipal::Service(name) => Caller::Service(name),
            RequestPrincipal::Session {
                role_arn,
                session_name,
            } => {
                let [_, partition, _, _, account, resource] =
                    split_arn(role_arn).unwrap_or([""; 6]);
                let role_name = resource.rsplit('/').next().unwrap_or("");
                Caller::Session {
                    partition,
                    account,
                    role_name,
                    session_name: session_name.as_deref(),
                }
            }
            RequestPrincipal::User { arn } => {
                let [_, partition, _, _, account, _] = split_arn(arn).unwrap_or([""; 6]);
                Caller::User {
                    arn,
                    partition,
                    account,
                }
            }
            RequestPrincipal::AccountRoot { partition, account } => {
                Caller::Root { partition, account }
            }
            RequestPrincipal::Anonymous => Caller::Anonymous,
            RequestPrincipal::Federated { provider } => Caller::Federated(provider),
        }
    }

    /// True for callers with identity policies, a boundary, session policies and SCPs: sessions,
    /// users and root users. Service principals, anonymous and federated callers have none.
    pub fn has_identity_side(&self) -> bool {
        matches!(
            self,
            Caller::Session { .. } | Caller::User { .. } | Caller::Root { .. }
        )
    }

    /// The principal's account; `None` for service principals, anonymous and federated callers.
    pub fn account(&self) -> Option<&'a str> {
        match *self {
            Caller::Service(_) | Caller::Anonymous | Caller::Federated(_) => None,
            Caller::Session { account, .. }
            | Caller::User { account, .. }
            | Caller::Root { account, .. } => Some(account),
        }
    }

    fn partition(&self) -> &'a str {
        match *self {
            Caller::Service(_) | Caller::Anonymous | Caller::Federated(_) => "",
            Caller::Session { partition, .. }
            | Caller::User { partition, .. }
            | Caller::Root { partition, .. } => partition,
        }
    }
}

/// How a `Principal` element matched, one truth value per class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrincipalMatch {
    /// Session ARN, user ARN of the asking user, `*`, service.
    pub unlimited: Tri,
    /// Role ARN.
    pub limited: Tri,
    /// Account id or root ARN.
    pub account: Tri,
}

impl PrincipalMatch {
    /// Matches as everyone: used for policies whose statements carry no principal.
    pub const EVERYONE: PrincipalMatch = PrincipalMatch {
        unlimited: Tri::True,
        limited: Tri::False,
        account: Tri::False,
    };
    /// Matches no one.
    pub const NOBODY: PrincipalMatch = PrincipalMatch {
        unlimited: Tri::False,
        limited: Tri::False,
        account: Tri::False,
    };

    /// Any class matched.
    pub fn any(&self) -> Tri {
        self.unlimited.or(self.limited).or(self.account)
    }
}

/// One entry of a `Principal` map, classified.
enum Entry<'p> {
    Everyone,
    Account {
        partition: Option<&'p str>,
        account: &'p str,
    },
    Role {
        partition: &'p str,
        account: &'p str,
        name: &'p str,
    },
    Session {
        partition: &'p str,
        account: &'p str,
        role: &'p str,
        session: &'p str,
    },
    User(&'p str),
    Service(&'p str),
    /// A `Federated` entry: an OIDC or SAML provider ARN, or `cognito-identity.amazonaws.com`.
    Federated(&'p str),
    /// CanonicalUser, federated-user sessions: none of our callers.
    Other,
    /// A unique id (`AROA…`, `AIDA…`) left by a deleted role or user.
    Dangling,
    Unrecognized,
}

fn classify<'p>(kind: &str, entry: &'p str) -> Entry<'p> {
    if entry == "*" && (kind == "AWS" || kind == "*") {
        return Entry::Everyone;
    }
    match kind {
        "Service" => return Entry::Service(entry),
        "Federated" => return Entry::Federated(entry),
        "AWS" => {}
        _ => return Entry::Other,
    }
    if is_account_id(entry) {
        return Entry::Account {
            partition: None,
            account: entry,
        };
    }
    if let Some([arn, partition, service, _, account, resource]) = split_arn(entry) {
        if arn != "arn" {
            return Entry::Unrecognized;
        }
        return match service {
            "iam" if resource == "root" => Entry::Account {
                partition: Some(partition),
                account,
            },
            "iam" if resource.starts_with("role/") => Entry::Role {
                partition,
                account,
                name: resource.rsplit('/').next().unwrap_or(""),
            },
            "iam" if resource.starts_with("user/") => Entry::User(entry),
            "sts" => match resource
                .strip_prefix("assumed-role/")
                .and_then(|r| r.split_once('/'))
            {
                Some((role, session)) => Entry::Session {
                    partition,
                    account,
                    role,
                    session,
                },
                None => Entry::Other,
            },
            _ => Entry::Other,
        };
    }
    let looks_like_id = entry.len() >= 16
        && entry.starts_with('A')
        && entry
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if looks_like_id {
        Entry::Dangling
    } else {
        Entry::Unrecognized
    }
}

/// Which identity of the caller's chain an entry names, if any.
#[derive(Clone, Copy, Debug)]
struct Names {
    /// The session (or the user, or the service: the caller itself).
    itself: Tri,
    /// The role of a session.
    role: Tri,
    /// The caller's account.
    account: Tri,
}

fn names(entry: &Entry<'_>, caller: &Caller<'_>) -> Names {
    let mut n = Names {
        itself: Tri::False,
        role: Tri::False,
        account: Tri::False,
    };
    match (entry, caller) {
        (Entry::Everyone, _) => {
            n.itself = Tri::True;
            n.role = Tri::True;
            n.account = Tri::True;
        }
        (Entry::Service(s), Caller::Service(name)) => n.itself = Tri::from(s == name),
        (Entry::Federated(p), Caller::Federated(provider)) => n.itself = Tri::from(p == provider),
        (Entry::Account { partition, account }, _) => {
            let same = caller.account() == Some(*account)
                && partition.is_none_or(|p| p == caller.partition());
            n.account = Tri::from(same);
        }
        (
            Entry::Role {
                partition,
                account,
                name,
            },
            Caller::Session {
                partition: cp,
                account: ca,
                role_name,
                ..
            },
        ) => {
            n.role =
                Tri::from(partition == cp && account == ca && name.eq_ignore_ascii_case(role_name));
        }
        (
            Entry::Session {
                partition,
                account,
                role,
                session,
            },
            Caller::Session {
                partition: cp,
                account: ca,
                role_name,
                session_name,
            },
        ) if partition == cp && account == ca && role.eq_ignore_ascii_case(role_name) => {
            n.itself = match session_name {
                Some(s) => Tri::from(s == session),
                None => Tri::Unknown,
            };
        }
        (Entry::User(arn), Caller::User { arn: user, .. }) => n.itself = Tri::from(arn == user),
        _ => {}
    }
    n
}

fn warn_entry(entry: &Entry<'_>, raw: &str, subject: &str, diagnostics: &mut Vec<Diagnostic>) {
    match entry {
        Entry::Dangling => diagnostics.push(Diagnostic::warning(
            "dangling-principal",
            subject,
            format!(
                "principal `{raw}` is a unique id of a deleted role or user and matches nothing"
            ),
        )),
        Entry::Unrecognized => diagnostics.push(Diagnostic::warning(
            "unrecognized-principal",
            subject,
            format!("principal `{raw}` is not an account, ARN or service and matches nothing"),
        )),
        _ => {}
    }
}

/// Calls `f` on every (principal type, entry) of the element.
fn for_each_entry<'p>(principal: &'p Principal, mut f: impl FnMut(&'p str, &'p str)) {
    match principal {
        Principal::Wildcard => f("*", "*"),
        Principal::Map(map) => {
            for (kind, entries) in map {
                for entry in entries {
                    f(kind, entry);
                }
            }
        }
    }
}

/// Matches a `Principal` element against the caller.
///
/// `user_limited` classes a user-ARN match as limited (by the boundary) instead of unlimited:
/// trust policies need it (R2.6, "check the user's permissions boundary"), while other resource
/// policies grant a named user regardless of its boundary (R2.4).
pub fn match_principal(
    principal: &Principal,
    caller: &Caller<'_>,
    user_limited: bool,
    subject: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> PrincipalMatch {
    let mut m = PrincipalMatch::NOBODY;
    for_each_entry(principal, |kind, raw| {
        let entry = classify(kind, raw);
        warn_entry(&entry, raw, subject, diagnostics);
        let n = names(&entry, caller);
        match entry {
            Entry::Role { .. } => m.limited = m.limited.or(n.role),
            Entry::Account { .. } => m.account = m.account.or(n.account),
            Entry::User(_) if user_limited => m.limited = m.limited.or(n.itself),
            _ => m.unlimited = m.unlimited.or(n.itself),
        }
    });
    m
}

/// Does a `NotPrincipal` statement apply to the caller (R1.5)?
///
/// Conservative rule (✱ R1.5): the caller is excluded only when every identity of its chain is
/// listed (session, role and account for a session; user and account for a user; the account for
/// the root user; the service name for a service; the provider for a federated caller; only `*`
/// for an anonymous caller). When some but not all are listed, the answer is `Unknown`. A listed
/// session whose session name is unknown counts as `Unknown`.
pub fn not_principal_applies(
    principal: &Principal,
    caller: &Caller<'_>,
    subject: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Tri {
    let mut listed = Names {
        itself: Tri::False,
        role: Tri::False,
        account: Tri::False,
    };
    for_each_entry(principal, |kind, raw| {
        let entry = classify(kind, raw);
        warn_entry(&entry, raw, subject, diagnostics);
        let n = names(&entry, caller);
        listed.itself = listed.itself.or(n.itself);
        listed.role = listed.role.or(n.role);
        listed.account = listed.account.or(n.account);
    });
    let chain: &[Tri] = match caller {
        Caller::Session { .. } => &[listed.itself, listed.role, listed.account],
        Caller::User { .. } => &[listed.itself, listed.account],
        Caller::Root { .. } => &[listed.account],
        Caller::Service(_) | Caller::Anonymous | Caller::Federated(_) => &[listed.itself],
    };
    let all = chain.iter().fold(Tri::True, |acc, t| acc.and(*t));
    let any = chain.iter().fold(Tri::False, |acc, t| acc.or(*t));
    match (all, any) {
        (Tri::True, _) => Tri::False,
        (_, Tri::False) => Tri::True,
        _ => Tri::Unknown,
    }
}
