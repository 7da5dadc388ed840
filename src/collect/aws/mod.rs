//! Live collection through the AWS SDK for Rust (feature `aws`): reads accounts, regions and,
//! with `--org-role`, a whole organization, and returns a `rolechain.snapshot/v1` document.
//!
//! Only read-only calls are made, each listed in [`OPERATIONS`]. Every list is paginated. A call
//! that fails (access denied, a throttle that outlasts the retries, a disabled region, a timeout)
//! becomes a `gaps[]` entry and collection carries on. SDK values are mapped field by field into
//! the snapshot reader's own serde shapes (`collect::snapshot`), so a collected snapshot is read
//! back by the same code as a hand-written one. Credentials are handed to the SDK and never read,
//! stored or formatted here; those of `--org-role` renew themselves before they expire, so a
//! collection may outlast them.

mod account;
mod call;
mod decode;
mod ops;
mod org;

use std::collections::BTreeSet;
use std::fmt;
use std::time::{Duration, Instant};

use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::client::identity::SharedIdentityCache;

pub use ops::{OPERATIONS, Op};

use super::snapshot::{AccountDto, GapDto, SNAPSHOT_SCHEMA, Snapshot};
use crate::model;
use call::{Ctx, Scope};

/// What to collect and how.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Named profiles, each one account; empty means the default credential chain.
    pub profiles: Vec<String>,
    /// Regions to read; empty means each profile's own region.
    pub regions: Vec<String>,
    /// With a management or delegated-admin account: read the organization and assume this role
    /// in each of its active accounts.
    pub org_role: Option<String>,
    /// The external id to pass when assuming `org_role`.
    pub external_id: Option<String>,
    /// Send every client here (an emulator) instead of AWS.
    pub endpoint_url: Option<String>,
    /// The most calls in flight at once.
    pub concurrency: usize,
    /// Also read every ACTIVE task definition, not only those a service or task uses.
    pub all_task_definitions: bool,
    /// Attempts per call with the SDK's standard retry mode (backoff on throttling); 1 disables
    /// retries.
    pub max_attempts: u32,
    /// With `org_role`: read only these accounts (the organization itself is still read), so
    /// that a large organization can be collected in shards and joined with `merge`. Empty
    /// means every active account.
    pub accounts: Vec<String>,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            profiles: Vec::new(),
            regions: Vec::new(),
            org_role: None,
            external_id: None,
            endpoint_url: None,
            concurrency: DEFAULT_CONCURRENCY,
            all_task_definitions: false,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            accounts: Vec::new(),
        }
    }
}

/// Calls in flight by default.
pub const DEFAULT_CONCURRENCY: usize = 16;
/// Attempts per call by default.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// Hears about collection as it goes; the CLI draws a progress bar and prints warnings.
pub trait Observer {
    /// `units` more units of work (account × service) are known.
    fn planned(&self, _units: u64) {}
    /// One unit of work is done.
    fn finished(&self, _unit: &str) {}
    /// A call failed and was recorded as a gap.
    fn gap(&self, _gap: &model::Gap) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default)]
pub struct Silent;

impl Observer for Silent {}

/// Why collection could not run at all (anything narrower is a gap).
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The async runtime could not start.
    #[error("starting the async runtime")]
    Runtime(#[source] std::io::Error),
    /// A profile names no region and none was given.
    #[error("no region for {profile}: pass `--region` or set one in the profile")]
    NoRegion {
        /// The profile, described.
        profile: String,
    },
    /// No account could be read at all.
    #[error("no account could be read: {reason}")]
    NoAccount {
        /// The first gap's error.
        reason: String,
    },
    /// The snapshot could not be serialized.
    #[error("serializing the snapshot")]
    Serialize(#[source] serde_json::Error),
}

/// Counts for the closing summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Accounts read.
    pub accounts: usize,
    /// Distinct regions read.
    pub regions: usize,
    /// IAM roles.
    pub roles: usize,
    /// ECS task definitions.
    pub task_definitions: usize,
    /// Secrets, parameters, keys, repositories, log groups and buckets.
    pub resources: usize,
    /// Gaps recorded.
    pub gaps: usize,
    /// API calls made (each page counts).
    pub calls: u64,
    /// Attempts the SDK made again after a call's attempt failed (throttling, 5xx, a dropped
    /// connection); calls that succeeded on a retry left no gap. The retries of AssumeRole
    /// itself happen inside aws-config's credentials provider and are not counted.
    pub retries: u64,
    /// With `--org-role`: the organization or its account list could not be read in full, so
    /// member accounts may be missing from the snapshot without a gap naming them.
    pub members_may_be_missing: bool,
    /// Wall time.
    pub elapsed: Duration,
}

impl fmt::Display for Summary {
    /// The closing line: what was collected, what was lost, and the effort it took.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "collected {} account(s), {} region(s), {} role(s), {} task definition(s), {} resource(s), {} gap(s), {} call(s), {} retry attempt(s) in {:.1}s",
            self.accounts,
            self.regions,
            self.roles,
            self.task_definitions,
            self.resources,
            self.gaps,
            self.calls,
            self.retries,
            self.elapsed.as_secs_f64()
        )?;
        if self.members_may_be_missing {
            f.write_str(
                "; member accounts may be missing: the organization or its account list could not be read in full (see the gaps)",
            )?;
        }
        Ok(())
    }
}

/// A collected snapshot.
pub struct Collection {
    snapshot: Snapshot,
    /// The counts.
    pub summary: Summary,
}

impl Collection {
    /// The snapshot as `rolechain.snapshot/v1` JSON, with a final newline.
    ///
    /// # Errors
    /// Only if serialization fails, which the shapes rule out.
    pub fn to_json(&self) -> Result<String, CollectError> {
        let mut text =
            serde_json::to_string_pretty(&self.snapshot).map_err(CollectError::Serialize)?;
        text.push('\n');
        Ok(text)
    }

    /// The gaps recorded.
    pub fn gaps(&self) -> Vec<model::Gap> {
        self.snapshot
            .gaps
            .iter()
            .flatten()
            .map(|g| model::Gap {
                account: g.account.clone(),
                region: g.region.clone(),
                service: g.service.clone(),
                operation: g.operation.clone(),
                resource: g.resource.clone(),
                error: g.error.clone(),
            })
            .collect()
    }
}

/// Collects a snapshot, blocking until done.
///
/// # Errors
/// Only when nothing can be collected: no region for a profile, no account readable, or the
/// runtime fails to start. Failures of single calls are gaps in the result.
pub fn collect(
    options: &CollectOptions,
    observer: &dyn Observer,
) -> Result<Collection, CollectError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CollectError::Runtime)?;
    runtime.block_on(collect_async(options, observer))
}

/// How long the SDK may take to get credentials before a call fails: long enough for an
/// AssumeRole that is throttled and retried with backoff (the SDK's default is 5 seconds).
const CREDENTIALS_LOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// The SDK configuration of one profile (or the default chain), with the retry, timeout and
/// endpoint settings of `options`, and an identity cache that counts retries into `ctx`.
async fn load_config(ctx: &Ctx<'_>, options: &CollectOptions, profile: Option<&str>) -> SdkConfig {
    let retry = if options.max_attempts <= 1 {
        RetryConfig::disabled()
    } else {
        RetryConfig::standard().with_max_attempts(options.max_attempts)
    };
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .operation_attempt_timeout(Duration::from_secs(60))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(timeouts)
        .identity_cache(ctx.counting(credentials_cache()));
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// The identity cache the SDK would make, with room for a slow AssumeRole. Every client built
/// from one configuration shares it, so an assumed role is assumed once, not once per client,
/// and assumed again shortly before its credentials expire.
fn credentials_cache() -> SharedIdentityCache {
    IdentityCache::lazy()
        .load_timeout(CREDENTIALS_LOAD_TIMEOUT)
        .build()
}

/// One account to read: how to reach it and what we know of it.
struct Target {
    config: SdkConfig,
    regions: Vec<String>,
    /// The account id, when known before asking STS (organization members).
    id: Option<String>,
    name: Option<String>,
    /// The profile or role, for messages.
    label: String,
}

/// The account id and partition of a configuration's credentials (STS GetCallerIdentity); a
/// failure is a gap, filed under `label`.
async fn caller_identity(
    ctx: &Ctx<'_>,
    config: &SdkConfig,
    label: &str,
) -> Option<(String, String)> {
    let sts = aws_sdk_sts::Client::new(config);
    let unknown = Scope {
        ctx,
        account: label,
        region: None,
    };
    let identity = unknown
        .call(
            ops::GET_CALLER_IDENTITY,
            None,
            sts.get_caller_identity().send(),
        )
        .await?;
    let id = identity.account().unwrap_or(label).to_string();
    let partition = identity
        .arn()
        .and_then(|a| a.split(':').nth(1))
        .unwrap_or("aws")
        .to_string();
    Some((id, partition))
}

async fn collect_async(
    options: &CollectOptions,
    observer: &dyn Observer,
) -> Result<Collection, CollectError> {
    let started = Instant::now();
    let ctx = Ctx::new(options.concurrency, observer);
    let profiles: Vec<Option<&str>> = if options.profiles.is_empty() {
        vec![None]
    } else {
        options.profiles.iter().map(|p| Some(p.as_str())).collect()
    };
    let mut targets = Vec::new();
    for profile in profiles {
        let config = load_config(&ctx, options, profile).await;
        let label = match profile {
            Some(p) => format!("profile `{p}`"),
            None => "the default profile".to_string(),
        };
        let regions = if options.regions.is_empty() {
            match config.region() {
                Some(r) => vec![r.to_string()],
                None => return Err(CollectError::NoRegion { profile: label }),
            }
        } else {
            options.regions.clone()
        };
        targets.push(Target {
            config,
            regions,
            id: None,
            name: None,
            label,
        });
    }

    let mut organization = None;
    let mut members_may_be_missing = false;
    if let (Some(role), Some(first)) = (&options.org_role, targets.first()) {
        match org::organization(&ctx, first, role, options).await {
            Some(found) => {
                organization = Some(found.dto);
                members_may_be_missing = !found.complete;
                // A shard reads its own accounts; the account that reads the organization only
                // when it is one of them.
                if !options.accounts.is_empty() && !options.accounts.contains(&found.me) {
                    targets.clear();
                }
                targets.extend(found.members);
            }
            None => members_may_be_missing = true,
        }
    }

    let futures = targets
        .iter()
        .map(|t| account::account(&ctx, t, options))
        .collect::<Vec<_>>();
    let mut accounts: Vec<AccountDto> = futures_util::future::join_all(futures)
        .await
        .into_iter()
        .flatten()
        .collect();
    // Two profiles may name one account; keep its first reading.
    let mut seen = BTreeSet::new();
    accounts.retain(|a| seen.insert(a.id.clone()));
    accounts.sort_by(|a, b| a.id.cmp(&b.id));

    let mut gaps = ctx.take_gaps();
    if accounts.is_empty() {
        let reason = gaps
            .first()
            .and_then(|g| g.error.clone())
            .unwrap_or_else(|| "no credentials".to_string());
        return Err(CollectError::NoAccount { reason });
    }
    gaps.sort_by(|a, b| gap_key(a).cmp(&gap_key(b)));
    let mut summary = summarize(&accounts, &gaps, ctx.calls(), started.elapsed());
    summary.retries = ctx.retries();
    summary.members_may_be_missing = members_may_be_missing;
    let snapshot = Snapshot {
        schema: Some(SNAPSHOT_SCHEMA.to_string()),
        collected_at: Some(
            chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ),
        organization,
        accounts,
        gaps: Some(gaps),
    };
    Ok(Collection { snapshot, summary })
}

fn gap_key(g: &GapDto) -> [Option<&str>; 5] {
    [
        g.account.as_deref(),
        g.region.as_deref(),
        g.service.as_deref(),
        g.operation.as_deref(),
        g.resource.as_deref(),
    ]
}

fn summarize(accounts: &[AccountDto], gaps: &[GapDto], calls: u64, elapsed: Duration) -> Summary {
    let mut regions = BTreeSet::new();
    let mut summary = Summary {
        accounts: accounts.len(),
        gaps: gaps.len(),
        calls,
        elapsed,
        ..Summary::default()
    };
    for a in accounts {
        summary.roles += a.iam.as_ref().map_or(0, |i| i.role_detail_list.len());
        summary.resources += a.s3_buckets.as_ref().map_or(0, Vec::len);
        for (name, r) in &a.regions {
            regions.insert(name.clone());
            summary.task_definitions += r
                .ecs
                .as_ref()
                .and_then(|e| e.task_definitions.as_ref())
                .map_or(0, Vec::len);
            summary.resources += r.secrets.as_ref().map_or(0, Vec::len)
                + r.ssm_parameters.as_ref().map_or(0, Vec::len)
                + r.kms_keys.as_ref().map_or(0, Vec::len)
                + r.ecr_repositories.as_ref().map_or(0, Vec::len)
                + r.log_groups.as_ref().map_or(0, Vec::len);
        }
    }
    summary.regions = regions.len();
    summary
}

#[cfg(test)]
mod tests;
