//! `cross-region-param`: a CloudFormation custom resource
//! (`Custom::CrossRegionParam`) that reads values from another region or
//! account at deploy time — SSM parameters, the latest published version of a
//! Lambda function, a stack's outputs — so stacks never need cross-region
//! exports, and never deadlock on them.
//!
//! The crate is layered so each concern sits in one place:
//!
//! - [`protocol`]: CloudFormation's side — parsing requests, the deadline, the
//!   response body and its size limit, the PUT and its retries. It always answers.
//! - [`properties`]: turning the resource's properties into typed, validated values.
//! - [`resolve`]: reading values from AWS (SSM, Lambda, stack outputs); knows
//!   nothing of CloudFormation.
//! - [`physical_id`]: deterministic ids that change exactly when values change.
//! - [`config`]: the provider's allow-lists, from the environment.
//! - [`aws`]: one shared SDK configuration and per-region clients, built once.
//! - [`net`]: the one HTTP/TLS stack every outbound call uses.
//! - [`telemetry`]: structured logging setup.

#![warn(missing_docs)]

pub mod aws;
pub mod config;
pub mod net;
pub mod physical_id;
pub mod properties;
pub mod protocol;
pub mod resolve;
pub mod telemetry;

pub use config::Config;
pub use properties::ResourceProperties;
pub use protocol::{Deadline, Provider};
pub use resolve::{Resolved, Resolver};
