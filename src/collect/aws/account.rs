//! Reading one account: its identity, IAM, S3 buckets and Block Public Access, and per region
//! ECS, Secrets Manager, SSM, KMS, ECR, CloudWatch Logs and EC2. Each SDK value is mapped field by
//! field into the snapshot's shapes.

use std::collections::{BTreeMap, BTreeSet};

use aws_config::Region;
use aws_config::SdkConfig;
use futures_util::FutureExt;
use futures_util::future::{join, join_all, join3, join5};

use super::decode::{last_segment, policy_document};
use super::ops::{self, Op};
use super::{CollectOptions, Ctx, Scope, Target};
use crate::collect::snapshot::{
    AccountDto, AliasDto, AttachedDto, BoundaryDto, BucketAclDto, BucketDto, BucketEncryptionDto,
    CapacityProviderItemDto, ClusterDto, ContainerDto, ContainerInstanceDto, Document,
    Ec2InstanceDto, EcrRepositoryDto, EcsDto, EncryptionRuleDto, GrantDto, GranteeDto, GroupDto,
    IamDto, IamInstanceProfileDto, InstanceProfileDto, KeyMetadataDto, KmsKeyDto, KmsTagDto,
    Lenient, LogConfigurationDto, LogGroupDto, ManagedPolicyDto, NamedPolicyDto, PolicyVersionDto,
    PublicAccessBlockDto, RegionDto, RepositoryCredentialsDto, RoleDto, SecretDto, SecretRefDto,
    ServiceDto, SseDefaultDto, SsmParameterDto, TagDto, TaskDefinitionDto, TaskDto,
    TaskOverridesDto, UserDto,
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
    let units = 2 + 7 * target.regions.len() as u64;
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
        // S3 Control is global, but its calls are sent to a region.
        let control = s3control_client(
            &target.config,
            target.regions.first().map(String::as_str),
            endpoint_set,
        );
        let out = join(
            buckets(global, &target.config, endpoint_set),
            account_public_access_block(global, &control),
        )
        .await;
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
    let (iam, (s3_buckets, s3_public_access_block), regions) =
        join3(iam_fut, s3_fut, regions_fut).await;
    Some(AccountDto {
        s3_public_access_block,
        id: id.clone(),
        name: target.name.clone(),
        partition: (partition != "aws").then_some(partition),
        iam,
        regions: regions.into_iter().collect(),
        s3_buckets,
    })
}

/// A policy document, decoded; one that is not JSON is a gap.
fn document(scope: Scope<'_, '_>, op: Op, resource: &str, raw: Option<&str>) -> Option<Document> {
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
    decoded.map(Document::from)
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
                instance_profile_list: r
                    .instance_profile_list()
                    .iter()
                    .filter(|p| !p.arn().is_empty())
                    .map(|p| InstanceProfileDto {
                        arn: p.arn().to_string(),
                        instance_profile_name: Some(p.instance_profile_name().to_string())
                            .filter(|n| !n.is_empty()),
                    })
                    .collect(),
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

/// S3 buckets: the list is global; each bucket's location, and in its region its policy, Block
/// Public Access settings, ACL, default encryption and tags.
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
            // A bucket's settings must be read in its own region.
            let regional = s3_client(config, region.as_deref(), path_style);
            let policy = async {
                scope
                    .call_or_absent(
                        ops::GET_BUCKET_POLICY,
                        Some(&name),
                        &["NoSuchBucketPolicy"],
                        regional.get_bucket_policy().bucket(&name).send(),
                    )
                    .await
                    .ok()
                    .flatten()
                    .and_then(|p| document(scope, ops::GET_BUCKET_POLICY, &name, p.policy()))
            };
            let (policy, public_access_block, acl, encryption, tags) = join5(
                policy,
                bucket_public_access_block(scope, &regional, &name),
                bucket_acl(scope, &regional, &name),
                bucket_encryption(scope, &regional, &name),
                bucket_tags(scope, &regional, &name),
            )
            .await;
            BucketDto {
                public_access_block,
                acl,
                encryption,
                tags,
                name,
                region,
                policy,
            }
        }
    });
    Some(join_all(reads).await)
}

/// The error code of GetPublicAccessBlock, of S3 and of S3 Control, when no settings are made.
const NO_PUBLIC_ACCESS_BLOCK: &str = "NoSuchPublicAccessBlockConfiguration";

/// Block Public Access flags as S3 and S3 Control return them; a flag left out is off.
fn access_block(flags: [Option<bool>; 4]) -> PublicAccessBlockDto {
    let [
        block_public_acls,
        ignore_public_acls,
        block_public_policy,
        restrict_public_buckets,
    ] = flags.map(|f| f.unwrap_or(false));
    PublicAccessBlockDto {
        block_public_acls,
        ignore_public_acls,
        block_public_policy,
        restrict_public_buckets,
    }
}

/// A bucket's Block Public Access settings; a bucket without any has every flag off.
pub(super) async fn bucket_public_access_block(
    scope: Scope<'_, '_>,
    client: &aws_sdk_s3::Client,
    bucket: &str,
) -> Option<PublicAccessBlockDto> {
    let out = scope
        .call_or_absent(
            ops::GET_PUBLIC_ACCESS_BLOCK,
            Some(bucket),
            &[NO_PUBLIC_ACCESS_BLOCK],
            client.get_public_access_block().bucket(bucket).send(),
        )
        .await
        .ok()?;
    let flags = out
        .as_ref()
        .and_then(|o| o.public_access_block_configuration())
        .map(|c| {
            [
                c.block_public_acls(),
                c.ignore_public_acls(),
                c.block_public_policy(),
                c.restrict_public_buckets(),
            ]
        });
    Some(access_block(flags.unwrap_or_default()))
}

/// A bucket's ACL: each grant's grantee (type, URI, canonical id) and permission.
pub(super) async fn bucket_acl(
    scope: Scope<'_, '_>,
    client: &aws_sdk_s3::Client,
    bucket: &str,
) -> Option<BucketAclDto> {
    let out = scope
        .call(
            ops::GET_BUCKET_ACL,
            Some(bucket),
            client.get_bucket_acl().bucket(bucket).send(),
        )
        .await?;
    let grants = out
        .grants()
        .iter()
        .map(|g| GrantDto {
            grantee: g.grantee().map(|e| GranteeDto {
                kind: Some(e.r#type().as_str().to_string()).filter(|k| !k.is_empty()),
                uri: e.uri().map(str::to_string),
                id: e.id().map(str::to_string),
            }),
            permission: g.permission().map(|p| p.as_str().to_string()),
        })
        .collect();
    Some(BucketAclDto { grants })
}

/// A bucket's default encryption rules; a bucket without a configuration has none.
pub(super) async fn bucket_encryption(
    scope: Scope<'_, '_>,
    client: &aws_sdk_s3::Client,
    bucket: &str,
) -> Option<BucketEncryptionDto> {
    let out = scope
        .call_or_absent(
            ops::GET_BUCKET_ENCRYPTION,
            Some(bucket),
            &["ServerSideEncryptionConfigurationNotFoundError"],
            client.get_bucket_encryption().bucket(bucket).send(),
        )
        .await
        .ok()?;
    let rules = out
        .iter()
        .filter_map(|o| o.server_side_encryption_configuration())
        .flat_map(|c| c.rules())
        .map(|r| EncryptionRuleDto {
            apply_server_side_encryption_by_default: r
                .apply_server_side_encryption_by_default()
                .map(|d| SseDefaultDto {
                    sse_algorithm: Some(d.sse_algorithm().as_str().to_string())
                        .filter(|a| !a.is_empty()),
                    kms_master_key_id: d.kms_master_key_id().map(str::to_string),
                }),
        })
        .collect();
    Some(BucketEncryptionDto { rules })
}

/// A bucket's tags; a bucket without a tag set has none.
pub(super) async fn bucket_tags(
    scope: Scope<'_, '_>,
    client: &aws_sdk_s3::Client,
    bucket: &str,
) -> Option<Vec<TagDto>> {
    let out = scope
        .call_or_absent(
            ops::GET_BUCKET_TAGGING,
            Some(bucket),
            &["NoSuchTagSet"],
            client.get_bucket_tagging().bucket(bucket).send(),
        )
        .await
        .ok()?;
    Some(
        out.iter()
            .flat_map(|o| o.tag_set())
            .map(|t| TagDto {
                key: t.key().to_string(),
                value: t.value().to_string(),
            })
            .collect(),
    )
}

/// The account's S3 Block Public Access settings (S3 Control); an account without any has every
/// flag off.
pub(super) async fn account_public_access_block(
    scope: Scope<'_, '_>,
    client: &aws_sdk_s3control::Client,
) -> Option<PublicAccessBlockDto> {
    let out = scope
        .call_or_absent(
            ops::GET_ACCOUNT_PUBLIC_ACCESS_BLOCK,
            None,
            &[NO_PUBLIC_ACCESS_BLOCK],
            client
                .get_public_access_block()
                .account_id(scope.account)
                .send(),
        )
        .await
        .ok()?;
    let flags = out
        .as_ref()
        .and_then(|o| o.public_access_block_configuration())
        .map(|c| {
            [
                c.block_public_acls(),
                c.ignore_public_acls(),
                c.block_public_policy(),
                c.restrict_public_buckets(),
            ]
        });
    Some(access_block(flags.unwrap_or_default()))
}

/// An S3 Control client in `region`. S3 Control puts the account id in the host name
/// (`<account>.s3-control.<region>.amazonaws.com`); an emulator behind an endpoint override
/// serves one bare host, so there the host is left as given, as path-style addressing does for
/// bucket names (the account id still goes in the `x-amz-account-id` header).
fn s3control_client(
    config: &SdkConfig,
    region: Option<&str>,
    endpoint_set: bool,
) -> aws_sdk_s3control::Client {
    let mut builder = aws_sdk_s3control::config::Builder::from(config);
    if let Some(r) = region {
        builder = builder.region(Region::new(r.to_string()));
    }
    if endpoint_set {
        builder = builder.endpoint_resolver(BareHost(
            aws_sdk_s3control::config::endpoint::DefaultResolver::new(),
        ));
    }
    aws_sdk_s3control::Client::from_conf(builder.build())
}

/// S3 Control's own endpoint rules, resolved as if no account id went in the host name. (The
/// resolver must come from `DefaultResolver::new`: its `Default` knows no partition.)
#[derive(Debug)]
struct BareHost(aws_sdk_s3control::config::endpoint::DefaultResolver);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for BareHost {
    fn resolve_endpoint<'a>(
        &'a self,
        params: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        use aws_sdk_s3control::config::endpoint::{EndpointFuture, Params, ResolveEndpoint};
        let bare = Params::builder()
            .set_region(params.region().map(str::to_string))
            .set_use_fips(params.use_fips())
            .set_use_dual_stack(params.use_dual_stack())
            .set_endpoint(params.endpoint().map(str::to_string))
            .set_account_id(params.account_id().map(str::to_string))
            .requires_account_id(false)
            .build();
        let resolved = match bare {
            // The default resolver answers at once; its future borrows the local parameters,
            // so it is taken now.
            Ok(bare) => ResolveEndpoint::resolve_endpoint(&self.0, &bare)
                .now_or_never()
                .unwrap_or_else(|| Err("the S3 Control endpoint rules did not answer".into())),
            Err(e) => Err(e.into()),
        };
        EndpointFuture::ready(resolved)
    }
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
        let out = log_groups(
            scope,
            &regional!(aws_sdk_cloudwatchlogs, config, region),
            partition,
        )
        .await;
        done("logs");
        out
    };
    let ec2_fut = async {
        let out = ec2_instances(scope, &regional!(aws_sdk_ec2, config, region)).await;
        done("ec2");
        out
    };
    let ((ecs, secrets, ssm_parameters), (kms_keys, ecr_repositories, log_groups), ec2_instances) =
        join3(
            join3(ecs_fut, secrets_fut, ssm_fut),
            join3(kms_fut, ecr_fut, logs_fut),
            ec2_fut,
        )
        .await;
    RegionDto {
        ec2_instances,
        ecs,
        secrets,
        ssm_parameters,
        kms_keys,
        ecr_repositories,
        log_groups,
    }
}

/// ECS: clusters, their services, running tasks and container instances, and the task definitions
/// they use (or every ACTIVE one with `--all-task-definitions`).
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
        join3(
            services(scope, client, cluster),
            tasks(scope, client, cluster),
            container_instances(scope, client, cluster),
        )
    }))
    .await;
    let mut services_out = Some(Vec::new());
    let mut tasks_out = Some(Vec::new());
    let mut instances_out = Some(Vec::new());
    for (s, t, i) in per_cluster {
        merge_partial(&mut services_out, s);
        merge_partial(&mut tasks_out, t);
        merge_partial(&mut instances_out, i);
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
        container_instances: instances_out,
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
                capacity_provider_strategy: s
                    .capacity_provider_strategy()
                    .iter()
                    .map(|c| CapacityProviderItemDto {
                        capacity_provider: c.capacity_provider().to_string(),
                    })
                    .collect(),
                service_arn: arn.to_string(),
                service_name: s.service_name().map(str::to_string),
                cluster_arn: s.cluster_arn().map(str::to_string),
                task_definition: s.task_definition().map(str::to_string),
                launch_type: s.launch_type().map(|l| l.as_str().to_string()),
                enable_execute_command: Some(s.enable_execute_command()),
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
                launch_type: t.launch_type().map(|l| l.as_str().to_string()),
                container_instance_arn: t.container_instance_arn().map(str::to_string),
                task_arn: arn.to_string(),
                cluster_arn: t.cluster_arn().map(str::to_string),
                task_definition_arn: definition.to_string(),
                group: t.group().map(str::to_string),
                overrides: t.overrides().map(|o| TaskOverridesDto {
                    task_role_arn: o.task_role_arn().map(str::to_string),
                    execution_role_arn: o.execution_role_arn().map(str::to_string),
                }),
                enable_execute_command: Some(t.enable_execute_command()),
            });
        }
    }
    Some(out)
}

/// A cluster's container instances (EC2 capacity), each with the cluster it was listed in: the
/// API's item names none, and an ARN of the short form does not either.
async fn container_instances(
    scope: Scope<'_, '_>,
    client: &aws_sdk_ecs::Client,
    cluster: &str,
) -> Option<Vec<ContainerInstanceDto>> {
    let pages = scope
        .pages(
            ops::LIST_CONTAINER_INSTANCES,
            Some(cluster),
            client
                .list_container_instances()
                .cluster(cluster)
                .into_paginator()
                .send(),
        )
        .await?;
    let arns: Vec<String> = pages
        .iter()
        .flat_map(|p| p.container_instance_arns().iter().cloned())
        .collect();
    let mut out = Vec::new();
    for chunk in arns.chunks(100) {
        let described = scope
            .call(
                ops::DESCRIBE_CONTAINER_INSTANCES,
                Some(cluster),
                client
                    .describe_container_instances()
                    .cluster(cluster)
                    .set_container_instances(Some(chunk.to_vec()))
                    .send(),
            )
            .await;
        for c in described.iter().flat_map(|d| d.container_instances()) {
            let Some(arn) = c.container_instance_arn() else {
                continue;
            };
            out.push(ContainerInstanceDto {
                container_instance_arn: arn.to_string(),
                cluster_arn: Some(cluster.to_string()),
                ec2_instance_id: c.ec2_instance_id().map(str::to_string),
                // No API returns the agent's configuration.
                agent_settings: None,
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
        network_mode: t.network_mode().map(|m| m.as_str().to_string()),
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

/// SSM parameters and each one's tags; an ARN the API leaves out is derived from the name and
/// region.
pub(super) async fn parameters(
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
    let reads = pages.iter().flat_map(|p| p.parameters()).filter_map(|p| {
        let name = p.name()?.to_string();
        Some(async move {
            let arn = p.arn().map_or_else(
                || ssm_parameter_arn(partition, region, scope.account, &name),
                str::to_string,
            );
            let tags = scope
                .call(
                    ops::SSM_LIST_TAGS_FOR_RESOURCE,
                    Some(&arn),
                    client
                        .list_tags_for_resource()
                        .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
                        .resource_id(&name)
                        .send(),
                )
                .await
                .map(|o| {
                    o.tag_list()
                        .iter()
                        .map(|t| TagDto {
                            key: t.key().to_string(),
                            value: t.value().to_string(),
                        })
                        .collect()
                });
            SsmParameterDto {
                tags,
                arn: Some(arn),
                parameter_type: p.r#type().map(|t| t.as_str().to_string()),
                key_id: p.key_id().map(str::to_string),
                name,
            }
        })
    });
    Some(join_all(reads).await)
}

/// KMS keys: metadata, key policy, aliases and tags.
pub(super) async fn keys(
    scope: Scope<'_, '_>,
    client: &aws_sdk_kms::Client,
) -> Option<Vec<KmsKeyDto>> {
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
        let (described, policy, tags) = join3(
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
            scope.pages(
                ops::LIST_RESOURCE_TAGS,
                Some(&id),
                client
                    .list_resource_tags()
                    .key_id(&id)
                    .into_paginator()
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
            // Tags that could not be read are a gap, and none here.
            tags: tags
                .iter()
                .flatten()
                .flat_map(|p| p.tags())
                .map(|t| KmsTagDto {
                    key: t.tag_key().to_string(),
                    value: t.tag_value().to_string(),
                })
                .collect(),
        })
    });
    Some(join_all(reads).await.into_iter().flatten().collect())
}

/// ECR repositories and each one's policy and tags.
pub(super) async fn repositories(
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
            let policy = async {
                scope
                    .call_or_absent(
                        ops::GET_REPOSITORY_POLICY,
                        Some(&arn),
                        &["RepositoryPolicyNotFoundException"],
                        client.get_repository_policy().repository_name(&name).send(),
                    )
                    .await
                    .ok()
                    .flatten()
                    .and_then(|p| {
                        document(scope, ops::GET_REPOSITORY_POLICY, &arn, p.policy_text())
                    })
            };
            let tags = async {
                scope
                    .call(
                        ops::ECR_LIST_TAGS_FOR_RESOURCE,
                        Some(&arn),
                        client.list_tags_for_resource().resource_arn(&arn).send(),
                    )
                    .await
                    .map(|o| {
                        o.tags()
                            .iter()
                            .map(|t| TagDto {
                                key: t.key().to_string(),
                                value: t.value().to_string(),
                            })
                            .collect()
                    })
            };
            let (policy, tags) = join(policy, tags).await;
            EcrRepositoryDto {
                tags,
                repository_arn: arn,
                repository_name: Some(name),
                repository_uri: r.repository_uri().map(str::to_string),
                image_tag_mutability: r.image_tag_mutability().map(|m| m.as_str().to_string()),
                policy_text: policy,
            }
        })
    });
    Some(join_all(reads).await)
}

/// CloudWatch Logs log groups and each one's tags.
pub(super) async fn log_groups(
    scope: Scope<'_, '_>,
    client: &aws_sdk_cloudwatchlogs::Client,
    partition: &str,
) -> Option<Vec<LogGroupDto>> {
    let pages = scope
        .pages(
            ops::DESCRIBE_LOG_GROUPS,
            None,
            client.describe_log_groups().into_paginator().send(),
        )
        .await?;
    let region = scope.region.unwrap_or_default();
    let reads = pages.iter().flat_map(|p| p.log_groups()).filter_map(|g| {
        let name = g.log_group_name()?.to_string();
        Some(async move {
            // Tags are read by the group's ARN without the `:*` that `arn` ends with.
            let tagged = g
                .log_group_arn()
                .or_else(|| g.arn().map(|a| a.strip_suffix(":*").unwrap_or(a)))
                .map_or_else(
                    || {
                        format!(
                            "arn:{partition}:logs:{region}:{}:log-group:{name}",
                            scope.account
                        )
                    },
                    str::to_string,
                );
            let tags = scope
                .call(
                    ops::LOGS_LIST_TAGS_FOR_RESOURCE,
                    Some(&tagged),
                    client.list_tags_for_resource().resource_arn(&tagged).send(),
                )
                .await
                .map(|o| {
                    o.tags()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                });
            LogGroupDto {
                tags,
                log_group_name: name,
                arn: g.arn().map(str::to_string),
            }
        })
    });
    Some(join_all(reads).await)
}

/// EC2 instances, each with the instance profile it runs with.
pub(super) async fn ec2_instances(
    scope: Scope<'_, '_>,
    client: &aws_sdk_ec2::Client,
) -> Option<Vec<Ec2InstanceDto>> {
    let pages = scope
        .pages(
            ops::DESCRIBE_INSTANCES,
            None,
            client.describe_instances().into_paginator().send(),
        )
        .await?;
    Some(
        pages
            .iter()
            .flat_map(|p| p.reservations())
            .flat_map(|r| r.instances())
            .filter_map(|i| {
                Some(Ec2InstanceDto {
                    instance_id: i.instance_id()?.to_string(),
                    iam_instance_profile: i.iam_instance_profile().and_then(|p| {
                        Some(IamInstanceProfileDto {
                            arn: p.arn()?.to_string(),
                        })
                    }),
                })
            })
            .collect(),
    )
}
