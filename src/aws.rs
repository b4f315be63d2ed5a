//! AWS client setup: one shared `SdkConfig`, one set of clients per region,
//! and one per assumed role.
//!
//! The SDK configuration is loaded, and clients are built, the first time a
//! region (or a region and role) is asked for, and then reused by every later
//! invocation of the warm Lambda, so connection pools, TLS sessions and
//! assumed-role credentials survive between requests. Every SDK configuration
//! starts from [`config_loader`]; tests point it at a local moto server.

use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::aws_error::{Audience, AwsCallError, FailureKind, audience};
use crate::net::SdkHttpClient;
use crate::progress::Progress;

/// The clients a resolver may use, all bound to one region (and identity).
///
/// Each service's client is built the first time it is used: building one
/// parses that SDK crate's endpoint partition table and assembles its runtime
/// plugins, which at a cold start cost more than the read itself, and most
/// requests use one service (an SSM read never touches Lambda, IAM or
/// CloudFormation, and STS only to name the account in an error).
#[derive(Clone, Debug)]
pub struct RegionClients {
    /// The region these clients call.
    pub region: String,
    /// SSM Parameter Store.
    pub ssm: LazyClient<aws_sdk_ssm::Client>,
    /// Lambda.
    pub lambda: LazyClient<aws_sdk_lambda::Client>,
    /// CloudFormation (stack outputs).
    pub cloudformation: LazyClient<aws_sdk_cloudformation::Client>,
    /// IAM (reading an edge function's role trust policy).
    pub iam: LazyClient<aws_sdk_iam::Client>,
    /// STS (naming the account in error messages).
    pub sts: LazyClient<aws_sdk_sts::Client>,
    /// The configuration the clients are built from.
    config: Arc<SdkConfig>,
    /// The provider's own HTTP client, when the configuration uses it: what
    /// opens connections ahead of the calls that need them.
    http: Option<SdkHttpClient>,
    /// Each service's endpoint, worked out on the first preconnect and kept:
    /// a warm Lambda's later requests need not resolve it again.
    endpoints: Arc<Mutex<HashMap<Service, Option<String>>>>,
}

impl RegionClients {
    /// The clients for `region` from a shared configuration, each built on
    /// first use.
    pub fn new(config: &SdkConfig, region: &str) -> Self {
        let config = Arc::new(
            config
                .to_builder()
                .region(Region::new(region.to_owned()))
                .build(),
        );
        Self {
            region: region.to_owned(),
            ssm: LazyClient::new(&config, aws_sdk_ssm::Client::new),
            lambda: LazyClient::new(&config, aws_sdk_lambda::Client::new),
            cloudformation: LazyClient::new(&config, aws_sdk_cloudformation::Client::new),
            iam: LazyClient::new(&config, aws_sdk_iam::Client::new),
            sts: LazyClient::new(&config, aws_sdk_sts::Client::new),
            config,
            http: None,
            endpoints: Arc::default(),
        }
    }

    fn with_http(mut self, http: Option<SdkHttpClient>) -> Self {
        self.http = http;
        self
    }

    /// Starts opening a connection to `service`'s endpoint, so a call issued
    /// later does not wait for TCP and TLS handshakes. Best effort: nothing
    /// happens when the endpoint cannot be told or the configuration brought
    /// its own HTTP client.
    pub(crate) async fn preconnect(&self, service: Service) {
        let Some(http) = &self.http else {
            return;
        };
        let known = self
            .endpoints
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&service)
            .cloned();
        let url = match known {
            Some(url) => url,
            None => {
                let url = endpoint_of(service, &self.config).await;
                self.endpoints
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(service, url.clone());
                url
            }
        };
        if let Some(url) = url {
            http.preconnect(&url, CONNECT_TIMEOUT);
        }
    }

    /// Builds `service`'s client now rather than at its first call. A call
    /// that follows another's answer (IAM's GetRole after Lambda's list)
    /// would otherwise build its client on the critical path; built while
    /// the connections are still being opened, it costs nothing there.
    pub(crate) fn prepare(&self, service: Service) {
        match service {
            Service::Ssm => _ = self.ssm.get(),
            Service::Lambda => _ = self.lambda.get(),
            Service::CloudFormation => _ = self.cloudformation.get(),
            Service::Iam => _ = self.iam.get(),
            Service::Sts => _ = self.sts.get(),
        }
    }
}

/// A service the provider reads, for opening its connection ahead of need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Service {
    /// SSM Parameter Store.
    Ssm,
    /// Lambda.
    Lambda,
    /// CloudFormation.
    CloudFormation,
    /// IAM.
    Iam,
    /// STS (assuming a role).
    Sts,
}

/// The partition's endpoint of one SDK crate's service for `config`.
macro_rules! partition_endpoint {
    ($sdk:ident, $config:expr) => {{
        use $sdk::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
        let params = Params::builder()
            .set_region($config.region().map(|r| r.as_ref().to_owned()))
            .set_use_fips($config.use_fips())
            .set_use_dual_stack($config.use_dual_stack())
            .build()
            .ok()?;
        let endpoint = DefaultResolver::new()
            .resolve_endpoint(&params)
            .await
            .ok()?;
        Some(endpoint.url().to_owned())
    }};
}

/// A service's base URL as the SDK picks it: `AWS_ENDPOINT_URL_<SERVICE>`,
/// then the configuration's endpoint (`AWS_ENDPOINT_URL`), then the
/// partition's.
async fn endpoint_of(service: Service, config: &SdkConfig) -> Option<String> {
    let var = match service {
        Service::Ssm => "AWS_ENDPOINT_URL_SSM",
        Service::Lambda => "AWS_ENDPOINT_URL_LAMBDA",
        Service::CloudFormation => "AWS_ENDPOINT_URL_CLOUDFORMATION",
        Service::Iam => "AWS_ENDPOINT_URL_IAM",
        Service::Sts => "AWS_ENDPOINT_URL_STS",
    };
    let set = std::env::var(var)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| config.endpoint_url().map(str::to_owned));
    if set.is_some() {
        return set;
    }
    match service {
        Service::Ssm => partition_endpoint!(aws_sdk_ssm, config),
        Service::Lambda => partition_endpoint!(aws_sdk_lambda, config),
        Service::CloudFormation => partition_endpoint!(aws_sdk_cloudformation, config),
        Service::Iam => partition_endpoint!(aws_sdk_iam, config),
        Service::Sts => partition_endpoint!(aws_sdk_sts, config),
    }
}

/// One service's SDK client, built from its configuration the first time it
/// is used (dereferenced), then kept.
#[derive(Clone)]
pub struct LazyClient<C> {
    build: Arc<dyn Fn() -> C + Send + Sync>,
    client: OnceLock<C>,
}

impl<C> LazyClient<C> {
    /// A client that `build` makes from `config` when first used.
    pub fn new(config: &Arc<SdkConfig>, build: fn(&SdkConfig) -> C) -> Self
    where
        C: 'static,
    {
        let config = Arc::clone(config);
        Self {
            build: Arc::new(move || build(&config)),
            client: OnceLock::new(),
        }
    }

    /// The client, built now if it was not yet.
    pub fn get(&self) -> &C {
        self.client.get_or_init(|| (self.build)())
    }

    /// Whether the client has been built.
    pub fn is_built(&self) -> bool {
        self.client.get().is_some()
    }
}

/// An already built client (tests substitute mocked ones this way).
impl<C: Clone + Send + Sync + 'static> From<C> for LazyClient<C> {
    fn from(client: C) -> Self {
        let spare = client.clone();
        Self {
            build: Arc::new(move || spare.clone()),
            client: OnceLock::from(client),
        }
    }
}

impl<C> Deref for LazyClient<C> {
    type Target = C;

    fn deref(&self) -> &C {
        self.get()
    }
}

impl<C> fmt::Debug for LazyClient<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyClient")
            .field("built", &self.is_built())
            .finish()
    }
}

/// A role to act as: `RoleArn` and `ExternalId`, as validated from the
/// resource's properties.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleToAssume {
    /// The role to assume before reading.
    pub arn: String,
    /// The external id the role's trust policy expects.
    pub external_id: Option<String>,
}

/// The process-wide client cache.
///
/// Nothing is loaded up front: the SDK configuration is read from the
/// environment when the first client is asked for, and each region's clients
/// when that region is first read, so a Delete or a request that fails
/// validation costs no SDK work at all.
#[derive(Debug)]
pub struct AwsClients {
    origin: Origin,
    base: OnceCell<SdkConfig>,
    /// The HTTP client `base` uses, when it is the provider's own.
    http: Option<SdkHttpClient>,
    regional: Mutex<HashMap<String, Arc<RegionClients>>>,
    assumed: Mutex<HashMap<RoleKey, Arc<RegionClients>>>,
}

/// Where the shared SDK configuration comes from, once it is first needed.
#[derive(Debug, Clone)]
enum Origin {
    /// The environment: credentials, region, and `AWS_ENDPOINT_URL` for local runs.
    Environment,
    /// A local endpoint with dummy credentials in us-east-1 (tests only).
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    Endpoint(String),
}

/// What makes one assumed-role session distinct.
///
/// The session name is part of the key so that CloudTrail in the target
/// account names the stack and resource that actually read, rather than
/// whichever resource happened to assume the role first in this warm Lambda.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RoleKey {
    region: String,
    role_arn: String,
    external_id: Option<String>,
    session_name: String,
}

impl RoleKey {
    fn new(region: &str, role: &RoleToAssume, session_name: &str) -> Self {
        Self {
            region: region.to_owned(),
            role_arn: role.arn.clone(),
            external_id: role.external_id.clone(),
            session_name: session_name.to_owned(),
        }
    }
}

impl AwsClients {
    /// Clients whose SDK configuration is read from the environment
    /// (credentials, and `AWS_ENDPOINT_URL` for local runs) with the
    /// provider's retry and timeout policy, when the first client is built.
    pub fn from_env() -> Self {
        Self::with_origin(
            Origin::Environment,
            OnceCell::new(),
            Some(SdkHttpClient::default()),
        )
    }

    /// Clients for a local AWS stand-in at `url` (moto in the tests), with
    /// dummy credentials and us-east-1 as the home region; otherwise exactly
    /// as [`Self::from_env`].
    #[cfg(feature = "testing")]
    pub fn with_endpoint(url: &str) -> Self {
        Self::with_origin(
            Origin::Endpoint(url.to_owned()),
            OnceCell::new(),
            Some(SdkHttpClient::default()),
        )
    }

    /// Wraps an already loaded configuration (the dry-run CLI, which finds
    /// credentials as the AWS CLI does). A configuration without an HTTP
    /// client gets the provider's own.
    pub fn from_config(base: SdkConfig) -> Self {
        let (base, http) = if base.http_client().is_some() {
            (base, None)
        } else {
            let http = SdkHttpClient::default();
            let base = base
                .to_builder()
                .http_client(SharedHttpClient::new(http.clone()))
                .build();
            (base, Some(http))
        };
        Self::with_origin(Origin::Environment, OnceCell::new_with(Some(base)), http)
    }

    fn with_origin(origin: Origin, base: OnceCell<SdkConfig>, http: Option<SdkHttpClient>) -> Self {
        Self {
            origin,
            base,
            http,
            regional: Mutex::new(HashMap::new()),
            assumed: Mutex::new(HashMap::new()),
        }
    }

    /// The shared configuration every client derives from, loaded on first use.
    pub async fn sdk_config(&self) -> &SdkConfig {
        self.base
            .get_or_init(|| load(&self.origin, self.http.clone().unwrap_or_default()))
            .await
    }

    /// The clients for `region`, built on first use and reused afterwards.
    pub async fn region(&self, region: &str) -> Arc<RegionClients> {
        if let Some(found) = self.regional_cache().get(region) {
            return Arc::clone(found);
        }
        let built = Arc::new(
            RegionClients::new(self.sdk_config().await, region).with_http(self.http.clone()),
        );
        // A concurrent request may have built the same entry meanwhile; keep
        // the first.
        Arc::clone(
            self.regional_cache()
                .entry(region.to_owned())
                .or_insert(built),
        )
    }

    fn regional_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<RegionClients>>> {
        self.regional.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The clients for `region` acting as `role`, under `session_name`.
    ///
    /// The first time a role is asked for, it is assumed right away (with STS
    /// in `region`, using the provider's own credentials) so that a refusal —
    /// a trust policy that does not name the provider, a wrong `ExternalId` —
    /// fails here with its own Reason instead of surfacing later as a vague
    /// credentials error on some read. Only a successful assumption is cached;
    /// the clients then refresh the credentials by themselves shortly before
    /// they expire, so later requests make no STS call at all.
    pub async fn assumed(
        &self,
        region: &str,
        role: &RoleToAssume,
        session_name: &str,
        progress: &Progress,
    ) -> Result<Arc<RegionClients>, AssumeRoleError> {
        let key = RoleKey::new(region, role, session_name);
        if let Some(found) = self.assumed_cache().get(&key) {
            return Ok(Arc::clone(found));
        }

        let provider = AssumedRole {
            sts: aws_sdk_sts::Client::clone(&self.region(region).await.sts),
            region: region.to_owned(),
            role_arn: role.arn.clone(),
            external_id: role.external_id.clone(),
            session_name: session_name.to_owned(),
            primed: Mutex::new(None),
        };
        let first = {
            let _step = progress.step(format!("sts:AssumeRole on {} in {region}", role.arn));
            provider.assume().await.map_err(|source| AssumeRoleError {
                role_arn: role.arn.clone(),
                with_external_id: role.external_id.is_some(),
                source,
            })?
        };
        *provider
            .primed
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(first);

        // One identity cache shared by every client of this role, so the five
        // service clients do not each assume the role on their own.
        let config = self
            .sdk_config()
            .await
            .to_builder()
            .region(Region::new(region.to_owned()))
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .identity_cache(
                IdentityCache::lazy()
                    .buffer_time(CREDENTIALS_REFRESH_MARGIN)
                    .build(),
            )
            .build();
        let clients = Arc::new(RegionClients::new(&config, region).with_http(self.http.clone()));
        // A concurrent request may have built the same entry meanwhile; keep
        // the first so every caller shares one credentials cache.
        Ok(Arc::clone(
            self.assumed_cache().entry(key).or_insert(clients),
        ))
    }

    /// Whether [`Self::assumed`] would assume `role` (nothing cached for it),
    /// and so call STS.
    pub(crate) fn must_assume(
        &self,
        region: &str,
        role: &RoleToAssume,
        session_name: &str,
    ) -> bool {
        !self
            .assumed_cache()
            .contains_key(&RoleKey::new(region, role, session_name))
    }

    fn assumed_cache(&self) -> std::sync::MutexGuard<'_, HashMap<RoleKey, Arc<RegionClients>>> {
        self.assumed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Loads the shared SDK configuration from `origin`.
async fn load(origin: &Origin, http: SdkHttpClient) -> SdkConfig {
    let mut loader = config_loader(SharedHttpClient::new(http));
    match origin {
        Origin::Endpoint(url) => {
            loader = loader
                .endpoint_url(url)
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new("test", "test", None, None, "test"));
        }
        Origin::Environment => {
            // Lambda hands its function the region and the role's
            // credentials in the environment, where the default chains
            // would find them first anyway; naming those providers skips
            // building the rest of each chain (web identity with its own
            // STS client, ECS, IMDS, SSO), most of the load's CPU.
            if env_is_set(&["AWS_ACCESS_KEY_ID"]) && env_is_set(&["AWS_SECRET_ACCESS_KEY"]) {
                loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
            }
            if env_is_set(&["AWS_REGION", "AWS_DEFAULT_REGION"]) {
                loader = loader.region(EnvironmentVariableRegionProvider::new());
            }
        }
    }
    loader.load().await
}

/// Where every SDK configuration of the crate starts, the provider's and
/// `crp`'s alike: the SDK's defaults with `http` as the HTTP client and the
/// provider's retry and timeout policy.
pub fn config_loader(http: SharedHttpClient) -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .retry_config(retry_config())
        .timeout_config(timeout_config())
}

/// How long before expiry assumed credentials are replaced; long enough that
/// a request started just before the cutoff still finishes with valid ones.
const CREDENTIALS_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// STS refused (or failed) to let the provider assume a `RoleArn`.
#[derive(Debug, Clone, thiserror::Error)]
pub struct AssumeRoleError {
    /// The role that was asked for.
    pub role_arn: String,
    /// Whether an `ExternalId` was sent (a wrong one is refused as access denied).
    pub with_external_id: bool,
    /// The failed call.
    pub source: AwsCallError,
}

impl fmt::Display for AssumeRoleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        // A refusal is either the provider's own role lacking sts:AssumeRole
        // (the source's remedy says so) or the target's trust policy.
        if self.source.kind == FailureKind::AccessDenied {
            let external = if self.with_external_id {
                " and that the ExternalId matches the one it expects"
            } else {
                " (and whether it expects an ExternalId)"
            };
            let whose = match audience() {
                Audience::Provider => "the provider's role".to_owned(),
                Audience::Terminal(t) => format!(
                    "{} (and, at deploy, the provider's role)",
                    t.profile.as_deref().map_or_else(
                        || "your credentials".to_owned(),
                        |p| format!("the identity of profile '{p}'")
                    )
                ),
            };
            write!(
                f,
                "; also check that the trust policy of {} allows {whose} to assume it{external}",
                self.role_arn
            )?;
        }
        Ok(())
    }
}

/// Credentials for one role, from sts:AssumeRole with the provider's own
/// credentials. Wrapped in the SDK's identity cache, which decides when to
/// call it again.
#[derive(Debug)]
struct AssumedRole {
    sts: aws_sdk_sts::Client,
    region: String,
    role_arn: String,
    external_id: Option<String>,
    session_name: String,
    /// The credentials from the eager first call, handed to the identity cache
    /// on its first request so building the clients costs one AssumeRole, not two.
    primed: Mutex<Option<Credentials>>,
}

impl AssumedRole {
    async fn assume(&self) -> Result<Credentials, AwsCallError> {
        let out = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(&self.session_name)
            .set_external_id(self.external_id.clone())
            .send()
            .await
            .map_err(|e| AwsCallError::new("sts:AssumeRole", &self.role_arn, &self.region, &e))?;
        let creds = out.credentials.ok_or_else(|| AwsCallError {
            action: "sts:AssumeRole",
            target: self.role_arn.clone(),
            region: self.region.clone(),
            kind: FailureKind::Other,
            code: None,
            message: "STS answered without credentials".to_owned(),
        })?;
        let expiry = SystemTime::try_from(creds.expiration).ok();
        Ok(Credentials::new(
            creds.access_key_id,
            creds.secret_access_key,
            Some(creds.session_token),
            expiry,
            "CrossRegionParamAssumeRole",
        ))
    }

    /// The primed credentials, unless they are already too close to expiry.
    fn take_primed(&self) -> Option<Credentials> {
        let creds = self
            .primed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        let fresh = creds
            .expiry()
            .is_none_or(|at| at > SystemTime::now() + CREDENTIALS_REFRESH_MARGIN);
        fresh.then_some(creds)
    }
}

impl ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            if let Some(creds) = self.take_primed() {
                return Ok(creds);
            }
            self.assume()
                .await
                .map_err(CredentialsError::provider_error)
        })
    }
}

/// The longest RoleSessionName STS accepts.
const SESSION_NAME_MAX: usize = 64;
/// Hex digits of the hash appended when a session name had to be cut.
const SESSION_HASH_LEN: usize = 8;
/// The share of a cut name kept for the logical id; the stack gets the rest.
const SESSION_LOGICAL_MAX: usize = 24;

/// The RoleSessionName for a resource: `crp-<stack>-<logical id>`, so the
/// target account's CloudTrail shows who read.
///
/// `stack_id` may be a stack ARN (`arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID`,
/// whose NAME is used) or a plain name. Any input gives a valid name: characters
/// outside `[A-Za-z0-9_+=,.@-]` become `-`, and a name longer than 64 characters
/// is cut, keeping the start of both parts, with a hash of the full input
/// appended so different long names stay different.
pub fn session_name(stack_id: &str, logical_resource_id: &str) -> String {
    let stack = sanitize(stack_name_of(stack_id));
    let logical = sanitize(logical_resource_id);
    let full = join_session(&stack, &logical);
    if full.len() <= SESSION_NAME_MAX {
        return full;
    }

    let digest = Sha256::digest(format!("{stack_id}\n{logical_resource_id}").as_bytes());
    let hash: String = digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .chars()
        .take(SESSION_HASH_LEN)
        .collect();
    // "crp-" + stack + "-" + logical + "-" + hash
    let budget = SESSION_NAME_MAX - "crp-".len() - 2 - SESSION_HASH_LEN;
    let logical_len = logical.len().min(SESSION_LOGICAL_MAX);
    let stack_len = stack.len().min(budget - logical_len);
    let logical_len = logical.len().min(budget - stack_len);
    // Both parts are ASCII after sanitizing, so byte slicing is safe.
    let mut name = join_session(&stack[..stack_len], &logical[..logical_len]);
    name.push('-');
    name.push_str(&hash);
    name
}

fn join_session(stack: &str, logical: &str) -> String {
    ["crp", stack, logical]
        .iter()
        .filter(|part| !part.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("-")
}

fn stack_name_of(stack_id: &str) -> &str {
    if !stack_id.starts_with("arn:") {
        return stack_id;
    }
    stack_id
        .splitn(6, ':')
        .nth(5)
        .and_then(|resource| resource.strip_prefix("stack/"))
        .map(|rest| rest.split('/').next().unwrap_or(rest))
        .unwrap_or(stack_id)
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Whether any of `names` is set to something other than blanks.
fn env_is_set(names: &[&str]) -> bool {
    names
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()))
}

/// Standard retries with backoff: throttling and transient faults are retried
/// by the SDK, and the deadline guard bounds the total.
fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(4)
        .with_initial_backoff(Duration::from_millis(200))
}

/// How long opening a connection (TCP and TLS) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Bounds each attempt, so a silent endpoint costs seconds, not the whole
/// Lambda timeout.
fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(Duration::from_secs(10))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_region_is_built_once_and_reused() {
        let clients = AwsClients::from_config(
            SdkConfig::builder()
                .behavior_version(BehaviorVersion::latest())
                .build(),
        );
        let a = clients.region("us-east-1").await;
        let b = clients.region("us-east-1").await;
        let c = clients.region("ap-northeast-1").await;
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(c.region, "ap-northeast-1");
    }

    #[tokio::test]
    async fn a_service_client_is_built_only_when_used() {
        let clients = AwsClients::from_config(
            SdkConfig::builder()
                .behavior_version(BehaviorVersion::latest())
                .build(),
        );
        let region = clients.region("us-east-1").await;
        let built = |r: &RegionClients| {
            [
                r.ssm.is_built(),
                r.lambda.is_built(),
                r.cloudformation.is_built(),
                r.iam.is_built(),
                r.sts.is_built(),
            ]
        };
        assert_eq!(built(&region), [false; 5]);
        let _ = region.ssm.get_parameters();
        assert_eq!(built(&region), [true, false, false, false, false]);
        let again = clients.region("us-east-1").await;
        assert!(
            again.ssm.is_built(),
            "the built client is kept for later requests"
        );
    }

    #[test]
    fn a_ready_client_is_used_as_given() {
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .build();
        let lazy = LazyClient::from(aws_sdk_ssm::Client::new(&config));
        assert!(lazy.is_built());
        assert_eq!(
            lazy.config().region().map(|r| r.as_ref()),
            Some("eu-west-1")
        );
    }

    fn valid_session_name(name: &str) -> bool {
        (2..=SESSION_NAME_MAX).contains(&name.len())
            && name.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-')
            })
    }

    #[test]
    fn session_name_uses_the_stack_name_from_its_arn_and_the_logical_id() {
        assert_eq!(
            session_name(
                "arn:aws:cloudformation:ap-northeast-1:123456789012:stack/app/0b2c-11ee",
                "EdgeAuth"
            ),
            "crp-app-EdgeAuth"
        );
        assert_eq!(session_name("app", "EdgeAuth"), "crp-app-EdgeAuth");
    }

    #[test]
    fn a_200_character_stack_name_gives_a_valid_readable_session_name() {
        let stack = format!(
            "arn:aws:cloudformation:us-east-1:1:stack/{}/u",
            "s".repeat(200)
        );
        let name = session_name(&stack, "EdgeAuth");
        assert!(valid_session_name(&name), "{name}");
        assert_eq!(name.len(), SESSION_NAME_MAX);
        assert!(name.starts_with("crp-sss"), "{name}");
        assert!(name.contains("-EdgeAuth-"), "{name}");
    }

    #[test]
    fn long_names_that_differ_only_past_the_cut_stay_distinct() {
        let a = session_name(&format!("{}a", "x".repeat(100)), "Res");
        let b = session_name(&format!("{}b", "x".repeat(100)), "Res");
        assert_ne!(a, b);
        assert!(valid_session_name(&a) && valid_session_name(&b));
    }

    #[test]
    fn odd_inputs_always_give_valid_session_names() {
        let fixed = [
            ("", ""),
            ("", "R"),
            ("/", "/"),
            ("arn:aws:cloudformation:r:a:stack/", ""),
            ("arn:", "x"),
            ("日本語のスタック", "論理ID"),
            ("a/b\\c d\te", "x:y*z"),
            ("🦀🦀🦀", "🦀"),
        ];
        for (stack, logical) in fixed {
            let name = session_name(stack, logical);
            assert!(
                valid_session_name(&name),
                "{stack:?} {logical:?} -> {name:?}"
            );
        }
        // A small deterministic generator over awkward characters and lengths,
        // standing in for a property test.
        let pool: Vec<char> = "aZ09_+=,.@-/:\\ \t\n*é日🦀\u{0}\u{200b}".chars().collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2000 {
            let mut text = |max: u64| -> String {
                let len = next() % max;
                (0..len)
                    .map(|_| pool[(next() % pool.len() as u64) as usize])
                    .collect()
            };
            let (stack, logical) = (text(300), text(120));
            let name = session_name(&stack, &logical);
            assert!(
                valid_session_name(&name),
                "{stack:?} {logical:?} -> {name:?}"
            );
        }
    }
}
