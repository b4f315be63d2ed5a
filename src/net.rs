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

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::Response as SdkResponse;
use aws_smithy_types::body::SdkBody;

/// The process-wide rustls client configuration: ring, compiled-in web PKI
/// roots, TLS 1.2 and 1.3. Built the first time a client asks for it.
pub fn tls_config() -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, rustls::Error>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
            Ok(Arc::new(config))
        })
        .clone()
}

/// A reqwest client builder that uses the shared TLS configuration.
pub fn reqwest_builder() -> Result<reqwest::ClientBuilder, rustls::Error> {
    let tls = tls_config()?;
    Ok(reqwest::Client::builder().tls_backend_preconfigured(rustls::ClientConfig::clone(&tls)))
}

/// The AWS SDK's HTTP client: requests go out through reqwest with the shared
/// TLS configuration. Redirects are never followed (the SDK handles status
/// codes itself); connect and read timeouts come from the SDK's settings.
#[derive(Debug, Default, Clone)]
pub struct SdkHttpClient {
    /// One connector per distinct timeout setting (in practice, one).
    connectors: Arc<Mutex<HashMap<TimeoutKey, SharedHttpConnector>>>,
}

type TimeoutKey = (Option<Duration>, Option<Duration>);

impl SdkHttpClient {
    /// A client ready to hand to `aws_config` or an SDK client builder.
    pub fn shared() -> SharedHttpClient {
        SharedHttpClient::new(Self::default())
    }
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
            .or_insert_with(|| SharedHttpConnector::new(ReqwestConnector::new(key)))
            .clone()
    }
}

/// Sends one SDK request with a reqwest client built for one timeout setting.
#[derive(Debug)]
struct ReqwestConnector {
    client: Result<reqwest::Client, String>,
}

impl ReqwestConnector {
    fn new((connect, read): TimeoutKey) -> Self {
        let client = reqwest_builder()
            .map_err(|e| format!("TLS configuration: {e}"))
            .and_then(|builder| {
                let mut builder = builder.redirect(reqwest::redirect::Policy::none());
                if let Some(connect) = connect {
                    builder = builder.connect_timeout(connect);
                }
                if let Some(read) = read {
                    builder = builder.read_timeout(read);
                }
                builder.build().map_err(|e| e.to_string())
            });
        Self { client }
    }
}

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = match &self.client {
            Ok(client) => client.clone(),
            Err(problem) => {
                let error = ConnectorError::other(problem.clone().into(), None);
                return HttpConnectorFuture::ready(Err(error));
            }
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

/// The SDK's request as reqwest's: every body the provider sends is in memory.
fn to_reqwest(request: HttpRequest) -> Result<reqwest::Request, ConnectorError> {
    let user = |e: Box<dyn std::error::Error + Send + Sync>| ConnectorError::user(e);
    let request = request.try_into_http1x().map_err(|e| user(e.into()))?;
    let (parts, body) = request.into_parts();
    let bytes = body
        .bytes()
        .ok_or_else(|| user("streaming request bodies are not supported".into()))?
        .to_vec();
    reqwest::Request::try_from(http::Request::from_parts(parts, bytes)).map_err(|e| user(e.into()))
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
