//! Action and ARN matching (IAM-SEMANTICS R1.2, R1.3, and the ARN operators of R3.3).
//!
//! ARNs are split on their first five colons into six fields. Patterns are matched field by
//! field, so `*` and `?` never cross a colon in the first five fields, while the sixth (resource)
//! field keeps any further colons and its `*` crosses `/` and `:`.

use super::Tri;
use super::glob;

/// True when the action pattern matches the request action (R1.2).
///
/// `*` alone matches every action. Otherwise the service prefixes must be equal ignoring case
/// and the names are matched as a case-insensitive glob. Patterns or actions without a
/// `service:` prefix, with an empty name, or with whitespace never match.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    match RequestAction::new(action) {
        Some(action) => action.matched_by(pattern),
        None => pattern == "*",
    }
}

/// A request action split once into service and name, for matching against many patterns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestAction<'a> {
    service: &'a str,
    name: &'a str,
}

impl<'a> RequestAction<'a> {
    /// Splits `service:Name`; `None` when the action has no service, no name, or whitespace
    /// (such an action is matched only by `*`).
    pub fn new(action: &'a str) -> Option<RequestAction<'a>> {
        let (service, name) = action.split_once(':')?;
        (!name.is_empty() && !has_whitespace(action)).then_some(RequestAction { service, name })
    }

    /// True when the action pattern matches (R1.2).
    pub fn matched_by(&self, pattern: &str) -> bool {
        if pattern == "*" {
            return true;
        }
        // The pattern's service is what precedes its first `:`. The action's service has no `:`,
        // so the pattern names it exactly when it starts with it (ignoring case) followed by
        // `:`; checked on bytes first, without searching the pattern.
        let n = self.service.len();
        let bytes = pattern.as_bytes();
        if bytes.len() <= n
            || bytes[n] != b':'
            || !bytes[..n].eq_ignore_ascii_case(self.service.as_bytes())
        {
            return false;
        }
        let pname = &pattern[n + 1..];
        !pname.is_empty() && !has_whitespace(pattern) && glob::matches_ignore_case(pname, self.name)
    }
}

fn has_whitespace(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_whitespace())
}

/// The six colon-separated fields of an ARN: `arn`, partition, service, region, account,
/// resource. `None` when there are fewer than six.
pub fn split_arn(arn: &str) -> Option<[&str; 6]> {
    let mut it = arn.splitn(6, ':');
    Some([
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    ])
}

/// How the fields of an ARN pattern are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArnRules {
    /// The `Resource` element: partition, region and account are globs that ignore case; the
    /// service must be equal ignoring case (no wildcards, except that a service field of exactly
    /// `*`, which padding a short ARN produces, matches every service); the resource field is a
    /// case-sensitive glob.
    Resource,
    /// `ArnLike`/`ArnEquals`: every field is a case-sensitive glob.
    Condition,
}

/// Matches one non-resource field.
fn field_matches(rules: ArnRules, index: usize, pattern: &str, value: &str, escapes: bool) -> bool {
    match (rules, index) {
        (_, 0) => pattern == value,
        (ArnRules::Resource, 2) => pattern == "*" || pattern.eq_ignore_ascii_case(value),
        (ArnRules::Resource, _) => glob::matches_with(pattern, value, true, escapes),
        (ArnRules::Condition, _) => glob::matches_with(pattern, value, false, escapes),
    }
}

/// True when the six pattern fields match the six value fields.
///
/// `escapes` says whether the pattern's resource field is in the escaped form produced by
/// variable substitution (see [`glob`]); the other fields never contain variables.
pub fn arn_fields_match(
    rules: ArnRules,
    pattern: &[&str; 6],
    value: &[&str; 6],
    escapes: bool,
) -> bool {
    (0..5).all(|i| {
        field_matches(
            rules,
            i,
            pattern[i],
            value[i],
            escapes && rules == ArnRules::Condition,
        )
    }) && glob::matches_with(pattern[5], value[5], false, escapes)
}

/// Of the ARNs that start with `prefix`, how many do the six pattern fields match?
///
/// `True`: all, `Unknown`: some, `False`: none. When the prefix ends before the resource field,
/// "all" is impossible (some continuations are not ARNs at all).
pub fn arn_prefix_coverage(
    rules: ArnRules,
    pattern: &[&str; 6],
    prefix: &str,
    escapes: bool,
) -> Tri {
    let parts: Vec<&str> = prefix.splitn(6, ':').collect();
    let last = parts.len() - 1;
    for (i, part) in parts.iter().enumerate().take(last) {
        if !field_matches(
            rules,
            i,
            pattern[i],
            part,
            escapes && rules == ArnRules::Condition,
        ) {
            return Tri::False;
        }
    }
    let partial = parts[last];
    let coverage = match (rules, last) {
        (_, 5) => glob::prefix_coverage_with(pattern[5], partial, false, escapes),
        (_, 0) => Tri::from("arn".starts_with(partial)).and(Tri::Unknown),
        (ArnRules::Resource, 2) if pattern[2] == "*" => Tri::Unknown,
        (ArnRules::Resource, 2) => {
            let p = pattern[2];
            Tri::from(
                p.len() >= partial.len()
                    && p.as_bytes()[..partial.len()].eq_ignore_ascii_case(partial.as_bytes()),
            )
            .and(Tri::Unknown)
        }
        (ArnRules::Resource, _) => glob::prefix_coverage_with(pattern[last], partial, true, false),
        (ArnRules::Condition, _) => {
            glob::prefix_coverage_with(pattern[last], partial, false, escapes)
        }
    };
    if last < 5 {
        coverage.and(Tri::Unknown)
    } else {
        coverage
    }
}
