//! Collector tests with stubbed SDK responses (aws-smithy-mocks), for what an emulator cannot
//! produce: several pages of GetAccountAuthorizationDetails, throttling that outlasts the retries,
//! running tasks whose overrides the emulator cannot return in the API's shape, the "not found"
//! answers that mean "collected, none" (no public access block, no encryption configuration, no
//! tag set) against the errors that are gaps, container instances in the short ARN form, and
//! what moto cannot return in the API's shape: a service's capacity providers, a task's launch
//! type and container instance.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_iam::operation::get_account_authorization_details::{
    GetAccountAuthorizationDetailsError, GetAccountAuthorizationDetailsOutput,
};
use aws_sdk_iam::types::{ManagedPolicyDetail, PolicyVersion, RoleDetail};
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock};
use aws_smithy_types::error::ErrorMetadata;

use super::account;
use super::call::{Ctx, Scope};
use super::{CollectOptions, Silent};

/// A client of `$krate` answering from `rules`, with `retry`.
macro_rules! mocked {
    ($krate:ident, $rules:expr, $retry:expr) => {{
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        for rule in $rules {
            interceptor = interceptor.with_rule(rule);
        }
        $krate::Client::from_conf(
            $krate::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .credentials_provider($krate::config::Credentials::new(
                    "AKIDTEST", "secret", None, None, "test",
                ))
                .http_client(create_mock_http_client())
                .interceptor(interceptor)
                .retry_config($retry)
                .build(),
        )
    }};
}

fn run<T>(fut: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(fut)
}

fn role(name: &str) -> RoleDetail {
    RoleDetail::builder()
        .arn(format!("arn:aws:iam::111111111111:role/{name}"))
        .role_name(name)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .build()
}

#[test]
fn gaad_reads_every_page_and_decodes_documents() {
    let first: Rule = mock!(aws_sdk_iam::Client::get_account_authorization_details)
        .match_requests(|r| r.marker().is_none())
        .then_output(|| {
            GetAccountAuthorizationDetailsOutput::builder()
                .role_detail_list(role("a"))
                .is_truncated(true)
                .marker("page-2")
                .build()
        });
    let second: Rule = mock!(aws_sdk_iam::Client::get_account_authorization_details)
        .match_requests(|r| r.marker() == Some("page-2"))
        .then_output(|| {
            GetAccountAuthorizationDetailsOutput::builder()
                .role_detail_list(role("b"))
                // No PolicyName, as some emulators answer; the document URL-encoded, as IAM does.
                .policies(
                    ManagedPolicyDetail::builder()
                        .arn("arn:aws:iam::111111111111:policy/team/read")
                        .default_version_id("v1")
                        .policy_version_list(
                            PolicyVersion::builder()
                                .version_id("v1")
                                .is_default_version(true)
                                .document("%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D")
                                .build(),
                        )
                        .build(),
                )
                .is_truncated(false)
                .build()
        });
    let client = mocked!(aws_sdk_iam, [&first, &second], RetryConfig::disabled());
    let ctx = Ctx::new(4, &Silent);
    let scope = Scope {
        ctx: &ctx,
        account: "111111111111",
        region: None,
    };
    let iam = run(account::iam(scope, &client)).unwrap();
    let names: Vec<_> = iam
        .role_detail_list
        .iter()
        .map(|r| r.role_name.clone().unwrap())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(first.num_calls(), 1);
    assert_eq!(second.num_calls(), 1);
    assert_eq!(ctx.calls(), 2, "each page is one call");
    assert!(
        iam.role_detail_list[0]
            .assume_role_policy_document
            .as_ref()
            .unwrap()
            .to_value()
            .is_object()
    );
    let policy = &iam.policies[0];
    assert_eq!(policy.policy_name.as_deref(), Some("read"));
    assert_eq!(
        policy.policy_version_list[0]
            .document
            .as_ref()
            .unwrap()
            .to_value()["Version"],
        "2012-10-17"
    );
    assert!(ctx.take_gaps().is_empty());
}

fn throttled() -> GetAccountAuthorizationDetailsError {
    GetAccountAuthorizationDetailsError::generic(
        ErrorMetadata::builder()
            .code("Throttling")
            .message("Rate exceeded")
            .build(),
    )
}

#[test]
fn throttling_that_outlasts_the_retries_is_a_gap() {
    let rule: Rule = mock!(aws_sdk_iam::Client::get_account_authorization_details)
        .sequence()
        .error(throttled)
        .times(3)
        .build();
    let retry = RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1));
    let client = mocked!(aws_sdk_iam, [&rule], retry);
    let ctx = Ctx::new(4, &Silent);
    let scope = Scope {
        ctx: &ctx,
        account: "111111111111",
        region: None,
    };
    assert!(run(account::iam(scope, &client)).is_none(), "not collected");
    assert_eq!(
        rule.num_calls(),
        3,
        "the standard retry mode retried throttling"
    );
    let gaps = ctx.take_gaps();
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].account.as_deref(), Some("111111111111"));
    assert_eq!(gaps[0].service.as_deref(), Some("iam"));
    assert_eq!(
        gaps[0].operation.as_deref(),
        Some("GetAccountAuthorizationDetails")
    );
    assert_eq!(gaps[0].error.as_deref(), Some("Throttling: Rate exceeded"));
}

#[test]
fn throttling_within_the_retries_leaves_no_gap() {
    let rule: Rule = mock!(aws_sdk_iam::Client::get_account_authorization_details)
        .sequence()
        .error(throttled)
        .times(2)
        .output(|| {
            GetAccountAuthorizationDetailsOutput::builder()
                .role_detail_list(role("a"))
                .build()
        })
        .build();
    let retry = RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1));
    let client = mocked!(aws_sdk_iam, [&rule], retry);
    let ctx = Ctx::new(4, &Silent);
    let scope = Scope {
        ctx: &ctx,
        account: "111111111111",
        region: None,
    };
    let iam = run(account::iam(scope, &client)).unwrap();
    assert_eq!(iam.role_detail_list.len(), 1);
    assert!(ctx.take_gaps().is_empty());
}

#[test]
fn running_tasks_keep_their_overrides_and_bring_their_task_definitions() {
    use aws_sdk_ecs::operation::{
        describe_clusters::DescribeClustersOutput,
        describe_task_definition::DescribeTaskDefinitionOutput,
        describe_tasks::DescribeTasksOutput, list_clusters::ListClustersOutput,
        list_container_instances::ListContainerInstancesOutput, list_services::ListServicesOutput,
        list_tasks::ListTasksOutput,
    };
    use aws_sdk_ecs::types::{
        Cluster, ContainerDefinition, LaunchType, NetworkMode, Secret, Task, TaskDefinition,
        TaskOverride,
    };
    const CLUSTER: &str = "arn:aws:ecs:us-east-1:111111111111:cluster/prod";
    const TD: &str = "arn:aws:ecs:us-east-1:111111111111:task-definition/web:3";
    let rules: Vec<Rule> = vec![
        mock!(aws_sdk_ecs::Client::list_clusters)
            .then_output(|| ListClustersOutput::builder().cluster_arns(CLUSTER).build()),
        mock!(aws_sdk_ecs::Client::describe_clusters).then_output(|| {
            DescribeClustersOutput::builder()
                .clusters(
                    Cluster::builder()
                        .cluster_arn(CLUSTER)
                        .cluster_name("prod")
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_ecs::Client::list_services)
            .then_output(|| ListServicesOutput::builder().build()),
        mock!(aws_sdk_ecs::Client::list_container_instances)
            .then_output(|| ListContainerInstancesOutput::builder().build()),
        mock!(aws_sdk_ecs::Client::list_tasks).then_output(|| {
            ListTasksOutput::builder()
                .task_arns("arn:aws:ecs:us-east-1:111111111111:task/prod/abc")
                .build()
        }),
        mock!(aws_sdk_ecs::Client::describe_tasks).then_output(|| {
            DescribeTasksOutput::builder()
                .tasks(
                    Task::builder()
                        .task_arn("arn:aws:ecs:us-east-1:111111111111:task/prod/abc")
                        .cluster_arn(CLUSTER)
                        .task_definition_arn(TD)
                        .group("family:web")
                        .launch_type(LaunchType::Ec2)
                        .container_instance_arn(
                            "arn:aws:ecs:us-east-1:111111111111:container-instance/prod/ci",
                        )
                        .overrides(
                            TaskOverride::builder()
                                .task_role_arn("arn:aws:iam::111111111111:role/admin")
                                .build(),
                        )
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_ecs::Client::describe_task_definition)
            .match_requests(|r| r.task_definition() == Some(TD))
            .then_output(|| {
                DescribeTaskDefinitionOutput::builder()
                    .task_definition(
                        TaskDefinition::builder()
                            .task_definition_arn(TD)
                            .family("web")
                            .revision(3)
                            .network_mode(NetworkMode::Bridge)
                            .container_definitions(
                                ContainerDefinition::builder()
                                    .name("app")
                                    .secrets(
                                        Secret::builder()
                                            .name("DB")
                                            .value_from(
                                                "arn:aws:ssm:us-east-1:111111111111:parameter/db",
                                            )
                                            .build()
                                            .unwrap(),
                                    )
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
            }),
    ];
    let client = mocked!(aws_sdk_ecs, &rules, RetryConfig::disabled());
    let ctx = Ctx::new(4, &Silent);
    let scope = Scope {
        ctx: &ctx,
        account: "111111111111",
        region: Some("us-east-1"),
    };
    let ecs = run(account::ecs(scope, &client, &CollectOptions::default())).unwrap();
    let tasks = ecs.tasks.unwrap();
    assert_eq!(
        tasks[0]
            .overrides
            .as_ref()
            .unwrap()
            .task_role_arn
            .as_deref(),
        Some("arn:aws:iam::111111111111:role/admin")
    );
    assert_eq!(tasks[0].launch_type.as_deref(), Some("EC2"));
    assert_eq!(
        tasks[0].container_instance_arn.as_deref(),
        Some("arn:aws:ecs:us-east-1:111111111111:container-instance/prod/ci")
    );
    assert_eq!(ecs.container_instances.map(|c| c.len()), Some(0));
    let tds = ecs.task_definitions.unwrap();
    assert_eq!(
        tds.len(),
        1,
        "the task's definition is read though no service uses it"
    );
    let crate::collect::snapshot::Lenient::Read(td) = &tds[0] else {
        panic!("the collector writes task definitions it has read");
    };
    assert_eq!(td.container_definitions[0].secrets[0].name, "DB");
    assert_eq!(td.network_mode.as_deref(), Some("bridge"));
    assert!(ctx.take_gaps().is_empty());
}

/// A scope in account 111111111111, in `region`.
fn scope<'a, 'o>(ctx: &'a Ctx<'o>, region: Option<&'a str>) -> Scope<'a, 'o> {
    Scope {
        ctx,
        account: "111111111111",
        region,
    }
}

/// Error metadata with an AWS error code, as a service error carries it.
fn coded(code: &str) -> ErrorMetadata {
    ErrorMetadata::builder()
        .code(code)
        .message("stubbed")
        .build()
}

#[test]
fn no_public_access_block_reads_as_every_flag_off() {
    use aws_sdk_s3::operation::get_public_access_block::GetPublicAccessBlockError;
    use aws_sdk_s3control::operation::get_public_access_block::GetPublicAccessBlockError as AccountError;
    let bucket: Rule = mock!(aws_sdk_s3::Client::get_public_access_block).then_error(|| {
        GetPublicAccessBlockError::generic(coded("NoSuchPublicAccessBlockConfiguration"))
    });
    let account_rule: Rule = mock!(aws_sdk_s3control::Client::get_public_access_block)
        .match_requests(|r| r.account_id() == Some("111111111111"))
        .then_error(|| AccountError::generic(coded("NoSuchPublicAccessBlockConfiguration")));
    let s3 = mocked!(aws_sdk_s3, [&bucket], RetryConfig::disabled());
    let control = mocked!(aws_sdk_s3control, [&account_rule], RetryConfig::disabled());
    let ctx = Ctx::new(4, &Silent);
    let block = run(account::bucket_public_access_block(
        scope(&ctx, None),
        &s3,
        "b",
    ))
    .unwrap();
    let account = run(account::account_public_access_block(
        scope(&ctx, None),
        &control,
    ))
    .unwrap();
    for b in [block, account] {
        assert!(
            !(b.block_public_acls
                || b.ignore_public_acls
                || b.block_public_policy
                || b.restrict_public_buckets),
            "collected, none: every flag off"
        );
    }
    assert_eq!(account_rule.num_calls(), 1);
    assert!(ctx.take_gaps().is_empty(), "not found is not a gap");
}

#[test]
fn public_access_block_flags_are_read_and_a_missing_one_is_off() {
    use aws_sdk_s3control::operation::get_public_access_block::GetPublicAccessBlockOutput;
    use aws_sdk_s3control::types::PublicAccessBlockConfiguration;
    let rule: Rule = mock!(aws_sdk_s3control::Client::get_public_access_block).then_output(|| {
        GetPublicAccessBlockOutput::builder()
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .build()
    });
    let control = mocked!(aws_sdk_s3control, [&rule], RetryConfig::disabled());
    let ctx = Ctx::new(4, &Silent);
    let b = run(account::account_public_access_block(
        scope(&ctx, None),
        &control,
    ))
    .unwrap();
    assert!(b.block_public_acls && b.restrict_public_buckets);
    assert!(!b.ignore_public_acls && !b.block_public_policy);
    assert!(ctx.take_gaps().is_empty());
}

#[test]
fn no_encryption_configuration_reads_as_no_rules() {
    use aws_sdk_s3::operation::get_bucket_encryption::GetBucketEncryptionError;
    let rule: Rule = mock!(aws_sdk_s3::Client::get_bucket_encryption).then_error(|| {
        GetBucketEncryptionError::generic(coded("ServerSideEncryptionConfigurationNotFoundError"))
    });
    let s3 = mocked!(aws_sdk_s3, [&rule], RetryConfig::disabled());
    let ctx = Ctx::new(4, &Silent);
    let encryption = run(account::bucket_encryption(scope(&ctx, None), &s3, "b")).unwrap();
    assert!(encryption.rules.is_empty(), "collected, no rules");
    assert!(ctx.take_gaps().is_empty());
}

#[test]
fn no_tag_set_reads_as_no_tags() {
    use aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingError;
    let rule: Rule = mock!(aws_sdk_s3::Client::get_bucket_tagging)
        .then_error(|| GetBucketTaggingError::generic(coded("NoSuchTagSet")));
    let s3 = mocked!(aws_sdk_s3, [&rule], RetryConfig::disabled());
    let ctx = Ctx::new(4, &Silent);
    let tags = run(account::bucket_tags(scope(&ctx, None), &s3, "b")).unwrap();
    assert!(tags.is_empty(), "collected, no tags");
    assert!(ctx.take_gaps().is_empty());
}

#[test]
fn other_bucket_setting_errors_are_gaps() {
    use aws_sdk_s3::operation::{
        get_bucket_acl::GetBucketAclError, get_bucket_encryption::GetBucketEncryptionError,
        get_bucket_tagging::GetBucketTaggingError,
        get_public_access_block::GetPublicAccessBlockError,
    };
    use aws_sdk_s3control::operation::get_public_access_block::GetPublicAccessBlockError as AccountError;
    let rules: Vec<Rule> = vec![
        mock!(aws_sdk_s3::Client::get_public_access_block)
            .then_error(|| GetPublicAccessBlockError::generic(coded("AccessDenied"))),
        mock!(aws_sdk_s3::Client::get_bucket_acl)
            .then_error(|| GetBucketAclError::generic(coded("AccessDenied"))),
        mock!(aws_sdk_s3::Client::get_bucket_encryption)
            .then_error(|| GetBucketEncryptionError::generic(coded("AccessDenied"))),
        mock!(aws_sdk_s3::Client::get_bucket_tagging)
            .then_error(|| GetBucketTaggingError::generic(coded("AccessDenied"))),
    ];
    let account_rule: Rule = mock!(aws_sdk_s3control::Client::get_public_access_block)
        .then_error(|| AccountError::generic(coded("AccessDenied")));
    let s3 = mocked!(aws_sdk_s3, &rules, RetryConfig::disabled());
    let control = mocked!(aws_sdk_s3control, [&account_rule], RetryConfig::disabled());
    let ctx = Ctx::new(4, &Silent);
    let s = scope(&ctx, None);
    assert!(run(account::bucket_public_access_block(s, &s3, "b")).is_none());
    assert!(run(account::bucket_acl(s, &s3, "b")).is_none());
    assert!(run(account::bucket_encryption(s, &s3, "b")).is_none());
    assert!(run(account::bucket_tags(s, &s3, "b")).is_none());
    assert!(run(account::account_public_access_block(s, &control)).is_none());
    let gaps: Vec<String> = ctx
        .take_gaps()
        .iter()
        .map(|g| {
            assert_eq!(g.error.as_deref(), Some("AccessDenied: stubbed"));
            format!(
                "{}:{} {}",
                g.service.as_deref().unwrap_or_default(),
                g.operation.as_deref().unwrap_or_default(),
                g.resource.as_deref().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        gaps,
        [
            "s3:GetPublicAccessBlock b",
            "s3:GetBucketAcl b",
            "s3:GetBucketEncryption b",
            "s3:GetBucketTagging b",
            "s3control:GetPublicAccessBlock -",
        ]
    );
}

#[test]
fn bucket_acl_and_encryption_keep_grantees_and_keys() {
    use aws_sdk_s3::operation::{
        get_bucket_acl::GetBucketAclOutput, get_bucket_encryption::GetBucketEncryptionOutput,
    };
    use aws_sdk_s3::types::{
        Grant, Grantee, Permission, ServerSideEncryption, ServerSideEncryptionByDefault,
        ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Type,
    };
    let rules: Vec<Rule> = vec![
        mock!(aws_sdk_s3::Client::get_bucket_acl).then_output(|| {
            GetBucketAclOutput::builder()
                .grants(
                    Grant::builder()
                        .grantee(
                            Grantee::builder()
                                .r#type(Type::Group)
                                .uri("http://acs.amazonaws.com/groups/global/AllUsers")
                                .build()
                                .unwrap(),
                        )
                        .permission(Permission::Read)
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_s3::Client::get_bucket_encryption).then_output(|| {
            GetBucketEncryptionOutput::builder()
                .server_side_encryption_configuration(
                    ServerSideEncryptionConfiguration::builder()
                        .rules(
                            ServerSideEncryptionRule::builder()
                                .apply_server_side_encryption_by_default(
                                    ServerSideEncryptionByDefault::builder()
                                        .sse_algorithm(ServerSideEncryption::AwsKms)
                                        .kms_master_key_id(
                                            "arn:aws:kms:us-east-1:111111111111:key/k",
                                        )
                                        .build()
                                        .unwrap(),
                                )
                                .build(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
        }),
    ];
    let s3 = mocked!(aws_sdk_s3, &rules, RetryConfig::disabled());
    let ctx = Ctx::new(4, &Silent);
    let acl = run(account::bucket_acl(scope(&ctx, None), &s3, "b")).unwrap();
    let grantee = acl.grants[0].grantee.as_ref().unwrap();
    assert_eq!(grantee.kind.as_deref(), Some("Group"));
    assert_eq!(
        grantee.uri.as_deref(),
        Some("http://acs.amazonaws.com/groups/global/AllUsers")
    );
    assert_eq!(acl.grants[0].permission.as_deref(), Some("READ"));
    let encryption = run(account::bucket_encryption(scope(&ctx, None), &s3, "b")).unwrap();
    let default = encryption.rules[0]
        .apply_server_side_encryption_by_default
        .as_ref()
        .unwrap();
    assert_eq!(default.sse_algorithm.as_deref(), Some("aws:kms"));
    assert_eq!(
        default.kms_master_key_id.as_deref(),
        Some("arn:aws:kms:us-east-1:111111111111:key/k")
    );
    assert!(ctx.take_gaps().is_empty());
}

#[test]
fn container_instances_name_their_cluster_and_services_keep_capacity_providers() {
    use aws_sdk_ecs::operation::{
        describe_clusters::DescribeClustersOutput,
        describe_container_instances::DescribeContainerInstancesOutput,
        describe_services::DescribeServicesOutput, list_clusters::ListClustersOutput,
        list_container_instances::ListContainerInstancesOutput, list_services::ListServicesOutput,
        list_tasks::ListTasksOutput,
    };
    use aws_sdk_ecs::types::{CapacityProviderStrategyItem, Cluster, ContainerInstance, Service};
    const CLUSTER: &str = "arn:aws:ecs:us-east-1:111111111111:cluster/prod";
    const SERVICE: &str = "arn:aws:ecs:us-east-1:111111111111:service/prod/web";
    // The short ARN form names no cluster.
    const INSTANCE: &str = "arn:aws:ecs:us-east-1:111111111111:container-instance/abc";
    let rules: Vec<Rule> = vec![
        mock!(aws_sdk_ecs::Client::list_clusters)
            .then_output(|| ListClustersOutput::builder().cluster_arns(CLUSTER).build()),
        mock!(aws_sdk_ecs::Client::describe_clusters).then_output(|| {
            DescribeClustersOutput::builder()
                .clusters(Cluster::builder().cluster_arn(CLUSTER).build())
                .build()
        }),
        mock!(aws_sdk_ecs::Client::list_services)
            .then_output(|| ListServicesOutput::builder().service_arns(SERVICE).build()),
        mock!(aws_sdk_ecs::Client::describe_services).then_output(|| {
            DescribeServicesOutput::builder()
                .services(
                    Service::builder()
                        .service_arn(SERVICE)
                        .cluster_arn(CLUSTER)
                        .capacity_provider_strategy(
                            CapacityProviderStrategyItem::builder()
                                .capacity_provider("asg-spot")
                                .weight(1)
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_ecs::Client::list_tasks).then_output(|| ListTasksOutput::builder().build()),
        mock!(aws_sdk_ecs::Client::list_container_instances)
            .match_requests(|r| r.cluster() == Some(CLUSTER))
            .then_output(|| {
                ListContainerInstancesOutput::builder()
                    .container_instance_arns(INSTANCE)
                    .build()
            }),
        mock!(aws_sdk_ecs::Client::describe_container_instances)
            .match_requests(|r| r.cluster() == Some(CLUSTER))
            .then_output(|| {
                DescribeContainerInstancesOutput::builder()
                    .container_instances(
                        ContainerInstance::builder()
                            .container_instance_arn(INSTANCE)
                            .ec2_instance_id("i-0123456789abcdef0")
                            .build(),
                    )
                    .build()
            }),
    ];
    let client = mocked!(aws_sdk_ecs, &rules, RetryConfig::disabled());
    let ctx = Ctx::new(4, &Silent);
    let ecs = run(account::ecs(
        scope(&ctx, Some("us-east-1")),
        &client,
        &CollectOptions::default(),
    ))
    .unwrap();
    let instances = ecs.container_instances.unwrap();
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0].container_instance_arn, INSTANCE);
    assert_eq!(instances[0].cluster_arn.as_deref(), Some(CLUSTER));
    assert_eq!(
        instances[0].ec2_instance_id.as_deref(),
        Some("i-0123456789abcdef0")
    );
    assert!(instances[0].agent_settings.is_none(), "no API returns them");
    let services = ecs.services.unwrap();
    let providers: Vec<_> = services[0]
        .capacity_provider_strategy
        .iter()
        .map(|c| c.capacity_provider.as_str())
        .collect();
    assert_eq!(providers, ["asg-spot"]);
    assert!(ctx.take_gaps().is_empty());
}
