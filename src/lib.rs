//! `cross-region-param`: a CloudFormation custom resource
//! (`Custom::CrossRegionParam`) that reads values from another region or
//! account at deploy time — SSM parameters, the latest published version of a
//! Lambda function, a stack's outputs — so stacks never need cross-region
//! exports, and never deadlock on them.
//!
//! The crate is layered, and every arrow points down:
//!
//! - `protocol`: CloudFormation's side — parsing requests, the deadline, the
//!   response body and its size limit, the PUT and its retries. It always answers.
//! - `resolve`: allow-lists, clients, running every source and merging Data;
//!   knows nothing of CloudFormation.
//! - `properties` and `physical_id`: validated, typed properties and the
//!   deterministic id computed from them.
//! - `sources`: one file per source (SSM, Lambda, stack outputs) behind one
//!   `Source` seam: its properties, its checks, its AWS calls.
//! - `aws`: one shared SDK configuration and per-region clients, built once.
//! - leaves, used by the layers above and using nothing above themselves:
//!   `aws_error` (SDK errors into Reasons), `progress` (what a request waits
//!   on), `input` (reading properties), `reason` (how Reasons list and quote),
//!   `config` (the provider's allow-lists).
//! - `net`: the one HTTP/TLS stack every outbound call (AWS and the response
//!   PUT) goes through.
//! - [`telemetry`]: structured logging setup.
//!
//! Every other module is private. The crate's surface is the `pub use` list below
//! (what embedding the provider takes), [`error`] (why things fail, typed, so
//! callers match on kinds rather than on wording) and [`telemetry`]. Two more
//! modules exist behind cargo features and never in the Lambda's build:
//! `cli` (feature `cli`: what the `crp` binary shares with the provider)
//! and `testing` (feature `testing`: the seams integration tests use).
//!
//! # Using it
//!
//! The Lambda (`src/main.rs`) wires exactly this: the provider's allow-lists,
//! AWS clients built once, and a [`Provider`] that answers every request
//! once, served by [`serve`]. [`Provider::answer`] decides an answer without sending it (what
//! `crp` shows); [`Provider::handle`] also PUTs it to the ResponseURL. A
//! Delete is answered without a single AWS call:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use cross_region_param::{
//!     AwsClients, Config, Deadline, Provider, Request, Resolver, ResponseSender, RetryPolicy,
//!     Status,
//! };
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Arc::new(Config::default());
//! let clients = Arc::new(AwsClients::from_env());
//! let resolver = Arc::new(Resolver::new(clients, Arc::clone(&config)));
//! let sender = ResponseSender::new(RetryPolicy::default())?;
//! let provider = Provider::new(resolver, sender, config);
//!
//! let event = br#"{
//!     "RequestType": "Delete",
//!     "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/r",
//!     "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1",
//!     "RequestId": "5d478b3a-0e1f-4b7c-9a77-2f0c2d3e4f50",
//!     "LogicalResourceId": "ApiUrl",
//!     "PhysicalResourceId": "crp-eu-west-1-0123",
//!     "ResourceType": "Custom::CrossRegionParam",
//!     "ResourceProperties": {"Region": "eu-west-1", "ParameterName": "/app/api-url"}
//! }"#;
//! let request = Request::from_bytes(event)?;
//! let answer = provider
//!     .answer(&request, Deadline::after(Duration::from_secs(30)))
//!     .await;
//! assert_eq!(answer.status, Status::Success);
//! assert_eq!(answer.physical_resource_id, "crp-eu-west-1-0123");
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod aws;
mod aws_error;
#[cfg(feature = "cli")]
pub mod cli;
mod config;
pub mod error;
mod input;
mod net;
mod physical_id;
mod progress;
mod properties;
mod protocol;
mod reason;
mod resolve;
mod sources;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use aws::{AwsClients, RoleToAssume};
pub use config::Config;
pub use physical_id::{CREATE_FAILED, UPDATE_FAILED};
pub use progress::Progress;
pub use properties::ResourceProperties;
pub use protocol::{
    Answer, Deadline, Handled, Provider, Request, RequestType, ResponseSender, RetryPolicy, Status,
    serve,
};
pub use resolve::{Requester, Resolve, Resolved, Resolver};
