//! Shared test bed: moto as AWS, a loopback receiver as CloudFormation's
//! ResponseURL, and request fixtures.
//!
//! moto is started by `scripts/test.sh` (the README's test command), which
//! exports its address as `CRP_TEST_MOTO_URL`.

#![allow(dead_code)]

pub mod http;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_config::{Region, SdkConfig};
use cross_region_param::error::{PropertiesError, ProviderError, ResolveError};
use cross_region_param::{
    AwsClients, Config, Deadline, Handled, Progress, Provider, Requester, Resolve, Resolved,
    Resolver, ResourceProperties, ResponseSender, RetryPolicy,
};
use serde_json::{Value, json};

/// moto's address; tests that need AWS fail loudly without it.
pub fn moto_url() -> String {
    std::env::var("CRP_TEST_MOTO_URL").unwrap_or_else(|_| {
        panic!("CRP_TEST_MOTO_URL is not set: run the tests with `make test`, which starts moto")
    })
}

/// The SDK configuration the provider would use against `endpoint`, with
/// dummy credentials: for the SDK clients tests set AWS up with.
pub async fn sdk_config_for(endpoint: &str) -> SdkConfig {
    AwsClients::with_endpoint(endpoint)
        .sdk_config()
        .await
        .clone()
}

/// An SDK configuration for moto.
pub async fn moto_config() -> SdkConfig {
    sdk_config_for(&moto_url()).await
}

/// An SSM client for moto in `region`.
pub async fn moto_ssm(region: &str) -> aws_sdk_ssm::Client {
    let config = moto_config().await;
    let config = aws_sdk_ssm::config::Builder::from(&config)
        .region(Region::new(region.to_owned()))
        .build();
    aws_sdk_ssm::Client::from_conf(config)
}

/// Creates the IAM role `name` on moto, trusted by Lambda and, when `edge`,
/// by Lambda@Edge too; returns its ARN.
pub async fn moto_role(name: &str, edge: bool) -> String {
    let services = if edge {
        json!(["lambda.amazonaws.com", "edgelambda.amazonaws.com"])
    } else {
        json!("lambda.amazonaws.com")
    };
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": services}, "Action": "sts:AssumeRole"}]
    });
    let out = aws_sdk_iam::Client::new(&moto_config().await)
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    out.role().unwrap().arn().to_owned()
}

/// An edge-ready function in us-east-1 on moto (Node.js, x86_64, 128 MB, 5 s,
/// a role trusting Lambda@Edge) with `versions` published versions;
/// returns the newest version's ARN.
pub async fn moto_edge_function(name: &str, versions: u32) -> String {
    let role = moto_role(name, true).await;
    let lambda = aws_sdk_lambda::Client::new(&moto_config().await);
    lambda
        .create_function()
        .function_name(name)
        .role(&role)
        .handler("index.handler")
        .runtime(aws_sdk_lambda::types::Runtime::Nodejs22x)
        .architectures(aws_sdk_lambda::types::Architecture::X8664)
        .memory_size(128)
        .timeout(5)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new("v0"))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut arn = String::new();
    for n in 1..=versions {
        // moto, like Lambda, publishes nothing new for unchanged code.
        lambda
            .update_function_code()
            .function_name(name)
            .zip_file(aws_sdk_lambda::primitives::Blob::new(format!("v{n}")))
            .send()
            .await
            .unwrap();
        let out = lambda
            .publish_version()
            .function_name(name)
            .send()
            .await
            .unwrap();
        arn = out.function_arn().unwrap().to_owned();
    }
    arn
}

/// A name no other test uses, since every test shares one moto server.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{pid}-{nanos}-{n}")
}

/// Puts a String parameter and returns its name.
pub async fn put_param(
    region: &str,
    name: &str,
    value: &str,
    kind: aws_sdk_ssm::types::ParameterType,
) {
    moto_ssm(region)
        .await
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(kind)
        .overwrite(true)
        .send()
        .await
        .unwrap();
}

/// The configuration tests use: loopback response URLs allowed.
pub fn test_config(extra: &[(&str, &str)]) -> Config {
    let mut pairs: Vec<(String, String)> = vec![(
        "CRP_RESPONSE_URL_HOSTS".into(),
        "127.0.0.1,localhost".into(),
    )];
    pairs.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    Config::from_lookup(|name| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap()
}

/// Fast retries, so tests of the retry path take milliseconds.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        initial_backoff: std::time::Duration::from_millis(20),
        max_backoff: std::time::Duration::from_millis(100),
        attempt_timeout: std::time::Duration::from_secs(5),
    }
}

/// A provider wired to `endpoint` (moto, or something that misbehaves).
pub async fn provider_for(endpoint: &str, config: Config) -> Provider<Resolver> {
    let config = Arc::new(config);
    let clients = Arc::new(AwsClients::with_endpoint(endpoint));
    let resolver = Arc::new(Resolver::new(clients, Arc::clone(&config)));
    Provider::new(
        resolver,
        ResponseSender::new(fast_retries()).unwrap(),
        config,
    )
}

/// A resolver over moto under `config`.
pub async fn moto_resolver(config: Config) -> Resolver {
    Resolver::new(
        Arc::new(AwsClients::with_endpoint(&moto_url())),
        Arc::new(config),
    )
}

/// Why [`resolve`] gave no Data: the properties, or the resolution.
#[derive(Debug)]
pub enum Unresolved {
    /// The properties were refused before any call.
    Properties(PropertiesError),
    /// The resolver failed.
    Resolve(ResolveError),
}

impl Unresolved {
    /// The resolver's error; panics (failing the test) on a properties error.
    pub fn resolve_error(self) -> ResolveError {
        match self {
            Self::Resolve(e) => e,
            Self::Properties(e) => panic!("the properties were refused: {e}"),
        }
    }
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Properties(e) => write!(f, "{e}"),
            Self::Resolve(e) => write!(f, "{e}"),
        }
    }
}

/// The source error inside `err`, when a source failed.
pub fn source_error(err: &ResolveError) -> Option<&cross_region_param::error::SourceError> {
    match err {
        ResolveError::Source(e) => Some(e),
        _ => None,
    }
}

/// Resolves `props` as the resource `logical_id` of a stack in
/// ap-northeast-1 would; the error is kept typed, for matching on kinds.
pub async fn resolve(
    resolver: &Resolver,
    props: Value,
    logical_id: &str,
) -> Result<Resolved, Unresolved> {
    let props = ResourceProperties::parse(&props).map_err(Unresolved::Properties)?;
    let requester = Requester {
        stack_id: "arn:aws:cloudformation:ap-northeast-1:123456789012:stack/app/5f1e".into(),
        logical_resource_id: logical_id.into(),
    };
    resolver
        .resolve(&props, &requester, &Progress::default())
        .await
        .map_err(Unresolved::Resolve)
}

/// Events written as JSON values, handed to a provider as the Lambda
/// runtime hands them over: as bytes.
pub trait HandleJson {
    /// [`Provider::handle`] with `event` serialised.
    fn handle_json(
        &self,
        event: Value,
        deadline: Deadline,
    ) -> impl Future<Output = Result<Handled, ProviderError>> + Send;
}

impl<R: Resolve> HandleJson for Provider<R> {
    async fn handle_json(
        &self,
        event: Value,
        deadline: Deadline,
    ) -> Result<Handled, ProviderError> {
        let raw = serde_json::to_vec(&event).expect("a JSON value serialises");
        self.handle(&raw, deadline).await
    }
}

/// A provider wired to moto.
pub async fn moto_provider(config: Config) -> Provider<Resolver> {
    provider_for(&moto_url(), config).await
}

const STACK_ID: &str = "arn:aws:cloudformation:ap-northeast-1:123456789012:stack/ClientAppStack/4f1d2e00-0000-4000-8000-000000000001";

/// The Lambda binary `binary`, set up as Lambda would start it against the
/// Runtime API on `runtime_port`, with moto as AWS and loopback responses
/// allowed. Nothing else of the caller's environment leaks in.
pub fn lambda_process(binary: &str, runtime_port: u16) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(binary);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("127.0.0.1:{runtime_port}"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", "crp")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/crp")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
        .env("AWS_ENDPOINT_URL", moto_url())
        .env("AWS_REGION", "ap-northeast-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("CRP_RESPONSE_URL_HOSTS", "127.0.0.1")
        .kill_on_drop(true);
    cmd
}

/// Kills `child` (started with piped stdout and stderr) and returns what it
/// wrote: stdout, then stderr, invalid UTF-8 replaced.
pub async fn kill_and_collect(child: &mut tokio::process::Child) -> String {
    use tokio::io::AsyncReadExt;
    child.kill().await.unwrap();
    let mut bytes = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_end(&mut bytes).await.unwrap();
    }
    if let Some(mut err) = child.stderr.take() {
        err.read_to_end(&mut bytes).await.unwrap();
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A Create request as CloudFormation sends it.
pub fn create_event(response_url: &str, properties: Value) -> Value {
    json!({
        "RequestType": "Create",
        "ServiceToken": "arn:aws:lambda:ap-northeast-1:123456789012:function:cross-region-param",
        "ResponseURL": response_url,
        "StackId": STACK_ID,
        "RequestId": unique("req"),
        "LogicalResourceId": "EdgeAuth",
        "ResourceType": "Custom::CrossRegionParam",
        "ResourceProperties": properties,
    })
}

/// An Update request.
pub fn update_event(response_url: &str, physical_id: &str, properties: Value, old: Value) -> Value {
    let mut e = create_event(response_url, properties);
    e["RequestType"] = json!("Update");
    e["PhysicalResourceId"] = json!(physical_id);
    e["OldResourceProperties"] = old;
    e
}

/// A Delete request.
pub fn delete_event(response_url: &str, physical_id: &str, properties: Value) -> Value {
    let mut e = create_event(response_url, properties);
    e["RequestType"] = json!("Delete");
    e["PhysicalResourceId"] = json!(physical_id);
    e
}
