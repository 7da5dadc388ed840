//! The typed reader of policy documents: JSON text straight into a [`PolicyDocument`], without a
//! `serde_json::Value` tree in between.
//!
//! It reads the documents of real policies, which are well formed, and gives up on anything
//! else: a wrong type, a missing or doubled element, a number that is not an integer. Giving up
//! costs nothing but time, because [`PolicyDocument::parse_json`] then reads the same text with
//! the `Value` reader, which is the definition: it says what is wrong and where, and reads the
//! rare forms this reader leaves to it. So the typed reader must only never accept what the
//! `Value` reader refuses, nor read anything differently; `typed_and_value_readers_agree` in the
//! tests below holds it to that.
//!
//! Lists are trimmed to their length once read: a document is kept for the whole run, and most
//! of its lists hold one or two entries.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::policy::{
    ConditionClause, Effect, PolicyDocument, Principal, Statement, checked, sort_clauses,
};

/// The document in the JSON text of a policy field (an object, or a string holding JSON or
/// URL-encoded JSON), or `None` when the typed reader gives up.
pub(super) fn document_field(json: &str) -> Option<PolicyDocument> {
    let json = json.trim();
    if json.starts_with('"') {
        let text: String = serde_json::from_str(json).ok()?;
        document_text(&text)
    } else {
        document(json)
    }
}

/// The document in text that is JSON or URL-encoded JSON, as [`PolicyDocument::parse_str`]
/// reads it.
pub(super) fn document_text(text: &str) -> Option<PolicyDocument> {
    let trimmed = text.trim();
    if trimmed.starts_with('{') {
        document(trimmed)
    } else if trimmed.starts_with('%') {
        let decoded = percent_encoding::percent_decode_str(trimmed)
            .decode_utf8()
            .ok()?;
        document(&decoded)
    } else {
        None
    }
}

fn document(json: &str) -> Option<PolicyDocument> {
    let mut de = serde_json::Deserializer::from_str(json);
    let doc = de.deserialize_map(DocumentVisitor).ok()?;
    de.end().ok()?;
    Some(doc)
}

/// Gives up: the `Value` reader takes over and words what is wrong.
fn give_up<E: de::Error>() -> E {
    E::custom("left to the Value reader")
}

/// Marks a key as seen; a key given twice is left to the `Value` reader, which keeps the last.
fn once<E: de::Error>(seen: &mut bool) -> Result<(), E> {
    if std::mem::replace(seen, true) {
        Err(give_up())
    } else {
        Ok(())
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = PolicyDocument;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a policy document")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<PolicyDocument, M::Error> {
        let (mut version, mut statements) = (None, None);
        let (mut seen_version, mut seen_statement) = (false, false);
        while let Some(key) = map.next_key::<Key>()? {
            match &*key.0 {
                "Version" => {
                    once(&mut seen_version)?;
                    version = map.next_value::<Option<String>>()?;
                }
                "Statement" => {
                    once(&mut seen_statement)?;
                    statements = Some(map.next_value_seed(Statements)?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(PolicyDocument {
            version,
            statements: statements.ok_or_else(give_up)?,
        })
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// `Statement`: one statement object, or an array of them.
struct Statements;

impl<'de> DeserializeSeed<'de> for Statements {
    type Value = Vec<Statement>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Statement>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Statements {
    type Value = Vec<Statement>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("statements")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Vec<Statement>, S::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(s) = seq.next_element_seed(StatementSeed(out.len()))? {
            out.push(s);
        }
        out.shrink_to_fit();
        Ok(out)
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Vec<Statement>, M::Error> {
        Ok(vec![StatementSeed(0).visit_map(map)?])
    }
}

/// One statement, at its zero-based position.
struct StatementSeed(usize);

impl<'de> DeserializeSeed<'de> for StatementSeed {
    type Value = Statement;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Statement, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for StatementSeed {
    type Value = Statement;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a statement")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Statement, M::Error> {
        let mut s = Statement {
            sid: None,
            index: self.0,
            effect: Effect::Allow,
            principal: None,
            not_principal: None,
            action: None,
            not_action: None,
            resource: None,
            not_resource: None,
            condition: Vec::new(),
        };
        let mut seen = [false; 9];
        while let Some(key) = map.next_key::<Key>()? {
            match &*key.0 {
                "Sid" => {
                    once(&mut seen[0])?;
                    s.sid = map.next_value()?;
                }
                "Effect" => {
                    once(&mut seen[1])?;
                    s.effect = match &*map.next_value::<Key>()?.0 {
                        "Allow" => Effect::Allow,
                        "Deny" => Effect::Deny,
                        _ => return Err(give_up()),
                    };
                }
                "Principal" => {
                    once(&mut seen[2])?;
                    s.principal = Some(map.next_value_seed(PrincipalSeed)?);
                }
                "NotPrincipal" => {
                    once(&mut seen[3])?;
                    s.not_principal = Some(map.next_value_seed(PrincipalSeed)?);
                }
                "Action" => {
                    once(&mut seen[4])?;
                    s.action = Some(map.next_value_seed(Strings)?);
                }
                "NotAction" => {
                    once(&mut seen[5])?;
                    s.not_action = Some(map.next_value_seed(Strings)?);
                }
                "Resource" => {
                    once(&mut seen[6])?;
                    s.resource = Some(map.next_value_seed(Strings)?);
                }
                "NotResource" => {
                    once(&mut seen[7])?;
                    s.not_resource = Some(map.next_value_seed(Strings)?);
                }
                "Condition" => {
                    once(&mut seen[8])?;
                    s.condition = map.next_value_seed(Conditions)?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !seen[1] {
            return Err(give_up());
        }
        // The element rules (one of `Action` and `NotAction`, …) are the `Value` reader's own.
        checked(s, "").map_err(|_| give_up())
    }
}

/// A string, or an array of strings.
struct Strings;

impl<'de> DeserializeSeed<'de> for Strings {
    type Value = Vec<String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<String>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strings {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<String>, E> {
        Ok(vec![v.to_string()])
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Vec<String>, E> {
        Ok(vec![v])
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Vec<String>, S::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(s) = seq.next_element::<String>()? {
            out.push(s);
        }
        out.shrink_to_fit();
        Ok(out)
    }
}

/// `Principal` or `NotPrincipal`: `"*"`, or an object of principal types.
struct PrincipalSeed;

impl<'de> DeserializeSeed<'de> for PrincipalSeed {
    type Value = Principal;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Principal, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PrincipalSeed {
    type Value = Principal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a principal")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Principal, E> {
        if v == "*" {
            Ok(Principal::Wildcard)
        } else {
            Err(give_up())
        }
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Principal, M::Error> {
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            if !matches!(
                key.as_str(),
                "AWS" | "Service" | "Federated" | "CanonicalUser"
            ) || out.contains_key(&key)
            {
                return Err(give_up());
            }
            let values = map.next_value_seed(Strings)?;
            out.insert(key, values);
        }
        Ok(Principal::Map(out))
    }
}

/// `Condition`: `null`, or operators of keys of values.
struct Conditions;

impl<'de> DeserializeSeed<'de> for Conditions {
    type Value = Vec<ConditionClause>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<ConditionClause>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Conditions {
    type Value = Vec<ConditionClause>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a condition block")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Vec<ConditionClause>, E> {
        Ok(Vec::new())
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Vec<ConditionClause>, M::Error> {
        let mut clauses = Vec::new();
        let mut operators: Vec<String> = Vec::new();
        while let Some(operator) = map.next_key::<String>()? {
            if operators.contains(&operator) {
                return Err(give_up());
            }
            let start = clauses.len();
            map.next_value_seed(Keys {
                operator: &operator,
                clauses: &mut clauses,
            })?;
            let mut keys: Vec<&str> = clauses[start..].iter().map(|c| c.key.as_str()).collect();
            keys.sort_unstable();
            if keys.windows(2).any(|w| w[0] == w[1]) {
                return Err(give_up());
            }
            operators.push(operator);
        }
        sort_clauses(&mut clauses);
        clauses.shrink_to_fit();
        Ok(clauses)
    }
}

/// The keys of one condition operator, each pushed as a clause.
struct Keys<'o, 'c> {
    operator: &'o str,
    clauses: &'c mut Vec<ConditionClause>,
}

impl<'de> DeserializeSeed<'de> for Keys<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Keys<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of condition keys")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let values = map.next_value_seed(Values { nested: false })?;
            self.clauses.push(ConditionClause {
                operator: self.operator.to_string(),
                key,
                values,
            });
        }
        Ok(())
    }
}

/// A condition key's values: a string, an integer or a boolean, or an array of them, all as
/// text. A number with a fraction or an exponent is left to the `Value` reader, whose text for
/// it is the definition.
struct Values {
    nested: bool,
}

impl<'de> DeserializeSeed<'de> for Values {
    type Value = Vec<String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<String>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Values {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("condition values")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<String>, E> {
        Ok(vec![v.to_string()])
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Vec<String>, E> {
        Ok(vec![v])
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Vec<String>, E> {
        Ok(vec![v.to_string()])
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Vec<String>, E> {
        Ok(vec![v.to_string()])
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Vec<String>, E> {
        Ok(vec![v.to_string()])
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Vec<String>, S::Error> {
        if self.nested {
            return Err(give_up());
        }
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(mut one) = seq.next_element_seed(Values { nested: true })? {
            out.append(&mut one);
        }
        out.shrink_to_fit();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// What the `Value` reader makes of the same text.
    fn by_value(json: &str) -> Result<PolicyDocument, String> {
        let value: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        PolicyDocument::parse(&value).map_err(|e| e.to_string())
    }

    fn agree(json: &str) {
        let typed = document_field(json);
        let value = by_value(json);
        match (&typed, &value) {
            (Some(t), Ok(v)) => assert_eq!(t, v, "{json}"),
            (Some(t), Err(e)) => panic!("typed read {t:?} where the Value reader says {e}: {json}"),
            (None, _) => {}
        }
        // Through the public entry point, both readers give one answer.
        assert_eq!(
            PolicyDocument::parse_json(json).map_err(|e| e.to_string()),
            value,
            "{json}"
        );
    }

    #[test]
    fn typed_and_value_readers_agree() {
        let docs = [
            // Well formed, in every shape the grammar allows.
            r#"{"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::c"]}]}"#,
            r#"{"Statement": {"Effect": "Deny", "NotAction": ["iam:*"], "NotResource": "*"}}"#,
            r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}, {"Effect": "Allow", "NotPrincipal": {"AWS": ["arn:aws:iam::1:root"], "Service": "ecs-tasks.amazonaws.com"}, "Action": "*"}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringLike": {"b": "x", "a": ["y", "z"]}, "Bool": {"aws:SecureTransport": false}, "NumericLessThan": {"n": [10, -3, "20"]}}}]}"#,
            r#"{"Statement": [{"Sid": null, "Effect": "Allow", "Action": "*", "Condition": null, "Extra": {"deep": [1, 2, {"x": null}]}}], "Id": "x", "Other": [true]}"#,
            r#"{"Statement": []}"#,
            r#"{"Version": null, "Statement": [{"Effect": "Allow", "Action": [], "Resource": []}]}"#,
            r#""{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3:*\"}}""#,
            r#""%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A*%22%7D%7D""#,
            r#""  {\"Statement\": []}  ""#,
            r#"{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::caf\u00e9"}]}"#,
            // Forms the typed reader leaves to the Value reader, read or refused there.
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"NumericEquals": {"n": 1.5}}}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"NumericEquals": {"n": 1e3}}}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": "a", "Action": "b"}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Principal": {"AWS": "a", "AWS": "b"}}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"Bool": {"k": "a"}, "Bool": {"k": "b"}}}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"Bool": {"k": "a", "k": "b"}}}]}"#,
            r#"{"Statement": [], "Statement": [{"Effect": "Allow", "Action": "*"}]}"#,
            // Refused by both.
            r#"{"Statement": [{"Effect": "allow", "Action": "*"}]}"#,
            r#"{"Statement": [{"Action": "*"}]}"#,
            r#"{"Statement": [{"Effect": "Allow"}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "*"}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "NotResource": "*"}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Principal": "*", "NotPrincipal": "*"}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": 3}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": ["a", 3]}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": null}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Principal": "me"}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Principal": {"Users": "x"}}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Principal": null}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"Bool": "x"}}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"Bool": {"k": null}}}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"Bool": {"k": [[1]]}}}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"Bool": {"k": {}}}}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": []}]}"#,
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Sid": 1}]}"#,
            r#"{"Statement": [1]}"#,
            r#"{"Statement": "x"}"#,
            r#"{"Version": 1, "Statement": []}"#,
            r#"{}"#,
            r#"[]"#,
            r#""hello""#,
            r#""%ZZ""#,
            r#""{\"Statement\": [}""#,
            r#"3"#,
        ];
        for json in docs {
            agree(json);
        }
    }

    /// JSON built from the policy grammar's own words, so that random documents are often
    /// nearly right; objects are kept as lists of pairs, so that a key can come twice.
    #[derive(Clone, Debug)]
    enum Json {
        Null,
        Bool(bool),
        Int(i64),
        Float(f64),
        Text(&'static str),
        Array(Vec<Json>),
        Object(Vec<(&'static str, Json)>),
    }

    impl Json {
        fn render(&self) -> String {
            match self {
                Json::Null => "null".to_string(),
                Json::Bool(b) => b.to_string(),
                Json::Int(i) => i.to_string(),
                Json::Float(f) => format!("{f:?}"),
                Json::Text(t) => serde_json::to_string(t).unwrap_or_default(),
                Json::Array(items) => {
                    let items: Vec<String> = items.iter().map(Json::render).collect();
                    format!("[{}]", items.join(","))
                }
                Json::Object(pairs) => {
                    let pairs: Vec<String> = pairs
                        .iter()
                        .map(|(k, v)| {
                            format!(
                                "{}:{}",
                                serde_json::to_string(k).unwrap_or_default(),
                                v.render()
                            )
                        })
                        .collect();
                    format!("{{{}}}", pairs.join(","))
                }
            }
        }
    }

    const KEYS: &[&str] = &[
        "Version",
        "Statement",
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
        "AWS",
        "Service",
        "StringEquals",
        "Bool",
        "aws:SourceAccount",
        "Id",
    ];
    const WORDS: &[&str] = &[
        "Allow",
        "Deny",
        "*",
        "s3:GetObject",
        "2012-10-17",
        "arn:aws:iam::1:root",
        "",
        " x ",
        "%7B%7D",
    ];

    fn json() -> impl proptest::strategy::Strategy<Value = Json> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            (-3i64..3).prop_map(Json::Int),
            Just(Json::Float(1.5)),
            proptest::sample::select(WORDS).prop_map(Json::Text),
        ];
        leaf.prop_recursive(5, 48, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
                proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..5)
                    .prop_map(Json::Object),
            ]
        })
    }

    /// A document shaped as the grammar says, with each element's value of a fitting kind most
    /// of the time and of any kind otherwise.
    fn nearly_right() -> impl proptest::strategy::Strategy<Value = Json> {
        use proptest::prelude::*;
        use proptest::sample::select;
        let text = || select(WORDS).prop_map(Json::Text);
        let texts = move || {
            prop_oneof![
                text(),
                proptest::collection::vec(text(), 0..3).prop_map(Json::Array)
            ]
        };
        let scalar = || {
            prop_oneof![
                text(),
                any::<bool>().prop_map(Json::Bool),
                (-3i64..3).prop_map(Json::Int),
                Just(Json::Float(2.0)),
                Just(Json::Null),
            ]
        };
        let principal = prop_oneof![
            text(),
            proptest::collection::vec(
                (
                    select(&["AWS", "Service", "Federated", "Users"][..]),
                    texts()
                ),
                0..3
            )
            .prop_map(Json::Object),
        ];
        let values = prop_oneof![
            scalar(),
            proptest::collection::vec(scalar(), 0..3).prop_map(Json::Array)
        ];
        let condition = prop_oneof![
            Just(Json::Null),
            proptest::collection::vec(
                (
                    select(&["StringEquals", "Bool", "NumericLessThan"][..]),
                    proptest::collection::vec(
                        (
                            select(&["aws:SourceAccount", "k", "aws:SecureTransport"][..]),
                            values
                        ),
                        0..3
                    )
                    .prop_map(Json::Object)
                ),
                0..3
            )
            .prop_map(Json::Object),
        ];
        let field = prop_oneof![
            3 => select(&["Allow", "Deny", "allow"][..]).prop_map(|e| ("Effect", Json::Text(e))),
            2 => (select(&["Action", "NotAction", "Resource", "NotResource"][..]), texts()),
            1 => (select(&["Principal", "NotPrincipal"][..]), principal),
            1 => condition.prop_map(|c| ("Condition", c)),
            1 => prop_oneof![text(), Just(Json::Null), Just(Json::Int(1))].prop_map(|v| ("Sid", v)),
            1 => (select(KEYS), json()),
        ];
        let statement = proptest::collection::vec(field, 1..6).prop_map(Json::Object);
        let statements = prop_oneof![
            3 => proptest::collection::vec(statement.clone(), 0..3).prop_map(Json::Array),
            1 => statement,
        ];
        (
            proptest::option::of(prop_oneof![text(), Just(Json::Null)]),
            statements,
        )
            .prop_map(|(version, statements)| {
                let mut pairs = Vec::new();
                if let Some(v) = version {
                    pairs.push(("Version", v));
                }
                pairs.push(("Statement", statements));
                Json::Object(pairs)
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
        /// On documents in the grammar's shape, each element sometimes of the wrong kind or
        /// given twice.
        #[test]
        fn typed_and_value_readers_agree_on_nearly_right_documents(doc in nearly_right()) {
            let text = doc.render();
            agree(&text);
            agree(&serde_json::to_string(&text).unwrap_or_default());
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
        /// On random documents, many nearly right: the typed reader never reads one the `Value`
        /// reader refuses, nor reads one differently.
        #[test]
        fn typed_and_value_readers_agree_on_random_documents(doc in json()) {
            let text = doc.render();
            agree(&text);
            // The same document as text inside a JSON string, as IAM's APIs return it.
            agree(&serde_json::to_string(&text).unwrap_or_default());
        }
    }

    #[test]
    fn real_documents_are_read_without_the_value_reader() {
        // The typed reader must read what real policies look like, or it saves nothing.
        let docs = [
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-1:111111111111:*"}, "StringEquals": {"aws:SourceAccount": "111111111111"}}}]}"#,
            r#""%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D""#,
            r#""{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"secretsmanager:GetSecretValue\"],\"Resource\":\"*\"}]}""#,
        ];
        for json in docs {
            assert!(document_field(json).is_some(), "{json}");
        }
    }
}
