//! The fuzz harnesses, one function per target, shared by the libFuzzer targets
//! (`fuzz/fuzz_targets/*.rs`) and by the regression test `tests/it/fuzz_regressions.rs`, which
//! includes this file with `#[path]` so that the normal test suite replays the saved corpus
//! through exactly the code the fuzzer ran.
//!
//! Each function takes the raw input bytes, never panics on its own account, and returns whether
//! the input got past the reader (so the replay can check that the seeds still mean something).
//! It may be compiled as part of another crate, so it names rolechain and arbitrary by their
//! crate names only and uses no `crate::` paths.

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use rolechain::model::PolicyDocument;
use rolechain::policy::{
    self, Context, ContextValue, OrgLevel, PolicyRef, PolicySet, PolicyType, Request,
    RequestPrincipal, RequestResource,
};

/// Inputs larger than this are skipped, so that one case stays fast.
pub const MAX_INPUT: usize = 64 * 1024;

/// `snapshot`: reads arbitrary UTF-8 as a `rolechain.snapshot/v1` file and, when it loads, builds
/// its graph with the default options. Returns true when the snapshot loaded.
pub fn snapshot(data: &[u8]) -> bool {
    if data.len() > MAX_INPUT {
        return false;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(inventory) = rolechain::collect::load_str(text, "fuzz.json") else {
        return false;
    };
    let graph = rolechain::graph::build(&inventory, &rolechain::graph::BuildOptions::default());
    std::hint::black_box(graph);
    true
}

/// `request`: reads arbitrary UTF-8 as a `rolechain.request/v1` file (both with absent and with
/// unknown unlisted keys) and evaluates what it reads. Returns true when the request was read.
pub fn request(data: &[u8]) -> bool {
    if data.len() > MAX_INPUT {
        return false;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let mut read = false;
    for unknown_as_conditional in [false, true] {
        let parsed =
            rolechain::collect::request::parse_request(text, "fuzz.json", unknown_as_conditional);
        if let Ok(input) = parsed {
            let decision = policy::evaluate(&input.request, &input.policy_set());
            check_decision(&decision);
            read = true;
        }
    }
    read
}

/// The graph `rules` checks against: the fixture of the `check` tests (OUs, tags, services in
/// three accounts), built once.
fn rules_fixture() -> &'static (rolechain::graph::AccessGraph, rolechain::graph::Attributes) {
    static FIXTURE: std::sync::OnceLock<(
        rolechain::graph::AccessGraph,
        rolechain::graph::Attributes,
    )> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(|| {
        let text = include_str!("../../tests/fixtures/check/snapshot.json");
        let inventory = rolechain::collect::load_str(text, "snapshot.json")
            .unwrap_or_else(|e| panic!("the check fixture must load: {e}"));
        let graph = rolechain::graph::build(&inventory, &rolechain::graph::BuildOptions::default());
        let attributes = rolechain::graph::Attributes::new(&inventory, &graph);
        (graph, attributes)
    })
}

/// `rules`: reads arbitrary UTF-8 as a `rolechain.rules/v1` file
/// (`collect::rules::parse_rules`) and, when it parses, checks it against the `check` tests'
/// fixture, with and without `allow_empty`. Returns true when the file parsed.
///
/// Besides "no panic" it checks what the reader and `check` document: an error's line and
/// column lie inside the text; with `allow_empty` a parsed file always checks; there is one
/// result per rule; a `never` rule holds exactly when it has no counted path and a `reach` rule
/// when it has one; and counted paths are allowed ones when conditional paths are ignored.
pub fn rules(data: &[u8]) -> bool {
    if data.len() > MAX_INPUT {
        return false;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let parsed = match rolechain::collect::rules::parse_rules(text, "fuzz.toml") {
        Ok(parsed) => parsed,
        Err(e) => {
            if let Some(at) = e.position() {
                let lines = text.split('\n').count();
                assert!(
                    at.line >= 1 && at.line <= lines && at.column >= 1,
                    "`{e}` is outside the text ({lines} lines)"
                );
                let line = text.split('\n').nth(at.line - 1).unwrap_or_default();
                assert!(
                    at.column <= line.chars().count() + 1,
                    "`{e}` is past the end of line {}",
                    at.line
                );
            }
            assert!(
                !e.to_string().contains('\n'),
                "a message on several lines: {e:?}"
            );
            return false;
        }
    };
    let (graph, attributes) = rules_fixture();
    for allow_empty in [false, true] {
        let options = rolechain::analysis::CheckOptions {
            actions: None,
            allow_empty,
        };
        let report = match rolechain::analysis::check(graph, attributes, &parsed, &options) {
            Ok(report) => report,
            Err(e) => {
                assert!(!allow_empty, "allow_empty must not fail: {e}");
                continue;
            }
        };
        assert_eq!(report.results.len(), parsed.rules.len());
        for (result, rule) in report.results.iter().zip(&parsed.rules) {
            assert_eq!(result.name, rule.name);
            let holds = match result.expect {
                rolechain::model::rules::Expect::Never => result.paths.is_empty(),
                rolechain::model::rules::Expect::Reach => !result.paths.is_empty(),
            };
            assert_eq!(result.holds(), holds);
            if result.conditional == rolechain::model::rules::Conditional::Ignore {
                assert!(
                    result
                        .paths
                        .iter()
                        .all(|p| p.status == rolechain::graph::EdgeStatus::Allowed),
                    "a counted conditional path: {result:?}"
                );
            } else {
                assert!(result.uncounted.is_empty());
            }
        }
    }
    true
}

/// `policy_eval`: the input is a policy document's text, then optionally a NUL byte and the bytes
/// from which [`EvalInput`] builds a request with `arbitrary` (no NUL: every choice is its first
/// one). The text is decoded lossily, so every input is some text; the document is parsed with
/// [`PolicyDocument::parse_str`] (which must agree with the `Value` reader) and, when it parses,
/// evaluated where [`EvalInput::place`] puts it. Returns true when the document parsed.
pub fn policy_eval(data: &[u8]) -> bool {
    if data.len() > MAX_INPUT {
        return false;
    }
    let (text, rest) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let text = String::from_utf8_lossy(text);
    let parsed = PolicyDocument::parse_str(&text);
    // `parse_str` reads with the typed reader first; the `Value` reader is the definition, and
    // both give one answer, document or error.
    if let Ok(value @ serde_json::Value::Object(_)) =
        serde_json::from_str::<serde_json::Value>(text.trim())
    {
        assert_eq!(
            parsed,
            PolicyDocument::parse(&value),
            "the typed and Value readers disagree on {text:?}"
        );
    }
    let Ok(document) = parsed else {
        return false;
    };
    let Ok(input) = EvalInput::arbitrary_take_rest(Unstructured::new(rest)) else {
        return true;
    };
    let request = input.request();
    let allow_all = allow_all();
    let set = input.policy_set(&document, &allow_all);
    let decision = policy::evaluate(&request, &set);
    check_decision(&decision);
    true
}

/// What the evaluator documents about every decision.
fn check_decision(decision: &policy::Decision) {
    assert!(
        !decision.conditional || decision.is_allowed(),
        "a conditional decision must be an allow: {decision:?}"
    );
    assert!(
        !decision.is_allowed() || decision.blocked_by.is_none(),
        "an allowed decision has no blocker: {decision:?}"
    );
}

/// A document that allows everything, for the parts of a request the fuzzed document is not.
fn allow_all() -> PolicyDocument {
    PolicyDocument {
        version: Some("2012-10-17".to_string()),
        statements: vec![rolechain::model::Statement {
            sid: Some("AllowAll".to_string()),
            index: 0,
            effect: rolechain::model::Effect::Allow,
            principal: Some(rolechain::model::Principal::Wildcard),
            not_principal: None,
            action: Some(vec!["*".to_string()]),
            not_action: None,
            resource: Some(vec!["*".to_string()]),
            not_resource: None,
            condition: Vec::new(),
        }],
    }
}

const PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov"];
const ACCOUNTS: &[&str] = &["111111111111", "222222222222", "333333333333", "*", ""];
const REGIONS: &[&str] = &["us-east-1", "eu-west-1", "*", ""];
const NAMES: &[&str] = &[
    "web-task",
    "app/web",
    "prod/db-AbCdEf",
    "deploy",
    "*",
    "a?c",
    "${aws:username}",
    "alias/aws/secretsmanager",
    "",
];
const SERVICES: &[&str] = &[
    "ecs-tasks.amazonaws.com",
    "ecs.amazonaws.com",
    "s3.amazonaws.com",
    "logs.us-east-1.amazonaws.com",
    "secretsmanager.amazonaws.com",
];
const PROVIDERS: &[&str] = &[
    "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com",
    "arn:aws:iam::111111111111:saml-provider/corp",
    "cognito-identity.amazonaws.com",
];
const ACTIONS: &[&str] = &[
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
    "sts:AssumeRoleWithSAML",
    "sts:TagSession",
    "sts:GetCallerIdentity",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameters",
    "kms:Decrypt",
    "kms:CreateGrant",
    "kms:CreateAlias",
    "kms:ReEncryptFrom",
    "s3:GetObject",
    "s3:ListBucket",
    "ecr:BatchGetImage",
    "ecr:GetAuthorizationToken",
    "logs:PutLogEvents",
    "iam:PassRole",
    "*",
];
/// ARN templates: `{p}` partition, `{r}` region, `{a}` account, `{n}` name.
const RESOURCES: &[&str] = &[
    "arn:{p}:secretsmanager:{r}:{a}:secret:{n}",
    "arn:{p}:ssm:{r}:{a}:parameter/{n}",
    "arn:{p}:kms:{r}:{a}:key/{n}",
    "arn:{p}:kms:{r}:{a}:{n}",
    "arn:{p}:s3:::{n}",
    "arn:{p}:s3:::{n}/key",
    "arn:{p}:iam::{a}:role/{n}",
    "arn:{p}:ecr:{r}:{a}:repository/{n}",
    "arn:{p}:logs:{r}:{a}:log-group:{n}",
    "arn:{p}:{n}",
];
const KEYS: &[&str] = &[
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalTag/team",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalServiceName",
    "aws:ResourceTag/team",
    "aws:ResourceAccount",
    "aws:SourceArn",
    "aws:SourceAccount",
    "aws:SourceVpce",
    "aws:SourceIp",
    "aws:SecureTransport",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:MultiFactorAuthPresent",
    "aws:username",
    "aws:userid",
    "aws:TagKeys",
    "aws:CalledVia",
    "aws:ViaAWSService",
    "sts:ExternalId",
    "kms:ViaService",
    "kms:CallerAccount",
    "s3:prefix",
    "token.actions.githubusercontent.com:sub",
];
const VALUES: &[&str] = &[
    "111111111111",
    "222222222222",
    "o-ours",
    "o-ours/r-ab12/ou-ab12-11111111/",
    "true",
    "false",
    "10.0.0.1",
    "10.0.0.0/8",
    "2001:db8::/32",
    "2024-01-01T00:00:00Z",
    "1700000000",
    "vpce-0abc",
    "arn:aws:ecs:us-east-1:111111111111:task/c/abc",
    "arn:aws:iam::111111111111:role/app/web",
    "repo:org/app:ref:refs/heads/main",
    "secretsmanager.us-east-1.amazonaws.com",
    "team",
    "*",
    "",
];

/// A string from a small list of meaningful ones, or any string.
#[derive(Arbitrary, Debug)]
pub enum Text {
    /// The n-th string of the list (modulo its length).
    Known(u8),
    /// Anything.
    Other(String),
}

impl Text {
    fn pick(&self, list: &[&str]) -> String {
        match self {
            Text::Known(i) => list
                .get(usize::from(*i) % list.len().max(1))
                .copied()
                .unwrap_or_default()
                .to_string(),
            Text::Other(s) => s.clone(),
        }
    }
}

/// Who makes the request.
#[derive(Arbitrary, Debug)]
pub enum PrincipalChoice {
    /// A session of a role.
    RoleSession {
        /// Partition.
        partition: Text,
        /// Account.
        account: Text,
        /// Role name, possibly with a path.
        role: Text,
        /// Session name.
        session: Option<String>,
    },
    /// An IAM user.
    User {
        /// Account.
        account: Text,
        /// User name.
        name: Text,
    },
    /// An account's root user.
    AccountRoot {
        /// Partition.
        partition: Text,
        /// Account.
        account: Text,
    },
    /// A service principal.
    Service(Text),
    /// An unsigned request.
    Anonymous,
    /// A federated caller.
    Federated(Text),
}

/// What the request acts on.
#[derive(Arbitrary, Debug)]
pub enum ResourceChoice {
    /// `*`.
    Any,
    /// An ARN from a template.
    Arn(ArnChoice),
    /// Some ARN under a prefix from a template.
    Under(ArnChoice),
    /// Any string as the ARN.
    Raw(String),
}

/// An ARN from one of the templates.
#[derive(Arbitrary, Debug)]
pub struct ArnChoice {
    template: u8,
    partition: Text,
    region: Text,
    account: Text,
    name: Text,
}

impl ArnChoice {
    fn arn(&self) -> String {
        RESOURCES[usize::from(self.template) % RESOURCES.len()]
            .replace("{p}", &self.partition.pick(PARTITIONS))
            .replace("{r}", &self.region.pick(REGIONS))
            .replace("{a}", &self.account.pick(ACCOUNTS))
            .replace("{n}", &self.name.pick(NAMES))
    }
}

/// A context value.
#[derive(Arbitrary, Debug)]
pub enum ValueChoice {
    /// One value.
    Single(Text),
    /// Several values.
    Multi(Vec<Text>),
    /// A known prefix.
    Prefix(Text),
    /// None of these.
    NoneOf(Vec<Text>),
    /// Unknown.
    Unknown,
    /// Absent.
    Absent,
}

impl ValueChoice {
    fn value(&self) -> ContextValue {
        let many = |list: &[Text]| list.iter().take(4).map(|t| t.pick(VALUES)).collect();
        match self {
            ValueChoice::Single(t) => ContextValue::Single(t.pick(VALUES)),
            ValueChoice::Multi(list) => ContextValue::Multi(many(list)),
            ValueChoice::Prefix(t) => ContextValue::Prefix(t.pick(VALUES)),
            ValueChoice::NoneOf(list) => ContextValue::NoneOf(many(list)),
            ValueChoice::Unknown => ContextValue::Unknown,
            ValueChoice::Absent => ContextValue::Absent,
        }
    }
}

/// Where the fuzzed document goes.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Place {
    /// An identity policy.
    Identity,
    /// A resource-based policy.
    Resource,
    /// A role trust policy.
    Trust,
    /// A KMS key policy.
    Key,
    /// A permissions boundary.
    Boundary,
    /// A session policy.
    Session,
    /// An SCP at one level of the principal's organization.
    Scp,
    /// An RCP at one level of the resource's organization.
    Rcp,
}

/// What the identity side holds when the document is placed elsewhere.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum IdentitySide {
    /// No identity policy.
    Empty,
    /// The fuzzed document, too.
    Same,
    /// A policy that allows everything.
    AllowAll,
}

/// The structured part of a `policy_eval` input.
#[derive(Arbitrary, Debug)]
pub struct EvalInput {
    /// Who asks.
    pub principal: PrincipalChoice,
    /// The action.
    pub action: Text,
    /// The resource.
    pub resource: ResourceChoice,
    /// The resource's account.
    pub resource_account: Text,
    /// Where the document goes.
    pub place: Place,
    /// The identity side when the document is not an identity policy.
    pub identity: IdentitySide,
    /// The organization level (0–2) at which an SCP or RCP goes; the others allow everything.
    pub level: u8,
    /// The resource is an AWS-managed KMS key.
    pub aws_managed_key: bool,
    /// Keys not listed are unknown rather than absent.
    pub unknown_otherwise: bool,
    /// The keys go in a parent context, as the graph builder layers them.
    pub layered: bool,
    /// Lowercase key prefixes that are surely absent.
    pub absent_prefixes: Vec<Text>,
    /// Context keys and their values (the first eight are used).
    pub context: Vec<(Text, ValueChoice)>,
}

impl EvalInput {
    /// The request this input describes.
    pub fn request(&self) -> Request {
        let principal = match &self.principal {
            PrincipalChoice::RoleSession {
                partition,
                account,
                role,
                session,
            } => RequestPrincipal::Session {
                role_arn: format!(
                    "arn:{}:iam::{}:role/{}",
                    partition.pick(PARTITIONS),
                    account.pick(ACCOUNTS),
                    role.pick(NAMES)
                ),
                session_name: session.clone(),
            },
            PrincipalChoice::User { account, name } => RequestPrincipal::User {
                arn: format!(
                    "arn:aws:iam::{}:user/{}",
                    account.pick(ACCOUNTS),
                    name.pick(NAMES)
                ),
            },
            PrincipalChoice::AccountRoot { partition, account } => RequestPrincipal::AccountRoot {
                partition: partition.pick(PARTITIONS),
                account: account.pick(ACCOUNTS),
            },
            PrincipalChoice::Service(s) => RequestPrincipal::Service(s.pick(SERVICES)),
            PrincipalChoice::Anonymous => RequestPrincipal::Anonymous,
            PrincipalChoice::Federated(p) => RequestPrincipal::Federated {
                provider: p.pick(PROVIDERS),
            },
        };
        let resource = match &self.resource {
            ResourceChoice::Any => RequestResource::Any,
            ResourceChoice::Arn(a) => RequestResource::Arn(a.arn()),
            ResourceChoice::Under(a) => RequestResource::Under(a.arn()),
            ResourceChoice::Raw(s) => RequestResource::Arn(s.clone()),
        };
        let otherwise = if self.unknown_otherwise {
            ContextValue::Unknown
        } else {
            ContextValue::Absent
        };
        let mut keys = Context::new(otherwise.clone());
        for (key, value) in self.context.iter().take(8) {
            keys.set(&key.pick(KEYS), value.value());
        }
        keys.absent_prefixes = self
            .absent_prefixes
            .iter()
            .take(2)
            .map(|p| p.pick(KEYS).to_ascii_lowercase())
            .collect();
        let context = if self.layered {
            Context::layered(otherwise, vec![Arc::new(keys)])
        } else {
            keys
        };
        Request {
            principal,
            action: self.action.pick(ACTIONS),
            resource,
            resource_account: self.resource_account.pick(ACCOUNTS),
            context,
        }
    }

    /// The policies: `document` where [`EvalInput::place`] says, `allow_all` where an
    /// organization level needs some policy.
    pub fn policy_set<'a>(
        &self,
        document: &'a PolicyDocument,
        allow_all: &'a PolicyDocument,
    ) -> PolicySet<'a> {
        let fuzzed = |policy_type| PolicyRef {
            policy_type,
            id: "fuzz",
            document,
        };
        let mut set = PolicySet {
            aws_managed_key: self.aws_managed_key,
            ..PolicySet::default()
        };
        let identity = match (self.place, self.identity) {
            (Place::Identity, _) | (_, IdentitySide::Same) => Some(document),
            (_, IdentitySide::AllowAll) => Some(allow_all),
            (_, IdentitySide::Empty) => None,
        };
        set.identity = identity
            .map(|document| PolicyRef {
                policy_type: PolicyType::Identity,
                id: "identity",
                document,
            })
            .into_iter()
            .collect();
        let levels = |policy_type| {
            let at = usize::from(self.level % 3);
            (0..=at)
                .map(|i| OrgLevel {
                    target: ["r-root", "ou-1", "111111111111"][i],
                    policies: vec![if i == at {
                        fuzzed(policy_type)
                    } else {
                        PolicyRef {
                            policy_type,
                            id: "FullAWSAccess",
                            document: allow_all,
                        }
                    }],
                })
                .collect::<Vec<_>>()
        };
        match self.place {
            Place::Identity => {}
            Place::Resource => set.resource = Some(fuzzed(PolicyType::Resource)),
            Place::Trust => set.resource = Some(fuzzed(PolicyType::Trust)),
            Place::Key => set.resource = Some(fuzzed(PolicyType::Key)),
            Place::Boundary => set.boundary = Some(fuzzed(PolicyType::Boundary)),
            Place::Session => set.session = Some(fuzzed(PolicyType::Session)),
            Place::Scp => set.scps = Some(levels(PolicyType::Scp).into()),
            Place::Rcp => set.rcps = Some(levels(PolicyType::Rcp).into()),
        }
        set
    }
}
