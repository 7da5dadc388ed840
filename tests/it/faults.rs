//! Fault injection: the real `rolechain collect --org-role` against a seeded moto server, through
//! a loopback proxy that, from a fixed seed, answers some attempts with HTTP 503, with throttling
//! in each protocol's own shape (JSON `ThrottlingException` and query-XML `Throttling`, both 400;
//! EC2's 503 `RequestLimitExceeded`; S3's 503 `SlowDown`), by closing the connection unanswered,
//! or only after a delay.
//!
//! What it shows: with transient faults and enough `--max-attempts`, the snapshot is byte for
//! byte the clean collection's (apart from `collected_at`) and has no gap; with heavy faults,
//! every call lost is one gap naming its account, region, service and operation, and every part
//! of the snapshot no gap names equals the clean collection's; a failed ListAccounts says, in its
//! gap and in the summary line, that member accounts may be missing; `--strict` exits 1. The
//! summary line's retry and gap counts are checked against what the proxy saw.
//!
//! Every test resets and seeds the moto server that `moto.rs` uses too, so each holds its lock.
//! The proxy decides each fault from the seed, the request (its signing account's kind, method,
//! path, operation and body), the SDK's attempt number (`amz-sdk-request`) and how often the
//! same request was seen, so the order in which concurrent requests arrive does not matter.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use serde_json::{Value, json};

use super::moto::{config, doc, ecs_trust, reset, runtime};

/// The management account: moto's default.
const A: &str = "123456789012";
/// The role `--org-role` assumes; moto's CreateAccount makes it in each new account.
const ROLE: &str = "OrganizationAccountAccessRole";
/// How long a proxy serves at most.
const PROXY_LIFETIME: Duration = Duration::from_secs(180);
/// How many connections a proxy accepts at most.
const PROXY_CONNECTIONS: usize = 4000;
/// How many requests a proxy serves on one connection at most.
const REQUESTS_PER_CONNECTION: usize = 2000;

// ---------------------------------------------------------------------------------------------
// moto

/// The moto server's URL, from `ROLECHAIN_MOTO_URL`.
fn moto_url() -> String {
    std::env::var("ROLECHAIN_MOTO_URL").unwrap_or_else(|_| {
        panic!(
            "ROLECHAIN_MOTO_URL is not set: these tests need a running moto server \
             (`pip install \"moto[server]\"`, `moto_server -H 127.0.0.1 -p PORT`); \
             `bash scripts/test` starts one"
        )
    })
}

/// `host:port` of a URL `http://host:port`.
fn host(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

/// Seeds an organization of two accounts with something for every service the collector reads
/// (and so every protocol: query for IAM and STS, JSON for the others, REST-XML for S3), and
/// an OU and an SCP so that the organization's parents and policies take several calls.
/// Returns the member account's id.
async fn seed(url: &str) -> String {
    let cfg = config(url).await;
    let org = aws_sdk_organizations::Client::new(&cfg);
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_string();
    let b = org
        .create_account()
        .account_name("data")
        .email("data@example.com")
        .send()
        .await
        .unwrap()
        .create_account_status()
        .unwrap()
        .account_id()
        .unwrap()
        .to_string();
    let ou = org
        .create_organizational_unit()
        .parent_id(&root)
        .name("workloads")
        .send()
        .await
        .unwrap()
        .organizational_unit()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    org.move_account()
        .account_id(&b)
        .source_parent_id(&root)
        .destination_parent_id(&ou)
        .send()
        .await
        .unwrap();
    let scp = org
        .create_policy()
        .name("no-leaving")
        .description("members stay")
        .r#type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .content(doc(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
            "Action": "organizations:LeaveOrganization", "Resource": "*"}]}),
        ))
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .policy_summary()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    org.attach_policy()
        .policy_id(&scp)
        .target_id(&ou)
        .send()
        .await
        .unwrap();

    // Account A: IAM, S3, Secrets Manager, SSM, KMS, ECR, Logs and an ECS service.
    let iam = aws_sdk_iam::Client::new(&cfg);
    iam.create_policy()
        .policy_name("read-token")
        .policy_document(doc(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}),
        ))
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("web-task")
        .assume_role_policy_document(ecs_trust())
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("web-task")
        .policy_arn(format!("arn:aws:iam::{A}:policy/read-token"))
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("web-task")
        .policy_name("assume-reader")
        .policy_document(doc(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "sts:AssumeRole", "Resource": format!("arn:aws:iam::{b}:role/reader")}]}),
        ))
        .send()
        .await
        .unwrap();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&cfg)
            .force_path_style(true)
            .build(),
    );
    for bucket in ["rolechain-faults-a", "rolechain-faults-open"] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    s3.put_bucket_policy()
        .bucket("rolechain-faults-a")
        .policy(doc(
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "Read",
            "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{A}:role/web-task")},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::rolechain-faults-a/*"}]}),
        ))
        .send()
        .await
        .unwrap();
    let sm = aws_sdk_secretsmanager::Client::new(&cfg);
    let token = sm
        .create_secret()
        .name("app/token")
        .secret_string("t0ken")
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    sm.put_resource_policy()
        .secret_id(&token)
        .resource_policy(doc(
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "Task",
            "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{A}:role/web-task")},
            "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}),
        ))
        .send()
        .await
        .unwrap();
    aws_sdk_ssm::Client::new(&cfg)
        .put_parameter()
        .name("/app/key")
        .value("k")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    let kms = aws_sdk_kms::Client::new(&cfg);
    let key = kms
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    kms.create_alias()
        .alias_name("alias/app")
        .target_key_id(&key)
        .send()
        .await
        .unwrap();
    let ecr = aws_sdk_ecr::Client::new(&cfg);
    ecr.create_repository()
        .repository_name("web")
        .send()
        .await
        .unwrap();
    ecr.set_repository_policy()
        .repository_name("web")
        .policy_text(doc(
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "Pull",
            "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{b}:root")},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]}),
        ))
        .send()
        .await
        .unwrap();
    aws_sdk_cloudwatchlogs::Client::new(&cfg)
        .create_log_group()
        .log_group_name("/ecs/web")
        .send()
        .await
        .unwrap();
    let ecs = aws_sdk_ecs::Client::new(&cfg);
    ecs.create_cluster()
        .cluster_name("prod")
        .send()
        .await
        .unwrap();
    use aws_sdk_ecs::types::{ContainerDefinition, Secret};
    ecs.register_task_definition()
        .family("web")
        .task_role_arn(format!("arn:aws:iam::{A}:role/web-task"))
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image(format!("{A}.dkr.ecr.us-east-1.amazonaws.com/web:1"))
                .memory(512)
                .secrets(
                    Secret::builder()
                        .name("TOKEN")
                        .value_from(&token)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    ecs.create_service()
        .cluster("prod")
        .service_name("web")
        .task_definition("web:1")
        .desired_count(1)
        .send()
        .await
        .unwrap();

    // Account B, through the role the collector assumes: a role, a secret and a bucket.
    let assumed = aws_sdk_sts::Client::new(&cfg)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{b}:role/{ROLE}"))
        .role_session_name("seed")
        .send()
        .await
        .unwrap();
    let c = assumed.credentials().unwrap();
    let cfg_b = cfg
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            None,
            "moto",
        )))
        .build();
    aws_sdk_iam::Client::new(&cfg_b)
        .create_role()
        .role_name("reader")
        .assume_role_policy_document(doc(json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{A}:role/web-task")},
            "Action": "sts:AssumeRole"}]})))
        .send()
        .await
        .unwrap();
    aws_sdk_secretsmanager::Client::new(&cfg_b)
        .create_secret()
        .name("prod/db")
        .secret_string("s3cr3t")
        .send()
        .await
        .unwrap();
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&cfg_b)
            .force_path_style(true)
            .build(),
    )
    .create_bucket()
    .bucket("rolechain-faults-b")
    .send()
    .await
    .unwrap();
    b
}

// ---------------------------------------------------------------------------------------------
// The proxy

/// How an AWS API is spoken, which decides the shape of a throttling answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Protocol {
    /// `X-Amz-Target` and a JSON body (ECS, Secrets Manager, SSM, KMS, ECR, Logs,
    /// Organizations).
    Json,
    /// A form-encoded `Action=` body and XML answers (IAM, STS).
    Query,
    /// EC2's variant of the query protocol, with errors in a shape of their own.
    Ec2Query,
    /// REST and XML (S3).
    S3,
}

/// One fault the proxy injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Fault {
    /// HTTP 503 with an empty body.
    Unavailable,
    /// Throttling, in the protocol's own shape.
    Throttled(Protocol),
    /// The connection is closed without an answer.
    Dropped,
    /// The answer comes, after a delay: not a failure.
    Slow,
}

impl Fault {
    /// Whether the attempt fails (a slow answer does not).
    fn fails(self) -> bool {
        self != Fault::Slow
    }
}

/// What a proxy injects.
#[derive(Debug, Clone)]
struct Plan {
    /// The seed every decision derives from.
    seed: u64,
    /// The share of attempts that fail (503, throttled or dropped, a third each).
    rate: f64,
    /// The share of the other attempts answered slowly.
    slow_rate: f64,
    /// Attempts numbered this or higher never fail: faults are transient.
    clears_at: Option<u32>,
    /// Inject each kind of fault at least once, at the first attempt of a request that fits
    /// (throttling of each protocol, 503, dropped, slow), before drawing at random.
    cover: bool,
    /// This operation is throttled at every attempt.
    always: Option<&'static str>,
    /// The management account's GetCallerIdentity always passes, so that heavy faults cannot
    /// leave the run without any account (which is an error, not a snapshot with gaps).
    spare_management_identity: bool,
}

impl Plan {
    /// No faults at all.
    fn clean() -> Plan {
        Plan {
            seed: 0,
            rate: 0.0,
            slow_rate: 0.0,
            clears_at: None,
            cover: false,
            always: None,
            spare_management_identity: false,
        }
    }
}

/// One request the proxy saw.
#[derive(Debug, Clone)]
struct Seen {
    /// The API operation (`ListClusters`, `AssumeRole`, `GetBucketPolicy`).
    operation: String,
    protocol: Protocol,
    /// The SDK's attempt number and its maximum, from `amz-sdk-request`.
    attempt: u32,
    max: u32,
    /// What the proxy did to it.
    fault: Option<Fault>,
}

impl Seen {
    /// A retry: an attempt after the first. AssumeRole's retries are made by aws-config's own
    /// STS client inside the credentials provider, which the collector does not see.
    fn counted_retry(&self) -> bool {
        self.attempt > 1 && self.operation != "AssumeRole"
    }

    /// The call's last attempt failed: the call is lost, and must be a gap.
    fn lost(&self) -> bool {
        self.fault.is_some_and(Fault::fails) && self.attempt >= self.max
    }
}

/// The proxy's decisions so far.
struct State {
    plan: Plan,
    /// How often each (request, attempt) was seen, so that repeats draw afresh.
    occurrences: HashMap<(u64, u32), u64>,
    /// Kinds of fault still to inject at least once (with `cover`).
    owed: Vec<Fault>,
    seen: Vec<Seen>,
}

/// A loopback HTTP proxy to moto that injects faults: one thread accepts, one thread serves
/// each connection. It stops when dropped, after [`PROXY_LIFETIME`], or after
/// [`PROXY_CONNECTIONS`] connections, whichever comes first; a connection's thread ends when the
/// client closes it, after 30 idle seconds, or after [`REQUESTS_PER_CONNECTION`] requests.
struct Proxy {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Starts a proxy to `moto` on a free port of 127.0.0.1.
    fn start(moto: &str, plan: Plan) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let owed = if plan.cover {
            vec![
                Fault::Throttled(Protocol::Query),
                Fault::Throttled(Protocol::Json),
                Fault::Throttled(Protocol::S3),
                Fault::Throttled(Protocol::Ec2Query),
                Fault::Unavailable,
                Fault::Dropped,
                Fault::Slow,
            ]
        } else {
            Vec::new()
        };
        let state = Arc::new(Mutex::new(State {
            plan,
            occurrences: HashMap::new(),
            owed,
            seen: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let moto = host(moto);
        let thread = {
            let (state, stop) = (Arc::clone(&state), Arc::clone(&stop));
            std::thread::spawn(move || {
                let deadline = Instant::now() + PROXY_LIFETIME;
                let mut accepted = 0;
                while !stop.load(Ordering::Relaxed)
                    && Instant::now() < deadline
                    && accepted < PROXY_CONNECTIONS
                {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            accepted += 1;
                            let (state, moto) = (Arc::clone(&state), moto.clone());
                            std::thread::spawn(move || serve(stream, &moto, &state));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(2)),
                    }
                }
            })
        };
        Proxy {
            port,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// The URL to give `--endpoint-url`.
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request seen so far.
    fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One HTTP request.
struct Request {
    method: String,
    target: String,
    /// Names in lower case, in order.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    /// A header's value.
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The service the request was signed for (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`).
    fn service(&self) -> &str {
        self.header("authorization")
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split('/').nth(3))
            .unwrap_or("")
    }

    /// How the request's API is spoken.
    fn protocol(&self) -> Protocol {
        if self.header("x-amz-target").is_some() {
            Protocol::Json
        } else if self
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
        {
            if self.service() == "ec2" {
                Protocol::Ec2Query
            } else {
                Protocol::Query
            }
        } else {
            Protocol::S3
        }
    }

    /// The API operation, for the record.
    fn operation(&self) -> String {
        match self.protocol() {
            Protocol::Json => self
                .header("x-amz-target")
                .and_then(|t| t.rsplit('.').next())
                .unwrap_or("?")
                .to_string(),
            Protocol::Query | Protocol::Ec2Query => String::from_utf8_lossy(&self.body)
                .split('&')
                .find_map(|p| p.strip_prefix("Action="))
                .unwrap_or("?")
                .to_string(),
            Protocol::S3 => {
                let (path, query) = self.target.split_once('?').unwrap_or((&self.target, ""));
                if path == "/" {
                    "ListBuckets".to_string()
                } else if query.starts_with("location") {
                    "GetBucketLocation".to_string()
                } else if query.starts_with("policy") {
                    "GetBucketPolicy".to_string()
                } else {
                    format!("{} {}", self.method, self.target)
                }
            }
        }
    }

    /// The SDK's attempt number and maximum (`amz-sdk-request: attempt=2; max=5`).
    fn attempt(&self) -> (u32, u32) {
        let value = self.header("amz-sdk-request").unwrap_or("");
        let field = |name: &str| {
            value
                .split(';')
                .find_map(|p| p.trim().strip_prefix(name))
                .and_then(|v| v.parse().ok())
                .unwrap_or(1)
        };
        (field("attempt="), field("max="))
    }

    /// Whether the management account signed the request (with its fixed key), rather than an
    /// assumed role.
    fn by_management(&self) -> bool {
        self.header("authorization")
            .is_some_and(|a| a.contains("Credential=testing/"))
    }

    /// What identifies the request apart from its attempt: who signed it (the management
    /// account, or an assumed role), and the request itself.
    fn signature(&self) -> u64 {
        let mut h = Fnv::default();
        h.write(&[u8::from(self.by_management())]);
        h.write(self.method.as_bytes());
        h.write(self.target.as_bytes());
        h.write(self.header("x-amz-target").unwrap_or("").as_bytes());
        h.write(&self.body);
        h.0
    }
}

/// FNV-1a, 64 bits.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so that fields do not run into each other.
        self.0 = (self.0 ^ 0xff).wrapping_mul(0x0100_0000_01b3);
    }
}

/// splitmix64's finalizer.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A number in [0, 1) from a hash.
fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Decides the fault for one request, and records it; also returns the delay of a slow answer.
fn decide(state: &Mutex<State>, request: &Request) -> (Option<Fault>, Duration) {
    let mut state = state.lock().unwrap();
    let protocol = request.protocol();
    let operation = request.operation();
    let (attempt, max) = request.attempt();
    let signature = request.signature();
    let occurrence = {
        let n = state.occurrences.entry((signature, attempt)).or_insert(0);
        *n += 1;
        *n - 1
    };
    let plan = state.plan.clone();
    let h = mix(plan.seed
        ^ mix(signature)
        ^ u64::from(attempt).wrapping_mul(0x9e37_79b9)
        ^ occurrence.wrapping_mul(0x85eb_ca6b));
    let delay = Duration::from_millis(30 + mix(h ^ 1) % 120);
    let transient_over = plan.clears_at.is_some_and(|c| attempt >= c);
    let owed = if attempt == 1 {
        state.owed.iter().position(|f| match f {
            Fault::Throttled(p) => *p == protocol,
            _ => true,
        })
    } else {
        None
    };
    let spared = plan.spare_management_identity
        && operation == "GetCallerIdentity"
        && request.by_management();
    let fault = if plan.always.is_some_and(|op| op == operation) {
        Some(Fault::Throttled(protocol))
    } else if transient_over || spared {
        None
    } else if let Some(i) = owed {
        Some(state.owed.remove(i))
    } else if unit(h) < plan.rate {
        Some(match mix(h ^ 2) % 3 {
            0 => Fault::Unavailable,
            1 => Fault::Throttled(protocol),
            _ => Fault::Dropped,
        })
    } else if unit(mix(h ^ 3)) < plan.slow_rate {
        Some(Fault::Slow)
    } else {
        None
    };
    state.seen.push(Seen {
        operation,
        protocol,
        attempt,
        max,
        fault,
    });
    (fault, delay)
}

/// Throttling in each protocol's own shape: status, content type and body.
fn throttled(protocol: Protocol) -> (&'static str, &'static str, &'static str) {
    match protocol {
        Protocol::Json => (
            "400 Bad Request",
            "application/x-amz-json-1.1",
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
        ),
        Protocol::Query => (
            "400 Bad Request",
            "text/xml",
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>\
             <Message>Rate exceeded</Message></Error><RequestId>faults</RequestId></ErrorResponse>",
        ),
        Protocol::Ec2Query => (
            "503 Service Unavailable",
            "text/xml",
            "<Response><Errors><Error><Code>RequestLimitExceeded</Code>\
             <Message>Request limit exceeded.</Message></Error></Errors>\
             <RequestID>faults</RequestID></Response>",
        ),
        Protocol::S3 => (
            "503 Slow Down",
            "application/xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>\
             <Message>Please reduce your request rate.</Message><RequestId>faults</RequestId></Error>",
        ),
    }
}

/// Reads one request from a kept-alive connection; `None` at its end.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let len = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

/// Writes one answer with a `Content-Length`, keeping the connection open.
fn respond(
    out: &mut TcpStream,
    status: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        if ![
            "connection",
            "keep-alive",
            "transfer-encoding",
            "content-length",
        ]
        .contains(&k.as_str())
        {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    out.write_all(head.as_bytes())?;
    out.write_all(body)?;
    out.flush()
}

/// An answer: status line, headers and body.
type Answer = (String, Vec<(String, String)>, Vec<u8>);

/// Sends a request to moto on a connection of its own and reads the whole answer: status,
/// headers and body (de-chunked).
fn forward(moto: &str, request: &Request) -> std::io::Result<Answer> {
    let mut upstream = TcpStream::connect(moto)?;
    upstream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {moto}\r\nConnection: close\r\n",
        request.method, request.target
    );
    for (k, v) in &request.headers {
        if !["host", "connection", "keep-alive", "content-length"].contains(&k.as_str()) {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", request.body.len()));
    upstream.write_all(head.as_bytes())?;
    upstream.write_all(&request.body)?;
    let mut answer = Vec::new();
    upstream.read_to_end(&mut answer)?;
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers from moto"))?;
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let mut body = answer[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_once(' '))
        .map(|(_, s)| s.to_string())
        .ok_or_else(|| std::io::Error::other("no status line from moto"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Ok((status, headers, body))
}

/// The body of a chunked transfer.
fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&data[..end]);
        let size =
            usize::from_str_radix(size.split(';').next().unwrap_or("0").trim(), 16).unwrap_or(0);
        data = &data[end + 2..];
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[..size.min(data.len())]);
        data = &data[(size + 2).min(data.len())..];
    }
    out
}

/// Serves one client connection until it closes, a fault drops it, or it has been idle for 30
/// seconds.
fn serve(stream: TcpStream, moto: &str, state: &Mutex<State>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    for _ in 0..REQUESTS_PER_CONNECTION {
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        let (fault, delay) = decide(state, &request);
        let written = match fault {
            Some(Fault::Dropped) => return,
            Some(Fault::Unavailable) => respond(&mut out, "503 Service Unavailable", &[], b""),
            Some(Fault::Throttled(protocol)) => {
                let (status, kind, body) = throttled(protocol);
                let headers = [("content-type".to_string(), kind.to_string())];
                respond(&mut out, status, &headers, body.as_bytes())
            }
            Some(Fault::Slow) | None => {
                if fault.is_some() {
                    std::thread::sleep(delay);
                }
                match forward(moto, &request) {
                    Ok((status, headers, body)) => respond(&mut out, &status, &headers, &body),
                    Err(e) => respond(
                        &mut out,
                        "502 Bad Gateway",
                        &[],
                        format!("proxy: moto did not answer: {e}").as_bytes(),
                    ),
                }
            }
        };
        if written.is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Collecting and comparing

/// Runs the `rolechain` binary with moto's dummy credentials and no AWS configuration files.
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
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("ROLECHAIN_SNAPSHOT")
        .output()
        .unwrap()
}

/// One `rolechain collect` through a proxy.
struct Run {
    code: Option<i32>,
    stderr: String,
    /// The snapshot's text.
    text: String,
    snapshot: Value,
    elapsed: Duration,
}

impl Run {
    /// The gaps recorded.
    fn gaps(&self) -> &[Value] {
        self.snapshot["gaps"].as_array().map_or(&[], Vec::as_slice)
    }

    /// The summary line's gap and retry counts.
    fn summary(&self) -> (usize, u64, &str) {
        let line = self
            .stderr
            .lines()
            .find(|l| l.starts_with("collected "))
            .unwrap_or_else(|| panic!("no summary line: {}", self.stderr));
        let re = regex::Regex::new(r"(\d+) gap\(s\), \d+ call\(s\), (\d+) retry attempt\(s\) in")
            .unwrap();
        let c = re
            .captures(line)
            .unwrap_or_else(|| panic!("summary line without counts: {line}"));
        (c[1].parse().unwrap(), c[2].parse().unwrap(), line)
    }
}

/// `rolechain collect --org-role` through `proxy`, writing `<dir>/<name>.json`.
fn collect(proxy: &Proxy, dir: &Path, name: &str, extra: &[&str]) -> Run {
    let path = dir.join(format!("{name}.json"));
    let url = proxy.url();
    let mut args = vec![
        "collect",
        "--endpoint-url",
        &url,
        "--region",
        "us-east-1",
        "--org-role",
        ROLE,
        "--concurrency",
        "8",
        "-o",
        path.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let started = Instant::now();
    let out = rolechain(&args);
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("no snapshot written ({e}): {stderr}"));
    let snapshot = serde_json::from_str(&text).unwrap();
    Run {
        code: out.status.code(),
        stderr,
        text,
        snapshot,
        elapsed,
    }
}

/// A clean collection through a proxy that injects nothing: both accounts, no gap.
fn clean(url: &str, dir: &Path, b: &str) -> Run {
    let proxy = Proxy::start(url, Plan::clean());
    let run = collect(&proxy, dir, "clean", &["--max-attempts", "1"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.gaps().is_empty(), "{}", run.stderr);
    let mut ids: Vec<&str> = run.snapshot["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut want = vec![A, b];
    want.sort_unstable();
    assert_eq!(ids, want);
    assert!(
        proxy.seen().iter().all(|s| s.fault.is_none()),
        "the clean proxy injected nothing"
    );
    run
}

/// The snapshot's text without its `collected_at` line.
fn without_collected_at(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("\"collected_at\""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where a part of a snapshot lives: the organization (`account` empty), an account, or one
/// region of an account; and its key.
type Part = (String, Option<String>, String);

/// A snapshot cut into parts, each compared whole: every field of the organization, every
/// field of each account but `regions`, and every field of each region.
fn parts(snapshot: &Value) -> BTreeMap<Part, Value> {
    let mut out = BTreeMap::new();
    if let Some(org) = snapshot["organization"].as_object() {
        for (k, v) in org {
            out.insert((String::new(), None, k.clone()), v.clone());
        }
    }
    for account in snapshot["accounts"].as_array().unwrap() {
        let id = account["id"].as_str().unwrap().to_string();
        for (k, v) in account.as_object().unwrap() {
            if k == "regions" {
                for (region, services) in v.as_object().unwrap() {
                    for (s, value) in services.as_object().unwrap() {
                        out.insert((id.clone(), Some(region.clone()), s.clone()), value.clone());
                    }
                }
            } else {
                out.insert((id.clone(), None, k.clone()), v.clone());
            }
        }
    }
    out
}

/// The snapshot keys a service's calls fill: account-wide without a region, per region with one.
fn keys_of(service: &str, regional: bool) -> &'static [&'static str] {
    match (service, regional) {
        ("iam", false) => &["iam"],
        ("s3" | "s3control", false) => &["s3_buckets", "s3_public_access_block"],
        ("ecs", true) => &["ecs"],
        ("secretsmanager", true) => &["secrets"],
        ("ssm", true) => &["ssm_parameters"],
        ("kms", true) => &["kms_keys"],
        ("ecr", true) => &["ecr_repositories"],
        ("logs", true) => &["log_groups"],
        ("ec2", true) => &["ec2_instances"],
        _ => {
            panic!("a gap for {service} (regional: {regional}) names no known part: extend keys_of")
        }
    }
}

/// Regional services: their gaps must name a region.
const REGIONAL: &[&str] = &["ecs", "secretsmanager", "ssm", "kms", "ecr", "logs", "ec2"];

/// What the gaps excuse: whole accounts, the organization, and single parts.
#[derive(Debug, Default)]
struct Excused {
    accounts: BTreeSet<String>,
    members: bool,
    organization: bool,
    parts: BTreeSet<Part>,
}

impl Excused {
    /// Reads the gaps; `management` is the account that reads the organization, which gaps
    /// name by its profile until its id is known; `organization_read` says whether the
    /// organization came through (if not, a failed identity of `management` was the cause).
    fn from(gaps: &[Value], management: &str, organization_read: bool) -> Excused {
        let mut out = Excused::default();
        for g in gaps {
            let field = |k: &str| g[k].as_str().map(str::to_string);
            let account = field("account").expect("a gap names its account");
            let account = if account.chars().all(|c| c.is_ascii_digit()) {
                account
            } else {
                management.to_string()
            };
            let service = field("service").expect("a gap names its service");
            let operation = field("operation").expect("a gap names its operation");
            let region = field("region");
            assert!(
                !account.is_empty() && !service.is_empty() && !operation.is_empty(),
                "{g}"
            );
            assert!(
                field("error").is_some_and(|e| !e.is_empty()),
                "a gap says what went wrong: {g}"
            );
            let regional = REGIONAL.contains(&service.as_str());
            assert_eq!(
                region.is_some(),
                regional,
                "the gap names a region if and only if the service is regional: {g}"
            );
            match service.as_str() {
                "sts" => {
                    out.accounts.insert(account.clone());
                    // The management account's identity is where the organization is read.
                    if account == management && !organization_read {
                        out.organization = true;
                        out.members = true;
                    }
                }
                "organizations" => {
                    out.organization = true;
                    if ["DescribeOrganization", "ListAccounts"].contains(&operation.as_str()) {
                        out.members = true;
                    }
                }
                _ => {
                    for key in keys_of(&service, regional) {
                        out.parts
                            .insert((account.clone(), region.clone(), (*key).to_string()));
                    }
                }
            }
        }
        out
    }

    /// Whether the gaps excuse a difference in `part`.
    fn covers(&self, part: &Part, management: &str) -> bool {
        let (account, _, _) = part;
        if account.is_empty() {
            return self.organization;
        }
        self.accounts.contains(account)
            || (self.members && account != management)
            || self.parts.contains(part)
    }
}

/// Every part that no gap names is as in the clean collection; a faulty collection invents no
/// part. Returns how many parts were equal and how many the gaps excused.
fn compare_parts(clean: &Run, faulty: &Run) -> (usize, usize) {
    let excused = Excused::from(
        faulty.gaps(),
        A,
        faulty.snapshot["organization"].is_object(),
    );
    let (want, got) = (parts(&clean.snapshot), parts(&faulty.snapshot));
    for part in got.keys() {
        assert!(
            want.contains_key(part) || excused.covers(part, A),
            "the faulty collection has a part the clean one lacks: {part:?}"
        );
    }
    let (mut equal, mut skipped) = (0, 0);
    for (part, value) in &want {
        if excused.covers(part, A) {
            skipped += 1;
            continue;
        }
        assert_eq!(
            got.get(part),
            Some(value),
            "{part:?} differs from the clean collection, and no gap names it\ngaps: {:#?}",
            faulty.gaps()
        );
        equal += 1;
    }
    (equal, skipped)
}

/// How many injected faults of each kind.
fn tally(seen: &[Seen]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for s in seen {
        if let Some(f) = s.fault {
            *out.entry(format!("{f:?}")).or_insert(0) += 1;
        }
    }
    out
}

/// Resets and seeds moto; returns its URL and the member account's id.
fn seeded() -> (String, String) {
    let url = moto_url();
    reset(&url);
    let b = runtime().block_on(seed(&url));
    (url, b)
}

/// Holds moto for the test (see `moto.rs`).
fn moto_lock() -> std::sync::MutexGuard<'static, ()> {
    crate::moto::MOTO.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn transient_faults_are_retried_into_the_clean_snapshot() {
    let _lock = moto_lock();
    let (url, b) = seeded();
    let dir = tempfile::tempdir().unwrap();
    let clean = clean(&url, dir.path(), &b);

    // One attempt in six fails, until the third; three attempts always get through.
    let proxy = Proxy::start(
        &url,
        Plan {
            seed: 0x5eed_0001,
            rate: 0.15,
            slow_rate: 0.1,
            clears_at: Some(3),
            cover: true,
            ..Plan::clean()
        },
    );
    let run = collect(&proxy, dir.path(), "transient", &["--max-attempts", "3"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.gaps().is_empty(), "{}", run.stderr);
    assert_eq!(
        without_collected_at(&run.text),
        without_collected_at(&clean.text),
        "the snapshot is the clean one"
    );

    let seen = proxy.seen();
    let kinds = tally(&seen);
    for kind in [
        "Throttled(Json)",
        "Throttled(Query)",
        "Throttled(S3)",
        "Unavailable",
        "Dropped",
        "Slow",
    ] {
        assert!(kinds.contains_key(kind), "{kind} was injected: {kinds:?}");
    }
    let retries = seen.iter().filter(|s| s.counted_retry()).count() as u64;
    let (gaps, summary_retries, line) = run.summary();
    assert_eq!(gaps, 0, "{line}");
    assert!(retries > 0);
    assert_eq!(
        summary_retries, retries,
        "the summary counts the retries the proxy saw: {line}"
    );
    eprintln!(
        "transient: {} requests, faults {kinds:?}, {retries} retries, {:.1}s (clean {:.1}s)\n{line}",
        seen.len(),
        run.elapsed.as_secs_f64(),
        clean.elapsed.as_secs_f64()
    );
}

#[test]
fn heavy_faults_lose_only_what_gaps_name_and_strict_exits_1() {
    let _lock = moto_lock();
    let (url, b) = seeded();
    let dir = tempfile::tempdir().unwrap();
    let clean = clean(&url, dir.path(), &b);

    // Half of all attempts fail, and a call has two: about a quarter of calls are lost.
    let proxy = Proxy::start(
        &url,
        Plan {
            seed: 4,
            rate: 0.5,
            slow_rate: 0.1,
            spare_management_identity: true,
            ..Plan::clean()
        },
    );
    let run = collect(
        &proxy,
        dir.path(),
        "heavy",
        &["--max-attempts", "2", "--strict"],
    );
    assert_eq!(
        run.code,
        Some(1),
        "--strict exits 1 with gaps: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("`--strict`: collection recorded"),
        "{}",
        run.stderr
    );

    let seen = proxy.seen();
    let lost = seen.iter().filter(|s| s.lost()).count();
    let gaps = run.gaps();
    assert!(!gaps.is_empty(), "heavy faults lose calls");
    assert_eq!(
        gaps.len(),
        lost,
        "every call lost is one gap\ngaps: {gaps:#?}\nlost: {:#?}",
        seen.iter().filter(|s| s.lost()).collect::<Vec<_>>()
    );
    // The gaps of the lost calls, operation by operation, as the proxy saw them (S3's as one
    // lot, since the proxy names only some of S3's operations).
    let mut by_operation: BTreeMap<String, usize> = BTreeMap::new();
    for s in seen.iter().filter(|s| s.lost()) {
        let key = match s.protocol {
            Protocol::S3 => "s3:*".to_string(),
            _ => s.operation.clone(),
        };
        *by_operation.entry(key).or_insert(0) += 1;
    }
    let mut gap_operations: BTreeMap<String, usize> = BTreeMap::new();
    for g in gaps {
        let key = if g["service"].as_str().unwrap().starts_with("s3") {
            "s3:*".to_string()
        } else {
            g["operation"].as_str().unwrap().to_string()
        };
        *gap_operations.entry(key).or_insert(0) += 1;
    }
    assert_eq!(gap_operations, by_operation);
    let (equal, excused) = compare_parts(&clean, &run);
    assert!(equal > 0, "some parts came through");

    let retries = seen.iter().filter(|s| s.counted_retry()).count() as u64;
    let (summary_gaps, summary_retries, line) = run.summary();
    assert_eq!(summary_gaps, gaps.len(), "{line}");
    assert_eq!(summary_retries, retries, "{line}");
    eprintln!(
        "heavy: {} requests, faults {:?}, {retries} retries, {} gaps ({lost} calls lost), \
         {equal} parts equal, {excused} excused by gaps, {:.1}s\n{line}",
        seen.len(),
        tally(&seen),
        gaps.len(),
        run.elapsed.as_secs_f64()
    );
}

#[test]
fn a_failed_list_accounts_says_member_accounts_may_be_missing() {
    let _lock = moto_lock();
    let (url, b) = seeded();
    let dir = tempfile::tempdir().unwrap();
    let clean = clean(&url, dir.path(), &b);

    let proxy = Proxy::start(
        &url,
        Plan {
            always: Some("ListAccounts"),
            ..Plan::clean()
        },
    );
    let run = collect(&proxy, dir.path(), "no-accounts", &["--max-attempts", "2"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let gaps = run.gaps();
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    assert_eq!(
        gaps[0],
        json!({
            "account": A,
            "service": "organizations",
            "operation": "ListAccounts",
            "error": "ThrottlingException: Rate exceeded; member accounts may be missing from this \
                      snapshot: the organization's account list was not read in full",
        })
    );
    assert!(
        run.stderr.contains(
            "warning: could not read organizations:ListAccounts in 123456789012: \
             ThrottlingException: Rate exceeded; member accounts may be missing"
        ),
        "{}",
        run.stderr
    );
    let (summary_gaps, retries, line) = run.summary();
    assert_eq!(summary_gaps, 1);
    assert_eq!(retries, 1, "ListAccounts was tried twice: {line}");
    assert!(
        line.ends_with(
            "; member accounts may be missing: the organization or its account list could not \
             be read in full (see the gaps)"
        ),
        "{line}"
    );
    let ids: Vec<&str> = run.snapshot["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [A], "no member is known");
    let (equal, _) = compare_parts(&clean, &run);
    assert!(equal > 0);
    // The clean run's summary says nothing of the kind.
    assert!(
        !clean.summary().2.contains("may be missing"),
        "{}",
        clean.stderr
    );
}
