//! The CloudFormation custom resource protocol: every request is answered.
//!
//! [`Provider::handle`] owns a request from the raw invocation bytes to the
//! PUT: it parses tolerantly, decides the answer (Delete always succeeds and
//! calls nothing; Create and Update resolve under a deadline), builds a body
//! that fits CloudFormation's limit, and sends exactly one response. Every
//! stage is guarded against panics. Resolvers never see any of this.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;

use thiserror::Error;
use tokio::time::Instant;
use tracing::Instrument;

use crate::physical_id::{CREATE_FAILED, UPDATE_FAILED};
use crate::progress::Progress;
use crate::properties::ResourceProperties;
use crate::reason;
use crate::resolve::{Requester, Resolve, Resolved};
use watchdog::{Orders, Watchdog};

/// The longest a logged field may be: with the rest of the line, one request's
/// outcome line stays far under 16 KB (CloudWatch Logs cuts an event at
/// 256 KB, and a line that size helps no one).
pub(crate) const LOG_FIELD_MAX: usize = 2048;

mod deadline;
/// The one place the provider meets the Lambda runtime.
mod invocation;
pub(crate) mod request;
pub(crate) mod response;
mod tolerant;
mod transport;
mod watchdog;

pub use deadline::Deadline;
pub use invocation::serve;
pub use request::{
    Cause, Found, Malformed, Problem, ProblemKind, Request, RequestType, UnanswerableRequest,
};
use response::Echo;
pub use response::{Answer, Status};
use transport::ResponseUrl;
pub use transport::{ResponseSender, ResponseUrlError, RetryPolicy, SendError};

/// Why an invocation ends in error (so Lambda records it, and for
/// asynchronous invocations retries it).
#[derive(Debug, Error)]
pub enum ProviderError {
    /// There is nowhere to send an answer.
    #[error(transparent)]
    Unanswerable(#[from] UnanswerableRequest),
    /// The ResponseURL is not one the provider may call.
    #[error(transparent)]
    ResponseUrl(#[from] ResponseUrlError),
    /// The answer could not be delivered.
    #[error(transparent)]
    NotDelivered(#[from] SendError),
    /// The provider panicked where no answer could follow (a bug).
    #[error("internal error: the provider panicked while {0}; this is a bug, please report it")]
    Panicked(String),
}

/// What happened to a request that was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    /// The answer sent.
    pub answer: Answer,
    /// PUT attempts it took.
    pub attempts: u32,
}

/// Answers CloudFormation requests using a resolver.
#[derive(Debug)]
pub struct Provider<R> {
    resolver: Arc<R>,
    sender: ResponseSender,
    config: Arc<crate::config::Config>,
}

impl<R: Resolve> Provider<R> {
    /// A provider that resolves with `resolver` and answers through `sender`.
    pub fn new(
        resolver: Arc<R>,
        sender: ResponseSender,
        config: Arc<crate::config::Config>,
    ) -> Self {
        Self {
            resolver,
            sender,
            config,
        }
    }

    /// Handles one invocation from its raw bytes, as the Lambda runtime
    /// received them: answers it exactly once, or says why it cannot.
    ///
    /// Every stage is guarded against panics. A panic while reading the
    /// request or deciding the answer (properties, resolution, the physical
    /// id, fitting the body) becomes one FAILED answer; a panic while sending
    /// is not followed by another PUT (the first may have arrived) and ends the
    /// invocation in error, so Lambda's retry can deliver the same answer.
    pub async fn handle(&self, raw: &[u8], deadline: Deadline) -> Result<Handled, ProviderError> {
        let started = Instant::now();
        let request = match guarded("reading the request", async { Request::from_bytes(raw) }).await
        {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                tracing::error!(error = %reason::cut(&e.to_string(), LOG_FIELD_MAX), "request cannot be answered");
                return Err(e.into());
            }
            Err(panic) => {
                // The essentials alone, read the simplest way, are enough
                // to answer FAILED.
                let essentials = async { request::essentials(raw, &panic.message) };
                match guarded("reading the request", essentials).await {
                    Ok(Some(r)) => r,
                    _ => {
                        tracing::error!(panic = %reason::cut(&panic.message, LOG_FIELD_MAX), "the provider panicked while reading the request; no response can be sent");
                        return Err(panic.into());
                    }
                }
            }
        };
        let span = guarded("opening the request's span", async {
            tracing::info_span!(
                "request",
                request_id = %reason::cut(&request.request_id, SPAN_FIELD_MAX),
                request_type = request.request_type.map_or("unknown", RequestType::as_str),
                logical_resource_id = %reason::cut(&request.logical_resource_id, SPAN_FIELD_MAX),
            )
        })
        .await
        .unwrap_or_else(|_| tracing::Span::none());
        guarded(
            "answering the request",
            self.answer_once(&request, deadline, started),
        )
        .instrument(span)
        .await
        .unwrap_or_else(|panic| Err(panic.into()))
    }

    /// Decides, fits and sends the one answer to an allowed ResponseURL,
    /// under a [`Watchdog`] that answers in its place if the deciding
    /// overruns the deadline without yielding.
    async fn answer_once(
        &self,
        request: &Request,
        deadline: Deadline,
        started: Instant,
    ) -> Result<Handled, ProviderError> {
        let url = match ResponseUrl::parse(&request.response_url, &self.config) {
            Ok(u) => u,
            Err(e) => {
                tracing::error!(error = %reason::cut(&e.to_string(), LOG_FIELD_MAX), "response URL refused; no response sent");
                return Err(e.into());
            }
        };
        self.sender.preconnect(&url);
        if deadline.fallback {
            tracing::warn!("the runtime's deadline is unusable; using the fallback budget");
        }
        let progress = Progress::default();
        let mut watchdog = Watchdog::arm(Orders {
            url: url.clone(),
            echo: echo(request),
            failed_id: failed_id(request),
            progress: progress.clone(),
            started,
            resolve_by: deadline.resolve_by,
            respond_by: deadline.respond_by,
            sender: self.sender.clone(),
            span: tracing::Span::current(),
        });
        let (answer, body) = guarded(
            "deciding the answer",
            self.decide(request, deadline, &progress),
        )
        .await
        .unwrap_or_else(|panic| panicked(request, &panic));
        let (answer, sent) = match watchdog.claim().await {
            Ok(()) => {
                let sent = guarded(
                    "sending the answer",
                    self.sender.send(&url, body, deadline.respond_by),
                )
                .await
                .unwrap_or_else(|panic| Err(SendError::Panicked(panic.message)));
                // The outcome line is only a log line: a panic in it changes nothing.
                let logged = async { log_outcome(&answer, &sent, &url, started, "request") };
                drop(guarded("logging the outcome", logged).await);
                (answer, sent)
            }
            // The watchdog answered (and logged the outcome).
            Err(Some(delivered)) => delivered,
            Err(None) => {
                return Err(ProviderError::Panicked(
                    "answering on the deadline from the watchdog thread".to_owned(),
                ));
            }
        };
        match sent {
            Ok(attempts) => Ok(Handled { answer, attempts }),
            Err(e) => Err(e.into()),
        }
    }

    /// The answer and the body that carries it.
    async fn decide(
        &self,
        request: &Request,
        deadline: Deadline,
        progress: &Progress,
    ) -> (Answer, Vec<u8>) {
        let answer = self.answer_with(request, deadline, progress).await;
        tracing::debug!(
            outcome = answer.status.as_str(),
            physical_resource_id = %reason::cut(&answer.physical_resource_id, LOG_FIELD_MAX),
            "answer decided"
        );
        fit(request, answer, &echo(request))
    }

    /// Decides the answer to `request` exactly as it would be sent, the
    /// body-size limit applied, without sending it: the dry-run CLI shows
    /// this, so a Reason seen locally is the Reason a stack would see.
    pub async fn answer(&self, request: &Request, deadline: Deadline) -> Answer {
        self.decide(request, deadline, &Progress::default()).await.0
    }

    /// [`Self::answer`], recording what it waits on in `progress`.
    async fn answer_with(
        &self,
        request: &Request,
        deadline: Deadline,
        progress: &Progress,
    ) -> Answer {
        let given_id = request.physical_resource_id.clone();
        let failed = |reason: String| Answer {
            status: Status::Failed,
            reason,
            physical_resource_id: failed_id(request),
            data: Default::default(),
            no_echo: false,
        };

        if request.request_type == Some(RequestType::Delete) {
            // The resource only reads, so there is nothing to undo; a Delete
            // must never fail, or the stack cannot be deleted or rolled back.
            return Answer {
                status: Status::Success,
                reason: "nothing to delete: the resource only reads".to_owned(),
                physical_resource_id: given_id.unwrap_or_else(|| CREATE_FAILED.to_owned()),
                data: Default::default(),
                no_echo: false,
            };
        }
        if let Some(problem) = &request.malformed {
            return failed(problem.to_string());
        }
        let props = match ResourceProperties::parse(&request.properties) {
            Ok(p) => p,
            Err(e) => return failed(e.to_string()),
        };
        if let Err(too_many) =
            response::keys_fit(&echo(request), CREATE_FAILED, &props.data_key_names())
        {
            return failed(too_many.to_string());
        }
        match self
            .resolve_by_deadline(request, &props, deadline, progress)
            .await
        {
            Ok(resolved) => Answer {
                status: Status::Success,
                reason: format!(
                    "resolved {} value(s) from {}",
                    resolved.data.len(),
                    props.region
                ),
                physical_resource_id: props.physical_id(&resolved.identity),
                no_echo: resolved.secret || props.no_echo,
                data: resolved.data,
            },
            // The one place a resolution failure becomes a Reason.
            Err(failure) => failed(failure.to_string()),
        }
    }

    /// Runs resolution on its own task, so a panic becomes a FAILED answer
    /// and the deadline can cut it off.
    async fn resolve_by_deadline(
        &self,
        request: &Request,
        props: &ResourceProperties,
        deadline: Deadline,
        progress: &Progress,
    ) -> Result<Resolved, Unresolved> {
        let requester = Requester {
            stack_id: request.stack_id.clone(),
            logical_resource_id: request.logical_resource_id.clone(),
        };
        let task = {
            let resolver = Arc::clone(&self.resolver);
            let props = props.clone();
            let progress = progress.clone();
            // The request's span goes along, so resolver log lines carry its ids.
            tokio::spawn(
                async move { resolver.resolve(&props, &requester, &progress).await }
                    .instrument(tracing::Span::current()),
            )
        };
        let abort = task.abort_handle();
        let started = Instant::now();
        match tokio::time::timeout_at(deadline.resolve_by, task).await {
            Err(_) => {
                abort.abort();
                Err(Unresolved::TimedOut {
                    seconds: started.elapsed().as_secs_f64(),
                    waiting_for: progress.describe(),
                    advice: progress.timeout_advice(&props.region),
                })
            }
            Ok(Err(join)) if join.is_panic() => Err(Unresolved::Panicked(panic_message(
                join.into_panic().as_ref(),
            ))),
            Ok(Err(_)) => Err(Unresolved::Cancelled),
            Ok(Ok(result)) => result.map_err(Unresolved::Failed),
        }
    }
}

/// Why resolution gave no Data: kept typed until `answer_with` writes the
/// Reason.
#[derive(Debug, Error)]
enum Unresolved {
    /// The resolver said why.
    #[error(transparent)]
    Failed(crate::resolve::ResolveError),
    /// The deadline came first.
    #[error(
        "timed out after {seconds:.1}s waiting for {waiting_for}; the provider answered before its Lambda deadline: {advice}"
    )]
    TimedOut {
        /// How long resolution ran.
        seconds: f64,
        /// What it was waiting on.
        waiting_for: String,
        /// What to do about it.
        advice: String,
    },
    /// The resolver panicked (a bug); the panic's message.
    #[error(
        "internal error: the provider panicked while resolving ({0}); this is a bug, please report it"
    )]
    Panicked(String),
    /// The resolver's task was cancelled before it finished.
    #[error(
        "internal error: resolution was cancelled before it finished; deploy again, and report it if it repeats"
    )]
    Cancelled,
}

/// The span's fields appear on every line of the request: kept shorter still.
const SPAN_FIELD_MAX: usize = 256;

/// The one outcome line of a request, every field bounded; `by` says who
/// sent the answer (the request's own path, or the deadline watchdog).
fn log_outcome(
    answer: &Answer,
    sent: &Result<u32, SendError>,
    url: &ResponseUrl,
    started: Instant,
    by: &str,
) {
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let physical_resource_id = reason::cut(&answer.physical_resource_id, LOG_FIELD_MAX);
    match sent {
        Ok(attempts) => tracing::info!(
            outcome = answer.status.as_str(),
            physical_resource_id = %physical_resource_id,
            reason = %reason::cut(&answer.reason, response::MAX_BODY_BYTES),
            attempts,
            duration_ms,
            answered_by = by,
            "request answered"
        ),
        Err(e) => tracing::error!(
            outcome = answer.status.as_str(),
            error = %reason::cut(&e.to_string(), LOG_FIELD_MAX),
            url = %reason::cut(&url.redacted(), LOG_FIELD_MAX),
            duration_ms,
            answered_by = by,
            "response not delivered"
        ),
    }
}

impl ProviderError {
    /// The name Lambda records as the invocation's `errorType`, one per
    /// kind of failure, so a person can search the logs and metrics for it.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Unanswerable(_) => "CrossRegionParam.Unanswerable",
            Self::ResponseUrl(_) => "CrossRegionParam.ResponseUrlRefused",
            Self::NotDelivered(_) => "CrossRegionParam.ResponseNotDelivered",
            Self::Panicked(_) => "CrossRegionParam.InternalError",
        }
    }
}

impl From<ProviderError> for lambda_runtime::Diagnostic {
    fn from(error: ProviderError) -> Self {
        Self {
            error_type: error.error_type().to_owned(),
            error_message: reason::cut(&error.to_string(), LOG_FIELD_MAX),
        }
    }
}

/// The id a FAILED answer carries: a fixed marker on Create (so the Delete
/// that follows is recognisable) and on Update (so the rollback keeps the
/// previous resource instead of asking it to read again; see
/// [`UPDATE_FAILED`]), the given id otherwise.
fn failed_id(request: &Request) -> String {
    match (&request.request_type, &request.physical_resource_id) {
        (Some(RequestType::Create), _) | (_, None) => CREATE_FAILED.to_owned(),
        (Some(RequestType::Update), Some(_)) => UPDATE_FAILED.to_owned(),
        (_, Some(id)) => id.clone(),
    }
}

fn echo(request: &Request) -> Echo {
    Echo {
        stack_id: request.stack_id.clone(),
        request_id: request.request_id.clone(),
        logical_resource_id: request.logical_resource_id.clone(),
    }
}

/// The body for `answer`; an answer whose Data does not fit becomes FAILED.
fn fit(request: &Request, answer: Answer, echo: &Echo) -> (Answer, Vec<u8>) {
    match response::body(echo, &answer) {
        Ok(body) => (answer, body),
        Err(too_large) => {
            let failed = Answer {
                status: Status::Failed,
                reason: too_large.to_string(),
                physical_resource_id: failed_id(request),
                data: Default::default(),
                no_echo: false,
            };
            let body = response::failed_body(echo, &failed);
            (failed, body)
        }
    }
}

/// The FAILED answer to a request whose handling panicked, built the
/// plainest way.
fn panicked(request: &Request, panic: &Panic) -> (Answer, Vec<u8>) {
    let answer = Answer {
        status: Status::Failed,
        reason: format!("internal error: {panic}; this is a bug, please report it"),
        physical_resource_id: failed_id(request),
        data: Default::default(),
        no_echo: false,
    };
    let body = response::failed_body(&echo(request), &answer);
    (answer, body)
}

/// A panic caught in one stage of handling a request.
#[derive(Debug)]
struct Panic {
    /// What the provider was doing, as in "the provider panicked while …".
    stage: &'static str,
    /// The panic's own message.
    message: String,
}

impl std::fmt::Display for Panic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the provider panicked while {} ({})",
            self.stage, self.message
        )
    }
}

impl From<Panic> for ProviderError {
    fn from(panic: Panic) -> Self {
        Self::Panicked(format!("{} ({})", panic.stage, panic.message))
    }
}

/// Runs one stage of a request, catching a panic in it. Every stage goes
/// through here (reading the request, its span, deciding the answer,
/// sending it, the outcome line), which is what makes "exactly one answer,
/// whatever panics" hold: the caller decides what a panic at its stage means.
async fn guarded<T>(stage: &'static str, work: impl Future<Output = T>) -> Result<T, Panic> {
    AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .map_err(|payload| Panic {
            stage,
            message: panic_message(payload.as_ref()),
        })
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "no message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_records_a_searchable_error_type_for_each_failure() {
        // Never `&alloc::boxed::Box<dyn core::error::Error + …>`: one name per failure.
        let cases = [
            (
                ProviderError::NotDelivered(SendError::GaveUp {
                    attempts: 0,
                    last: "the deadline came".into(),
                }),
                "CrossRegionParam.ResponseNotDelivered",
            ),
            (
                ProviderError::ResponseUrl(ResponseUrlError::NotAllowed("https://x/y".into())),
                "CrossRegionParam.ResponseUrlRefused",
            ),
            (
                ProviderError::Panicked("x".into()),
                "CrossRegionParam.InternalError",
            ),
        ];
        for (error, expected) in cases {
            let message = error.to_string();
            let diagnostic = lambda_runtime::Diagnostic::from(error);
            assert_eq!(diagnostic.error_type, expected);
            assert_eq!(diagnostic.error_message, message);
        }
    }
}
