//! SSM Parameter Store: `ParameterName`, `Parameters` and `ParametersPath`.
//!
//! Names are read with GetParameters in batches of ten (SSM's limit), batches
//! concurrently; a path is read with GetParametersByPath across every page.
//! Every missing name is collected into one Reason rather than failing on the
//! first. Names are parsed once into [`ParameterRef`]s (ARNs split into their
//! fields); the allow-list, the call and the Reason all use that one value.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use aws_sdk_ssm::types::{Parameter, ParameterType};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, TryStreamExt};
use serde_json::Value;
use thiserror::Error;

use super::ssm_names::{PATH_MAX, ParameterRef, validate_name};
use super::{Contribution, Kind, Source, SourceError, account_id};
use crate::aws::{LazyClient, RegionClients, Service};
use crate::aws_error::{AwsCallError, FailureKind};
use crate::config::{Config, Refusal};
use crate::input::{Reader, kind, too_long};
use crate::progress::Progress;
use crate::reason::{LIST_BUDGET, listed, quote};
/// SSM's limit on names per GetParameters call.
pub(crate) const BATCH_SIZE: usize = 10;
/// Batches in flight at once; enough to hide latency, few enough not to be throttled.
const CONCURRENT_BATCHES: usize = 4;

/// Why SSM values could not be read.
#[derive(Debug, Error)]
pub enum SsmError {
    /// Names (with selectors) that SSM does not have.
    #[error(
        "SSM parameter{} {} not found in {region}{}; check the name (and version or label) and the region",
        if names.len() == 1 { "" } else { "s" },
        listed(names, ", ", LIST_BUDGET),
        account.as_ref().map(|a| format!(" (account {a})")).unwrap_or_default()
    )]
    NotFound {
        /// The missing names, as requested.
        names: Vec<String>,
        /// The region searched.
        region: String,
        /// The account searched, when it could be learnt.
        account: Option<String>,
    },
    /// A path with nothing under it.
    #[error(
        "no SSM parameters under path {path} in {region}{} (Recursive: {recursive}); check the path and the region",
        account.as_ref().map(|a| format!(" (account {a})")).unwrap_or_default()
    )]
    EmptyPath {
        /// The path.
        path: String,
        /// The region searched.
        region: String,
        /// Whether sub-paths were searched.
        recursive: bool,
        /// The account searched, when it could be learnt.
        account: Option<String>,
    },
    /// SecureString values asked for without `WithDecryption`.
    #[error(
        "SSM parameter{} {} {} a SecureString; set WithDecryption: \"true\" to read {} (the response is then NoEcho)",
        if names.len() == 1 { "" } else { "s" },
        listed(names, ", ", LIST_BUDGET),
        if names.len() == 1 { "is" } else { "are" },
        if names.len() == 1 { "it" } else { "them" }
    )]
    SecureStringWithoutDecryption {
        /// The SecureString names.
        names: Vec<String>,
    },
    /// SSM refused or failed the call.
    #[error("{0}")]
    Aws(#[from] AwsCallError),
}

/// The SSM source: its properties, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SsmSource {
    /// `ParameterName`.
    pub parameter_name: Option<ParameterRef>,
    /// `Parameters`: Data key → parameter.
    pub parameters: BTreeMap<String, ParameterRef>,
    /// `ParametersPath`.
    pub parameters_path: Option<String>,
    /// `Recursive` (default true).
    pub recursive: bool,
    /// `WithDecryption` (default false).
    pub with_decryption: bool,
}

/// Data keys the `ParameterName` source fills.
const PARAMETER_NAME_KEYS: &[&str] = &["Value", "ParameterVersion"];

pub(crate) const KIND: Kind = Kind {
    properties: &[
        "ParameterName",
        "Parameters",
        "ParametersPath",
        "Recursive",
        "WithDecryption",
    ],
    selected_by: &["ParameterName", "Parameters", "ParametersPath"],
    parse,
};

fn parse(r: &mut Reader<'_>) -> Option<Arc<dyn Source>> {
    let parameter_name = r.string("ParameterName", usize::MAX).and_then(|raw| {
        match ParameterRef::parse(&raw, r.region()) {
            Ok(p) => Some(p),
            Err(e) => {
                r.problem("ParameterName", format!("ParameterName: {e}"));
                None
            }
        }
    });
    let parameters = parameter_map(r);
    let parameters_path = r
        .string("ParametersPath", usize::MAX)
        .and_then(|path| match check_path(&path) {
            Ok(()) => Some(path),
            Err(problem) => {
                r.problem("ParametersPath", problem);
                None
            }
        });
    let recursive = r.boolean("Recursive").unwrap_or(true);
    r.needs("Recursive", "ParametersPath");
    let with_decryption = r.boolean("WithDecryption").unwrap_or(false);
    if parameter_name.is_none() && parameters.is_empty() && parameters_path.is_none() {
        return None;
    }
    Some(Arc::new(SsmSource {
        parameter_name,
        parameters,
        parameters_path,
        recursive,
        with_decryption,
    }))
}

fn check_path(path: &str) -> Result<(), String> {
    if too_long(path, PATH_MAX) {
        return Err(crate::input::length_problem(
            "ParametersPath",
            path,
            PATH_MAX,
        ));
    }
    let hierarchy = path.starts_with('/') && validate_name(path).is_ok();
    if hierarchy {
        Ok(())
    } else {
        Err(format!(
            "ParametersPath '{}' must be a hierarchy starting with '/', e.g. /myapp/",
            quote(path)
        ))
    }
}

fn parameter_map(r: &mut Reader<'_>) -> BTreeMap<String, ParameterRef> {
    let mut out = BTreeMap::new();
    let Some(value) = r.raw("Parameters") else {
        return out;
    };
    let Value::Object(entries) = value else {
        r.problem(
            "Parameters",
            format!(
                "Parameters must be a map of DataKey: parameter-name, got {}",
                kind(value)
            ),
        );
        return out;
    };
    if entries.is_empty() {
        r.problem("Parameters", "Parameters is an empty map".to_owned());
    }
    for (key, raw) in entries {
        let property = format!("Parameters.{}", quote(key));
        if !is_data_key(key) {
            r.problem(
                &property,
                format!(
                    "Parameters key '{}' cannot be a Data key (use up to 255 letters, digits, '_', '-' and '.')",
                    quote(key)
                ),
            );
            continue;
        }
        match raw {
            Value::String(s) => match ParameterRef::parse(s, r.region()) {
                Ok(p) => {
                    out.insert(key.clone(), p);
                }
                Err(e) => r.problem(&property, format!("{property}: {e}")),
            },
            other => r.problem(
                &property,
                format!(
                    "{property} must be a parameter name string, got {}",
                    kind(other)
                ),
            ),
        }
    }
    out
}

/// Data keys are read with `!GetAtt Resource.Key`; keep them to characters
/// that survive that syntax.
fn is_data_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 255
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl SsmSource {
    fn named(&self) -> impl Iterator<Item = &ParameterRef> {
        self.parameter_name.iter().chain(self.parameters.values())
    }
}

impl Source for SsmSource {
    fn label(&self) -> &'static str {
        "SSM"
    }

    fn services(&self) -> Vec<Service> {
        vec![Service::Ssm]
    }

    fn inputs(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(p) = &self.parameter_name {
            out.push(format!("ParameterName={}", p.request_name()));
        }
        for (key, p) in &self.parameters {
            out.push(format!("Parameters.{key}={}", p.request_name()));
        }
        if let Some(path) = &self.parameters_path {
            out.push(format!("ParametersPath={path}"));
            out.push(format!("Recursive={}", self.recursive));
        }
        out.push(format!("WithDecryption={}", self.with_decryption));
        out
    }

    fn data_keys(&self) -> Vec<(String, &'static str)> {
        let fixed = self
            .parameter_name
            .iter()
            .flat_map(|_| PARAMETER_NAME_KEYS)
            .map(|k| ((*k).to_owned(), "ParameterName"));
        let mapped = self.parameters.keys().map(|k| (k.clone(), "Parameters"));
        fixed.chain(mapped).collect()
    }

    fn refusals(&self, config: &Config) -> Vec<Refusal> {
        let names = self
            .named()
            .map(|p| (p.name.name(), p.name.canonical()))
            .chain(self.parameters_path.iter().map(|p| (p.as_str(), p.clone())));
        names
            .filter(|(checked, _)| !config.parameter_allowed(checked))
            .map(|(_, name)| Refusal::Parameter {
                name,
                allowed: config.parameter_paths_display(),
            })
            .collect()
    }

    fn read<'a>(
        &'a self,
        clients: &'a RegionClients,
        progress: &'a Progress,
    ) -> BoxFuture<'a, Result<Contribution, SourceError>> {
        async move {
            read_parameters(clients, self, progress)
                .await
                .map_err(SourceError::from)
        }
        .boxed()
    }
}

/// Reads every SSM source of `props` with the region's clients.
async fn read_parameters(
    clients: &RegionClients,
    props: &SsmSource,
    progress: &Progress,
) -> Result<Contribution, SsmError> {
    let (ssm, sts, region) = (&*clients.ssm, &clients.sts, clients.region.as_str());
    let wanted: BTreeMap<String, &ParameterRef> =
        props.named().map(|r| (r.request_name(), r)).collect();
    let found = match get_named(ssm, region, &wanted, props.with_decryption, progress).await {
        Ok(found) => found,
        Err((call, asked)) => return Err(name_arns(call, Asked::Names(asked), sts, region).await),
    };
    let missing: Vec<String> = wanted
        .keys()
        .filter(|n| !found.contains_key(*n))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(SsmError::NotFound {
            names: missing,
            region: region.to_owned(),
            account: account_id(sts).await,
        });
    }

    let mut out = Taken::new(props.with_decryption);
    if let Some(r) = &props.parameter_name {
        let name = r.request_name();
        if let Some(p) = found.get(&name)
            && let Some(v) = out.take(&name, p)
        {
            out.part.data.push(("Value".to_owned(), v));
            out.part
                .data
                .push(("ParameterVersion".to_owned(), p.version().to_string()));
        }
    }
    for (key, r) in &props.parameters {
        let name = r.request_name();
        if let Some(p) = found.get(&name)
            && let Some(v) = out.take(&name, p)
        {
            out.part.data.push((key.clone(), v));
        }
    }
    if let Some(path) = &props.parameters_path {
        read_path(ssm, sts, region, props, path, &mut out, progress).await?;
    }
    out.finish()
}

/// What has been read so far, and which SecureStrings could not be.
struct Taken {
    part: Contribution,
    with_decryption: bool,
    secure_unread: Vec<String>,
}

impl Taken {
    fn new(with_decryption: bool) -> Self {
        Self {
            part: Contribution::default(),
            with_decryption,
            secure_unread: Vec::new(),
        }
    }

    /// The value of `p`, noting its identity; `None` for a SecureString read
    /// without decryption.
    fn take(&mut self, requested: &str, p: &Parameter) -> Option<String> {
        if is_secure(p) {
            if !self.with_decryption {
                self.secure_unread.push(requested.to_owned());
                return None;
            }
            self.part.secret = true;
        }
        // The version alone does not follow the value: a parameter deleted
        // and re-created (or rewritten by a tool that keeps its version)
        // starts again at the same version with another value. Its
        // last-modified time moves whenever the value does, and is no secret.
        let modified = p.last_modified_date().map_or_else(String::new, |d| {
            format!("{}.{:09}", d.secs(), d.subsec_nanos())
        });
        self.part
            .identity
            .push(format!("{requested}@{}@{modified}", p.version()));
        Some(p.value().unwrap_or_default().to_owned())
    }

    fn finish(self) -> Result<Contribution, SsmError> {
        if self.secure_unread.is_empty() {
            Ok(self.part)
        } else {
            Err(SsmError::SecureStringWithoutDecryption {
                names: self.secure_unread,
            })
        }
    }
}

async fn read_path(
    ssm: &aws_sdk_ssm::Client,
    sts: &LazyClient<aws_sdk_sts::Client>,
    region: &str,
    props: &SsmSource,
    path: &str,
    out: &mut Taken,
    progress: &Progress,
) -> Result<(), SsmError> {
    let params = match get_path(
        ssm,
        region,
        path,
        props.recursive,
        props.with_decryption,
        progress,
    )
    .await
    {
        Ok(params) => params,
        Err(call) => return Err(name_arns(call, Asked::Path(path), sts, region).await),
    };
    if params.is_empty() {
        return Err(SsmError::EmptyPath {
            path: path.to_owned(),
            region: region.to_owned(),
            recursive: props.recursive,
            account: account_id(sts).await,
        });
    }
    out.part
        .identity
        .push(format!("path {path} recursive={}", props.recursive));
    for p in &params {
        let name = p.name().unwrap_or_default().to_owned();
        if let Some(v) = out.take(&name, p) {
            out.part.data.push((name, v));
        }
    }
    Ok(())
}

/// GetParameters in batches; the result is keyed by the name as requested.
/// A failed call comes with the references its batch asked for.
async fn get_named(
    ssm: &aws_sdk_ssm::Client,
    region: &str,
    wanted: &BTreeMap<String, &ParameterRef>,
    with_decryption: bool,
    progress: &Progress,
) -> Result<HashMap<String, Parameter>, (AwsCallError, Vec<ParameterRef>)> {
    let pages: Vec<(Vec<ParameterRef>, Vec<Parameter>)> =
        futures::stream::iter(batches(wanted.values().copied()))
            .map(|batch| async move {
                let names: Vec<String> = batch.iter().map(|r| r.request_name()).collect();
                let target = names.join(", ");
                let _step = progress.step(format!("ssm:GetParameters in {region} for {target}"));
                let sent = ssm
                    .get_parameters()
                    .set_names(Some(names))
                    .with_decryption(with_decryption)
                    .send()
                    .await;
                match sent {
                    Ok(out) => Ok((batch, out.parameters.unwrap_or_default())),
                    Err(e) => Err((
                        AwsCallError::new("ssm:GetParameters", target, region, &e),
                        batch,
                    )),
                }
            })
            .buffered(CONCURRENT_BATCHES)
            .try_collect()
            .await?;

    let mut found = HashMap::new();
    for (batch, params) in pages {
        for p in params {
            // A batch holds each parameter name once, so the returned name (or
            // ARN) identifies the request, whether or not SSM echoes a Selector.
            let matched = batch.iter().find(|r| {
                Some(r.name.name()) == p.name()
                    || Some(r.name.canonical().as_str()) == p.arn()
                    || Some(r.name.canonical().as_str()) == p.name()
            });
            if let Some(r) = matched {
                found.insert(r.request_name(), p);
            }
        }
    }
    Ok(found)
}

/// Splits requests into GetParameters batches of at most [`BATCH_SIZE`], never
/// putting two selectors of the same parameter in one batch.
///
/// Each request goes to the first batch with room after the last batch that
/// holds its parameter; "the first batch with room from here" is kept as a
/// forwarding index with path compression, so the whole split stays linear
/// (near enough) in the number of requests, even when they are all selectors
/// of one parameter.
fn batches<'a>(refs: impl Iterator<Item = &'a ParameterRef>) -> Vec<Vec<ParameterRef>> {
    let mut out: Vec<Vec<ParameterRef>> = Vec::new();
    // open[i]: a batch index >= i that may have room (i itself when it has).
    let mut open: Vec<usize> = Vec::new();
    // after[name]: the index after the last batch holding the name.
    let mut after: HashMap<&str, usize> = HashMap::new();
    for r in refs {
        let start = after.get(r.name.name()).copied().unwrap_or(0);
        let slot = first_open(&mut open, start);
        if slot == out.len() {
            out.push(Vec::with_capacity(BATCH_SIZE));
            open.push(slot);
        }
        if let Some(batch) = out.get_mut(slot) {
            batch.push(r.clone());
            if batch.len() >= BATCH_SIZE
                && let Some(next) = open.get_mut(slot)
            {
                *next = slot + 1;
            }
        }
        after.insert(r.name.name(), slot + 1);
    }
    out
}

/// The first index at or after `start` whose batch has room (`open.len()`
/// when none has), compressing the forwarding chain it walked.
fn first_open(open: &mut [usize], start: usize) -> usize {
    let mut at = start;
    while let Some(&next) = open.get(at) {
        if next == at {
            break;
        }
        at = next;
    }
    let mut walk = start;
    while let Some(next) = open.get_mut(walk) {
        if *next == walk || *next == at {
            break;
        }
        walk = std::mem::replace(next, at);
    }
    at
}

/// GetParametersByPath across every page, sorted by name.
async fn get_path(
    ssm: &aws_sdk_ssm::Client,
    region: &str,
    path: &str,
    recursive: bool,
    with_decryption: bool,
    progress: &Progress,
) -> Result<Vec<Parameter>, AwsCallError> {
    let _step = progress.step(format!("ssm:GetParametersByPath in {region} for {path}"));
    let mut pages = ssm
        .get_parameters_by_path()
        .path(path)
        .recursive(recursive)
        .with_decryption(with_decryption)
        .into_paginator()
        .send();
    let mut params = BTreeMap::new();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| AwsCallError::new("ssm:GetParametersByPath", path, region, &e))?;
        for p in page.parameters.unwrap_or_default() {
            params.insert(p.name().unwrap_or_default().to_owned(), p);
        }
    }
    Ok(params.into_values().collect())
}

fn is_secure(p: &Parameter) -> bool {
    p.r#type() == Some(&ParameterType::SecureString)
}

/// What a failed SSM call asked for, kept as values (never read back from
/// the error's text), so an access-denied Reason can name each by ARN.
enum Asked<'a> {
    /// The parameter references of one GetParameters batch.
    Names(Vec<ParameterRef>),
    /// The path of a GetParametersByPath.
    Path(&'a str),
}

/// Access denied is about ARNs: IAM policies name parameters by ARN, so the
/// Reason does too (`access denied: ssm:GetParameters on
/// arn:aws:ssm:us-east-1:123456789012:parameter/myapp/x`), when the account
/// can be learnt.
async fn name_arns(
    mut call: AwsCallError,
    asked: Asked<'_>,
    sts: &LazyClient<aws_sdk_sts::Client>,
    region: &str,
) -> SsmError {
    if call.kind != FailureKind::AccessDenied {
        return SsmError::Aws(call);
    }
    if let Some(account) = account_id(sts).await {
        call.target = match asked {
            Asked::Names(refs) => refs
                .iter()
                .map(|r| r.name.arn_in(region, &account))
                .collect::<Vec<_>>()
                .join(", "),
            Asked::Path(path) => ParameterRef::parse(path, Some(region))
                .map_or_else(|_| path.to_owned(), |r| r.name.arn_in(region, &account)),
        };
    }
    SsmError::Aws(call)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> ParameterRef {
        ParameterRef::parse(raw, Some("us-east-1")).unwrap()
    }

    #[test]
    fn parameter_arns_drop_selectors_and_follow_the_partition() {
        assert_eq!(
            parse("/myapp/edge-arn:3")
                .name
                .arn_in("us-east-1", "123456789012"),
            "arn:aws:ssm:us-east-1:123456789012:parameter/myapp/edge-arn"
        );
        let flat = ParameterRef::parse("flat", None).unwrap();
        assert_eq!(
            flat.name.arn_in("cn-north-1", "1"),
            "arn:aws-cn:ssm:cn-north-1:1:parameter/flat"
        );
    }

    #[test]
    fn batches_hold_ten_names_and_each_parameter_once() {
        let refs: Vec<ParameterRef> = (0..23)
            .map(|i| parse(&format!("/p{i}")))
            .chain(["/p1:2", "/p1:prod", "/p1:3"].map(parse))
            .collect();
        let b = batches(refs.iter());
        assert!(b.iter().all(|batch| batch.len() <= BATCH_SIZE));
        assert_eq!(b.iter().map(Vec::len).sum::<usize>(), 26);
        for batch in &b {
            let mut names: Vec<&str> = batch.iter().map(|r| r.name.name()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), batch.len(), "a name twice in one batch");
        }
        // Three batches for the 23 names, and /p1's extra selectors spill over.
        assert!(b.len() <= 5, "{} batches", b.len());
    }

    #[test]
    fn not_found_lists_every_name_with_region_and_account() {
        let e = SsmError::NotFound {
            names: vec!["/a".into(), "/b:prod".into()],
            region: "us-east-1".into(),
            account: Some("123456789012".into()),
        };
        assert_eq!(
            e.to_string(),
            "SSM parameters /a, /b:prod not found in us-east-1 (account 123456789012); check the name (and version or label) and the region"
        );
    }
}
