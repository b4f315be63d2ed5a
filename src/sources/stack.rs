//! CloudFormation stack outputs: `StackName`.
//!
//! A stack in the source region (and, with `RoleArn`, the source account) is
//! read with one DescribeStacks call; each of its outputs becomes Data
//! `Outputs.<OutputKey>`. Outputs are not secret, so their values are part of
//! the identity: the physical id changes exactly when an output does.
//!
//! Whether a stack's outputs can be trusted depends on its status; see
//! [`usable`].

use std::sync::Arc;

use aws_sdk_cloudformation::types::Stack;
use futures::FutureExt;
use futures::future::BoxFuture;
use thiserror::Error;

use super::{Contribution, Kind, Source, SourceError, account_id};
use crate::aws::{LazyClient, RegionClients, Service};
use crate::aws_error::AwsCallError;
use crate::input::{Reader, length_problem, too_long};
use crate::progress::Progress;
use crate::reason::quote;

/// Prefix of every Data key this source produces.
const OUTPUT_KEY_PREFIX: &str = "Outputs.";
/// The longest stack name CloudFormation accepts.
const STACK_NAME_MAX: usize = 128;
/// The longest ARN AWS accepts anywhere.
const ARN_MAX: usize = 2048;

pub(crate) const KIND: Kind = Kind {
    properties: &["StackName"],
    selected_by: &["StackName"],
    parse,
};

/// `StackName`: a stack name or a stack ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StackSource {
    name: String,
}

fn parse(r: &mut Reader<'_>) -> Option<Arc<dyn Source>> {
    let s = r.string("StackName", usize::MAX)?;
    let problem = if s.starts_with("arn:") {
        too_long(&s, ARN_MAX).then(|| length_problem("StackName", &s, ARN_MAX))
    } else if too_long(&s, STACK_NAME_MAX) {
        Some(length_problem("StackName", &s, STACK_NAME_MAX))
    } else if !(s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        Some(format!(
            "StackName '{}' is not a stack name (letters, digits and '-', starting with a letter) or stack ARN",
            quote(&s)
        ))
    } else {
        None
    };
    if let Some(problem) = problem {
        r.problem("StackName", problem);
        return None;
    }
    Some(Arc::new(StackSource { name: s }))
}

impl Source for StackSource {
    fn label(&self) -> &'static str {
        "StackName"
    }

    fn services(&self) -> Vec<Service> {
        vec![Service::CloudFormation]
    }

    fn inputs(&self) -> Vec<String> {
        vec![format!("StackName={}", self.name)]
    }

    fn read<'a>(
        &'a self,
        clients: &'a RegionClients,
        progress: &'a Progress,
    ) -> BoxFuture<'a, Result<Contribution, SourceError>> {
        async move {
            read_outputs(clients, &self.name, progress)
                .await
                .map_err(SourceError::from)
        }
        .boxed()
    }
}

/// Why stack outputs could not be read.
#[derive(Debug, Error)]
pub enum StackError {
    /// No stack by that name (or ARN) in the region.
    #[error(
        "stack {stack} not found in {region}{}; check StackName and Region (and RoleArn for a stack in another account)",
        account.as_ref().map(|a| format!(" (account {a})")).unwrap_or_default()
    )]
    NotFound {
        /// The name as given.
        stack: String,
        /// The region searched.
        region: String,
        /// The account searched, when it could be learnt.
        account: Option<String>,
    },
    /// The stack is in a state whose outputs cannot be relied on.
    #[error(
        "stack {stack} in {region} is {status}{}; its outputs are not usable: {}",
        reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default(),
        unusable_remedy(status)
    )]
    Unusable {
        /// The stack's name.
        stack: String,
        /// The region it lives in.
        region: String,
        /// Its status, e.g. `ROLLBACK_COMPLETE`.
        status: String,
        /// CloudFormation's StackStatusReason, when it gave one.
        reason: Option<String>,
    },
    /// The stack has no outputs to read.
    #[error(
        "stack {stack} in {region} has no outputs; add Outputs to its template, or drop StackName"
    )]
    NoOutputs {
        /// The stack's name.
        stack: String,
        /// The region it lives in.
        region: String,
    },
    /// CloudFormation refused or failed the call.
    #[error("{0}")]
    Aws(#[from] AwsCallError),
}

/// What to do about a stack whose status makes its outputs unusable.
fn unusable_remedy(status: &str) -> &'static str {
    match status {
        "ROLLBACK_COMPLETE" => {
            "its creation failed and it can only be deleted; delete it, fix the cause (see its events) and create it again, then deploy this stack"
        }
        "CREATE_IN_PROGRESS" | "REVIEW_IN_PROGRESS" => {
            "it is still being created; wait for CREATE_COMPLETE and deploy again"
        }
        s if s.starts_with("DELETE_") => {
            "it is being deleted or is gone; point StackName at a live stack"
        }
        s if s.starts_with("ROLLBACK_") => {
            "its creation failed; wait for the rollback to end, delete it, fix the cause and create it again"
        }
        s if s.ends_with("_FAILED") => {
            "it is stuck after a failed operation; fix the cause (see its events), bring it back to a *_COMPLETE state (continue the rollback, or update it) and deploy again"
        }
        _ => "wait until it is deployed successfully and deploy again",
    }
}

/// Reads the outputs of `stack_name` with the region's clients.
async fn read_outputs(
    clients: &RegionClients,
    stack_name: &str,
    progress: &Progress,
) -> Result<Contribution, StackError> {
    let (cfn, sts, region) = (
        &*clients.cloudformation,
        &clients.sts,
        clients.region.as_str(),
    );
    let described = {
        let _step = progress.step(format!(
            "cloudformation:DescribeStacks in {region} for {stack_name}"
        ));
        cfn.describe_stacks().stack_name(stack_name).send().await
    };
    let out = match described {
        Ok(out) => out,
        Err(e) => {
            let err = AwsCallError::new("cloudformation:DescribeStacks", stack_name, region, &e);
            if is_missing_stack(&err) {
                return Err(not_found(sts, stack_name, region).await);
            }
            return Err(err.into());
        }
    };
    let Some(stack) = out.stacks.unwrap_or_default().into_iter().next() else {
        return Err(not_found(sts, stack_name, region).await);
    };
    contribution(stack, region)
}

/// Turns a described stack into Data, checking its status first.
fn contribution(stack: Stack, region: &str) -> Result<Contribution, StackError> {
    let name = stack.stack_name().unwrap_or_default().to_owned();
    let status = stack
        .stack_status()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    if !usable(&status) {
        return Err(StackError::Unusable {
            stack: name,
            region: region.to_owned(),
            status,
            reason: stack.stack_status_reason().map(str::to_owned),
        });
    }

    let mut outputs: Vec<(String, String)> = stack
        .outputs()
        .iter()
        .filter_map(|o| {
            let key = o.output_key()?;
            Some((
                key.to_owned(),
                o.output_value().unwrap_or_default().to_owned(),
            ))
        })
        .collect();
    if outputs.is_empty() {
        return Err(StackError::NoOutputs {
            stack: name,
            region: region.to_owned(),
        });
    }
    outputs.sort();

    let mut out = Contribution::default();
    // The stack id (not the name) so a stack deleted and re-created under the
    // same name counts as a different source.
    out.identity
        .push(stack.stack_id().unwrap_or(name.as_str()).to_owned());
    for (key, value) in outputs {
        out.identity.push(format!("{key}={value}"));
        out.data.push((format!("{OUTPUT_KEY_PREFIX}{key}"), value));
    }
    Ok(out)
}

/// Whether a stack in `status` has outputs a deploy can rely on.
///
/// Usable:
/// - every `*_COMPLETE` state except `ROLLBACK_COMPLETE` (a create that failed;
///   the stack holds nothing) and `DELETE_COMPLETE`. `UPDATE_ROLLBACK_COMPLETE`
///   is usable: the stack is stable and its outputs are those of its last good
///   deployment, which is exactly what a reader should get.
/// - `*_IN_PROGRESS` states of a stack that has completed before (updates,
///   update rollbacks, imports and their cleanups): its outputs stay those of
///   the last complete deployment until the operation ends. Refusing them
///   would make two independent pipelines fail depending on timing.
///
/// Not usable: `CREATE_IN_PROGRESS` and `REVIEW_IN_PROGRESS` (no outputs yet),
/// every `ROLLBACK_*` state (the create failed), `DELETE_*` (going or gone),
/// every `*_FAILED` state (the stack is stuck and needs attention), and any
/// status this code does not know.
pub(crate) fn usable(status: &str) -> bool {
    let never = [
        "CREATE_IN_PROGRESS",
        "REVIEW_IN_PROGRESS",
        "DELETE_IN_PROGRESS",
        "DELETE_COMPLETE",
    ];
    if never.contains(&status) || status.starts_with("ROLLBACK_") || status.ends_with("_FAILED") {
        return false;
    }
    status.ends_with("_COMPLETE") || status.ends_with("_IN_PROGRESS")
}

/// CloudFormation reports a missing stack as a validation error, not a
/// not-found code.
fn is_missing_stack(err: &AwsCallError) -> bool {
    (err.has_code("ValidationError") || err.has_code("ValidationException"))
        && err.message.contains("does not exist")
}

async fn not_found(sts: &LazyClient<aws_sdk_sts::Client>, stack: &str, region: &str) -> StackError {
    StackError::NotFound {
        stack: stack.to_owned(),
        region: region.to_owned(),
        account: account_id(sts).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudformation::types::{Output, StackStatus};

    fn stack(status: StackStatus, outputs: &[(&str, &str)]) -> Stack {
        Stack::builder()
            .stack_name("edge")
            .stack_id("arn:aws:cloudformation:us-east-1:123456789012:stack/edge/1234")
            .stack_status(status)
            .stack_status_reason("Resource creation cancelled")
            .set_outputs(Some(
                outputs
                    .iter()
                    .map(|(k, v)| Output::builder().output_key(*k).output_value(*v).build())
                    .collect(),
            ))
            .creation_time(aws_smithy_types::DateTime::from_secs(0))
            .build()
    }

    #[test]
    fn stable_and_updating_stacks_are_usable_failed_and_new_ones_are_not() {
        for ok in [
            "CREATE_COMPLETE",
            "UPDATE_COMPLETE",
            "UPDATE_ROLLBACK_COMPLETE",
            "IMPORT_COMPLETE",
            "IMPORT_ROLLBACK_COMPLETE",
            "UPDATE_IN_PROGRESS",
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            "UPDATE_ROLLBACK_IN_PROGRESS",
            "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
            "IMPORT_IN_PROGRESS",
        ] {
            assert!(usable(ok), "{ok} should be usable");
        }
        for bad in [
            "CREATE_IN_PROGRESS",
            "CREATE_FAILED",
            "ROLLBACK_IN_PROGRESS",
            "ROLLBACK_COMPLETE",
            "ROLLBACK_FAILED",
            "DELETE_IN_PROGRESS",
            "DELETE_COMPLETE",
            "DELETE_FAILED",
            "UPDATE_FAILED",
            "UPDATE_ROLLBACK_FAILED",
            "IMPORT_ROLLBACK_FAILED",
            "REVIEW_IN_PROGRESS",
            "",
            "SOMETHING_NEW",
        ] {
            assert!(!usable(bad), "{bad} should not be usable");
        }
    }

    #[test]
    fn outputs_become_prefixed_data_and_identity_carries_id_and_values() {
        let c = contribution(
            stack(StackStatus::UpdateComplete, &[("B", "2"), ("A", "1")]),
            "us-east-1",
        )
        .unwrap();
        assert_eq!(
            c.data,
            vec![
                ("Outputs.A".to_owned(), "1".to_owned()),
                ("Outputs.B".to_owned(), "2".to_owned())
            ]
        );
        assert_eq!(
            c.identity,
            vec![
                "arn:aws:cloudformation:us-east-1:123456789012:stack/edge/1234",
                "A=1",
                "B=2"
            ]
        );
        assert!(!c.secret);
    }

    #[test]
    fn a_rolled_back_stack_fails_with_its_status_and_reason() {
        let err = contribution(
            stack(StackStatus::RollbackComplete, &[("A", "1")]),
            "us-east-1",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "stack edge in us-east-1 is ROLLBACK_COMPLETE (Resource creation cancelled); its outputs are not usable: its creation failed and it can only be deleted; delete it, fix the cause (see its events) and create it again, then deploy this stack"
        );
    }

    #[test]
    fn a_stack_without_outputs_says_so() {
        let err = contribution(stack(StackStatus::CreateComplete, &[]), "eu-west-1").unwrap_err();
        assert!(matches!(err, StackError::NoOutputs { .. }));
        assert!(
            err.to_string()
                .contains("stack edge in eu-west-1 has no outputs")
        );
    }

    #[test]
    fn not_found_names_stack_region_and_account() {
        let e = StackError::NotFound {
            stack: "edge".into(),
            region: "us-east-1".into(),
            account: Some("222222222222".into()),
        };
        assert!(
            e.to_string()
                .starts_with("stack edge not found in us-east-1 (account 222222222222)")
        );
    }
}
