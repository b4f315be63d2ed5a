//! Lambda: the latest published version of a function, or the version behind
//! an alias or number. (Filled in by the Lambda resolver work.)

use thiserror::Error;

use super::{Contribution, Progress};
use crate::aws::RegionClients;
use crate::properties::FunctionSpec;

/// Why a function version could not be resolved.
#[derive(Debug, Error)]
pub enum LambdaError {
    /// Not available yet.
    #[error("FunctionName is not supported by this build")]
    Unsupported,
}

/// Resolves `spec` in the clients' region.
pub async fn resolve(
    _clients: &RegionClients,
    _spec: &FunctionSpec,
    _progress: &Progress,
) -> Result<Contribution, LambdaError> {
    Err(LambdaError::Unsupported)
}
