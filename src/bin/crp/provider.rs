//! The one place `crp` calls into the provider, so both the single-resource
//! form and `crp plan` give exactly the answer the Lambda would give: the same
//! `Provider::answer`, the body-size check included. If the library's API
//! moves, this file is the only one to adapt.
//!
//! It also reads the allow-lists a deployed provider runs with (`--provider`),
//! so a plan meets the same `CRP_*` configuration the stack will meet.

use std::collections::HashMap;
use std::sync::Arc;

use aws_config::Region;
use aws_smithy_types::error::display::DisplayErrorContext;
use cross_region_param::{
    Answer, AwsClients, Config, Deadline, Provider, Request, RequestType, Resolver, ResponseSender,
    RetryPolicy,
};
use serde_json::Value;
use thiserror::Error;

/// Why the provider could not be set up locally.
#[derive(Debug, Error)]
pub enum SetupError {
    /// The HTTP client for responses could not be built.
    #[error("cannot set up HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// `--provider` names a function whose configuration cannot be read.
    #[error(
        "cannot read the configuration of provider {function} (lambda:GetFunctionConfiguration): {problem}"
    )]
    DeployedConfig {
        /// The function as given.
        function: String,
        /// What the Lambda API said.
        problem: String,
    },
}

/// The provider, as the Lambda builds it, but answering locally.
pub type Local = Provider<Resolver>;

/// A request id of the length CloudFormation uses (a UUID), so the response
/// body is measured against the 4096-byte limit as it would be at deploy.
const REQUEST_ID: &str = "00000000-0000-4000-8000-000000000000";

/// Builds the provider over shared clients and the given allow-lists.
pub fn build(clients: Arc<AwsClients>, config: Arc<Config>) -> Result<Local, SetupError> {
    let sender = ResponseSender::new(RetryPolicy::default())?;
    Ok(Provider::new(
        Arc::new(Resolver::new(clients, Arc::clone(&config))),
        sender,
        config,
    ))
}

/// A Create request for `properties`, as CloudFormation would send it.
pub fn create_request(stack_id: &str, logical_id: &str, properties: Value) -> Request {
    Request {
        request_type: Some(RequestType::Create),
        request_id: REQUEST_ID.to_owned(),
        stack_id: stack_id.to_owned(),
        logical_resource_id: logical_id.to_owned(),
        response_url: String::new(),
        physical_resource_id: None,
        properties,
        old_properties: None,
        malformed: None,
    }
}

/// The answer the Lambda would send for `request` (nothing is sent).
pub async fn answer(provider: &Local, request: &Request, deadline: Deadline) -> Answer {
    provider.answer(request, deadline).await
}

/// The allow-lists of the deployed provider `function` (name or ARN), read
/// from its environment with `lambda:GetFunctionConfiguration`. An invalid
/// value is kept as the refusal the deployed provider answers with.
pub async fn deployed_config(clients: &AwsClients, function: &str) -> Result<Config, SetupError> {
    let mut builder = aws_sdk_lambda::config::Builder::from(clients.sdk_config().await);
    // A full ARN says where the function lives; a name uses the caller's region.
    if let Some(region) = function
        .strip_prefix("arn:")
        .and_then(|rest| rest.split(':').nth(2))
        .filter(|r| !r.is_empty())
    {
        builder = builder.region(Region::new(region.to_owned()));
    }
    let lambda = aws_sdk_lambda::Client::from_conf(builder.build());
    let output = lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .map_err(|e| SetupError::DeployedConfig {
            function: function.to_owned(),
            problem: DisplayErrorContext(&e).to_string(),
        })?;
    let variables: HashMap<String, String> = output
        .environment()
        .and_then(|e| e.variables())
        .map(|v| {
            v.iter()
                .filter(|(k, _)| k.starts_with("CRP_"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    Ok(Config::from_lookup_or_refusing(|name| {
        variables.get(name).cloned()
    }))
}
