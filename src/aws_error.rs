//! Turning AWS SDK errors into sentences a template author can act on.
//!
//! Every source (and the AWS layer, for sts:AssumeRole) funnels its SDK
//! failures through [`AwsCallError::new`], so the classification (access
//! denied, throttled, unreachable, no credentials, ...) lives in one place and
//! every Reason has the same shape: what was called, on what, where, and what
//! to do. Classification looks at the SDK's error types and AWS's error codes,
//! never at the wording of a message. A leaf: it uses nothing above itself
//! (but the TLS errors of `net`, a sibling leaf).
//!
//! One classification, two audiences: the deployed provider's Reasons name its
//! execution role and its network; `crp`, run by a person at a terminal,
//! declares itself once at start ([`address_reasons_to`]) and the same kinds
//! then name that person's profile and the command that fixes it (`aws sso
//! login --profile X`, `AWS_CA_BUNDLE`, the proxy). Which binary runs is a
//! property of the process, fixed before the first request; the Lambda never
//! sets it.

use std::error::Error as StdError;
use std::fmt;
use std::sync::OnceLock;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What kind of failure an AWS call met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// The caller's role may not do this.
    AccessDenied,
    /// AWS did not accept the caller's credentials (expired, unknown).
    CredentialsRejected,
    /// The KMS key a SecureString is encrypted with cannot be used.
    KmsKey,
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
    /// The endpoint's TLS certificate is not issued by a trusted CA (a
    /// TLS-inspecting proxy), or the CA bundle meant to trust it is unusable.
    Untrusted,
    /// Anything else.
    Other,
}

/// Who reads a Reason, and so whose fix it names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Audience {
    /// CloudFormation's user, through the deployed provider: fixes name the
    /// provider's execution role and its network.
    #[default]
    Provider,
    /// A person running `crp` at a terminal: fixes name their credentials.
    Terminal(Terminal),
}

/// Where `crp` took its credentials from, so advice names what to change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terminal {
    /// The profile of the AWS config files in use (`--profile`, `AWS_PROFILE`
    /// or `default`); `None` when there is none, or the credentials come from
    /// the environment.
    pub profile: Option<String>,
    /// Whether the credentials come from `AWS_ACCESS_KEY_ID` and friends.
    pub env_keys: bool,
    /// Whether that profile signs in with IAM Identity Center (`sso_session` or
    /// `sso_start_url`, itself or through its `source_profile` chain).
    pub sso: bool,
}

impl Terminal {
    /// "profile 'dev'", "the credentials in AWS_ACCESS_KEY_ID" or "your credentials".
    fn who(&self) -> String {
        match &self.profile {
            Some(p) => format!("profile '{p}'"),
            None if self.env_keys => "the credentials in AWS_ACCESS_KEY_ID".to_owned(),
            None => "your credentials".to_owned(),
        }
    }

    /// `--profile X` for commands to copy, or nothing for the default profile.
    fn profile_flag(&self) -> String {
        match self.profile.as_deref() {
            Some(p) if p != "default" => format!(" --profile {p}"),
            _ => String::new(),
        }
    }
}

static AUDIENCE: OnceLock<Audience> = OnceLock::new();

/// Declares, once, who reads this process's Reasons. `crp` calls it at start;
/// the Lambda never does (its Reasons are for the provider). A second call
/// changes nothing and returns the audience it could not set.
#[cfg(feature = "cli")]
pub fn address_reasons_to(audience: Audience) -> Result<(), Audience> {
    AUDIENCE.set(audience)
}

/// Who this process's Reasons are for.
pub(crate) fn audience() -> &'static Audience {
    static PROVIDER: Audience = Audience::Provider;
    AUDIENCE.get().unwrap_or(&PROVIDER)
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
        R: fmt::Debug + 'static,
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
        let remedy = self.remedy_for(audience());
        match self.kind {
            FailureKind::AccessDenied => write!(
                f,
                "access denied: {action} on {target} in {region}{detail}; {remedy}"
            ),
            FailureKind::CredentialsRejected => write!(
                f,
                "AWS rejected the credentials used for {action} on {target} in {region}{detail}; {remedy}"
            ),
            FailureKind::KmsKey => write!(
                f,
                "{action} on {target} in {region} could not use the KMS key{detail}; {remedy}"
            ),
            FailureKind::Throttled => write!(
                f,
                "throttled: {action} on {target} in {region} kept being throttled after retries{detail}; {remedy}"
            ),
            FailureKind::Timeout => write!(
                f,
                "{action} on {target} in {region} timed out{detail}; {remedy}"
            ),
            FailureKind::Unreachable => write!(
                f,
                "could not reach the AWS endpoint for {action} in {region}{detail}; {remedy}"
            ),
            FailureKind::Credentials => write!(
                f,
                "could not get credentials for {action} in {region}{detail}; {remedy}"
            ),
            FailureKind::Untrusted => write!(
                f,
                "could not make a trusted TLS connection for {action} in {region}{detail}; {remedy}"
            ),
            FailureKind::NotFound | FailureKind::Invalid | FailureKind::Other => {
                let code = self.code.as_deref().unwrap_or("error");
                write!(
                    f,
                    "{action} on {target} in {region} failed: {code}{detail}; {remedy}"
                )
            }
        }
    }
}

impl AwsCallError {
    /// What to do about it, for `audience`: each kind has its own fix, and
    /// the fix names what has to change (the provider's role, or the
    /// person's profile).
    pub fn remedy_for(&self, audience: &Audience) -> String {
        match audience {
            Audience::Provider => self.provider_remedy(),
            Audience::Terminal(terminal) => self
                .terminal_remedy(terminal)
                .unwrap_or_else(|| self.provider_remedy()),
        }
    }

    fn provider_remedy(&self) -> String {
        let action = self.action;
        match self.kind {
            FailureKind::AccessDenied if action == "sts:AssumeRole" => format!(
                "allow the provider's execution role to call sts:AssumeRole on {}",
                self.target
            ),
            FailureKind::AccessDenied => format!(
                "grant {action} to the provider's role (or the role named by RoleArn)"
            ),
            FailureKind::CredentialsRejected => "the credentials are expired or unknown to AWS: check the provider's execution role (and, with RoleArn, the assumed role's session); redeploying gets fresh credentials".to_owned(),
            FailureKind::KmsKey => "check that the KMS key the parameter is encrypted with exists, is enabled, and that its key policy lets the provider's role (or the role named by RoleArn) use it for kms:Decrypt".to_owned(),
            FailureKind::Throttled => "retry the deployment, or spread resources that read the same region over time".to_owned(),
            FailureKind::Timeout => "AWS did not answer in time: retry the deployment, and check the provider's network access if it persists".to_owned(),
            FailureKind::Unreachable => "check the provider's network access".to_owned(),
            FailureKind::Credentials => "check the provider's execution role (and, with RoleArn, that the role can be assumed)".to_owned(),
            FailureKind::Untrusted => "if the provider's network inspects TLS through a proxy, set AWS_CA_BUNDLE in the provider's environment to a PEM file of that proxy's CA shipped with the function (in its package or a layer)".to_owned(),
            FailureKind::NotFound => "check the name and the Region".to_owned(),
            FailureKind::Invalid => "AWS refused a value this resource sent: check the properties the message above names".to_owned(),
            FailureKind::Other => "retry the deployment; if it persists, the AWS error above says what to change".to_owned(),
        }
    }

    /// The fix at a terminal, where it differs from the provider's.
    fn terminal_remedy(&self, t: &Terminal) -> Option<String> {
        let action = self.action;
        let who = t.who();
        let flag = t.profile_flag();
        let sso_login = format!("run `aws sso login{flag}` and try again");
        Some(match self.kind {
            FailureKind::AccessDenied if action == "sts:AssumeRole" => format!(
                "{who} may not call sts:AssumeRole on {}: use a profile that may (--profile or AWS_PROFILE), or allow it; at deploy, the provider's execution role needs it too",
                self.target
            ),
            FailureKind::AccessDenied => format!(
                "{who} may not call {action}: use a profile that may (--profile or AWS_PROFILE), or have it granted; at deploy, the provider's role (or the role named by RoleArn) needs it too"
            ),
            FailureKind::CredentialsRejected if t.sso => format!(
                "the IAM Identity Center session of {who} has expired or was revoked: {sso_login}"
            ),
            FailureKind::CredentialsRejected if t.profile.is_some() => format!(
                "the credentials of {who} are expired or unknown to AWS: renew them (`aws sts get-caller-identity{flag}` shows what AWS thinks of them)"
            ),
            FailureKind::CredentialsRejected if t.env_keys => "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN are expired or unknown to AWS: renew them, or unset them and pass --profile".to_owned(),
            FailureKind::CredentialsRejected => "the credentials are expired or unknown to AWS: renew them, or pass --profile".to_owned(),
            FailureKind::Credentials if t.sso => format!(
                "{who} signs in with IAM Identity Center and has no valid session: {sso_login}"
            ),
            FailureKind::Credentials => match &t.profile {
                Some(_) => format!(
                    "check {who} in ~/.aws/config and ~/.aws/credentials (`aws configure list{flag}`); a credential_process command must print credentials, a role_arn needs a source_profile or credential_source that works"
                ),
                None if t.env_keys => "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (both are needed), or unset them and pass --profile".to_owned(),
                None => "no usable credentials: pass --profile, set AWS_PROFILE, or run `aws configure` (or `aws configure sso`)".to_owned(),
            },
            FailureKind::KmsKey => format!(
                "check that the KMS key the parameter is encrypted with exists, is enabled, and that its key policy lets {who} use it for kms:Decrypt (at deploy, the provider's role)"
            ),
            FailureKind::Timeout | FailureKind::Unreachable => "check your network: a proxy goes in HTTPS_PROXY (and NO_PROXY); a proxy that inspects TLS also needs its CA in AWS_CA_BUNDLE or the profile's ca_bundle".to_owned(),
            FailureKind::Untrusted => format!(
                "if a proxy inspects TLS on your network, point AWS_CA_BUNDLE (or ca_bundle in {}) at a PEM file of its CA; `aws configure get ca_bundle{flag}` shows what the AWS CLI uses",
                t.profile.as_deref().map_or_else(|| "your profile".to_owned(), |p| format!("profile '{p}'"))
            ),
            FailureKind::Throttled | FailureKind::NotFound | FailureKind::Invalid | FailureKind::Other => return None,
        })
    }
}

fn classify<E, R>(err: &SdkError<E, R>) -> (FailureKind, Option<String>, String)
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: fmt::Debug + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().map(str::to_owned);
            let message = e.message().unwrap_or_default().to_owned();
            (kind_of_code(code.as_deref()), code, message)
        }
        _ if untrusted(err) => (FailureKind::Untrusted, None, messages(err)),
        _ if credentials_failure(err) => (FailureKind::Credentials, None, messages(err)),
        SdkError::TimeoutError(_) => (FailureKind::Timeout, None, String::new()),
        SdkError::DispatchFailure(d) if d.is_timeout() => {
            (FailureKind::Timeout, None, String::new())
        }
        SdkError::DispatchFailure(d) if d.is_io() => {
            (FailureKind::Unreachable, None, messages(err))
        }
        other => (FailureKind::Other, None, messages(other)),
    }
}

/// The messages of an error and its sources, joined: what went wrong, in
/// words. Debug dumps (whole HTTP responses, nested structs) stay out of
/// Reasons, which have 4 KB to share with everything else.
fn messages(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        // Some errors repeat their source's message in their own.
        if !text.is_empty() && !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Error codes, grouped by what the user should do about them.
fn kind_of_code(code: Option<&str>) -> FailureKind {
    match code.unwrap_or_default() {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
            FailureKind::AccessDenied
        }
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch" => FailureKind::CredentialsRejected,
        c if c.starts_with("KMS") || c == "InvalidKeyId" => FailureKind::KmsKey,
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

/// Whether a TLS connection failed because the peer's certificate is not
/// trusted (rustls's certificate errors, which reach us wrapped in an
/// `io::Error`), or because the CA bundle meant to trust it is unusable.
fn untrusted(err: &(dyn StdError + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.is::<crate::net::TlsError>() {
            return true;
        }
        if matches!(
            rustls_error(e),
            Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
        ) {
            return true;
        }
        current = e.source();
    }
    false
}

/// The rustls error `e` is, or carries inside (nested) `io::Error`s, whose
/// `source()` skips the error they wrap.
fn rustls_error<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner: &(dyn StdError + 'static) = e.downcast_ref::<std::io::Error>()?.get_ref()?;
    rustls_error(inner)
}

/// Whether the call never left because no credentials could be had: the
/// SDK's credentials provider failed somewhere in the error's source chain.
fn credentials_failure(err: &(dyn StdError + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.is::<CredentialsError>() {
            return true;
        }
        current = e.source();
    }
    false
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

    fn call(action: &'static str, target: &str, code: &str) -> AwsCallError {
        AwsCallError {
            action,
            target: target.into(),
            region: "us-east-1".into(),
            kind: kind_of_code(Some(code)),
            code: Some(code.into()),
            message: String::new(),
        }
    }

    #[test]
    fn each_denial_names_its_own_fix() {
        let kms = call(
            "ssm:GetParameters",
            "/myapp/secret",
            "KMSAccessDeniedException",
        );
        assert_eq!(kms.kind, FailureKind::KmsKey);
        assert!(kms.to_string().contains("kms:Decrypt"), "{kms}");
        assert!(
            !kms.to_string().contains("grant ssm:GetParameters"),
            "{kms}"
        );

        let key = call("ssm:GetParameters", "/myapp/secret", "InvalidKeyId");
        assert!(key.to_string().contains("KMS key"), "{key}");
        assert!(!key.to_string().contains("check the values"), "{key}");

        let expired = call("ssm:GetParameters", "/myapp/x", "ExpiredTokenException");
        assert_eq!(expired.kind, FailureKind::CredentialsRejected);
        assert!(!expired.to_string().contains("grant"), "{expired}");

        let role = "arn:aws:iam::222222222222:role/reader";
        let assume = call("sts:AssumeRole", role, "AccessDenied");
        assert!(
            assume.to_string().ends_with(&format!(
                "allow the provider's execution role to call sts:AssumeRole on {role}"
            )),
            "{assume}"
        );
    }

    fn kind(kind: FailureKind, action: &'static str) -> AwsCallError {
        AwsCallError {
            action,
            target: "/myapp/x".into(),
            region: "us-east-1".into(),
            kind,
            code: None,
            message: String::new(),
        }
    }

    fn at_terminal(profile: Option<&str>, sso: bool) -> Audience {
        Audience::Terminal(Terminal {
            profile: profile.map(str::to_owned),
            env_keys: profile.is_none(),
            sso,
        })
    }

    #[test]
    fn one_kind_gives_each_audience_its_own_fix() {
        let creds = kind(FailureKind::Credentials, "ssm:GetParameters");
        assert!(
            creds
                .remedy_for(&Audience::Provider)
                .contains("check the provider's execution role")
        );
        let sso = creds.remedy_for(&at_terminal(Some("dev"), true));
        assert!(sso.contains("run `aws sso login --profile dev`"), "{sso}");
        assert!(!sso.contains("execution role"), "{sso}");
        // The default profile needs no --profile.
        let default = creds.remedy_for(&at_terminal(Some("default"), true));
        assert!(default.contains("run `aws sso login` and"), "{default}");

        let denied = kind(FailureKind::AccessDenied, "ssm:GetParameters");
        let terminal = denied.remedy_for(&at_terminal(Some("dev"), false));
        assert!(
            terminal.starts_with("profile 'dev' may not call ssm:GetParameters"),
            "{terminal}"
        );
        let env = denied.remedy_for(&at_terminal(None, false));
        assert!(
            env.starts_with("the credentials in AWS_ACCESS_KEY_ID may not call"),
            "{env}"
        );

        let expired = kind(FailureKind::CredentialsRejected, "ssm:GetParameters");
        let terminal = expired.remedy_for(&at_terminal(Some("corp"), true));
        assert!(
            terminal.contains("aws sso login --profile corp"),
            "{terminal}"
        );

        let network = kind(FailureKind::Unreachable, "ssm:GetParameters");
        assert_eq!(
            network.remedy_for(&Audience::Provider),
            "check the provider's network access"
        );
        let terminal = network.remedy_for(&at_terminal(Some("dev"), false));
        assert!(
            terminal.contains("HTTPS_PROXY") && terminal.contains("AWS_CA_BUNDLE"),
            "{terminal}"
        );

        let untrusted = kind(FailureKind::Untrusted, "ssm:GetParameters");
        assert!(
            untrusted
                .remedy_for(&Audience::Provider)
                .contains("AWS_CA_BUNDLE in the provider's environment")
        );
        let terminal = untrusted.remedy_for(&at_terminal(Some("dev"), false));
        assert!(
            terminal.contains("ca_bundle in profile 'dev'"),
            "{terminal}"
        );

        // Kinds whose fix is the same for both keep the provider's wording.
        let missing = kind(FailureKind::NotFound, "ssm:GetParameters");
        assert_eq!(
            missing.remedy_for(&at_terminal(Some("dev"), false)),
            missing.remedy_for(&Audience::Provider)
        );
    }

    #[test]
    fn a_certificate_rustls_refuses_is_untrusted_wherever_it_sits_in_the_chain() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("client error (Connect)")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        // As hyper-util hands it over: an io::Error around tokio-rustls's
        // io::Error around the rustls error.
        let refused = Outer(std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        )));
        assert!(untrusted(&refused));
        let reset = Outer(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(!untrusted(&reset));
    }

    #[derive(Debug)]
    struct NoCredentials;

    impl aws_credential_types::provider::ProvideCredentials for NoCredentials {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            // What a failing provider (an assumed role that cannot be
            // refreshed, say) returns; its text is "an error occurred while
            // loading credentials", which no wording-based check caught.
            aws_credential_types::provider::future::ProvideCredentials::ready(Err(
                CredentialsError::provider_error("the role could not be assumed"),
            ))
        }
    }

    #[tokio::test]
    async fn a_failing_credentials_provider_is_a_credentials_reason() {
        let config = aws_sdk_ssm::Config::builder()
            .behavior_version(aws_sdk_ssm::config::BehaviorVersion::latest())
            .region(aws_sdk_ssm::config::Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:9")
            .credentials_provider(NoCredentials)
            .retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled())
            .build();
        let ssm = aws_sdk_ssm::Client::from_conf(config);
        let err = ssm.get_parameters().names("/a").send().await.unwrap_err();
        let call = AwsCallError::new("ssm:GetParameters", "/a", "us-east-1", &err);
        assert_eq!(call.kind, FailureKind::Credentials, "{call}");
        assert!(
            call.to_string()
                .starts_with("could not get credentials for ssm:GetParameters in us-east-1"),
            "{call}"
        );
        // The messages, not a Debug dump of the SDK's structures.
        assert!(!call.to_string().contains("DispatchFailure"), "{call}");
    }
}
