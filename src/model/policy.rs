//! IAM policy documents: identity, resource, trust, key, boundary, SCP and RCP policies share
//! one grammar (IAM-SEMANTICS R1.1), parsed here into plain values.
//!
//! A document may arrive as a JSON object, a JSON string, or a URL-encoded JSON string (the IAM
//! API encodes documents; the AWS CLI decodes them). All three parse to the same value.

use std::collections::BTreeMap;

use serde_json::Value;

/// A parsed policy document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDocument {
    /// The `Version` element; `None` when absent. Policy variables apply only with `2012-10-17`.
    pub version: Option<String>,
    /// The statements, in document order.
    pub statements: Vec<Statement>,
}

/// `Allow` or `Deny`; case-sensitive, as IAM requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Effect {
    /// An Allow statement.
    Allow,
    /// A Deny statement.
    Deny,
}

impl Effect {
    /// `Allow` or `Deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// One statement. Absent elements are `None`; present ones keep their entries in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The `Sid`, if any.
    pub sid: Option<String>,
    /// Zero-based position in the document.
    pub index: usize,
    /// Allow or Deny.
    pub effect: Effect,
    /// The `Principal` element.
    pub principal: Option<Principal>,
    /// The `NotPrincipal` element.
    pub not_principal: Option<Principal>,
    /// The `Action` element.
    pub action: Option<Vec<String>>,
    /// The `NotAction` element.
    pub not_action: Option<Vec<String>>,
    /// The `Resource` element.
    pub resource: Option<Vec<String>>,
    /// The `NotResource` element.
    pub not_resource: Option<Vec<String>>,
    /// The `Condition` block, one clause per operator and key, sorted by operator and then key
    /// (whether `serde_json` keeps a JSON object's order depends on the features other crates
    /// turn on, so the document's order is not kept).
    pub condition: Vec<ConditionClause>,
}

impl Statement {
    /// The `Principal` entries as (kind, value) pairs: `"*"` is `("AWS", "*")`, and a map gives
    /// each of its values with its key (`AWS`, `Service`, `Federated`, `CanonicalUser`).
    pub fn principal_entries(&self) -> Vec<(&str, &str)> {
        match &self.principal {
            Some(Principal::Wildcard) => vec![("AWS", "*")],
            Some(Principal::Map(m)) => m
                .iter()
                .flat_map(|(k, vs)| vs.iter().map(move |v| (k.as_str(), v.as_str())))
                .collect(),
            None => Vec::new(),
        }
    }

    /// The statement's name in proofs: its `Sid`, or its zero-based index as a string.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(sid) if !sid.is_empty() => sid.clone(),
            _ => self.index.to_string(),
        }
    }
}

/// A `Principal` or `NotPrincipal` element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// `"*"`: everyone.
    Wildcard,
    /// `{"AWS": …, "Service": …, "Federated": …, "CanonicalUser": …}`; keys as written.
    Map(BTreeMap<String, Vec<String>>),
}

/// One operator and key of a `Condition` block with its values.
///
/// Values are kept as strings: JSON booleans and numbers become their text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionClause {
    /// The operator as written, such as `StringEquals` or `ForAnyValue:StringLike`.
    pub operator: String,
    /// The context key as written, such as `aws:SourceAccount`.
    pub key: String,
    /// The values; several mean OR (NOR for negated operators).
    pub values: Vec<String>,
}

/// Why a value is not a policy document.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} at `{path}`")]
pub struct PolicyError {
    /// A JSON path inside the document, such as `Statement[0].Effect`, or `(document)`.
    pub path: String,
    /// What was expected, lowercase.
    pub message: String,
}

fn perr(path: impl Into<String>, message: impl Into<String>) -> PolicyError {
    PolicyError {
        path: path.into(),
        message: message.into(),
    }
}

impl PolicyDocument {
    /// Parses a document given as an object, a JSON string, or a URL-encoded JSON string.
    ///
    /// # Errors
    /// When the value is not a policy: not an object, no `Statement`, an `Effect` other than
    /// `Allow` or `Deny`, or an element of the wrong type. The error names the path inside
    /// the document.
    pub fn parse(value: &Value) -> Result<PolicyDocument, PolicyError> {
        match value {
            Value::String(text) => PolicyDocument::parse_str(text),
            other => PolicyDocument::parse_value(other),
        }
    }

    /// Parses a document from text that is JSON or URL-encoded JSON.
    ///
    /// # Errors
    /// As [`PolicyDocument::parse`], plus text that is neither JSON nor URL-encoded JSON.
    pub fn parse_str(text: &str) -> Result<PolicyDocument, PolicyError> {
        if let Some(doc) = super::typed_policy::document_text(text) {
            return Ok(doc);
        }
        let trimmed = text.trim();
        let decoded;
        let json = if trimmed.starts_with('{') {
            trimmed
        } else if trimmed.starts_with('%') {
            decoded = percent_encoding::percent_decode_str(trimmed)
                .decode_utf8()
                .map_err(|_| perr("(document)", "expected URL-encoded UTF-8 text"))?;
            &decoded
        } else {
            return Err(perr(
                "(document)",
                "expected a JSON object or URL-encoded JSON text",
            ));
        };
        let value: Value = serde_json::from_str(json)
            .map_err(|e| perr("(document)", format!("expected valid JSON ({e})")))?;
        PolicyDocument::parse_value(&value)
    }

    /// Parses the JSON text of a policy element as a snapshot holds it: an object, or a string
    /// holding JSON or URL-encoded JSON. The same as [`PolicyDocument::parse`] of that text's
    /// value, without building the value when the document is well formed.
    ///
    /// # Errors
    /// As [`PolicyDocument::parse`], plus text that is not JSON.
    pub fn parse_json(json: &str) -> Result<PolicyDocument, PolicyError> {
        if let Some(doc) = super::typed_policy::document_field(json) {
            return Ok(doc);
        }
        let value: Value = serde_json::from_str(json)
            .map_err(|e| perr("(document)", format!("expected valid JSON ({e})")))?;
        PolicyDocument::parse(&value)
    }

    fn parse_value(value: &Value) -> Result<PolicyDocument, PolicyError> {
        let Value::Object(obj) = value else {
            return Err(perr("(document)", "expected a policy object"));
        };
        let version = match obj.get("Version") {
            None | Some(Value::Null) => None,
            Some(Value::String(v)) => Some(v.clone()),
            Some(_) => return Err(perr("Version", "expected a string")),
        };
        let statements = match obj.get("Statement") {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, s)| parse_statement(s, i, &format!("Statement[{i}]")))
                .collect::<Result<Vec<_>, _>>()?,
            Some(single @ Value::Object(_)) => vec![parse_statement(single, 0, "Statement")?],
            Some(_) => {
                return Err(perr(
                    "Statement",
                    "expected an object or an array of objects",
                ));
            }
            None => return Err(perr("Statement", "expected a `Statement` element")),
        };
        Ok(PolicyDocument {
            version,
            statements,
        })
    }

    /// True when policy variables (`${…}`) are substituted: `Version` is `2012-10-17`.
    pub fn variables_enabled(&self) -> bool {
        self.version.as_deref() == Some("2012-10-17")
    }
}

fn parse_statement(value: &Value, index: usize, path: &str) -> Result<Statement, PolicyError> {
    let Value::Object(obj) = value else {
        return Err(perr(path, "expected a statement object"));
    };
    let sid = match obj.get("Sid") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(perr(format!("{path}.Sid"), "expected a string")),
    };
    let effect = match obj.get("Effect") {
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        _ => return Err(perr(format!("{path}.Effect"), "expected `Allow` or `Deny`")),
    };
    let strings = |key: &str| -> Result<Option<Vec<String>>, PolicyError> {
        obj.get(key)
            .map(|v| string_list(v, &format!("{path}.{key}")))
            .transpose()
    };
    let principals = |key: &str| -> Result<Option<Principal>, PolicyError> {
        obj.get(key)
            .map(|v| parse_principal(v, &format!("{path}.{key}")))
            .transpose()
    };
    let statement = Statement {
        sid,
        index,
        effect,
        principal: principals("Principal")?,
        not_principal: principals("NotPrincipal")?,
        action: strings("Action")?,
        not_action: strings("NotAction")?,
        resource: strings("Resource")?,
        not_resource: strings("NotResource")?,
        condition: match obj.get("Condition") {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => parse_condition(v, &format!("{path}.Condition"))?,
        },
    };
    checked(statement, path)
}

/// The statement when its elements go together: one of `Action` and `NotAction`, at most one
/// of `Resource` and `NotResource`, and of `Principal` and `NotPrincipal`.
pub(super) fn checked(statement: Statement, path: &str) -> Result<Statement, PolicyError> {
    if statement.action.is_some() && statement.not_action.is_some() {
        return Err(perr(path, "expected only one of `Action` and `NotAction`"));
    }
    if statement.action.is_none() && statement.not_action.is_none() {
        return Err(perr(path, "expected an `Action` or `NotAction` element"));
    }
    if statement.resource.is_some() && statement.not_resource.is_some() {
        return Err(perr(
            path,
            "expected only one of `Resource` and `NotResource`",
        ));
    }
    if statement.principal.is_some() && statement.not_principal.is_some() {
        return Err(perr(
            path,
            "expected only one of `Principal` and `NotPrincipal`",
        ));
    }
    Ok(statement)
}

fn string_list(value: &Value, path: &str) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err(perr(format!("{path}[{i}]"), "expected a string")),
            })
            .collect(),
        _ => Err(perr(path, "expected a string or an array of strings")),
    }
}

fn parse_principal(value: &Value, path: &str) -> Result<Principal, PolicyError> {
    match value {
        Value::String(s) if s == "*" => Ok(Principal::Wildcard),
        Value::Object(map) => {
            let mut out = BTreeMap::new();
            for (key, v) in map {
                if !matches!(
                    key.as_str(),
                    "AWS" | "Service" | "Federated" | "CanonicalUser"
                ) {
                    return Err(perr(
                        format!("{path}.{key}"),
                        "expected a principal type `AWS`, `Service`, `Federated` or `CanonicalUser`",
                    ));
                }
                out.insert(key.clone(), string_list(v, &format!("{path}.{key}"))?);
            }
            Ok(Principal::Map(out))
        }
        _ => Err(perr(path, "expected `*` or an object of principal types")),
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_condition(value: &Value, path: &str) -> Result<Vec<ConditionClause>, PolicyError> {
    let Value::Object(ops) = value else {
        return Err(perr(path, "expected an object of condition operators"));
    };
    let mut clauses = Vec::new();
    for (operator, keys) in ops {
        let Value::Object(keys) = keys else {
            return Err(perr(
                format!("{path}.{operator}"),
                "expected an object of condition keys",
            ));
        };
        for (key, values) in keys {
            let vpath = format!("{path}.{operator}.{key}");
            let values =
                match values {
                    Value::Array(items) => items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            scalar_text(v).ok_or_else(|| {
                                perr(
                                    format!("{vpath}[{i}]"),
                                    "expected a string, number or boolean",
                                )
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    other => vec![scalar_text(other).ok_or_else(|| {
                        perr(&vpath, "expected a string, number, boolean or array")
                    })?],
                };
            clauses.push(ConditionClause {
                operator: operator.clone(),
                key: key.clone(),
                values,
            });
        }
    }
    sort_clauses(&mut clauses);
    Ok(clauses)
}

/// One order for every build (see `Statement::condition`); a JSON object has no duplicate keys
/// once read, so no two clauses compare equal.
pub(super) fn sort_clauses(clauses: &mut [ConditionClause]) {
    clauses.sort_by(|a, b| (&a.operator, &a.key).cmp(&(&b.operator, &b.key)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn r1_1_statement_may_be_object_or_array() {
        let one = PolicyDocument::parse(
            &json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}),
        )
        .unwrap();
        let many = PolicyDocument::parse(
            &json!({"Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": ["*"]}]}),
        )
        .unwrap();
        assert_eq!(one.statements, many.statements);
    }

    #[test]
    fn r1_1_string_and_url_encoded_documents_mean_the_same() {
        let obj = json!({"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]});
        let text = obj.to_string();
        let encoded: String =
            percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        let a = PolicyDocument::parse(&obj).unwrap();
        assert_eq!(a, PolicyDocument::parse(&Value::String(text)).unwrap());
        assert_eq!(a, PolicyDocument::parse(&Value::String(encoded)).unwrap());
    }

    #[test]
    fn r1_1_effect_is_case_sensitive() {
        let err =
            PolicyDocument::parse(&json!({"Statement": [{"Effect": "allow", "Action": "*"}]}))
                .unwrap_err();
        assert_eq!(err.path, "Statement[0].Effect");
    }

    #[test]
    fn r1_1_condition_clauses_are_read_in_one_order_whatever_the_object_order() {
        let doc = PolicyDocument::parse_str(
            r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {
                "StringLike": {"aws:userid": "x", "aws:PrincipalArn": "y"},
                "Bool": {"aws:SecureTransport": "true"}}}}"#,
        )
        .unwrap();
        let order: Vec<(&str, &str)> = doc.statements[0]
            .condition
            .iter()
            .map(|c| (c.operator.as_str(), c.key.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                ("Bool", "aws:SecureTransport"),
                ("StringLike", "aws:PrincipalArn"),
                ("StringLike", "aws:userid"),
            ]
        );
    }

    #[test]
    fn condition_values_keep_text_of_scalars() {
        let doc = PolicyDocument::parse(&json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": false}, "NumericLessThan": {"s3:max-keys": [10, "20"]}}}]})).unwrap();
        let c = &doc.statements[0].condition;
        assert_eq!(c[0].values, vec!["false"]);
        assert_eq!(c[1].values, vec!["10", "20"]);
    }

    #[test]
    fn not_a_policy_names_the_path() {
        let err = PolicyDocument::parse(&json!({"Statement": [{"Effect": "Allow", "Action": 3}]}))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected a string or an array of strings at `Statement[0].Action`"
        );
        assert!(PolicyDocument::parse(&json!([1])).is_err());
        assert!(PolicyDocument::parse(&json!("hello")).is_err());
    }
}
