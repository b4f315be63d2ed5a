//! The sources a resource reads from, behind one seam.
//!
//! Each source (SSM parameters, a Lambda version, a stack's outputs) lives in
//! its own file and owns everything about itself: the properties it reads and
//! how they are validated, the allow-list checks it needs, the Data keys it
//! promises, the canonical inputs that go into the physical id, and the AWS
//! calls that read its values. The rest of the crate only sees [`Source`] and
//! loops over [`KINDS`]; it never names a source.
//!
//! Adding a source is one new file here with a `Kind`, a `Source`
//! implementation and its error type, plus one line in [`KINDS`] and one
//! variant of [`SourceError`] (see docs/architecture.md).

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;

use crate::aws::{RegionClients, Service};
use crate::config::{Config, Refusal};
use crate::input::Reader;
use crate::progress::Progress;

pub(crate) mod edge;
pub(crate) mod lambda;
pub(crate) mod ssm;
mod ssm_names;
pub(crate) mod stack;

pub use lambda::LambdaError;
pub use ssm::SsmError;
pub use stack::StackError;

/// Every source, in the order Reasons list them. One line per source.
pub(crate) const KINDS: &[Kind] = &[ssm::KIND, lambda::KIND, stack::KIND];

/// A kind of source, as the properties parser sees it.
pub(crate) struct Kind {
    /// Properties this source owns, in the order they are documented.
    pub properties: &'static [&'static str],
    /// The properties that switch the source on (at least one of all kinds'
    /// must be given).
    pub selected_by: &'static [&'static str],
    /// Reads this source's properties; `None` when it is not used or its
    /// properties have problems (recorded in the reader).
    pub parse: fn(&mut Reader<'_>) -> Option<Arc<dyn Source>>,
}

/// What one source read.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Contribution {
    /// Data keys and values.
    pub data: Vec<(String, String)>,
    /// The identity of what was read (names and versions, ARNs, non-secret
    /// values), in a stable order. Never a secret's value.
    pub identity: Vec<String>,
    /// Whether any value is secret (a decrypted SecureString).
    pub secret: bool,
}

/// Why one source could not be read: that source's own error, kept typed
/// so that callers (and tests) match on what went wrong. Its message is a
/// complete Reason, written only where the protocol answers.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// SSM parameters (`ParameterName`, `Parameters`, `ParametersPath`).
    #[error(transparent)]
    Ssm(#[from] SsmError),
    /// A Lambda function's version (`FunctionName`).
    #[error(transparent)]
    Lambda(#[from] LambdaError),
    /// A stack's outputs (`StackName`).
    #[error(transparent)]
    Stack(#[from] StackError),
}

/// One configured source of a resource: validated, typed, ready to read.
pub(crate) trait Source: fmt::Debug + Send + Sync {
    /// How Reasons and identities name this source (`SSM`, `FunctionName`,
    /// `StackName`); part of the physical id, so it never changes.
    fn label(&self) -> &'static str;

    /// The AWS services this source calls, its own first, so their
    /// connections are opened before anything else is done for the request.
    fn services(&self) -> Vec<Service>;

    /// The source's inputs in canonical form (typed, ordered), for the
    /// physical id: the same inputs give the same strings whatever the
    /// template's key order or spelling of booleans.
    fn inputs(&self) -> Vec<String>;

    /// Data keys known before any call, each with the property that sets it,
    /// so collisions fail before anything is read.
    fn data_keys(&self) -> Vec<(String, &'static str)> {
        Vec::new()
    }

    /// Why the provider's allow-lists refuse this source (the region and the
    /// role are checked by the caller for every source).
    fn refusals(&self, _config: &Config) -> Vec<Refusal> {
        Vec::new()
    }

    /// Reads the values with `clients`, registering each call in `progress`.
    fn read<'a>(
        &'a self,
        clients: &'a RegionClients,
        progress: &'a Progress,
    ) -> BoxFuture<'a, Result<Contribution, SourceError>>;
}

/// The account a client reads from, for Reasons only ("not found in us-east-1
/// (account 123456789012)"). Best effort and brief, so it can never hide the
/// real error.
pub(crate) async fn account_id(sts: &aws_sdk_sts::Client) -> Option<String> {
    let call = sts.get_caller_identity().send();
    match tokio::time::timeout(std::time::Duration::from_secs(2), call).await {
        Ok(Ok(out)) => out.account,
        _ => None,
    }
}
