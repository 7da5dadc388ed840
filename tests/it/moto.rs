//! Collection against a real moto server (feature `moto-tests`; `bash scripts/test` starts moto
//! and passes its URL in `ROLECHAIN_MOTO_URL`).
//!
//! The first test seeds two accounts through the SDK itself, from one thread: the management
//! account (moto's default) and a member made with Organizations CreateAccount and reached through
//! moto's `x-moto-account-id` header. Then it runs the real `rolechain collect` with `--org-role`,
//! checks the snapshot, and checks that `who-can` answers on it exactly as on the same scenario
//! written by hand (`tests/fixtures/collect/moto-scenario.json`). Another seeds one account with
//! S3 access settings, tags, an EC2 instance with an instance profile and an ECS container
//! instance, and checks that the snapshot holds each value.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Mutex;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::Credentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::{Value, json};

use crate::support;

/// moto is not safe for concurrent writes, and the tests share one server (`faults.rs` takes
/// this lock too, since every test resets the server).
pub(super) static MOTO: Mutex<()> = Mutex::new(());

const A: &str = "123456789012";

fn moto_url() -> String {
    let url = std::env::var("ROLECHAIN_MOTO_URL").unwrap_or_else(|_| {
        panic!(
            "ROLECHAIN_MOTO_URL is not set: these tests need a running moto server \
             (`pip install \"moto[server]\"`, `moto_server -H 127.0.0.1 -p PORT`); \
             `bash scripts/test` starts one"
        )
    });
    reset(&url);
    url
}

/// Empties the moto server (`POST /moto-api/reset`), so each test seeds from nothing and the
/// tests can run again against the same server.
pub(super) fn reset(url: &str) {
    use std::io::{Read, Write};
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(host)
        .unwrap_or_else(|e| panic!("cannot reach moto at {url}: {e}"));
    write!(stream, "POST /moto-api/reset HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200"),
        "moto did not reset: {answer}"
    );
}

/// Sends every request of a client to one moto account.
#[derive(Debug)]
struct MotoAccount(String);

impl Intercept for MotoAccount {
    fn name(&self) -> &'static str {
        "MotoAccount"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        context
            .request_mut()
            .headers_mut()
            .insert("x-moto-account-id", self.0.clone());
        Ok(())
    }
}

pub(super) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub(super) async fn config(url: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .retry_config(RetryConfig::disabled())
        .load()
        .await
}

/// Clients of one account.
struct Clients {
    iam: aws_sdk_iam::Client,
    ecs: aws_sdk_ecs::Client,
    sm: aws_sdk_secretsmanager::Client,
    ssm: aws_sdk_ssm::Client,
    kms: aws_sdk_kms::Client,
    ecr: aws_sdk_ecr::Client,
}

macro_rules! client {
    ($krate:ident, $cfg:expr, $account:expr) => {{
        let mut b = $krate::config::Builder::from($cfg);
        if let Some(a) = $account {
            b = b.interceptor(MotoAccount(a.to_string()));
        }
        $krate::Client::from_conf(b.build())
    }};
}

fn clients(cfg: &SdkConfig, account: Option<&str>) -> Clients {
    Clients {
        iam: client!(aws_sdk_iam, cfg, account),
        ecs: client!(aws_sdk_ecs, cfg, account),
        sm: client!(aws_sdk_secretsmanager, cfg, account),
        ssm: client!(aws_sdk_ssm, cfg, account),
        kms: client!(aws_sdk_kms, cfg, account),
        ecr: client!(aws_sdk_ecr, cfg, account),
    }
}

pub(super) fn doc(v: Value) -> String {
    v.to_string()
}

/// What seeding created whose names moto chooses.
struct Seeded {
    b: String,
    secret_token: String,
    secret_db: String,
    key_id: String,
    org_id: String,
    root_id: String,
}

pub(super) fn ecs_trust() -> String {
    doc(
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    )
}

async fn seed(url: &str) -> Seeded {
    let cfg = config(url).await;
    let org = aws_sdk_organizations::Client::new(&cfg);
    let created = org
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let org_id = created.organization().unwrap().id().unwrap().to_string();
    let root_id = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_string();
    let status = org
        .create_account()
        .account_name("data")
        .email("data@example.com")
        .send()
        .await
        .unwrap();
    let b = status
        .create_account_status()
        .unwrap()
        .account_id()
        .unwrap()
        .to_string();

    // Account B: a secret and a role that A's task role may assume.
    let cb = clients(&cfg, Some(&b));
    let secret_db = cb
        .sm
        .create_secret()
        .name("prod/db")
        .secret_string("s3cr3t")
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    cb.sm
        .put_resource_policy()
        .secret_id(&secret_db)
        .resource_policy(doc(
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "Reader",
            "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{b}:role/reader")},
            "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}),
        ))
        .send()
        .await
        .unwrap();
    cb.iam
        .create_role()
        .role_name("reader")
        .assume_role_policy_document(doc(json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{A}:role/web-task")},
            "Action": "sts:AssumeRole"}]})))
        .send()
        .await
        .unwrap();
    cb.iam
        .put_role_policy()
        .role_name("reader")
        .policy_name("read-db")
        .policy_document(doc(
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "ReadDb",
            "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret_db}]}),
        ))
        .send()
        .await
        .unwrap();

    // Account A: task and execution roles, a managed policy and a boundary, a secret, a
    // parameter, a key, a repository, and the ECS workload.
    let ca = clients(&cfg, None);
    for (name, document) in [
        (
            "assume-reader",
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "AssumeReader", "Effect": "Allow",
                "Action": "sts:AssumeRole", "Resource": format!("arn:aws:iam::{b}:role/reader")}]}),
        ),
        (
            "boundary",
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "Bound", "Effect": "Allow",
                "Action": ["sts:AssumeRole", "secretsmanager:GetSecretValue"], "Resource": "*"}]}),
        ),
    ] {
        ca.iam
            .create_policy()
            .policy_name(name)
            .policy_document(doc(document))
            .send()
            .await
            .unwrap();
    }
    ca.iam
        .create_role()
        .role_name("web-task")
        .assume_role_policy_document(ecs_trust())
        .permissions_boundary(format!("arn:aws:iam::{A}:policy/boundary"))
        .send()
        .await
        .unwrap();
    ca.iam
        .attach_role_policy()
        .role_name("web-task")
        .policy_arn(format!("arn:aws:iam::{A}:policy/assume-reader"))
        .send()
        .await
        .unwrap();
    let secret_token = ca
        .sm
        .create_secret()
        .name("app/token")
        .secret_string("t0ken")
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    ca.ssm
        .put_parameter()
        .name("/prod/api-key")
        .value("k")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    let param = format!("arn:aws:ssm:us-east-1:{A}:parameter/prod/api-key");
    ca.iam
        .create_role()
        .role_name("web-exec")
        .assume_role_policy_document(ecs_trust())
        .send()
        .await
        .unwrap();
    ca.iam
        .put_role_policy()
        .role_name("web-exec")
        .policy_name("pull-secrets")
        .policy_document(doc(json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Token", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret_token},
            {"Sid": "ApiKey", "Effect": "Allow", "Action": "ssm:GetParameters", "Resource": param}]})))
        .send()
        .await
        .unwrap();
    let key_id = ca
        .kms
        .create_key()
        .policy(doc(json!({"Version": "2012-10-17", "Statement": [{"Sid": "Root", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{A}:root")}, "Action": "kms:*", "Resource": "*"}]})))
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    ca.kms
        .create_alias()
        .alias_name("alias/app")
        .target_key_id(&key_id)
        .send()
        .await
        .unwrap();
    ca.ecr
        .create_repository()
        .repository_name("web")
        .send()
        .await
        .unwrap();
    ca.ecr
        .set_repository_policy()
        .repository_name("web")
        .policy_text(doc(
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "DataPulls",
            "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{b}:root")},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]}),
        ))
        .send()
        .await
        .unwrap();
    ca.ecs
        .create_cluster()
        .cluster_name("prod")
        .send()
        .await
        .unwrap();
    use aws_sdk_ecs::types::{ContainerDefinition, Secret};
    ca.ecs
        .register_task_definition()
        .family("web")
        .task_role_arn(format!("arn:aws:iam::{A}:role/web-task"))
        .execution_role_arn(format!("arn:aws:iam::{A}:role/web-exec"))
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image(format!("{A}.dkr.ecr.us-east-1.amazonaws.com/web:1"))
                .memory(512)
                .secrets(
                    Secret::builder()
                        .name("TOKEN")
                        .value_from(&secret_token)
                        .build()
                        .unwrap(),
                )
                .secrets(
                    Secret::builder()
                        .name("API_KEY")
                        .value_from(&param)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    ca.ecs
        .create_service()
        .cluster("prod")
        .service_name("web")
        .task_definition("web:1")
        .desired_count(1)
        .send()
        .await
        .unwrap();
    // A task definition no service uses: read only with --all-task-definitions.
    ca.ecs
        .register_task_definition()
        .family("batch")
        .container_definitions(
            ContainerDefinition::builder()
                .name("job")
                .image("busybox")
                .memory(64)
                .build(),
        )
        .send()
        .await
        .unwrap();
    Seeded {
        b,
        secret_token,
        secret_db,
        key_id,
        org_id,
        root_id,
    }
}

fn rolechain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rolechain"))
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/nonexistent/rolechain-test-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/rolechain-test-credentials",
        )
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("ROLECHAIN_SNAPSHOT")
        .output()
        .unwrap()
}

fn who_can(snapshot: &Path, resource: &str) -> Value {
    let out = rolechain(&[
        "who-can",
        resource,
        "--snapshot",
        snapshot.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn collect_seeded_accounts_and_answer_as_the_hand_written_snapshot() {
    let _lock = MOTO.lock().unwrap_or_else(|e| e.into_inner());
    let url = moto_url();
    let seeded = runtime().block_on(seed(&url));
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("org.json");
    let out = rolechain(&[
        "collect",
        "--endpoint-url",
        &url,
        "--region",
        "us-east-1",
        "--org-role",
        "OrganizationAccountAccessRole",
        "--max-attempts",
        "1",
        "--concurrency",
        "4",
        "-o",
        snap.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("collected 2 account(s), 1 region(s)"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "the snapshot goes to -o only");

    let s: Value = serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    assert_eq!(s["schema"], "rolechain.snapshot/v1");
    assert_eq!(s["gaps"], json!([]), "{stderr}");
    let ids: Vec<&str> = s["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    let mut want = vec![A, seeded.b.as_str()];
    want.sort();
    assert_eq!(ids, want);
    let account = |id: &str| {
        s["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .unwrap()
            .clone()
    };
    let a = account(A);
    let b = account(&seeded.b);

    // Organization: both accounts, their parents, and the default SCP on the root.
    let org = &s["organization"];
    assert_eq!(org["id"], seeded.org_id.as_str());
    assert_eq!(org["management_account_id"], A);
    assert_eq!(org["accounts"].as_array().unwrap().len(), 2);
    assert_eq!(org["parents"][&seeded.b], seeded.root_id.as_str());
    let scp = org["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["PolicySummary"]["Id"] == "p-FullAWSAccess")
        .unwrap();
    assert_eq!(scp["PolicySummary"]["Type"], "SERVICE_CONTROL_POLICY");
    assert!(scp["Content"].is_object(), "SCP content is stored decoded");
    assert!(
        scp["targets"]
            .as_array()
            .unwrap()
            .contains(&json!(seeded.root_id))
    );

    // IAM: managed policy names come from ARNs, documents are decoded, boundaries kept.
    let roles = a["iam"]["RoleDetailList"].as_array().unwrap();
    let task = roles.iter().find(|r| r["RoleName"] == "web-task").unwrap();
    assert_eq!(
        task["PermissionsBoundary"]["PermissionsBoundaryArn"],
        format!("arn:aws:iam::{A}:policy/boundary")
    );
    assert_eq!(
        task["AttachedManagedPolicies"][0]["PolicyArn"],
        format!("arn:aws:iam::{A}:policy/assume-reader")
    );
    assert!(task["AssumeRolePolicyDocument"].is_object());
    let exec = roles.iter().find(|r| r["RoleName"] == "web-exec").unwrap();
    assert_eq!(
        exec["RolePolicyList"][0]["PolicyDocument"]["Statement"][1]["Sid"],
        "ApiKey"
    );
    let policies = a["iam"]["Policies"].as_array().unwrap();
    let assume = policies
        .iter()
        .find(|p| p["Arn"] == format!("arn:aws:iam::{A}:policy/assume-reader"))
        .unwrap();
    assert_eq!(assume["PolicyName"], "assume-reader");
    assert_eq!(
        assume["PolicyVersionList"][0]["Document"]["Statement"][0]["Sid"],
        "AssumeReader"
    );
    // CreateAccount made the role --org-role assumes; the seeded one is beside it.
    let reader = b["iam"]["RoleDetailList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["RoleName"] == "reader")
        .unwrap();
    assert_eq!(
        reader["Arn"],
        format!("arn:aws:iam::{}:role/reader", seeded.b)
    );

    // Regional resources.
    let r = &a["regions"]["us-east-1"];
    let td = &r["ecs"]["task_definitions"].as_array().unwrap();
    assert_eq!(td.len(), 1, "only the definition the service uses");
    assert_eq!(
        td[0]["containerDefinitions"][0]["secrets"][0]["valueFrom"],
        seeded.secret_token.as_str()
    );
    assert_eq!(r["ecs"]["services"][0]["serviceName"], "web");
    assert_eq!(r["ecs"]["clusters"][0]["clusterName"], "prod");
    assert_eq!(
        r["ssm_parameters"][0]["ARN"],
        format!("arn:aws:ssm:us-east-1:{A}:parameter/prod/api-key"),
        "derived from the name"
    );
    let key = r["kms_keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["KeyMetadata"]["KeyId"] == seeded.key_id.as_str())
        .unwrap();
    assert_eq!(key["Policy"]["Statement"][0]["Sid"], "Root");
    assert_eq!(key["Aliases"][0]["AliasName"], "alias/app");
    assert_eq!(
        r["ecr_repositories"][0]["policyText"]["Statement"][0]["Sid"],
        "DataPulls"
    );
    let db = &b["regions"]["us-east-1"]["secrets"][0];
    assert_eq!(db["ARN"], seeded.secret_db.as_str());
    assert_eq!(db["ResourcePolicy"]["Statement"][0]["Sid"], "Reader");

    // The same scenario written by hand answers the same.
    let fixture =
        std::fs::read_to_string(support::root().join("tests/fixtures/collect/moto-scenario.json"))
            .unwrap();
    let fixture = fixture
        .replace("${ACCOUNT_B}", &seeded.b)
        .replace("${SECRET_DB}", &seeded.secret_db)
        .replace("${SECRET_TOKEN}", &seeded.secret_token)
        .replace("${KEY_ID}", &seeded.key_id)
        .replace("${ORG_ID}", &seeded.org_id)
        .replace("${ROOT_ID}", &seeded.root_id);
    let by_hand = dir.path().join("by-hand.json");
    std::fs::write(&by_hand, fixture).unwrap();
    for resource in [&seeded.secret_db, &seeded.secret_token] {
        let collected = who_can(&snap, resource);
        let written = who_can(&by_hand, resource);
        assert!(
            !collected["paths"].as_array().unwrap().is_empty(),
            "no path to {resource}"
        );
        assert_eq!(collected, written, "who-can {resource}");
    }
    let cross = who_can(&snap, &seeded.secret_db);
    assert_eq!(
        cross["paths"][0]["source"],
        format!("arn:aws:ecs:us-east-1:{A}:task-definition/web:1#app")
    );
    assert_eq!(cross["paths"][0]["cross_account"], true);

    // --all-task-definitions also reads the one no service uses; --live answers without a file.
    let all = rolechain(&[
        "collect",
        "--endpoint-url",
        &url,
        "--region",
        "us-east-1",
        "--all-task-definitions",
        "--max-attempts",
        "1",
    ]);
    let all: Value = serde_json::from_slice(&all.stdout).unwrap();
    assert_eq!(
        all["accounts"][0]["regions"]["us-east-1"]["ecs"]["task_definitions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let live = rolechain(&[
        "who-can",
        &seeded.secret_token,
        "--live",
        "--endpoint-url",
        &url,
        "--region",
        "us-east-1",
        "--max-attempts",
        "1",
        "--format",
        "json",
    ]);
    assert!(
        live.status.success(),
        "{}",
        String::from_utf8_lossy(&live.stderr)
    );
    let live: Value = serde_json::from_slice(&live.stdout).unwrap();
    assert_eq!(live, who_can(&snap, &seeded.secret_token));

    // Shards merge back into the whole: one `collect --account` job per account, then `merge`.
    let shard = |account: &str| {
        let path = dir.path().join(format!("shard-{account}.json"));
        let out = rolechain(&[
            "collect",
            "--endpoint-url",
            &url,
            "--region",
            "us-east-1",
            "--org-role",
            "OrganizationAccountAccessRole",
            "--account",
            account,
            "--max-attempts",
            "1",
            "-o",
            path.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let read: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let ids: Vec<&str> = read["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [account], "a shard holds its own account only");
        assert_eq!(
            read["organization"], s["organization"],
            "every shard reads the organization"
        );
        path
    };
    let (shard_a, shard_b) = (shard(A), shard(&seeded.b));
    let merged = dir.path().join("merged.json");
    let out = rolechain(&[
        "merge",
        shard_a.to_str().unwrap(),
        shard_b.to_str().unwrap(),
        "-o",
        merged.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        who_can(&merged, &seeded.secret_token),
        who_can(&snap, &seeded.secret_token)
    );
    assert_eq!(
        who_can(&merged, &seeded.secret_db),
        who_can(&snap, &seeded.secret_db)
    );
}
/// S3 Control puts the account id in the host name (`<account>.<endpoint host>`), which moto on
/// 127.0.0.1 cannot be reached by: the seeding client sends every call to moto's bare address.
#[derive(Debug)]
struct BareMoto(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for BareMoto {
    fn resolve_endpoint<'a>(
        &'a self,
        _params: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        aws_sdk_s3control::config::endpoint::EndpointFuture::ready(Ok(
            aws_sdk_s3control::config::endpoint::Endpoint::builder()
                .url(self.0.clone())
                .build(),
        ))
    }
}

/// What the second seeding created whose names moto chooses.
struct Settings {
    key_arn: String,
    profile_arn: String,
    instance_id: String,
    cluster_arn: String,
    container_instance_arn: String,
}

/// Seeds account A with what the collector reads beside policies: S3 Block Public Access (the
/// account's and a bucket's), a public-read ACL, default encryption under a KMS key, tags on a
/// bucket, a parameter, a repository, a log group and a key, an EC2 instance whose instance
/// profile holds an IAM role, and an ECS cluster with a registered container instance and a task
/// placed on it.
async fn seed_settings(url: &str) -> Settings {
    use aws_sdk_s3::types::{
        BucketCannedAcl, PublicAccessBlockConfiguration, ServerSideEncryption,
        ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
        Tag, Tagging,
    };
    let cfg = config(url).await;
    let c = clients(&cfg, None);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&cfg)
            .force_path_style(true)
            .build(),
    );
    let control = aws_sdk_s3control::Client::from_conf(
        aws_sdk_s3control::config::Builder::from(&cfg)
            .endpoint_resolver(BareMoto(url.to_string()))
            .build(),
    );
    let logs = aws_sdk_cloudwatchlogs::Client::new(&cfg);
    let ec2 = aws_sdk_ec2::Client::new(&cfg);

    let key_arn = c
        .kms
        .create_key()
        .tags(
            aws_sdk_kms::types::Tag::builder()
                .tag_key("team")
                .tag_value("data")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();

    for bucket in ["public-acl", "blocked", "encrypted"] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    s3.put_bucket_acl()
        .bucket("public-acl")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    s3.put_public_access_block()
        .bucket("blocked")
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    s3.put_bucket_encryption()
        .bucket("encrypted")
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::AwsKms)
                                .kms_master_key_id(&key_arn)
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    s3.put_bucket_tagging()
        .bucket("encrypted")
        .tagging(
            Tagging::builder()
                .tag_set(Tag::builder().key("team").value("data").build().unwrap())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    control
        .put_public_access_block()
        .account_id(A)
        .public_access_block_configuration(
            aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .unwrap();

    c.ssm
        .put_parameter()
        .name("/prod/api-key")
        .value("k")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .tags(
            aws_sdk_ssm::types::Tag::builder()
                .key("team")
                .value("web")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    c.ecr
        .create_repository()
        .repository_name("web")
        .tags(
            aws_sdk_ecr::types::Tag::builder()
                .key("team")
                .value("web")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    logs.create_log_group()
        .log_group_name("/ecs/web")
        .tags("team", "web")
        .send()
        .await
        .unwrap();

    c.iam
        .create_role()
        .role_name("app-host")
        .assume_role_policy_document(doc(json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole"}]})))
        .send()
        .await
        .unwrap();
    let profile_arn = c
        .iam
        .create_instance_profile()
        .instance_profile_name("app-host")
        .send()
        .await
        .unwrap()
        .instance_profile()
        .unwrap()
        .arn()
        .to_string();
    c.iam
        .add_role_to_instance_profile()
        .instance_profile_name("app-host")
        .role_name("app-host")
        .send()
        .await
        .unwrap();
    // moto checks no AMI unless MOTO_ENABLE_AMI_VALIDATION is set.
    let instance_id = ec2
        .run_instances()
        .image_id("ami-12c6146b")
        .min_count(1)
        .max_count(1)
        .iam_instance_profile(
            aws_sdk_ec2::types::IamInstanceProfileSpecification::builder()
                .arn(&profile_arn)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .instances()[0]
        .instance_id()
        .unwrap()
        .to_string();

    let cluster_arn = c
        .ecs
        .create_cluster()
        .cluster_name("hosts")
        .send()
        .await
        .unwrap()
        .cluster()
        .unwrap()
        .cluster_arn()
        .unwrap()
        .to_string();
    // moto reads only `instanceId` from the identity document, and wants that instance in EC2.
    let identity = json!({"instanceId": instance_id, "region": "us-east-1", "accountId": A,
        "imageId": "ami-12c6146b", "instanceType": "t2.micro"});
    let container_instance_arn = c
        .ecs
        .register_container_instance()
        .cluster("hosts")
        .instance_identity_document(identity.to_string())
        .send()
        .await
        .unwrap()
        .container_instance()
        .unwrap()
        .container_instance_arn()
        .unwrap()
        .to_string();
    c.ecs
        .register_task_definition()
        .family("agent")
        .network_mode(aws_sdk_ecs::types::NetworkMode::Host)
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("agent")
                .image("busybox")
                .memory(64)
                .build(),
        )
        .send()
        .await
        .unwrap();
    // Placed on the container instance, as the EC2 launch type places tasks. moto answers with
    // the containers' `cpu` as a number where the API has a string, which the SDK cannot parse,
    // but the task is made: the list of the cluster's tasks says so.
    let _unparsable = c
        .ecs
        .run_task()
        .cluster("hosts")
        .task_definition("agent:1")
        .launch_type(aws_sdk_ecs::types::LaunchType::Ec2)
        .count(1)
        .send()
        .await;
    let tasks = c.ecs.list_tasks().cluster("hosts").send().await.unwrap();
    assert_eq!(tasks.task_arns().len(), 1, "the task was placed");
    Settings {
        key_arn,
        profile_arn,
        instance_id,
        cluster_arn,
        container_instance_arn,
    }
}

/// Public access settings, ACLs, encryption, tags, instance profiles and container instances
/// reach the snapshot, read the way AWS returns them.
///
/// moto quirks met here:
/// - S3 Control addresses `<account>.<host>`; moto serves S3 Control by path (`/v20180820/…`)
///   on its bare address, which is why the collector resolves S3 Control without the account in
///   the host name behind `--endpoint-url`, and the seeding client uses a fixed endpoint.
/// - RegisterContainerInstance reads only `instanceId` from the identity document (no signature),
///   and the EC2 instance must exist in moto's EC2 of the same account and region.
/// - Every task moto describes has its containers' `cpu` as a JSON number (moto defaults it to
///   `0`), where the API has a string: the SDK cannot parse DescribeTasks (nor RunTask), so the
///   running task is a gap here, and a task's `launchType` and `containerInstanceArn` are checked
///   with stubbed responses (`collect::aws::tests`) instead.
/// - CreateService ignores `capacityProviderStrategy` and DescribeServices never returns one,
///   so a service's capacity providers are checked with stubbed responses too.
#[test]
fn collect_reads_access_settings_tags_and_instances() {
    let _lock = MOTO.lock().unwrap_or_else(|e| e.into_inner());
    let url = moto_url();
    let seeded = runtime().block_on(seed_settings(&url));
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("settings.json");
    let out = rolechain(&[
        "collect",
        "--endpoint-url",
        &url,
        "--region",
        "us-east-1",
        "--max-attempts",
        "1",
        "-o",
        snap.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    // The one gap is moto's task, which the SDK cannot parse (see above).
    let gaps = s["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{stderr}");
    assert_eq!(gaps[0]["service"], "ecs");
    assert_eq!(gaps[0]["operation"], "DescribeTasks");
    assert_eq!(gaps[0]["resource"], seeded.cluster_arn.as_str());
    assert!(
        gaps[0]["error"].as_str().unwrap().starts_with("HTTP 200"),
        "{gaps:?}"
    );
    let a = &s["accounts"][0];
    assert_eq!(a["id"], A);

    // S3 Block Public Access: the account's, a bucket's, and "none" as every flag off.
    let off = json!({"BlockPublicAcls": false, "IgnorePublicAcls": false,
        "BlockPublicPolicy": false, "RestrictPublicBuckets": false});
    assert_eq!(
        a["s3_public_access_block"],
        json!({"BlockPublicAcls": false, "IgnorePublicAcls": false,
            "BlockPublicPolicy": true, "RestrictPublicBuckets": true})
    );
    let bucket = |name: &str| {
        a["s3_buckets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["Name"] == name)
            .unwrap_or_else(|| panic!("no bucket {name}"))
            .clone()
    };
    let (public, blocked, encrypted) =
        (bucket("public-acl"), bucket("blocked"), bucket("encrypted"));
    assert_eq!(
        blocked["PublicAccessBlock"],
        json!({"BlockPublicAcls": true, "IgnorePublicAcls": true,
            "BlockPublicPolicy": true, "RestrictPublicBuckets": true})
    );
    assert_eq!(public["PublicAccessBlock"], off);

    // The public-read ACL grants READ to AllUsers, beside the owner's FULL_CONTROL.
    let grants = public["Acl"]["Grants"].as_array().unwrap();
    assert!(
        grants.contains(&json!({"Grantee": {"Type": "Group",
            "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"})),
        "{grants:?}"
    );
    assert!(
        grants
            .iter()
            .any(|g| g["Grantee"]["Type"] == "CanonicalUser" && g["Permission"] == "FULL_CONTROL"),
        "{grants:?}"
    );

    // Default encryption under the key, and the bucket's tags; a bucket without tags has none.
    assert_eq!(
        encrypted["Encryption"],
        json!({"Rules": [{"ApplyServerSideEncryptionByDefault":
            {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": seeded.key_arn}}]})
    );
    assert_eq!(encrypted["Tags"], json!([{"Key": "team", "Value": "data"}]));
    assert_eq!(public["Tags"], json!([]));
    assert_eq!(public["Encryption"], json!({"Rules": []}));

    // Tags of a parameter, a repository, a log group (a map) and a key.
    let r = &a["regions"]["us-east-1"];
    assert_eq!(
        r["ssm_parameters"][0]["Tags"],
        json!([{"Key": "team", "Value": "web"}])
    );
    assert_eq!(
        r["ecr_repositories"][0]["tags"],
        json!([{"Key": "team", "Value": "web"}])
    );
    assert_eq!(r["log_groups"][0]["tags"], json!({"team": "web"}));
    let key = r["kms_keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["KeyMetadata"]["Arn"] == seeded.key_arn.as_str())
        .unwrap();
    assert_eq!(key["Tags"], json!([{"TagKey": "team", "TagValue": "data"}]));

    // The instance, its profile, and the role the profile holds.
    assert_eq!(
        r["ec2_instances"],
        json!([{"InstanceId": seeded.instance_id,
            "IamInstanceProfile": {"Arn": seeded.profile_arn}}])
    );
    let host = a["iam"]["RoleDetailList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["RoleName"] == "app-host")
        .unwrap();
    assert_eq!(
        host["InstanceProfileList"],
        json!([{"Arn": seeded.profile_arn, "InstanceProfileName": "app-host"}])
    );

    // The container instance names its cluster and instance, and no agent settings (no API
    // returns them).
    assert_eq!(
        r["ecs"]["container_instances"],
        json!([{"containerInstanceArn": seeded.container_instance_arn,
            "clusterArn": seeded.cluster_arn, "ec2InstanceId": seeded.instance_id}])
    );
    // The task could not be described, so neither it nor its definition is in the snapshot;
    // `--all-task-definitions` reads the definition and its network mode.
    assert_eq!(r["ecs"]["tasks"], json!([]));
    let all = rolechain(&[
        "collect",
        "--endpoint-url",
        &url,
        "--region",
        "us-east-1",
        "--all-task-definitions",
        "--max-attempts",
        "1",
    ]);
    let all: Value = serde_json::from_slice(&all.stdout).unwrap();
    let definitions = &all["accounts"][0]["regions"]["us-east-1"]["ecs"]["task_definitions"];
    assert_eq!(definitions[0]["family"], "agent");
    assert_eq!(definitions[0]["networkMode"], "host");

    // The snapshot loads.
    let out = rolechain(&["reach", "--snapshot", snap.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A region the emulator does not serve refuses every call, as a disabled region does: each
/// refusal is a gap, the rest is collected, and `--strict` exits 1 with the snapshot written.
#[test]
fn refused_calls_are_gaps_and_strict_fails_after_writing() {
    let _lock = MOTO.lock().unwrap_or_else(|e| e.into_inner());
    let url = moto_url();
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("s.json");
    let out = rolechain(&[
        "collect",
        "--endpoint-url",
        &url,
        "--region",
        "us-east-1",
        "--region",
        "xx-nowhere-9",
        "--max-attempts",
        "1",
        "--strict",
        "-o",
        snap.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "warning: could not read ecs:ListClusters in 123456789012 xx-nowhere-9: HTTP 500"
        ),
        "{stderr}"
    );
    assert!(
        !stderr.contains("testing"),
        "no credentials in messages: {stderr}"
    );
    let text = std::fs::read_to_string(&snap).unwrap();
    assert!(!text.contains("testing"), "no credentials in the snapshot");
    let s: Value = serde_json::from_str(&text).unwrap();
    let gaps = s["gaps"].as_array().unwrap();
    let ops: Vec<String> = gaps
        .iter()
        .map(|g| {
            assert_eq!(g["region"], "xx-nowhere-9");
            format!(
                "{}:{}",
                g["service"].as_str().unwrap(),
                g["operation"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        ops,
        [
            "ec2:DescribeInstances",
            "ecr:DescribeRepositories",
            "ecs:ListClusters",
            "kms:ListKeys",
            "logs:DescribeLogGroups",
            "secretsmanager:ListSecrets",
            "ssm:DescribeParameters"
        ]
    );
    let regions = &s["accounts"][0]["regions"];
    assert!(
        regions["us-east-1"]["secrets"].is_array(),
        "the served region is collected"
    );
    assert_eq!(
        regions["xx-nowhere-9"],
        json!({}),
        "nothing is claimed for the refused region"
    );
    // The snapshot with gaps still loads, and analysis warns about them.
    let out = rolechain(&["reach", "--snapshot", snap.to_str().unwrap()]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warned: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("[collection-gap]"))
        .collect();
    assert_eq!(warned.len(), 7, "{stderr}");
    assert!(
        warned.iter().all(|l| l.contains("xx-nowhere-9")),
        "{stderr}"
    );
}
