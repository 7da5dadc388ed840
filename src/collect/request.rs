//! The `rolechain.request/v1` reader (SNAPSHOT-V1.md §4): one authorization question with every
//! policy given inline, for `rolechain simulate`.
//!
//! This is rolechain's own format, so unknown fields are errors, unlike in snapshots.

use serde::Deserialize;
use serde_json::Value;

use crate::model::{self, PolicyDocument, arn::is_account_id};
use crate::policy::{
    Context, ContextValue, OrgLevel, PolicyRef, PolicySet, PolicyType, Request, RequestPrincipal,
    RequestResource,
};

/// The schema name a request must carry.
pub const REQUEST_SCHEMA: &str = "rolechain.request/v1";

/// Why a request file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The file could not be read.
    #[error("reading `{file}`")]
    Io {
        /// The file.
        file: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Invalid JSON, a wrong type, or an unknown field.
    #[error("`{file}` at `{path}`: {message}")]
    Shape {
        /// The file.
        file: String,
        /// The JSON path.
        path: String,
        /// What was expected.
        message: String,
    },
    /// A policy document is not a policy.
    #[error("`{file}` at `{path}`: not a policy document")]
    Policy {
        /// The file.
        file: String,
        /// The JSON path.
        path: String,
        /// What is wrong inside it.
        #[source]
        source: model::PolicyError,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestFile {
    schema: String,
    request: RequestDto,
    #[serde(default)]
    identity_policies: Vec<Value>,
    #[serde(default)]
    resource_policy: Option<Value>,
    #[serde(default)]
    permission_boundary: Option<Value>,
    #[serde(default)]
    session_policy: Option<Value>,
    #[serde(default)]
    scps: Vec<Vec<Value>>,
    #[serde(default)]
    rcps: Vec<Vec<Value>>,
    /// An extension: the resource is an AWS-managed KMS key.
    #[serde(default)]
    aws_managed_key: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestDto {
    principal: String,
    action: String,
    resource: String,
    resource_account: Option<String>,
    #[serde(default)]
    context: serde_json::Map<String, Value>,
}

/// A parsed request with the policies it carries; [`SimulateInput::policy_set`] borrows them.
#[derive(Debug)]
pub struct SimulateInput {
    /// The request.
    pub request: Request,
    identity: Vec<(String, PolicyDocument)>,
    resource: Option<(PolicyType, PolicyDocument)>,
    boundary: Option<PolicyDocument>,
    session: Option<PolicyDocument>,
    scps: Vec<Vec<(String, PolicyDocument)>>,
    rcps: Vec<Vec<(String, PolicyDocument)>>,
    aws_managed_key: bool,
}

impl SimulateInput {
    /// The policies, ready for [`crate::policy::evaluate`]. Policy ids name their place in the
    /// file, such as `identity_policies[0]` or `scps[1][0]`.
    pub fn policy_set(&self) -> PolicySet<'_> {
        PolicySet {
            identity: self
                .identity
                .iter()
                .map(|(id, doc)| PolicyRef {
                    policy_type: PolicyType::Identity,
                    id,
                    document: doc,
                })
                .collect(),
            resource: self.resource.as_ref().map(|(t, doc)| PolicyRef {
                policy_type: *t,
                id: "resource_policy",
                document: doc,
            }),
            boundary: self.boundary.as_ref().map(|doc| PolicyRef {
                policy_type: PolicyType::Boundary,
                id: "permission_boundary",
                document: doc,
            }),
            session: self.session.as_ref().map(|doc| PolicyRef {
                policy_type: PolicyType::Session,
                id: "session_policy",
                document: doc,
            }),
            scps: org_levels(&self.scps, PolicyType::Scp).map(std::borrow::Cow::Owned),
            rcps: org_levels(&self.rcps, PolicyType::Rcp).map(std::borrow::Cow::Owned),
            aws_managed_key: self.aws_managed_key,
        }
    }
}

fn org_levels(lists: &[Vec<(String, PolicyDocument)>], t: PolicyType) -> Option<Vec<OrgLevel<'_>>> {
    if lists.is_empty() {
        return None;
    }
    let levels = lists
        .iter()
        .enumerate()
        .map(|(i, level)| OrgLevel {
            target: LEVEL_NAMES.get(i).copied().unwrap_or("level-deeper"),
            policies: level
                .iter()
                .map(|(id, doc)| PolicyRef {
                    policy_type: t,
                    id,
                    document: doc,
                })
                .collect(),
        })
        .collect();
    Some(levels)
}

/// Names for organization levels in proofs: `level-0` is the root.
const LEVEL_NAMES: &[&str] = &[
    "level-0", "level-1", "level-2", "level-3", "level-4", "level-5", "level-6", "level-7",
];

/// Reads a request file. With `unknown_as_conditional`, keys not given in `context` are unknown
/// rather than absent.
///
/// # Errors
/// Unreadable file, invalid JSON, unknown fields, a wrong `schema`, an unrecognised principal, a
/// missing resource account, or a policy that is not a policy.
pub fn load_request(
    path: &std::path::Path,
    unknown_as_conditional: bool,
) -> Result<SimulateInput, RequestError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| RequestError::Io {
        file: file.clone(),
        source,
    })?;
    parse_request(&text, &file, unknown_as_conditional)
}

/// Parses a request from text; `file` names it in errors. See [`load_request`].
///
/// # Errors
/// As [`load_request`].
pub fn parse_request(
    text: &str,
    file: &str,
    unknown_as_conditional: bool,
) -> Result<SimulateInput, RequestError> {
    let shape = |path: &str, message: String| RequestError::Shape {
        file: file.to_string(),
        path: path.to_string(),
        message,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let raw: RequestFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("not valid JSON: {inner}")
        } else {
            inner
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_string()
        };
        shape(if path == "." { "(document)" } else { &path }, message)
    })?;
    if raw.schema != REQUEST_SCHEMA {
        return Err(shape(
            "schema",
            format!("found `{}`, expected `{REQUEST_SCHEMA}`", raw.schema),
        ));
    }
    let policy = |value: &Value, path: String| {
        PolicyDocument::parse(value).map_err(|source| RequestError::Policy {
            file: file.to_string(),
            path,
            source,
        })
    };
    let opt_policy = |value: &Option<Value>, path: &str| match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => policy(v, path.to_string()).map(Some),
    };
    let r = raw.request;
    let principal =
        parse_principal(&r.principal, &r.context).map_err(|m| shape("request.principal", m))?;
    let resource = if r.resource == "*" {
        RequestResource::Any
    } else {
        RequestResource::Arn(r.resource.clone())
    };
    let resource_account = match r.resource_account {
        Some(a) if is_account_id(&a) => a,
        Some(a) => {
            return Err(shape(
                "request.resource_account",
                format!("expected a 12-digit account id, found `{a}`"),
            ));
        }
        None => match crate::model::arn::account_of(&r.resource).filter(|a| is_account_id(a)) {
            Some(a) => a.to_string(),
            None => {
                return Err(shape(
                    "request.resource_account",
                    "expected a resource account: the resource ARN carries none".to_string(),
                ));
            }
        },
    };
    let mut context = Context::new(if unknown_as_conditional {
        ContextValue::Unknown
    } else {
        ContextValue::Absent
    });
    if matches!(principal, RequestPrincipal::Anonymous) {
        // An unsigned request carries no principal keys (R7.1); keys given below still win.
        for key in ANONYMOUS_ABSENT_KEYS {
            context.set(key, ContextValue::Absent);
        }
        context
            .absent_prefixes
            .push("aws:principaltag/".to_string());
    }
    for (key, value) in &r.context {
        let v = match value {
            Value::String(s) => ContextValue::Single(s.clone()),
            Value::Bool(b) => ContextValue::Single(b.to_string()),
            Value::Number(n) => ContextValue::Single(n.to_string()),
            Value::Array(items) => ContextValue::Multi(
                items
                    .iter()
                    .map(|i| match i {
                        Value::String(s) => Ok(s.clone()),
                        Value::Bool(b) => Ok(b.to_string()),
                        Value::Number(n) => Ok(n.to_string()),
                        _ => Err(shape(
                            &format!("request.context.{key}"),
                            "expected strings, numbers or booleans".to_string(),
                        )),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Value::Null => ContextValue::Absent,
            Value::Object(_) => {
                return Err(shape(
                    &format!("request.context.{key}"),
                    "expected a string, number, boolean or array".to_string(),
                ));
            }
        };
        context.set(key, v);
    }
    let action_lower = r.action.to_ascii_lowercase();
    let resource_type = if action_lower.starts_with("sts:assumerole") {
        PolicyType::Trust
    } else if action_lower.starts_with("kms:") {
        PolicyType::Key
    } else {
        PolicyType::Resource
    };
    let identity = raw
        .identity_policies
        .iter()
        .enumerate()
        .map(|(i, v)| {
            Ok((
                format!("identity_policies[{i}]"),
                policy(v, format!("identity_policies[{i}]"))?,
            ))
        })
        .collect::<Result<Vec<_>, RequestError>>()?;
    let levels = |lists: &[Vec<Value>], name: &str| {
        lists
            .iter()
            .enumerate()
            .map(|(i, level)| {
                level
                    .iter()
                    .enumerate()
                    .map(|(j, v)| {
                        let id = format!("{name}[{i}][{j}]");
                        Ok((id.clone(), policy(v, id)?))
                    })
                    .collect::<Result<Vec<_>, RequestError>>()
            })
            .collect::<Result<Vec<_>, RequestError>>()
    };
    Ok(SimulateInput {
        request: Request {
            principal,
            action: r.action,
            resource,
            resource_account,
            context,
        },
        identity,
        resource: opt_policy(&raw.resource_policy, "resource_policy")?.map(|d| (resource_type, d)),
        boundary: opt_policy(&raw.permission_boundary, "permission_boundary")?,
        session: opt_policy(&raw.session_policy, "session_policy")?,
        scps: levels(&raw.scps, "scps")?,
        rcps: levels(&raw.rcps, "rcps")?,
        aws_managed_key: raw.aws_managed_key,
    })
}

/// Principal keys that an anonymous request never carries (R7.1).
const ANONYMOUS_ABSENT_KEYS: &[&str] = &[
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
];

/// The error for a string that names no principal.
fn not_a_principal(p: &str) -> String {
    format!(
        "`{p}` is not a principal: expected a role, user, session or account ARN, a service principal name, an OIDC or SAML provider ARN, `cognito-identity.amazonaws.com` or `anonymous`"
    )
}

fn parse_principal(
    p: &str,
    context: &serde_json::Map<String, Value>,
) -> Result<RequestPrincipal, String> {
    if p == "anonymous" {
        return Ok(RequestPrincipal::Anonymous);
    }
    if p == COGNITO_IDENTITY {
        return Ok(RequestPrincipal::Federated {
            provider: p.to_string(),
        });
    }
    if is_account_id(p) {
        return Ok(RequestPrincipal::AccountRoot {
            partition: "aws".to_string(),
            account: p.to_string(),
        });
    }
    if !p.starts_with("arn:") {
        if p.contains('.') && !p.contains(['/', ':', ' ']) {
            return Ok(RequestPrincipal::Service(p.to_string()));
        }
        return Err(not_a_principal(p));
    }
    let arn = model::Arn::parse(p).map_err(|e| e.to_string())?;
    let account = arn.account.clone();
    match (arn.service.as_str(), arn.resource_type()) {
        ("iam", "role") => Ok(RequestPrincipal::Session {
            role_arn: p.to_string(),
            session_name: None,
        }),
        ("iam", "user") => Ok(RequestPrincipal::User { arn: p.to_string() }),
        ("iam", "root") => Ok(RequestPrincipal::AccountRoot {
            partition: arn.partition.clone(),
            account,
        }),
        ("iam", "oidc-provider" | "saml-provider") if !arn.resource_name().is_empty() => {
            Ok(RequestPrincipal::Federated {
                provider: p.to_string(),
            })
        }
        ("sts", "assumed-role") => {
            let rest = arn.resource_name();
            let (role_name, session) = rest.split_once('/').ok_or_else(|| {
                format!("`{p}` is not a session ARN: expected `assumed-role/<role>/<session>`")
            })?;
            // The session ARN carries no role path; aws:PrincipalArn supplies it when given.
            let role_arn = context
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("aws:PrincipalArn"))
                .and_then(|(_, v)| v.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| {
                    format!("arn:{}:iam::{account}:role/{role_name}", arn.partition)
                });
            Ok(RequestPrincipal::Session {
                role_arn,
                session_name: Some(session.to_string()),
            })
        }
        _ => Err(not_a_principal(p)),
    }
}

/// The Cognito identity pools provider, a `Federated` principal that is not an ARN.
const COGNITO_IDENTITY: &str = "cognito-identity.amazonaws.com";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_principal_takes_role_path_from_principal_arn() {
        let text = r#"{"schema": "rolechain.request/v1", "request": {"principal": "arn:aws:sts::111111111111:assumed-role/web/abc",
            "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k", "resource_account": "222222222222",
            "context": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/app/web"}}}"#;
        let input = parse_request(text, "r.json", false).unwrap();
        assert_eq!(
            input.request.principal,
            RequestPrincipal::Session {
                role_arn: "arn:aws:iam::111111111111:role/app/web".into(),
                session_name: Some("abc".into())
            }
        );
        assert!(
            input.policy_set().scps.is_none(),
            "[] means no organization"
        );
    }

    fn request_by(principal: &str, action: &str, resource: &str, resource_policy: &str) -> String {
        format!(
            r#"{{"schema": "rolechain.request/v1", "request": {{"principal": "{principal}",
            "action": "{action}", "resource": "{resource}", "resource_account": "111111111111"}},
            "resource_policy": {resource_policy}}}"#
        )
    }

    #[test]
    fn anonymous_principal_is_read_and_carries_no_principal_keys() {
        let only_org = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
            "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-ours"}}}]}"#;
        let text = request_by("anonymous", "s3:GetObject", "arn:aws:s3:::b/k", only_org);
        // Even when unlisted keys are unknown, an anonymous request's principal keys are absent.
        let input = parse_request(&text, "r.json", true).unwrap();
        assert_eq!(input.request.principal, RequestPrincipal::Anonymous);
        let d = crate::policy::evaluate(&input.request, &input.policy_set());
        assert_eq!(d.outcome, crate::policy::Outcome::ImplicitDeny, "{d:#?}");
        let open = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]}"#;
        let text = request_by("anonymous", "s3:GetObject", "arn:aws:s3:::b/k", open);
        let input = parse_request(&text, "r.json", true).unwrap();
        let d = crate::policy::evaluate(&input.request, &input.policy_set());
        assert!(d.is_allowed() && !d.conditional, "{d:#?}");
        // Keys given in the request win.
        let text = r#"{"schema": "rolechain.request/v1", "request": {"principal": "anonymous", "action": "s3:GetObject",
            "resource": "arn:aws:s3:::b/k", "resource_account": "111111111111", "context": {"aws:PrincipalOrgID": "o-ours"}}}"#;
        let input = parse_request(text, "r.json", true).unwrap();
        assert_eq!(
            input.request.context.get("aws:PrincipalOrgID"),
            &ContextValue::Single("o-ours".into())
        );
        assert_eq!(
            input.request.context.get("aws:PrincipalTag/team"),
            &ContextValue::Absent
        );
        assert_eq!(
            input.request.context.get("aws:SourceIp"),
            &ContextValue::Unknown
        );
    }

    #[test]
    fn federated_principals_are_provider_arns_or_cognito() {
        for provider in [
            "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com",
            "arn:aws:iam::111111111111:saml-provider/corp",
            "cognito-identity.amazonaws.com",
        ] {
            let trust = format!(
                r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {{"Federated": "{provider}"}},
                "Action": ["sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML"]}}]}}"#
            );
            let text = request_by(
                provider,
                "sts:AssumeRoleWithWebIdentity",
                "arn:aws:iam::111111111111:role/deploy",
                &trust,
            );
            let input = parse_request(&text, "r.json", false).unwrap();
            assert_eq!(
                input.request.principal,
                RequestPrincipal::Federated {
                    provider: provider.into()
                }
            );
            let set = input.policy_set();
            assert_eq!(set.resource.map(|p| p.policy_type), Some(PolicyType::Trust));
            let d = crate::policy::evaluate(&input.request, &set);
            assert!(d.is_allowed() && !d.conditional, "{provider}: {d:#?}");
        }
        for wrong in [
            "arn:aws:iam::111111111111:oidc-provider/",
            "arn:aws:iam::111111111111:saml-provider",
            "Anonymous",
        ] {
            let text = request_by(
                wrong,
                "sts:AssumeRoleWithSAML",
                "arn:aws:iam::111111111111:role/r",
                "null",
            );
            let e = parse_request(&text, "r.json", false).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with("`r.json` at `request.principal`:"),
                "{wrong}: {e}"
            );
        }
    }

    #[test]
    fn unknown_fields_and_missing_account_are_errors() {
        let e = parse_request(r#"{"schema": "rolechain.request/v1", "request": {"principal": "a.amazonaws.com", "action": "s3:GetObject", "resource": "*", "extra": 1}}"#, "r.json", false).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("`r.json` at `request.extra`: unknown field `extra`"),
            "{e}"
        );
        let e = parse_request(r#"{"schema": "rolechain.request/v1", "request": {"principal": "a.amazonaws.com", "action": "s3:GetObject", "resource": "arn:aws:s3:::b"}}"#, "r.json", false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`r.json` at `request.resource_account`: expected a resource account: the resource ARN carries none"
        );
    }
}
