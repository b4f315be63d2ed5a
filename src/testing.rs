//! The seams integration tests use (feature `testing`, which the crate's
//! own tests and benches turn on through a dev-dependency on the crate
//! itself; never in the Lambda's build).
//!
//! - [`read_with`]: one step below the [`Resolver`], reading a resource's
//!   sources with clients the test builds itself (a mocked Lambda client,
//!   say), without allow-lists or role assumption;
//! - [`RegionClients`] and [`LazyClient`], to build those clients (and
//!   [`AwsClients::assumed`] to get them for a role directly);
//! - [`AwsClients::with_endpoint`], the one constructor tests use for AWS;
//! - the response body's limit and builder, for property tests.
//!
//! Everything else goes through the public surface: the [`Provider`], the
//! [`Resolver`] and the `crp` CLI. Production code never calls this module.
//!
//! [`Resolver`]: crate::Resolver
//! [`Provider`]: crate::Provider
//! [`AwsClients::assumed`]: crate::AwsClients::assumed
//! [`AwsClients::with_endpoint`]: crate::AwsClients::with_endpoint

pub use crate::aws::{LazyClient, RegionClients};
pub use crate::protocol::response::{Echo, MAX_BODY_BYTES, body};

use crate::progress::Progress;
use crate::properties::ResourceProperties;
use crate::resolve::{ResolveError, Resolved, read_sources};

/// Reads every source of `props` with `clients` exactly as the resolver would
/// once allow-lists had passed and clients had been chosen.
pub async fn read_with(
    clients: &RegionClients,
    props: &ResourceProperties,
    progress: &Progress,
) -> Result<Resolved, ResolveError> {
    read_sources(&props.sources, clients, progress).await
}
