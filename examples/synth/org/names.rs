//! What every thing of an organization is called: account ids, ARNs and names, each derived
//! from indexes, so any account can name another account's roles and resources.

use super::plan::{APPS, Account, DATA, Gen, HOME_REGION, Service, TEAMS};
use super::random::{Choice, HEX, MIXED62, alnum, pick};

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

impl Gen<'_> {
    pub(super) fn account_id(&self, idx: usize) -> String {
        format!("{:012}", 100_000_000_000u64 + idx as u64 * 1_000_003)
    }

    pub(super) fn role_arn_of(&self, idx: usize, name: &str) -> String {
        format!("arn:aws:iam::{}:role/{name}", self.account_id(idx))
    }

    pub(super) fn role_arn(a: &Account, name: &str) -> String {
        format!("arn:aws:iam::{}:role/{name}", a.id)
    }

    pub(super) fn root_arn(id: &str) -> String {
        format!("arn:aws:iam::{id}:root")
    }

    pub(super) fn repo_name(&self, j: usize) -> String {
        format!("{}/{}-{j}", pick(TEAMS, j as u64), APPS[j % APPS.len()])
    }

    pub(super) fn key_id(&self, account: usize, k: usize) -> String {
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

    pub(super) fn key_arn(&self, account: usize, region: &str, k: usize) -> String {
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
    pub(super) fn secret_name(&self, a: &Account, j: usize) -> String {
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

    pub(super) fn secret_arn(&self, a: &Account, j: usize) -> String {
        format!(
            "arn:aws:secretsmanager:{}:{}:secret:{}-{}",
            a.region,
            a.id,
            self.secret_name(a, j),
            self.suffix(a.idx, 1, j)
        )
    }

    pub(super) fn data_secret_arn(&self, d: usize) -> String {
        format!(
            "arn:aws:secretsmanager:{HOME_REGION}:{}:secret:datasets/ds{d}/reader-{}",
            self.account_id(DATA),
            self.suffix(DATA, 1, d)
        )
    }

    pub(super) fn param_name(&self, a: &Account, j: usize) -> String {
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

    pub(super) fn bucket_prefix(a: &Account) -> String {
        format!("acme-{}", a.id)
    }

    pub(super) fn task_definition_arn(&self, a: &Account, svc: &Service) -> String {
        format!(
            "arn:aws:ecs:{}:{}:task-definition/{}:{}",
            a.region, a.id, svc.name, svc.revision
        )
    }
}
