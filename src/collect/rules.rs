//! The `rolechain.rules/v1` reader (docs/check.md): the TOML rules file of `rolechain check`.
//!
//! This is rolechain's own format, so unknown keys are errors, as in requests. The file is read
//! through serde with the `toml` crate, every value kept with its span, and every error names
//! the file, the line and the column: the toml crate's byte span for syntax and shape errors,
//! and the span of the offending value for what serde cannot see (an unknown node kind, a
//! duplicate rule name, an empty selector).
//!
//! Only the file is checked here; whether its selectors match anything is a question for a
//! snapshot, answered by `analysis::check` with the positions kept in the rules.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;

use crate::model::rules::{
    Conditional, Expect, KINDS, Located, Position, Rule, Rules, Selector, Test,
};

/// The schema name a rules file must carry.
pub const RULES_SCHEMA: &str = "rolechain.rules/v1";

/// Why a rules file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The file could not be read.
    #[error("reading `{file}`")]
    Io {
        /// The file.
        file: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not UTF-8.
    #[error("`{file}` is not UTF-8 text (invalid byte at offset {offset}): expected TOML")]
    NotUtf8 {
        /// The file.
        file: String,
        /// The offset of the first invalid byte.
        offset: usize,
    },
    /// Invalid TOML, a wrong type, an unknown or missing key, or a value the format refuses.
    #[error("`{file}:{at}`: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// Where.
        at: Position,
        /// What is wrong, in one line.
        message: String,
    },
}

impl RulesError {
    /// Where in the file the error is, when it is in the file.
    pub fn position(&self) -> Option<Position> {
        match self {
            RulesError::Invalid { at, .. } => Some(*at),
            _ => None,
        }
    }
}

/// Reads and parses a rules file.
///
/// # Errors
/// The file cannot be read or is not UTF-8, or [`parse_rules`] refuses it.
pub fn load_rules(path: &Path) -> Result<Rules, RulesError> {
    let file = path.display().to_string();
    if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(RulesError::Io {
            file,
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "is a directory: expected a file",
            ),
        });
    }
    let bytes = std::fs::read(path).map_err(|source| RulesError::Io {
        file: file.clone(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| RulesError::NotUtf8 {
        file: file.clone(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    parse_rules(&text, &file)
}

/// Parses the text of a rules file; `file` names it in errors.
///
/// # Errors
/// [`RulesError::Invalid`] with the line and column of the first problem: TOML syntax, a key
/// the format does not have, a missing or mistyped key, a `schema` other than
/// `rolechain.rules/v1`, no rule, a duplicate or empty rule name, an empty selector, list or tag
/// table, an unknown node kind, or an action that is not `service:action`.
///
/// # Example
/// ```
/// let rules = rolechain::collect::rules::parse_rules(r#"
/// schema = "rolechain.rules/v1"
///
/// [[rule]]
/// name = "web-reads-its-database"
/// expect = "reach"
/// from = { service = "web" }
/// to = { arn = "arn:aws:secretsmanager:*:*:secret:web/db-*" }
/// "#, "rules.toml").unwrap();
/// assert_eq!(rules.rules[0].name, "web-reads-its-database");
/// ```
pub fn parse_rules(text: &str, file: &str) -> Result<Rules, RulesError> {
    let reader = Reader { text, file };
    let dto: RulesFile = toml::from_str(text).map_err(|e| {
        let at = reader.position(e.span().map_or(0, |s| s.start));
        reader.error_at(at, e.message())
    })?;
    reader.rules(dto)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    schema: Spanned<String>,
    #[serde(default, rename = "rule")]
    rules: Option<Spanned<RuleList>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDto {
    name: Spanned<String>,
    #[serde(default)]
    description: Option<String>,
    expect: Spanned<String>,
    from: Spanned<SelectorDto>,
    to: Spanned<SelectorDto>,
    #[serde(default)]
    actions: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    conditional: Option<Spanned<String>>,
    #[serde(default)]
    allow_empty: bool,
}

/// The `[[rule]]` tables.
struct RuleList(Vec<Spanned<RuleDto>>);

impl<'de> Deserialize<'de> for RuleList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RuleList;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("`[[rule]]` tables")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RuleList, A::Error> {
                let mut out = Vec::new();
                while let Some(rule) = seq.next_element()? {
                    out.push(rule);
                }
                Ok(RuleList(out))
            }

            fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<RuleList, A::Error> {
                Err(de::Error::custom(
                    "`[rule]` is one table: write each rule as an array table, `[[rule]]`",
                ))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A selector table. Keys in the order tests are built in.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a selector table, such as `{ kind = \"container\" }`"
)]
struct SelectorDto {
    #[serde(default)]
    id: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    arn: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    kind: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    account: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    ou: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    tag: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    #[serde(default)]
    service: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    cluster: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    not: Option<Box<Spanned<SelectorDto>>>,
    #[serde(default)]
    any: Option<Spanned<Vec<Spanned<SelectorDto>>>>,
}

/// A string, or an array of strings.
struct OneOrMany(Vec<Spanned<String>>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or an array of strings")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                // The caller's span covers the string; the value's own span is not known here.
                Ok(OneOrMany(vec![Spanned::new(0..0, v.to_string())]))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<Spanned<String>>()? {
                    out.push(s);
                }
                Ok(OneOrMany(out))
            }
        }
        deserializer.deserialize_any(V)
    }
}

struct Reader<'t> {
    text: &'t str,
    file: &'t str,
}

impl Reader<'_> {
    /// The 1-based line and column (in characters) of a byte offset.
    fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[start..].chars().count() + 1;
        Position { line, column }
    }

    fn at(&self, span: &Range<usize>) -> Position {
        self.position(span.start)
    }

    fn error_at(&self, at: Position, message: &str) -> RulesError {
        // One line: the toml crate's messages may span several.
        let message = message
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        RulesError::Invalid {
            file: self.file.to_string(),
            at,
            message,
        }
    }

    fn error(&self, span: &Range<usize>, message: &str) -> RulesError {
        self.error_at(self.at(span), message)
    }

    fn rules(&self, dto: RulesFile) -> Result<Rules, RulesError> {
        if dto.schema.get_ref() != RULES_SCHEMA {
            return Err(self.error(
                &dto.schema.span(),
                &format!(
                    "schema `{}`: expected `{RULES_SCHEMA}`",
                    dto.schema.get_ref()
                ),
            ));
        }
        let Some(list) = dto.rules.filter(|l| !l.get_ref().0.is_empty()) else {
            return Err(self.error_at(
                Position { line: 1, column: 1 },
                "no rules: a file with no `[[rule]]` checks nothing",
            ));
        };
        let mut names: BTreeMap<String, Position> = BTreeMap::new();
        let mut rules = Vec::new();
        for rule in list.into_inner().0 {
            let at = self.at(&rule.span());
            let rule = rule.into_inner();
            let name_span = rule.name.span();
            let name = rule.name.into_inner();
            if name.trim().is_empty() {
                return Err(self.error(&name_span, "a rule's `name` is empty"));
            }
            if let Some(first) = names.get(&name) {
                return Err(self.error(
                    &name_span,
                    &format!(
                        "a second rule named `{name}`: the first is at line {}",
                        first.line
                    ),
                ));
            }
            names.insert(name.clone(), self.at(&name_span));
            let expect = match rule.expect.get_ref().as_str() {
                "never" => Expect::Never,
                "reach" => Expect::Reach,
                other => {
                    return Err(self.error(
                        &rule.expect.span(),
                        &format!("`expect = \"{other}\"`: expected `never` or `reach`"),
                    ));
                }
            };
            let conditional = match rule.conditional {
                None => Conditional::default_for(expect),
                Some(c) => match c.get_ref().as_str() {
                    "count" => Conditional::Count,
                    "ignore" => Conditional::Ignore,
                    other => {
                        return Err(self.error(
                            &c.span(),
                            &format!("`conditional = \"{other}\"`: expected `count` or `ignore`"),
                        ));
                    }
                },
            };
            let mut actions = Vec::new();
            if let Some(list) = rule.actions {
                if list.get_ref().is_empty() {
                    return Err(self.error(
                        &list.span(),
                        "`actions` is empty: leave it out to count every evaluated action",
                    ));
                }
                for action in list.into_inner() {
                    let span = action.span();
                    let action = action.into_inner();
                    if action
                        .split_once(':')
                        .is_none_or(|(s, n)| s.is_empty() || n.is_empty())
                    {
                        return Err(self.error(
                            &span,
                            &format!(
                                "`{action}` is not an action: expected `service:Action`, such as `secretsmanager:GetSecretValue` or `s3:Get*`"
                            ),
                        ));
                    }
                    actions.push(Located {
                        value: action,
                        at: self.at(&span),
                    });
                }
            }
            rules.push(Rule {
                name,
                description: rule.description,
                expect,
                from: self.selector(rule.from)?,
                to: self.selector(rule.to)?,
                actions,
                conditional,
                allow_empty: rule.allow_empty,
                at,
            });
        }
        Ok(Rules {
            file: self.file.to_string(),
            rules,
        })
    }

    fn selector(&self, dto: Spanned<SelectorDto>) -> Result<Selector, RulesError> {
        let span = dto.span();
        let d = dto.into_inner();
        let mut parts = Vec::new();
        let lists = [
            (d.id, Test::Id as fn(Vec<String>) -> Test, "id"),
            (d.arn, Test::Arn, "arn"),
            (d.kind, Test::Kind, "kind"),
            (d.account, Test::Account, "account"),
            (d.ou, Test::Ou, "ou"),
        ];
        for (value, make, key) in lists {
            if let Some(v) = value {
                parts.push(self.list_test(v, make, key)?);
            }
        }
        if let Some(tags) = d.tag {
            let tag_span = tags.span();
            let tags = tags.into_inner();
            if tags.is_empty() {
                return Err(self.error(
                    &tag_span,
                    "`tag` is empty: give at least one `key = \"value\"`",
                ));
            }
            parts.push(Selector::Test(Located {
                value: Test::Tag(tags.into_iter().map(|(k, v)| (k, v.into_inner())).collect()),
                at: self.at(&tag_span),
            }));
        }
        for (value, make, key) in [
            (
                d.service,
                Test::Service as fn(Vec<String>) -> Test,
                "service",
            ),
            (d.cluster, Test::Cluster, "cluster"),
        ] {
            if let Some(v) = value {
                parts.push(self.list_test(v, make, key)?);
            }
        }
        if let Some(not) = d.not {
            parts.push(Selector::Not(Box::new(self.selector(*not)?)));
        }
        if let Some(any) = d.any {
            let any_span = any.span();
            let any = any.into_inner();
            if any.is_empty() {
                return Err(self.error(&any_span, "`any` is empty: give at least one selector"));
            }
            parts.push(Selector::Any(
                any.into_iter()
                    .map(|s| self.selector(s))
                    .collect::<Result<_, _>>()?,
            ));
        }
        match parts.len() {
            0 => Err(self.error(
                &span,
                "an empty selector: give at least one of `id`, `arn`, `kind`, `account`, `ou`, `tag`, `service`, `cluster`, `not`, `any` (every node: `arn = \"*\"`)",
            )),
            1 => Ok(parts.remove(0)),
            _ => Ok(Selector::All(parts)),
        }
    }

    fn list_test(
        &self,
        value: Spanned<OneOrMany>,
        make: fn(Vec<String>) -> Test,
        key: &str,
    ) -> Result<Selector, RulesError> {
        let span = value.span();
        let OneOrMany(items) = value.into_inner();
        if items.is_empty() {
            return Err(self.error(
                &span,
                &format!("`{key}` is an empty list: give at least one value"),
            ));
        }
        let mut values = Vec::new();
        let mut seen = BTreeSet::new();
        for item in items {
            // A single string has no span of its own: it is the whole value.
            let item_span = if item.span() == (0..0) {
                span.clone()
            } else {
                item.span()
            };
            let item = item.into_inner();
            if item.is_empty() {
                return Err(self.error(&item_span, &format!("`{key}` has an empty value")));
            }
            if key == "kind" && !KINDS.contains(&item.as_str()) {
                return Err(self.error(
                    &item_span,
                    &format!(
                        "`{item}` is not a node kind: expected one of {}",
                        KINDS
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            if seen.insert(item.clone()) {
                values.push(item);
            }
        }
        Ok(Selector::Test(Located {
            value: make(values),
            at: self.at(&span),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "schema = \"rolechain.rules/v1\"\n";

    fn parse(body: &str) -> Result<Rules, RulesError> {
        parse_rules(&format!("{HEAD}{body}"), "rules.toml")
    }

    #[track_caller]
    fn error(body: &str) -> String {
        match parse(body) {
            Ok(r) => panic!("expected an error, read {r:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reads_a_rule_with_every_selector() {
        let rules = parse(
            r#"
[[rule]]
name = "prod-secrets-stay-in-prod"
description = "No container outside the Prod OU reads a prod secret."
expect = "never"
from = { kind = "container", not = { ou = ["Prod", "ou-a1b2-22222222"] } }
to = { kind = "secret", tag = { env = "prod" }, any = [{ account = "data" }, { arn = "arn:aws:secretsmanager:*" }] }
actions = ["secretsmanager:GetSecretValue"]

[[rule]]
name = "web"
expect = "reach"
from = { service = "web", cluster = "prod", id = "x" }
to = { arn = "arn:aws:secretsmanager:*:*:secret:web/db-*" }
"#,
        )
        .unwrap();
        assert_eq!(rules.rules.len(), 2);
        let first = &rules.rules[0];
        assert_eq!(first.expect, Expect::Never);
        assert_eq!(first.conditional, Conditional::Count);
        assert_eq!(first.at, Position { line: 3, column: 1 });
        let Selector::All(parts) = &first.from else {
            panic!("{:?}", first.from)
        };
        let Selector::Not(inner) = &parts[1] else {
            panic!("{parts:?}")
        };
        let Selector::Test(ou) = inner.as_ref() else {
            panic!("{inner:?}")
        };
        assert_eq!(
            ou.value,
            Test::Ou(vec!["Prod".into(), "ou-a1b2-22222222".into()])
        );
        assert_eq!(
            ou.at,
            Position {
                line: 7,
                column: 43
            }
        );
        assert_eq!(ou.value.to_string(), r#"ou = ["Prod", "ou-a1b2-22222222"]"#);
        // A reach rule does not count conditional paths unless told to.
        assert_eq!(rules.rules[1].conditional, Conditional::Ignore);
    }

    #[test]
    fn toml_syntax_error_names_line_and_column() {
        let e = error("[[rule]]\nname = \"a\nexpect = \"never\"\n");
        assert!(e.starts_with("`rules.toml:3:"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn unknown_selector_key_is_an_error_at_the_key() {
        let e = error(
            "[[rule]]\nname = \"a\"\nexpect = \"never\"\nfrom = { sevice = \"web\" }\nto = { kind = \"secret\" }\n",
        );
        assert!(
            e.starts_with("`rules.toml:5:10`: unknown field `sevice`"),
            "{e}"
        );
    }

    #[test]
    fn unknown_rule_key_and_bad_expect_are_errors() {
        let e = error(
            "[[rule]]\nname = \"a\"\nexpect = \"never\"\nfrom = { kind = \"container\" }\nto = { kind = \"secret\" }\nstatus = \"allowed\"\n",
        );
        assert!(e.contains("unknown field `status`"), "{e}");
        let e = error(
            "[[rule]]\nname = \"a\"\nexpect = \"always\"\nfrom = { kind = \"container\" }\nto = { kind = \"secret\" }\n",
        );
        assert_eq!(
            e,
            "`rules.toml:4:10`: `expect = \"always\"`: expected `never` or `reach`"
        );
        let e = error(
            "[[rule]]\nname = \"a\"\nexpect = \"never\"\nfrom = { kind = \"container\" }\nto = { kind = \"secret\" }\nconditional = true\n",
        );
        assert_eq!(
            e,
            "`rules.toml:7:15`: invalid type: boolean `true`, expected a string"
        );
        // A selector is a table; `[rule]` is not an array of tables.
        let e = error("[[rule]]\nname = \"a\"\nexpect = \"never\"\nfrom = \"container\"\n");
        assert_eq!(
            e,
            "`rules.toml:5:8`: invalid type: string \"container\", expected a selector table, such as `{ kind = \"container\" }`"
        );
        let e = error("[rule]\nname = \"a\"\n");
        assert_eq!(
            e,
            "`rules.toml:2:1`: `[rule]` is one table: write each rule as an array table, `[[rule]]`"
        );
    }

    #[test]
    fn unknown_kind_is_an_error_at_the_value() {
        let e = error(
            "[[rule]]\nname = \"a\"\nexpect = \"never\"\nfrom = { kind = [\"container\", \"task\"] }\nto = { kind = \"secret\" }\n",
        );
        assert!(
            e.starts_with("`rules.toml:5:31`: `task` is not a node kind"),
            "{e}"
        );
    }

    #[test]
    fn empty_parts_are_errors() {
        let rule = |from: &str| {
            format!(
                "[[rule]]\nname = \"a\"\nexpect = \"never\"\nfrom = {from}\nto = {{ kind = \"secret\" }}\n"
            )
        };
        assert!(error(&rule("{}")).contains("an empty selector"));
        assert!(error(&rule("{ not = {} }")).contains("an empty selector"));
        assert!(error(&rule("{ any = [] }")).contains("`any` is empty"));
        assert!(error(&rule("{ kind = [] }")).contains("`kind` is an empty list"));
        assert!(error(&rule("{ tag = {} }")).contains("`tag` is empty"));
        assert!(error(&rule("{ id = \"\" }")).contains("`id` has an empty value"));
        assert!(error(&rule("{ id = 3 }")).contains("a string or an array of strings"));
    }

    #[test]
    fn schema_rules_names_and_actions_are_checked() {
        let e = parse_rules("schema = \"rolechain.rules/v2\"\n", "r.toml").unwrap_err();
        assert_eq!(
            e.to_string(),
            "`r.toml:1:10`: schema `rolechain.rules/v2`: expected `rolechain.rules/v1`"
        );
        let e = parse_rules("", "r.toml").unwrap_err().to_string();
        assert!(e.contains("missing field `schema`"), "{e}");
        // A missing key is reported at the table that lacks it.
        let e = parse("\n[[rule]]\nname = \"a\"\n").unwrap_err().to_string();
        assert!(
            e.starts_with("`rules.toml:3:1`: missing field `expect`"),
            "{e}"
        );
        assert!(error("").contains("no rules"));
        let rule = "[[rule]]\nname = \"a\"\nexpect = \"never\"\nfrom = { kind = \"container\" }\nto = { kind = \"secret\" }\n";
        let e = error(&format!("{rule}{rule}"));
        assert!(
            e.starts_with("`rules.toml:8:8`: a second rule named `a`: the first is at line 3"),
            "{e}"
        );
        let e = error(&format!("{rule}actions = [\"GetSecretValue\"]\n"));
        assert!(
            e.starts_with("`rules.toml:7:12`: `GetSecretValue` is not an action"),
            "{e}"
        );
    }

    #[test]
    fn columns_count_characters() {
        let reader = Reader {
            text: "é = 1\nab",
            file: "f",
        };
        assert_eq!(reader.position(3), Position { line: 1, column: 3 });
        assert_eq!(reader.position(8), Position { line: 2, column: 2 });
        assert_eq!(reader.position(99), Position { line: 2, column: 3 });
    }
}
