//! The plan of an organization: its accounts, their services and resource layouts, and the
//! cross-account role chains, the only part kept in memory while accounts are written.

use std::collections::BTreeMap;

use super::random::{Choice, LOWER36, Rng, alnum, mix, pick};
use super::{Config, MIN_ACCOUNTS, MIN_RESOURCES_PER_ACCOUNT, SynthError};

/// The account outside the organization that vendor integrations trust.
pub(super) const VENDOR_ACCOUNT: &str = "737912845530";
/// The indexes of the management, shared-services and data accounts, and of the first workload
/// account.
pub(super) const MGMT: usize = 0;
pub(super) const SHARED: usize = 1;
pub(super) const DATA: usize = 2;
pub(super) const FIRST_WORKLOAD: usize = 3;
/// The region of the fixed accounts, and of most workload accounts.
pub(super) const HOME_REGION: &str = "us-east-1";

/// What services are called: `<app>-<kind>-<index>`; teams name accounts and repositories.
pub(super) const APPS: &[&str] = &[
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
pub(super) const TEAMS: &[&str] = &[
    "storefront",
    "payments",
    "platform",
    "growth",
    "logistics",
    "data",
    "identity",
    "core",
];

/// How a chain hop's trust policy names the role before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Trust {
    /// The previous role's ARN.
    RoleArn,
    /// The previous role's account root, narrowed by `aws:PrincipalArn`.
    RootWithPrincipalArn,
    /// The previous role's account root, with an `sts:ExternalId`.
    ExternalId,
}

/// One role of a chain.
pub(super) struct Hop {
    pub(super) account: usize,
    pub(super) name: String,
    pub(super) trust: Trust,
}

/// A role chain: a service's task role assumes each hop in turn; the last reads a dataset.
pub(super) struct Chain {
    pub(super) account: usize,
    pub(super) service: usize,
    pub(super) hops: Vec<Hop>,
    pub(super) dataset: usize,
}

/// A workload account's environment.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Env {
    Prod,
    Staging,
    Dev,
}

impl Env {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Env::Prod => "prod",
            Env::Staging => "staging",
            Env::Dev => "dev",
        }
    }
}

/// An account's identity and placement.
pub(super) struct Account {
    pub(super) idx: usize,
    pub(super) id: String,
    pub(super) name: String,
    pub(super) env: Env,
    pub(super) region: &'static str,
}

/// An ECS service of a workload account, with its one task definition.
pub(super) struct Service {
    pub(super) s: usize,
    pub(super) name: String,
    pub(super) app: &'static str,
    pub(super) cluster: String,
    pub(super) shared_exec: bool,
    pub(super) containers: usize,
    pub(super) profile: u64,
    pub(super) revision: i64,
    pub(super) repo: usize,
}

/// How many resources of each kind an account has.
pub(super) struct Layout {
    pub(super) kms: usize,
    pub(super) secrets: usize,
    pub(super) params: usize,
    pub(super) logs: usize,
    pub(super) buckets: usize,
}

/// The generator: the configuration, the organization's ids and the plan of its chains.
pub(super) struct Gen<'c> {
    pub(super) c: &'c Config,
    pub(super) org_id: String,
    pub(super) root_id: String,
    pub(super) ou: BTreeMap<&'static str, String>,
    pub(super) chains: Vec<Chain>,
    /// Chain hops by the account their role lives in: (chain, hop).
    pub(super) hops_in: BTreeMap<usize, Vec<(usize, usize)>>,
    /// The chain each (account, service) starts.
    pub(super) starts: BTreeMap<(usize, usize), usize>,
    /// The last roles of chains by dataset, when they live outside the data account.
    pub(super) dataset_readers: BTreeMap<usize, Vec<String>>,
}

impl<'c> Gen<'c> {
    pub(super) fn new(c: &'c Config) -> Result<Gen<'c>, SynthError> {
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

    /// A hash of the seed and `parts`: one independent choice.
    pub(super) fn hash(&self, parts: &[u64]) -> u64 {
        parts.iter().fold(mix(self.c.seed), |acc, &p| {
            mix(acc ^ p.wrapping_mul(0x2545_F491_4F6C_DD1D))
        })
    }

    /// The number of workload accounts.
    pub(super) fn workloads(&self) -> usize {
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

    /// Account `idx`: 0 the management account, 1 shared services, 2 data, then workloads.
    pub(super) fn account(&self, idx: usize) -> Account {
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

    /// How a workload account's resources divide into kinds.
    pub(super) fn layout(&self) -> Layout {
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
    pub(super) fn layout_data(&self) -> Layout {
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

    /// Service `s` of a workload account.
    pub(super) fn service(&self, a: &Account, s: usize) -> Service {
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
            revision: 1 + (h(Choice::Revision) % 60) as i64,
            repo: (h(Choice::Repo) % self.repositories() as u64) as usize,
        }
    }

    /// The shared-services account's ECR repositories.
    pub(super) fn repositories(&self) -> usize {
        self.c.resources_per_account.saturating_sub(2).max(1)
    }
}
