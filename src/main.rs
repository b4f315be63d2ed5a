//! The Lambda entry point: wire configuration, AWS clients and the protocol
//! layer together, then serve invocations.

use std::sync::Arc;

use cross_region_param::aws::AwsClients;
use cross_region_param::protocol::{ResponseSender, RetryPolicy};
use cross_region_param::{Config, Deadline, Provider, Resolver, telemetry};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

// One thread: a custom resource handles one event at a time, and its AWS
// calls are I/O, so worker threads would only add start-up work and memory.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env_or_refusing();
    if let Some(problem) = config.refusal() {
        tracing::error!(%problem, "invalid configuration: every request is answered FAILED until it is fixed");
    }
    let config = Arc::new(config);
    let clients = Arc::new(AwsClients::load().await);
    let resolver = Arc::new(Resolver::new(clients, Arc::clone(&config)));
    let provider = Arc::new(Provider::new(
        resolver,
        ResponseSender::new(RetryPolicy::default())?,
        config,
    ));

    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let provider = Arc::clone(&provider);
        async move {
            let deadline = Deadline::from_epoch_millis(event.context.deadline);
            provider.handle(event.payload, deadline).await?;
            Ok::<Value, Error>(Value::Null)
        }
    }))
    .await
}
