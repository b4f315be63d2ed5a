//! Sending the response to CloudFormation's presigned ResponseURL.
//!
//! The URL is checked against the provider's allowed hosts before anything is
//! sent, and only its redacted form (no query string, which holds the
//! signature) is ever logged. The PUT carries an empty Content-Type, because
//! the presigned S3 URL was signed without one, and is retried with backoff on
//! 5xx and connection errors, never past the deadline. Redirects are never
//! followed: the allow-list names where an answer may go, and a redirect would
//! carry the body (Data, possibly decrypted values) past it. A 3xx is a failed
//! delivery, logged with the target's redacted form only.

use std::fmt;
use std::time::Duration;

use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::{StatusCode, Url};
use thiserror::Error;
use tokio::time::Instant;

use crate::config::Config;
use crate::net::SdkHttpClient;

/// Less time than this left is not worth an attempt.
const MIN_ATTEMPT: Duration = Duration::from_millis(100);

/// CloudFormation's presigned URLs are under 2 KB; anything far longer is not
/// one, and is refused before it is parsed or logged.
pub const MAX_URL_BYTES: usize = 8192;

/// A ResponseURL that passed the provider's host checks.
#[derive(Clone)]
pub struct ResponseUrl {
    url: Url,
}

impl ResponseUrl {
    /// Checks `raw` against the allowed schemes and hosts.
    pub fn parse(raw: &str, config: &Config) -> Result<Self, ResponseUrlError> {
        if raw.len() > MAX_URL_BYTES {
            return Err(ResponseUrlError::TooLong(raw.len()));
        }
        let url = Url::parse(raw).map_err(|e| ResponseUrlError::Invalid(e.to_string()))?;
        let host = url.host_str().unwrap_or_default().to_owned();
        if !config.response_url_allowed(url.scheme(), &host) {
            return Err(ResponseUrlError::NotAllowed(redact(&url)));
        }
        Ok(Self { url })
    }

    /// The URL without its query string: safe to log.
    pub fn redacted(&self) -> String {
        redact(&self.url)
    }
}

impl fmt::Debug for ResponseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResponseUrl({})", self.redacted())
    }
}

fn redact(url: &Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    shown
}

/// A redirect target, safe to log: resolved against `base`, without its
/// query string or user info.
fn redact_location(base: &Url, location: &str) -> String {
    base.join(location)
        .map_or_else(|_| "an unparsable Location".to_owned(), |u| redact(&u))
}

/// A ResponseURL the provider will not call.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ResponseUrlError {
    /// Far longer than any presigned URL.
    #[error("ResponseURL is {0} bytes long; CloudFormation's are under {MAX_URL_BYTES}")]
    TooLong(usize),
    /// Not a URL at all.
    #[error("ResponseURL is not a valid URL: {0}")]
    Invalid(String),
    /// Scheme or host outside `CRP_RESPONSE_URL_HOSTS`.
    #[error(
        "ResponseURL {0} is not allowed: it must be https (http only on loopback) and its host must match CRP_RESPONSE_URL_HOSTS"
    )]
    NotAllowed(String),
}

/// How hard to try delivering a response.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Wait before the second attempt; doubles after each retry.
    pub initial_backoff: Duration,
    /// The longest single wait.
    pub max_backoff: Duration,
    /// How long one attempt may take.
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(4),
            attempt_timeout: Duration::from_secs(10),
        }
    }
}

/// A response that could not be delivered.
#[derive(Debug, Error)]
pub enum SendError {
    /// The receiver refused it (4xx): retrying would not help.
    #[error("the ResponseURL answered {status} (not retried: the URL may have expired)")]
    Rejected {
        /// The HTTP status.
        status: StatusCode,
    },
    /// The receiver answered with a redirect, which is never followed.
    #[error(
        "the ResponseURL answered {status} redirecting to {location}; redirects are never followed, so the response was not delivered"
    )]
    Redirected {
        /// The HTTP status.
        status: StatusCode,
        /// Where it pointed, without its query string.
        location: String,
    },
    /// The send itself panicked (a bug); it is not repeated, since the
    /// answer may already have arrived.
    #[error("internal error: the provider panicked while sending the response ({0})")]
    Panicked(String),
    /// Every attempt failed, or the deadline came first.
    #[error("response not delivered after {attempts} attempts: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
}

/// How long opening the response endpoint's connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Sends responses; holds its HTTP client for the life of the process.
#[derive(Debug, Clone)]
pub struct ResponseSender {
    transport: Transport,
    policy: RetryPolicy,
}

/// How the PUT goes out.
#[derive(Debug, Clone)]
enum Transport {
    /// On the pool's connections, so the one connection the answer needs is
    /// opened while the request is resolved ([`ResponseSender::preconnect`]).
    Direct(SdkHttpClient),
    /// Through reqwest, which honours the proxy variables: only built when a
    /// proxy is configured (or the pool has no TLS configuration), so a cold
    /// start without one does not build an HTTP client it never uses.
    Reqwest(reqwest::Client),
}

impl ResponseSender {
    /// A sender with this retry policy.
    pub fn new(policy: RetryPolicy) -> Result<Self, reqwest::Error> {
        // The same trust either way, a broken bundle included.
        let direct = if crate::net::proxied() {
            None
        } else {
            crate::net::response_tls_config()
                .ok()
                .map(SdkHttpClient::with_tls)
        };
        let transport = match direct {
            Some(direct) => Transport::Direct(direct),
            None => Transport::Reqwest(
                crate::net::reqwest_builder()
                    .unwrap_or_else(|_| reqwest::Client::builder())
                    .connect_timeout(CONNECT_TIMEOUT)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()?,
            ),
        };
        Ok(Self { transport, policy })
    }

    /// Starts opening the connection the answer to `url` will go out on, so
    /// its handshakes overlap the reads instead of following them.
    pub(crate) fn preconnect(&self, url: &ResponseUrl) {
        if let Transport::Direct(direct) = &self.transport {
            direct.preconnect(url.url.as_str(), CONNECT_TIMEOUT);
        }
    }

    /// One PUT attempt: the status and `Location` it got, or why it failed
    /// (never with the URL's query).
    async fn attempt(
        &self,
        url: &ResponseUrl,
        body: &[u8],
        timeout: Duration,
    ) -> Result<(StatusCode, Option<String>), String> {
        let location = |headers: &http::HeaderMap| {
            headers
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let http = match &self.transport {
            Transport::Direct(direct) => {
                let response = direct.put(url.url.as_str(), body, timeout).await?;
                return Ok((response.status(), location(response.headers())));
            }
            Transport::Reqwest(http) => http,
        };
        let response = http
            .put(url.url.clone())
            .header(CONTENT_TYPE, "")
            .header(CONTENT_LENGTH, body.len())
            .body(body.to_vec())
            .timeout(timeout)
            .send()
            .await
            // Strip the URL: reqwest's error text would include the query.
            .map_err(|e| e.without_url().to_string())?;
        Ok((response.status(), location(response.headers())))
    }

    /// A sender with the same policy and an HTTP client of its own, sharing
    /// no pooled connection with this one (for a thread that cannot rely
    /// on the runtime that drives those connections).
    pub(crate) fn detached(&self) -> Result<Self, reqwest::Error> {
        Self::new(self.policy)
    }

    /// PUTs `body` to `url`, retrying as the policy allows and never past
    /// `deadline`. Returns the number of attempts made.
    pub async fn send(
        &self,
        url: &ResponseUrl,
        body: Vec<u8>,
        deadline: Instant,
    ) -> Result<u32, SendError> {
        let mut backoff = self.policy.initial_backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining < MIN_ATTEMPT {
                return Err(SendError::GaveUp {
                    attempts: attempt - 1,
                    last: "the deadline came before another attempt could start".to_owned(),
                });
            }
            let timeout = self.policy.attempt_timeout.min(remaining);
            let failure = match self.attempt(url, &body, timeout).await {
                Ok((status, _)) if status.is_success() => return Ok(attempt),
                Ok((status, _)) if status.is_server_error() => format!("HTTP {status}"),
                Ok((status, location)) if status.is_redirection() => {
                    let location = location.map_or_else(
                        || "nowhere (no Location header)".to_owned(),
                        |l| redact_location(&url.url, &l),
                    );
                    return Err(SendError::Redirected { status, location });
                }
                Ok((status, _)) => return Err(SendError::Rejected { status }),
                Err(failure) => failure,
            };
            tracing::warn!(attempt, failure = %failure, url = %url.redacted(), "response PUT failed");
            let next_wait = backoff.min(self.policy.max_backoff);
            if attempt >= self.policy.max_attempts || Instant::now() + next_wait >= deadline {
                return Err(SendError::GaveUp {
                    attempts: attempt,
                    last: failure,
                });
            }
            tokio::time::sleep(next_wait).await;
            backoff = backoff.saturating_mul(2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_url_drops_the_signature() {
        let c = Config::default();
        let u = ResponseUrl::parse(
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws/stack?X-Amz-Signature=secret&X-Amz-Credential=c",
            &c,
        )
        .unwrap();
        assert_eq!(
            u.redacted(),
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws/stack"
        );
        assert!(!format!("{u:?}").contains("secret"));
    }

    #[test]
    fn urls_outside_the_allowed_hosts_are_refused_without_their_query() {
        let c = Config::default();
        let err =
            ResponseUrl::parse("https://attacker.example.com/x?X-Amz-Signature=s", &c).unwrap_err();
        assert_eq!(
            err,
            ResponseUrlError::NotAllowed("https://attacker.example.com/x".into())
        );
        assert!(matches!(
            ResponseUrl::parse("not a url", &c),
            Err(ResponseUrlError::Invalid(_))
        ));
    }
}
