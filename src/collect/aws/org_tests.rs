//! `--org-role` credentials against a stubbed STS on 127.0.0.1: they are renewed before they
//! expire during a read that outlasts them, every AssumeRole carries the session name and the
//! external id, and a refused AssumeRole (first or renewal) is a gap with STS's answer.
//!
//! The stub hands out credentials valid for twenty seconds, and the SDK runs on a clock that the
//! stub moves on by three seconds with each page it serves, so time passes the same however
//! loaded the machine is: a paginated IAM read of 25 pages lasts 75 seconds to the SDK, over
//! three lifetimes of a credential, and takes a fraction of a second of wall time. The SDK's
//! identity cache renews credentials 5 to 10 seconds before they expire, at the first call in
//! that window, which a call every 3 seconds cannot miss. The stub judges each request by its
//! signing time (`X-Amz-Date`, on the SDK's clock) and answers `ExpiredToken` to one signed with
//! expired credentials, which would be a gap.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_sts::config::Credentials;
use aws_smithy_async::time::{SharedTimeSource, TimeSource};

use super::super::call::{Ctx, Scope};
use super::super::{CollectOptions, Silent, Target, account, credentials_cache};
use super::{SESSION_NAME, assume};

/// How long the stub's credentials are valid, on the SDK's clock.
const VALIDITY_SECS: i64 = 20;
/// Pages of GetAccountAuthorizationDetails the stub serves.
const PAGES: usize = 25;
/// How far the SDK's clock moves on with each page served.
const STEP_SECS: u64 = 3;
/// The member account the stub's role lives in.
const MEMBER: &str = "222222222222";

/// The SDK's clock: a start, and the seconds the stub has moved it on since.
#[derive(Debug)]
struct SteppedClock {
    start: SystemTime,
    offset: Arc<AtomicU64>,
}

impl TimeSource for SteppedClock {
    fn now(&self) -> SystemTime {
        self.start + Duration::from_secs(self.offset.load(Ordering::SeqCst))
    }
}

/// One AssumeRole the stub answered.
#[derive(Debug, Clone)]
struct Assumed {
    /// The request's signing time, in seconds since the epoch on the SDK's clock.
    at: i64,
    /// When the credentials handed out expire, on the same clock.
    expires: i64,
    role: String,
    session: Option<String>,
    external_id: Option<String>,
    access_key: String,
}

/// What the stub saw.
#[derive(Debug, Default)]
struct Log {
    assumed: Vec<Assumed>,
    /// Requests signed with credentials that had expired, as `Action key`.
    expired: Vec<String>,
    /// Requests other than AssumeRole.
    calls: usize,
}

/// A tiny STS and IAM on 127.0.0.1 (query protocol), one thread per connection; it stops when
/// dropped, or after 60 seconds or 64 connections, whichever comes first.
struct Stub {
    addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    /// The SDK clock's offset, which each page served moves on by [`STEP_SECS`].
    clock: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Stub {
    /// Starts the stub on a free port of 127.0.0.1.
    fn start() -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Log::default()));
        let clock = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (log, clock, stop) = (Arc::clone(&log), Arc::clone(&clock), Arc::clone(&stop));
            std::thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(60);
                let mut connections = 0;
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline && connections < 64
                {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            connections += 1;
                            let (log, clock) = (Arc::clone(&log), Arc::clone(&clock));
                            std::thread::spawn(move || serve(stream, &log, &clock));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(2)),
                    }
                }
            })
        };
        Stub {
            addr,
            log,
            clock,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap()
    }

    /// The SDK's clock, which this stub moves on.
    fn clock(&self) -> SteppedClock {
        SteppedClock {
            start: SystemTime::now(),
            offset: Arc::clone(&self.clock),
        }
    }

    /// How far the SDK's clock has moved on.
    fn elapsed(&self) -> u64 {
        self.clock.load(Ordering::SeqCst)
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One parsed request: headers (lower-case names) and form parameters.
struct Request {
    headers: BTreeMap<String, String>,
    params: BTreeMap<String, String>,
}

/// Reads one request from a kept-alive connection; `None` at its end.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).ok()? == 0 {
        return None;
    }
    let mut headers = BTreeMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
    }
    let len = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    let body = String::from_utf8_lossy(&body);
    let params = body
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            let v = percent_encoding::percent_decode_str(v).decode_utf8_lossy();
            (k.to_string(), v.into_owned())
        })
        .collect();
    Some(Request { headers, params })
}

/// Serves one connection until the client closes it.
fn serve(stream: TcpStream, log: &Mutex<Log>, clock: &AtomicU64) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let (status, body) = answer(&request, log, clock);
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(body.as_bytes()).is_err()
        {
            return;
        }
    }
}

/// Seconds since the epoch of an `X-Amz-Date` (`20250102T030405Z`).
fn signed_at(request: &Request) -> i64 {
    let d = request.headers["x-amz-date"].as_str();
    let n = |r: std::ops::Range<usize>| d[r].parse::<u32>().unwrap();
    chrono::NaiveDate::from_ymd_opt(n(0..4) as i32, n(4..6), n(6..8))
        .and_then(|day| day.and_hms_opt(n(9..11), n(11..13), n(13..15)))
        .unwrap()
        .and_utc()
        .timestamp()
}

/// The access key that signed a request.
fn access_key(request: &Request) -> String {
    let auth = &request.headers["authorization"];
    let credential = auth.split("Credential=").nth(1).unwrap();
    credential.split('/').next().unwrap().to_string()
}

/// An error in the query protocol's shape.
fn error(status: &str, code: &str, message: &str) -> (String, String) {
    (
        status.to_string(),
        format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>stub</RequestId></ErrorResponse>"
        ),
    )
}

/// A successful answer of `action` with `result` inside.
fn ok(action: &str, namespace: &str, result: &str) -> (String, String) {
    (
        "200 OK".to_string(),
        format!(
            "<{action}Response xmlns=\"{namespace}\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>stub</RequestId></ResponseMetadata></{action}Response>"
        ),
    )
}

const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const IAM_NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// The stub's answer. Roles named `denied` cannot be assumed; roles named `revoked` can be
/// assumed once only.
fn answer(request: &Request, log: &Mutex<Log>, clock: &AtomicU64) -> (String, String) {
    let at = signed_at(request);
    let action = request.params.get("Action").cloned().unwrap_or_default();
    let key = access_key(request);
    if action == "AssumeRole" {
        let role = request.params["RoleArn"].clone();
        let mut log = log.lock().unwrap();
        let before = log.assumed.iter().filter(|a| a.role == role).count();
        if role.ends_with("/denied") || (role.ends_with("/revoked") && before > 0) {
            return error(
                "403 Forbidden",
                "AccessDenied",
                "not authorized to perform sts:AssumeRole",
            );
        }
        let access_key = format!("ASIASTUB{:04}", log.assumed.len());
        let expires = at + VALIDITY_SECS;
        log.assumed.push(Assumed {
            at,
            expires,
            role: role.clone(),
            session: request.params.get("RoleSessionName").cloned(),
            external_id: request.params.get("ExternalId").cloned(),
            access_key: access_key.clone(),
        });
        let expiration = chrono::DateTime::from_timestamp(expires, 0)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        return ok(
            "AssumeRole",
            STS_NS,
            &format!(
                "<Credentials><AccessKeyId>{access_key}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken><Expiration>{expiration}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROASTUB:{SESSION_NAME}</AssumedRoleId><Arn>arn:aws:sts::{MEMBER}:assumed-role/reader/{SESSION_NAME}</Arn></AssumedRoleUser>"
            ),
        );
    }
    {
        let mut log = log.lock().unwrap();
        log.calls += 1;
        let issued = log.assumed.iter().find(|a| a.access_key == key).cloned();
        match issued {
            None => return error("403 Forbidden", "InvalidClientTokenId", "unknown key"),
            Some(a) if at >= a.expires => {
                log.expired.push(format!("{action} {key}"));
                return error(
                    "403 Forbidden",
                    "ExpiredToken",
                    "The security token included in the request is expired",
                );
            }
            Some(_) => {}
        }
    }
    match action.as_str() {
        "GetCallerIdentity" => ok(
            "GetCallerIdentity",
            STS_NS,
            &format!(
                "<Arn>arn:aws:sts::{MEMBER}:assumed-role/reader/{SESSION_NAME}</Arn><UserId>AROASTUB:{SESSION_NAME}</UserId><Account>{MEMBER}</Account>"
            ),
        ),
        "GetAccountAuthorizationDetails" => {
            clock.fetch_add(STEP_SECS, Ordering::SeqCst);
            let page: usize = request
                .params
                .get("Marker")
                .map_or(0, |m| m.trim_start_matches('p').parse().unwrap());
            let more = if page + 1 < PAGES {
                format!(
                    "<IsTruncated>true</IsTruncated><Marker>p{}</Marker>",
                    page + 1
                )
            } else {
                "<IsTruncated>false</IsTruncated>".to_string()
            };
            ok(
                "GetAccountAuthorizationDetails",
                IAM_NS,
                &format!(
                    "{more}<RoleDetailList><member><Arn>arn:aws:iam::{MEMBER}:role/r{page}</Arn><RoleName>r{page}</RoleName></member></RoleDetailList><UserDetailList/><GroupDetailList/><Policies/>"
                ),
            )
        }
        other => error("400 Bad Request", "InvalidAction", other),
    }
}

/// Gaps as JSON, for messages.
fn show(gaps: &[crate::collect::snapshot::GapDto]) -> String {
    serde_json::to_string_pretty(gaps).unwrap()
}

/// Runs a future on a current-thread runtime, as `collect` does.
fn run<T>(fut: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(fut)
}

/// The management account's target: static credentials, the stub as endpoint and clock, and
/// the collector's own identity cache.
async fn base(ctx: &Ctx<'_>, stub: &Stub) -> Target {
    let url = stub.url();
    let clock = stub.clock();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new(
            "AKIDMANAGEMENT",
            "secret",
            None,
            None,
            "test",
        ))
        .time_source(SharedTimeSource::new(clock))
        .retry_config(RetryConfig::disabled())
        .identity_cache(ctx.counting(credentials_cache()))
        .load()
        .await;
    Target {
        config,
        regions: vec!["us-east-1".to_string()],
        id: None,
        name: None,
        label: "the default profile".to_string(),
    }
}

/// The management account's scope.
fn management<'a, 'o>(ctx: &'a Ctx<'o>) -> Scope<'a, 'o> {
    Scope {
        ctx,
        account: "111111111111",
        region: None,
    }
}

#[test]
fn assumed_credentials_are_renewed_before_they_expire() {
    let stub = Stub::start();
    let ctx = Ctx::new(4, &Silent);
    let options = CollectOptions {
        external_id: Some("ext-1".to_string()),
        ..CollectOptions::default()
    };
    let iam = run(async {
        let base = base(&ctx, &stub).await;
        let target = assume(
            management(&ctx),
            &base,
            "aws",
            MEMBER.to_string(),
            None,
            "reader",
            &options,
        )
        .await
        .expect("the role is assumed");
        let member = Scope {
            ctx: &ctx,
            account: MEMBER,
            region: None,
        };
        account::iam(member, &aws_sdk_iam::Client::new(&target.config)).await
    });
    let log = stub.log();
    let gaps = ctx.take_gaps();
    assert!(gaps.is_empty(), "{}", show(&gaps));
    assert!(
        log.expired.is_empty(),
        "signed with expired credentials: {:?}",
        log.expired
    );
    let roles: Vec<_> = iam
        .expect("IAM was read")
        .role_detail_list
        .into_iter()
        .map(|r| r.role_name.unwrap())
        .collect();
    assert_eq!(roles.len(), PAGES, "every page was read: {roles:?}");

    // The read lasted 75 seconds on the SDK's clock, over three lifetimes of a credential, each
    // of which covers at most 20 of them.
    let sdk_secs = stub.elapsed();
    assert_eq!(sdk_secs, PAGES as u64 * STEP_SECS);
    let assumed = &log.assumed;
    assert!(
        assumed.len() >= 4,
        "the role was assumed again as its credentials neared expiry: {assumed:#?}"
    );
    for pair in assumed.windows(2) {
        assert!(
            pair[1].at < pair[0].expires,
            "renewed before the last credentials expired: {pair:#?}"
        );
    }
    for a in assumed {
        assert_eq!(a.role, format!("arn:aws:iam::{MEMBER}:role/reader"));
        assert_eq!(a.session.as_deref(), Some("rolechain"));
        assert_eq!(a.external_id.as_deref(), Some("ext-1"));
    }
    // One GetCallerIdentity (which assumed the role first) and one call per page; renewals
    // are the SDK's business, not calls of ours.
    assert_eq!(ctx.calls(), 1 + PAGES as u64);
    assert_eq!(log.calls, 1 + PAGES);
    assert_eq!(ctx.retries(), 0);
    eprintln!(
        "{} AssumeRole(s) in {sdk_secs}s on the SDK's clock: {:?}",
        assumed.len(),
        assumed
            .iter()
            .map(|a| a.at - assumed[0].at)
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_refused_assume_role_is_a_gap_for_the_member() {
    let stub = Stub::start();
    let ctx = Ctx::new(4, &Silent);
    let target = run(async {
        let base = base(&ctx, &stub).await;
        assume(
            management(&ctx),
            &base,
            "aws",
            "333333333333".to_string(),
            None,
            "denied",
            &CollectOptions::default(),
        )
        .await
    });
    assert!(target.is_none(), "the account is skipped");
    let gaps = ctx.take_gaps();
    assert_eq!(gaps.len(), 1, "{}", show(&gaps));
    let gap = &gaps[0];
    assert_eq!(gap.account.as_deref(), Some("333333333333"));
    assert_eq!(gap.region, None);
    assert_eq!(gap.service.as_deref(), Some("sts"));
    assert_eq!(gap.operation.as_deref(), Some("AssumeRole"));
    assert_eq!(
        gap.resource.as_deref(),
        Some("arn:aws:iam::333333333333:role/denied")
    );
    assert_eq!(
        gap.error.as_deref(),
        Some("AccessDenied: not authorized to perform sts:AssumeRole")
    );
    let log = stub.log();
    assert_eq!(log.calls, 0, "nothing was sent without credentials");
}

#[test]
fn a_refused_renewal_is_a_gap_and_keeps_the_pages_read() {
    let stub = Stub::start();
    let ctx = Ctx::new(4, &Silent);
    let iam = run(async {
        let base = base(&ctx, &stub).await;
        let target = assume(
            management(&ctx),
            &base,
            "aws",
            MEMBER.to_string(),
            None,
            "revoked",
            &CollectOptions::default(),
        )
        .await
        .expect("the first AssumeRole is allowed");
        let member = Scope {
            ctx: &ctx,
            account: MEMBER,
            region: None,
        };
        account::iam(member, &aws_sdk_iam::Client::new(&target.config)).await
    });
    let read = iam.expect("the pages read before the refusal are kept");
    assert!(
        !read.role_detail_list.is_empty() && read.role_detail_list.len() < PAGES,
        "{}",
        read.role_detail_list.len()
    );
    let gaps = ctx.take_gaps();
    assert_eq!(gaps.len(), 1, "{}", show(&gaps));
    assert_eq!(
        gaps[0].operation.as_deref(),
        Some("GetAccountAuthorizationDetails")
    );
    assert_eq!(
        gaps[0].error.as_deref(),
        Some(
            "request not sent: the assumed role's credentials could not be renewed: \
             AccessDenied: not authorized to perform sts:AssumeRole"
        )
    );
    assert!(stub.log().expired.is_empty());
}
