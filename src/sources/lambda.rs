//! Lambda: the latest published version of a function, or the version behind
//! an alias or number.
//!
//! The point of this source is a version ARN that moves when a new version is
//! published (a Lambda@Edge association needs a numbered version). So the
//! highest number is computed over every page of ListVersionsByFunction rather
//! than trusting any order, `$LATEST` is never an answer, and a version still
//! being created is waited for. Each way of failing (no function, no alias, no
//! published version, a failed version, an edge rule broken) has its own
//! Reason, because each has a different fix.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput;
use aws_sdk_lambda::types::State;
use futures::FutureExt;
use futures::future::BoxFuture;
use thiserror::Error;

use super::edge::{self, EdgeEventType, EdgeFacts, RoleTrust, is_version_number};
use super::{Contribution, Kind, Source, SourceError};
use crate::aws::{RegionClients, Service};
use crate::aws_error::AwsCallError;
use crate::input::Reader;
use crate::progress::Progress;
use crate::reason::{numbered, quote};

/// The longest FunctionName Lambda accepts (a full ARN with a qualifier).
const FUNCTION_NAME_MAX: usize = 170;
/// The longest Qualifier Lambda accepts.
const QUALIFIER_MAX: usize = 128;

/// `FunctionName` with its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    /// Name, partial ARN or full ARN.
    pub name: String,
    /// Alias name or version number.
    pub qualifier: Option<String>,
    /// Check the version can serve as Lambda@Edge for this trigger.
    pub edge_event_type: Option<EdgeEventType>,
}

pub(crate) const KIND: Kind = Kind {
    properties: &["FunctionName", "Qualifier", "EdgeEventType"],
    selected_by: &["FunctionName"],
    parse,
};

/// Data keys the `FunctionName` source fills.
const FUNCTION_KEYS: &[&str] = &["VersionArn", "Version", "FunctionArn", "CodeSha256"];

fn parse(r: &mut Reader<'_>) -> Option<Arc<dyn Source>> {
    let name = r.string("FunctionName", FUNCTION_NAME_MAX);
    let qualifier = r.string("Qualifier", QUALIFIER_MAX);
    if let Some(q) = &qualifier {
        let ok = q == "$LATEST"
            || q.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        if !ok {
            r.problem(
                "Qualifier",
                format!(
                    "Qualifier '{}' must be a version number or an alias name",
                    quote(q)
                ),
            );
        }
    }
    let edge_event_type = r.string("EdgeEventType", usize::MAX).and_then(|e| {
        let parsed = EdgeEventType::parse(&e);
        if parsed.is_none() {
            r.problem(
                "EdgeEventType",
                format!(
                    "EdgeEventType '{}' must be one of viewer-request, viewer-response, origin-request, origin-response",
                    quote(&e)
                ),
            );
        }
        parsed
    });
    r.needs("Qualifier", "FunctionName");
    r.needs("EdgeEventType", "FunctionName");
    let spec = FunctionSpec {
        name: name?,
        qualifier,
        edge_event_type,
    };
    Some(Arc::new(spec))
}

impl Source for FunctionSpec {
    fn label(&self) -> &'static str {
        "FunctionName"
    }

    fn services(&self) -> Vec<Service> {
        match self.edge_event_type {
            // The Lambda@Edge checks read the version's role from IAM.
            Some(_) => vec![Service::Lambda, Service::Iam],
            None => vec![Service::Lambda],
        }
    }

    fn inputs(&self) -> Vec<String> {
        let mut out = vec![format!("FunctionName={}", self.name)];
        out.extend(self.qualifier.iter().map(|q| format!("Qualifier={q}")));
        out.extend(
            self.edge_event_type
                .map(|e| format!("EdgeEventType={}", e.as_str())),
        );
        out
    }

    fn data_keys(&self) -> Vec<(String, &'static str)> {
        FUNCTION_KEYS
            .iter()
            .map(|k| ((*k).to_owned(), "FunctionName"))
            .collect()
    }

    fn read<'a>(
        &'a self,
        clients: &'a RegionClients,
        progress: &'a Progress,
    ) -> BoxFuture<'a, Result<Contribution, SourceError>> {
        async move {
            read_function(clients, self, progress)
                .await
                .map_err(SourceError::from)
        }
        .boxed()
    }
}

/// Versions asked for per ListVersionsByFunction call (the API's maximum).
const PAGE_SIZE: i32 = 50;
/// Upper bound on state polls; with the growing delay this is far longer than
/// any Lambda deadline, which is what really cuts a wait short.
const MAX_STATE_POLLS: u32 = 200;
/// The role check is best effort; it must not eat the deadline.
const ROLE_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a function version could not be resolved. Each message is a complete
/// Reason: what, where, and what to do.
#[derive(Debug, Error)]
pub enum LambdaError {
    /// The function does not exist (or is not visible) in the region.
    #[error(
        "Lambda function {function} not found in {region}; check FunctionName and Region (the function must exist in the Region this resource reads from)"
    )]
    FunctionNotFound {
        /// FunctionName as given.
        function: String,
        /// The region searched.
        region: String,
    },
    /// The alias named by `Qualifier` does not exist.
    #[error(
        "alias {alias} of Lambda function {function} not found in {region}; check {where_given}, or create the alias (AWS::Lambda::Alias or `aws lambda create-alias`)"
    )]
    AliasNotFound {
        /// Where the alias was named: `Qualifier` or `the qualifier in FunctionName`.
        where_given: &'static str,
        /// FunctionName as given.
        function: String,
        /// The alias.
        alias: String,
        /// The region searched.
        region: String,
    },
    /// The version number named by `Qualifier` does not exist.
    #[error(
        "version {version} of Lambda function {function} not found in {region}; check {where_given} (`aws lambda list-versions-by-function` lists the published versions), or leave the version out to use the highest one"
    )]
    VersionNotFound {
        /// Where the version was named: `Qualifier` or `the qualifier in FunctionName`.
        where_given: &'static str,
        /// FunctionName as given.
        function: String,
        /// The version number.
        version: String,
        /// The region searched.
        region: String,
    },
    /// The function exists but nothing has been published.
    #[error(
        "Lambda function {function} in {region} has no published version, only $LATEST; publish a version (e.g. AWS::Lambda::Version or `aws lambda publish-version --function-name {function}`) and deploy again"
    )]
    NoPublishedVersion {
        /// FunctionName as given.
        function: String,
        /// The region searched.
        region: String,
    },
    /// `$LATEST` was asked for; it is mutable, so it has no stable ARN to hand out.
    #[error(
        "Qualifier $LATEST of Lambda function {function} is not a published version; leave Qualifier out to use the highest published version, or name a version number or an alias"
    )]
    LatestNotAllowed {
        /// FunctionName as given.
        function: String,
    },
    /// FunctionName carries a qualifier that disagrees with `Qualifier`.
    #[error(
        "FunctionName {function} already names qualifier {in_name}, but Qualifier is {qualifier}; give the qualifier in one place only"
    )]
    ConflictingQualifier {
        /// FunctionName as given.
        function: String,
        /// The qualifier inside FunctionName.
        in_name: String,
        /// The `Qualifier` property.
        qualifier: String,
    },
    /// A full ARN in FunctionName points at another region than `Region`.
    #[error(
        "FunctionName {function} is in {arn_region}, but Region is {region}; set Region: {arn_region}"
    )]
    RegionMismatch {
        /// FunctionName as given.
        function: String,
        /// The region inside the ARN.
        arn_region: String,
        /// The `Region` property.
        region: String,
    },
    /// The version is `Failed` or `Inactive`.
    #[error(
        "Lambda version {version_arn} is {state}{}; {}",
        reason_text(.reason, .reason_code),
        remedy(.state)
    )]
    NotUsable {
        /// The version's ARN.
        version_arn: String,
        /// Its state.
        state: String,
        /// StateReason.
        reason: Option<String>,
        /// StateReasonCode.
        reason_code: Option<String>,
    },
    /// The version stayed `Pending` for every poll.
    #[error(
        "Lambda version {version_arn} was still Pending after {polls} checks; wait for it to become Active (`aws lambda get-function-configuration` shows its State) and deploy again"
    )]
    StillPending {
        /// The version's ARN.
        version_arn: String,
        /// How many times it was checked.
        polls: u32,
    },
    /// The version breaks Lambda@Edge rules; every problem is listed.
    #[error(
        "version {version_arn} cannot be used as Lambda@Edge ({}): {} problem{}: {}",
        .event.as_str(),
        .problems.len(),
        if .problems.len() == 1 { "" } else { "s" },
        numbered(.problems, "; ")
    )]
    NotEdgeCompatible {
        /// The version's ARN.
        version_arn: String,
        /// The trigger checked against.
        event: EdgeEventType,
        /// One sentence per violation.
        problems: Vec<String>,
    },
    /// The alias points at `$LATEST` (or nothing), not a published version.
    #[error(
        "alias {alias} of Lambda function {function} in {region} points at {target}, not a published version; point the alias at a published version number (FunctionVersion of AWS::Lambda::Alias, or `aws lambda update-alias --function-version N`) and deploy again"
    )]
    AliasNotNumbered {
        /// FunctionName as given.
        function: String,
        /// The alias.
        alias: String,
        /// The region.
        region: String,
        /// What the alias points at.
        target: String,
    },
    /// Lambda answered without something it always sends.
    #[error("{action} on {function} in {region} returned {what}; retry the deployment")]
    Incomplete {
        /// The call.
        action: &'static str,
        /// FunctionName as given.
        function: String,
        /// The region.
        region: String,
        /// What was wrong with the answer.
        what: &'static str,
    },
    /// Lambda refused or failed a call.
    #[error("{0}")]
    Aws(#[from] AwsCallError),
}

fn reason_text(reason: &Option<String>, code: &Option<String>) -> String {
    match (reason, code) {
        (Some(r), Some(c)) => format!(" ({c}: {r})"),
        (Some(r), None) => format!(" ({r})"),
        (None, Some(c)) => format!(" ({c})"),
        (None, None) => String::new(),
    }
}

fn remedy(state: &str) -> &'static str {
    if state == State::Inactive.as_str() {
        "invoke or update the function to reactivate it, or publish a new version, and deploy again"
    } else {
        "fix what the state reason names, publish a new version and deploy again"
    }
}

/// Resolves `spec` in the clients' region.
///
/// Without `Qualifier`, the highest-numbered published version; with a
/// number, that version; with an alias, the version it points to.
///
/// A weighted alias (RoutingConfig with AdditionalVersionWeights) resolves to
/// its primary `FunctionVersion` only: Data has one `VersionArn`, and a
/// Lambda@Edge association cannot split traffic anyway. The identity then
/// carries `alias NAME is weighted: primary version only` and the weights are
/// logged, so a success that ignored the extra versions says so. (The physical
/// id therefore also changes when an alias becomes, or stops being, weighted.)
async fn read_function(
    clients: &RegionClients,
    spec: &FunctionSpec,
    progress: &Progress,
) -> Result<Contribution, LambdaError> {
    let region = clients.region.as_str();
    let target = Target::new(spec, region)?;
    let lambda = &clients.lambda;
    // IAM's connection, for the role check, was opened with Lambda's
    // (`Source::services`), so its handshakes overlap the Lambda calls.

    // The listed version's role, when the list named the version: its trust
    // policy is read beside the version's configuration, not after it.
    let (version, listed_role, note) = match target.qualifier.as_deref() {
        None => {
            let (version, role) = highest_published(lambda, &target, progress).await?;
            (version, role, None)
        }
        Some("$LATEST") => {
            return Err(LambdaError::LatestNotAllowed {
                function: target.display.clone(),
            });
        }
        Some(number) if is_version_number(number) => (number.to_owned(), None, None),
        Some(alias) => {
            let (version, note) = alias_version(lambda, &target, alias, progress).await?;
            (version, None, note)
        }
    };

    let early_trust = async {
        match (spec.edge_event_type, &listed_role) {
            (Some(_), Some(role)) => Some(role_trust(&clients.iam, Some(role), progress).await),
            _ => None,
        }
    };
    let (config, early_trust) = futures::future::try_join(
        active_configuration(lambda, &target, &version, progress),
        early_trust.map(Ok),
    )
    .await?;
    let arns = VersionArns::of(&config, &target, &version)?;

    if let Some(event) = spec.edge_event_type {
        // A published version's role cannot change, so the listed one is the
        // configuration's; read again only if they ever differ.
        let role = match early_trust {
            Some(trust) if listed_role.as_deref() == config.role() => trust,
            _ => role_trust(&clients.iam, config.role(), progress).await,
        };
        let facts = edge_facts(&clients.region, &config, &arns, &version, role);
        let problems = edge::violations(event, &facts);
        if !problems.is_empty() {
            return Err(LambdaError::NotEdgeCompatible {
                version_arn: arns.version_arn,
                event,
                problems,
            });
        }
    }

    let mut identity = vec![
        arns.version_arn.clone(),
        format!("CodeSha256={}", arns.code_sha256),
    ];
    identity.extend(note);
    Ok(Contribution {
        data: vec![
            ("VersionArn".to_owned(), arns.version_arn),
            ("Version".to_owned(), version),
            ("FunctionArn".to_owned(), arns.function_arn),
            ("CodeSha256".to_owned(), arns.code_sha256),
        ],
        identity,
        secret: false,
    })
}

/// The function as the API calls need it.
#[derive(Debug)]
struct Target {
    /// FunctionName without any embedded qualifier; what the calls receive.
    base: String,
    /// FunctionName as the template gave it; what messages quote.
    display: String,
    /// The qualifier, from `Qualifier` or from FunctionName.
    qualifier: Option<String>,
    /// Where the qualifier was given, for Reasons that say what to check.
    qualifier_given_in: &'static str,
    region: String,
}

impl Target {
    fn new(spec: &FunctionSpec, region: &str) -> Result<Self, LambdaError> {
        let parts: Vec<&str> = spec.name.split(':').collect();
        // Lambda accepts `name`, `account:function:name` and the full ARN,
        // each optionally followed by `:qualifier`.
        let (base_len, arn_region) = match parts.as_slice() {
            ["arn", _, "lambda", r, _, "function", ..] => (7, Some(*r)),
            [_, "function", ..] => (3, None),
            _ => (1, None),
        };
        let in_name = match parts.len() {
            n if n == base_len + 1 => parts.last().map(|q| (*q).to_owned()),
            _ => None,
        };
        let base = if in_name.is_some() {
            parts[..base_len].join(":")
        } else {
            spec.name.clone()
        };
        if let Some(arn_region) = arn_region
            && arn_region != region
        {
            return Err(LambdaError::RegionMismatch {
                function: spec.name.clone(),
                arn_region: arn_region.to_owned(),
                region: region.to_owned(),
            });
        }
        let qualifier_given_in = if in_name.is_some() {
            "the qualifier in FunctionName"
        } else {
            "Qualifier"
        };
        let qualifier = match (in_name, &spec.qualifier) {
            (Some(a), Some(b)) if a != *b => {
                return Err(LambdaError::ConflictingQualifier {
                    function: spec.name.clone(),
                    in_name: a,
                    qualifier: b.clone(),
                });
            }
            (a, b) => a.or_else(|| b.clone()),
        };
        Ok(Self {
            base,
            display: spec.name.clone(),
            qualifier,
            qualifier_given_in,
            region: region.to_owned(),
        })
    }

    fn not_found(&self) -> LambdaError {
        LambdaError::FunctionNotFound {
            function: self.display.clone(),
            region: self.region.clone(),
        }
    }
}

fn is_not_found(e: &AwsCallError) -> bool {
    e.has_code("ResourceNotFoundException")
}

/// The highest numbered version over every page, and its execution role as
/// the list gives it. Lambda documents no order for the list, so every page
/// is read and compared by number.
async fn highest_published(
    lambda: &aws_sdk_lambda::Client,
    target: &Target,
    progress: &Progress,
) -> Result<(String, Option<String>), LambdaError> {
    let region = target.region.as_str();
    let _step = progress.step(format!(
        "lambda:ListVersionsByFunction in {region} for {}",
        target.display
    ));
    let mut pages = lambda
        .list_versions_by_function()
        .function_name(&target.base)
        .max_items(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut highest: Option<(u64, Option<String>)> = None;
    while let Some(page) = pages.next().await {
        let out = match page {
            Ok(out) => out,
            Err(e) => {
                let e =
                    AwsCallError::new("lambda:ListVersionsByFunction", &target.display, region, &e);
                return Err(if is_not_found(&e) {
                    target.not_found()
                } else {
                    e.into()
                });
            }
        };
        for listed in out.versions() {
            let Some(n) = listed.version().and_then(|v| v.parse::<u64>().ok()) else {
                continue;
            };
            if highest.as_ref().is_none_or(|(h, _)| n > *h) {
                highest = Some((n, listed.role().map(str::to_owned)));
            }
        }
    }
    match highest {
        Some((n, role)) => Ok((n.to_string(), role)),
        // An unknown function may list as empty rather than fail, so an
        // empty list alone cannot tell "missing" from "never published".
        None => {
            let unpublished = LambdaError::NoPublishedVersion {
                function: target.display.clone(),
                region: region.to_owned(),
            };
            Err(missing(lambda, target, progress, unpublished).await)
        }
    }
}

/// The version an alias points to, and a note when the alias is weighted.
async fn alias_version(
    lambda: &aws_sdk_lambda::Client,
    target: &Target,
    alias: &str,
    progress: &Progress,
) -> Result<(String, Option<String>), LambdaError> {
    let region = target.region.as_str();
    let out = {
        let _step = progress.step(format!(
            "lambda:GetAlias in {region} for {}:{alias}",
            target.display
        ));
        lambda
            .get_alias()
            .function_name(&target.base)
            .name(alias)
            .send()
            .await
            .map_err(|e| {
                AwsCallError::new(
                    "lambda:GetAlias",
                    format!("{}:{alias}", target.display),
                    region,
                    &e,
                )
            })
    };
    let out = match out {
        Ok(out) => out,
        Err(e) if is_not_found(&e) => {
            let alias_missing = LambdaError::AliasNotFound {
                where_given: target.qualifier_given_in,
                function: target.display.clone(),
                alias: alias.to_owned(),
                region: region.to_owned(),
            };
            return Err(missing(lambda, target, progress, alias_missing).await);
        }
        Err(e) => return Err(e.into()),
    };
    let Some(version) = out.function_version().filter(|v| is_version_number(v)) else {
        return Err(LambdaError::AliasNotNumbered {
            function: target.display.clone(),
            alias: alias.to_owned(),
            region: region.to_owned(),
            target: out.function_version().unwrap_or("no version").to_owned(),
        });
    };
    let weights = out
        .routing_config()
        .and_then(|r| r.additional_version_weights())
        .filter(|w| !w.is_empty());
    let note = weights.map(|w| {
        tracing::warn!(
            function = %target.display,
            alias,
            primary = version,
            additional_version_weights = ?w,
            "weighted alias: resolving to its primary version only"
        );
        format!("alias {alias} is weighted: primary version only")
    });
    Ok((version.to_owned(), note))
}

/// A lookup of something inside a function found nothing: the Reason is
/// `inner` (alias, version, published versions) when the function exists, and
/// the function's own not-found otherwise.
async fn missing(
    lambda: &aws_sdk_lambda::Client,
    target: &Target,
    progress: &Progress,
    inner: LambdaError,
) -> LambdaError {
    match function_exists(lambda, target, progress).await {
        Ok(true) => inner,
        Ok(false) => target.not_found(),
        Err(e) => e,
    }
}

/// Whether the unqualified function exists; tells the not-found cases apart.
async fn function_exists(
    lambda: &aws_sdk_lambda::Client,
    target: &Target,
    progress: &Progress,
) -> Result<bool, LambdaError> {
    let region = target.region.as_str();
    let _step = progress.step(format!(
        "lambda:GetFunctionConfiguration in {region} for {}",
        target.display
    ));
    match lambda
        .get_function_configuration()
        .function_name(&target.base)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) => {
            let e = AwsCallError::new(
                "lambda:GetFunctionConfiguration",
                &target.display,
                region,
                &e,
            );
            if is_not_found(&e) {
                Ok(false)
            } else {
                Err(e.into())
            }
        }
    }
}

/// The version's configuration once it is `Active`, polling while `Pending`.
async fn active_configuration(
    lambda: &aws_sdk_lambda::Client,
    target: &Target,
    version: &str,
    progress: &Progress,
) -> Result<GetFunctionConfigurationOutput, LambdaError> {
    let region = target.region.as_str();
    let name = format!("{}:{version}", target.display);
    for poll in 0..MAX_STATE_POLLS {
        let result = {
            let _step = progress.step(format!(
                "lambda:GetFunctionConfiguration in {region} for {name}"
            ));
            lambda
                .get_function_configuration()
                .function_name(&target.base)
                .qualifier(version)
                .send()
                .await
                .map_err(|e| {
                    AwsCallError::new("lambda:GetFunctionConfiguration", &name, region, &e)
                })
        };
        let config = match result {
            Ok(config) => config,
            Err(e) if is_not_found(&e) => {
                let version_missing = LambdaError::VersionNotFound {
                    where_given: target.qualifier_given_in,
                    function: target.display.clone(),
                    version: version.to_owned(),
                    region: region.to_owned(),
                };
                return Err(missing(lambda, target, progress, version_missing).await);
            }
            Err(e) => return Err(e.into()),
        };
        match config.state() {
            // Older answers (and local emulators) may leave State out; a
            // published version without one is usable.
            None | Some(State::Active) => return Ok(config),
            Some(State::Pending) => {
                let _wait = progress.wait(format!(
                    "Lambda version {name} in {region} to become Active (it is Pending{})",
                    config
                        .state_reason()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                ));
                tokio::time::sleep(poll_delay(poll)).await;
            }
            Some(other) => {
                return Err(LambdaError::NotUsable {
                    version_arn: VersionArns::of(&config, target, version)
                        .map_or_else(|_| name.clone(), |a| a.version_arn),
                    state: other.as_str().to_owned(),
                    reason: config.state_reason().map(str::to_owned),
                    reason_code: config.state_reason_code().map(|c| c.as_str().to_owned()),
                });
            }
        }
    }
    Err(LambdaError::StillPending {
        version_arn: name,
        polls: MAX_STATE_POLLS,
    })
}

/// 1 s, 2 s, ... growing to 5 s: a fresh version usually turns Active within
/// seconds, a slow one should not cost a call per second for minutes.
fn poll_delay(poll: u32) -> Duration {
    Duration::from_secs(u64::from(poll.min(4)) + 1)
}

/// The ARNs and hash Data reports.
struct VersionArns {
    version_arn: String,
    function_arn: String,
    code_sha256: String,
}

impl VersionArns {
    fn of(
        config: &GetFunctionConfigurationOutput,
        target: &Target,
        version: &str,
    ) -> Result<Self, LambdaError> {
        let incomplete = |what| LambdaError::Incomplete {
            action: "lambda:GetFunctionConfiguration",
            function: target.display.clone(),
            region: target.region.clone(),
            what,
        };
        let arn = config
            .function_arn()
            .ok_or_else(|| incomplete("no FunctionArn"))?;
        // A qualified call answers with the qualified ARN.
        let function_arn = arn
            .strip_suffix(&format!(":{version}"))
            .unwrap_or(arn)
            .to_owned();
        let code_sha256 = config
            .code_sha256()
            .ok_or_else(|| incomplete("no CodeSha256"))?
            .to_owned();
        Ok(Self {
            version_arn: format!("{function_arn}:{version}"),
            function_arn,
            code_sha256,
        })
    }
}

/// Everything the edge check needs, from the configuration and the role.
fn edge_facts(
    region: &str,
    config: &GetFunctionConfigurationOutput,
    arns: &VersionArns,
    version: &str,
    role: RoleTrust,
) -> EdgeFacts {
    // The ARN says where the function really lives, whatever Region said.
    let region = arns
        .function_arn
        .split(':')
        .nth(3)
        .filter(|r| !r.is_empty())
        .unwrap_or(region)
        .to_owned();
    EdgeFacts {
        region,
        version: version.to_owned(),
        architectures: config
            .architectures()
            .iter()
            .map(|a| a.as_str().to_owned())
            .collect(),
        runtime: config.runtime().map(|r| r.as_str().to_owned()),
        package_type: config.package_type().map(|p| p.as_str().to_owned()),
        env_var_count: config
            .environment()
            .and_then(|e| e.variables())
            .map_or(0, |v| v.len()),
        vpc_subnet_count: config.vpc_config().map_or(0, |v| v.subnet_ids().len()),
        layer_count: config.layers().len(),
        memory_mb: config.memory_size(),
        timeout_s: config.timeout(),
        code_size_bytes: config.code_size(),
        role,
    }
}

/// Reads the execution role's trust policy. Anything short of a clear answer
/// (no access, another account's role, a timeout) is `Unreadable`, which the
/// check ignores: the provider's role may legitimately lack iam:GetRole.
async fn role_trust(
    iam: &aws_sdk_iam::Client,
    role_arn: Option<&str>,
    progress: &Progress,
) -> RoleTrust {
    let Some(role_arn) = role_arn else {
        return RoleTrust::Unreadable;
    };
    let Some(name) = role_arn.rsplit('/').next().filter(|n| !n.is_empty()) else {
        return RoleTrust::Unreadable;
    };
    let _step = progress.step(format!("iam:GetRole for {role_arn}"));
    let call = iam.get_role().role_name(name).send();
    let out = match tokio::time::timeout(ROLE_READ_TIMEOUT, call).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => {
            tracing::debug!(role = role_arn, error = %AwsCallError::new("iam:GetRole", role_arn, "global", &e), "execution role not readable; skipping the trust check");
            return RoleTrust::Unreadable;
        }
        Err(_) => return RoleTrust::Unreadable,
    };
    let Some(role) = out.role().filter(|r| r.arn() == role_arn) else {
        return RoleTrust::Unreadable;
    };
    match role
        .assume_role_policy_document()
        .and_then(edge::trust_policy_allows_edge)
    {
        Some(true) => RoleTrust::Trusted,
        Some(false) => RoleTrust::NotTrusted {
            role_arn: role_arn.to_owned(),
        },
        None => RoleTrust::Unreadable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, qualifier: Option<&str>) -> FunctionSpec {
        FunctionSpec {
            name: name.to_owned(),
            qualifier: qualifier.map(str::to_owned),
            edge_event_type: None,
        }
    }

    #[test]
    fn function_names_keep_their_form_and_give_up_an_embedded_qualifier() {
        let cases = [
            ("auth", None, "auth", None),
            ("auth:live", None, "auth", Some("live")),
            (
                "123456789012:function:auth",
                None,
                "123456789012:function:auth",
                None,
            ),
            (
                "123456789012:function:auth:7",
                None,
                "123456789012:function:auth",
                Some("7"),
            ),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:auth",
                Some("live"),
                "arn:aws:lambda:us-east-1:123456789012:function:auth",
                Some("live"),
            ),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:auth:3",
                Some("3"),
                "arn:aws:lambda:us-east-1:123456789012:function:auth",
                Some("3"),
            ),
        ];
        for (name, qualifier, base, expected) in cases {
            let t = Target::new(&spec(name, qualifier), "us-east-1").unwrap();
            assert_eq!(t.base, base, "{name}");
            assert_eq!(t.qualifier.as_deref(), expected, "{name}");
            assert_eq!(t.display, name);
        }
    }

    #[test]
    fn a_qualifier_given_twice_must_agree() {
        let e = Target::new(&spec("auth:live", Some("7")), "us-east-1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "FunctionName auth:live already names qualifier live, but Qualifier is 7; give the qualifier in one place only"
        );
    }

    #[test]
    fn an_arn_in_another_region_names_the_region_to_use() {
        let e = Target::new(
            &spec("arn:aws:lambda:eu-west-1:123456789012:function:auth", None),
            "us-east-1",
        )
        .unwrap_err();
        assert!(e.to_string().ends_with("set Region: eu-west-1"), "{e}");
    }

    #[test]
    fn polling_backs_off_to_five_seconds() {
        let delays: Vec<u64> = (0..7).map(|p| poll_delay(p).as_secs()).collect();
        assert_eq!(delays, vec![1, 2, 3, 4, 5, 5, 5]);
    }

    #[test]
    fn a_failed_version_reason_carries_state_reason_and_code() {
        let e = LambdaError::NotUsable {
            version_arn: "arn:aws:lambda:us-east-1:123456789012:function:auth:7".into(),
            state: "Failed".into(),
            reason: Some("The role cannot be assumed".into()),
            reason_code: Some("InvalidRole".into()),
        };
        assert_eq!(
            e.to_string(),
            "Lambda version arn:aws:lambda:us-east-1:123456789012:function:auth:7 is Failed (InvalidRole: The role cannot be assumed); fix what the state reason names, publish a new version and deploy again"
        );
    }
}
