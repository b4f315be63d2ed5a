//! Outbound HTTP for the whole process: one TLS configuration and one HTTP
//! stack, shared by the AWS SDK clients and the response PUT.
//!
//! The SDK's bundled client would load the system CA bundle (and every file of
//! the certificates directory) on its first call, and reqwest's platform
//! verifier would do it again; at a cold start that was most of the
//! provider's CPU. Here the trust anchors are compiled in (`webpki-roots`),
//! the rustls configuration is built once, on first use, and every client gets
//! a clone of the same `Arc`. The SDK talks HTTP through [`SdkHttpClient`], a
//! thin adapter over reqwest, so only one HTTP/TLS stack is linked.
//!
//! A CA bundle named by `AWS_CA_BUNDLE` (as the AWS CLI and boto3 read it) is
//! added to those roots, read once when the configuration is built: behind a
//! TLS-inspecting proxy (a VPC's egress, a corporate laptop) that is the only
//! way to reach AWS. Nothing is read when it is unset. `crp` builds its own
//! configuration with [`client_config`], from `AWS_CA_BUNDLE` or the selected
//! profile's `ca_bundle`.
//!
//! The SDK's requests go out on connections this module keeps per endpoint
//! (`pool`): a caller that knows it will need an endpoint opens a connection
//! to it ahead of the call ([`SdkHttpClient::preconnect`]), and a request
//! never opens a connection while one to its endpoint is idle or being
//! opened for it. Across regions each new connection costs two round trips
//! (TCP, TLS) before its first request. With a proxy configured
//! (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`), requests go through reqwest,
//! which honours it.

mod pool;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use pool::{CallError, Pool};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::Response as SdkResponse;
use aws_smithy_types::body::SdkBody;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The environment variable the AWS CLI and SDKs read a CA bundle from.
pub const CA_BUNDLE_VAR: &str = "AWS_CA_BUNDLE";

/// A PEM file of CA certificates to trust besides the compiled-in roots, and
/// where its name came from (said in errors, so the user knows what to fix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaBundle {
    /// The file.
    pub path: PathBuf,
    /// Where it was named, e.g. `AWS_CA_BUNDLE` or `ca_bundle of profile 'dev'`.
    pub origin: String,
}

impl CaBundle {
    /// The bundle `AWS_CA_BUNDLE` names, if it is set to something.
    pub fn from_env() -> Option<Self> {
        std::env::var_os(CA_BUNDLE_VAR)
            .filter(|v| !v.to_string_lossy().trim().is_empty())
            .map(|path| Self {
                path: PathBuf::from(path),
                origin: CA_BUNDLE_VAR.to_owned(),
            })
    }
}

/// Why the TLS configuration could not be built.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TlsError {
    /// The CA bundle cannot be read.
    #[error(
        "cannot read the CA bundle {} (from {}): {problem}; point it at a readable PEM file of CA certificates, or unset it",
        .bundle.path.display(), .bundle.origin
    )]
    CaBundleUnreadable {
        /// The bundle.
        bundle: CaBundle,
        /// What the file system said.
        problem: String,
    },
    /// The CA bundle holds no certificate rustls can use.
    #[error(
        "the CA bundle {} (from {}) holds no usable PEM certificate{problem}; it must contain `-----BEGIN CERTIFICATE-----` blocks (your proxy's CA)",
        .bundle.path.display(), .bundle.origin
    )]
    CaBundleEmpty {
        /// The bundle.
        bundle: CaBundle,
        /// What was wrong with what it holds, if anything was found.
        problem: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The process-wide rustls client configuration: ring, compiled-in web PKI
/// roots plus `AWS_CA_BUNDLE`'s certificates when it is set, TLS 1.2 and 1.3.
/// Built the first time a client asks for it.
pub fn tls_config() -> Result<Arc<rustls::ClientConfig>, TlsError> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, TlsError>> = OnceLock::new();
    CONFIG
        .get_or_init(|| client_config(CaBundle::from_env().as_ref()))
        .clone()
}

/// A rustls client configuration trusting the compiled-in roots and, when
/// given, the certificates of `bundle` (read now).
pub fn client_config(bundle: Option<&CaBundle>) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(bundle) = bundle {
        for cert in read_ca_bundle(bundle)? {
            roots.add(cert).map_err(|e| TlsError::CaBundleEmpty {
                bundle: bundle.clone(),
                problem: format!(" (a certificate was refused: {e})"),
            })?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The certificates of a PEM bundle; at least one, or an error naming the file.
fn read_ca_bundle(bundle: &CaBundle) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = std::fs::read(&bundle.path).map_err(|e| TlsError::CaBundleUnreadable {
        bundle: bundle.clone(),
        problem: e.to_string(),
    })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::CaBundleEmpty {
            bundle: bundle.clone(),
            problem: format!(" ({e})"),
        })?;
    if certs.is_empty() {
        return Err(TlsError::CaBundleEmpty {
            bundle: bundle.clone(),
            problem: String::new(),
        });
    }
    Ok(certs)
}

/// A reqwest client builder that uses the shared TLS configuration (the
/// response PUT's).
///
/// When `AWS_CA_BUNDLE` cannot be used, every AWS read fails with a Reason
/// naming the file ([`SdkHttpClient`]); the answer to CloudFormation must
/// still go out, so this falls back to the compiled-in roots alone.
pub fn reqwest_builder() -> Result<reqwest::ClientBuilder, TlsError> {
    Ok(builder_with(&*response_tls_config()?))
}

/// The TLS configuration the response PUT uses: [`tls_config`], or the
/// compiled-in roots alone when `AWS_CA_BUNDLE` cannot be read, so a broken
/// bundle fails the reads with a Reason naming the file and that Reason still
/// reaches CloudFormation (its response hosts are publicly trusted).
pub(crate) fn response_tls_config() -> Result<Arc<rustls::ClientConfig>, TlsError> {
    match tls_config() {
        Ok(tls) => Ok(tls),
        Err(TlsError::CaBundleUnreadable { .. } | TlsError::CaBundleEmpty { .. }) => {
            static BUILT_IN: OnceLock<Result<Arc<rustls::ClientConfig>, TlsError>> =
                OnceLock::new();
            BUILT_IN.get_or_init(|| client_config(None)).clone()
        }
        Err(other) => Err(other),
    }
}

fn builder_with(tls: &rustls::ClientConfig) -> reqwest::ClientBuilder {
    reqwest::Client::builder().tls_backend_preconfigured(rustls::ClientConfig::clone(tls))
}

/// The AWS SDK's HTTP client: requests go out through reqwest with the shared
/// TLS configuration. Redirects are never followed (the SDK handles status
/// codes itself); connect and read timeouts come from the SDK's settings.
#[derive(Debug, Default, Clone)]
pub struct SdkHttpClient {
    /// One connector per distinct timeout setting (in practice, one).
    connectors: Arc<Mutex<HashMap<TimeoutKey, SharedHttpConnector>>>,
    /// The TLS configuration; `None` is the process-wide [`tls_config`].
    tls: Option<Arc<rustls::ClientConfig>>,
    /// The connections every connector of this client shares, made on first use.
    pool: Arc<OnceLock<Result<Arc<Pool>, ConnectorProblem>>>,
}

type TimeoutKey = (Option<Duration>, Option<Duration>);

impl SdkHttpClient {
    /// A client over this TLS configuration (`crp`'s, from [`client_config`]).
    #[cfg(feature = "cli")]
    pub fn shared_with(
        tls: Arc<rustls::ClientConfig>,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
        aws_smithy_runtime_api::client::http::SharedHttpClient::new(Self::with_tls(tls))
    }

    /// A client over this TLS configuration rather than [`tls_config`].
    pub(crate) fn with_tls(tls: Arc<rustls::ClientConfig>) -> Self {
        Self {
            tls: Some(tls),
            ..Self::default()
        }
    }

    /// Starts opening a connection to `url` (an endpoint's base URL) that a
    /// request to it will take, so the TCP and TLS handshakes overlap
    /// whatever the caller waits for meanwhile. Nothing happens when one is
    /// idle or already being opened, or when requests go through a proxy.
    /// Needs a tokio runtime.
    pub fn preconnect(&self, url: &str, timeout: Duration) {
        if proxied() {
            return;
        }
        if let Ok(pool) = self.pool() {
            pool.preconnect(url, timeout);
        }
    }

    /// PUTs `body` to `url` on the pool's connections, with the empty
    /// `Content-Type` CloudFormation's presigned URLs are signed for, all
    /// within `limit` (connecting included). Redirects come back as they
    /// are. The error text never holds the URL.
    pub(crate) async fn put(
        &self,
        url: &str,
        body: &[u8],
        limit: Duration,
    ) -> Result<http::Response<Bytes>, String> {
        let pool = self.pool().map_err(|p| p.to_string())?;
        let request = http::Request::put(url)
            .header(http::header::CONTENT_TYPE, "")
            .header(http::header::CONTENT_LENGTH, body.len())
            .body(Full::new(Bytes::copy_from_slice(body)))
            .map_err(|_| "the response URL is not a valid request target".to_owned())?;
        let sent = pool.send(request, Some(limit), Some(limit));
        match tokio::time::timeout(limit, sent).await {
            Err(_) | Ok(Err(CallError::Timeout(_))) => {
                Err(format!("no answer within {} ms", limit.as_millis()))
            }
            Ok(Err(CallError::Io(e) | CallError::User(e))) => Err(e.to_string()),
            Ok(Ok(response)) => Ok(response),
        }
    }

    fn pool(&self) -> Result<Arc<Pool>, ConnectorProblem> {
        self.pool
            .get_or_init(|| {
                let tls = match &self.tls {
                    Some(tls) => Arc::clone(tls),
                    None => tls_config()?,
                };
                Ok(Arc::new(Pool::new(&tls)))
            })
            .clone()
    }
}

/// Whether a proxy is configured in the environment, as reqwest reads it.
pub(crate) fn proxied() -> bool {
    [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .iter()
    .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

impl HttpClient for SdkHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self
            .connectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        connectors
            .entry(key)
            .or_insert_with(|| {
                if proxied() {
                    SharedHttpConnector::new(ReqwestConnector::new(self.tls.clone(), key))
                } else {
                    SharedHttpConnector::new(PooledConnector {
                        pool: self.pool(),
                        timeouts: key,
                    })
                }
            })
            .clone()
    }
}

/// Sends SDK requests on the pool's connections.
#[derive(Debug)]
struct PooledConnector {
    pool: Result<Arc<Pool>, ConnectorProblem>,
    timeouts: TimeoutKey,
}

impl HttpConnector for PooledConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let pool = match &self.pool {
            Ok(pool) => Arc::clone(pool),
            Err(problem) => return HttpConnectorFuture::ready(Err(problem.to_connector_error())),
        };
        let (connect, read) = self.timeouts;
        HttpConnectorFuture::new(async move {
            let request = to_http(request)?;
            let response = pool
                .send(request.map(Full::new), connect, read)
                .await
                .map_err(|e| match e {
                    CallError::Timeout(e) => ConnectorError::timeout(e),
                    CallError::Io(e) => ConnectorError::io(e),
                    CallError::User(e) => ConnectorError::user(e),
                })?;
            SdkResponse::try_from(response.map(SdkBody::from))
                .map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// Sends one SDK request with a reqwest client built for one timeout setting.
#[derive(Debug)]
struct ReqwestConnector {
    client: Result<reqwest::Client, ConnectorProblem>,
}

/// Why a connector has no client: every call fails with it, so a broken
/// `AWS_CA_BUNDLE` is a Reason naming the file rather than a crash.
#[derive(Debug, Clone)]
enum ConnectorProblem {
    Tls(TlsError),
    Build(String),
}

impl From<TlsError> for ConnectorProblem {
    fn from(e: TlsError) -> Self {
        Self::Tls(e)
    }
}

impl std::fmt::Display for ConnectorProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Tls(e) => e.fmt(f),
            Self::Build(m) => write!(f, "cannot build the HTTP client: {m}"),
        }
    }
}

impl ConnectorProblem {
    /// What every call fails with; the TLS error itself is the source, so
    /// the classifier finds it.
    fn to_connector_error(&self) -> ConnectorError {
        let source: Box<dyn std::error::Error + Send + Sync> = match self {
            Self::Tls(e) => Box::new(e.clone()),
            Self::Build(_) => self.to_string().into(),
        };
        ConnectorError::other(source, None)
    }
}

impl ReqwestConnector {
    fn new(tls: Option<Arc<rustls::ClientConfig>>, (connect, read): TimeoutKey) -> Self {
        let tls = match tls {
            Some(tls) => Ok(tls),
            None => tls_config(),
        };
        let client = tls.map_err(ConnectorProblem::from).and_then(|tls| {
            let mut builder = builder_with(&tls).redirect(reqwest::redirect::Policy::none());
            if let Some(connect) = connect {
                builder = builder.connect_timeout(connect);
            }
            if let Some(read) = read {
                builder = builder.read_timeout(read);
            }
            builder
                .build()
                .map_err(|e| ConnectorProblem::Build(e.to_string()))
        });
        Self { client }
    }
}

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = match &self.client {
            Ok(client) => client.clone(),
            Err(problem) => return HttpConnectorFuture::ready(Err(problem.to_connector_error())),
        };
        HttpConnectorFuture::new(async move {
            let request = to_reqwest(request)?;
            let response = client.execute(request).await.map_err(connector_error)?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(connector_error)?;
            let mut http = http::Response::new(SdkBody::from(body));
            *http.status_mut() = status;
            *http.headers_mut() = headers;
            SdkResponse::try_from(http).map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// The SDK's request with its body in memory, as every body the provider
/// sends is.
fn to_http(request: HttpRequest) -> Result<http::Request<Bytes>, ConnectorError> {
    let user = |e: Box<dyn std::error::Error + Send + Sync>| ConnectorError::user(e);
    let request = request.try_into_http1x().map_err(|e| user(e.into()))?;
    let (parts, body) = request.into_parts();
    let bytes = body
        .bytes()
        .ok_or_else(|| user("streaming request bodies are not supported".into()))?;
    Ok(http::Request::from_parts(
        parts,
        Bytes::copy_from_slice(bytes),
    ))
}

/// The SDK's request as reqwest's.
fn to_reqwest(request: HttpRequest) -> Result<reqwest::Request, ConnectorError> {
    let request = to_http(request)?.map(|b| b.to_vec());
    reqwest::Request::try_from(request).map_err(|e| ConnectorError::user(e.into()))
}

/// Timeouts and connection failures are transient to the SDK's retry policy.
fn connector_error(error: reqwest::Error) -> ConnectorError {
    if error.is_timeout() {
        ConnectorError::timeout(error.into())
    } else if error.is_connect() || error.is_request() || error.is_body() {
        ConnectorError::io(error.into())
    } else {
        ConnectorError::other(error.into(), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;

    #[test]
    fn every_client_shares_one_tls_configuration() {
        let a = tls_config().expect("tls config");
        let b = tls_config().expect("tls config");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!a.crypto_provider().cipher_suites.is_empty());
    }

    fn bundle(name: &str, contents: Option<&str>) -> CaBundle {
        let path = std::env::temp_dir().join(format!("crp-net-{}-{name}", std::process::id()));
        if let Some(text) = contents {
            std::fs::write(&path, text).expect("write the test bundle");
        }
        CaBundle {
            path,
            origin: "AWS_CA_BUNDLE".to_owned(),
        }
    }

    #[test]
    fn an_unreadable_ca_bundle_names_the_file_and_where_it_was_named() {
        let missing = bundle("missing.pem", None);
        let err = client_config(Some(&missing)).expect_err("a missing file is refused");
        let text = err.to_string();
        assert!(text.starts_with("cannot read the CA bundle "), "{text}");
        assert!(text.contains(&missing.path.display().to_string()), "{text}");
        assert!(text.contains("(from AWS_CA_BUNDLE)"), "{text}");
    }

    #[test]
    fn a_ca_bundle_without_certificates_is_refused() {
        for (name, text) in [("empty.pem", ""), ("prose.pem", "not a certificate\n")] {
            let b = bundle(name, Some(text));
            let err = client_config(Some(&b)).expect_err("no certificate");
            let _ = std::fs::remove_file(&b.path);
            assert!(matches!(err, TlsError::CaBundleEmpty { .. }), "{err}");
            assert!(err.to_string().contains(&b.path.display().to_string()));
        }
    }

    #[test]
    fn a_ca_bundle_with_a_certificate_is_accepted() {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = params.self_signed(&key).expect("self-signed CA");
        let b = bundle("ca.pem", Some(&ca.pem()));
        let config = client_config(Some(&b));
        let _ = std::fs::remove_file(&b.path);
        assert!(config.is_ok(), "{:?}", config.err());
    }

    #[test]
    fn one_connector_per_timeout_setting() {
        let client = SdkHttpClient::default();
        let components = RuntimeComponentsBuilder::for_tests()
            .build()
            .expect("test components");
        let settings = HttpConnectorSettings::builder()
            .connect_timeout(Duration::from_secs(3))
            .build();
        let _ = client.http_connector(&settings, &components);
        let _ = client.http_connector(&settings, &components);
        let other = HttpConnectorSettings::builder()
            .connect_timeout(Duration::from_secs(1))
            .build();
        let _ = client.http_connector(&other, &components);
        assert_eq!(client.connectors.lock().map(|c| c.len()).unwrap_or(0), 2);
    }
}
