//! AWS client setup: one shared `SdkConfig`, one set of clients per region.
//!
//! Clients are built the first time a region is asked for and then reused by
//! every later invocation of the warm Lambda, so connection pools and TLS
//! sessions survive between requests. Tests build this from an `SdkConfig` that
//! points at a local moto server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// The clients a resolver may use, all bound to one region (and identity).
#[derive(Clone, Debug)]
pub struct RegionClients {
    /// The region these clients call.
    pub region: String,
    /// SSM Parameter Store.
    pub ssm: aws_sdk_ssm::Client,
    /// Lambda.
    pub lambda: aws_sdk_lambda::Client,
    /// CloudFormation (stack outputs).
    pub cloudformation: aws_sdk_cloudformation::Client,
    /// IAM (reading an edge function's role trust policy).
    pub iam: aws_sdk_iam::Client,
    /// STS (naming the account in error messages).
    pub sts: aws_sdk_sts::Client,
}

impl RegionClients {
    /// Builds every client for `region` from a shared configuration.
    pub fn new(config: &SdkConfig, region: &str) -> Self {
        let config = config
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build();
        Self {
            region: region.to_owned(),
            ssm: aws_sdk_ssm::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            cloudformation: aws_sdk_cloudformation::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            sts: aws_sdk_sts::Client::new(&config),
        }
    }
}

/// The process-wide client cache.
#[derive(Debug)]
pub struct AwsClients {
    base: SdkConfig,
    regional: Mutex<HashMap<String, Arc<RegionClients>>>,
}

impl AwsClients {
    /// Loads the SDK configuration from the environment (credentials, and
    /// `AWS_ENDPOINT_URL` for local runs) with the provider's retry and timeout
    /// policy.
    pub async fn load() -> Self {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry_config())
            .timeout_config(timeout_config())
            .load()
            .await;
        Self::from_config(config)
    }

    /// Wraps an already loaded configuration (tests, the dry-run CLI).
    pub fn from_config(base: SdkConfig) -> Self {
        Self {
            base,
            regional: Mutex::new(HashMap::new()),
        }
    }

    /// The shared configuration every client derives from.
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.base
    }

    /// The clients for `region`, built on first use and reused afterwards.
    pub fn region(&self, region: &str) -> Arc<RegionClients> {
        let mut cache = self.regional.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(
            cache
                .entry(region.to_owned())
                .or_insert_with(|| Arc::new(RegionClients::new(&self.base, region))),
        )
    }
}

/// Standard retries with backoff: throttling and transient faults are retried
/// by the SDK, and the deadline guard bounds the total.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(4)
        .with_initial_backoff(Duration::from_millis(200))
}

/// Bounds each attempt, so a silent endpoint costs seconds, not the whole
/// Lambda timeout.
pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(10))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_is_built_once_and_reused() {
        let clients = AwsClients::from_config(
            SdkConfig::builder()
                .behavior_version(BehaviorVersion::latest())
                .build(),
        );
        let a = clients.region("us-east-1");
        let b = clients.region("us-east-1");
        let c = clients.region("ap-northeast-1");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(c.region, "ap-northeast-1");
    }
}
