//! The resources of the inventory, by id, with their policies, keys and tags.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::acl_statements;
use crate::graph::NodeKind;
use crate::graph::world::{KeyRef, ResourceInfo, World};
use crate::model::{Arn, Diagnostic, KeyManager};

impl<'a> World<'a> {
    pub(in crate::graph) fn index_resources(&mut self) {
        let inventory = self.inventory;
        // Keys first: secrets and parameters resolve their encryption keys against them.
        for account in &inventory.accounts {
            for (region, r) in &account.regions {
                for key in r.kms_keys.iter().flatten() {
                    let k = (account.id.clone(), region.clone(), key.key_id.clone());
                    self.keys_by_id.insert(k, key.arn.clone());
                    for alias in &key.aliases {
                        self.aliases.insert(
                            (account.id.clone(), region.clone(), alias.clone()),
                            key.arn.clone(),
                        );
                    }
                    let label = key
                        .aliases
                        .first()
                        .cloned()
                        .unwrap_or_else(|| format!("key/{}", key.key_id));
                    self.add(ResourceInfo {
                        tags: Some(&key.tags),
                        aws_managed_key: key.manager == KeyManager::Aws,
                        ..ResourceInfo::collected(
                            NodeKind::KmsKey,
                            &key.arn,
                            account,
                            region,
                            label,
                            key.policy.as_ref(),
                        )
                    });
                }
            }
        }
        for account in &inventory.accounts {
            for (region, r) in &account.regions {
                for s in r.secrets.iter().flatten() {
                    let key = self.resolve_key(
                        s.kms_key_id.as_deref(),
                        &account.id,
                        region,
                        "aws/secretsmanager",
                    );
                    self.add(ResourceInfo {
                        tags: Some(&s.tags),
                        encryption_key: Some(key),
                        ..ResourceInfo::collected(
                            NodeKind::Secret,
                            &s.arn,
                            account,
                            region,
                            s.name.clone(),
                            s.policy.as_ref(),
                        )
                    });
                }
                for param in r.ssm_parameters.iter().flatten() {
                    let key = (param.parameter_type == "SecureString").then(|| {
                        self.resolve_key(param.key_id.as_deref(), &account.id, region, "aws/ssm")
                    });
                    self.add(ResourceInfo {
                        encryption_key: key,
                        tags: param.tags.as_ref(),
                        ..ResourceInfo::collected(
                            NodeKind::SsmParameter,
                            &param.arn,
                            account,
                            region,
                            param.name.clone(),
                            None,
                        )
                    });
                }
                for repo in r.ecr_repositories.iter().flatten() {
                    let label = repo.name.clone();
                    self.add(ResourceInfo {
                        tags: repo.tags.as_ref(),
                        repository: Some(repo),
                        ..ResourceInfo::collected(
                            NodeKind::EcrRepository,
                            &repo.arn,
                            account,
                            region,
                            label,
                            repo.policy.as_ref(),
                        )
                    });
                }
                for lg in r.log_groups.iter().flatten() {
                    self.add(ResourceInfo {
                        tags: lg.tags.as_ref(),
                        ..ResourceInfo::collected(
                            NodeKind::LogGroup,
                            &lg.arn,
                            account,
                            region,
                            lg.name.clone(),
                            None,
                        )
                    });
                }
            }
            for b in account.s3_buckets.iter().flatten() {
                let id = format!("arn:{}:s3:::{}", account.partition, b.name);
                let region = b.region.clone().unwrap_or_default();
                let encryption_key = b
                    .default_kms_key
                    .as_ref()
                    .map(|key| self.resolve_key(key.as_deref(), &account.id, &region, "aws/s3"));
                let ignore_acls = [account.s3_public_access_block, b.public_access_block]
                    .iter()
                    .flatten()
                    .any(|block| block.ignore_public_acls);
                let acl = b
                    .public_grants
                    .as_deref()
                    .filter(|grants| !grants.is_empty() && !ignore_acls)
                    .map(|grants| Arc::new(acl_statements(&id, grants)));
                self.add(ResourceInfo {
                    tags: b.tags.as_ref(),
                    encryption_key,
                    bucket: Some(b),
                    acl,
                    ..ResourceInfo::collected(
                        NodeKind::S3Bucket,
                        &id,
                        account,
                        &region,
                        b.name.clone(),
                        b.policy.as_ref(),
                    )
                });
            }
        }
    }

    pub(in crate::graph) fn add(&mut self, resource: ResourceInfo<'a>) {
        self.resources.insert(resource.id.clone(), resource);
    }

    /// Resolves a `KmsKeyId`/`KeyId` reference: key ARN, key id, alias name or alias ARN.
    pub(in crate::graph) fn resolve_key(
        &self,
        reference: Option<&str>,
        account: &str,
        region: &str,
        aws_alias: &str,
    ) -> KeyRef {
        let Some(reference) = reference.filter(|r| !r.is_empty()) else {
            return KeyRef::AwsManaged;
        };
        let (acct, reg, local) = match Arn::parse(reference) {
            Ok(arn) if arn.service == "kms" => (
                arn.account.clone(),
                arn.region.clone(),
                arn.resource.clone(),
            ),
            _ => (
                account.to_string(),
                region.to_string(),
                reference.to_string(),
            ),
        };
        if let Some(alias) = local.strip_prefix("alias/") {
            if alias == aws_alias || alias.starts_with("aws/") {
                return match self.aliases.get(&(acct, reg, local.clone())) {
                    Some(arn) => KeyRef::Key(arn.clone()),
                    None => KeyRef::AwsManaged,
                };
            }
            return match self.aliases.get(&(acct, reg, local.clone())) {
                Some(arn) => KeyRef::Key(arn.clone()),
                None => KeyRef::Unresolved(reference.to_string()),
            };
        }
        let id = local.strip_prefix("key/").unwrap_or(&local).to_string();
        match self
            .keys_by_id
            .get(&(acct.clone(), reg.clone(), id.clone()))
        {
            Some(arn) => KeyRef::Key(arn.clone()),
            None if reference.starts_with("arn:") => KeyRef::Unresolved(reference.to_string()),
            None => KeyRef::Unresolved(format!("arn:aws:kms:{reg}:{acct}:key/{id}")),
        }
    }

    /// Says which parts of the snapshot were not collected, and what collection could not read,
    /// because answers that depend on them may be incomplete (SNAPSHOT-V1 §1).
    pub(in crate::graph) fn note_missing_parts(&mut self) {
        let inventory = self.inventory;
        for a in &inventory.accounts {
            if a.iam.is_none() {
                self.diagnostics.push(Diagnostic::warning(
                    "not-collected",
                    a.id.clone(),
                    "IAM was not collected for this account: its roles and users, and every path through them, are unknown",
                ));
            }
            let mut missing: Vec<String> = Vec::new();
            if a.s3_buckets.is_none() {
                missing.push("s3_buckets".to_string());
            }
            for (name, r) in &a.regions {
                let parts = [
                    ("ecs", r.ecs.is_none()),
                    ("secrets", r.secrets.is_none()),
                    ("ssm_parameters", r.ssm_parameters.is_none()),
                    ("kms_keys", r.kms_keys.is_none()),
                    ("ecr_repositories", r.ecr_repositories.is_none()),
                    ("log_groups", r.log_groups.is_none()),
                ];
                missing.extend(
                    parts
                        .iter()
                        .filter(|(_, m)| *m)
                        .map(|(p, _)| format!("{name}.{p}")),
                );
            }
            let unread = a
                .s3_buckets
                .iter()
                .flatten()
                .filter(|b| b.public_grants.is_none() || b.public_access_block.is_none())
                .count();
            let buckets = a.s3_buckets.as_ref().map_or(0, Vec::len);
            if unread > 0 || (buckets > 0 && a.s3_public_access_block.is_none()) {
                self.diagnostics.push(Diagnostic::warning(
                    "public-access-unknown",
                    a.id.clone(),
                    format!(
                        "the S3 Block Public Access settings of the account{} were not collected: public access through bucket ACLs is unknown, and RestrictPublicBuckets is not applied",
                        if unread > 0 {
                            format!(", or the ACL or settings of {unread} bucket(s),")
                        } else {
                            String::new()
                        }
                    ),
                ));
            }
            if !missing.is_empty() {
                self.diagnostics.push(Diagnostic::info(
                    "not-collected",
                    a.id.clone(),
                    format!(
                        "not collected, so resources there are unknown: {}",
                        missing.join(", ")
                    ),
                ));
            }
        }
        // Gaps, grouped by where they happened and what failed.
        let mut groups: BTreeMap<(String, String, String), (usize, String)> = BTreeMap::new();
        for g in &inventory.gaps {
            let key = (
                [g.account.as_deref(), g.region.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("/"),
                g.service.clone().unwrap_or_default(),
                g.operation.clone().unwrap_or_default(),
            );
            let entry = groups
                .entry(key)
                .or_insert((0, g.error.clone().unwrap_or_default()));
            entry.0 += 1;
        }
        for ((place, service, operation), (count, error)) in groups {
            let times = if count == 1 {
                String::new()
            } else {
                format!(" ({count} times)")
            };
            self.diagnostics.push(Diagnostic::warning(
                "collection-gap",
                if place.is_empty() { "(snapshot)".to_string() } else { place },
                format!("collection could not read {service} {operation}{times}: {error}; answers that depend on it may be incomplete"),
            ));
        }
    }

    /// Finds a resource node for a reference a task definition or policy makes, resolving partial
    /// secret ARNs (without the random suffix) and SSM names.
    pub fn lookup_secret(&self, arn: &str) -> Result<Option<&ResourceInfo<'a>>, Vec<String>> {
        if let Some(r) = self.resources.get(arn) {
            return Ok(Some(r));
        }
        // A partial ARN resolves only when it names exactly one secret (R4.4).
        let prefix = format!("{arn}-");
        let matches: Vec<&ResourceInfo<'a>> = self
            .resources
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, v)| v)
            .filter(|r| r.kind == NodeKind::Secret && r.id.len() == prefix.len() + 6)
            .collect();
        match matches.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            many => Err(many.iter().map(|r| r.id.clone()).collect()),
        }
    }

    /// True when the snapshot holds the list of resources of this kind for that account and
    /// region, so a resource missing from it does not exist.
    pub fn collected(&self, kind: NodeKind, account: &str, region: &str) -> bool {
        let Some(a) = self.accounts.get(account) else {
            return false;
        };
        if kind == NodeKind::S3Bucket {
            return a.s3_buckets.is_some();
        }
        let Some(r) = a.regions.get(region) else {
            return false;
        };
        match kind {
            NodeKind::Secret => r.secrets.is_some(),
            NodeKind::SsmParameter => r.ssm_parameters.is_some(),
            NodeKind::KmsKey => r.kms_keys.is_some(),
            NodeKind::EcrRepository => r.ecr_repositories.is_some(),
            NodeKind::LogGroup => r.log_groups.is_some(),
            _ => false,
        }
    }

    /// A placeholder for a resource that is named but not in the snapshot.
    pub fn placeholder(&self, id: &str) -> Option<ResourceInfo<'a>> {
        let arn = Arn::parse(id).ok()?;
        let (kind, label) = match (arn.service.as_str(), arn.resource_type()) {
            ("secretsmanager", "secret") => (NodeKind::Secret, arn.resource_name().to_string()),
            ("ssm", "parameter") => (NodeKind::SsmParameter, format!("/{}", arn.resource_name())),
            ("kms", "key") => (NodeKind::KmsKey, arn.resource.clone()),
            ("ecr", "repository") => (NodeKind::EcrRepository, arn.resource_name().to_string()),
            ("s3", _) if !arn.resource.contains('/') => (NodeKind::S3Bucket, arn.resource.clone()),
            ("logs", "log-group") => (NodeKind::LogGroup, arn.resource_name().to_string()),
            _ => return None,
        };
        if arn.resource.contains(['*', '?'])
            || (kind != NodeKind::S3Bucket && arn.account.is_empty())
        {
            return None;
        }
        let encryption_key = match kind {
            NodeKind::Secret => Some(KeyRef::Unknown),
            _ => None,
        };
        Some(ResourceInfo {
            id: id.to_string(),
            kind,
            account: arn.account.clone(),
            region: arn.region.clone(),
            partition: arn.partition.clone(),
            label,
            policy: None,
            in_snapshot: false,
            tags: None,
            encryption_key,
            aws_managed_key: false,
            bucket: None,
            acl: None,
            repository: None,
        })
    }
}
