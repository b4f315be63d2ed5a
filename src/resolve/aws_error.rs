//! Turning AWS SDK errors into sentences a template author can act on.
//!
//! Every resolver funnels its SDK failures through [`AwsCallError::new`], so the
//! classification (access denied, throttled, unreachable, ...) lives in one
//! place and every Reason has the same shape: what was called, on what, where.

use std::error::Error as StdError;
use std::fmt;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What kind of failure an AWS call met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// The caller's role may not do this.
    AccessDenied,
    /// AWS kept throttling after the SDK's retries.
    Throttled,
    /// The thing asked for does not exist (code carried in the message).
    NotFound,
    /// AWS rejected the request's shape or values.
    Invalid,
    /// No answer in time.
    Timeout,
    /// The endpoint could not be reached.
    Unreachable,
    /// Credentials could not be obtained (e.g. an assumed role failed).
    Credentials,
    /// Anything else.
    Other,
}

/// A failed AWS call, with enough context to say what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct AwsCallError {
    /// IAM action, e.g. `ssm:GetParameters`.
    pub action: &'static str,
    /// What it was called on (a name or ARN).
    pub target: String,
    /// The source region.
    pub region: String,
    /// The classification.
    pub kind: FailureKind,
    /// The AWS error code, when there was one.
    pub code: Option<String>,
    /// AWS's own message (never contains parameter values).
    pub message: String,
}

impl AwsCallError {
    /// Classifies an SDK error from `action` on `target` in `region`.
    pub fn new<E, R>(
        action: &'static str,
        target: impl Into<String>,
        region: &str,
        err: &SdkError<E, R>,
    ) -> Self
    where
        E: ProvideErrorMetadata + StdError + 'static,
        R: fmt::Debug,
    {
        let (kind, code, message) = classify(err);
        Self {
            action,
            target: target.into(),
            region: region.to_owned(),
            kind,
            code,
            message,
        }
    }

    /// Whether the service answered with this error code.
    pub fn has_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

impl fmt::Display for AwsCallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            action,
            target,
            region,
            message,
            ..
        } = self;
        let detail = if message.is_empty() {
            String::new()
        } else {
            format!(" ({message})")
        };
        match self.kind {
            FailureKind::AccessDenied => write!(
                f,
                "access denied: {action} on {target} in {region}{detail}; grant {action} to the provider's role (or the role named by RoleArn)"
            ),
            FailureKind::Throttled => write!(
                f,
                "throttled: {action} on {target} in {region} kept being throttled after retries{detail}; retry the deployment, or spread resources that read the same region over time"
            ),
            FailureKind::Timeout => write!(
                f,
                "{action} on {target} in {region} timed out{detail}; AWS did not answer in time: retry the deployment, and check the provider's network access if it persists"
            ),
            FailureKind::Unreachable => write!(
                f,
                "could not reach the AWS endpoint for {action} in {region}{detail}; check the provider's network access"
            ),
            FailureKind::Credentials => write!(
                f,
                "could not get credentials for {action} in {region}{detail}; check the provider's execution role (and, with RoleArn, that the role can be assumed)"
            ),
            FailureKind::NotFound | FailureKind::Invalid | FailureKind::Other => {
                let code = self.code.as_deref().unwrap_or("error");
                let remedy = match self.kind {
                    FailureKind::NotFound => "check the name and the Region",
                    FailureKind::Invalid => "check the values in the resource's properties",
                    _ => {
                        "retry the deployment; if it persists, the AWS error above says what to change"
                    }
                };
                write!(
                    f,
                    "{action} on {target} in {region} failed: {code}{detail}; {remedy}"
                )
            }
        }
    }
}

fn classify<E, R>(err: &SdkError<E, R>) -> (FailureKind, Option<String>, String)
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: fmt::Debug,
{
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().map(str::to_owned);
            let message = e.message().unwrap_or_default().to_owned();
            (kind_of_code(code.as_deref()), code, message)
        }
        SdkError::TimeoutError(_) => (FailureKind::Timeout, None, String::new()),
        SdkError::DispatchFailure(d) if d.is_timeout() => {
            (FailureKind::Timeout, None, String::new())
        }
        SdkError::DispatchFailure(d) if d.is_io() => (
            FailureKind::Unreachable,
            None,
            DisplayErrorContext(err).to_string(),
        ),
        other => {
            let text = DisplayErrorContext(other).to_string();
            let kind = if is_credentials_failure(&text) {
                FailureKind::Credentials
            } else {
                FailureKind::Other
            };
            (kind, None, text)
        }
    }
}

/// Error codes, grouped by what the user should do about them.
fn kind_of_code(code: Option<&str>) -> FailureKind {
    match code.unwrap_or_default() {
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "KMSAccessDeniedException" => FailureKind::AccessDenied,
        "ThrottlingException"
        | "Throttling"
        | "TooManyRequestsException"
        | "RequestLimitExceeded" => FailureKind::Throttled,
        c if c.ends_with("NotFound")
            || c.ends_with("NotFoundException")
            || c == "ParameterVersionNotFound" =>
        {
            FailureKind::NotFound
        }
        c if c.starts_with("Invalid") || c.starts_with("Validation") => FailureKind::Invalid,
        _ => FailureKind::Other,
    }
}

fn is_credentials_failure(text: &str) -> bool {
    text.contains("failed to load credentials")
        || text.contains("CredentialsNotLoaded")
        || text.contains("credentials provider")
        || text.contains("identity")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_grouped_by_remedy() {
        assert_eq!(
            kind_of_code(Some("AccessDeniedException")),
            FailureKind::AccessDenied
        );
        assert_eq!(
            kind_of_code(Some("ThrottlingException")),
            FailureKind::Throttled
        );
        assert_eq!(
            kind_of_code(Some("ResourceNotFoundException")),
            FailureKind::NotFound
        );
        assert_eq!(
            kind_of_code(Some("ParameterNotFound")),
            FailureKind::NotFound
        );
        assert_eq!(
            kind_of_code(Some("ValidationException")),
            FailureKind::Invalid
        );
        assert_eq!(kind_of_code(None), FailureKind::Other);
    }

    #[test]
    fn access_denied_names_action_target_and_fix() {
        let e = AwsCallError {
            action: "ssm:GetParameters",
            target: "arn:aws:ssm:us-east-1:123456789012:parameter/myapp/x".into(),
            region: "us-east-1".into(),
            kind: FailureKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "not authorized".into(),
        };
        let s = e.to_string();
        assert!(s.starts_with("access denied: ssm:GetParameters on arn:aws:ssm:us-east-1:123456789012:parameter/myapp/x"));
        assert!(s.contains("grant ssm:GetParameters"));
    }
}
