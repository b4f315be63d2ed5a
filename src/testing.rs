//! The seam integration tests use to reach one step below the [`Resolver`]:
//! reading a resource's sources with clients the test builds itself (a
//! mocked Lambda client, say), without allow-lists or role assumption.
//!
//! Everything else goes through the public surface: the [`Provider`], the
//! [`Resolver`] and the `crp` CLI. Production code never calls this module.
//!
//! [`Resolver`]: crate::Resolver
//! [`Provider`]: crate::Provider

use crate::aws::RegionClients;
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
