//! Collector tests with stubbed SDK responses (aws-smithy-mocks), for what an emulator cannot
//! produce: several pages of GetAccountAuthorizationDetails, throttling that outlasts the retries,
//! and running tasks whose overrides the emulator cannot return in the API's shape.

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
            .is_object()
    );
    let policy = &iam.policies[0];
    assert_eq!(policy.policy_name.as_deref(), Some("read"));
    assert_eq!(
        policy.policy_version_list[0].document.as_ref().unwrap()["Version"],
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
        list_services::ListServicesOutput, list_tasks::ListTasksOutput,
    };
    use aws_sdk_ecs::types::{
        Cluster, ContainerDefinition, Secret, Task, TaskDefinition, TaskOverride,
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
    assert!(ctx.take_gaps().is_empty());
}
