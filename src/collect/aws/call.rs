//! Making calls: a cap on calls in flight, a count of calls, and turning each failed call into a
//! gap instead of an error.
//!
//! A failed call never aborts collection. It becomes a `gaps[]` entry naming the account, region,
//! service, operation and resource, and the observer hears of it at once, so the CLI can warn
//! while collection goes on.

use std::cell::RefCell;
use std::future::Future;

use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::{CreateUnhandledError, SdkError};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tokio::sync::Semaphore;

use super::Observer;
use super::ops::Op;
use crate::collect::snapshot::GapDto;
use crate::model;

/// What all the calls of one collection share.
pub(super) struct Ctx<'o> {
    semaphore: Semaphore,
    calls: std::cell::Cell<u64>,
    gaps: RefCell<Vec<GapDto>>,
    pub(super) observer: &'o dyn Observer,
}

impl<'o> Ctx<'o> {
    pub(super) fn new(concurrency: usize, observer: &'o dyn Observer) -> Self {
        Ctx {
            semaphore: Semaphore::new(concurrency.max(1)),
            calls: std::cell::Cell::new(0),
            gaps: RefCell::new(Vec::new()),
            observer,
        }
    }

    pub(super) fn calls(&self) -> u64 {
        self.calls.get()
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

    /// Reads every page. If the first page fails the list is `None` (not collected); if a later
    /// one fails, the pages read so far are kept. Either way the failure is a gap.
    pub(super) async fn pages<T, E>(
        &self,
        op: Op,
        resource: Option<&str>,
        mut stream: PaginationStream<Result<T, SdkError<E, HttpResponse>>>,
    ) -> Option<Vec<T>>
    where
        E: OpError,
    {
        let mut pages = Vec::new();
        loop {
            match self.ctx.page(&mut stream).await {
                None => return Some(pages),
                Some(Ok(page)) => pages.push(page),
                Some(Err(err)) => {
                    self.gap(op, resource, describe(err));
                    return (!pages.is_empty()).then_some(pages);
                }
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

/// A one-line description of a failed call: the service's error code and message, or what
/// went wrong on the way. It never includes the request, so no credentials or tokens.
pub(super) fn describe<E>(err: SdkError<E, HttpResponse>) -> String
where
    E: OpError,
{
    match err {
        SdkError::ServiceError(ref ctx) => {
            let status = ctx.raw().status().as_u16();
            let e = err.into_service_error();
            match (e.code(), e.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_string(),
                (None, Some(message)) => format!("HTTP {status}: {message}"),
                (None, None) => format!("HTTP {status}: {}", chain(&e)),
            }
        }
        SdkError::TimeoutError(_) => "timeout: the call did not finish in time".to_string(),
        SdkError::DispatchFailure(ref failure) => {
            let kind = if failure.is_timeout() {
                "timeout"
            } else if failure.is_io() {
                "network error"
            } else {
                "request not sent"
            };
            format!("{kind}: {}", chain(&err))
        }
        SdkError::ResponseError(_) => format!("malformed response: {}", chain(&err)),
        _ => chain(&err),
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
