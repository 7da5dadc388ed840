//! Policy variables, `${key}` and `${key, 'default'}` (IAM-SEMANTICS R1.6).
//!
//! Substitution only happens in documents with `Version: 2012-10-17`; callers check that. Keys
//! are looked up case-insensitively. `${*}`, `${?}` and `${$}` stand for the literal characters.
//! Only single-valued keys may be used: a key with a multivalued value counts as having no value.

use std::borrow::Cow;

use super::{Context, ContextValue};

/// The result of substituting the variables of one policy value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subst<'a> {
    /// The text after substitution, and whether it is in the escaped glob form.
    Value(Cow<'a, str>, bool),
    /// A variable has no value and no default: the entry matches nothing (positive operators
    /// false, negated operators true).
    Missing,
    /// A variable's value is unknown, so the comparison is unknown.
    Unknown,
}

/// How the substituted text will be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Compared as a plain string: substituted values are inserted as they are.
    Literal,
    /// Matched as a glob: the result is in the escaped form, where raw `*` and `?` of the policy
    /// stay wildcards and substituted text is literal.
    Glob,
}

/// True when the text may contain a variable.
pub fn has_variable(text: &str) -> bool {
    text.contains("${")
}

/// Substitutes the variables of `text`. Text without `${` is returned borrowed and unescaped.
pub fn substitute<'a>(text: &'a str, context: &Context, mode: Mode) -> Subst<'a> {
    if !has_variable(text) {
        return Subst::Value(Cow::Borrowed(text), false);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    let push_raw = |out: &mut String, raw: &str| match mode {
        Mode::Literal => out.push_str(raw),
        Mode::Glob => {
            for c in raw.chars() {
                if c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    };
    let push_lit = |out: &mut String, lit: &str| match mode {
        Mode::Literal => out.push_str(lit),
        Mode::Glob => {
            for c in lit.chars() {
                if matches!(c, '\\' | '*' | '?') {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    };
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start + 2..].find('}') else {
            break;
        };
        push_raw(&mut out, &rest[..start]);
        let inner = &rest[start + 2..start + 2 + len];
        rest = &rest[start + 3 + len..];
        match inner.trim() {
            "*" => push_lit(&mut out, "*"),
            "?" => push_lit(&mut out, "?"),
            "$" => push_lit(&mut out, "$"),
            spec => {
                let (key, default) = match spec.split_once(',') {
                    Some((key, default)) => (key.trim(), Some(unquote(default.trim()))),
                    None => (spec, None),
                };
                match (lookup(context, key), default) {
                    (ContextValue::Single(v), _) => push_lit(&mut out, v),
                    (
                        ContextValue::Unknown | ContextValue::Prefix(_) | ContextValue::NoneOf(_),
                        _,
                    ) => {
                        return Subst::Unknown;
                    }
                    (ContextValue::Absent | ContextValue::Multi(_), Some(d)) => {
                        push_lit(&mut out, d)
                    }
                    (ContextValue::Absent | ContextValue::Multi(_), None) => return Subst::Missing,
                }
            }
        }
    }
    push_raw(&mut out, rest);
    Subst::Value(Cow::Owned(out), mode == Mode::Glob)
}

/// `text` in the escaped glob form with every variable read as `*`: what any values of the
/// variables could make it match. `${*}`, `${?}` and `${$}` stay the literal characters.
pub fn widened(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let escape = |out: &mut String, raw: &str, literal: bool| {
        for c in raw.chars() {
            if c == '\\' || (literal && matches!(c, '*' | '?')) {
                out.push('\\');
            }
            out.push(c);
        }
    };
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start + 2..].find('}') else {
            break;
        };
        escape(&mut out, &rest[..start], false);
        let inner = &rest[start + 2..start + 2 + len];
        rest = &rest[start + 3 + len..];
        match inner.trim() {
            lit @ ("*" | "?" | "$") => escape(&mut out, lit, true),
            _ => out.push('*'),
        }
    }
    escape(&mut out, rest, false);
    out
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .unwrap_or(s)
}

/// Looks a key up case-insensitively without allocating for ordinary keys.
pub fn lookup<'c>(context: &'c Context, key: &str) -> &'c ContextValue {
    context.get(key)
}
