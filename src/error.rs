//! Why things fail, as types: every error the crate returns, and the parts
//! they are made of, so that a caller (or a test) matches on what went wrong
//! (`SourceError::Ssm(SsmError::NotFound { names, .. })` inside
//! `ResolveError::Source`)
//! and never on a Reason's wording. Each error's `Display` is its complete
//! Reason; the protocol writes it once, where it answers.

pub use crate::aws::AssumeRoleError;
pub use crate::aws_error::{AwsCallError, FailureKind};
pub use crate::config::{ConfigError, Refusal};
pub use crate::input::PropertyProblem;
pub use crate::properties::PropertiesError;
pub use crate::protocol::{
    Cause, Found, Malformed, Problem, ProblemKind, ProviderError, ResponseUrlError, SendError,
    UnanswerableRequest,
};
pub use crate::resolve::ResolveError;
pub use crate::sources::{LambdaError, SourceError, SsmError, StackError};
