//! Synthetic organizations: a deterministic `rolechain.snapshot/v1` document of any size, for
//! benchmarks and scale tests.
//!
//! [`write()`] streams the snapshot to an [`std::io::Write`] one account at a time, so memory stays
//! bounded by the largest account, not by the organization. Nothing here reads files, the clock
//! or the environment: the same [`Config`] gives the same bytes.
//!
//! The snapshot is built from the library's snapshot shapes (`rolechain::collect::snapshot`), the
//! types the collector serializes, so it carries the fields that a collected snapshot carries,
//! under the same names. Policy documents are JSON values in any snapshot; only they are written
//! as JSON here.
//!
//! This module is not part of the library. The `synth` example writes a file with it, the
//! `bench` example generates the organizations it measures, and the integration tests
//! (`tests/it/synth.rs`) check what it writes; the last two include it with `#[path]`.
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

use std::cell::RefCell;
use std::io::Write;

use rolechain::collect::SNAPSHOT_SCHEMA;
use rolechain::collect::snapshot::Snapshot;
use serde::{Serialize, Serializer};

mod accounts;
mod iam;
mod names;
mod organization;
mod plan;
mod random;
mod workload;

use plan::{FIRST_WORKLOAD, Gen, Trust};

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

/// The snapshot's `collected_at`: fixed, so that a seed gives the same bytes.
const COLLECTED_AT: &str = "2026-11-28T00:00:00Z";

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
#[allow(
    dead_code,
    reason = "the synth and bench examples and the integration tests each use part of this module"
)]
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
    #[allow(
        dead_code,
        reason = "the synth and bench examples and the integration tests each use part of this module"
    )]
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
#[allow(
    dead_code,
    reason = "the synth and bench examples and the integration tests each use part of this module"
)]
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
#[allow(
    dead_code,
    reason = "the synth and bench examples and the integration tests each use part of this module"
)]
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
    {
        let accounts = (0..config.accounts).map(|i| g.account_dto(i, &mut summary));
        let snapshot = Snapshot {
            schema: Some(SNAPSHOT_SCHEMA.to_string()),
            collected_at: Some(COLLECTED_AT.to_string()),
            organization: Some(g.organization()),
            accounts: Streamed(RefCell::new(Some(accounts))),
            gaps: None,
        };
        serde_json::to_writer(&mut *out, &snapshot)?;
    }
    out.write_all(b"\n")?;
    Ok(summary)
}

/// Writes the snapshot into memory; for tests and small organizations.
///
/// # Errors
/// An invalid configuration.
#[allow(
    dead_code,
    reason = "the synth and bench examples and the integration tests each use part of this module"
)]
pub fn to_vec(config: &Config) -> Result<(Vec<u8>, Summary), SynthError> {
    let mut out = Vec::new();
    let summary = write(config, &mut out)?;
    Ok((out, summary))
}

/// A sequence serialized as it is produced, so that only one item is in memory at a time. It is
/// serialized once: a second time finds it empty and fails.
struct Streamed<I>(RefCell<Option<I>>);

impl<I> Serialize for Streamed<I>
where
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let items = self.0.borrow_mut().take().ok_or_else(|| {
            serde::ser::Error::custom("a streamed sequence is serialized only once")
        })?;
        serializer.collect_seq(items)
    }
}
