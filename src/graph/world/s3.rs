//! S3's public-access judgement: bucket ACL grants as statements, and public bucket policies.

use std::collections::BTreeMap;

use crate::model::{self, PolicyDocument};

/// The public grants of a bucket ACL as Allow statements, so the evaluator weighs them with the
/// bucket policy (explicit denies and RCPs still apply). `AllUsers` is `"*"` (anonymous
/// included); `AuthenticatedUsers` is any signed principal. A bucket ACL's `READ` lists the
/// bucket; reading objects depends on each object's own ACL, which is not collected, so
/// `s3:GetObject` is granted only under the open condition `rolechain:ObjectAclIsPublic`.
pub(in crate::graph) fn acl_statements(
    bucket: &str,
    grants: &[model::PublicGrant],
) -> PolicyDocument {
    let mut statements = Vec::new();
    for g in grants {
        let (who, principal, condition) = match g.grantee {
            model::PublicGrantee::AllUsers => ("AllUsers", model::Principal::Wildcard, Vec::new()),
            model::PublicGrantee::AuthenticatedUsers => (
                "AuthenticatedUsers",
                model::Principal::Map(BTreeMap::from([("AWS".to_string(), vec!["*".to_string()])])),
                vec![model::ConditionClause {
                    operator: "Null".to_string(),
                    key: "aws:PrincipalIsAWSService".to_string(),
                    values: vec!["false".to_string()],
                }],
            ),
        };
        let (bucket_actions, object_actions): (&[&str], &[&str]) = match g.permission.as_str() {
            "READ" => (
                &[
                    "s3:ListBucket",
                    "s3:ListBucketVersions",
                    "s3:ListBucketMultipartUploads",
                ],
                &[],
            ),
            "WRITE" => (&[], &["s3:PutObject", "s3:DeleteObject"]),
            "READ_ACP" => (&["s3:GetBucketAcl"], &[]),
            "WRITE_ACP" => (&["s3:PutBucketAcl"], &[]),
            "FULL_CONTROL" => (
                &[
                    "s3:ListBucket",
                    "s3:ListBucketVersions",
                    "s3:ListBucketMultipartUploads",
                    "s3:GetBucketAcl",
                    "s3:PutBucketAcl",
                ],
                &["s3:PutObject", "s3:DeleteObject"],
            ),
            _ => (&[], &[]),
        };
        let sid = format!("acl:{who}:{}", g.permission);
        let statement = |actions: &[&str],
                         resource: String,
                         extra: Vec<model::ConditionClause>,
                         sid: String| model::Statement {
            sid: Some(sid),
            index: 0,
            effect: model::Effect::Allow,
            principal: Some(principal.clone()),
            not_principal: None,
            action: Some(actions.iter().map(|a| a.to_string()).collect()),
            not_action: None,
            resource: Some(vec![resource]),
            not_resource: None,
            condition: [condition.clone(), extra].concat(),
        };
        if !bucket_actions.is_empty() {
            statements.push(statement(
                bucket_actions,
                bucket.to_string(),
                Vec::new(),
                sid.clone(),
            ));
        }
        if !object_actions.is_empty() {
            statements.push(statement(
                object_actions,
                format!("{bucket}/*"),
                Vec::new(),
                format!("{sid}:objects"),
            ));
        }
        if matches!(g.permission.as_str(), "READ" | "FULL_CONTROL") {
            statements.push(statement(
                &["s3:GetObject"],
                format!("{bucket}/*"),
                vec![model::ConditionClause {
                    operator: "Bool".to_string(),
                    key: "rolechain:ObjectAclIsPublic".to_string(),
                    values: vec!["true".to_string()],
                }],
                format!("{sid}:objects-if-their-acl-is-public"),
            ));
        }
    }
    for (i, st) in statements.iter_mut().enumerate() {
        st.index = i;
    }
    PolicyDocument {
        version: Some("2012-10-17".to_string()),
        statements,
    }
}

/// Condition keys whose fixed values make a `"*"` statement of a bucket policy non-public, as S3
/// Block Public Access judges it.
pub(in crate::graph) const NON_PUBLIC_KEYS: &[&str] = &[
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalarn",
    "aws:userid",
    "aws:sourceip",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

/// True when a bucket policy is public, as S3 Block Public Access judges it: an Allow statement
/// grants to `"*"` without a fixed-value condition on a key that names who or where.
pub fn policy_is_public(doc: &PolicyDocument) -> bool {
    doc.statements.iter().any(|s| {
        let everyone = match &s.principal {
            Some(model::Principal::Wildcard) => true,
            Some(model::Principal::Map(m)) => {
                m.get("AWS").is_some_and(|v| v.iter().any(|p| p == "*"))
            }
            None => false,
        };
        s.effect == model::Effect::Allow
            && everyone
            && !s.condition.iter().any(|c| {
                let op = c.operator.to_ascii_lowercase();
                !op.contains("like")
                    && !op.contains("not")
                    && !c
                        .values
                        .iter()
                        .any(|v| v.contains('*') || v == "0.0.0.0/0" || v == "::/0")
                    && NON_PUBLIC_KEYS.contains(&c.key.to_ascii_lowercase().as_str())
            })
    })
}
