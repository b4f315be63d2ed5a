//! Resolution: turning validated properties into Data, knowing nothing of
//! CloudFormation.
//!
//! [`Resolver::resolve`] checks the provider's allow-lists, picks the clients
//! for the source region, runs every source (SSM, Lambda, stack outputs)
//! concurrently and merges what they return. Each source lives in its own
//! module and returns a [`Contribution`]: its Data, the identity of what it read
//! (for the physical id) and whether any of it is secret.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use thiserror::Error;

use crate::aws::{AwsClients, RegionClients};
use crate::config::Config;
use crate::properties::ResourceProperties;

mod aws_error;
pub mod edge;
pub mod lambda;
pub mod ssm;
pub mod stack;

pub use aws_error::{AwsCallError, FailureKind};

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

/// Everything a resource resolved to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The flat Data map, read with `!GetAtt Resource.Key`.
    pub data: BTreeMap<String, String>,
    /// Identity of what was read, source by source.
    pub identity: Vec<String>,
    /// Whether the response must be NoEcho.
    pub secret: bool,
}

/// Why a resource could not be resolved. Each message is a complete Reason.
#[derive(Debug, Error)]
pub enum ResolveError {
    /// The provider's configuration does not allow this read.
    #[error("not allowed by the provider's configuration: {0}")]
    NotAllowed(String),
    /// The provider's own configuration is invalid.
    #[error(
        "the provider is misconfigured: {0}; fix the provider stack's parameters and redeploy it"
    )]
    Misconfigured(String),
    /// An SSM source failed.
    #[error(transparent)]
    Ssm(#[from] ssm::SsmError),
    /// The Lambda source failed.
    #[error(transparent)]
    Lambda(#[from] lambda::LambdaError),
    /// The stack outputs source failed.
    #[error(transparent)]
    Stack(#[from] stack::StackError),
    /// The `RoleArn` could not be assumed.
    #[error(transparent)]
    AssumeRole(Box<crate::aws::AssumeRoleError>),
    /// Two sources produced the same Data key.
    #[error(
        "Data key '{key}' is produced by both {first} and {second}; rename or drop one of them"
    )]
    Collision {
        /// The key.
        key: String,
        /// The first source that set it.
        first: &'static str,
        /// The second source that set it.
        second: &'static str,
    },
    /// More than one source failed; all are reported so all can be fixed.
    #[error("{} sources failed: {}", .0.len(), numbered(.0, " "))]
    Several(Vec<ResolveError>),
}

/// `(1) first<separator>(2) second…`: how a Reason lists several problems.
pub(crate) fn numbered<T: std::fmt::Display>(items: &[T], separator: &str) -> String {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| format!("({}) {item}", i + 1))
        .collect::<Vec<_>>()
        .join(separator)
}

/// Who is asking; used to name assumed-role sessions.
#[derive(Debug, Clone, Default)]
pub struct Requester {
    /// The stack's ARN or name.
    pub stack_id: String,
    /// The resource's logical id.
    pub logical_resource_id: String,
}

/// What a request is waiting on right now, so a timeout can say so.
///
/// Cloned into every source; each AWS call registers itself for as long as it
/// runs. Per request, never process-wide.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    inner: Arc<Mutex<ProgressState>>,
}

#[derive(Debug, Default)]
struct ProgressState {
    next: u64,
    pending: BTreeMap<u64, String>,
    last: Option<String>,
}

/// Removes its step from [`Progress`] when dropped.
#[derive(Debug)]
pub struct Step {
    progress: Progress,
    id: u64,
}

impl Progress {
    /// Registers `what` (e.g. `ssm:GetParameters in us-east-1 for /a, /b`) until
    /// the returned guard is dropped.
    pub fn step(&self, what: impl Into<String>) -> Step {
        let what = what.into();
        let mut state = self.lock();
        let id = state.next;
        state.next += 1;
        state.pending.insert(id, what.clone());
        state.last = Some(what);
        Step {
            progress: self.clone(),
            id,
        }
    }

    /// A sentence naming what is still pending (or the last thing started).
    pub fn describe(&self) -> String {
        let state = self.lock();
        if !state.pending.is_empty() {
            state
                .pending
                .values()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        } else if let Some(last) = &state.last {
            format!("the step after {last}")
        } else {
            "the start of resolution".to_owned()
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ProgressState> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        self.progress.lock().pending.remove(&self.id);
    }
}

/// Anything that can resolve a resource's properties; the protocol layer is
/// generic over it so tests can substitute a resolver that hangs or panics.
pub trait Resolve: Send + Sync + 'static {
    /// Resolves `props` for `requester`, recording steps in `progress`.
    fn resolve(
        &self,
        props: &ResourceProperties,
        requester: &Requester,
        progress: &Progress,
    ) -> impl std::future::Future<Output = Result<Resolved, ResolveError>> + Send;
}

impl Resolve for Resolver {
    async fn resolve(
        &self,
        props: &ResourceProperties,
        requester: &Requester,
        progress: &Progress,
    ) -> Result<Resolved, ResolveError> {
        self.resolve_sources(props, requester, progress).await
    }
}

/// Resolves resources with AWS; shared by every invocation of a warm Lambda.
#[derive(Debug, Clone)]
pub struct Resolver {
    clients: Arc<AwsClients>,
    config: Arc<Config>,
}

impl Resolver {
    /// A resolver over these clients, under this configuration.
    pub fn new(clients: Arc<AwsClients>, config: Arc<Config>) -> Self {
        Self { clients, config }
    }

    /// The provider's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Resolves every source of `props` concurrently and merges the results.
    pub async fn resolve_sources(
        &self,
        props: &ResourceProperties,
        requester: &Requester,
        progress: &Progress,
    ) -> Result<Resolved, ResolveError> {
        self.check_allowed(props)?;
        let clients = self.clients_for(props, requester, progress).await?;
        let clients = clients.as_ref();

        let ssm = async {
            if props.reads_ssm() {
                Some(
                    ssm::resolve(&clients.ssm, &clients.sts, &clients.region, props, progress)
                        .await,
                )
            } else {
                None
            }
        };
        let function = async {
            match &props.function {
                Some(spec) => Some(lambda::resolve(clients, spec, progress).await),
                None => None,
            }
        };
        let outputs = async {
            match &props.stack_name {
                Some(name) => Some(
                    stack::resolve(
                        &clients.cloudformation,
                        &clients.sts,
                        &clients.region,
                        name,
                        progress,
                    )
                    .await,
                ),
                None => None,
            }
        };
        let (ssm, function, outputs) = tokio::join!(ssm, function, outputs);

        let mut errors = Vec::new();
        let mut parts: Vec<(&'static str, Contribution)> = Vec::new();
        for (source, result) in [
            ("SSM", ssm.map(|r| r.map_err(ResolveError::from))),
            (
                "FunctionName",
                function.map(|r| r.map_err(ResolveError::from)),
            ),
            ("StackName", outputs.map(|r| r.map_err(ResolveError::from))),
        ] {
            match result {
                Some(Ok(c)) => parts.push((source, c)),
                Some(Err(e)) => errors.push(e),
                None => {}
            }
        }
        match errors.len() {
            0 => merge(parts),
            1 => Err(errors.remove(0)),
            _ => Err(ResolveError::Several(errors)),
        }
    }

    /// Every allow-list is checked before the first AWS call.
    fn check_allowed(&self, props: &ResourceProperties) -> Result<(), ResolveError> {
        let config = &self.config;
        if let Some(problem) = config.refusal() {
            return Err(ResolveError::Misconfigured(problem.to_owned()));
        }
        let mut refused = Vec::new();
        if !config.region_allowed(&props.region) {
            refused.push(format!(
                "region {} is not in CRP_ALLOWED_REGIONS ({})",
                props.region,
                config.regions_display()
            ));
        }
        let names = props
            .parameter_name
            .iter()
            .chain(props.parameters.values())
            .map(|r| r.name.as_str())
            .chain(props.parameters_path.as_deref());
        for name in names {
            if !config.parameter_allowed(ssm::bare_name(name)) {
                refused.push(format!(
                    "SSM parameter {name} is outside CRP_ALLOWED_PARAMETER_PATHS ({})",
                    config.parameter_paths_display()
                ));
            }
        }
        if let Some(role) = &props.role
            && !config.role_allowed(&role.arn)
        {
            refused.push(format!(
                "RoleArn {} does not match CRP_ALLOWED_ROLE_ARNS ({})",
                role.arn,
                config.role_arns_display()
            ));
        }
        if refused.is_empty() {
            Ok(())
        } else {
            Err(ResolveError::NotAllowed(refused.join("; ")))
        }
    }

    /// The clients to read with: the provider's own in the source region, or,
    /// with `RoleArn`, clients acting as that role (assumed on first use, then
    /// cached with their credentials across requests).
    async fn clients_for(
        &self,
        props: &ResourceProperties,
        requester: &Requester,
        progress: &Progress,
    ) -> Result<Arc<RegionClients>, ResolveError> {
        match &props.role {
            None => Ok(self.clients.region(&props.region).await),
            Some(role) => {
                let session =
                    crate::aws::session_name(&requester.stack_id, &requester.logical_resource_id);
                self.clients
                    .assumed(&props.region, role, &session, progress)
                    .await
                    .map_err(|e| ResolveError::AssumeRole(Box::new(e)))
            }
        }
    }
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

fn merge(parts: Vec<(&'static str, Contribution)>) -> Result<Resolved, ResolveError> {
    let mut resolved = Resolved::default();
    let mut owner: BTreeMap<String, &'static str> = BTreeMap::new();
    for (source, part) in parts {
        for (key, value) in part.data {
            if let Some(first) = owner.insert(key.clone(), source) {
                return Err(ResolveError::Collision {
                    key,
                    first,
                    second: source,
                });
            }
            resolved.data.insert(key, value);
        }
        resolved
            .identity
            .extend(part.identity.into_iter().map(|i| format!("{source}:{i}")));
        resolved.secret |= part.secret;
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(pairs: &[(&str, &str)]) -> Contribution {
        Contribution {
            data: pairs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            identity: vec!["id".into()],
            secret: false,
        }
    }

    #[test]
    fn merge_rejects_a_key_two_sources_produce() {
        let err = merge(vec![
            ("SSM", part(&[("Outputs.Url", "a")])),
            ("StackName", part(&[("Outputs.Url", "b")])),
        ])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Data key 'Outputs.Url' is produced by both SSM and StackName; rename or drop one of them"
        );
    }

    #[test]
    fn merge_keeps_identity_per_source_and_secrecy() {
        let mut secret = part(&[("Token", "x")]);
        secret.secret = true;
        let r = merge(vec![
            ("SSM", secret),
            ("FunctionName", part(&[("Version", "3")])),
        ])
        .unwrap();
        assert!(r.secret);
        assert_eq!(r.identity, vec!["SSM:id", "FunctionName:id"]);
        assert_eq!(r.data.len(), 2);
    }

    #[test]
    fn progress_names_pending_steps_then_the_last_one() {
        let p = Progress::default();
        assert_eq!(p.describe(), "the start of resolution");
        let a = p.step("ssm:GetParameters in us-east-1");
        let b = p.step("lambda:ListVersionsByFunction in us-east-1");
        assert!(p.describe().contains("ssm:GetParameters") && p.describe().contains("lambda:"));
        drop(a);
        drop(b);
        assert_eq!(
            p.describe(),
            "the step after lambda:ListVersionsByFunction in us-east-1"
        );
    }
}
