//! Making calls: a cap on calls in flight, a count of calls, and turning each failed call into a
//! gap instead of an error.
//!
//! A failed call never aborts collection. It becomes a `gaps[]` entry naming the account, region,
//! service, operation and resource, and the observer hears of it at once, so the CLI can warn
//! while collection goes on.
//!
//! The SDK retries inside a call, out of our sight; [`CountingCache`] sits where every attempt
//! passes (the identity cache, asked for credentials once per attempt) and counts the retries.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_runtime_api::client::identity::{
    IdentityFuture, ResolveCachedIdentity, SharedIdentityCache, SharedIdentityResolver,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::{CreateUnhandledError, SdkError};
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::ErrorKind;
use tokio::sync::Semaphore;

use super::Observer;
use super::ops::Op;
use crate::collect::snapshot::GapDto;
use crate::model;

/// What all the calls of one collection share.
pub(super) struct Ctx<'o> {
    semaphore: Semaphore,
    calls: std::cell::Cell<u64>,
    /// Attempts after the first of any call, counted by [`CountingCache`] (which the SDK may
    /// call from any thread, hence the atomic).
    retries: Arc<AtomicU64>,
    gaps: RefCell<Vec<GapDto>>,
    pub(super) observer: &'o dyn Observer,
}

impl<'o> Ctx<'o> {
    pub(super) fn new(concurrency: usize, observer: &'o dyn Observer) -> Self {
        Ctx {
            semaphore: Semaphore::new(concurrency.max(1)),
            calls: std::cell::Cell::new(0),
            retries: Arc::new(AtomicU64::new(0)),
            gaps: RefCell::new(Vec::new()),
            observer,
        }
    }

    pub(super) fn calls(&self) -> u64 {
        self.calls.get()
    }

    /// Attempts made after a call's first one failed (throttling, 5xx, dropped connections).
    pub(super) fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// `cache`, counting into this collection's retries.
    pub(super) fn counting(&self, cache: SharedIdentityCache) -> SharedIdentityCache {
        SharedIdentityCache::new(CountingCache {
            inner: cache,
            retries: Arc::clone(&self.retries),
        })
    }

    pub(super) fn take_gaps(&self) -> Vec<GapDto> {
        std::mem::take(&mut *self.gaps.borrow_mut())
    }

    /// Records a gap and tells the observer.
    pub(super) fn gap(&self, gap: GapDto) {
        self.observer.gap(&model::Gap {
            account: gap.account.clone(),
            region: gap.region.clone(),
            service: gap.service.clone(),
            operation: gap.operation.clone(),
            resource: gap.resource.clone(),
            error: gap.error.clone(),
        });
        self.gaps.borrow_mut().push(gap);
    }

    /// Runs one request under the cap, counting it.
    async fn request<T, F: Future<Output = T>>(&self, fut: F) -> T {
        // INVARIANT: the semaphore is never closed, so acquiring fails only if it were.
        let _permit = self.semaphore.acquire().await;
        self.calls.set(self.calls.get() + 1);
        fut.await
    }
}

impl Ctx<'_> {
    /// Reads the next page under the cap; the end of the stream makes no call and is not
    /// counted.
    async fn page<T>(&self, stream: &mut PaginationStream<T>) -> Option<T> {
        let _permit = self.semaphore.acquire().await;
        let item = stream.next().await;
        if item.is_some() {
            self.calls.set(self.calls.get() + 1);
        }
        item
    }
}

/// What the SDK's operation errors are: they carry an AWS error code and message.
pub(super) trait OpError:
    ProvideErrorMetadata + CreateUnhandledError + std::error::Error + Send + Sync + 'static
{
}

impl<E> OpError for E where
    E: ProvideErrorMetadata + CreateUnhandledError + std::error::Error + Send + Sync + 'static
{
}

/// Where calls are made: an account and, for regional services, a region.
#[derive(Clone, Copy)]
pub(super) struct Scope<'a, 'o> {
    pub(super) ctx: &'a Ctx<'o>,
    pub(super) account: &'a str,
    pub(super) region: Option<&'a str>,
}

impl Scope<'_, '_> {
    /// Makes one call; a failure becomes a gap and `None`.
    pub(super) async fn call<T, E, F>(&self, op: Op, resource: Option<&str>, fut: F) -> Option<T>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: OpError,
    {
        match self.ctx.request(fut).await {
            Ok(out) => Some(out),
            Err(err) => {
                self.gap(op, resource, describe(err));
                None
            }
        }
    }

    /// Makes one call whose "not found" answer is a normal outcome (`Ok(None)`), such as a
    /// repository without a policy. Other failures become a gap and `Err(())`.
    pub(super) async fn call_or_absent<T, E, F>(
        &self,
        op: Op,
        resource: Option<&str>,
        absent: &[&str],
        fut: F,
    ) -> Result<Option<T>, ()>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: OpError,
    {
        match self.ctx.request(fut).await {
            Ok(out) => Ok(Some(out)),
            Err(err) if err.code().is_some_and(|c| absent.contains(&c)) => Ok(None),
            Err(err) => {
                self.gap(op, resource, describe(err));
                Err(())
            }
        }
    }

    /// Makes the first call with the credentials of an assumed role, which are only fetched
    /// then. A failure to get them is a gap for `assume` on `role` with STS's own answer; any
    /// other failure is a gap for `op`.
    pub(super) async fn call_assumed<T, E, F>(
        &self,
        op: Op,
        assume: Op,
        role: &str,
        fut: F,
    ) -> Option<T>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: OpError,
    {
        match self.ctx.request(fut).await {
            Ok(out) => Some(out),
            Err(err) => {
                match assume_role_failure(&err) {
                    Some(refused) => self.gap(assume, Some(role), describe_ref(refused)),
                    None => self.gap(op, None, describe(err)),
                }
                None
            }
        }
    }

    /// Reads every page. If the first page fails the list is `None` (not collected); if a later
    /// one fails, the pages read so far are kept. Either way the failure is a gap.
    pub(super) async fn pages<T, E>(
        &self,
        op: Op,
        resource: Option<&str>,
        stream: PaginationStream<Result<T, SdkError<E, HttpResponse>>>,
    ) -> Option<Vec<T>>
    where
        E: OpError,
    {
        let read = self.pages_noting(op, resource, None, stream).await;
        (read.complete || !read.pages.is_empty()).then_some(read.pages)
    }

    /// Reads every page, and says whether the list is complete. A failure is a gap whose error
    /// ends with `consequence`, when given: what the missing pages mean for the snapshot.
    pub(super) async fn pages_noting<T, E>(
        &self,
        op: Op,
        resource: Option<&str>,
        consequence: Option<&str>,
        mut stream: PaginationStream<Result<T, SdkError<E, HttpResponse>>>,
    ) -> Paged<T>
    where
        E: OpError,
    {
        let mut pages = Vec::new();
        loop {
            match self.ctx.page(&mut stream).await {
                None => {
                    return Paged {
                        pages,
                        complete: true,
                    };
                }
                Some(Ok(page)) => pages.push(page),
                Some(Err(err)) => {
                    self.gap(op, resource, with_consequence(describe(err), consequence));
                    return Paged {
                        pages,
                        complete: false,
                    };
                }
            }
        }
    }

    /// Makes one call; a failure becomes a gap whose error ends with `consequence`, and `None`.
    pub(super) async fn call_noting<T, E, F>(
        &self,
        op: Op,
        resource: Option<&str>,
        consequence: &str,
        fut: F,
    ) -> Option<T>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: OpError,
    {
        match self.ctx.request(fut).await {
            Ok(out) => Some(out),
            Err(err) => {
                self.gap(
                    op,
                    resource,
                    with_consequence(describe(err), Some(consequence)),
                );
                None
            }
        }
    }

    /// Records a gap for `op` in this scope.
    pub(super) fn gap(&self, op: Op, resource: Option<&str>, error: String) {
        self.ctx.gap(GapDto {
            account: Some(self.account.to_string()),
            region: self.region.map(str::to_string),
            service: Some(op.service.to_string()),
            operation: Some(op.operation.to_string()),
            resource: resource.map(str::to_string),
            error: Some(error),
        });
    }
}

/// The pages of a list, and whether every page was read.
pub(super) struct Paged<T> {
    /// The pages read, in order.
    pub(super) pages: Vec<T>,
    /// Whether the list ended normally (no page failed).
    pub(super) complete: bool,
}

/// `error`, then what it means for the snapshot.
fn with_consequence(error: String, consequence: Option<&str>) -> String {
    match consequence {
        Some(c) => format!("{error}; {c}"),
        None => error,
    }
}

/// A one-line description of a failed call: the service's error code and message, or what
/// went wrong on the way. It never includes the request, so no credentials or tokens.
pub(super) fn describe<E>(err: SdkError<E, HttpResponse>) -> String
where
    E: OpError,
{
    describe_ref(&err)
}

/// [`describe`], of a borrowed error. A call that could not be sent because the credentials of
/// an assumed role could not be renewed says so, with STS's answer.
fn describe_ref<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: OpError,
{
    match err {
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            let e = ctx.err();
            match (e.code(), e.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_string(),
                (None, Some(message)) => format!("HTTP {status}: {message}"),
                (None, None) => format!("HTTP {status}: {}", chain(e)),
            }
        }
        SdkError::TimeoutError(_) => "timeout: the call did not finish in time".to_string(),
        SdkError::DispatchFailure(failure) => {
            if let Some(refused) = assume_role_failure(err) {
                return format!(
                    "request not sent: the assumed role's credentials could not be renewed: {}",
                    describe_ref(refused)
                );
            }
            // A connection closed before the answer came is an I/O failure to hyper or, as
            // S3 sometimes sees it, a transient "incomplete message".
            let lost = failure.as_other() == Some(ErrorKind::TransientError);
            let kind = if failure.is_timeout() {
                "timeout"
            } else if failure.is_io() || lost {
                "network error"
            } else {
                "request not sent"
            };
            format!("{kind}: {}", chain(err))
        }
        SdkError::ResponseError(_) => format!("malformed response: {}", chain(err)),
        _ => chain(err),
    }
}

/// The AssumeRole failure behind a call that failed for want of credentials: the SDK resolves
/// credentials before sending, and aws-config's `AssumeRoleProvider` keeps STS's error as the
/// source of its own.
fn assume_role_failure<'e>(
    err: &'e (dyn std::error::Error + 'static),
) -> Option<&'e SdkError<AssumeRoleError, HttpResponse>> {
    let mut next = err.source();
    while let Some(e) = next {
        if let Some(refused) = e.downcast_ref::<SdkError<AssumeRoleError, HttpResponse>>() {
            return Some(refused);
        }
        next = e.source();
    }
    None
}

/// An identity cache that counts retries: the SDK asks it for credentials at every attempt of a
/// call, after recording the attempt's number, so an attempt numbered 2 or more is a retry.
/// (The inner cache's own config checks cannot be reached through the SDK's sealed trait; the
/// lazy cache's only check is that a time source and a sleep exist, which `aws-config` provides.)
#[derive(Debug)]
struct CountingCache {
    inner: SharedIdentityCache,
    retries: Arc<AtomicU64>,
}

impl ResolveCachedIdentity for CountingCache {
    fn resolve_cached_identity<'a>(
        &'a self,
        resolver: SharedIdentityResolver,
        runtime_components: &'a RuntimeComponents,
        config_bag: &'a ConfigBag,
    ) -> IdentityFuture<'a> {
        if config_bag
            .load::<RequestAttempts>()
            .is_some_and(|a| a.attempts() > 1)
        {
            self.retries.fetch_add(1, Ordering::Relaxed);
        }
        self.inner
            .resolve_cached_identity(resolver, runtime_components, config_bag)
    }
}

/// The error's message and each of its causes, once each.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = err.source();
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    if parts.is_empty() {
        err.to_string()
    } else {
        parts.join(": ")
    }
}
