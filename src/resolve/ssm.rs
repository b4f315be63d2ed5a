//! SSM Parameter Store: `ParameterName`, `Parameters` and `ParametersPath`.
//!
//! Names are read with GetParameters in batches of ten (SSM's limit), batches
//! concurrently; a path is read with GetParametersByPath across every page.
//! Every missing name is collected into one Reason rather than failing on the
//! first.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_ssm::types::{Parameter, ParameterType};
use futures::{StreamExt, TryStreamExt};
use thiserror::Error;

use super::{AwsCallError, Contribution, FailureKind, Progress, account_id};
use crate::properties::{ParameterRef, ResourceProperties};

/// SSM's limit on names per GetParameters call.
pub const BATCH_SIZE: usize = 10;
/// Batches in flight at once; enough to hide latency, few enough not to be throttled.
const CONCURRENT_BATCHES: usize = 4;

/// Why SSM values could not be read.
#[derive(Debug, Error)]
pub enum SsmError {
    /// Names (with selectors) that SSM does not have.
    #[error(
        "SSM parameter{} {} not found in {region}{}; check the name (and version or label) and the region",
        if names.len() == 1 { "" } else { "s" },
        names.join(", "),
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
        names.join(", "),
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

/// Reads every SSM source of `props` from `region`.
pub async fn resolve(
    ssm: &aws_sdk_ssm::Client,
    sts: &aws_sdk_sts::Client,
    region: &str,
    props: &ResourceProperties,
    progress: &Progress,
) -> Result<Contribution, SsmError> {
    let wanted: BTreeMap<String, &ParameterRef> = props
        .parameter_name
        .iter()
        .chain(props.parameters.values())
        .map(|r| (r.request_name(), r))
        .collect();

    let found = match get_named(ssm, region, &wanted, props.with_decryption, progress).await {
        Ok(found) => found,
        Err(e) => return Err(name_arns(e, sts, region).await),
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

    let mut out = Contribution::default();
    let mut secure_unread = Vec::new();
    let mut take = |out: &mut Contribution, requested: &str, p: &Parameter| -> Option<String> {
        if is_secure(p) {
            if !props.with_decryption {
                secure_unread.push(requested.to_owned());
                return None;
            }
            out.secret = true;
        }
        out.identity.push(format!("{requested}@{}", p.version()));
        Some(p.value().unwrap_or_default().to_owned())
    };

    if let Some(r) = &props.parameter_name {
        let name = r.request_name();
        if let Some(p) = found.get(&name)
            && let Some(v) = take(&mut out, &name, p)
        {
            out.data.push(("Value".to_owned(), v));
            out.data
                .push(("ParameterVersion".to_owned(), p.version().to_string()));
        }
    }
    for (key, r) in &props.parameters {
        let name = r.request_name();
        if let Some(p) = found.get(&name)
            && let Some(v) = take(&mut out, &name, p)
        {
            out.data.push((key.clone(), v));
        }
    }
    if let Some(path) = &props.parameters_path {
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
            Err(e) => return Err(name_arns(e, sts, region).await),
        };
        if params.is_empty() {
            return Err(SsmError::EmptyPath {
                path: path.clone(),
                region: region.to_owned(),
                recursive: props.recursive,
                account: account_id(sts).await,
            });
        }
        out.identity
            .push(format!("path {path} recursive={}", props.recursive));
        for p in &params {
            let name = p.name().unwrap_or_default().to_owned();
            if let Some(v) = take(&mut out, &name, p) {
                out.data.push((name, v));
            }
        }
    }
    if !secure_unread.is_empty() {
        return Err(SsmError::SecureStringWithoutDecryption {
            names: secure_unread,
        });
    }
    Ok(out)
}

/// GetParameters in batches; the result is keyed by the name as requested.
async fn get_named(
    ssm: &aws_sdk_ssm::Client,
    region: &str,
    wanted: &BTreeMap<String, &ParameterRef>,
    with_decryption: bool,
    progress: &Progress,
) -> Result<HashMap<String, Parameter>, SsmError> {
    let pages: Vec<(Vec<ParameterRef>, Vec<Parameter>)> =
        futures::stream::iter(batches(wanted.values().copied()))
            .map(|batch| async move {
                let names: Vec<String> = batch.iter().map(|r| r.request_name()).collect();
                let target = names.join(", ");
                let _step = progress.step(format!("ssm:GetParameters in {region} for {target}"));
                ssm.get_parameters()
                    .set_names(Some(names))
                    .with_decryption(with_decryption)
                    .send()
                    .await
                    .map(|out| (batch, out.parameters.unwrap_or_default()))
                    .map_err(|e| {
                        SsmError::Aws(AwsCallError::new("ssm:GetParameters", target, region, &e))
                    })
            })
            .buffered(CONCURRENT_BATCHES)
            .try_collect()
            .await?;

    let mut found = HashMap::new();
    for (batch, params) in pages {
        for p in params {
            // A batch holds each parameter name once, so the returned name (or
            // ARN) identifies the request, whether or not SSM echoes a Selector.
            let matched = batch
                .iter()
                .find(|r| Some(r.name.as_str()) == p.name() || Some(r.name.as_str()) == p.arn());
            if let Some(r) = matched {
                found.insert(r.request_name(), p);
            }
        }
    }
    Ok(found)
}

/// Splits requests into GetParameters batches of at most [`BATCH_SIZE`], never
/// putting two selectors of the same parameter in one batch.
fn batches<'a>(refs: impl Iterator<Item = &'a ParameterRef>) -> Vec<Vec<ParameterRef>> {
    let mut out: Vec<Vec<ParameterRef>> = Vec::new();
    for r in refs {
        let slot = out
            .iter_mut()
            .find(|b| b.len() < BATCH_SIZE && b.iter().all(|o| o.name != r.name));
        match slot {
            Some(b) => b.push(r.clone()),
            None => out.push(vec![r.clone()]),
        }
    }
    out
}

/// GetParametersByPath across every page, sorted by name.
async fn get_path(
    ssm: &aws_sdk_ssm::Client,
    region: &str,
    path: &str,
    recursive: bool,
    with_decryption: bool,
    progress: &Progress,
) -> Result<Vec<Parameter>, SsmError> {
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

/// Access denied is about ARNs: IAM policies name parameters by ARN, so the
/// Reason does too (`access denied: ssm:GetParameters on
/// arn:aws:ssm:us-east-1:123456789012:parameter/myapp/x`), when the account
/// can be learnt.
async fn name_arns(error: SsmError, sts: &aws_sdk_sts::Client, region: &str) -> SsmError {
    let SsmError::Aws(mut call) = error else {
        return error;
    };
    if call.kind != FailureKind::AccessDenied {
        return SsmError::Aws(call);
    }
    if let Some(account) = account_id(sts).await {
        call.target = call
            .target
            .split(", ")
            .map(|name| parameter_arn(region, &account, name))
            .collect::<Vec<_>>()
            .join(", ");
    }
    SsmError::Aws(call)
}

/// The ARN IAM uses for parameter `name` (a selector, if any, dropped).
pub fn parameter_arn(region: &str, account: &str, name: &str) -> String {
    let name = ParameterRef::parse(name).map_or_else(|_| name.to_owned(), |r| r.name);
    if name.starts_with("arn:") {
        return name;
    }
    let partition = if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    };
    let slash = if name.starts_with('/') { "" } else { "/" };
    format!("arn:{partition}:ssm:{region}:{account}:parameter{slash}{name}")
}

/// The plain parameter name of a name or parameter ARN, for allow-list checks:
/// `arn:aws:ssm:r:a:parameter/x/y` is `/x/y`, `...:parameter/x` is `x`.
pub fn bare_name(name: &str) -> &str {
    if !name.starts_with("arn:") {
        return name;
    }
    match name.find(":parameter/") {
        Some(i) => {
            let rest = &name[i + ":parameter".len()..];
            if rest[1..].contains('/') {
                rest
            } else {
                &rest[1..]
            }
        }
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_arns_drop_selectors_and_follow_the_partition() {
        assert_eq!(
            parameter_arn("us-east-1", "123456789012", "/myapp/edge-arn:3"),
            "arn:aws:ssm:us-east-1:123456789012:parameter/myapp/edge-arn"
        );
        assert_eq!(
            parameter_arn("cn-north-1", "1", "flat"),
            "arn:aws-cn:ssm:cn-north-1:1:parameter/flat"
        );
        assert_eq!(
            parameter_arn("us-gov-west-1", "1", "/p/"),
            "arn:aws-us-gov:ssm:us-gov-west-1:1:parameter/p/"
        );
    }

    #[test]
    fn bare_names_of_arns() {
        assert_eq!(bare_name("/a/b"), "/a/b");
        assert_eq!(bare_name("arn:aws:ssm:us-east-1:1:parameter/a/b"), "/a/b");
        assert_eq!(bare_name("arn:aws:ssm:us-east-1:1:parameter/flat"), "flat");
    }

    #[test]
    fn batches_hold_ten_names_and_each_parameter_once() {
        let refs: Vec<ParameterRef> = (0..23)
            .map(|i| ParameterRef::parse(&format!("/p{i}")).unwrap())
            .chain(["/p1:2", "/p1:prod", "/p1:3"].map(|s| ParameterRef::parse(s).unwrap()))
            .collect();
        let b = batches(refs.iter());
        assert!(b.iter().all(|batch| batch.len() <= BATCH_SIZE));
        assert_eq!(b.iter().map(Vec::len).sum::<usize>(), 26);
        for batch in &b {
            let mut names: Vec<&str> = batch.iter().map(|r| r.name.as_str()).collect();
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
