//! Micro-benchmarks of the evaluator's hot paths: glob matching of actions and ARNs, and
//! `policy::evaluate` on the requests that building a graph makes most (a task role reading its
//! own secret, an identity policy that does not match, a NotAction power user stopped by a Deny,
//! a cross-account trust with an ExternalId), each under a four-level SCP chain and an RCP.
//!
//! `cargo bench --bench evaluator`

#![allow(
    clippy::print_stderr,
    reason = "a benchmark binary reports a broken fixture to its terminal"
)]

use divan::{Bencher, black_box};
use rolechain::model::PolicyDocument;
use rolechain::policy::{
    self, Context, ContextValue, OrgLevel, PolicyRef, PolicySet, PolicyType, Request,
    RequestPrincipal, RequestResource, glob, matching,
};

const ACCOUNT: &str = "111111111111";
const OTHER: &str = "222222222222";
const TASK_ROLE: &str = "arn:aws:iam::111111111111:role/checkout-api-3-task";
const SECRET: &str =
    "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/checkout-api-3/db-Ab3dE9";

const TASK_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Sid":"ReadOwnConfig","Effect":"Allow","Action":["ssm:GetParameter","ssm:GetParameters","ssm:GetParametersByPath"],"Resource":"arn:aws:ssm:us-east-1:111111111111:parameter/prod/checkout-api-3/*"},
 {"Sid":"ReadOwnSecrets","Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/checkout-api-3/*"},
 {"Sid":"DecryptOwnValues","Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:111111111111:key/*","Condition":{"StringEquals":{"kms:ViaService":["secretsmanager.us-east-1.amazonaws.com","ssm.us-east-1.amazonaws.com"]}}},
 {"Sid":"OwnObjects","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::acme-111111111111-checkout-api-3-*/*"},
 {"Sid":"OwnLogs","Effect":"Allow","Action":["logs:GetLogEvents","logs:FilterLogEvents"],"Resource":"arn:aws:logs:us-east-1:111111111111:log-group:/ecs/prod/checkout-api-3:*"}]}"#;
const BASELINE: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Sid":"WriteLogs","Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:111111111111:log-group:/ecs/*"},
 {"Sid":"NeverBreakGlass","Effect":"Deny","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:111111111111:secret:prod/breakglass/*"}]}"#;
const POWER_USER: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Sid":"EverythingButIdentity","Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},
 {"Sid":"NoSecretValues","Effect":"Deny","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:111111111111:secret:prod/*"}]}"#;
const TRUST_EXTERNAL_ID: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Sid":"ChainedWithExternalId","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"chain-7-Xy3"}}}]}"#;
const ASSUME_NEXT: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Sid":"AssumeNextHop","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::222222222222:role/data-bridge-7"}]}"#;
const FULL_ACCESS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const GUARDRAILS: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Sid":"DenyLeavingTheOrganization","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"},
 {"Sid":"DenyRootUser","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}"#;
const REGIONS: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Sid":"DenyOutsideApprovedRegions","Effect":"Deny","NotAction":["iam:*","sts:*","organizations:*","s3:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}}]}"#;
const PERIMETER: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Sid":"EnforceOrgIdentities","Effect":"Deny","Principal":"*","Action":["sts:AssumeRole","secretsmanager:*","s3:*","kms:*"],"Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-abc123def4"},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}}]}"#;

/// The parsed policies every benchmark shares.
struct Fixture {
    task: PolicyDocument,
    baseline: PolicyDocument,
    power_user: PolicyDocument,
    trust: PolicyDocument,
    assume_next: PolicyDocument,
    full_access: PolicyDocument,
    guardrails: PolicyDocument,
    regions: PolicyDocument,
    perimeter: PolicyDocument,
}

fn parse(text: &str) -> PolicyDocument {
    match PolicyDocument::parse_str(text) {
        Ok(doc) => doc,
        Err(e) => {
            eprintln!("evaluator bench: a fixture policy does not parse: {e}");
            std::process::exit(2);
        }
    }
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            task: parse(TASK_POLICY),
            baseline: parse(BASELINE),
            power_user: parse(POWER_USER),
            trust: parse(TRUST_EXTERNAL_ID),
            assume_next: parse(ASSUME_NEXT),
            full_access: parse(FULL_ACCESS),
            guardrails: parse(GUARDRAILS),
            regions: parse(REGIONS),
            perimeter: parse(PERIMETER),
        }
    }

    fn r<'a>(policy_type: PolicyType, id: &'a str, document: &'a PolicyDocument) -> PolicyRef<'a> {
        PolicyRef {
            policy_type,
            id,
            document,
        }
    }

    /// Root, workloads OU, prod OU and account levels, each with FullAWSAccess.
    fn scps(&self) -> Vec<OrgLevel<'_>> {
        let full = Fixture::r(PolicyType::Scp, "p-FullAWSAccess", &self.full_access);
        vec![
            OrgLevel {
                target: "r-abcd",
                policies: vec![
                    full,
                    Fixture::r(PolicyType::Scp, "p-guardrails", &self.guardrails),
                ],
            },
            OrgLevel {
                target: "ou-abcd-workloads",
                policies: vec![
                    full,
                    Fixture::r(PolicyType::Scp, "p-regions", &self.regions),
                ],
            },
            OrgLevel {
                target: "ou-abcd-prod",
                policies: vec![full],
            },
            OrgLevel {
                target: ACCOUNT,
                policies: vec![full],
            },
        ]
    }

    fn rcps(&self) -> Vec<OrgLevel<'_>> {
        vec![OrgLevel {
            target: "r-abcd",
            policies: vec![Fixture::r(PolicyType::Rcp, "p-perimeter", &self.perimeter)],
        }]
    }
}

fn session_context(role: &str) -> Context {
    let mut ctx = Context::new(ContextValue::Unknown);
    for (k, v) in [
        ("aws:SecureTransport", "true"),
        ("aws:PrincipalArn", role),
        ("aws:PrincipalAccount", ACCOUNT),
        ("aws:PrincipalOrgID", "o-abc123def4"),
        ("aws:PrincipalIsAWSService", "false"),
        ("aws:RequestedRegion", "us-east-1"),
        ("aws:ViaAWSService", "false"),
    ] {
        ctx.set(k, ContextValue::Single(v.to_string()));
    }
    ctx
}

fn request(role: &str, action: &str, resource: &str, resource_account: &str) -> Request {
    Request {
        principal: RequestPrincipal::Session {
            role_arn: role.to_string(),
            session_name: None,
        },
        action: action.to_string(),
        resource: RequestResource::Arn(resource.to_string()),
        resource_account: resource_account.to_string(),
        context: session_context(role),
    }
}

fn main() {
    divan::main();
}

/// A task role reading its own secret: allowed by a scoped prefix, under every SCP level.
#[divan::bench]
fn evaluate_own_secret(b: Bencher) {
    let f = Fixture::new();
    let req = request(TASK_ROLE, "secretsmanager:GetSecretValue", SECRET, ACCOUNT);
    let set = PolicySet {
        identity: vec![
            Fixture::r(PolicyType::Identity, "task#app", &f.task),
            Fixture::r(PolicyType::Identity, "app-baseline", &f.baseline),
        ],
        scps: Some(f.scps().into()),
        rcps: Some(f.rcps().into()),
        ..PolicySet::default()
    };
    b.bench(|| policy::evaluate(black_box(&req), black_box(&set)));
}

/// The commonest request of a build: a principal whose policies name another service's
/// resources, so no statement applies.
#[divan::bench]
fn evaluate_no_match(b: Bencher) {
    let f = Fixture::new();
    let req = request(
        TASK_ROLE,
        "secretsmanager:GetSecretValue",
        "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/orders-worker-8/db-Qw3rTy",
        ACCOUNT,
    );
    let set = PolicySet {
        identity: vec![
            Fixture::r(PolicyType::Identity, "task#app", &f.task),
            Fixture::r(PolicyType::Identity, "app-baseline", &f.baseline),
        ],
        scps: Some(f.scps().into()),
        rcps: Some(f.rcps().into()),
        ..PolicySet::default()
    };
    b.bench(|| policy::evaluate(black_box(&req), black_box(&set)));
}

/// A NotAction power user whose Allow matches and whose Deny then applies.
#[divan::bench]
fn evaluate_not_action_denied(b: Bencher) {
    let f = Fixture::new();
    let role = "arn:aws:iam::111111111111:role/ops-poweruser";
    let req = request(role, "secretsmanager:GetSecretValue", SECRET, ACCOUNT);
    let set = PolicySet {
        identity: vec![Fixture::r(
            PolicyType::Identity,
            "power-user",
            &f.power_user,
        )],
        scps: Some(f.scps().into()),
        rcps: Some(f.rcps().into()),
        ..PolicySet::default()
    };
    b.bench(|| policy::evaluate(black_box(&req), black_box(&set)));
}

/// `sts:AssumeRole` across accounts into a trust that needs an ExternalId: conditional.
#[divan::bench]
fn evaluate_cross_account_external_id(b: Bencher) {
    let f = Fixture::new();
    let target = "arn:aws:iam::222222222222:role/data-bridge-7";
    let req = request(TASK_ROLE, "sts:AssumeRole", target, OTHER);
    let set = PolicySet {
        identity: vec![Fixture::r(
            PolicyType::Identity,
            "task#chain",
            &f.assume_next,
        )],
        resource: Some(Fixture::r(PolicyType::Trust, target, &f.trust)),
        scps: Some(f.scps().into()),
        rcps: Some(f.rcps().into()),
        ..PolicySet::default()
    };
    b.bench(|| policy::evaluate(black_box(&req), black_box(&set)));
}

const GLOBS: &[(&str, &str)] = &[
    ("prefix-star", "prod/checkout-api-3/*"),
    ("secret-suffix", "prod/checkout-api-3/db-??????"),
    ("middle-star", "acme-*-checkout-api-3-*/*"),
    ("miss-early", "staging/orders-worker-8/*"),
    ("star", "*"),
];

/// The resource field of a Resource pattern against a secret's resource field.
#[divan::bench(args = GLOBS)]
fn glob_resource_field(b: Bencher, case: &(&str, &str)) {
    let value = "prod/checkout-api-3/db-Ab3dE9";
    b.bench(|| glob::matches(black_box(case.1), black_box(value)));
}

/// Action patterns, case-insensitive.
#[divan::bench(args = ["secretsmanager:GetSecretValue", "secretsmanager:Get*", "s3:*", "kms:Decrypt", "*"])]
fn glob_action(b: Bencher, pattern: &str) {
    b.bench(|| {
        matching::action_matches(
            black_box(pattern),
            black_box("secretsmanager:GetSecretValue"),
        )
    });
}

/// Some object of a bucket against an object pattern: the prefix matcher.
#[divan::bench]
fn glob_prefix_coverage(b: Bencher) {
    b.bench(|| {
        glob::prefix_coverage(
            black_box("acme-111111111111-checkout-api-3-*/*"),
            black_box("acme-111111111111-checkout-api-3-uploads-4/"),
            false,
        )
    });
}
