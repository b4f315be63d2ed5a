//! Resolution: turning validated properties into Data, knowing nothing of
//! CloudFormation.
//!
//! [`Resolver`]'s [`Resolve::resolve`] checks the provider's allow-lists, picks the
//! clients for the source region (or the assumed role), runs every source of
//! the resource concurrently and merges what they return. It loops over the
//! resource's [`Source`]s and never names one: each source lives in
//! [`crate::sources`].

use std::collections::BTreeMap;
use std::sync::Arc;

use thiserror::Error;

use crate::aws::{AssumeRoleError, AwsClients, RegionClients, Service};
use crate::config::{Config, Refusal};
use crate::properties::ResourceProperties;
use crate::reason::{LIST_BUDGET, listed, numbered};
use crate::sources::{Contribution, Source, SourceError};

use crate::progress::Progress;

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
    /// The provider's configuration does not allow this read: every
    /// refusal, each a value of its own (listed, within a budget, only when
    /// written as the Reason).
    #[error("not allowed by the provider's configuration: {}", listed(.0, "; ", LIST_BUDGET))]
    NotAllowed(Vec<Refusal>),
    /// The provider's own configuration is invalid.
    #[error(
        "the provider is misconfigured: {0}; fix the provider stack's parameters and redeploy it"
    )]
    Misconfigured(String),
    /// A source failed (boxed: each source's error carries its own context).
    #[error(transparent)]
    Source(Box<SourceError>),
    /// The `RoleArn` could not be assumed.
    #[error(transparent)]
    AssumeRole(Box<AssumeRoleError>),
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

/// Who is asking; used to name assumed-role sessions.
#[derive(Debug, Clone, Default)]
pub struct Requester {
    /// The stack's ARN or name.
    pub stack_id: String,
    /// The resource's logical id.
    pub logical_resource_id: String,
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

/// Resolves every source of `props` concurrently and merges the results.
impl Resolve for Resolver {
    async fn resolve(
        &self,
        props: &ResourceProperties,
        requester: &Requester,
        progress: &Progress,
    ) -> Result<Resolved, ResolveError> {
        self.check_allowed(props)?;
        let clients = self.clients_for(props, requester, progress).await?;
        read_sources(&props.sources, &clients, progress).await
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

    /// Every allow-list is checked before the first AWS call.
    fn check_allowed(&self, props: &ResourceProperties) -> Result<(), ResolveError> {
        let config = &self.config;
        if let Some(problem) = config.refusal() {
            return Err(ResolveError::Misconfigured(problem.to_owned()));
        }
        let mut refused = Vec::new();
        if !config.region_allowed(&props.region) {
            refused.push(Refusal::Region {
                region: props.region.clone(),
                allowed: config.regions_display(),
            });
        }
        for source in &props.sources {
            refused.extend(source.refusals(config));
        }
        if let Some(role) = &props.role
            && !config.role_allowed(&role.arn)
        {
            refused.push(Refusal::Role {
                arn: role.arn.clone(),
                allowed: config.role_arns_display(),
            });
        }
        if refused.is_empty() {
            Ok(())
        } else {
            Err(ResolveError::NotAllowed(refused))
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
        // Every connection the request will need is opened first: their
        // handshakes then overlap building clients, signing, and STS's
        // answer, instead of following them.
        let own = self.clients.region(&props.region).await;
        let session = props.role.as_ref().map(|role| {
            let name =
                crate::aws::session_name(&requester.stack_id, &requester.logical_resource_id);
            (role, name)
        });
        if let Some((role, name)) = &session
            && self.clients.must_assume(&props.region, role, name)
        {
            own.preconnect(Service::Sts).await;
        }
        let services: Vec<Service> = props.sources.iter().flat_map(|s| s.services()).collect();
        for service in &services {
            own.preconnect(*service).await;
        }
        // With the handshakes under way, the clients the reads will use are
        // built (a role's are built once STS has answered).
        if session.is_none() {
            for service in services {
                own.prepare(service);
            }
        }
        match session {
            None => Ok(own),
            Some((role, session)) => self
                .clients
                .assumed(&props.region, role, &session, progress)
                .await
                .map_err(|e| ResolveError::AssumeRole(Box::new(e))),
        }
    }
}

/// Reads every source concurrently with `clients` and merges the results;
/// every failure is reported.
pub(crate) async fn read_sources(
    sources: &[Arc<dyn Source>],
    clients: &RegionClients,
    progress: &Progress,
) -> Result<Resolved, ResolveError> {
    let reads = sources.iter().map(|source| async move {
        let result = source.read(clients, progress).await;
        (source.label(), result)
    });
    let mut errors = Vec::new();
    let mut parts = Vec::new();
    for (label, result) in futures::future::join_all(reads).await {
        match result {
            Ok(part) => parts.push((label, part)),
            Err(e) => errors.push(ResolveError::Source(Box::new(e))),
        }
    }
    match errors.len() {
        0 => merge(parts),
        1 => Err(errors.remove(0)),
        _ => Err(ResolveError::Several(errors)),
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
}
