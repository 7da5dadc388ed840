//! Evaluation unit tests, named after the IAM-SEMANTICS rule they check.
//!
//! Every test describes a request and its policies with [`Case`] and calls [`check`] with the
//! expected outcome; tests that also check the proof look at the returned decision.

use std::borrow::Cow;

use serde_json::{Value, json};

use super::*;
use crate::model::Severity;

const A: &str = "111111111111";
const B: &str = "222222222222";
const ROLE: &str = "arn:aws:iam::111111111111:role/app/task-app";
const ROLE_B: &str = "arn:aws:iam::222222222222:role/reader";
const SECRET: &str = "arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbCdEf";
const SECRET_B: &str = "arn:aws:secretsmanager:us-east-1:222222222222:secret:db-AbCdEf";
const KEY: &str = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const KEY_B: &str = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// A policy document with Version 2012-10-17 and the given statements.
fn policy(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// `Allow action on resource`.
fn allow(action: &str, resource: &str) -> Value {
    policy(json!([{"Effect": "Allow", "Action": action, "Resource": resource}]))
}

/// One request with its policies.
#[derive(Clone)]
struct Case {
    principal: RequestPrincipal,
    action: String,
    resource: RequestResource,
    resource_account: Option<String>,
    context: Context,
    identity: Vec<PolicyDocument>,
    resource_policy: Option<(PolicyType, PolicyDocument)>,
    boundary: Option<PolicyDocument>,
    session: Option<PolicyDocument>,
    scps: Levels,
    rcps: Levels,
    aws_managed_key: bool,
}

fn parse(v: Value) -> PolicyDocument {
    PolicyDocument::parse(&v).unwrap()
}

/// A request by a session of [`ROLE`] (session name unknown) in a strict context.
fn case(action: &str, resource: &str) -> Case {
    Case {
        principal: RequestPrincipal::Session {
            role_arn: ROLE.to_string(),
            session_name: None,
        },
        action: action.to_string(),
        resource: if resource == "*" {
            RequestResource::Any
        } else {
            RequestResource::Arn(resource.to_string())
        },
        resource_account: None,
        context: Context::new(ContextValue::Absent),
        identity: Vec::new(),
        resource_policy: None,
        boundary: None,
        session: None,
        scps: None,
        rcps: None,
        aws_managed_key: false,
    }
}

impl Case {
    fn by(mut self, principal: RequestPrincipal) -> Case {
        self.principal = principal;
        self
    }
    fn by_role(self, role_arn: &str, session: Option<&str>) -> Case {
        self.by(RequestPrincipal::Session {
            role_arn: role_arn.to_string(),
            session_name: session.map(str::to_string),
        })
    }
    fn under(mut self, prefix: &str) -> Case {
        self.resource = RequestResource::Under(prefix.to_string());
        self
    }
    fn owned_by(mut self, account: &str) -> Case {
        self.resource_account = Some(account.to_string());
        self
    }
    fn ctx(mut self, key: &str, value: ContextValue) -> Case {
        self.context.set(key, value);
        self
    }
    fn ctx1(self, key: &str, value: &str) -> Case {
        self.ctx(key, ContextValue::Single(value.to_string()))
    }
    fn identity(mut self, doc: Value) -> Case {
        self.identity.push(parse(doc));
        self
    }
    fn resource_policy(mut self, policy_type: PolicyType, doc: Value) -> Case {
        self.resource_policy = Some((policy_type, parse(doc)));
        self
    }
    fn bucket_policy(self, doc: Value) -> Case {
        self.resource_policy(PolicyType::Resource, doc)
    }
    fn trust(self, doc: Value) -> Case {
        self.resource_policy(PolicyType::Trust, doc)
    }
    fn key_policy(self, doc: Value) -> Case {
        self.resource_policy(PolicyType::Key, doc)
    }
    fn boundary(mut self, doc: Value) -> Case {
        self.boundary = Some(parse(doc));
        self
    }
    fn session_policy(mut self, doc: Value) -> Case {
        self.session = Some(parse(doc));
        self
    }
    fn scp(mut self, target: &str, docs: Vec<Value>) -> Case {
        self.scps
            .get_or_insert_with(Vec::new)
            .push((target.to_string(), docs.into_iter().map(parse).collect()));
        self
    }
    fn rcp(mut self, target: &str, docs: Vec<Value>) -> Case {
        self.rcps
            .get_or_insert_with(Vec::new)
            .push((target.to_string(), docs.into_iter().map(parse).collect()));
        self
    }
    fn aws_managed_key(mut self) -> Case {
        self.aws_managed_key = true;
        self
    }

    fn resource_account(&self) -> String {
        if let Some(a) = &self.resource_account {
            return a.clone();
        }
        let arn = match &self.resource {
            RequestResource::Arn(a) | RequestResource::Under(a) => a.as_str(),
            RequestResource::Any => "",
        };
        match arn.split(':').nth(4) {
            Some(acct) if !acct.is_empty() => acct.to_string(),
            _ => A.to_string(),
        }
    }

    fn decide(&self) -> Decision {
        let identity_ids: Vec<String> = (0..self.identity.len())
            .map(|i| format!("identity-{i}"))
            .collect();
        let level_ids = |levels: &Levels, kind: &str| -> Vec<Vec<String>> {
            levels
                .iter()
                .flatten()
                .map(|(target, docs)| {
                    (0..docs.len())
                        .map(|i| format!("{kind}-{target}-{i}"))
                        .collect()
                })
                .collect()
        };
        let scp_ids = level_ids(&self.scps, "scp");
        let rcp_ids = level_ids(&self.rcps, "rcp");
        let set = PolicySet {
            identity: self
                .identity
                .iter()
                .zip(&identity_ids)
                .map(|(document, id)| PolicyRef {
                    policy_type: PolicyType::Identity,
                    id,
                    document,
                })
                .collect(),
            resource: self
                .resource_policy
                .as_ref()
                .map(|(policy_type, document)| PolicyRef {
                    policy_type: *policy_type,
                    id: "resource",
                    document,
                }),
            boundary: self.boundary.as_ref().map(|document| PolicyRef {
                policy_type: PolicyType::Boundary,
                id: "boundary",
                document,
            }),
            session: self.session.as_ref().map(|document| PolicyRef {
                policy_type: PolicyType::Session,
                id: "session",
                document,
            }),
            scps: org_levels(&self.scps, &scp_ids, PolicyType::Scp).map(Cow::Owned),
            rcps: org_levels(&self.rcps, &rcp_ids, PolicyType::Rcp).map(Cow::Owned),
            aws_managed_key: self.aws_managed_key,
        };
        let request = Request {
            principal: self.principal.clone(),
            action: self.action.clone(),
            resource: self.resource.clone(),
            resource_account: self.resource_account(),
            context: self.context.clone(),
        };
        evaluate(&request, &set)
    }
}

type Levels = Option<Vec<(String, Vec<PolicyDocument>)>>;

fn org_levels<'a>(
    levels: &'a Levels,
    ids: &'a [Vec<String>],
    policy_type: PolicyType,
) -> Option<Vec<OrgLevel<'a>>> {
    levels.as_ref().map(|levels| {
        levels
            .iter()
            .zip(ids)
            .map(|((target, docs), ids)| OrgLevel {
                target,
                policies: docs
                    .iter()
                    .zip(ids)
                    .map(|(document, id)| PolicyRef {
                        policy_type,
                        id,
                        document,
                    })
                    .collect(),
            })
            .collect()
    })
}

/// The expected outcome: `allowed`, `conditional` (allowed with open conditions), `implicit`
/// (implicit deny) or `explicit` (explicit deny).
#[track_caller]
fn check(case: &Case, expected: &str) -> Decision {
    let d = case.decide();
    let got = match (d.outcome, d.conditional) {
        (Outcome::Allowed, false) => "allowed",
        (Outcome::Allowed, true) => "conditional",
        (Outcome::ImplicitDeny, _) => "implicit",
        (Outcome::ExplicitDeny, _) => "explicit",
    };
    assert_eq!(got, expected, "decision: {d:#?}");
    match d.outcome {
        Outcome::Allowed => assert_eq!(d.blocked_by, None),
        Outcome::ImplicitDeny | Outcome::ExplicitDeny => {
            assert!(d.blocked_by.is_some(), "no blocker: {d:#?}")
        }
    }
    assert_eq!(
        d.conditional,
        !d.conditions.is_empty(),
        "conditional flag and conditions disagree: {d:#?}"
    );
    d
}

fn reason(policy_type: PolicyType, policy: &str, statement: &str, effect: Effect) -> Reason {
    Reason {
        policy_type,
        policy: policy.into(),
        statement: statement.into(),
        effect,
    }
}

fn codes(d: &Decision) -> Vec<&'static str> {
    d.diagnostics.iter().map(|d| d.code).collect()
}

fn open_ops(d: &Decision) -> Vec<(String, String, Effect)> {
    d.conditions
        .iter()
        .map(|c| (c.operator.clone(), c.key.clone(), c.effect))
        .collect()
}

/// A session of [`ROLE`] allowed to read any secret, conditioned by one clause.
fn with_condition(condition: Value) -> Case {
    case("secretsmanager:GetSecretValue", SECRET).identity(policy(json!([{
        "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*", "Condition": condition
    }])))
}

// ----- R1.1 document shape -----

#[test]
fn r1_1_variables_are_literal_without_version_2012() {
    let doc = json!({"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}/*"}]});
    let c = case("s3:GetObject", "arn:aws:s3:::b/alice/k")
        .owned_by(A)
        .ctx1("aws:username", "alice")
        .identity(doc.clone());
    check(&c, "implicit");
    let c = case("s3:GetObject", "arn:aws:s3:::b/${aws:username}/k")
        .owned_by(A)
        .identity(doc);
    check(&c, "allowed");
}

#[test]
fn r1_1_array_values_are_or() {
    let p = policy(
        json!([{"Effect": "Allow", "Action": ["s3:PutObject", "secretsmanager:GetSecretValue"], "Resource": ["arn:aws:s3:::x", SECRET]}]),
    );
    check(
        &case("secretsmanager:GetSecretValue", SECRET).identity(p),
        "allowed",
    );
}

// ----- R1.2 actions -----

#[test]
fn r1_2_action_is_case_insensitive() {
    check(
        &case("secretsmanager:getsecretvalue", SECRET)
            .identity(allow("SecretsManager:GetSecretValue", "*")),
        "allowed",
    );
}

#[test]
fn r1_2_action_wildcards_stay_within_service() {
    check(
        &case("secretsmanager:GetSecretValue", SECRET).identity(allow("secretsmanager:Get*", "*")),
        "allowed",
    );
    check(
        &case("secretsmanager:GetSecretValue", SECRET)
            .identity(allow("secretsmanager:?etSecretValue", "*")),
        "allowed",
    );
    check(
        &case("secretsmanager:GetSecretValue", SECRET)
            .identity(allow("secrets*:GetSecretValue", "*")),
        "implicit",
    );
    check(
        &case("secretsmanager:GetSecretValue", SECRET).identity(allow("ssm:Get*", "*")),
        "implicit",
    );
}

#[test]
fn r1_2_star_alone_matches_every_action() {
    check(
        &case("sts:AssumeRole", ROLE_B)
            .owned_by(A)
            .identity(allow("*", "*")),
        "allowed",
    );
}

#[test]
fn r1_2_not_action_allows_everything_else() {
    let p = policy(json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]));
    check(
        &case("sts:AssumeRole", "arn:aws:iam::111111111111:role/x").identity(p.clone()),
        "allowed",
    );
    check(
        &case("iam:PassRole", "arn:aws:iam::111111111111:role/x").identity(p),
        "implicit",
    );
}

#[test]
fn r1_2_action_with_whitespace_or_empty_name_never_matches() {
    check(
        &case("secretsmanager:GetSecretValue", SECRET)
            .identity(allow("secretsmanager: GetSecretValue", "*")),
        "implicit",
    );
    check(
        &case("secretsmanager:GetSecretValue", SECRET).identity(allow("secretsmanager:", "*")),
        "implicit",
    );
}

// ----- R1.3 resources -----

#[test]
fn r1_3_star_crosses_slash_and_colon_in_resource() {
    let c = case(
        "logs:PutLogEvents",
        "arn:aws:logs:us-east-1:111111111111:log-group:/ecs/app:log-stream:web/abc",
    )
    .identity(allow(
        "logs:PutLogEvents",
        "arn:aws:logs:us-east-1:111111111111:log-group:/ecs/app:*",
    ));
    check(&c, "allowed");
}

#[test]
fn r1_3_wildcards_do_not_cross_colons_before_the_resource() {
    // Region `us-*` stays within its field.
    check(
        &case(
            "ssm:GetParameters",
            "arn:aws:ssm:us-east-1:111111111111:parameter/x",
        )
        .identity(allow(
            "ssm:GetParameters",
            "arn:aws:ssm:us-*:111111111111:parameter/x",
        )),
        "allowed",
    );
    // `*` in the region cannot swallow the account field.
    check(
        &case(
            "ssm:GetParameters",
            "arn:aws:ssm:us-east-1:111111111111:parameter/x",
        )
        .identity(allow("ssm:GetParameters", "arn:aws:ssm:*:parameter/x:*")),
        "implicit",
    );
}

#[test]
fn r1_3_resource_segment_is_case_sensitive() {
    check(
        &case("s3:GetObject", "arn:aws:s3:::b/k")
            .owned_by(A)
            .identity(allow("s3:GetObject", "arn:aws:s3:::B/*")),
        "implicit",
    );
    check(
        &case("s3:GetObject", "arn:aws:s3:::b/k")
            .owned_by(A)
            .identity(allow("s3:GetObject", "arn:aws:s3:::b/*")),
        "allowed",
    );
}

#[test]
fn r1_3_partition_region_and_account_ignore_case_service_is_exact() {
    check(
        &case("s3:GetObject", "arn:aws:s3:::b/k")
            .owned_by(A)
            .identity(allow("s3:GetObject", "arn:AWS:s3:::b/k")),
        "allowed",
    );
    check(
        &case("s3:GetObject", "arn:aws:s3:::b/k")
            .owned_by(A)
            .identity(allow("s3:GetObject", "arn:aws:s?:::b/k")),
        "implicit",
    );
}

#[test]
fn r1_3_not_resource_excludes_listed_resources() {
    let p = policy(
        json!([{"Effect": "Allow", "Action": "secretsmanager:*", "NotResource": "arn:aws:secretsmanager:*:*:secret:admin-*"}]),
    );
    check(
        &case("secretsmanager:GetSecretValue", SECRET).identity(p.clone()),
        "allowed",
    );
    check(
        &case(
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:111111111111:secret:admin-AbCdEf",
        )
        .identity(p),
        "implicit",
    );
}

#[test]
fn r1_3_wildcard_only_action_needs_literal_star() {
    check(
        &case("ecr:GetAuthorizationToken", "*").identity(allow("ecr:GetAuthorizationToken", "*")),
        "allowed",
    );
    check(
        &case("ecr:GetAuthorizationToken", "*")
            .identity(allow("ecr:GetAuthorizationToken", "arn:aws:ecr:*:*:*")),
        "implicit",
    );
    let p = policy(
        json!([{"Effect": "Allow", "Action": "ecr:*", "NotResource": "arn:aws:ecr:*:*:repository/x"}]),
    );
    check(
        &case("ecr:GetAuthorizationToken", "*").identity(p),
        "allowed",
    );
}

#[test]
fn r1_3_resource_policy_without_resource_applies_to_attached_resource() {
    let p = policy(
        json!([{"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "secretsmanager:GetSecretValue"}]),
    );
    check(
        &case("secretsmanager:GetSecretValue", SECRET).bucket_policy(p),
        "allowed",
    );
}

#[test]
fn r1_3_star_in_secret_policy_means_the_secret() {
    let p = policy(
        json!([{"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]),
    );
    check(
        &case("secretsmanager:GetSecretValue", SECRET).bucket_policy(p),
        "allowed",
    );
}

#[test]
fn r1_3_secret_name_without_suffix_does_not_match() {
    let base = "arn:aws:secretsmanager:us-east-1:111111111111:secret:db";
    check(
        &case("secretsmanager:GetSecretValue", SECRET)
            .identity(allow("secretsmanager:GetSecretValue", base)),
        "implicit",
    );
    check(
        &case("secretsmanager:GetSecretValue", SECRET).identity(allow(
            "secretsmanager:GetSecretValue",
            &format!("{base}-??????"),
        )),
        "allowed",
    );
}

#[test]
fn r1_3_short_arn_is_padded_in_identity_policies_with_a_warning() {
    let d = check(
        &case("s3:GetObject", "arn:aws:s3:::b/k")
            .owned_by(A)
            .identity(allow("s3:GetObject", "arn:aws:s3")),
        "allowed",
    );
    assert_eq!(codes(&d), ["short-arn"]);
    assert_eq!(d.diagnostics[0].severity, Severity::Warning);
}

#[test]
fn r1_3_short_arn_padding_keeps_fields_apart() {
    let c = |r: &str| {
        case("s3:GetObject", "arn:aws:s3:::b/k")
            .owned_by(A)
            .identity(allow("s3:GetObject", r))
    };
    // `arn:aws` pads to `arn:aws:*:*:*:*`, which covers every service.
    check(&c("arn:aws"), "allowed");
    check(&c("arn:aws:ec2"), "implicit");
    check(&c("arn:aws-cn"), "implicit");
}

#[test]
fn r1_3_short_arn_in_resource_policy_needs_a_wildcard() {
    let p = |r: &str| {
        policy(
            json!([{"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:GetObject", "Resource": r}]),
        )
    };
    check(
        &case("s3:GetObject", "arn:aws:s3:::b/k")
            .owned_by(A)
            .bucket_policy(p("arn:aws:s3")),
        "implicit",
    );
    check(
        &case("s3:GetObject", "arn:aws:s3:::b/k")
            .owned_by(A)
            .bucket_policy(p("arn:aws:s3:*")),
        "allowed",
    );
}

#[test]
fn r1_3_short_arn_never_matches_in_scps() {
    let d = check(
        &case("s3:GetObject", "arn:aws:s3:::b/k")
            .owned_by(A)
            .identity(allow("s3:*", "*"))
            .scp("r-root", vec![allow("s3:*", "arn:aws:s3:*")]),
        "implicit",
    );
    assert_eq!(
        d.blocked_by,
        Some(Blocker::ScpMissingAllow {
            target: "r-root".into()
        })
    );
    assert!(codes(&d).contains(&"short-arn"));
}

#[test]
fn r1_3_under_prefix_fully_covered_allows_and_denies() {
    let c = case("s3:GetObject", "x")
        .under("arn:aws:s3:::b/")
        .owned_by(A)
        .identity(allow("s3:GetObject", "arn:aws:s3:::b/*"));
    check(&c, "allowed");
    let deny = policy(json!([{"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b*"}]));
    check(&c.identity(deny), "explicit");
}

#[test]
fn r1_3_under_prefix_partly_covered_allows_but_deny_is_unknown() {
    let c = case("s3:GetObject", "x")
        .under("arn:aws:s3:::b/")
        .owned_by(A)
        .identity(allow("s3:GetObject", "arn:aws:s3:::b/public/*"));
    check(&c, "allowed");
    let deny = policy(
        json!([{"Sid": "NoSecret", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b/secret/*"}]),
    );
    let d = check(&c.identity(deny), "conditional");
    assert_eq!(
        open_ops(&d),
        [("Resource".to_string(), "Resource".to_string(), Effect::Deny)]
    );
}

#[test]
fn r1_3_under_prefix_not_covered_does_not_match() {
    check(
        &case("s3:GetObject", "x")
            .under("arn:aws:s3:::b/")
            .owned_by(A)
            .identity(allow("s3:GetObject", "arn:aws:s3:::c/*")),
        "implicit",
    );
}

#[test]
fn r1_3_not_resource_with_under_prefix() {
    let p = |nr: &str| policy(json!([{"Effect": "Allow", "Action": "s3:*", "NotResource": nr}]));
    let c = case("s3:GetObject", "x")
        .under("arn:aws:s3:::b/")
        .owned_by(A);
    check(&c.clone().identity(p("arn:aws:s3:::b/*")), "implicit");
    check(
        &c.clone().identity(p("arn:aws:s3:::b/private/*")),
        "allowed",
    );
    check(&c.identity(p("arn:aws:s3:::c/*")), "allowed");
}

// ----- R1.4 principals -----

fn grant(principal: Value) -> Value {
    policy(
        json!([{"Sid": "Grant", "Effect": "Allow", "Principal": principal, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]),
    )
}

#[test]
fn r1_4_role_arn_matches_every_session_of_the_role() {
    let d = check(
        &case("secretsmanager:GetSecretValue", SECRET).bucket_policy(grant(json!({"AWS": ROLE}))),
        "allowed",
    );
    assert_eq!(
        d.because,
        [reason(
            PolicyType::Resource,
            "resource",
            "Grant",
            Effect::Allow
        )]
    );
}

#[test]
fn r1_4_role_path_is_ignored_and_name_case_is_ignored() {
    let p = grant(json!({"AWS": "arn:aws:iam::111111111111:role/TASK-APP"}));
    check(
        &case("secretsmanager:GetSecretValue", SECRET).bucket_policy(p),
        "allowed",
    );
    let other = grant(json!({"AWS": "arn:aws:iam::111111111111:role/app/other"}));
    check(
        &case("secretsmanager:GetSecretValue", SECRET).bucket_policy(other),
        "implicit",
    );
}

#[test]
fn r1_4_session_arn_with_unknown_session_name_is_conditional() {
    let sess = "arn:aws:sts::111111111111:assumed-role/task-app/abc";
    let d = check(
        &case("secretsmanager:GetSecretValue", SECRET).bucket_policy(grant(json!({"AWS": sess}))),
        "conditional",
    );
    assert_eq!(
        open_ops(&d),
        [("Principal".to_string(), "AWS".to_string(), Effect::Allow)]
    );
    check(
        &case("secretsmanager:GetSecretValue", SECRET)
            .by_role(ROLE, Some("abc"))
            .bucket_policy(grant(json!({"AWS": sess}))),
        "allowed",
    );
    check(
        &case("secretsmanager:GetSecretValue", SECRET)
            .by_role(ROLE, Some("xyz"))
            .bucket_policy(grant(json!({"AWS": sess}))),
        "implicit",
    );
}

#[test]
fn r1_4_account_id_and_root_arn_are_the_same() {
    let c = case("secretsmanager:GetSecretValue", SECRET_B)
        .identity(allow("secretsmanager:GetSecretValue", "*"));
    check(
        &c.clone().bucket_policy(grant(json!({"AWS": A}))),
        "allowed",
    );
    check(
        &c.clone()
            .bucket_policy(grant(json!({"AWS": "arn:aws:iam::111111111111:root"}))),
        "allowed",
    );
    check(
        &c.bucket_policy(grant(json!({"AWS": "arn:aws-cn:iam::111111111111:root"}))),
        "implicit",
    );
}

#[test]
fn r1_4_unique_id_is_a_dangling_principal() {
    let d = check(
        &case("secretsmanager:GetSecretValue", SECRET)
            .bucket_policy(grant(json!({"AWS": "AROAEXAMPLEID123456"}))),
        "implicit",
    );
    assert_eq!(codes(&d), ["dangling-principal"]);
}

#[test]
fn r1_4_user_arn_is_case_sensitive() {
    let user = || RequestPrincipal::User {
        arn: "arn:aws:iam::111111111111:user/alice".into(),
    };
    check(
        &case("secretsmanager:GetSecretValue", SECRET)
            .by(user())
            .bucket_policy(grant(
                json!({"AWS": "arn:aws:iam::111111111111:user/alice"}),
            )),
        "allowed",
    );
    check(
        &case("secretsmanager:GetSecretValue", SECRET)
            .by(user())
            .bucket_policy(grant(
                json!({"AWS": "arn:aws:iam::111111111111:user/Alice"}),
            )),
        "implicit",
    );
}

#[test]
fn r1_4_service_principal_is_exact() {
    let ecs = || RequestPrincipal::Service("ecs-tasks.amazonaws.com".into());
    let trust = |svc: &str| {
        policy(
            json!([{"Effect": "Allow", "Principal": {"Service": svc}, "Action": "sts:AssumeRole"}]),
        )
    };
    check(
        &case("sts:AssumeRole", ROLE)
            .by(ecs())
            .trust(trust("ecs-tasks.amazonaws.com")),
        "allowed",
    );
    check(
        &case("sts:AssumeRole", ROLE)
            .by(ecs())
            .trust(trust("ecs.amazonaws.com")),
        "implicit",
    );
}

#[test]
fn r1_4_star_matches_everyone_including_service_principals() {
    let ecs = RequestPrincipal::Service("ecs-tasks.amazonaws.com".into());
    check(
        &case("secretsmanager:GetSecretValue", SECRET)
            .by(ecs)
            .bucket_policy(grant(json!("*"))),
        "allowed",
    );
    check(
        &case("secretsmanager:GetSecretValue", SECRET).bucket_policy(grant(json!({"AWS": "*"}))),
        "allowed",
    );
}

// ----- R1.5 NotPrincipal -----

fn deny_except(not_principal: Value) -> Value {
    policy(json!([
        {"Sid": "Grant", "Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue"},
        {"Sid": "Fence", "Effect": "Deny", "NotPrincipal": not_principal, "Action": "secretsmanager:*"}
    ]))
}

#[test]
fn r1_5_not_principal_deny_excludes_only_a_fully_listed_chain() {
    let c = case("secretsmanager:GetSecretValue", SECRET).by_role(ROLE, Some("s1"));
    let all = json!({"AWS": ["arn:aws:sts::111111111111:assumed-role/task-app/s1", ROLE, A]});
    check(&c.clone().bucket_policy(deny_except(all)), "allowed");
    let d = check(
        &c.bucket_policy(deny_except(
            json!({"AWS": "arn:aws:iam::222222222222:root"}),
        )),
        "explicit",
    );
    assert_eq!(
        d.blocked_by,
        Some(Blocker::Deny(reason(
            PolicyType::Resource,
            "resource",
            "Fence",
            Effect::Deny
        )))
    );
}

#[test]
fn r1_5_not_principal_deny_with_partial_listing_is_a_possible_deny() {
    let c = case("secretsmanager:GetSecretValue", SECRET).by_role(ROLE, Some("s1"));
    let d = check(
        &c.bucket_policy(deny_except(json!({"AWS": [ROLE, A]}))),
        "conditional",
    );
    assert_eq!(
        open_ops(&d),
        [("NotPrincipal".to_string(), "AWS".to_string(), Effect::Deny)]
    );
}

#[test]
fn r1_5_not_principal_deny_always_applies_with_a_boundary() {
    let c = case("secretsmanager:GetSecretValue", SECRET)
        .by_role(ROLE, Some("s1"))
        .boundary(allow("*", "*"));
    let all = json!({"AWS": ["arn:aws:sts::111111111111:assumed-role/task-app/s1", ROLE, A]});
    check(&c.bucket_policy(deny_except(all)), "explicit");
}

#[test]
fn r1_5_not_principal_allow_is_conditional_with_a_warning() {
    let p = policy(
        json!([{"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "secretsmanager:GetSecretValue"}]),
    );
    let d = check(
        &case("secretsmanager:GetSecretValue", SECRET).bucket_policy(p),
        "conditional",
    );
    assert_eq!(codes(&d), ["not-principal-allow"]);
}

// ----- R1.6 policy variables -----

fn team_bucket() -> Case {
    case("s3:GetObject", "arn:aws:s3:::team-red/k")
        .owned_by(A)
        .identity(allow(
            "s3:GetObject",
            "arn:aws:s3:::team-${aws:PrincipalTag/team}/*",
        ))
}

#[test]
fn r1_6_variable_in_resource_is_substituted() {
    check(
        &team_bucket().ctx1("aws:PrincipalTag/team", "red"),
        "allowed",
    );
    check(
        &team_bucket().ctx1("aws:PrincipalTag/team", "blue"),
        "implicit",
    );
}

#[test]
fn r1_6_missing_variable_in_resource_matches_nothing() {
    check(&team_bucket(), "implicit");
    let c = case("s3:GetObject", "arn:aws:s3:::b/alice/k")
        .owned_by(A)
        .identity(allow("s3:GetObject", "arn:aws:s3:::b/${aws:username}/*"));
    check(&c, "implicit");
}

#[test]
fn r1_6_unknown_variable_in_resource_is_conditional() {
    let d = check(
        &team_bucket().ctx("aws:PrincipalTag/team", ContextValue::Unknown),
        "conditional",
    );
    assert_eq!(
        open_ops(&d),
        [(
            "Resource".to_string(),
            "Resource".to_string(),
            Effect::Allow
        )]
    );
}

/// An unknown value could be anything, but not another bucket than the entry names: with the
/// variable read as `*`, an entry that still cannot match covers nothing, and the request is not
/// conditional on it.
#[test]
fn r1_6_unknown_variable_in_resource_matches_nothing_the_rest_rules_out() {
    let other_bucket = case("s3:GetObject", "arn:aws:s3:::elsewhere/k")
        .owned_by(A)
        .identity(allow(
            "s3:GetObject",
            "arn:aws:s3:::team-${aws:PrincipalTag/team}/*",
        ))
        .ctx("aws:PrincipalTag/team", ContextValue::Unknown);
    check(&other_bucket, "implicit");
    let key_under = case("s3:GetObject", "arn:aws:s3:::b/alice/k")
        .owned_by(A)
        .identity(allow("s3:GetObject", "arn:aws:s3:::b/${aws:userid}/*"))
        .ctx("aws:userid", ContextValue::Unknown);
    check(&key_under, "conditional");
    // `${*}` stays a literal star, so it does not widen the entry.
    let literal = case("s3:GetObject", "arn:aws:s3:::b/x/k")
        .owned_by(A)
        .identity(allow("s3:GetObject", "arn:aws:s3:::b/${*}/${aws:userid}"))
        .ctx("aws:userid", ContextValue::Unknown);
    check(&literal, "implicit");
}

#[test]
fn r1_6_default_value_applies_when_key_is_missing() {
    let c = case("s3:GetObject", "arn:aws:s3:::team-none/k")
        .owned_by(A)
        .identity(allow(
            "s3:GetObject",
            "arn:aws:s3:::team-${aws:PrincipalTag/team, 'none'}/*",
        ));
    check(&c, "allowed");
}

#[test]
fn r1_6_escapes_and_substituted_values_are_literal() {
    let p = allow(
        "s3:GetObject",
        "arn:aws:s3:::b/${*}/${aws:PrincipalTag/team}",
    );
    check(
        &case("s3:GetObject", "arn:aws:s3:::b/*/x")
            .owned_by(A)
            .ctx1("aws:PrincipalTag/team", "x")
            .identity(p.clone()),
        "allowed",
    );
    check(
        &case("s3:GetObject", "arn:aws:s3:::b/a/x")
            .owned_by(A)
            .ctx1("aws:PrincipalTag/team", "x")
            .identity(p.clone()),
        "implicit",
    );
    // A tag value of `*` is matched literally, not as a wildcard.
    check(
        &case("s3:GetObject", "arn:aws:s3:::b/*/y")
            .owned_by(A)
            .ctx1("aws:PrincipalTag/team", "*")
            .identity(p),
        "implicit",
    );
}

#[test]
fn r1_6_variables_in_conditions() {
    let c = |cond: Value| with_condition(cond).ctx1("aws:PrincipalTag/team", "red");
    check(&c(json!({"StringEquals": {"secretsmanager:ResourceTag/team": "${aws:PrincipalTag/team}"}})).ctx1("secretsmanager:ResourceTag/team", "red"), "allowed");
    check(&c(json!({"StringEquals": {"secretsmanager:ResourceTag/team": "${aws:PrincipalTag/team}"}})).ctx1("secretsmanager:ResourceTag/team", "blue"), "implicit");
}

#[test]
fn r1_6_missing_variable_in_condition_fails_positive_and_passes_negated_operators() {
    let ctx = |c: Case| c.ctx1("aws:ResourceTag/team", "red");
    check(
        &ctx(with_condition(
            json!({"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}),
        )),
        "implicit",
    );
    check(
        &ctx(with_condition(
            json!({"StringNotEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}),
        )),
        "allowed",
    );
}

#[test]
fn r1_6_unknown_variable_in_condition_is_unknown() {
    let c = with_condition(
        json!({"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}),
    )
    .ctx1("aws:ResourceTag/team", "red")
    .ctx("aws:PrincipalTag/team", ContextValue::Unknown);
    check(&c, "conditional");
}

// ----- R2.1 explicit deny -----

fn deny(action: &str, resource: &str) -> Value {
    policy(json!([{"Sid": "No", "Effect": "Deny", "Action": action, "Resource": resource}]))
}

#[test]
fn r2_1_identity_deny_overrides_allow() {
    let d = check(
        &case("secretsmanager:GetSecretValue", SECRET)
            .identity(allow("*", "*"))
            .identity(deny("secretsmanager:*", "*")),
        "explicit",
    );
    let r = reason(PolicyType::Identity, "identity-1", "No", Effect::Deny);
    assert_eq!(d.because, std::slice::from_ref(&r));
    assert_eq!(d.blocked_by, Some(Blocker::Deny(r)));
}

#[test]
fn r2_1_deny_in_every_policy_type_is_final() {
    let base = || case("secretsmanager:GetSecretValue", SECRET).identity(allow("*", "*"));
    let d = check(&base().boundary(policy(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Sid": "No", "Effect": "Deny", "Action": "*", "Resource": "*"}]))), "explicit");
    assert_eq!(
        d.blocked_by,
        Some(Blocker::Deny(reason(
            PolicyType::Boundary,
            "boundary",
            "No",
            Effect::Deny
        )))
    );
    let d = check(&base().session_policy(deny("*", "*")), "explicit");
    assert_eq!(
        d.blocked_by,
        Some(Blocker::Deny(reason(
            PolicyType::Session,
            "session",
            "No",
            Effect::Deny
        )))
    );
    let d = check(
        &base().scp(
            "r-root",
            vec![allow("*", "*"), deny("secretsmanager:*", "*")],
        ),
        "explicit",
    );
    assert_eq!(
        d.blocked_by,
        Some(Blocker::Deny(reason(
            PolicyType::Scp,
            "scp-r-root-1",
            "No",
            Effect::Deny
        )))
    );
    let res = policy(json!([{"Sid": "No", "Effect": "Deny", "Principal": "*", "Action": "*"}]));
    let d = check(&base().bucket_policy(res), "explicit");
    assert_eq!(
        d.blocked_by,
        Some(Blocker::Deny(reason(
            PolicyType::Resource,
            "resource",
            "No",
            Effect::Deny
        )))
    );
}

#[test]
fn r2_1_resource_deny_naming_the_account_denies_its_principals() {
    let res = policy(json!([{"Effect": "Deny", "Principal": {"AWS": A}, "Action": "*"}]));
    check(
        &case("secretsmanager:GetSecretValue", SECRET)
            .identity(allow("*", "*"))
            .bucket_policy(res),
        "explicit",
    );
}

// ----- R2.2 RCPs -----

#[test]
fn r2_2_rcp_deny_blocks_and_rcp_allow_is_implicit() {
    let c = case("sts:AssumeRole", ROLE_B)
        .identity(allow("sts:AssumeRole", "*"))
        .trust(grant_assume(json!({"AWS": A})));
    // A level with no custom RCP still allows: RCPFullAWSAccess is implicit.
    check(&c.clone().rcp("r-root", vec![]), "allowed");
    let fence = policy(
        json!([{"Sid": "Org", "Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*",
        "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}}}]),
    );
    let d = check(
        &c.clone()
            .rcp("r-root", vec![])
            .rcp("ou-1", vec![fence.clone()])
            .ctx1("aws:PrincipalOrgID", "o-other"),
        "explicit",
    );
    assert_eq!(
        d.blocked_by,
        Some(Blocker::Deny(reason(
            PolicyType::Rcp,
            "rcp-ou-1-0",
            "Org",
            Effect::Deny
        )))
    );
    check(
        &c.rcp("ou-1", vec![fence])
            .ctx1("aws:PrincipalOrgID", "o-abc"),
        "allowed",
    );
}

#[test]
fn r2_2_rcps_do_not_apply_to_aws_managed_keys() {
    let p = policy(json!([key_statement(json!("*"))]));
    let c = case("kms:Decrypt", KEY)
        .key_policy(p)
        .rcp("r-root", vec![deny("kms:*", "*")]);
    check(&c.clone(), "explicit");
    check(&c.aws_managed_key(), "allowed");
}

#[test]
fn r2_2_rcps_apply_to_service_principals() {
    let ecs = RequestPrincipal::Service("ecs-tasks.amazonaws.com".into());
    let trust = policy(
        json!([{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]),
    );
    check(
        &case("sts:AssumeRole", ROLE)
            .by(ecs)
            .trust(trust)
            .rcp("r-root", vec![deny("sts:*", "*")]),
        "explicit",
    );
}

// ----- R2.3 SCPs -----

#[test]
fn r2_3_every_scp_level_needs_an_allow() {
    let c = case("secretsmanager:GetSecretValue", SECRET).identity(allow("*", "*"));
    let d = check(
        &c.clone()
            .scp("r-root", vec![allow("*", "*")])
            .scp("ou-1", vec![allow("s3:*", "*")])
            .scp(A, vec![allow("*", "*")]),
        "implicit",
    );
    assert_eq!(
        d.blocked_by,
        Some(Blocker::ScpMissingAllow {
            target: "ou-1".into()
        })
    );
    let d = check(
        &c.scp("r-root", vec![allow("*", "*")])
            .scp(A, vec![allow("secretsmanager:*", "*")]),
        "allowed",
    );
    assert_eq!(
        d.because.len(),
        3,
        "identity and both SCP levels: {:?}",
        d.because
    );
}

#[test]
fn r2_3_scps_do_not_apply_to_service_principals_or_when_absent() {
    let ecs = RequestPrincipal::Service("ecs-tasks.amazonaws.com".into());
    let trust = policy(
        json!([{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]),
    );
    check(
        &case("sts:AssumeRole", ROLE)
            .by(ecs)
            .trust(trust)
            .scp("r-root", vec![]),
        "allowed",
    );
    check(
        &case("secretsmanager:GetSecretValue", SECRET).identity(allow("*", "*")),
        "allowed",
    );
}

// ----- R2.4 core combination -----

#[test]
fn r2_4_same_account_identity_alone_allows() {
    let d = check(
        &case("secretsmanager:GetSecretValue", SECRET)
            .identity(allow("secretsmanager:GetSecretValue", SECRET)),
        "allowed",
    );
    assert_eq!(
        d.because,
        [reason(
            PolicyType::Identity,
            "identity-0",
            "0",
            Effect::Allow
        )]
    );
}

#[test]
fn r2_4_same_account_missing_identity_allow() {
    let d = check(&case("secretsmanager:GetSecretValue", SECRET), "implicit");
    assert_eq!(d.blocked_by, Some(Blocker::IdentityMissingAllow));
}

#[test]
fn r2_4_role_arn_grant_is_limited_by_boundary_and_session_policy() {
    let c =
        case("secretsmanager:GetSecretValue", SECRET).bucket_policy(grant(json!({"AWS": ROLE})));
    let d = check(&c.clone().boundary(allow("s3:*", "*")), "implicit");
    assert_eq!(
        d.blocked_by,
        Some(Blocker::BoundaryMissingAllow {
            policy: "boundary".into()
        })
    );
    let d = check(&c.clone().session_policy(allow("s3:*", "*")), "implicit");
    assert_eq!(
        d.blocked_by,
        Some(Blocker::SessionMissingAllow {
            policy: "session".into()
        })
    );
    let d = check(&c.boundary(allow("secretsmanager:*", "*")), "allowed");
    assert_eq!(d.because.len(), 2, "resource and boundary: {:?}", d.because);
}

#[test]
fn r2_4_session_arn_and_star_grants_are_not_limited_by_boundary_or_session_policy() {
    let sess = "arn:aws:sts::111111111111:assumed-role/task-app/s1";
    let c = case("secretsmanager:GetSecretValue", SECRET)
        .by_role(ROLE, Some("s1"))
        .boundary(allow("s3:*", "*"))
        .session_policy(allow("s3:*", "*"));
    check(
        &c.clone().bucket_policy(grant(json!({"AWS": sess}))),
        "allowed",
    );
    check(&c.bucket_policy(grant(json!("*"))), "allowed");
}

#[test]
fn r2_4_user_arn_grant_is_not_limited_by_boundary() {
    let user = RequestPrincipal::User {
        arn: "arn:aws:iam::111111111111:user/alice".into(),
    };
    let c = case("secretsmanager:GetSecretValue", SECRET)
        .by(user)
        .boundary(allow("s3:*", "*"));
    check(
        &c.bucket_policy(grant(
            json!({"AWS": "arn:aws:iam::111111111111:user/alice"}),
        )),
        "allowed",
    );
}

#[test]
fn r2_4_account_grant_alone_never_grants() {
    let c = case("secretsmanager:GetSecretValue", SECRET).bucket_policy(grant(json!({"AWS": A})));
    let d = check(&c.clone(), "implicit");
    assert_eq!(d.blocked_by, Some(Blocker::IdentityMissingAllow));
    check(&c.identity(allow("secretsmanager:*", "*")), "allowed");
}

#[test]
fn r2_4_identity_path_is_limited_by_boundary_and_session_policy() {
    let c = case("secretsmanager:GetSecretValue", SECRET).identity(allow("*", "*"));
    let d = check(&c.clone().boundary(allow("s3:*", "*")), "implicit");
    assert_eq!(
        d.blocked_by,
        Some(Blocker::BoundaryMissingAllow {
            policy: "boundary".into()
        })
    );
    let d = check(&c.session_policy(allow("s3:*", "*")), "implicit");
    assert_eq!(
        d.blocked_by,
        Some(Blocker::SessionMissingAllow {
            policy: "session".into()
        })
    );
}

#[test]
fn r2_4_cross_account_needs_both_sides() {
    let c = case("secretsmanager:GetSecretValue", SECRET_B);
    let d = check(
        &c.clone().bucket_policy(grant(json!({"AWS": ROLE}))),
        "implicit",
    );
    assert_eq!(d.blocked_by, Some(Blocker::IdentityMissingAllow));
    let d = check(
        &c.clone().identity(allow("secretsmanager:*", "*")),
        "implicit",
    );
    assert_eq!(
        d.blocked_by,
        Some(Blocker::ResourceMissingAllow {
            policy_type: PolicyType::Resource,
            policy: None
        })
    );
    let d = check(
        &c.clone()
            .identity(allow("secretsmanager:*", "*"))
            .bucket_policy(grant(json!({"AWS": B}))),
        "implicit",
    );
    assert_eq!(
        d.blocked_by,
        Some(Blocker::ResourceMissingAllow {
            policy_type: PolicyType::Resource,
            policy: Some("resource".into())
        })
    );
    let d = check(
        &c.identity(allow("secretsmanager:*", "*"))
            .bucket_policy(grant(json!({"AWS": A}))),
        "allowed",
    );
    assert_eq!(
        d.because,
        [
            reason(PolicyType::Identity, "identity-0", "0", Effect::Allow),
            reason(PolicyType::Resource, "resource", "Grant", Effect::Allow),
        ]
    );
}

#[test]
fn r2_4_cross_account_identity_side_is_limited_by_boundary() {
    let c = case("secretsmanager:GetSecretValue", SECRET_B)
        .identity(allow("*", "*"))
        .bucket_policy(grant(json!({"AWS": ROLE})))
        .boundary(allow("s3:*", "*"));
    let d = check(&c, "implicit");
    assert_eq!(
        d.blocked_by,
        Some(Blocker::BoundaryMissingAllow {
            policy: "boundary".into()
        })
    );
}

#[test]
fn r2_4_service_principal_needs_a_resource_grant_and_ignores_identity() {
    let ecs = RequestPrincipal::Service("ecs-tasks.amazonaws.com".into());
    let c = case("sts:AssumeRole", ROLE)
        .by(ecs)
        .identity(allow("*", "*"));
    let d = check(
        &c.clone().trust(policy(
            json!([{"Effect": "Allow", "Principal": {"AWS": A}, "Action": "sts:AssumeRole"}]),
        )),
        "implicit",
    );
    assert_eq!(
        d.blocked_by,
        Some(Blocker::ResourceMissingAllow {
            policy_type: PolicyType::Trust,
            policy: Some("resource".into())
        })
    );
    check(&c.identity(deny("*", "*")).trust(policy(json!([{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]))), "allowed");
}

#[test]
fn r2_4_root_user_has_full_access_to_its_own_account() {
    let root = RequestPrincipal::AccountRoot {
        partition: "aws".into(),
        account: A.into(),
    };
    check(
        &case("secretsmanager:GetSecretValue", SECRET).by(root.clone()),
        "allowed",
    );
    check(
        &case("secretsmanager:GetSecretValue", SECRET_B).by(root),
        "implicit",
    );
}

// ----- R2.5 explanation -----

#[test]
fn r2_5_because_holds_one_allowing_statement_per_side_in_document_order() {
    let id = policy(json!([
        {"Sid": "Narrow", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Sid": "First", "Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
        {"Sid": "Second", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": SECRET}
    ]));
    let d = check(
        &case("secretsmanager:GetSecretValue", SECRET)
            .identity(id)
            .boundary(allow("*", "*"))
            .scp("r-root", vec![allow("*", "*")]),
        "allowed",
    );
    assert_eq!(
        d.because,
        [
            reason(PolicyType::Identity, "identity-0", "First", Effect::Allow),
            reason(PolicyType::Boundary, "boundary", "0", Effect::Allow),
            reason(PolicyType::Scp, "scp-r-root-0", "0", Effect::Allow),
        ]
    );
}

// ----- R2.6 trust policies -----

fn grant_assume(principal: Value) -> Value {
    policy(
        json!([{"Sid": "Trust", "Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]),
    )
}

#[test]
fn r2_6_trust_names_account_root_needs_identity_allow() {
    let target = "arn:aws:iam::111111111111:role/target";
    let c = case("sts:AssumeRole", target).trust(grant_assume(
        json!({"AWS": "arn:aws:iam::111111111111:root"}),
    ));
    let d = check(&c.clone(), "implicit");
    assert_eq!(d.blocked_by, Some(Blocker::IdentityMissingAllow));
    let d = check(&c.identity(allow("sts:AssumeRole", target)), "allowed");
    assert_eq!(
        d.because,
        [
            reason(PolicyType::Identity, "identity-0", "0", Effect::Allow),
            reason(PolicyType::Trust, "resource", "Trust", Effect::Allow),
        ]
    );
}

#[test]
fn r2_6_trust_naming_the_role_needs_no_identity_allow_in_the_same_account() {
    let target = "arn:aws:iam::111111111111:role/target";
    check(
        &case("sts:AssumeRole", target).trust(grant_assume(json!({"AWS": ROLE}))),
        "allowed",
    );
}

#[test]
fn r2_6_trust_must_allow_even_in_the_same_account() {
    let target = "arn:aws:iam::111111111111:role/target";
    let other = grant_assume(json!({"AWS": "arn:aws:iam::111111111111:role/other"}));
    let d = check(
        &case("sts:AssumeRole", target)
            .identity(allow("sts:AssumeRole", "*"))
            .trust(other),
        "implicit",
    );
    assert_eq!(
        d.blocked_by,
        Some(Blocker::ResourceMissingAllow {
            policy_type: PolicyType::Trust,
            policy: Some("resource".into())
        })
    );
}

#[test]
fn r2_6_role_arn_trust_with_boundary_without_sts_is_denied() {
    let target = "arn:aws:iam::111111111111:role/target";
    let d = check(
        &case("sts:AssumeRole", target)
            .trust(grant_assume(json!({"AWS": ROLE})))
            .boundary(allow("s3:*", "*")),
        "implicit",
    );
    assert_eq!(
        d.blocked_by,
        Some(Blocker::BoundaryMissingAllow {
            policy: "boundary".into()
        })
    );
}

#[test]
fn r2_6_cross_account_trust_naming_the_role_still_needs_identity() {
    let d = check(
        &case("sts:AssumeRole", ROLE_B).trust(grant_assume(json!({"AWS": ROLE}))),
        "implicit",
    );
    assert_eq!(d.blocked_by, Some(Blocker::IdentityMissingAllow));
    check(
        &case("sts:AssumeRole", ROLE_B)
            .trust(grant_assume(json!({"AWS": ROLE})))
            .identity(allow("sts:AssumeRole", ROLE_B)),
        "allowed",
    );
}

#[test]
fn r2_6_user_arn_trust_is_limited_by_the_users_boundary() {
    let alice = RequestPrincipal::User {
        arn: "arn:aws:iam::111111111111:user/alice".into(),
    };
    let target = "arn:aws:iam::111111111111:role/target";
    let c = case("sts:AssumeRole", target).by(alice).trust(grant_assume(
        json!({"AWS": "arn:aws:iam::111111111111:user/alice"}),
    ));
    check(&c.clone(), "allowed");
    let d = check(&c.boundary(allow("s3:*", "*")), "implicit");
    assert_eq!(
        d.blocked_by,
        Some(Blocker::BoundaryMissingAllow {
            policy: "boundary".into()
        })
    );
}

// ----- R2.7 key policies -----

fn key_statement(principal: Value) -> Value {
    json!({"Sid": "Key", "Effect": "Allow", "Principal": principal, "Action": "kms:*", "Resource": "*"})
}

#[test]
fn r2_7_key_policy_without_account_statement_ignores_iam() {
    let c = case("kms:Decrypt", KEY)
        .identity(allow("kms:Decrypt", "*"))
        .key_policy(policy(json!([key_statement(
            json!({"AWS": "arn:aws:iam::111111111111:role/admin"})
        )])));
    let d = check(&c, "implicit");
    assert_eq!(
        d.blocked_by,
        Some(Blocker::ResourceMissingAllow {
            policy_type: PolicyType::Key,
            policy: Some("resource".into())
        })
    );
}

#[test]
fn r2_7_key_policy_account_statement_enables_iam() {
    let c = case("kms:Decrypt", KEY).key_policy(policy(json!([key_statement(
        json!({"AWS": "arn:aws:iam::111111111111:root"})
    )])));
    check(&c.clone(), "implicit");
    check(&c.identity(allow("kms:Decrypt", KEY)), "allowed");
}

#[test]
fn r2_7_key_star_with_caller_account_grants_directly() {
    let p = policy(
        json!([{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"StringEquals": {"kms:CallerAccount": A, "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}}]),
    );
    let c = case("kms:Decrypt", KEY)
        .key_policy(p)
        .ctx1("kms:CallerAccount", A);
    check(
        &c.clone()
            .ctx1("kms:ViaService", "secretsmanager.us-east-1.amazonaws.com"),
        "allowed",
    );
    check(&c, "implicit");
}

#[test]
fn r2_7_aws_managed_key_cannot_be_used_cross_account() {
    let p = policy(json!([key_statement(json!("*"))]));
    let d = check(
        &case("kms:Decrypt", KEY_B)
            .identity(allow("kms:*", "*"))
            .key_policy(p.clone())
            .aws_managed_key(),
        "implicit",
    );
    assert_eq!(d.blocked_by, Some(Blocker::AwsManagedKeyCrossAccount));
    check(
        &case("kms:Decrypt", KEY).key_policy(p).aws_managed_key(),
        "allowed",
    );
}

#[test]
fn r2_7_kms_cross_account_only_for_listed_actions() {
    let p = policy(json!([key_statement(json!({"AWS": A}))]));
    check(
        &case("kms:Decrypt", KEY_B)
            .identity(allow("kms:*", "*"))
            .key_policy(p.clone()),
        "allowed",
    );
    let d = check(
        &case("kms:PutKeyPolicy", KEY_B)
            .identity(allow("kms:*", "*"))
            .key_policy(p),
        "implicit",
    );
    assert_eq!(
        d.blocked_by,
        Some(Blocker::KmsNotCrossAccount {
            action: "kms:PutKeyPolicy".into()
        })
    );
    assert!(kms_action_works_cross_account("KMS:generatedatakey"));
    assert!(!kms_action_works_cross_account("kms:ScheduleKeyDeletion"));
}

#[test]
fn r2_7_kms_not_cross_account_names_the_rule_whatever_the_policies_say() {
    let blocker = |action: &str| {
        Some(Blocker::KmsNotCrossAccount {
            action: action.to_string(),
        })
    };
    let open = policy(json!([key_statement(json!("*"))]));
    // The key policy and the identity policy both allow: the rule alone denies.
    let d = check(
        &case("kms:ScheduleKeyDeletion", KEY_B)
            .identity(allow("kms:*", "*"))
            .key_policy(open.clone()),
        "implicit",
    );
    assert_eq!(d.blocked_by, blocker("kms:ScheduleKeyDeletion"));
    assert!(d.because.is_empty(), "{d:#?}");
    // The key policy would not allow either (it names another account), and there is no key
    // policy at all: still the rule, not the key policy.
    let elsewhere = policy(json!([key_statement(json!({"AWS": "333333333333"}))]));
    let c = case("kms:PutKeyPolicy", KEY_B).identity(allow("kms:*", "*"));
    assert_eq!(
        check(&c.clone().key_policy(elsewhere), "implicit").blocked_by,
        blocker("kms:PutKeyPolicy")
    );
    assert_eq!(
        check(&c, "implicit").blocked_by,
        blocker("kms:PutKeyPolicy")
    );
    // Nor does a Deny or a missing identity Allow hide it: no policy could change the answer.
    let d = check(
        &case("kms:DisableKey", KEY_B)
            .identity(deny("kms:*", "*"))
            .key_policy(open.clone()),
        "implicit",
    );
    assert_eq!(d.blocked_by, blocker("kms:DisableKey"));
    // Within the key's account the same action is decided by the policies.
    check(
        &case("kms:ScheduleKeyDeletion", KEY)
            .identity(allow("kms:*", "*"))
            .key_policy(open),
        "allowed",
    );
}

// ----- R3.1 block semantics -----

#[test]
fn r3_1_operators_and_keys_are_anded_values_are_ored() {
    let cond =
        json!({"StringEquals": {"aws:SourceAccount": "111", "aws:PrincipalTag/team": ["a", "b"]}});
    check(
        &with_condition(cond.clone())
            .ctx1("aws:SourceAccount", "111")
            .ctx1("aws:PrincipalTag/team", "b"),
        "allowed",
    );
    check(
        &with_condition(cond.clone())
            .ctx1("aws:SourceAccount", "111")
            .ctx1("aws:PrincipalTag/team", "c"),
        "implicit",
    );
    check(
        &with_condition(cond)
            .ctx1("aws:SourceAccount", "222")
            .ctx1("aws:PrincipalTag/team", "a"),
        "implicit",
    );
}

#[test]
fn r3_1_negated_operator_values_are_nor() {
    let cond = json!({"StringNotEquals": {"aws:PrincipalTag/team": ["a", "b"]}});
    check(
        &with_condition(cond.clone()).ctx1("aws:PrincipalTag/team", "a"),
        "implicit",
    );
    check(
        &with_condition(cond).ctx1("aws:PrincipalTag/team", "c"),
        "allowed",
    );
}

#[test]
fn r3_1_condition_and_tag_keys_are_case_insensitive() {
    check(
        &with_condition(json!({"StringEquals": {"AWS:SourceAccount": "111"}}))
            .ctx1("aws:sourceaccount", "111"),
        "allowed",
    );
    check(
        &with_condition(json!({"StringEquals": {"aws:PrincipalTag/Team": "red"}}))
            .ctx1("aws:principaltag/TEAM", "red"),
        "allowed",
    );
    check(
        &with_condition(json!({"StringEquals": {"aws:ResourceTag/Team": "red"}}))
            .ctx1("aws:ResourceTag/team", "red"),
        "allowed",
    );
}

// ----- R3.2 missing keys -----

#[test]
fn r3_2_positive_operator_on_missing_key_is_false() {
    check(
        &with_condition(json!({"StringEquals": {"aws:PrincipalTag/team": "a"}})),
        "implicit",
    );
}

#[test]
fn r3_2_negated_operator_on_missing_key_is_true() {
    check(
        &with_condition(json!({"StringNotEquals": {"aws:PrincipalTag/team": "a"}})),
        "allowed",
    );
    check(
        &with_condition(json!({"StringNotLike": {"aws:PrincipalTag/team": "a*"}})),
        "allowed",
    );
    check(
        &with_condition(json!({"ArnNotLike": {"aws:SourceArn": "arn:*"}})),
        "allowed",
    );
}

#[test]
fn r3_2_if_exists_on_missing_key_is_true() {
    check(
        &with_condition(json!({"StringEqualsIfExists": {"aws:PrincipalTag/team": "a"}})),
        "allowed",
    );
    check(
        &with_condition(json!({"StringEqualsIfExists": {"aws:PrincipalTag/team": "a"}}))
            .ctx1("aws:PrincipalTag/team", "b"),
        "implicit",
    );
}

#[test]
fn r3_2_null_tests_presence_only() {
    check(
        &with_condition(json!({"Null": {"aws:PrincipalTag/team": "true"}})),
        "allowed",
    );
    check(
        &with_condition(json!({"Null": {"aws:PrincipalTag/team": "false"}})),
        "implicit",
    );
    check(
        &with_condition(json!({"Null": {"aws:PrincipalTag/team": "false"}}))
            .ctx1("aws:PrincipalTag/team", ""),
        "allowed",
    );
    check(
        &with_condition(json!({"Null": {"aws:PrincipalTag/team": "true"}}))
            .ctx("aws:PrincipalTag/team", ContextValue::Unknown),
        "conditional",
    );
}

#[test]
fn r3_2_unknown_key_makes_an_allow_conditional() {
    let d = check(
        &with_condition(json!({"StringEquals": {"sts:ExternalId": "k9"}}))
            .ctx("sts:ExternalId", ContextValue::Unknown),
        "conditional",
    );
    assert_eq!(
        d.conditions,
        [OpenCondition {
            operator: "StringEquals".into(),
            key: "sts:ExternalId".into(),
            values: vec!["k9".into()],
            policy_type: PolicyType::Identity,
            policy: "identity-0".into(),
            statement: "0".into(),
            effect: Effect::Allow,
        }]
    );
}

#[test]
fn r3_2_unknown_key_makes_a_deny_possible() {
    let deny = policy(
        json!([{"Sid": "Ip", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]),
    );
    let c = case("secretsmanager:GetSecretValue", SECRET)
        .identity(allow("*", "*"))
        .identity(deny);
    let d = check(
        &c.clone().ctx("aws:SourceIp", ContextValue::Unknown),
        "conditional",
    );
    assert_eq!(
        open_ops(&d),
        [(
            "NotIpAddress".to_string(),
            "aws:SourceIp".to_string(),
            Effect::Deny
        )]
    );
    assert_eq!(
        d.because,
        [reason(
            PolicyType::Identity,
            "identity-0",
            "0",
            Effect::Allow
        )]
    );
    // Missing key: the negated operator is true, so the Deny applies.
    check(&c, "explicit");
}

#[test]
fn r3_2_context_otherwise_unknown_applies_to_unlisted_keys() {
    let mut c = with_condition(json!({"StringEquals": {"aws:SourceVpc": "vpc-1"}}));
    c.context = Context::new(ContextValue::Unknown);
    check(&c, "conditional");
}

// ----- R3.3 operator families -----

#[test]
fn r3_3_string_equals_is_exact_and_case_sensitive() {
    let c = |v: &str| {
        with_condition(json!({"StringEquals": {"aws:PrincipalTag/team": "Red"}}))
            .ctx1("aws:PrincipalTag/team", v)
    };
    check(&c("Red"), "allowed");
    check(&c("red"), "implicit");
    check(
        &with_condition(json!({"StringEquals": {"aws:PrincipalTag/team": "R*"}}))
            .ctx1("aws:PrincipalTag/team", "Red"),
        "implicit",
    );
}

#[test]
fn r3_3_string_equals_ignore_case() {
    let c = |op: &str, v: &str| {
        with_condition(json!({op: {"aws:PrincipalTag/team": "Red"}}))
            .ctx1("aws:PrincipalTag/team", v)
    };
    check(&c("StringEqualsIgnoreCase", "rED"), "allowed");
    check(&c("StringNotEqualsIgnoreCase", "rED"), "implicit");
    check(&c("StringNotEqualsIgnoreCase", "blue"), "allowed");
}

#[test]
fn r3_3_string_like_is_a_case_sensitive_glob() {
    let c = |pat: &str, v: &str| {
        with_condition(json!({"StringLike": {"s3:prefix": pat}})).ctx1("s3:prefix", v)
    };
    check(&c("home/*", "home/alice/x"), "allowed");
    check(&c("home/?", "home/a"), "allowed");
    check(&c("home/?", "home/ab"), "implicit");
    check(&c("Home/*", "home/a"), "implicit");
    check(
        &with_condition(json!({"StringNotLike": {"s3:prefix": "home/*"}}))
            .ctx1("s3:prefix", "tmp/x"),
        "allowed",
    );
}

#[test]
fn r3_3_numeric_operators() {
    let c = |op: &str, pv: &str, v: &str| {
        with_condition(json!({op: {"s3:max-keys": pv}})).ctx1("s3:max-keys", v)
    };
    check(&c("NumericEquals", "10", "10.0"), "allowed");
    check(&c("NumericNotEquals", "10", "10"), "implicit");
    check(&c("NumericLessThan", "10", "9"), "allowed");
    check(&c("NumericLessThan", "10", "10"), "implicit");
    check(&c("NumericLessThanEquals", "10", "10"), "allowed");
    check(&c("NumericGreaterThan", "10", "10.5"), "allowed");
    check(&c("NumericGreaterThanEquals", "10", "9"), "implicit");
    check(&c("NumericEquals", "10", "ten"), "implicit");
}

#[test]
fn r3_3_date_operators_accept_iso_8601_and_epoch_seconds() {
    let c = |op: &str, pv: &str, v: &str| {
        with_condition(json!({op: {"aws:CurrentTime": pv}})).ctx1("aws:CurrentTime", v)
    };
    check(
        &c(
            "DateLessThan",
            "2024-01-01T00:00:00Z",
            "2023-12-31T23:59:59Z",
        ),
        "allowed",
    );
    check(
        &c(
            "DateLessThan",
            "2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00Z",
        ),
        "implicit",
    );
    check(
        &c("DateEquals", "2024-01-01T00:00:00Z", "1704067200"),
        "allowed",
    );
    check(
        &c(
            "DateGreaterThanEquals",
            "2024-01-01",
            "2024-01-01T00:00:00+00:00",
        ),
        "allowed",
    );
    check(
        &c(
            "DateGreaterThan",
            "2024-01-01T01:00:00+01:00",
            "2024-01-01T00:00:01Z",
        ),
        "allowed",
    );
    check(
        &c("DateNotEquals", "2024-01-01T00:00:00Z", "1704067200"),
        "implicit",
    );
    check(
        &c("DateLessThanEquals", "2024-01-01T00:00:00Z", "not a date"),
        "implicit",
    );
}

#[test]
fn r3_3_bool() {
    let c = |pv: &str, v: &str| {
        with_condition(json!({"Bool": {"aws:SecureTransport": pv}})).ctx1("aws:SecureTransport", v)
    };
    check(&c("true", "true"), "allowed");
    check(&c("TRUE", "true"), "allowed");
    check(&c("true", "false"), "implicit");
    // Bool on a missing key is false (R5.1: MFA keys are absent for role sessions).
    check(
        &with_condition(json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}})),
        "implicit",
    );
}

#[test]
fn r3_3_binary_equals_compares_bytes() {
    let c = |pv: &str, v: &str| with_condition(json!({"BinaryEquals": {"key": pv}})).ctx1("key", v);
    check(&c("QmluYXJ5VmFsdWU=", "QmluYXJ5VmFsdWU="), "allowed");
    check(&c("QmluYXJ5VmFsdWU=", "QmluYXJ5VmFsdWU"), "allowed");
    check(&c("QmluYXJ5VmFsdWU=", "T3RoZXI="), "implicit");
}

#[test]
fn r3_3_ip_address_v4_v6_and_bare_addresses() {
    let c = |op: &str, pv: &str, v: &str| {
        with_condition(json!({op: {"aws:SourceIp": pv}})).ctx1("aws:SourceIp", v)
    };
    check(&c("IpAddress", "10.0.0.0/8", "10.1.2.3"), "allowed");
    check(&c("IpAddress", "10.0.0.0/8", "11.1.2.3"), "implicit");
    check(&c("IpAddress", "10.1.2.3", "10.1.2.3"), "allowed");
    check(&c("IpAddress", "10.1.2.3", "10.1.2.4"), "implicit");
    check(&c("IpAddress", "2001:db8::/32", "2001:db8:1::5"), "allowed");
    check(&c("IpAddress", "2001:db8::/32", "10.1.2.3"), "implicit");
    check(&c("IpAddress", "0.0.0.0/0", "192.0.2.1"), "allowed");
    check(&c("NotIpAddress", "10.0.0.0/8", "10.1.2.3"), "implicit");
    check(&c("NotIpAddress", "10.0.0.0/8", "192.0.2.1"), "allowed");
}

#[test]
fn r3_3_arn_operators_match_field_by_field() {
    let c = |op: &str, pv: &str, v: &str| {
        with_condition(json!({op: {"aws:SourceArn": pv}})).ctx1("aws:SourceArn", v)
    };
    check(
        &c(
            "ArnLike",
            "arn:aws:ecs:us-east-1:111111111111:*",
            "arn:aws:ecs:us-east-1:111111111111:task/c/1",
        ),
        "allowed",
    );
    check(
        &c(
            "ArnEquals",
            "arn:aws:ecs:*:111111111111:task/*",
            "arn:aws:ecs:us-east-1:111111111111:task/c/1",
        ),
        "allowed",
    );
    // StringLike would match here; ArnLike does not, because `*` stays in its field.
    let v = "arn:aws:svc:us-east-2:999999999999:store/abc:111:finance/x";
    check(&c("ArnLike", "arn:aws:svc:*:111:finance/*", v), "implicit");
    check(
        &c("StringLike", "arn:aws:svc:*:111:finance/*", v),
        "allowed",
    );
    check(
        &c(
            "ArnLike",
            "arn:aws:ecs:*:*:*",
            "arn:aws:ECS:us-east-1:111111111111:task/x",
        ),
        "implicit",
    );
    check(
        &c(
            "ArnNotLike",
            "arn:aws:ecs:*:222222222222:*",
            "arn:aws:ecs:us-east-1:111111111111:task/x",
        ),
        "allowed",
    );
    check(
        &c(
            "ArnNotEquals",
            "arn:aws:ecs:*:111111111111:*",
            "arn:aws:ecs:us-east-1:111111111111:task/x",
        ),
        "implicit",
    );
    check(
        &c("ArnLike", "arn:aws:ecs:*:111111111111:*", "not-an-arn"),
        "implicit",
    );
}

#[test]
fn r3_3_unsupported_operator_is_unknown_with_a_warning() {
    let d = check(
        &with_condition(json!({"StringSoundsLike": {"aws:PrincipalTag/team": "red"}}))
            .ctx1("aws:PrincipalTag/team", "red"),
        "conditional",
    );
    assert_eq!(codes(&d), ["unsupported-operator"]);
    let deny = policy(
        json!([{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NullIfExists": {"k": "true"}}}]),
    );
    let d = check(
        &case("secretsmanager:GetSecretValue", SECRET)
            .identity(allow("*", "*"))
            .identity(deny),
        "conditional",
    );
    assert_eq!(d.conditions[0].effect, Effect::Deny);
}

#[test]
fn r3_3_prefix_context_values_are_three_valued() {
    let prefix = ContextValue::Prefix("arn:aws:ecs:us-east-1:111111111111:".into());
    let c = |op: &str, pv: &str| {
        with_condition(json!({op: {"aws:SourceArn": pv}})).ctx("aws:SourceArn", prefix.clone())
    };
    check(
        &c("ArnLike", "arn:aws:ecs:us-east-1:111111111111:*"),
        "allowed",
    );
    check(
        &c("ArnLike", "arn:aws:ecs:us-east-1:111111111111:cluster/prod"),
        "conditional",
    );
    check(
        &c("ArnLike", "arn:aws:ecs:us-east-1:222222222222:*"),
        "implicit",
    );
    check(
        &c("StringLike", "arn:aws:ecs:us-east-1:111111111111:*"),
        "allowed",
    );
    check(
        &c("StringEquals", "arn:aws:ecs:us-east-1:111111111111:"),
        "conditional",
    );
    check(
        &c("StringEquals", "arn:aws:ecs:us-east-1:222222222222:task/x"),
        "implicit",
    );
    check(
        &c(
            "StringNotEquals",
            "arn:aws:ecs:us-east-1:222222222222:task/x",
        ),
        "allowed",
    );
    check(
        &c("ArnNotLike", "arn:aws:ecs:us-east-1:111111111111:*"),
        "implicit",
    );
}

// ----- R3.4 set operators -----

fn tag_keys(keys: &[&str]) -> ContextValue {
    ContextValue::Multi(keys.iter().map(|k| k.to_string()).collect())
}

#[test]
fn r3_4_for_all_values_is_true_on_a_missing_or_empty_key() {
    check(
        &with_condition(json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}})),
        "allowed",
    );
    check(
        &with_condition(json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}))
            .ctx("aws:TagKeys", tag_keys(&[])),
        "allowed",
    );
}

#[test]
fn r3_4_for_any_value_is_false_on_a_missing_key() {
    check(
        &with_condition(json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a", "b"]}})),
        "implicit",
    );
}

#[test]
fn r3_4_for_all_values_needs_every_request_value_to_match() {
    let c = |keys: &[&str]| {
        with_condition(json!({"ForAllValues:StringLike": {"aws:TagKeys": ["a*", "b"]}}))
            .ctx("aws:TagKeys", tag_keys(keys))
    };
    check(&c(&["a1", "b"]), "allowed");
    check(&c(&["a1", "c"]), "implicit");
}

#[test]
fn r3_4_for_any_value_needs_one_request_value_to_match() {
    let c = |op: &str, keys: &[&str]| {
        with_condition(json!({op: {"aws:TagKeys": ["a", "b"]}})).ctx("aws:TagKeys", tag_keys(keys))
    };
    check(&c("ForAnyValue:StringEquals", &["x", "b"]), "allowed");
    check(&c("ForAnyValue:StringEquals", &["x", "y"]), "implicit");
    check(&c("ForAnyValue:StringNotEquals", &["a", "y"]), "allowed");
    check(&c("ForAllValues:StringNotEquals", &["a", "y"]), "implicit");
    check(&c("ForAnyValue:StringEqualsIfExists", &["a"]), "allowed");
}

#[test]
fn r3_4_multivalued_key_without_set_operator_never_matches() {
    let c = |op: &str| {
        with_condition(json!({op: {"aws:TagKeys": "a"}})).ctx("aws:TagKeys", tag_keys(&["a"]))
    };
    check(&c("StringEquals"), "implicit");
    check(&c("StringNotEquals"), "implicit");
}

// ----- R5.1 role chaining -----

#[test]
fn r5_1_cross_account_chain_with_external_id_is_conditional() {
    let trust = policy(
        json!([{"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": A}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "k9"}}}]),
    );
    let c = case("sts:AssumeRole", "arn:aws:iam::222222222222:role/reader")
        .identity(allow(
            "sts:AssumeRole",
            "arn:aws:iam::222222222222:role/reader",
        ))
        .trust(trust)
        .ctx("sts:ExternalId", ContextValue::Unknown);
    let d = check(&c.clone(), "conditional");
    assert_eq!(
        d.because,
        [
            reason(PolicyType::Identity, "identity-0", "0", Effect::Allow),
            reason(PolicyType::Trust, "resource", "Partner", Effect::Allow),
        ]
    );
    assert_eq!(
        open_ops(&d),
        [(
            "StringEquals".to_string(),
            "sts:ExternalId".to_string(),
            Effect::Allow
        )]
    );
    // Without the identity side the chain is blocked, whatever the ExternalId.
    let mut no_identity = c;
    no_identity.identity.clear();
    let d = check(&no_identity, "implicit");
    assert_eq!(d.blocked_by, Some(Blocker::IdentityMissingAllow));
}

#[test]
fn r5_1_self_assumption_needs_an_explicit_trust_statement() {
    let ecs_only = policy(
        json!([{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]),
    );
    let c = case("sts:AssumeRole", ROLE).identity(allow("sts:AssumeRole", ROLE));
    check(&c.clone().trust(ecs_only), "implicit");
    check(&c.trust(grant_assume(json!({"AWS": ROLE}))), "allowed");
}

#[test]
fn r5_1_chain_needs_the_callers_scps_and_the_targets_rcps() {
    let c = case("sts:AssumeRole", ROLE_B)
        .identity(allow("sts:AssumeRole", "*"))
        .trust(grant_assume(json!({"AWS": ROLE})));
    check(
        &c.clone()
            .scp("r-root", vec![allow("*", "*")])
            .rcp("r-root", vec![]),
        "allowed",
    );
    let d = check(
        &c.clone().scp("r-root", vec![allow("s3:*", "*")]),
        "implicit",
    );
    assert_eq!(
        d.blocked_by,
        Some(Blocker::ScpMissingAllow {
            target: "r-root".into()
        })
    );
    check(
        &c.rcp("r-root", vec![deny("sts:AssumeRole", "*")]),
        "explicit",
    );
}

// ----- property tests -----

mod props {
    use proptest::prelude::*;

    use super::super::Tri;
    use super::super::glob;

    fn oracle(pattern: &str, ignore_case: bool) -> regex::Regex {
        let mut re = String::from(if ignore_case { "(?is)^" } else { "(?s)^" });
        for c in pattern.chars() {
            match c {
                '*' => re.push_str(".*"),
                '?' => re.push('.'),
                other => re.push_str(&regex::escape(&other.to_string())),
            }
        }
        re.push('$');
        regex::Regex::new(&re).unwrap()
    }

    proptest! {
        #[test]
        fn glob_matches_the_regex_oracle(pattern in "[aAb*?/:é]{0,8}", text in "[aAb/:é]{0,10}") {
            prop_assert_eq!(glob::matches(&pattern, &text), oracle(&pattern, false).is_match(&text));
            prop_assert_eq!(glob::matches_ignore_case(&pattern, &text), oracle(&pattern, true).is_match(&text));
        }

        /// R1.2: an action pattern matches when its service (before its first `:`) equals the
        /// action's ignoring case and its name globs the action's name ignoring case; `*` matches
        /// everything; no whitespace.
        #[test]
        fn r1_2_action_pattern_matches_as_split_at_the_first_colon(pattern in "[eE*cr:?x ]{0,9}", action in "[eEcr]{1,4}:[eErx]{1,4}") {
            let request = super::super::matching::RequestAction::new(&action).unwrap();
            let expected = pattern == "*"
                || pattern.split_once(':').is_some_and(|(service, name)| {
                    !name.is_empty()
                        && !pattern.contains(char::is_whitespace)
                        && service.eq_ignore_ascii_case(action.split_once(':').unwrap().0)
                        && oracle(name, true).is_match(action.split_once(':').unwrap().1)
                });
            prop_assert_eq!(request.matched_by(&pattern), expected);
        }

        #[test]
        fn prefix_coverage_matches_brute_force(pattern in "[ab*?]{0,5}", prefix in "[ab]{0,3}", ignore_case in any::<bool>()) {
            // Continuations over the pattern's letters plus one letter it never mentions, up
            // to a length that exceeds the pattern.
            let alphabet = ['a', 'b', 'c'];
            let mut all = true;
            let mut some = false;
            let mut frontier = vec![String::new()];
            for _ in 0..=6 {
                let mut next = Vec::new();
                for suffix in &frontier {
                    let text = format!("{prefix}{suffix}");
                    let m = if ignore_case { glob::matches_ignore_case(&pattern, &text) } else { glob::matches(&pattern, &text) };
                    all &= m;
                    some |= m;
                    for c in alphabet {
                        next.push(format!("{suffix}{c}"));
                    }
                }
                frontier = next;
            }
            let expected = if all { Tri::True } else if some { Tri::Unknown } else { Tri::False };
            prop_assert_eq!(glob::prefix_coverage(&pattern, &prefix, ignore_case), expected);
        }
    }
}

#[test]
fn r2_4_cross_account_with_neither_side_names_the_identity_side() {
    let d = check(&case("secretsmanager:GetSecretValue", SECRET_B), "implicit");
    assert_eq!(d.blocked_by, Some(Blocker::IdentityMissingAllow));
}

#[test]
fn r2_2_rcp_org_perimeter_surely_denies_a_principal_outside_the_organization() {
    let perimeter = policy(
        json!([{"Sid": "Perimeter", "Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*",
        "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-ours"}}}]),
    );
    let outside = ContextValue::NoneOf(vec!["o-ours".to_string()]);
    let c = case("sts:AssumeRole", ROLE_B)
        .identity(allow("sts:AssumeRole", "*"))
        .trust(grant_assume(json!({"AWS": A})))
        .rcp("r-root", vec![perimeter]);
    let d = check(&c.clone().ctx("aws:PrincipalOrgID", outside), "explicit");
    assert!(matches!(d.blocked_by, Some(Blocker::Deny(ref r)) if r.policy_type == PolicyType::Rcp));
    // Inside the organization the Deny does not apply; when membership is unknown it may.
    check(&c.clone().ctx1("aws:PrincipalOrgID", "o-ours"), "allowed");
    check(
        &c.ctx("aws:PrincipalOrgID", ContextValue::Unknown),
        "conditional",
    );
}

#[test]
fn r3_2_none_of_value_decides_only_equality_with_excluded_values() {
    let outside = || ContextValue::NoneOf(vec!["o-ours".to_string()]);
    let allow_if = |op: &str, value: &str| {
        policy(
            json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {op: {"aws:PrincipalOrgID": value}}}]),
        )
    };
    let c = || {
        case("s3:GetObject", "arn:aws:s3:::b/k")
            .owned_by(A)
            .ctx("aws:PrincipalOrgID", outside())
    };
    check(
        &c().identity(allow_if("StringEquals", "o-ours")),
        "implicit",
    );
    check(
        &c().identity(allow_if("StringNotEquals", "o-ours")),
        "allowed",
    );
    check(
        &c().identity(allow_if("StringEqualsIfExists", "o-ours")),
        "conditional",
    );
    check(
        &c().identity(allow_if("StringEquals", "o-partner")),
        "conditional",
    );
    check(&c().identity(allow_if("StringLike", "o-*")), "conditional");
}

// ----- R7.1 anonymous requests -----

const OBJECT: &str = "arn:aws:s3:::public-bucket/index.html";
const OIDC: &str = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com";
const SAML: &str = "arn:aws:iam::111111111111:saml-provider/corp";

/// An anonymous `s3:GetObject` on [`OBJECT`] in account [`A`].
fn anonymous_read() -> Case {
    case("s3:GetObject", OBJECT)
        .owned_by(A)
        .by(RequestPrincipal::Anonymous)
}

fn bucket_grant(principal: Value) -> Value {
    policy(
        json!([{"Sid": "Read", "Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::public-bucket/*"}]),
    )
}

#[test]
fn r7_1_anonymous_matches_only_star_principals() {
    check(
        &anonymous_read().bucket_policy(bucket_grant(json!("*"))),
        "allowed",
    );
    let d = check(
        &anonymous_read().bucket_policy(bucket_grant(json!({"AWS": "*"}))),
        "allowed",
    );
    assert_eq!(
        d.because,
        [reason(
            PolicyType::Resource,
            "resource",
            "Read",
            Effect::Allow
        )]
    );
    for principal in [
        json!({"AWS": A}),
        json!({"AWS": "arn:aws:iam::111111111111:root"}),
        json!({"AWS": ROLE}),
        json!({"AWS": "arn:aws:iam::111111111111:user/alice"}),
        json!({"Service": "ecs-tasks.amazonaws.com"}),
        json!({"Federated": OIDC}),
    ] {
        let d = check(
            &anonymous_read().bucket_policy(bucket_grant(principal.clone())),
            "implicit",
        );
        assert_eq!(
            d.blocked_by,
            Some(Blocker::ResourceMissingAllow {
                policy_type: PolicyType::Resource,
                policy: Some("resource".into())
            }),
            "{principal}"
        );
    }
}

#[test]
fn r7_1_anonymous_has_no_identity_side() {
    // Identity policies, a boundary and a session policy are not read: neither their Allow
    // nor their Deny counts.
    let d = check(
        &anonymous_read()
            .identity(allow("*", "*"))
            .boundary(allow("*", "*")),
        "implicit",
    );
    assert_eq!(
        d.blocked_by,
        Some(Blocker::ResourceMissingAllow {
            policy_type: PolicyType::Resource,
            policy: None
        })
    );
    check(
        &anonymous_read()
            .bucket_policy(bucket_grant(json!("*")))
            .identity(deny("*", "*"))
            .boundary(allow("sqs:*", "*"))
            .session_policy(allow("sqs:*", "*")),
        "allowed",
    );
    // A resource-policy Deny naming an account does not reach an anonymous caller.
    let p = policy(json!([
        {"Sid": "Read", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"},
        {"Sid": "NotA", "Effect": "Deny", "Principal": {"AWS": A}, "Action": "s3:*", "Resource": "*"}
    ]));
    check(&anonymous_read().bucket_policy(p), "allowed");
}

#[test]
fn r7_1_anonymous_ignores_scps_but_not_rcps() {
    let c = anonymous_read().bucket_policy(bucket_grant(json!("*")));
    check(
        &c.clone()
            .scp("r-root", vec![])
            .scp(A, vec![deny("s3:*", "*")]),
        "allowed",
    );
    let d = check(&c.rcp("r-root", vec![deny("s3:*", "*")]), "explicit");
    assert_eq!(
        d.blocked_by,
        Some(Blocker::Deny(reason(
            PolicyType::Rcp,
            "rcp-r-root-0",
            "No",
            Effect::Deny
        )))
    );
}

#[test]
fn r7_1_anonymous_principal_conditions_read_the_context() {
    // The caller of the evaluator sets principal keys absent for anonymous requests.
    let only_a = policy(
        json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalAccount": A}}}]),
    );
    check(&anonymous_read().bucket_policy(only_a.clone()), "implicit");
    // An organization perimeter written with `IfExists` denies anonymous callers, whose
    // organization id is absent; one that also tests `Null` lets them through.
    let perimeter = |guard: bool| {
        let mut condition = json!({"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-ours"}});
        if guard {
            condition["Null"] = json!({"aws:PrincipalOrgID": "false"});
        }
        policy(
            json!([{"Sid": "Org", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": condition}]),
        )
    };
    let c = anonymous_read().bucket_policy(bucket_grant(json!("*")));
    let d = check(&c.clone().rcp("r-root", vec![perimeter(false)]), "explicit");
    assert_eq!(
        d.blocked_by,
        Some(Blocker::Deny(reason(
            PolicyType::Rcp,
            "rcp-r-root-0",
            "Org",
            Effect::Deny
        )))
    );
    check(&c.clone().rcp("r-root", vec![perimeter(true)]), "allowed");
    // Given as unknown, the key leaves the Deny open.
    check(
        &c.rcp("r-root", vec![perimeter(false)])
            .ctx("aws:PrincipalOrgID", ContextValue::Unknown),
        "conditional",
    );
    check(
        &anonymous_read()
            .bucket_policy(only_a)
            .ctx("aws:PrincipalAccount", ContextValue::Unknown),
        "conditional",
    );
}

#[test]
fn r7_1_not_principal_deny_applies_to_anonymous() {
    let fence = |not_principal: Value| {
        policy(json!([
            {"Sid": "Read", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"},
            {"Sid": "Fence", "Effect": "Deny", "NotPrincipal": not_principal, "Action": "s3:*", "Resource": "*"}
        ]))
    };
    let d = check(
        &anonymous_read().bucket_policy(fence(
            json!({"AWS": [A, ROLE, "arn:aws:iam::111111111111:root"]}),
        )),
        "explicit",
    );
    assert_eq!(
        d.blocked_by,
        Some(Blocker::Deny(reason(
            PolicyType::Resource,
            "resource",
            "Fence",
            Effect::Deny
        )))
    );
    check(
        &anonymous_read().bucket_policy(fence(json!({"Federated": OIDC}))),
        "explicit",
    );
    // Only `*` lists an anonymous caller.
    check(
        &anonymous_read().bucket_policy(fence(json!({"AWS": "*"}))),
        "allowed",
    );
}

// ----- R7.2 federated principals -----

fn federated(provider: &str) -> RequestPrincipal {
    RequestPrincipal::Federated {
        provider: provider.to_string(),
    }
}

/// A trust policy letting `principal` call `action`.
fn federated_trust(principal: Value, action: &str) -> Value {
    policy(json!([{"Sid": "Trust", "Effect": "Allow", "Principal": principal, "Action": action}]))
}

#[test]
fn r7_2_federated_matches_exactly_its_provider_and_star() {
    let web = "sts:AssumeRoleWithWebIdentity";
    let c = case(web, ROLE).by(federated(OIDC));
    let d = check(
        &c.clone()
            .trust(federated_trust(json!({"Federated": OIDC}), web)),
        "allowed",
    );
    assert_eq!(
        d.because,
        [reason(
            PolicyType::Trust,
            "resource",
            "Trust",
            Effect::Allow
        )]
    );
    check(
        &c.clone().trust(federated_trust(json!("*"), web)),
        "allowed",
    );
    for principal in [
        json!({"Federated": "arn:aws:iam::111111111111:oidc-provider/accounts.google.com"}),
        json!({"Federated": "arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com"}),
        json!({"Federated": "cognito-identity.amazonaws.com"}),
        json!({"AWS": A}),
        json!({"AWS": "arn:aws:iam::111111111111:root"}),
        json!({"Service": "token.actions.githubusercontent.com"}),
    ] {
        let d = check(
            &c.clone().trust(federated_trust(principal.clone(), web)),
            "implicit",
        );
        assert_eq!(
            d.blocked_by,
            Some(Blocker::ResourceMissingAllow {
                policy_type: PolicyType::Trust,
                policy: Some("resource".into())
            }),
            "{principal}"
        );
    }
    let cognito = "cognito-identity.amazonaws.com";
    check(
        &case(web, ROLE)
            .by(federated(cognito))
            .trust(federated_trust(json!({"Federated": cognito}), web)),
        "allowed",
    );
}

#[test]
fn r7_2_federated_has_no_identity_boundary_or_scps_but_rcps_apply() {
    let saml = "sts:AssumeRoleWithSAML";
    let c = case(saml, ROLE)
        .by(federated(SAML))
        .trust(federated_trust(json!({"Federated": SAML}), saml));
    check(
        &c.clone()
            .identity(deny("*", "*"))
            .boundary(allow("s3:*", "*"))
            .session_policy(allow("s3:*", "*"))
            .scp("r-root", vec![]),
        "allowed",
    );
    check(&c.rcp("r-root", vec![deny("sts:*", "*")]), "explicit");
    // Without a trust statement, an identity Allow is not read.
    let d = check(
        &case(saml, ROLE)
            .by(federated(SAML))
            .identity(allow("*", "*"))
            .trust(grant_assume(json!({"AWS": A}))),
        "implicit",
    );
    assert!(
        matches!(
            d.blocked_by,
            Some(Blocker::ResourceMissingAllow {
                policy_type: PolicyType::Trust,
                ..
            })
        ),
        "{d:#?}"
    );
}

#[test]
fn r7_2_assume_role_statements_do_not_match_web_identity_or_saml() {
    let c = case("sts:AssumeRoleWithWebIdentity", ROLE)
        .by(federated(OIDC))
        .trust(federated_trust(
            json!({"Federated": OIDC}),
            "sts:AssumeRole",
        ));
    check(&c, "implicit");
    check(
        &case("sts:AssumeRoleWithSAML", ROLE)
            .by(federated(SAML))
            .trust(federated_trust(
                json!({"Federated": SAML}),
                "sts:AssumeRoleWithWebIdentity",
            )),
        "implicit",
    );
    check(
        &case("sts:AssumeRoleWithSAML", ROLE)
            .by(federated(SAML))
            .trust(federated_trust(
                json!({"Federated": SAML}),
                "sts:AssumeRoleWith*",
            )),
        "allowed",
    );
}

#[test]
fn r7_2_federated_trust_conditions_read_the_provider_claims() {
    let web = "sts:AssumeRoleWithWebIdentity";
    let trust = policy(
        json!([{"Effect": "Allow", "Principal": {"Federated": OIDC}, "Action": web,
        "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                      "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/deploy:ref:refs/heads/main"}}}]),
    );
    let c = case(web, ROLE).by(federated(OIDC)).trust(trust).ctx1(
        "token.actions.githubusercontent.com:aud",
        "sts.amazonaws.com",
    );
    check(
        &c.clone().ctx1(
            "token.actions.githubusercontent.com:sub",
            "repo:acme/deploy:ref:refs/heads/main",
        ),
        "allowed",
    );
    check(
        &c.clone().ctx1(
            "token.actions.githubusercontent.com:sub",
            "repo:mallory/fork:ref:refs/heads/main",
        ),
        "implicit",
    );
    check(
        &c.ctx(
            "token.actions.githubusercontent.com:sub",
            ContextValue::Unknown,
        ),
        "conditional",
    );
}

// ----- R7.3 fixed answers -----

#[test]
fn r7_3_get_caller_identity_needs_no_permission() {
    let everything_denies = |c: Case| {
        c.identity(deny("*", "*"))
            .boundary(deny("*", "*"))
            .session_policy(deny("*", "*"))
            .scp("r-root", vec![deny("*", "*")])
            .rcp("r-root", vec![deny("*", "*")])
    };
    for principal in [
        RequestPrincipal::Session {
            role_arn: ROLE.to_string(),
            session_name: None,
        },
        RequestPrincipal::User {
            arn: "arn:aws:iam::111111111111:user/alice".into(),
        },
        RequestPrincipal::AccountRoot {
            partition: "aws".into(),
            account: B.into(),
        },
        RequestPrincipal::Service("ecs-tasks.amazonaws.com".into()),
        RequestPrincipal::Anonymous,
        federated(OIDC),
    ] {
        for action in ["sts:GetCallerIdentity", "STS:getcalleridentity"] {
            let c = case(action, "*").by(principal.clone());
            for c in [c.clone(), everything_denies(c)] {
                let d = check(&c, "allowed");
                assert!(d.because.is_empty(), "{d:#?}");
                assert!(d.diagnostics.is_empty(), "{d:#?}");
            }
        }
    }
    // Other STS actions are decided by the policies.
    check(&case("sts:GetSessionToken", "*"), "implicit");
}

fn alias(name: &str) -> String {
    format!("arn:aws:kms:us-east-1:111111111111:{name}")
}

#[test]
fn r7_3_aws_managed_aliases_cannot_be_created_updated_or_deleted() {
    let admin = policy(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]));
    let key_admin = policy(json!([key_statement(json!("*"))]));
    for action in [
        "kms:CreateAlias",
        "kms:UpdateAlias",
        "kms:DeleteAlias",
        "KMS:deletealias",
    ] {
        for principal in [
            RequestPrincipal::Session {
                role_arn: ROLE.to_string(),
                session_name: None,
            },
            RequestPrincipal::AccountRoot {
                partition: "aws".into(),
                account: A.into(),
            },
            RequestPrincipal::Service("kms.amazonaws.com".into()),
        ] {
            let d = check(
                &case(action, &alias("alias/aws/secretsmanager"))
                    .by(principal)
                    .identity(admin.clone())
                    .key_policy(key_admin.clone()),
                "implicit",
            );
            assert_eq!(d.blocked_by, Some(Blocker::AwsManagedAlias), "{action}");
            assert!(d.because.is_empty(), "{d:#?}");
        }
        // A customer alias is decided by the policies, even one whose name merely contains
        // `aws`.
        for name in ["alias/app", "alias/aws-app", "alias/team/aws/x"] {
            check(
                &case(action, &alias(name)).identity(admin.clone()),
                "allowed",
            );
        }
    }
    // Other actions on an AWS-managed alias are not this rule's business.
    check(
        &case("kms:ListAliases", &alias("alias/aws/ssm")).identity(admin),
        "allowed",
    );
}

#[test]
fn r7_3_kms_key_without_key_policy_is_denied() {
    let root = RequestPrincipal::AccountRoot {
        partition: "aws".into(),
        account: A.into(),
    };
    let cases = [
        case("kms:Decrypt", KEY).identity(allow("kms:*", "*")),
        case("kms:Decrypt", KEY).identity(allow("*", "*")).by(root),
        case("kms:Decrypt", KEY).by(RequestPrincipal::Service("logs.amazonaws.com".into())),
        case("kms:Decrypt", KEY).by(RequestPrincipal::Anonymous),
        case("kms:Decrypt", KEY_B).identity(allow("kms:*", "*")),
        case("kms:Decrypt", KEY)
            .identity(allow("kms:*", "*"))
            .aws_managed_key(),
    ];
    for c in cases {
        let d = check(&c, "implicit");
        assert_eq!(d.blocked_by, Some(Blocker::KeyPolicyMissing), "{d:#?}");
        assert!(d.because.is_empty(), "{d:#?}");
    }
    // With a key policy that enables IAM, the identity policy decides again.
    check(
        &case("kms:Decrypt", KEY)
            .identity(allow("kms:*", "*"))
            .key_policy(policy(json!([key_statement(json!({"AWS": A}))]))),
        "allowed",
    );
    // An alias is not a key: no key policy is needed to create one.
    check(
        &case("kms:CreateAlias", &alias("alias/app")).identity(allow("kms:*", "*")),
        "allowed",
    );
}

#[test]
fn r7_3_missing_key_policy_is_named_only_when_nothing_else_blocks() {
    let c = case("kms:Decrypt", KEY);
    assert_eq!(
        check(&c.clone(), "implicit").blocked_by,
        Some(Blocker::IdentityMissingAllow)
    );
    let d = check(
        &c.clone()
            .identity(allow("kms:*", "*"))
            .identity(deny("kms:Decrypt", "*")),
        "explicit",
    );
    assert!(matches!(d.blocked_by, Some(Blocker::Deny(_))), "{d:#?}");
    assert_eq!(
        check(
            &c.clone()
                .identity(allow("kms:*", "*"))
                .boundary(allow("s3:*", "*")),
            "implicit"
        )
        .blocked_by,
        Some(Blocker::BoundaryMissingAllow {
            policy: "boundary".into()
        })
    );
    assert_eq!(
        check(
            &c.clone()
                .identity(allow("kms:*", "*"))
                .scp("r-root", vec![allow("s3:*", "*")]),
            "implicit"
        )
        .blocked_by,
        Some(Blocker::ScpMissingAllow {
            target: "r-root".into()
        })
    );
    // Across accounts too: the caller's own side first, then the key policy.
    let x = case("kms:Decrypt", KEY_B);
    assert_eq!(
        check(&x.clone(), "implicit").blocked_by,
        Some(Blocker::IdentityMissingAllow)
    );
    assert_eq!(
        check(
            &x.clone()
                .identity(allow("kms:*", "*"))
                .boundary(allow("s3:*", "*")),
            "implicit"
        )
        .blocked_by,
        Some(Blocker::BoundaryMissingAllow {
            policy: "boundary".into()
        })
    );
    assert_eq!(
        check(
            &x.identity(allow("kms:*", "*")).aws_managed_key(),
            "implicit"
        )
        .blocked_by,
        Some(Blocker::AwsManagedKeyCrossAccount)
    );
    // An identity Allow that depends on an unknown key still lacks the key policy.
    let d = check(
        &c.identity(policy(
            json!([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}}}]),
        ))
        .ctx("aws:PrincipalTag/team", ContextValue::Unknown),
        "implicit",
    );
    assert_eq!(d.blocked_by, Some(Blocker::KeyPolicyMissing));
}
