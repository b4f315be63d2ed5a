//! `cross-region-param`: a CloudFormation custom resource
//! (`Custom::CrossRegionParam`) that reads values from another region or
//! account at deploy time — SSM parameters, the latest published version of a
//! Lambda function, a stack's outputs — so stacks never need cross-region
//! exports, and never deadlock on them.
//!
//! The crate is layered, and every arrow points down:
//!
//! - [`protocol`]: CloudFormation's side — parsing requests, the deadline, the
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
//! Everything but `protocol` and `telemetry` is private; the items below are
//! the public surface, and [`testing`] is the seam integration tests use.

#![warn(missing_docs)]

mod aws;
mod aws_error;
mod config;
mod input;
mod net;
mod physical_id;
mod progress;
mod properties;
pub mod protocol;
mod reason;
mod resolve;
mod sources;
pub mod telemetry;
pub mod testing;

pub use aws::{
    AssumeRoleError, AwsClients, LazyClient, RegionClients, RoleToAssume, retry_config,
    session_name, timeout_config,
};
pub use aws_error::{Audience, AwsCallError, FailureKind, Terminal, address_reasons_to};
pub use config::{Config, ConfigError};
pub use input::PropertyProblem;
pub use net::{CA_BUNDLE_VAR, CaBundle, SdkHttpClient, TlsError, client_config};
pub use physical_id::{CREATE_FAILED, physical_id};
pub use progress::{Progress, Step};
pub use properties::{PropertiesError, ResourceProperties, known_properties};
pub use protocol::{
    Answer, Deadline, Echo, Handled, Provider, ProviderError, Request, RequestType, ResponseSender,
    RetryPolicy, SendError, Status,
};
pub use resolve::{Requester, Resolve, ResolveError, Resolved, Resolver};
