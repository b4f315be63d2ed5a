//! The Lambda entry point: wire configuration, AWS clients and the protocol
//! layer together, then serve invocations (from their raw bytes; see
//! `cross_region_param::serve`).

use std::sync::Arc;

use cross_region_param::{
    AwsClients, Config, Provider, Resolver, ResponseSender, RetryPolicy, serve, telemetry,
};
use lambda_runtime::Error;

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
    let clients = Arc::new(AwsClients::from_env());
    let resolver = Arc::new(Resolver::new(clients, Arc::clone(&config)));
    let provider = Arc::new(Provider::new(
        resolver,
        ResponseSender::new(RetryPolicy::default())?,
        config,
    ));

    serve(provider).await
}
