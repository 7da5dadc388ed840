//! Condition operators in three-valued logic (IAM-SEMANTICS R3).
//!
//! A clause is one operator and one key with its values. Clauses of a block are ANDed by the
//! caller; values of a clause are ORed, and NORed for negated operators (R3.1). Missing keys
//! follow R3.2, set operators R3.4.
//!
//! Choices where the spec leaves room:
//! - A multivalued context value used without `ForAllValues:`/`ForAnyValue:` never matches, for
//!   negated operators too (iam-simulate's behaviour, reported as confirmed by AWS).
//! - A policy variable with no value makes that policy value "no match": positive operators are
//!   false and negated operators true, as the AWS docs say (iam-simulate differs, R1.6).
//! - Policy variables are substituted in String, Arn and Bool operators (Bool is ✱ in R1.6).
//! - Operator names are recognised ignoring ASCII case; an operator we do not know evaluates to
//!   `Unknown` with an `unsupported-operator` warning, so an Allow becomes conditional and a Deny
//!   becomes a possible deny.

use std::net::IpAddr;

use super::glob;
use super::matching::{ArnRules, arn_fields_match, arn_prefix_coverage, split_arn};
use super::variables::{Mode, Subst, lookup, substitute};
use super::{Context, ContextValue, Tri};
use crate::model::{ConditionClause, Diagnostic};

/// How several request values combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SetOp {
    Single,
    ForAll,
    ForAny,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

/// A parsed condition operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Operator {
    set: SetOp,
    family: Family,
    negated: bool,
    if_exists: bool,
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    (s.len() >= prefix.len()
        && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes()))
    .then(|| &s[prefix.len()..])
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    (s.is_char_boundary(cut) && s.as_bytes()[cut..].eq_ignore_ascii_case(suffix.as_bytes()))
        .then(|| &s[..cut])
}

fn parse_operator(text: &str) -> Option<Operator> {
    let (set, rest) = if let Some(rest) = strip_prefix_ci(text, "ForAllValues:") {
        (SetOp::ForAll, rest)
    } else if let Some(rest) = strip_prefix_ci(text, "ForAnyValue:") {
        (SetOp::ForAny, rest)
    } else {
        (SetOp::Single, text)
    };
    let (if_exists, base) = match strip_suffix_ci(rest, "IfExists") {
        Some(base) => (true, base),
        None => (false, rest),
    };
    const TABLE: &[(&str, Family, bool)] = &[
        ("StringEquals", Family::StringEquals, false),
        ("StringNotEquals", Family::StringEquals, true),
        (
            "StringEqualsIgnoreCase",
            Family::StringEqualsIgnoreCase,
            false,
        ),
        (
            "StringNotEqualsIgnoreCase",
            Family::StringEqualsIgnoreCase,
            true,
        ),
        ("StringLike", Family::StringLike, false),
        ("StringNotLike", Family::StringLike, true),
        ("NumericEquals", Family::Numeric(Cmp::Eq), false),
        ("NumericNotEquals", Family::Numeric(Cmp::Eq), true),
        ("NumericLessThan", Family::Numeric(Cmp::Lt), false),
        ("NumericLessThanEquals", Family::Numeric(Cmp::Le), false),
        ("NumericGreaterThan", Family::Numeric(Cmp::Gt), false),
        ("NumericGreaterThanEquals", Family::Numeric(Cmp::Ge), false),
        ("DateEquals", Family::Date(Cmp::Eq), false),
        ("DateNotEquals", Family::Date(Cmp::Eq), true),
        ("DateLessThan", Family::Date(Cmp::Lt), false),
        ("DateLessThanEquals", Family::Date(Cmp::Le), false),
        ("DateGreaterThan", Family::Date(Cmp::Gt), false),
        ("DateGreaterThanEquals", Family::Date(Cmp::Ge), false),
        ("Bool", Family::Bool, false),
        ("BinaryEquals", Family::Binary, false),
        ("IpAddress", Family::Ip, false),
        ("NotIpAddress", Family::Ip, true),
        ("ArnEquals", Family::Arn, false),
        ("ArnLike", Family::Arn, false),
        ("ArnNotEquals", Family::Arn, true),
        ("ArnNotLike", Family::Arn, true),
        ("Null", Family::Null, false),
    ];
    let &(_, family, negated) = TABLE
        .iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(base))?;
    if family == Family::Null && (if_exists || set != SetOp::Single) {
        return None;
    }
    Some(Operator {
        set,
        family,
        negated,
        if_exists,
    })
}

/// What is known of one request value.
#[derive(Clone, Copy, Debug)]
enum Rv<'a> {
    Known(&'a str),
    Prefix(&'a str),
}

/// Evaluates one clause against the context.
///
/// `vars` says whether policy variables are substituted (the document's Version is
/// `2012-10-17`). Warnings about the clause go to `diagnostics`, with `subject` as their subject.
pub fn eval_clause(
    clause: &ConditionClause,
    context: &Context,
    vars: bool,
    subject: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Tri {
    let Some(op) = parse_operator(&clause.operator) else {
        diagnostics.push(Diagnostic::warning(
            "unsupported-operator",
            subject,
            format!(
                "condition operator `{}` is not supported; its clause on `{}` is treated as unknown",
                clause.operator, clause.key
            ),
        ));
        return Tri::Unknown;
    };
    let value = lookup(context, &clause.key);
    if op.family == Family::Null {
        let present = match value {
            ContextValue::Absent => false,
            ContextValue::Unknown | ContextValue::NoneOf(_) => return Tri::Unknown,
            ContextValue::Single(_) | ContextValue::Multi(_) | ContextValue::Prefix(_) => true,
        };
        return Tri::from(clause.values.iter().any(|v| {
            if v.eq_ignore_ascii_case("true") {
                !present
            } else if v.eq_ignore_ascii_case("false") {
                present
            } else {
                false
            }
        }));
    }
    match value {
        ContextValue::Unknown => Tri::Unknown,
        ContextValue::NoneOf(excluded) => none_of(op, clause, excluded),
        ContextValue::Absent => {
            if op.if_exists {
                Tri::True
            } else {
                match op.set {
                    SetOp::ForAll => Tri::True,
                    SetOp::ForAny => Tri::False,
                    SetOp::Single => Tri::from(op.negated),
                }
            }
        }
        ContextValue::Single(s) => one_value(op, clause, Rv::Known(s), context, vars),
        ContextValue::Prefix(p) => one_value(op, clause, Rv::Prefix(p), context, vars),
        ContextValue::Multi(values) => match op.set {
            SetOp::Single => Tri::False,
            SetOp::ForAll => values.iter().fold(Tri::True, |acc, v| {
                acc.and(one_value(op, clause, Rv::Known(v), context, vars))
            }),
            SetOp::ForAny => values.iter().fold(Tri::False, |acc, v| {
                acc.or(one_value(op, clause, Rv::Known(v), context, vars))
            }),
        },
    }
}

/// A key that is absent or has a value outside `excluded`. Only string equality against
/// excluded values is decidable: a negated operator is then true whether the key is absent or
/// not, and a positive one without `IfExists` is false.
fn none_of(op: Operator, clause: &ConditionClause, excluded: &[String]) -> Tri {
    let all_excluded = !clause.values.is_empty()
        && clause.values.iter().all(|pv| {
            !pv.contains("${")
                && match op.family {
                    Family::StringEquals => excluded.iter().any(|e| e == pv),
                    Family::StringEqualsIgnoreCase => {
                        excluded.iter().any(|e| e.eq_ignore_ascii_case(pv))
                    }
                    _ => false,
                }
        });
    match (all_excluded, op.set, op.negated, op.if_exists) {
        (true, SetOp::Single, true, _) => Tri::True,
        (true, SetOp::Single, false, false) => Tri::False,
        _ => Tri::Unknown,
    }
}

/// One request value against every policy value: OR, negated for negated operators.
fn one_value(
    op: Operator,
    clause: &ConditionClause,
    rv: Rv<'_>,
    context: &Context,
    vars: bool,
) -> Tri {
    let mut any = Tri::False;
    for pv in &clause.values {
        any = any.or(compare(op.family, pv, rv, context, vars));
        if any == Tri::True {
            break;
        }
    }
    if op.negated { any.not() } else { any }
}

/// Does the policy value match the request value, for the positive form of the operator?
fn compare(family: Family, pv: &str, rv: Rv<'_>, context: &Context, vars: bool) -> Tri {
    let mode = match family {
        Family::StringLike | Family::Arn => Some(Mode::Glob),
        Family::StringEquals | Family::StringEqualsIgnoreCase | Family::Bool => Some(Mode::Literal),
        _ => None,
    };
    let (pv, escaped) = match mode {
        Some(mode) if vars => match substitute(pv, context, mode) {
            Subst::Value(text, escaped) => (text, escaped),
            Subst::Missing => return Tri::False,
            Subst::Unknown => return Tri::Unknown,
        },
        _ => (std::borrow::Cow::Borrowed(pv), false),
    };
    let pv: &str = &pv;
    match (family, rv) {
        (Family::StringEquals, Rv::Known(s)) => Tri::from(pv == s),
        (Family::StringEquals, Rv::Prefix(p)) => prefix_literal(pv.starts_with(p)),
        (Family::StringEqualsIgnoreCase | Family::Bool, Rv::Known(s)) => {
            Tri::from(pv.eq_ignore_ascii_case(s))
        }
        (Family::StringEqualsIgnoreCase | Family::Bool, Rv::Prefix(p)) => prefix_literal(
            pv.len() >= p.len() && pv.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes()),
        ),
        (Family::StringLike, Rv::Known(s)) => Tri::from(glob::matches_with(pv, s, false, escaped)),
        (Family::StringLike, Rv::Prefix(p)) => glob::prefix_coverage_with(pv, p, false, escaped),
        (Family::Arn, rv) => {
            let Some(pattern) = split_arn(pv) else {
                return Tri::False;
            };
            match rv {
                Rv::Known(s) => match split_arn(s) {
                    Some(value) => Tri::from(arn_fields_match(
                        ArnRules::Condition,
                        &pattern,
                        &value,
                        escaped,
                    )),
                    None => Tri::False,
                },
                Rv::Prefix(p) => arn_prefix_coverage(ArnRules::Condition, &pattern, p, escaped),
            }
        }
        (Family::Numeric(cmp), Rv::Known(s)) => match (parse_number(pv), parse_number(s)) {
            (Some(policy), Some(request)) => Tri::from(compare_numbers(cmp, request, policy)),
            _ => Tri::False,
        },
        (Family::Date(cmp), Rv::Known(s)) => match (parse_date(pv), parse_date(s)) {
            (Some(policy), Some(request)) => Tri::from(compare_numbers(cmp, request, policy)),
            _ => Tri::False,
        },
        (Family::Binary, Rv::Known(s)) => match (base64_decode(pv), base64_decode(s)) {
            (Some(a), Some(b)) => Tri::from(a == b),
            _ => Tri::from(pv == s),
        },
        (Family::Ip, Rv::Known(s)) => match (parse_cidr(pv), parse_cidr(s)) {
            (Some(net), Some((addr, _))) => Tri::from(cidr_contains(net, addr)),
            _ => Tri::False,
        },
        (Family::Numeric(_) | Family::Date(_) | Family::Binary | Family::Ip, Rv::Prefix(_)) => {
            Tri::Unknown
        }
        (Family::Null, _) => Tri::Unknown,
    }
}

/// A literal policy value against a value known only by its prefix: never surely equal.
fn prefix_literal(starts: bool) -> Tri {
    if starts { Tri::Unknown } else { Tri::False }
}

/// `request <cmp> policy`.
fn compare_numbers(cmp: Cmp, request: f64, policy: f64) -> bool {
    match cmp {
        Cmp::Eq => request == policy,
        Cmp::Lt => request < policy,
        Cmp::Le => request <= policy,
        Cmp::Gt => request > policy,
        Cmp::Ge => request >= policy,
    }
}

fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+'))
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Seconds since the epoch, from epoch seconds or an ISO-8601 (W3C) date or date-time; a time
/// without an offset is UTC.
pub(crate) fn parse_date(s: &str) -> Option<f64> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let s = s.trim();
    if let Some(n) = parse_number(s) {
        return Some(n);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp() as f64 + f64::from(dt.timestamp_subsec_nanos()) / 1e9);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.timestamp() as f64 + f64::from(dt.timestamp_subsec_nanos()) / 1e9);
        }
    }
    let naive = s.strip_suffix('Z').unwrap_or(s);
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(naive, fmt) {
            let utc = dt.and_utc();
            return Some(utc.timestamp() as f64 + f64::from(utc.timestamp_subsec_nanos()) / 1e9);
        }
    }
    NaiveDate::parse_from_str(naive, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc().timestamp() as f64)
}

/// An address and prefix length; a bare address is /32 or /128.
fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let s = s.trim();
    let (addr, len) = match s.split_once('/') {
        Some((addr, len)) => (addr, Some(len.parse::<u8>().ok()?)),
        None => (s, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(max);
    (len <= max).then_some((addr, len))
}

fn cidr_contains((net, len): (IpAddr, u8), addr: IpAddr) -> bool {
    match (net, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len))
            };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// Decodes standard base64 (padding optional, whitespace ignored).
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    let mut padding = false;
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding = true;
                continue;
            }
            b if b.is_ascii_whitespace() => continue,
            _ => return None,
        };
        if padding {
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}
