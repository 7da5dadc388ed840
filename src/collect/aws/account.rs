//! Reading one account: its identity, IAM, S3 buckets, and per region ECS, Secrets Manager, SSM,
//! KMS, ECR and CloudWatch Logs. Each SDK value is mapped field by field into the snapshot's
//! shapes.

use std::collections::{BTreeMap, BTreeSet};

use aws_config::Region;
use aws_config::SdkConfig;
use futures_util::future::{join, join_all, join3};
use serde_json::Value;

use super::decode::{last_segment, policy_document};
use super::ops::{self, Op};
use super::{CollectOptions, Ctx, Scope, Target};
use crate::collect::snapshot::{
    AccountDto, AliasDto, AttachedDto, BoundaryDto, BucketDto, ClusterDto, ContainerDto,
    EcrRepositoryDto, EcsDto, GroupDto, IamDto, KeyMetadataDto, KmsKeyDto, Lenient,
    LogConfigurationDto, LogGroupDto, ManagedPolicyDto, NamedPolicyDto, PolicyVersionDto,
    RegionDto, RepositoryCredentialsDto, RoleDto, SecretDto, SecretRefDto, ServiceDto,
    SsmParameterDto, TagDto, TaskDefinitionDto, TaskDto, TaskOverridesDto, UserDto,
};
use crate::model::arn::ssm_parameter_arn;

/// Reads one account; `None` when even its identity cannot be read (a gap says why).
pub(super) async fn account(
    ctx: &Ctx<'_>,
    target: &Target,
    options: &CollectOptions,
) -> Option<AccountDto> {
    let label = target.id.clone().unwrap_or_else(|| target.label.clone());
    let (id, partition) = super::caller_identity(ctx, &target.config, &label).await?;
    let units = 2 + 6 * target.regions.len() as u64;
    ctx.observer.planned(units);
    let global = Scope {
        ctx,
        account: &id,
        region: None,
    };
    let endpoint_set = target.config.endpoint_url().is_some();
    let iam_fut = async {
        let out = iam(global, &aws_sdk_iam::Client::new(&target.config)).await;
        ctx.observer.finished(&format!("{id} iam"));
        out
    };
    let s3_fut = async {
        let out = buckets(global, &target.config, endpoint_set).await;
        ctx.observer.finished(&format!("{id} s3"));
        out
    };
    let regions_fut = join_all(target.regions.iter().map(|r| {
        let scope = Scope {
            ctx,
            account: &id,
            region: Some(r.as_str()),
        };
        let partition = partition.as_str();
        async move {
            (
                r.clone(),
                region(scope, &target.config, partition, options).await,
            )
        }
    }));
    let (iam, s3_buckets, regions) = join3(iam_fut, s3_fut, regions_fut).await;
    Some(AccountDto {
        id: id.clone(),
        name: target.name.clone(),
        partition: (partition != "aws").then_some(partition),
        iam,
        regions: regions.into_iter().collect(),
        s3_buckets,
    })
}

/// A policy document, decoded; one that is not JSON is a gap.
fn document(scope: Scope<'_, '_>, op: Op, resource: &str, raw: Option<&str>) -> Option<Value> {
    let raw = raw?;
    if raw.trim().is_empty() {
        return None;
    }
    let decoded = policy_document(raw);
    if decoded.is_none() {
        scope.gap(
            op,
            Some(resource),
            "the policy document is not JSON, nor URL-encoded JSON".to_string(),
        );
    }
    decoded
}

fn named_policies<'a>(
    scope: Scope<'_, '_>,
    owner: &str,
    list: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> Vec<NamedPolicyDto> {
    list.filter_map(|(name, doc)| {
        let name = name?.to_string();
        let document = document(scope, ops::GAAD, &format!("{owner}#{name}"), doc)?;
        Some(NamedPolicyDto {
            policy_name: name,
            policy_document: document,
        })
    })
    .collect()
}

fn attached(list: &[aws_sdk_iam::types::AttachedPolicy]) -> Vec<AttachedDto> {
    list.iter()
        .filter_map(|p| {
            Some(AttachedDto {
                policy_arn: p.policy_arn()?.to_string(),
            })
        })
        .collect()
}

fn boundary(b: Option<&aws_sdk_iam::types::AttachedPermissionsBoundary>) -> Option<BoundaryDto> {
    b.map(|b| BoundaryDto {
        permissions_boundary_arn: b.permissions_boundary_arn().map(str::to_string),
    })
}

fn iam_tags(list: &[aws_sdk_iam::types::Tag]) -> Vec<TagDto> {
    list.iter()
        .map(|t| TagDto {
            key: t.key().to_string(),
            value: t.value().to_string(),
        })
        .collect()
}

/// IAM through GetAccountAuthorizationDetails, every page.
pub(super) async fn iam(scope: Scope<'_, '_>, client: &aws_sdk_iam::Client) -> Option<IamDto> {
    let pages = scope
        .pages(
            ops::GAAD,
            None,
            client
                .get_account_authorization_details()
                .into_paginator()
                .send(),
        )
        .await?;
    let mut out = IamDto {
        user_detail_list: Vec::new(),
        group_detail_list: Vec::new(),
        role_detail_list: Vec::new(),
        policies: Vec::new(),
    };
    for page in pages {
        for r in page.role_detail_list() {
            let Some(arn) = r.arn() else { continue };
            out.role_detail_list.push(RoleDto {
                arn: arn.to_string(),
                role_name: r.role_name().map(str::to_string),
                path: r.path().map(str::to_string),
                role_id: r.role_id().map(str::to_string),
                assume_role_policy_document: document(
                    scope,
                    ops::GAAD,
                    arn,
                    r.assume_role_policy_document(),
                ),
                role_policy_list: named_policies(
                    scope,
                    arn,
                    r.role_policy_list()
                        .iter()
                        .map(|p| (p.policy_name(), p.policy_document())),
                ),
                attached_managed_policies: attached(r.attached_managed_policies()),
                permissions_boundary: boundary(r.permissions_boundary()),
                tags: iam_tags(r.tags()),
            });
        }
        for u in page.user_detail_list() {
            let Some(arn) = u.arn() else { continue };
            out.user_detail_list.push(UserDto {
                arn: arn.to_string(),
                user_name: u.user_name().map(str::to_string),
                user_id: u.user_id().map(str::to_string),
                user_policy_list: named_policies(
                    scope,
                    arn,
                    u.user_policy_list()
                        .iter()
                        .map(|p| (p.policy_name(), p.policy_document())),
                ),
                group_list: u.group_list().to_vec(),
                attached_managed_policies: attached(u.attached_managed_policies()),
                permissions_boundary: boundary(u.permissions_boundary()),
                tags: iam_tags(u.tags()),
            });
        }
        for g in page.group_detail_list() {
            let Some(arn) = g.arn() else { continue };
            out.group_detail_list.push(GroupDto {
                arn: arn.to_string(),
                group_name: g.group_name().map(str::to_string),
                group_policy_list: named_policies(
                    scope,
                    arn,
                    g.group_policy_list()
                        .iter()
                        .map(|p| (p.policy_name(), p.policy_document())),
                ),
                attached_managed_policies: attached(g.attached_managed_policies()),
            });
        }
        for p in page.policies() {
            let Some(arn) = p.arn() else { continue };
            // Only the default version is analysed, so only it is kept.
            let default = p.policy_version_list().iter().find(|v| {
                v.is_default_version()
                    || (v.version_id().is_some() && v.version_id() == p.default_version_id())
            });
            out.policies.push(ManagedPolicyDto {
                arn: arn.to_string(),
                // Some emulators leave the name out; the ARN always carries it.
                policy_name: Some(
                    p.policy_name()
                        .map_or_else(|| last_segment(arn), str::to_string),
                ),
                default_version_id: p.default_version_id().map(str::to_string),
                policy_version_list: default
                    .map(|v| PolicyVersionDto {
                        document: document(scope, ops::GAAD, arn, v.document()),
                        version_id: v.version_id().map(str::to_string),
                        is_default_version: true,
                    })
                    .into_iter()
                    .collect(),
            });
        }
    }
    Some(out)
}

/// S3 buckets: the list is global; each bucket's location and policy.
async fn buckets(
    scope: Scope<'_, '_>,
    config: &SdkConfig,
    path_style: bool,
) -> Option<Vec<BucketDto>> {
    let client = s3_client(config, None, path_style);
    let pages = scope
        .pages(
            ops::LIST_BUCKETS,
            None,
            client.list_buckets().into_paginator().send(),
        )
        .await?;
    let names: Vec<String> = pages
        .iter()
        .flat_map(|p| p.buckets())
        .filter_map(|b| b.name().map(str::to_string))
        .collect();
    let reads = names.into_iter().map(|name| {
        let client = &client;
        async move {
            let location = scope
                .call(
                    ops::GET_BUCKET_LOCATION,
                    Some(&name),
                    client.get_bucket_location().bucket(&name).send(),
                )
                .await;
            let region = location.map(|l| match l.location_constraint().map(|c| c.as_str()) {
                None | Some("") => "us-east-1".to_string(),
                Some("EU") => "eu-west-1".to_string(),
                Some(other) => other.to_string(),
            });
            // The policy must be read in the bucket's own region.
            let regional = s3_client(config, region.as_deref(), path_style);
            let policy = scope
                .call_or_absent(
                    ops::GET_BUCKET_POLICY,
                    Some(&name),
                    &["NoSuchBucketPolicy"],
                    regional.get_bucket_policy().bucket(&name).send(),
                )
                .await
                .ok()
                .flatten()
                .and_then(|p| document(scope, ops::GET_BUCKET_POLICY, &name, p.policy()));
            BucketDto {
                name,
                region,
                policy,
            }
        }
    });
    Some(join_all(reads).await)
}

fn s3_client(config: &SdkConfig, region: Option<&str>, path_style: bool) -> aws_sdk_s3::Client {
    let mut builder = aws_sdk_s3::config::Builder::from(config);
    if let Some(r) = region {
        builder = builder.region(Region::new(r.to_string()));
    }
    // An emulator on a bare host name cannot serve virtual-hosted bucket addresses.
    if path_style {
        builder = builder.force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}

/// Builds a regional client of one service from the account's configuration.
macro_rules! regional {
    ($krate:ident, $config:expr, $region:expr) => {
        $krate::Client::from_conf(
            $krate::config::Builder::from($config)
                .region(Region::new($region.to_string()))
                .build(),
        )
    };
}

/// Every regional service of one region.
async fn region(
    scope: Scope<'_, '_>,
    config: &SdkConfig,
    partition: &str,
    options: &CollectOptions,
) -> RegionDto {
    let region = scope.region.unwrap_or_default();
    let done = |service: &str| {
        scope
            .ctx
            .observer
            .finished(&format!("{} {region} {service}", scope.account));
    };
    let ecs_fut = async {
        let out = ecs(scope, &regional!(aws_sdk_ecs, config, region), options).await;
        done("ecs");
        out
    };
    let secrets_fut = async {
        let out = secrets(scope, &regional!(aws_sdk_secretsmanager, config, region)).await;
        done("secretsmanager");
        out
    };
    let ssm_fut = async {
        let out = parameters(scope, &regional!(aws_sdk_ssm, config, region), partition).await;
        done("ssm");
        out
    };
    let kms_fut = async {
        let out = keys(scope, &regional!(aws_sdk_kms, config, region)).await;
        done("kms");
        out
    };
    let ecr_fut = async {
        let out = repositories(scope, &regional!(aws_sdk_ecr, config, region)).await;
        done("ecr");
        out
    };
    let logs_fut = async {
        let out = log_groups(scope, &regional!(aws_sdk_cloudwatchlogs, config, region)).await;
        done("logs");
        out
    };
    let ((ecs, secrets, ssm_parameters), (kms_keys, ecr_repositories, log_groups)) = join(
        join3(ecs_fut, secrets_fut, ssm_fut),
        join3(kms_fut, ecr_fut, logs_fut),
    )
    .await;
    RegionDto {
        ecs,
        secrets,
        ssm_parameters,
        kms_keys,
        ecr_repositories,
        log_groups,
    }
}

/// ECS: clusters, their services and running tasks, and the task definitions they use (or every
/// ACTIVE one with `--all-task-definitions`).
pub(super) async fn ecs(
    scope: Scope<'_, '_>,
    client: &aws_sdk_ecs::Client,
    options: &CollectOptions,
) -> Option<EcsDto> {
    let pages = scope
        .pages(
            ops::LIST_CLUSTERS,
            None,
            client.list_clusters().into_paginator().send(),
        )
        .await?;
    let arns: Vec<String> = pages
        .iter()
        .flat_map(|p| p.cluster_arns().iter().cloned())
        .collect();
    let mut clusters = Vec::new();
    for chunk in arns.chunks(100) {
        let out = scope
            .call(
                ops::DESCRIBE_CLUSTERS,
                None,
                client
                    .describe_clusters()
                    .set_clusters(Some(chunk.to_vec()))
                    .send(),
            )
            .await;
        for c in out.iter().flat_map(|o| o.clusters()) {
            let Some(arn) = c.cluster_arn() else { continue };
            clusters.push(ClusterDto {
                cluster_arn: arn.to_string(),
                cluster_name: c.cluster_name().map(str::to_string),
            });
        }
    }
    let per_cluster = join_all(arns.iter().map(|cluster| {
        join(
            services(scope, client, cluster),
            tasks(scope, client, cluster),
        )
    }))
    .await;
    let mut services_out = Some(Vec::new());
    let mut tasks_out = Some(Vec::new());
    for (s, t) in per_cluster {
        merge_partial(&mut services_out, s);
        merge_partial(&mut tasks_out, t);
    }

    let mut wanted: BTreeSet<String> = BTreeSet::new();
    wanted.extend(
        services_out
            .iter()
            .flatten()
            .filter_map(|s| s.task_definition.clone()),
    );
    wanted.extend(
        tasks_out
            .iter()
            .flatten()
            .map(|t| t.task_definition_arn.clone()),
    );
    if options.all_task_definitions {
        if let Some(pages) = scope
            .pages(
                ops::LIST_TASK_DEFINITIONS,
                None,
                client
                    .list_task_definitions()
                    .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
                    .into_paginator()
                    .send(),
            )
            .await
        {
            wanted.extend(
                pages
                    .iter()
                    .flat_map(|p| p.task_definition_arns().iter().cloned()),
            );
        }
    }
    let definitions = join_all(wanted.iter().map(|arn| async move {
        let out = scope
            .call(
                ops::DESCRIBE_TASK_DEFINITION,
                Some(arn),
                client
                    .describe_task_definition()
                    .task_definition(arn)
                    .send(),
            )
            .await?;
        out.task_definition().and_then(task_definition)
    }))
    .await;
    let mut task_definitions: Vec<TaskDefinitionDto> = definitions.into_iter().flatten().collect();
    task_definitions.sort_by(|a, b| a.task_definition_arn.cmp(&b.task_definition_arn));
    task_definitions.dedup_by(|a, b| a.task_definition_arn == b.task_definition_arn);
    Some(EcsDto {
        clusters: Some(clusters),
        services: services_out,
        task_definitions: Some(task_definitions.into_iter().map(Lenient::Read).collect()),
        tasks: tasks_out,
    })
}

/// Adds one cluster's list to the region's; a cluster whose list could not be read leaves what
/// the others gave (its gap is recorded).
fn merge_partial<T>(into: &mut Option<Vec<T>>, part: Option<Vec<T>>) {
    if let (Some(into), Some(part)) = (into.as_mut(), part) {
        into.extend(part);
    }
}

async fn services(
    scope: Scope<'_, '_>,
    client: &aws_sdk_ecs::Client,
    cluster: &str,
) -> Option<Vec<ServiceDto>> {
    let pages = scope
        .pages(
            ops::LIST_SERVICES,
            Some(cluster),
            client
                .list_services()
                .cluster(cluster)
                .into_paginator()
                .send(),
        )
        .await?;
    let arns: Vec<String> = pages
        .iter()
        .flat_map(|p| p.service_arns().iter().cloned())
        .collect();
    let mut out = Vec::new();
    for chunk in arns.chunks(10) {
        let described = scope
            .call(
                ops::DESCRIBE_SERVICES,
                Some(cluster),
                client
                    .describe_services()
                    .cluster(cluster)
                    .set_services(Some(chunk.to_vec()))
                    .send(),
            )
            .await;
        for s in described.iter().flat_map(|d| d.services()) {
            let Some(arn) = s.service_arn() else { continue };
            out.push(ServiceDto {
                service_arn: arn.to_string(),
                service_name: s.service_name().map(str::to_string),
                cluster_arn: s.cluster_arn().map(str::to_string),
                task_definition: s.task_definition().map(str::to_string),
                launch_type: s.launch_type().map(|l| l.as_str().to_string()),
            });
        }
    }
    Some(out)
}

async fn tasks(
    scope: Scope<'_, '_>,
    client: &aws_sdk_ecs::Client,
    cluster: &str,
) -> Option<Vec<TaskDto>> {
    let pages = scope
        .pages(
            ops::LIST_TASKS,
            Some(cluster),
            client.list_tasks().cluster(cluster).into_paginator().send(),
        )
        .await?;
    let arns: Vec<String> = pages
        .iter()
        .flat_map(|p| p.task_arns().iter().cloned())
        .collect();
    let mut out = Vec::new();
    for chunk in arns.chunks(100) {
        let described = scope
            .call(
                ops::DESCRIBE_TASKS,
                Some(cluster),
                client
                    .describe_tasks()
                    .cluster(cluster)
                    .set_tasks(Some(chunk.to_vec()))
                    .send(),
            )
            .await;
        for t in described.iter().flat_map(|d| d.tasks()) {
            let (Some(arn), Some(definition)) = (t.task_arn(), t.task_definition_arn()) else {
                continue;
            };
            out.push(TaskDto {
                task_arn: arn.to_string(),
                cluster_arn: t.cluster_arn().map(str::to_string),
                task_definition_arn: definition.to_string(),
                group: t.group().map(str::to_string),
                overrides: t.overrides().map(|o| TaskOverridesDto {
                    task_role_arn: o.task_role_arn().map(str::to_string),
                    execution_role_arn: o.execution_role_arn().map(str::to_string),
                }),
            });
        }
    }
    Some(out)
}

fn secret_refs(list: &[aws_sdk_ecs::types::Secret]) -> Vec<SecretRefDto> {
    list.iter()
        .map(|s| SecretRefDto {
            name: s.name().to_string(),
            value_from: s.value_from().to_string(),
        })
        .collect()
}

fn task_definition(t: &aws_sdk_ecs::types::TaskDefinition) -> Option<TaskDefinitionDto> {
    Some(TaskDefinitionDto {
        task_definition_arn: t.task_definition_arn()?.to_string(),
        family: t.family().map(str::to_string),
        revision: Some(i64::from(t.revision())),
        task_role_arn: t.task_role_arn().map(str::to_string),
        execution_role_arn: t.execution_role_arn().map(str::to_string),
        requires_compatibilities: t
            .requires_compatibilities()
            .iter()
            .map(|c| c.as_str().to_string())
            .collect(),
        container_definitions: t
            .container_definitions()
            .iter()
            .filter_map(|c| {
                Some(ContainerDto {
                    name: c.name()?.to_string(),
                    image: c.image().map(str::to_string),
                    secrets: secret_refs(c.secrets()),
                    log_configuration: c.log_configuration().map(|l| LogConfigurationDto {
                        log_driver: Some(l.log_driver().as_str().to_string()),
                        options: l
                            .options()
                            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                            .unwrap_or_default(),
                        secret_options: secret_refs(l.secret_options()),
                    }),
                    repository_credentials: c.repository_credentials().map(|r| {
                        RepositoryCredentialsDto {
                            credentials_parameter: r.credentials_parameter().to_string(),
                        }
                    }),
                })
            })
            .collect(),
    })
}

/// Secrets Manager: every secret, and each one's resource policy.
async fn secrets(
    scope: Scope<'_, '_>,
    client: &aws_sdk_secretsmanager::Client,
) -> Option<Vec<SecretDto>> {
    let pages = scope
        .pages(
            ops::LIST_SECRETS,
            None,
            client.list_secrets().into_paginator().send(),
        )
        .await?;
    let entries: Vec<_> = pages.iter().flat_map(|p| p.secret_list()).collect();
    let reads = entries.into_iter().filter_map(|s| {
        let arn = s.arn()?.to_string();
        Some(async move {
            let policy = scope
                .call(
                    ops::GET_RESOURCE_POLICY,
                    Some(&arn),
                    client.get_resource_policy().secret_id(&arn).send(),
                )
                .await
                .and_then(|p| document(scope, ops::GET_RESOURCE_POLICY, &arn, p.resource_policy()));
            SecretDto {
                name: s.name().map(str::to_string),
                kms_key_id: s.kms_key_id().map(str::to_string),
                tags: s
                    .tags()
                    .iter()
                    .filter_map(|t| {
                        Some(TagDto {
                            key: t.key()?.to_string(),
                            value: t.value().unwrap_or_default().to_string(),
                        })
                    })
                    .collect(),
                resource_policy: policy,
                arn,
            }
        })
    });
    Some(join_all(reads).await)
}

/// SSM parameters; an ARN the API leaves out is derived from the name and region.
async fn parameters(
    scope: Scope<'_, '_>,
    client: &aws_sdk_ssm::Client,
    partition: &str,
) -> Option<Vec<SsmParameterDto>> {
    let pages = scope
        .pages(
            ops::DESCRIBE_PARAMETERS,
            None,
            client.describe_parameters().into_paginator().send(),
        )
        .await?;
    let region = scope.region.unwrap_or_default();
    Some(
        pages
            .iter()
            .flat_map(|p| p.parameters())
            .filter_map(|p| {
                let name = p.name()?.to_string();
                Some(SsmParameterDto {
                    arn: Some(p.arn().map_or_else(
                        || ssm_parameter_arn(partition, region, scope.account, &name),
                        str::to_string,
                    )),
                    parameter_type: p.r#type().map(|t| t.as_str().to_string()),
                    key_id: p.key_id().map(str::to_string),
                    name,
                })
            })
            .collect(),
    )
}

/// KMS keys: metadata, key policy and aliases.
async fn keys(scope: Scope<'_, '_>, client: &aws_sdk_kms::Client) -> Option<Vec<KmsKeyDto>> {
    let pages = scope
        .pages(
            ops::LIST_KEYS,
            None,
            client.list_keys().into_paginator().send(),
        )
        .await?;
    let ids: Vec<String> = pages
        .iter()
        .flat_map(|p| p.keys())
        .filter_map(|k| k.key_id().map(str::to_string))
        .collect();
    let mut aliases: BTreeMap<String, Vec<AliasDto>> = BTreeMap::new();
    if let Some(pages) = scope
        .pages(
            ops::LIST_ALIASES,
            None,
            client.list_aliases().into_paginator().send(),
        )
        .await
    {
        for a in pages.iter().flat_map(|p| p.aliases()) {
            if let (Some(key), Some(name)) = (a.target_key_id(), a.alias_name()) {
                aliases.entry(key.to_string()).or_default().push(AliasDto {
                    alias_name: name.to_string(),
                });
            }
        }
    }
    let aliases = &aliases;
    let reads = ids.into_iter().map(|id| async move {
        let (described, policy) = join(
            scope.call(
                ops::DESCRIBE_KEY,
                Some(&id),
                client.describe_key().key_id(&id).send(),
            ),
            // Real AWS defaults the name; some emulators need it.
            scope.call(
                ops::GET_KEY_POLICY,
                Some(&id),
                client
                    .get_key_policy()
                    .key_id(&id)
                    .policy_name("default")
                    .send(),
            ),
        )
        .await;
        let metadata = described?.key_metadata?;
        let arn = metadata.arn()?.to_string();
        Some(KmsKeyDto {
            policy: policy.and_then(|p| document(scope, ops::GET_KEY_POLICY, &arn, p.policy())),
            aliases: aliases.get(metadata.key_id()).cloned().unwrap_or_default(),
            key_metadata: KeyMetadataDto {
                key_id: metadata.key_id().to_string(),
                key_manager: metadata.key_manager().map(|m| m.as_str().to_string()),
                arn,
            },
            tags: Vec::new(),
        })
    });
    Some(join_all(reads).await.into_iter().flatten().collect())
}

/// ECR repositories and each one's policy.
async fn repositories(
    scope: Scope<'_, '_>,
    client: &aws_sdk_ecr::Client,
) -> Option<Vec<EcrRepositoryDto>> {
    let pages = scope
        .pages(
            ops::DESCRIBE_REPOSITORIES,
            None,
            client.describe_repositories().into_paginator().send(),
        )
        .await?;
    let repos: Vec<_> = pages.iter().flat_map(|p| p.repositories()).collect();
    let reads = repos.into_iter().filter_map(|r| {
        let arn = r.repository_arn()?.to_string();
        let name = r.repository_name()?.to_string();
        Some(async move {
            let policy = scope
                .call_or_absent(
                    ops::GET_REPOSITORY_POLICY,
                    Some(&arn),
                    &["RepositoryPolicyNotFoundException"],
                    client.get_repository_policy().repository_name(&name).send(),
                )
                .await
                .ok()
                .flatten()
                .and_then(|p| document(scope, ops::GET_REPOSITORY_POLICY, &arn, p.policy_text()));
            EcrRepositoryDto {
                repository_arn: arn,
                repository_name: Some(name),
                repository_uri: r.repository_uri().map(str::to_string),
                policy_text: policy,
            }
        })
    });
    Some(join_all(reads).await)
}

/// CloudWatch Logs log groups.
async fn log_groups(
    scope: Scope<'_, '_>,
    client: &aws_sdk_cloudwatchlogs::Client,
) -> Option<Vec<LogGroupDto>> {
    let pages = scope
        .pages(
            ops::DESCRIBE_LOG_GROUPS,
            None,
            client.describe_log_groups().into_paginator().send(),
        )
        .await?;
    Some(
        pages
            .iter()
            .flat_map(|p| p.log_groups())
            .filter_map(|g| {
                Some(LogGroupDto {
                    log_group_name: g.log_group_name()?.to_string(),
                    arn: g.arn().map(str::to_string),
                })
            })
            .collect(),
    )
}
