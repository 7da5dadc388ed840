//! Synthetic organizations: a deterministic `rolechain.snapshot/v1` document of any size, for
//! benchmarks and scale tests.
//!
//! [`write()`] streams the snapshot to an [`std::io::Write`] one account at a time, so memory stays
//! bounded by the largest account, not by the organization. Nothing here reads files, the clock
//! or the environment: the same [`Config`] gives the same bytes.
//!
//! # What a generated organization holds
//!
//! - An organization with a root, OUs (`workloads` with `prod`, `staging` and `dev`, and
//!   `infrastructure`), `FullAWSAccess` attached at every level, guard-rail SCPs (leaving the
//!   organization, the root user, a region restriction written with `NotAction`, protections of
//!   production) and a data-perimeter RCP.
//! - Account 0 is the management account, account 1 the shared-services account (ECR
//!   repositories, customer-managed KMS keys, a CI role), account 2 the data account (dataset
//!   secrets and buckets, an organization-wide trusted analytics role); every further account is
//!   a workload account.
//! - Each workload account runs `services_per_account` ECS services, each with a task role, an
//!   execution role (one service in ten uses the account's shared `ecsTaskExecutionRole`, which
//!   cannot read secrets: a denied reference), 1 to 3 containers, images from the shared ECR
//!   and secrets and SSM parameters injected from the account, under customer-managed keys whose
//!   key policies allow Secrets Manager and SSM to use them.
//! - Identity policies use scoped ARN prefixes, some wildcards, `NotAction` and `Deny`
//!   statements; managed policies are URL-encoded, resource policies are JSON strings, inline
//!   policies are objects, as the AWS APIs return them.
//! - About 5% of services start a cross-account role chain of 2 to 4 `sts:AssumeRole` hops whose
//!   trust policies name role ARNs, account roots (with an `aws:PrincipalArn` condition) or an
//!   `sts:ExternalId` condition, ending at dataset secrets (with resource policies naming the
//!   chain's last role) and buckets of the data account.
//! - The remaining roles up to `roles_per_account` are the usual ones: the organization's admin
//!   role, a vendor integration trusted with an external id, CI deploy, a power user with
//!   `NotAction`, a backup role trusted by a service principal and read-only audit roles.

use std::collections::BTreeMap;
use std::io::Write;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

/// The default number of IAM roles per account.
pub const DEFAULT_ROLES_PER_ACCOUNT: usize = 50;
/// The default number of ECS services per workload account.
pub const DEFAULT_SERVICES_PER_ACCOUNT: usize = 20;
/// The default number of resources (secrets, parameters, keys, buckets, log groups,
/// repositories) per account.
pub const DEFAULT_RESOURCES_PER_ACCOUNT: usize = 100;
/// The fewest accounts an organization can have: management, shared services, data and one
/// workload account.
pub const MIN_ACCOUNTS: usize = 4;
/// The fewest resources per account, so that every kind of resource appears.
pub const MIN_RESOURCES_PER_ACCOUNT: usize = 8;

/// The account outside the organization that vendor integrations trust.
const VENDOR_ACCOUNT: &str = "737912845530";
const MGMT: usize = 0;
const SHARED: usize = 1;
const DATA: usize = 2;
const FIRST_WORKLOAD: usize = 3;
const HOME_REGION: &str = "us-east-1";
const COLLECTED_AT: &str = "2026-11-28T00:00:00Z";
const ECS_TASKS: &str = "ecs-tasks.amazonaws.com";
const EXEC_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
const ADMIN_POLICY: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

const APPS: &[&str] = &[
    "checkout",
    "payments",
    "orders",
    "search",
    "catalog",
    "identity",
    "notifications",
    "billing",
    "inventory",
    "shipping",
    "reviews",
    "recommendations",
    "reporting",
    "pricing",
    "fraud",
    "ledger",
    "gateway",
    "profile",
    "media",
    "messaging",
];
const KINDS: &[&str] = &["api", "worker", "web", "consumer", "scheduler", "sync"];
const TEAMS: &[&str] = &[
    "storefront",
    "payments",
    "platform",
    "growth",
    "logistics",
    "data",
    "identity",
    "core",
];
const SECRET_PURPOSES: &[&str] = &[
    "db",
    "api-key",
    "oauth-client",
    "signing-key",
    "smtp",
    "webhook",
];
const PARAM_KEYS: &[&str] = &[
    "config",
    "feature-flags",
    "queue-url",
    "endpoint",
    "token",
    "tuning",
];
const BUCKET_PURPOSES: &[&str] = &["uploads", "exports", "artifacts", "archive", "reports"];

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Accounts in the organization, the management, shared-services and data accounts
    /// included; at least [`MIN_ACCOUNTS`].
    pub accounts: usize,
    /// IAM roles per account (more when an account's services and chain hops need more).
    pub roles_per_account: usize,
    /// ECS services per workload account.
    pub services_per_account: usize,
    /// Resources per account; at least [`MIN_RESOURCES_PER_ACCOUNT`].
    pub resources_per_account: usize,
    /// The seed of every random choice.
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            accounts: 10,
            roles_per_account: DEFAULT_ROLES_PER_ACCOUNT,
            services_per_account: DEFAULT_SERVICES_PER_ACCOUNT,
            resources_per_account: DEFAULT_RESOURCES_PER_ACCOUNT,
            seed: 1,
        }
    }
}

/// Why a snapshot could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// Fewer accounts than the fixed ones plus one workload account.
    #[error(
        "an organization needs at least {MIN_ACCOUNTS} accounts (management, shared services, data and one workload account), got {0}"
    )]
    TooFewAccounts(usize),
    /// No services per account.
    #[error("at least one service per account is needed")]
    NoServices,
    /// Too few resources per account.
    #[error("at least {MIN_RESOURCES_PER_ACCOUNT} resources per account are needed, got {0}")]
    TooFewResources(usize),
    /// The writer failed.
    #[error("writing the snapshot")]
    Write(#[source] std::io::Error),
}

impl From<std::io::Error> for SynthError {
    fn from(e: std::io::Error) -> SynthError {
        SynthError::Write(e)
    }
}

impl From<serde_json::Error> for SynthError {
    fn from(e: serde_json::Error) -> SynthError {
        SynthError::Write(e.into())
    }
}

/// What a generated organization holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Accounts.
    pub accounts: usize,
    /// IAM roles.
    pub roles: usize,
    /// ECS services (each with one task definition).
    pub services: usize,
    /// Containers.
    pub containers: usize,
    /// Secrets and SSM parameters named in `secrets[].valueFrom`.
    pub injections: usize,
    /// Secrets Manager secrets.
    pub secrets: usize,
    /// SSM parameters.
    pub parameters: usize,
    /// KMS keys.
    pub kms_keys: usize,
    /// ECR repositories.
    pub repositories: usize,
    /// S3 buckets.
    pub buckets: usize,
    /// CloudWatch log groups.
    pub log_groups: usize,
    /// Cross-account role chains.
    pub chains: usize,
    /// Chain hops whose trust requires an `sts:ExternalId`.
    pub external_id_hops: usize,
}

impl Summary {
    /// Every resource: secrets, parameters, keys, repositories, buckets and log groups.
    pub fn resources(&self) -> usize {
        self.secrets
            + self.parameters
            + self.kms_keys
            + self.repositories
            + self.buckets
            + self.log_groups
    }
}

/// Node ids worth querying in a generated organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probes {
    /// A secret that a container of the first workload account has injected.
    pub secret: String,
    /// The first container of the first workload account.
    pub container: String,
    /// A dataset secret of the data account that this container does not reach.
    pub unreachable: String,
}

/// The ids [`write()`] gives the probes of this configuration.
///
/// # Errors
/// An invalid configuration.
pub fn probes(config: &Config) -> Result<Probes, SynthError> {
    let g = Gen::new(config)?;
    let a = g.account(FIRST_WORKLOAD);
    let svc = g.service(&a, 0);
    // The last dataset secret: chains start from a random service, so the first workload
    // account's first service reaches it only by chance; `explain` reports either way.
    let last = g.layout_data().secrets - 1;
    Ok(Probes {
        secret: g.secret_arn(&a, 0),
        container: format!("{}#app", g.task_definition_arn(&a, &svc)),
        unreachable: g.data_secret_arn(last),
    })
}

/// Writes the snapshot of `config` to `out`, one account at a time. Wrap a file in a
/// [`std::io::BufWriter`]: this writes in many small pieces.
///
/// # Errors
/// An invalid configuration, or the writer failing.
pub fn write(config: &Config, out: &mut impl Write) -> Result<Summary, SynthError> {
    let g = Gen::new(config)?;
    let mut summary = Summary {
        accounts: config.accounts,
        chains: g.chains.len(),
        external_id_hops: g
            .chains
            .iter()
            .flat_map(|c| &c.hops)
            .filter(|h| h.trust == Trust::ExternalId)
            .count(),
        ..Summary::default()
    };
    out.write_all(b"{\"schema\":\"rolechain.snapshot/v1\",\"collected_at\":")?;
    serde_json::to_writer(&mut *out, COLLECTED_AT)?;
    out.write_all(b",\"organization\":")?;
    serde_json::to_writer(&mut *out, &g.organization())?;
    out.write_all(b",\"accounts\":[")?;
    for i in 0..config.accounts {
        if i > 0 {
            out.write_all(b",")?;
        }
        let account = g.account_value(i, &mut summary);
        serde_json::to_writer(&mut *out, &account)?;
    }
    out.write_all(b"]}\n")?;
    Ok(summary)
}

/// Writes the snapshot into memory; for tests and small organizations.
///
/// # Errors
/// An invalid configuration.
pub fn to_vec(config: &Config) -> Result<(Vec<u8>, Summary), SynthError> {
    let mut out = Vec::new();
    let summary = write(config, &mut out)?;
    Ok((out, summary))
}

// ---- randomness ----

/// splitmix64's finalizer: a bijective mix of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A splitmix64 generator: small, fast and good enough for shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n`; `n` must not be 0.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Tags for [`Gen::hash`], so different choices about the same thing are independent.
#[derive(Clone, Copy)]
enum Choice {
    Env = 1,
    Region,
    Team,
    App,
    Kind,
    Containers,
    Profile,
    Revision,
    Repo,
    Suffix,
    SecretKey,
    SecretPolicy,
    ParamType,
    BucketPolicy,
    RepoPolicy,
    RepoAccounts,
    KeyId,
    TaskId,
    Injection,
    OrgId,
}

fn pick<'s>(list: &[&'s str], h: u64) -> &'s str {
    list[(h % list.len() as u64) as usize]
}

fn alnum(mut h: u64, len: usize, alphabet: &[u8]) -> String {
    let mut s = String::with_capacity(len);
    for _ in 0..len {
        s.push(char::from(alphabet[(h % alphabet.len() as u64) as usize]));
        h = mix(h);
    }
    s
}

const LOWER36: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const MIXED62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const UPPER32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// How AWS's IAM API encodes policy documents: everything but `A-Za-z0-9-_.` is escaped.
const IAM_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

fn url_encoded(doc: &Value) -> Value {
    Value::String(utf8_percent_encode(&doc.to_string(), IAM_ENCODE).to_string())
}

fn as_string(doc: &Value) -> Value {
    Value::String(doc.to_string())
}

fn policy(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

// ---- the plan ----

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trust {
    /// The previous role's ARN.
    RoleArn,
    /// The previous role's account root, narrowed by `aws:PrincipalArn`.
    RootWithPrincipalArn,
    /// The previous role's account root, with an `sts:ExternalId`.
    ExternalId,
}

struct Hop {
    account: usize,
    name: String,
    trust: Trust,
}

/// A role chain: a service's task role assumes each hop in turn; the last reads a dataset.
struct Chain {
    account: usize,
    service: usize,
    hops: Vec<Hop>,
    dataset: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Env {
    Prod,
    Staging,
    Dev,
}

impl Env {
    fn as_str(self) -> &'static str {
        match self {
            Env::Prod => "prod",
            Env::Staging => "staging",
            Env::Dev => "dev",
        }
    }
}

struct Account {
    idx: usize,
    id: String,
    name: String,
    env: Env,
    region: &'static str,
}

struct Service {
    s: usize,
    name: String,
    app: &'static str,
    cluster: String,
    shared_exec: bool,
    containers: usize,
    profile: u64,
    revision: u64,
    repo: usize,
}

struct Layout {
    kms: usize,
    secrets: usize,
    params: usize,
    logs: usize,
    buckets: usize,
}

struct Gen<'c> {
    c: &'c Config,
    org_id: String,
    root_id: String,
    ou: BTreeMap<&'static str, String>,
    chains: Vec<Chain>,
    /// Chain hops by the account their role lives in: (chain, hop).
    hops_in: BTreeMap<usize, Vec<(usize, usize)>>,
    /// The chain each (account, service) starts.
    starts: BTreeMap<(usize, usize), usize>,
    /// The last roles of chains by dataset, when they live outside the data account.
    dataset_readers: BTreeMap<usize, Vec<String>>,
}

impl<'c> Gen<'c> {
    fn new(c: &'c Config) -> Result<Gen<'c>, SynthError> {
        if c.accounts < MIN_ACCOUNTS {
            return Err(SynthError::TooFewAccounts(c.accounts));
        }
        if c.services_per_account == 0 {
            return Err(SynthError::NoServices);
        }
        if c.resources_per_account < MIN_RESOURCES_PER_ACCOUNT {
            return Err(SynthError::TooFewResources(c.resources_per_account));
        }
        let h = mix(c.seed ^ Choice::OrgId as u64);
        let root4 = alnum(h, 4, LOWER36);
        let mut g = Gen {
            c,
            org_id: format!("o-{}", alnum(mix(h), 10, LOWER36)),
            root_id: format!("r-{root4}"),
            ou: BTreeMap::new(),
            chains: Vec::new(),
            hops_in: BTreeMap::new(),
            starts: BTreeMap::new(),
            dataset_readers: BTreeMap::new(),
        };
        for (n, name) in ["workloads", "prod", "staging", "dev", "infrastructure"]
            .into_iter()
            .enumerate()
        {
            let id = format!("ou-{root4}-{}", alnum(mix(h ^ (n as u64 + 7)), 8, LOWER36));
            g.ou.insert(name, id);
        }
        g.plan_chains();
        Ok(g)
    }

    fn hash(&self, parts: &[u64]) -> u64 {
        parts.iter().fold(mix(self.c.seed), |acc, &p| {
            mix(acc ^ p.wrapping_mul(0x2545_F491_4F6C_DD1D))
        })
    }

    fn workloads(&self) -> usize {
        self.c.accounts - FIRST_WORKLOAD
    }

    fn datasets(&self) -> usize {
        self.layout_data().secrets
    }

    /// About 5% of services start a chain of 2 to 4 hops across accounts.
    fn plan_chains(&mut self) {
        let services = self.workloads() * self.c.services_per_account;
        let count = (services as f64 * 0.05).round().max(1.0) as usize;
        let mut rng = Rng(mix(self.c.seed ^ 0xC4A1_2B5E));
        let datasets = self.datasets();
        let mut taken = BTreeMap::new();
        for c in 0..count {
            // Distinct start services; give up after a few tries in tiny organizations.
            let mut start = None;
            for _ in 0..16 {
                let a = FIRST_WORKLOAD + rng.below(self.workloads());
                let s = rng.below(self.c.services_per_account);
                if taken.insert((a, s), c).is_none() {
                    start = Some((a, s));
                    break;
                }
            }
            let Some((account, service)) = start else {
                continue;
            };
            let depth = 2 + rng.below(3);
            let dataset = rng.below(datasets);
            let mut hops = Vec::with_capacity(depth);
            let mut prev = account;
            let chain_no = self.chains.len();
            for h in 0..depth {
                let last = h + 1 == depth;
                let next = if last && rng.below(2) == 0 {
                    DATA
                } else if self.workloads() == 1 {
                    // One workload account: alternate with the shared-services account.
                    if prev == SHARED {
                        FIRST_WORKLOAD
                    } else {
                        SHARED
                    }
                } else {
                    let mut n = FIRST_WORKLOAD + rng.below(self.workloads());
                    if n == prev {
                        n = FIRST_WORKLOAD + (n - FIRST_WORKLOAD + 1) % self.workloads();
                    }
                    n
                };
                let trust = if last && chain_no % 2 == 0 {
                    Trust::ExternalId
                } else if rng.below(5) < 3 {
                    Trust::RoleArn
                } else {
                    Trust::RootWithPrincipalArn
                };
                let purpose = [
                    "cross-reader",
                    "data-bridge",
                    "deploy-bridge",
                    "dataset-access",
                ][h.min(3)];
                hops.push(Hop {
                    account: next,
                    name: format!("{purpose}-{chain_no}"),
                    trust,
                });
                prev = next;
            }
            let chain = Chain {
                account,
                service,
                hops,
                dataset,
            };
            for (h, hop) in chain.hops.iter().enumerate() {
                self.hops_in
                    .entry(hop.account)
                    .or_default()
                    .push((chain_no, h));
            }
            let reader = chain
                .hops
                .last()
                .filter(|last| last.account != DATA)
                .map(|last| self.role_arn_of(last.account, &last.name));
            if let Some(reader) = reader {
                self.dataset_readers
                    .entry(dataset)
                    .or_default()
                    .push(reader);
            }
            self.starts.insert((account, service), chain_no);
            self.chains.push(chain);
        }
    }

    // ---- accounts ----

    fn account_id(&self, idx: usize) -> String {
        format!("{:012}", 100_000_000_000u64 + idx as u64 * 1_000_003)
    }

    fn account(&self, idx: usize) -> Account {
        let id = self.account_id(idx);
        let (name, env, region) = match idx {
            MGMT => ("acme-management".to_string(), Env::Prod, HOME_REGION),
            SHARED => ("shared-services".to_string(), Env::Prod, HOME_REGION),
            DATA => ("data-prod".to_string(), Env::Prod, HOME_REGION),
            _ => {
                let env = match self.hash(&[Choice::Env as u64, idx as u64]) % 10 {
                    0..=4 => Env::Prod,
                    5..=7 => Env::Staging,
                    _ => Env::Dev,
                };
                let region = if self.hash(&[Choice::Region as u64, idx as u64]) % 5 == 0 {
                    "eu-west-1"
                } else {
                    HOME_REGION
                };
                let team = pick(TEAMS, self.hash(&[Choice::Team as u64, idx as u64]));
                (format!("{team}-{}-{idx:04}", env.as_str()), env, region)
            }
        };
        Account {
            idx,
            id,
            name,
            env,
            region,
        }
    }

    fn role_arn_of(&self, idx: usize, name: &str) -> String {
        format!("arn:aws:iam::{}:role/{name}", self.account_id(idx))
    }

    fn role_arn(a: &Account, name: &str) -> String {
        format!("arn:aws:iam::{}:role/{name}", a.id)
    }

    fn root_arn(id: &str) -> String {
        format!("arn:aws:iam::{id}:root")
    }

    fn organization(&self) -> Value {
        let n = self.c.accounts;
        let accounts: Vec<Value> = (0..n)
            .map(|i| {
                let a = self.account(i);
                json!({
                    "Id": a.id,
                    "Arn": format!("arn:aws:organizations::{}:account/{}/{}", self.account_id(MGMT), self.org_id, a.id),
                    "Email": format!("aws-{}@acme.example", a.name),
                    "Name": a.name,
                    "Status": "ACTIVE",
                    "JoinedMethod": if i == MGMT { "INVITED" } else { "CREATED" },
                    "JoinedTimestamp": "2024-10-01T09:00:00Z",
                })
            })
            .collect();
        let mut parents = serde_json::Map::new();
        let ou = |name: &str| self.ou.get(name).cloned().unwrap_or_default();
        for name in ["workloads", "infrastructure"] {
            parents.insert(ou(name), json!(self.root_id));
        }
        for name in ["prod", "staging", "dev"] {
            parents.insert(ou(name), json!(ou("workloads")));
        }
        for i in 0..n {
            let a = self.account(i);
            let parent = match i {
                MGMT => self.root_id.clone(),
                SHARED => ou("infrastructure"),
                _ => ou(a.env.as_str()),
            };
            parents.insert(a.id, json!(parent));
        }
        let mut every_level = vec![json!(self.root_id)];
        every_level.extend(self.ou.values().map(|id| json!(id)));
        every_level.extend((0..n).map(|i| json!(self.account_id(i))));
        let mgmt = self.account_id(MGMT);
        let org_policy = |id: &str,
                          name: &str,
                          kind: &str,
                          aws: bool,
                          content: Value,
                          targets: Vec<Value>| {
            let kind_path = if kind == "SERVICE_CONTROL_POLICY" {
                "service_control_policy"
            } else {
                "resource_control_policy"
            };
            let arn = if aws {
                format!("arn:aws:organizations::aws:policy/{kind_path}/{id}")
            } else {
                format!(
                    "arn:aws:organizations::{mgmt}:policy/{}/{kind_path}/{id}",
                    self.org_id
                )
            };
            json!({
                "PolicySummary": {"Id": id, "Arn": arn, "Name": name, "Type": kind, "AwsManaged": aws},
                "Content": as_string(&content),
                "targets": targets,
            })
        };
        let scp = "SERVICE_CONTROL_POLICY";
        let policies = vec![
            org_policy(
                "p-FullAWSAccess",
                "FullAWSAccess",
                scp,
                true,
                policy(vec![
                    json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
                ]),
                every_level,
            ),
            org_policy(
                "p-guardrails",
                "baseline-guardrails",
                scp,
                false,
                policy(vec![
                    json!({"Sid": "DenyLeavingTheOrganization", "Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}),
                    json!({"Sid": "ProtectOrganizationTrail", "Effect": "Deny", "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail"], "Resource": "*"}),
                    json!({"Sid": "DenyRootUser", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}}),
                ]),
                vec![json!(self.root_id)],
            ),
            org_policy(
                "p-regions",
                "approved-regions",
                scp,
                false,
                policy(vec![json!({
                    "Sid": "DenyOutsideApprovedRegions",
                    "Effect": "Deny",
                    "NotAction": ["iam:*", "sts:*", "organizations:*", "support:*", "cloudfront:*", "route53:*", "s3:*"],
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}},
                })]),
                vec![json!(ou("workloads"))],
            ),
            org_policy(
                "p-prodprotect",
                "production-protections",
                scp,
                false,
                policy(vec![
                    json!({"Sid": "ProtectKeysAndSecrets", "Effect": "Deny", "Action": ["kms:ScheduleKeyDeletion", "kms:DisableKey", "secretsmanager:DeleteSecret"], "Resource": "*"}),
                    json!({"Sid": "NoLongTermCredentials", "Effect": "Deny", "Action": ["iam:CreateUser", "iam:CreateAccessKey"], "Resource": "*"}),
                ]),
                vec![json!(ou("prod"))],
            ),
            org_policy(
                "p-perimeter",
                "data-perimeter-trusted-identities",
                "RESOURCE_CONTROL_POLICY",
                false,
                policy(vec![json!({
                    "Sid": "EnforceOrgIdentities",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": ["sts:AssumeRole", "secretsmanager:*", "s3:*", "kms:*"],
                    "Resource": "*",
                    "Condition": {
                        "StringNotEqualsIfExists": {"aws:PrincipalOrgID": self.org_id, "aws:PrincipalAccount": [VENDOR_ACCOUNT]},
                        "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
                    },
                })]),
                vec![json!(self.root_id)],
            ),
        ];
        json!({
            "id": self.org_id,
            "management_account_id": mgmt,
            "accounts": accounts,
            "parents": parents,
            "policies": policies,
        })
    }

    // ---- layouts and names ----

    fn layout(&self) -> Layout {
        let k = self.c.resources_per_account;
        let kms = if k >= 20 { 2 } else { 1 };
        let secrets = (k * 35 / 100).max(1);
        let params = (k * 30 / 100).max(1);
        let logs = (k * 20 / 100).max(1);
        let buckets = k.saturating_sub(kms + secrets + params + logs).max(1);
        Layout {
            kms,
            secrets,
            params,
            logs,
            buckets,
        }
    }

    /// The data account: half secrets (one per dataset), a quarter buckets, the rest parameters.
    fn layout_data(&self) -> Layout {
        let k = self.c.resources_per_account;
        let secrets = (k / 2).max(1);
        let buckets = (k / 4).max(1);
        Layout {
            kms: 0,
            secrets,
            params: k.saturating_sub(secrets + buckets),
            logs: 0,
            buckets,
        }
    }

    fn service(&self, a: &Account, s: usize) -> Service {
        let h = |c: Choice| self.hash(&[c as u64, a.idx as u64, s as u64]);
        let app = pick(APPS, h(Choice::App));
        let kind = pick(KINDS, h(Choice::Kind));
        let env = a.env.as_str();
        Service {
            s,
            name: format!("{app}-{kind}-{s}"),
            app,
            cluster: format!("{env}-{}", if s % 2 == 0 { "web" } else { "workers" }),
            shared_exec: s % 10 == 3,
            containers: 1 + (h(Choice::Containers) % 3) as usize,
            profile: h(Choice::Profile),
            revision: 1 + h(Choice::Revision) % 60,
            repo: (h(Choice::Repo) % self.repositories() as u64) as usize,
        }
    }

    fn repositories(&self) -> usize {
        self.c.resources_per_account.saturating_sub(2).max(1)
    }

    fn repo_name(&self, j: usize) -> String {
        format!("{}/{}-{j}", pick(TEAMS, j as u64), APPS[j % APPS.len()])
    }

    fn key_id(&self, account: usize, k: usize) -> String {
        let h = self.hash(&[Choice::KeyId as u64, account as u64, k as u64]);
        let hex = alnum(h, 32, HEX);
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }

    fn key_arn(&self, account: usize, region: &str, k: usize) -> String {
        format!(
            "arn:aws:kms:{region}:{}:key/{}",
            self.account_id(account),
            self.key_id(account, k)
        )
    }

    fn suffix(&self, account: usize, kind: u64, j: usize) -> String {
        alnum(
            self.hash(&[Choice::Suffix as u64, account as u64, kind, j as u64]),
            6,
            MIXED62,
        )
    }

    /// Secret `j` of a workload account belongs to service `j % S` and is its `j / S`-th.
    fn secret_name(&self, a: &Account, j: usize) -> String {
        let s_count = self.c.services_per_account;
        let svc = self.service(a, j % s_count);
        let k = j / s_count;
        let purpose = SECRET_PURPOSES[k % SECRET_PURPOSES.len()];
        let env = a.env.as_str();
        if k >= SECRET_PURPOSES.len() {
            format!("{env}/{}/{purpose}-{k}", svc.name)
        } else {
            format!("{env}/{}/{purpose}", svc.name)
        }
    }

    fn secret_arn(&self, a: &Account, j: usize) -> String {
        format!(
            "arn:aws:secretsmanager:{}:{}:secret:{}-{}",
            a.region,
            a.id,
            self.secret_name(a, j),
            self.suffix(a.idx, 1, j)
        )
    }

    fn data_secret_arn(&self, d: usize) -> String {
        format!(
            "arn:aws:secretsmanager:{HOME_REGION}:{}:secret:datasets/ds{d}/reader-{}",
            self.account_id(DATA),
            self.suffix(DATA, 1, d)
        )
    }

    fn param_name(&self, a: &Account, j: usize) -> String {
        let s_count = self.c.services_per_account;
        let svc = self.service(a, j % s_count);
        let k = j / s_count;
        let key = PARAM_KEYS[k % PARAM_KEYS.len()];
        if k >= PARAM_KEYS.len() {
            format!("/{}/{}/{key}-{k}", a.env.as_str(), svc.name)
        } else {
            format!("/{}/{}/{key}", a.env.as_str(), svc.name)
        }
    }

    fn bucket_prefix(a: &Account) -> String {
        format!("acme-{}", a.id)
    }

    fn task_definition_arn(&self, a: &Account, svc: &Service) -> String {
        format!(
            "arn:aws:ecs:{}:{}:task-definition/{}:{}",
            a.region, a.id, svc.name, svc.revision
        )
    }

    fn ecs_trust(a: &Account) -> Value {
        policy(vec![json!({
            "Effect": "Allow",
            "Principal": {"Service": ECS_TASKS},
            "Action": "sts:AssumeRole",
            "Condition": {
                "ArnLike": {"aws:SourceArn": format!("arn:aws:ecs:{}:{}:*", a.region, a.id)},
                "StringEquals": {"aws:SourceAccount": a.id},
            },
        })])
    }

    fn role(
        a: &Account,
        name: &str,
        trust: Value,
        inline: Vec<(String, Value)>,
        managed: &[&str],
        tags: &[(&str, &str)],
    ) -> Value {
        let role_id = format!(
            "AROA{}",
            alnum(
                mix(name.len() as u64 ^ fxhash(&a.id) ^ fxhash(name)),
                17,
                UPPER32
            )
        );
        json!({
            "Path": "/",
            "RoleName": name,
            "RoleId": role_id,
            "Arn": Gen::role_arn(a, name),
            "CreateDate": "2025-03-14T09:26:53Z",
            "AssumeRolePolicyDocument": trust,
            "InstanceProfileList": [],
            "RolePolicyList": inline.into_iter().map(|(n, d)| json!({"PolicyName": n, "PolicyDocument": d})).collect::<Vec<_>>(),
            "AttachedManagedPolicies": managed.iter().map(|arn| json!({
                "PolicyName": arn.rsplit('/').next().unwrap_or(arn),
                "PolicyArn": arn,
            })).collect::<Vec<_>>(),
            "Tags": tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
            "RoleLastUsed": {},
        })
    }

    fn managed_policy(arn: &str, name: &str, path: &str, doc: &Value, attachments: usize) -> Value {
        json!({
            "PolicyName": name,
            "PolicyId": format!("ANPA{}", alnum(fxhash(arn), 17, UPPER32)),
            "Arn": arn,
            "Path": path,
            "DefaultVersionId": "v1",
            "AttachmentCount": attachments,
            "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": true,
            "CreateDate": "2025-03-14T09:26:53Z",
            "UpdateDate": "2025-03-14T09:26:53Z",
            "PolicyVersionList": [{
                "Document": url_encoded(doc),
                "VersionId": "v1",
                "IsDefaultVersion": true,
                "CreateDate": "2025-03-14T09:26:53Z",
            }],
        })
    }

    fn aws_managed_policies() -> Vec<Value> {
        let exec = policy(vec![json!({
            "Effect": "Allow",
            "Action": ["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        })]);
        let admin = policy(vec![
            json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        ]);
        vec![
            Gen::managed_policy(
                EXEC_POLICY,
                "AmazonECSTaskExecutionRolePolicy",
                "/service-role/",
                &exec,
                1,
            ),
            Gen::managed_policy(ADMIN_POLICY, "AdministratorAccess", "/", &admin, 1),
        ]
    }

    // ---- roles shared by every kind of account ----

    /// The chain hop roles living in account `a`.
    fn chain_roles(&self, a: &Account) -> Vec<Value> {
        let mut out = Vec::new();
        for &(c, h) in self.hops_in.get(&a.idx).map(Vec::as_slice).unwrap_or(&[]) {
            let chain = &self.chains[c];
            let hop = &chain.hops[h];
            let (prev_account, prev_arn) = if h == 0 {
                let start = self.account(chain.account);
                let svc = self.service(&start, chain.service);
                (
                    start.id.clone(),
                    Gen::role_arn(&start, &format!("{}-task", svc.name)),
                )
            } else {
                let p = &chain.hops[h - 1];
                (
                    self.account_id(p.account),
                    self.role_arn_of(p.account, &p.name),
                )
            };
            let statement = match hop.trust {
                Trust::RoleArn => {
                    json!({"Sid": "ChainedFrom", "Effect": "Allow", "Principal": {"AWS": prev_arn}, "Action": "sts:AssumeRole"})
                }
                Trust::RootWithPrincipalArn => json!({
                    "Sid": "ChainedFromAccount", "Effect": "Allow",
                    "Principal": {"AWS": Gen::root_arn(&prev_account)}, "Action": "sts:AssumeRole",
                    "Condition": {"ArnEquals": {"aws:PrincipalArn": prev_arn}},
                }),
                Trust::ExternalId => json!({
                    "Sid": "ChainedWithExternalId", "Effect": "Allow",
                    "Principal": {"AWS": Gen::root_arn(&prev_account)}, "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": format!("chain-{c}-{}", alnum(self.hash(&[c as u64]), 8, MIXED62))}},
                }),
            };
            let trust = url_encoded(&policy(vec![statement]));
            let statements = if let Some(next) = chain.hops.get(h + 1) {
                vec![
                    json!({"Sid": "AssumeNextHop", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": self.role_arn_of(next.account, &next.name)}),
                ]
            } else {
                self.dataset_statements(chain.dataset)
            };
            out.push(Gen::role(
                a,
                &hop.name,
                trust,
                vec![(format!("{}-permissions", hop.name), policy(statements))],
                &[],
                &[("chain", &c.to_string())],
            ));
        }
        out
    }

    fn dataset_statements(&self, d: usize) -> Vec<Value> {
        let data = self.account_id(DATA);
        vec![
            json!({"Sid": "ReadDatasetSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                   "Resource": format!("arn:aws:secretsmanager:{HOME_REGION}:{data}:secret:datasets/ds{d}/*")}),
            json!({"Sid": "ReadDatasetObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                   "Resource": [format!("arn:aws:s3:::acme-data-ds{d}-*"), format!("arn:aws:s3:::acme-data-ds{d}-*/*")]}),
            json!({"Sid": "DecryptDatasets", "Effect": "Allow", "Action": "kms:Decrypt",
                   "Resource": self.key_arn(SHARED, HOME_REGION, 0),
                   "Condition": {"StringEquals": {"kms:ViaService": [format!("secretsmanager.{HOME_REGION}.amazonaws.com"), format!("s3.{HOME_REGION}.amazonaws.com")]}}}),
            json!({"Sid": "NeverDeleteDatasets", "Effect": "Deny", "Action": ["s3:DeleteObject", "s3:DeleteBucket", "secretsmanager:DeleteSecret"], "Resource": "*"}),
        ]
    }

    fn org_admin_role(&self, a: &Account) -> Value {
        Gen::role(
            a,
            "OrganizationAccountAccessRole",
            policy(vec![
                json!({"Effect": "Allow", "Principal": {"AWS": Gen::root_arn(&self.account_id(MGMT))}, "Action": "sts:AssumeRole"}),
            ]),
            vec![],
            &[ADMIN_POLICY],
            &[],
        )
    }

    /// Ordinary roles that fill an account up to `roles_per_account`.
    fn filler_role(&self, a: &Account, k: usize) -> Value {
        let suffix = if k >= 6 {
            format!("-{}", k / 6)
        } else {
            String::new()
        };
        let env = a.env.as_str();
        let acct = &a.id;
        let r = a.region;
        match k % 6 {
            0 => Gen::role(
                a,
                &format!("lumen-observability{suffix}"),
                policy(vec![
                    json!({"Sid": "VendorWithExternalId", "Effect": "Allow", "Principal": {"AWS": Gen::root_arn(VENDOR_ACCOUNT)}, "Action": "sts:AssumeRole",
                                   "Condition": {"StringEquals": {"sts:ExternalId": format!("lumen-{}", alnum(fxhash(acct), 10, MIXED62))}}}),
                ]),
                vec![(
                    "read-service-logs".into(),
                    policy(vec![json!({"Sid": "ReadServiceLogs", "Effect": "Allow",
                    "Action": ["logs:DescribeLogGroups", "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery"],
                    "Resource": format!("arn:aws:logs:{r}:{acct}:log-group:/ecs/*")})]),
                )],
                &[],
                &[("vendor", "lumen")],
            ),
            1 => Gen::role(
                a,
                &format!("ci-deploy{suffix}"),
                policy(vec![
                    json!({"Sid": "SharedCiRunner", "Effect": "Allow", "Principal": {"AWS": self.role_arn_of(SHARED, "ci-runner")}, "Action": "sts:AssumeRole"}),
                ]),
                vec![(
                    "deploy".into(),
                    policy(vec![
                        json!({"Sid": "DeployServices", "Effect": "Allow", "Action": ["ecs:RegisterTaskDefinition", "ecs:UpdateService", "ecs:Describe*"], "Resource": "*"}),
                        json!({"Sid": "PassTaskRoles", "Effect": "Allow", "Action": "iam:PassRole",
                           "Resource": [format!("arn:aws:iam::{acct}:role/*-task"), format!("arn:aws:iam::{acct}:role/*-exec")],
                           "Condition": {"StringEquals": {"iam:PassedToService": ECS_TASKS}}}),
                    ]),
                )],
                &[],
                &[("owner", "platform")],
            ),
            2 => Gen::role(
                a,
                &format!("ops-poweruser{suffix}"),
                policy(vec![
                    json!({"Effect": "Allow", "Principal": {"AWS": Gen::root_arn(acct)}, "Action": "sts:AssumeRole",
                                   "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}),
                ]),
                vec![(
                    "power-user".into(),
                    policy(vec![
                        json!({"Sid": "EverythingButIdentity", "Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"}),
                        json!({"Sid": "NoSecretValues", "Effect": "Deny", "Action": "secretsmanager:GetSecretValue",
                           "Resource": format!("arn:aws:secretsmanager:*:{acct}:secret:{env}/*")}),
                    ]),
                )],
                &[],
                &[("owner", "ops")],
            ),
            3 => Gen::role(
                a,
                &format!("backup-operator{suffix}"),
                policy(vec![
                    json!({"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"}, "Action": "sts:AssumeRole"}),
                ]),
                vec![(
                    "backup".into(),
                    policy(vec![
                        json!({"Sid": "ReadBuckets", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket", "s3:GetBucket*"],
                           "Resource": [format!("arn:aws:s3:::{}-*", Gen::bucket_prefix(a)), format!("arn:aws:s3:::{}-*/*", Gen::bucket_prefix(a))]}),
                        json!({"Sid": "UseKeys", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": format!("arn:aws:kms:*:{acct}:key/*")}),
                    ]),
                )],
                &[],
                &[],
            ),
            4 => Gen::role(
                a,
                &format!("security-audit{suffix}"),
                policy(vec![
                    json!({"Effect": "Allow", "Principal": {"AWS": self.role_arn_of(MGMT, "security-audit")}, "Action": "sts:AssumeRole"}),
                ]),
                vec![(
                    "audit".into(),
                    policy(vec![
                        json!({"Sid": "Describe", "Effect": "Allow", "Action": ["secretsmanager:Describe*", "secretsmanager:List*", "ssm:Describe*", "kms:Describe*", "kms:List*", "s3:GetBucketPolicy", "ecr:Describe*"], "Resource": "*"}),
                        json!({"Sid": "NoData", "Effect": "Deny", "Action": ["secretsmanager:GetSecretValue", "ssm:GetParameter*", "s3:GetObject"], "Resource": "*"}),
                    ]),
                )],
                &[],
                &[("owner", "security")],
            ),
            _ => Gen::role(
                a,
                &format!("automation{suffix}"),
                policy(vec![
                    json!({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}),
                ]),
                vec![(
                    "rotate".into(),
                    policy(vec![
                        json!({"Sid": "RotateSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"],
                           "Resource": format!("arn:aws:secretsmanager:{r}:{acct}:secret:{env}/*/db-??????")}),
                        json!({"Sid": "ParametersExceptShared", "Effect": "Allow", "Action": "ssm:GetParameter*", "NotResource": format!("arn:aws:ssm:{r}:{acct}:parameter/shared/*")}),
                    ]),
                )],
                &[],
                &[],
            ),
        }
    }

    fn fill(&self, a: &Account, roles: &mut Vec<Value>) {
        let mut names: std::collections::BTreeSet<String> = roles
            .iter()
            .filter_map(|r| r["RoleName"].as_str().map(str::to_string))
            .collect();
        let mut k = 0;
        while roles.len() < self.c.roles_per_account {
            let role = self.filler_role(a, k);
            k += 1;
            // The management account has its own `security-audit`; skip what would repeat a name.
            if role["RoleName"]
                .as_str()
                .is_some_and(|n| names.insert(n.to_string()))
            {
                roles.push(role);
            }
        }
    }

    fn iam(roles: Vec<Value>, policies: Vec<Value>, summary: &mut Summary) -> Value {
        summary.roles += roles.len();
        json!({"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": roles, "Policies": policies})
    }

    fn account_value(&self, idx: usize, summary: &mut Summary) -> Value {
        let a = self.account(idx);
        match idx {
            MGMT => self.management(&a, summary),
            SHARED => self.shared_services(&a, summary),
            DATA => self.data(&a, summary),
            _ => self.workload(&a, summary),
        }
    }

    fn account_frame(a: &Account, iam: Value, regions: Value, buckets: Vec<Value>) -> Value {
        json!({"id": a.id, "name": a.name, "partition": "aws", "iam": iam, "regions": regions, "s3_buckets": buckets})
    }

    fn empty_region() -> Value {
        json!({"ecs": {"clusters": [], "services": [], "task_definitions": [], "tasks": []},
               "secrets": [], "ssm_parameters": [], "kms_keys": [], "ecr_repositories": [], "log_groups": []})
    }

    // ---- the management account ----

    fn management(&self, a: &Account, summary: &mut Summary) -> Value {
        let mut roles = vec![
            Gen::role(
                a,
                "security-audit",
                policy(vec![
                    json!({"Effect": "Allow", "Principal": {"AWS": Gen::root_arn(&a.id)}, "Action": "sts:AssumeRole",
                                   "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}),
                ]),
                vec![(
                    "assume-audit".into(),
                    policy(vec![
                        json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/security-audit"}),
                    ]),
                )],
                &[],
                &[("owner", "security")],
            ),
            Gen::role(
                a,
                "org-operator",
                policy(vec![
                    json!({"Effect": "Allow", "Principal": {"AWS": Gen::root_arn(&a.id)}, "Action": "sts:AssumeRole"}),
                ]),
                vec![(
                    "operate-members".into(),
                    policy(vec![
                        json!({"Sid": "AssumeMemberAdmin", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/OrganizationAccountAccessRole"}),
                        json!({"Sid": "NotTheManagementAccount", "Effect": "Deny", "Action": "sts:AssumeRole", "Resource": format!("arn:aws:iam::{}:role/*", a.id)}),
                    ]),
                )],
                &[],
                &[("owner", "platform")],
            ),
        ];
        roles.extend(self.chain_roles(a));
        self.fill(a, &mut roles);
        let iam = Gen::iam(roles, Gen::aws_managed_policies(), summary);
        Gen::account_frame(a, iam, json!({HOME_REGION: Gen::empty_region()}), vec![])
    }

    // ---- the shared-services account ----

    fn shared_services(&self, a: &Account, summary: &mut Summary) -> Value {
        let acct = &a.id;
        let mut roles = vec![
            self.org_admin_role(a),
            Gen::role(
                a,
                "ci-runner",
                policy(vec![json!({"Sid": "GitHubActions", "Effect": "Allow",
                    "Principal": {"Federated": format!("arn:aws:iam::{acct}:oidc-provider/token.actions.githubusercontent.com")},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/*:ref:refs/heads/main"}}})]),
                vec![(
                    "deploy-everywhere".into(),
                    policy(vec![
                        json!({"Sid": "AssumeDeployRoles", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ["arn:aws:iam::*:role/ci-deploy", self.role_arn_of(SHARED, "ecr-publisher")]}),
                    ]),
                )],
                &[],
                &[("owner", "platform")],
            ),
            Gen::role(
                a,
                "ecr-publisher",
                policy(vec![
                    json!({"Effect": "Allow", "Principal": {"AWS": self.role_arn_of(SHARED, "ci-runner")}, "Action": "sts:AssumeRole"}),
                ]),
                vec![(
                    "push".into(),
                    policy(vec![
                        json!({"Sid": "Login", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}),
                        json!({"Sid": "PushAndPull", "Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"],
                           "Resource": format!("arn:aws:ecr:{HOME_REGION}:{acct}:repository/*")}),
                    ]),
                )],
                &[],
                &[("owner", "platform")],
            ),
            Gen::role(
                a,
                "kms-admin",
                policy(vec![
                    json!({"Effect": "Allow", "Principal": {"AWS": Gen::root_arn(acct)}, "Action": "sts:AssumeRole"}),
                ]),
                vec![],
                &[],
                &[("owner", "security")],
            ),
        ];
        roles.extend(self.chain_roles(a));
        self.fill(a, &mut roles);
        let iam = Gen::iam(roles, Gen::aws_managed_policies(), summary);

        let org = &self.org_id;
        let mut keys = Vec::new();
        for (k, alias) in ["alias/shared/prod-secrets", "alias/shared/ecr"]
            .into_iter()
            .enumerate()
        {
            let key_policy = policy(vec![
                json!({"Sid": "EnableIAMUserPermissions", "Effect": "Allow", "Principal": {"AWS": Gen::root_arn(acct)}, "Action": "kms:*", "Resource": "*"}),
                json!({"Sid": "AllowKeyAdministration", "Effect": "Allow", "Principal": {"AWS": Gen::role_arn(a, "kms-admin")},
                       "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Get*", "kms:TagResource"], "Resource": "*"}),
                json!({"Sid": "AllowOrganizationThroughServices", "Effect": "Allow", "Principal": {"AWS": "*"},
                       "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*"], "Resource": "*",
                       "Condition": {"StringEquals": {"aws:PrincipalOrgID": org},
                                     "StringLike": {"kms:ViaService": ["secretsmanager.*.amazonaws.com", "ssm.*.amazonaws.com", "s3.*.amazonaws.com"]}}}),
                json!({"Sid": "DenyOutsideTheOrganization", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                       "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": org}, "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}),
            ]);
            keys.push(self.kms_key(a, HOME_REGION, k, alias, &key_policy));
        }
        summary.kms_keys += keys.len();

        let n = self.repositories();
        let mut repos = Vec::with_capacity(n);
        for j in 0..n {
            let name = self.repo_name(j);
            let kind = self.hash(&[Choice::RepoPolicy as u64, j as u64]) % 100;
            let pull = json!([
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchCheckLayerAvailability"
            ]);
            let policy_text = if kind < 92 {
                as_string(
                    &json!({"Version": "2008-10-17", "Statement": [{"Sid": "PullFromTheOrganization", "Effect": "Allow", "Principal": "*", "Action": pull,
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": org}}}]}),
                )
            } else if kind < 97 {
                let h = self.hash(&[Choice::RepoAccounts as u64, j as u64]);
                let listed: Vec<String> = (0..3)
                    .map(|i| {
                        Gen::root_arn(&self.account_id(
                            FIRST_WORKLOAD + (mix(h ^ i) % self.workloads() as u64) as usize,
                        ))
                    })
                    .collect();
                as_string(
                    &json!({"Version": "2008-10-17", "Statement": [{"Sid": "PullFromListedAccounts", "Effect": "Allow", "Principal": {"AWS": listed}, "Action": pull}]}),
                )
            } else {
                Value::Null
            };
            repos.push(json!({
                "repositoryArn": format!("arn:aws:ecr:{HOME_REGION}:{acct}:repository/{name}"),
                "registryId": acct,
                "repositoryName": name,
                "repositoryUri": format!("{acct}.dkr.ecr.{HOME_REGION}.amazonaws.com/{name}"),
                "createdAt": "2024-12-05T13:00:00Z",
                "imageTagMutability": "IMMUTABLE",
                "imageScanningConfiguration": {"scanOnPush": true},
                "encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": self.key_arn(SHARED, HOME_REGION, 1)},
                "policyText": policy_text,
            }));
        }
        summary.repositories += repos.len();
        let mut region = Gen::empty_region();
        region["kms_keys"] = Value::Array(keys);
        region["ecr_repositories"] = Value::Array(repos);
        Gen::account_frame(a, iam, json!({HOME_REGION: region}), vec![])
    }

    fn kms_key(
        &self,
        a: &Account,
        region: &str,
        k: usize,
        alias: &str,
        key_policy: &Value,
    ) -> Value {
        let key_id = self.key_id(a.idx, k);
        json!({
            "KeyMetadata": {
                "AWSAccountId": a.id, "KeyId": key_id, "Arn": self.key_arn(a.idx, region, k),
                "CreationDate": "2025-01-09T11:30:00Z", "Enabled": true, "KeyUsage": "ENCRYPT_DECRYPT",
                "KeyState": "Enabled", "Origin": "AWS_KMS", "KeyManager": "CUSTOMER",
                "KeySpec": "SYMMETRIC_DEFAULT", "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"], "MultiRegion": false,
            },
            "Policy": as_string(key_policy),
            "Aliases": [{
                "AliasName": alias,
                "AliasArn": format!("arn:aws:kms:{region}:{}:{alias}", a.id),
                "TargetKeyId": key_id,
            }],
        })
    }

    // ---- the data account ----

    fn data(&self, a: &Account, summary: &mut Summary) -> Value {
        let acct = &a.id;
        let org = &self.org_id;
        let mut roles = vec![
            self.org_admin_role(a),
            Gen::role(
                a,
                "analytics-readonly",
                url_encoded(&policy(vec![
                    json!({"Sid": "ReportingTasksOfTheOrganization", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": org}, "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/reporting-*-task"}}}),
                ])),
                vec![(
                    "analytics-read".into(),
                    policy(vec![
                        json!({"Sid": "ReadExports", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::acme-data-*", "arn:aws:s3:::acme-data-*/*"]}),
                        json!({"Sid": "ReadWarehouseParameters", "Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters"], "Resource": format!("arn:aws:ssm:{HOME_REGION}:{acct}:parameter/datasets/*")}),
                        json!({"Sid": "NoCredentials", "Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*"}),
                    ]),
                )],
                &[],
                &[("team", "analytics")],
            ),
        ];
        roles.extend(self.chain_roles(a));
        self.fill(a, &mut roles);
        let iam = Gen::iam(roles, Gen::aws_managed_policies(), summary);

        let layout = self.layout_data();
        let shared_key = self.key_arn(SHARED, HOME_REGION, 0);
        let mut secrets = Vec::with_capacity(layout.secrets);
        for d in 0..layout.secrets {
            let arn = self.data_secret_arn(d);
            let mut statements = vec![
                json!({"Sid": "NeverDelete", "Effect": "Deny", "Principal": "*", "Action": "secretsmanager:DeleteSecret", "Resource": "*"}),
            ];
            if let Some(readers) = self.dataset_readers.get(&d) {
                statements.insert(0, json!({"Sid": "ChainReaders", "Effect": "Allow", "Principal": {"AWS": readers}, "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], "Resource": "*"}));
            }
            secrets.push(json!({
                "ARN": arn,
                "Name": format!("datasets/ds{d}/reader"),
                "Description": format!("Read credentials of dataset {d}"),
                "KmsKeyId": shared_key,
                "LastChangedDate": "2025-09-18T08:12:44Z",
                "Tags": [{"Key": "dataset", "Value": format!("ds{d}")}],
                "CreatedDate": "2025-02-03T16:40:21Z",
                "ResourcePolicy": as_string(&policy(statements)),
            }));
        }
        let params: Vec<Value> = (0..layout.params)
            .map(|j| {
                Gen::parameter(
                    a,
                    HOME_REGION,
                    &format!("/datasets/ds{}/endpoint-{j}", j % layout.secrets),
                    false,
                    None,
                )
            })
            .collect();
        let buckets: Vec<Value> = (0..layout.buckets)
            .map(|j| {
                let name = format!("acme-data-ds{}-{j}", j % layout.secrets);
                let p = policy(vec![
                    json!({"Sid": "ReadFromTheOrganization", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
                           "Resource": [format!("arn:aws:s3:::{name}"), format!("arn:aws:s3:::{name}/*")], "Condition": {"StringEquals": {"aws:PrincipalOrgID": org}}}),
                    json!({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                           "Resource": [format!("arn:aws:s3:::{name}"), format!("arn:aws:s3:::{name}/*")], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
                ]);
                json!({"Name": name, "CreationDate": "2024-11-20T10:00:00Z", "Region": HOME_REGION, "Policy": as_string(&p)})
            })
            .collect();
        summary.secrets += secrets.len();
        summary.parameters += params.len();
        summary.buckets += buckets.len();
        let mut region = Gen::empty_region();
        region["secrets"] = Value::Array(secrets);
        region["ssm_parameters"] = Value::Array(params);
        Gen::account_frame(a, iam, json!({HOME_REGION: region}), buckets)
    }

    fn parameter(a: &Account, region: &str, name: &str, secure: bool, key: Option<&str>) -> Value {
        let mut p = json!({
            "Name": name,
            "ARN": format!("arn:aws:ssm:{region}:{}:parameter/{}", a.id, name.trim_start_matches('/')),
            "Type": if secure { "SecureString" } else { "String" },
            "LastModifiedDate": "2025-08-21T12:00:00Z",
            "LastModifiedUser": format!("arn:aws:iam::{}:user/terraform", a.id),
            "Version": 3,
            "Tier": "Standard",
            "Policies": [],
            "DataType": "text",
        });
        if let Some(k) = key {
            p["KeyId"] = json!(k);
        }
        p
    }

    // ---- workload accounts ----

    fn workload(&self, a: &Account, summary: &mut Summary) -> Value {
        let acct = &a.id;
        let r = a.region;
        let env = a.env.as_str();
        let layout = self.layout();
        let s_count = self.c.services_per_account;
        let app_key = self.key_arn(a.idx, r, 0);
        let shared_key = self.key_arn(SHARED, HOME_REGION, 0);
        let via = json!([
            format!("secretsmanager.{r}.amazonaws.com"),
            format!("ssm.{r}.amazonaws.com")
        ]);

        // Roles: the account's two standard roles, two per service, chain hops, then fillers.
        let mut roles = vec![
            self.org_admin_role(a),
            Gen::role(
                a,
                "ecsTaskExecutionRole",
                Gen::ecs_trust(a),
                vec![],
                &[EXEC_POLICY],
                &[],
            ),
        ];
        let baseline_arn = format!("arn:aws:iam::{acct}:policy/app-baseline");
        let services: Vec<Service> = (0..s_count).map(|s| self.service(a, s)).collect();
        for svc in &services {
            let name = &svc.name;
            let tags = [("app", svc.app), ("env", env)];
            let mut statements = vec![
                json!({"Sid": "ReadOwnConfig", "Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
                       "Resource": format!("arn:aws:ssm:{r}:{acct}:parameter/{env}/{name}/*")}),
                json!({"Sid": "ReadOwnSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                       "Resource": format!("arn:aws:secretsmanager:{r}:{acct}:secret:{env}/{name}/*")}),
                json!({"Sid": "DecryptOwnValues", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": [&app_key, &shared_key],
                       "Condition": {"StringEquals": {"kms:ViaService": via}}}),
                json!({"Sid": "OwnObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                       "Resource": format!("arn:aws:s3:::{}-{name}-*/*", Gen::bucket_prefix(a))}),
                json!({"Sid": "OwnLogs", "Effect": "Allow", "Action": ["logs:GetLogEvents", "logs:FilterLogEvents"],
                       "Resource": format!("arn:aws:logs:{r}:{acct}:log-group:/ecs/{env}/{name}:*")}),
            ];
            match svc.profile % 100 {
                // A broad reader of the environment's secrets, fenced by a Deny.
                0..=14 => {
                    statements.push(json!({"Sid": "ReadEnvironmentSecrets", "Effect": "Allow", "Action": "secretsmanager:Get*",
                                           "Resource": format!("arn:aws:secretsmanager:*:{acct}:secret:{env}/*")}));
                    statements.push(json!({"Sid": "ExceptPayments", "Effect": "Deny", "Action": "secretsmanager:*",
                                           "Resource": format!("arn:aws:secretsmanager:*:{acct}:secret:{env}/payments-*")}));
                }
                // A power user: everything but identity, minus secrets and keys.
                15..=19 => {
                    statements.push(json!({"Sid": "Broad", "Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "sts:*"], "Resource": "*"}));
                    statements.push(json!({"Sid": "NoSecretValues", "Effect": "Deny", "Action": ["secretsmanager:GetSecretValue", "kms:Decrypt"], "NotResource": format!("arn:aws:secretsmanager:{r}:{acct}:secret:{env}/{name}/*")}));
                }
                // Whole buckets of the account.
                20..=29 => {
                    statements.push(json!({"Sid": "AllBuckets", "Effect": "Allow", "Action": "s3:*",
                                           "Resource": [format!("arn:aws:s3:::{}-*", Gen::bucket_prefix(a)), format!("arn:aws:s3:::{}-*/*", Gen::bucket_prefix(a))]}));
                }
                _ => {}
            }
            let first_hop = self
                .starts
                .get(&(a.idx, svc.s))
                .and_then(|&c| self.chains.get(c))
                .and_then(|chain| chain.hops.first());
            if let Some(first) = first_hop {
                statements.push(json!({"Sid": "StartChain", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": self.role_arn_of(first.account, &first.name)}));
            }
            if svc.app == "reporting" {
                statements.push(json!({"Sid": "AssumeAnalytics", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": self.role_arn_of(DATA, "analytics-readonly")}));
            }
            roles.push(Gen::role(
                a,
                &format!("{name}-task"),
                Gen::ecs_trust(a),
                vec![(format!("{name}-app"), policy(statements))],
                &[&baseline_arn],
                &tags,
            ));
            if !svc.shared_exec {
                let mut exec = vec![
                    json!({"Sid": "ReadInjectedSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                           "Resource": format!("arn:aws:secretsmanager:{r}:{acct}:secret:{env}/{name}/*")}),
                    json!({"Sid": "ReadInjectedParameters", "Effect": "Allow", "Action": "ssm:GetParameters",
                           "Resource": format!("arn:aws:ssm:{r}:{acct}:parameter/{env}/{name}/*")}),
                    json!({"Sid": "DecryptInjectedValues", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": [&app_key, &shared_key],
                           "Condition": {"StringEquals": {"kms:ViaService": via}}}),
                ];
                if svc.profile % 20 == 7 {
                    exec.push(json!({"Sid": "NoSigningKeys", "Effect": "Deny", "Action": "secretsmanager:GetSecretValue",
                                     "Resource": format!("arn:aws:secretsmanager:{r}:{acct}:secret:{env}/*/signing-key*")}));
                }
                roles.push(Gen::role(
                    a,
                    &format!("{name}-exec"),
                    Gen::ecs_trust(a),
                    vec![(format!("{name}-inject"), policy(exec))],
                    &[EXEC_POLICY],
                    &tags,
                ));
            }
        }
        roles.extend(self.chain_roles(a));
        self.fill(a, &mut roles);
        let baseline = policy(vec![
            json!({"Sid": "WriteLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": format!("arn:aws:logs:{r}:{acct}:log-group:/ecs/*")}),
            json!({"Sid": "ReadSharedConfig", "Effect": "Allow", "Action": "ssm:GetParameter*", "Resource": format!("arn:aws:ssm:{r}:{acct}:parameter/shared/*")}),
            json!({"Sid": "NeverBreakGlass", "Effect": "Deny", "Action": "secretsmanager:*", "Resource": format!("arn:aws:secretsmanager:*:{acct}:secret:{env}/breakglass/*")}),
        ]);
        let mut policies = Gen::aws_managed_policies();
        policies.push(Gen::managed_policy(
            &baseline_arn,
            "app-baseline",
            "/",
            &baseline,
            s_count,
        ));
        let iam = Gen::iam(roles, policies, summary);

        // Resources.
        let key_policy = policy(vec![
            json!({"Sid": "EnableIAMUserPermissions", "Effect": "Allow", "Principal": {"AWS": Gen::root_arn(acct)}, "Action": "kms:*", "Resource": "*"}),
            json!({"Sid": "AllowKeyAdministration", "Effect": "Allow", "Principal": {"AWS": Gen::role_arn(a, "OrganizationAccountAccessRole")},
                   "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Get*"], "Resource": "*"}),
            json!({"Sid": "AllowSecretsAndParameters", "Effect": "Allow", "Principal": {"AWS": Gen::root_arn(acct)},
                   "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*"], "Resource": "*",
                   "Condition": {"StringEquals": {"kms:CallerAccount": acct, "kms:ViaService": via}}}),
        ]);
        let mut keys =
            vec![self.kms_key(a, r, 0, &format!("alias/{env}/app-secrets"), &key_policy)];
        if layout.kms > 1 {
            keys.push(self.kms_key(a, r, 1, &format!("alias/{env}/logs"), &key_policy));
        }
        let mut secrets = Vec::with_capacity(layout.secrets);
        for j in 0..layout.secrets {
            let h = self.hash(&[Choice::SecretKey as u64, a.idx as u64, j as u64]);
            let mut secret = json!({
                "ARN": self.secret_arn(a, j),
                "Name": self.secret_name(a, j),
                "LastChangedDate": "2025-09-18T08:12:44Z",
                "Tags": [{"Key": "app", "Value": self.service(a, j % s_count).app}, {"Key": "env", "Value": env}],
                "CreatedDate": "2025-02-03T16:40:21Z",
                "ResourcePolicy": Value::Null,
            });
            match h % 10 {
                0 if r == HOME_REGION => secret["KmsKeyId"] = json!(shared_key),
                1 => {}
                _ => secret["KmsKeyId"] = json!(format!("alias/{env}/app-secrets")),
            }
            if self.hash(&[Choice::SecretPolicy as u64, a.idx as u64, j as u64]) % 10 == 0 {
                secret["ResourcePolicy"] = as_string(&policy(vec![
                    json!({"Sid": "OnlyThisAccount", "Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*",
                           "Condition": {"StringNotEquals": {"aws:PrincipalAccount": acct}, "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}),
                ]));
            }
            secrets.push(secret);
        }
        let params: Vec<Value> = (0..layout.params)
            .map(|j| {
                let secure =
                    self.hash(&[Choice::ParamType as u64, a.idx as u64, j as u64]) % 2 == 0;
                let key = if secure {
                    Some(format!("alias/{env}/app-secrets"))
                } else {
                    None
                };
                Gen::parameter(a, r, &self.param_name(a, j), secure, key.as_deref())
            })
            .collect();
        let logs: Vec<Value> = (0..layout.logs)
            .map(|j| {
                let name = match services.get(j) {
                    Some(svc) => format!("/ecs/{env}/{}", svc.name),
                    None => format!("/aws/lambda/{env}-job-{j}"),
                };
                json!({
                    "logGroupName": name, "creationTime": 1_733_400_000_000u64, "retentionInDays": 90, "metricFilterCount": 0,
                    "arn": format!("arn:aws:logs:{r}:{acct}:log-group:{name}:*"), "storedBytes": 10_485_760u64,
                    "logGroupClass": "STANDARD", "logGroupArn": format!("arn:aws:logs:{r}:{acct}:log-group:{name}"),
                })
            })
            .collect();
        let buckets: Vec<Value> = (0..layout.buckets)
            .map(|j| {
                let svc = &services[j % s_count];
                let purpose = BUCKET_PURPOSES[(j / s_count) % BUCKET_PURPOSES.len()];
                let name = format!("{}-{}-{purpose}-{j}", Gen::bucket_prefix(a), svc.name);
                let both = json!([format!("arn:aws:s3:::{name}"), format!("arn:aws:s3:::{name}/*")]);
                let p = match self.hash(&[Choice::BucketPolicy as u64, a.idx as u64, j as u64]) % 10 {
                    0..=4 => as_string(&policy(vec![json!({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": both,
                                                          "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])),
                    5 => as_string(&policy(vec![json!({"Sid": "BackupFromSharedServices", "Effect": "Allow", "Principal": {"AWS": Gen::root_arn(&self.account_id(SHARED))},
                                                       "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": both})])),
                    _ => Value::Null,
                };
                json!({"Name": name, "CreationDate": "2024-11-20T10:00:00Z", "Region": r, "Policy": p})
            })
            .collect();

        // ECS.
        let clusters: Vec<Value> = ["web", "workers"]
            .iter()
            .take(s_count.min(2))
            .map(|c| {
                let name = format!("{env}-{c}");
                json!({"clusterArn": format!("arn:aws:ecs:{r}:{acct}:cluster/{name}"), "clusterName": name, "status": "ACTIVE",
                       "capacityProviders": ["FARGATE", "FARGATE_SPOT"]})
            })
            .collect();
        let mut ecs_services = Vec::with_capacity(s_count);
        let mut task_definitions = Vec::with_capacity(s_count);
        let mut tasks = Vec::with_capacity(s_count);
        for svc in &services {
            let td_arn = self.task_definition_arn(a, svc);
            let cluster_arn = format!("arn:aws:ecs:{r}:{acct}:cluster/{}", svc.cluster);
            let launch = if svc.profile % 10 == 9 {
                "EC2"
            } else {
                "FARGATE"
            };
            ecs_services.push(json!({
                "serviceArn": format!("arn:aws:ecs:{r}:{acct}:service/{}/{}", svc.cluster, svc.name),
                "serviceName": svc.name, "clusterArn": cluster_arn, "status": "ACTIVE",
                "desiredCount": 2, "runningCount": 2, "pendingCount": 0, "launchType": launch,
                "taskDefinition": td_arn, "schedulingStrategy": "REPLICA", "createdAt": "2025-06-01T10:00:00Z",
            }));
            let containers = self.containers(a, svc, &layout, summary);
            summary.containers += containers.len();
            let exec_name = if svc.shared_exec {
                "ecsTaskExecutionRole".to_string()
            } else {
                format!("{}-exec", svc.name)
            };
            task_definitions.push(json!({
                "taskDefinitionArn": td_arn,
                "containerDefinitions": containers,
                "family": svc.name,
                "taskRoleArn": Gen::role_arn(a, &format!("{}-task", svc.name)),
                "executionRoleArn": Gen::role_arn(a, &exec_name),
                "networkMode": "awsvpc",
                "revision": svc.revision,
                "status": "ACTIVE",
                "requiresCompatibilities": [launch],
                "cpu": "512",
                "memory": "1024",
                "registeredAt": "2025-10-02T14:11:07Z",
            }));
            let task_id = alnum(
                self.hash(&[Choice::TaskId as u64, a.idx as u64, svc.s as u64]),
                32,
                HEX,
            );
            tasks.push(json!({
                "taskArn": format!("arn:aws:ecs:{r}:{acct}:task/{}/{task_id}", svc.cluster),
                "clusterArn": cluster_arn, "taskDefinitionArn": td_arn, "group": format!("service:{}", svc.name),
                "launchType": launch, "lastStatus": "RUNNING", "desiredStatus": "RUNNING", "startedAt": "2026-11-26T22:14:09Z",
                "overrides": {"containerOverrides": []},
            }));
        }
        summary.services += services.len();
        summary.secrets += secrets.len();
        summary.parameters += params.len();
        summary.kms_keys += keys.len();
        summary.log_groups += logs.len();
        summary.buckets += buckets.len();
        let region = json!({
            "ecs": {"clusters": clusters, "services": ecs_services, "task_definitions": task_definitions, "tasks": tasks},
            "secrets": secrets,
            "ssm_parameters": params,
            "kms_keys": keys,
            "ecr_repositories": [],
            "log_groups": logs,
        });
        let mut regions = serde_json::Map::new();
        regions.insert(r.to_string(), region);
        Gen::account_frame(a, iam, Value::Object(regions), buckets)
    }

    /// The containers of a service: the app (image from the shared ECR, injected secrets and
    /// parameters), then sidecars.
    fn containers(
        &self,
        a: &Account,
        svc: &Service,
        layout: &Layout,
        summary: &mut Summary,
    ) -> Vec<Value> {
        let s_count = self.c.services_per_account;
        let env = a.env.as_str();
        let log = |prefix: &str| json!({"logDriver": "awslogs", "options": {"awslogs-group": format!("/ecs/{env}/{}", svc.name), "awslogs-region": a.region, "awslogs-stream-prefix": prefix}, "secretOptions": []});
        let mut secrets = Vec::new();
        let h = self.hash(&[Choice::Injection as u64, a.idx as u64, svc.s as u64]);
        // The service's own secrets are j = s, s + S, …; inject up to two of them.
        for (k, j) in (svc.s..layout.secrets)
            .step_by(s_count)
            .take(1 + (h % 2) as usize)
            .enumerate()
        {
            let arn = self.secret_arn(a, j);
            let value_from = if k == 0 && h % 3 == 0 {
                format!("{arn}:password::")
            } else {
                arn
            };
            secrets.push(json!({"name": format!("SECRET_{k}"), "valueFrom": value_from}));
        }
        for (k, j) in (svc.s..layout.params)
            .step_by(s_count)
            .take((h >> 8) as usize % 3)
            .enumerate()
        {
            let name = self.param_name(a, j);
            let value_from = if k == 1 {
                format!("arn:aws:ssm:{}:{}:parameter{name}", a.region, a.id)
            } else {
                name
            };
            secrets.push(json!({"name": format!("PARAM_{k}"), "valueFrom": value_from}));
        }
        summary.injections += secrets.len();
        let repo = self.repo_name(svc.repo);
        let shared = self.account_id(SHARED);
        let mut out = vec![json!({
            "name": "app",
            "image": format!("{shared}.dkr.ecr.{HOME_REGION}.amazonaws.com/{repo}:2025.11.{}", svc.revision),
            "cpu": 0, "essential": true,
            "environment": [{"name": "SERVICE", "value": svc.name}, {"name": "ENV", "value": env}],
            "mountPoints": [], "volumesFrom": [],
            "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
            "secrets": secrets,
            "logConfiguration": log("app"),
        })];
        if svc.containers >= 2 {
            out.push(json!({
                "name": "envoy", "image": "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.6.0-prod",
                "cpu": 0, "essential": false, "environment": [], "mountPoints": [], "volumesFrom": [],
                "logConfiguration": log("envoy"),
            }));
        }
        if svc.containers >= 3 {
            out.push(json!({
                "name": "otel-collector", "image": format!("{shared}.dkr.ecr.{HOME_REGION}.amazonaws.com/{}:0.98.0", self.repo_name(0)),
                "cpu": 0, "essential": false, "environment": [], "mountPoints": [], "volumesFrom": [],
                "logConfiguration": log("otel"),
            }));
        }
        out
    }
}

/// FNV-1a, for ids derived from names.
fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_cannot_be_an_organization() {
        let ok = Config {
            accounts: 4,
            roles_per_account: 4,
            services_per_account: 1,
            resources_per_account: MIN_RESOURCES_PER_ACCOUNT,
            seed: 0,
        };
        assert!(to_vec(&ok).is_ok());
        let few = Config {
            accounts: 3,
            ..ok.clone()
        };
        assert!(matches!(to_vec(&few), Err(SynthError::TooFewAccounts(3))));
        let none = Config {
            services_per_account: 0,
            ..ok.clone()
        };
        assert!(matches!(to_vec(&none), Err(SynthError::NoServices)));
        let small = Config {
            resources_per_account: 3,
            ..ok
        };
        assert!(matches!(
            to_vec(&small),
            Err(SynthError::TooFewResources(3))
        ));
    }
}
