//! `crp plan`: preflight every `Custom::CrossRegionParam` of templates or CDK
//! cloud assemblies before deploying them.
//!
//! Each resource's properties are evaluated offline ([`crate::evaluate`]);
//! those that are fully known are resolved concurrently, through one shared
//! provider (one set of AWS clients), exactly as the Lambda would resolve
//! them ([`crate::provider`]). The rest are `unknown` until deploy, with the
//! property that makes them so.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use cross_region_param::{Answer, AwsClients, Config, Deadline, ResourceProperties, Status};
use serde_json::{Map, Value, json};

use thiserror::Error;

use crate::assembly::{self, PlanInputError, Stack, TemplateDefaults};
use crate::evaluate::{Scope, Unknown, as_cloudformation_sends};
use crate::provider;

/// The resource type planned.
const RESOURCE_TYPE: &str = "Custom::CrossRegionParam";

/// Preflight every Custom::CrossRegionParam of CloudFormation/SAM templates
/// (YAML or JSON) or CDK cloud assembly directories (cdk.out).
///
/// Each resource is resolved with your AWS credentials (or AWS_ENDPOINT_URL)
/// through the provider's own code, so it shows the Data or the Reason a
/// deploy would get. Allow-lists come from the CRP_* environment, or from
/// the deployed provider with --provider.
///
/// Exit codes: 0 every resource resolves (unknown ones are warned about),
/// 1 any would FAIL (or, with --strict, is unknown until deploy),
/// 2 bad usage or an unreadable path.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Templates (.yaml, .yml, .json) or cloud assembly directories.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
    /// A template parameter's value, KEY=VALUE; repeat for more (wins over Default).
    #[arg(long = "parameter", value_name = "KEY=VALUE")]
    parameters: Vec<String>,
    /// Read the CRP_* allow-lists from this deployed provider function (name or ARN).
    #[arg(long, value_name = "FUNCTION")]
    provider: Option<String>,
    /// AWS::StackName for template files (cloud assemblies name their stacks).
    #[arg(long, value_name = "NAME")]
    stack_name: Option<String>,
    /// Count resources that are unknown until deploy as failures (exit 1).
    #[arg(long)]
    strict: bool,
    /// Print NoEcho and SecureString values instead of masking them.
    #[arg(long)]
    show_secrets: bool,
    /// Give each resource at most this many seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    timeout: u64,
}

/// Why a plan could not be made (exit 2).
#[derive(Debug, Error)]
enum PlanError {
    /// `--parameter` without `=`.
    #[error("--parameter '{input}' must be KEY=VALUE")]
    ParameterSyntax { input: String },
    /// `--parameter` keys no template declares.
    #[error("--parameter {keys}: no template planned declares it (declared: {declared})")]
    Undeclared { keys: String, declared: String },
    /// A path that cannot be read.
    #[error(transparent)]
    Source(#[from] PlanInputError),
    /// The provider could not be set up, or `--provider` not read.
    #[error(transparent)]
    Setup(#[from] provider::SetupError),
}

/// A row's outcome (not the answer's `Status`, which it is derived from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Failed,
    Unknown,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "FAILED",
            Self::Unknown => "unknown",
        }
    }
}

/// One resource's result.
#[derive(Debug)]
struct Row {
    stack: String,
    logical_id: String,
    status: Outcome,
    data: Option<BTreeMap<String, String>>,
    reason: String,
    physical_resource_id: Option<String>,
}

/// A resource found in a template, ready to resolve or not.
enum Found {
    Ready(Box<cross_region_param::Request>),
    Unknown(Unknown),
    /// Evaluating it went past a limit: it fails, as CloudFormation would.
    GaveUp(String),
}

/// Runs `crp plan`.
pub async fn run(args: PlanArgs, clients: Arc<AwsClients>) -> ExitCode {
    match plan(&args, clients).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("crp plan: {}", printable(&message.to_string()));
            ExitCode::from(2)
        }
    }
}

async fn plan(args: &PlanArgs, clients: Arc<AwsClients>) -> Result<ExitCode, PlanError> {
    let overrides = parse_overrides(&args.parameters)?;
    let defaults = TemplateDefaults {
        stack_name: args.stack_name.clone(),
        region: clients
            .sdk_config()
            .await
            .region()
            .map(|r| r.as_ref().to_owned()),
    };
    let mut stacks = Vec::new();
    for path in &args.paths {
        stacks.extend(assembly::stacks(path, &defaults)?);
    }

    undeclared(&overrides, &stacks)?;

    let mut found = Vec::new();
    for stack in &stacks {
        found.extend(resources(stack, &overrides));
    }
    if found.is_empty() {
        eprintln!("crp plan: no {RESOURCE_TYPE} resources found");
    }

    let config = match &args.provider {
        Some(function) => provider::deployed_config(&clients, function).await?,
        None => Config::from_env_or_refusing(),
    };
    let local = provider::build(Arc::clone(&clients), Arc::new(config))?;
    let budget = Duration::from_secs(args.timeout.max(1));
    let rows = futures::future::join_all(found.into_iter().map(|(stack, logical_id, item)| {
        let local = &local;
        async move {
            match item {
                Found::Unknown(why) => Row {
                    stack,
                    logical_id,
                    status: Outcome::Unknown,
                    data: None,
                    reason: format!("unknown until deploy: {why}"),
                    physical_resource_id: None,
                },
                Found::GaveUp(why) => Row {
                    stack,
                    logical_id,
                    status: Outcome::Failed,
                    data: None,
                    reason: why,
                    physical_resource_id: None,
                },
                Found::Ready(request) => {
                    let answer = provider::answer(local, &request, Deadline::after(budget)).await;
                    row(stack, logical_id, answer, args.show_secrets)
                }
            }
        }
    }))
    .await;

    if args.json {
        println!("{:#}", to_json(&rows));
    } else {
        print!("{}", table(&rows));
    }
    let count = |s: Outcome| rows.iter().filter(|r| r.status == s).count();
    let (failed, unknown) = (count(Outcome::Failed), count(Outcome::Unknown));
    if !args.json {
        eprintln!(
            "{} resource(s): {} ok, {failed} FAILED, {unknown} unknown",
            rows.len(),
            count(Outcome::Ok)
        );
    }
    if unknown > 0 && !args.strict {
        eprintln!(
            "crp plan: warning: {unknown} resource(s) known only at deploy were not checked (--strict makes this an error)"
        );
    }
    Ok(if failed > 0 || (args.strict && unknown > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn parse_overrides(entries: &[String]) -> Result<BTreeMap<String, String>, PlanError> {
    entries
        .iter()
        .map(|entry| {
            entry
                .split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| PlanError::ParameterSyntax {
                    input: entry.clone(),
                })
        })
        .collect()
}

/// A `--parameter` that no stack declares is a typo (CloudFormation would
/// refuse it too).
fn undeclared(overrides: &BTreeMap<String, String>, stacks: &[Stack]) -> Result<(), PlanError> {
    let declared: std::collections::BTreeSet<&str> = stacks
        .iter()
        .filter_map(|s| s.template.get("Parameters").and_then(Value::as_object))
        .flat_map(|p| p.keys().map(String::as_str))
        .collect();
    let unknown: Vec<&str> = overrides
        .keys()
        .map(String::as_str)
        .filter(|k| !declared.contains(k))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let known = if declared.is_empty() {
        "none".to_owned()
    } else {
        declared.into_iter().collect::<Vec<_>>().join(", ")
    };
    Err(PlanError::Undeclared {
        keys: unknown.join(", "),
        declared: known,
    })
}

/// Every Custom::CrossRegionParam of `stack` whose condition may hold.
fn resources(stack: &Stack, overrides: &BTreeMap<String, String>) -> Vec<(String, String, Found)> {
    let scope = Scope::new(&stack.template, overrides, stack.env.clone());
    let Some(resources) = stack.template.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    let stack_id = format!(
        "arn:aws:cloudformation:{}:{}:stack/{}/00000000-0000-4000-8000-000000000000",
        stack.env.region.as_deref().unwrap_or("unknown-region"),
        stack.env.account.as_deref().unwrap_or("000000000000"),
        stack.env.stack_name.as_deref().unwrap_or(&stack.label),
    );
    let mut out = Vec::new();
    for (logical_id, resource) in resources {
        if resource.get("Type").and_then(Value::as_str) != Some(RESOURCE_TYPE) {
            continue;
        }
        scope.begin_resource();
        // A resource whose condition is false is not created; one whose
        // condition cannot be known yet is planned as if it were.
        if let Some(Value::String(condition)) = resource.get("Condition")
            && scope.condition(condition) == Ok(false)
        {
            continue;
        }
        let empty = Value::Object(Map::new());
        let evaluated = properties(&scope, resource.get("Properties").unwrap_or(&empty));
        let found = match (scope.gave_up(), evaluated) {
            (Some(why), _) => Found::GaveUp(format!(
                "crp plan gave up evaluating {logical_id}: {why}; CloudFormation would refuse it too"
            )),
            (None, Ok(props)) => Found::Ready(Box::new(provider::create_request(
                &stack_id, logical_id, props,
            ))),
            (None, Err(why)) => Found::Unknown(why),
        };
        out.push((stack.label.clone(), logical_id.clone(), found));
    }
    // Whether JSON maps keep the template's order depends on crate features
    // elsewhere in the build; sorted is stable.
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

/// The properties CloudFormation would send, or the one that is not known yet.
fn properties(scope: &Scope<'_>, properties: &Value) -> Result<Value, Unknown> {
    let Some(map) = properties.as_object() else {
        return scope
            .eval(properties)
            .map(|v| as_cloudformation_sends(v.unwrap_or(Value::Null)));
    };
    let mut out = Map::new();
    for (key, value) in map {
        match named(scope, key, value) {
            Ok(Some(v)) => {
                out.insert(key.clone(), as_cloudformation_sends(v));
            }
            Ok(None) => {}
            // CloudFormation's own properties and Refresh never change what
            // resolves, so a value known only at deploy is left out.
            Err(_) if !ResourceProperties::is_input(key) => {}
            Err(why) => return Err(why),
        }
    }
    Ok(Value::Object(out))
}

/// Evaluates `value`, naming the property (and map key) that is not known.
fn named(scope: &Scope<'_>, path: &str, value: &Value) -> Result<Option<Value>, Unknown> {
    let plain_map = value.as_object().filter(|m| {
        !(m.len() == 1
            && m.keys()
                .next()
                .is_some_and(|k| k == "Ref" || k.starts_with("Fn::")))
    });
    let Some(map) = plain_map else {
        return scope
            .eval(value)
            .map_err(|Unknown(why)| Unknown(format!("property {path}: {why}")));
    };
    let mut out = Map::new();
    for (key, item) in map {
        if let Some(v) = named(scope, &format!("{path}.{key}"), item)? {
            out.insert(key.clone(), v);
        }
    }
    Ok(Some(Value::Object(out)))
}

fn row(stack: String, logical_id: String, answer: Answer, show_secrets: bool) -> Row {
    let ok = answer.status == Status::Success;
    let data = ok.then(|| {
        answer
            .data
            .into_iter()
            .map(|(k, v)| {
                let v = if answer.no_echo && !show_secrets {
                    "****".to_owned()
                } else {
                    v
                };
                (k, v)
            })
            .collect()
    });
    Row {
        stack,
        logical_id,
        status: if ok { Outcome::Ok } else { Outcome::Failed },
        data,
        reason: answer.reason,
        physical_resource_id: Some(answer.physical_resource_id),
    }
}

fn to_json(rows: &[Row]) -> Value {
    Value::Array(
        rows.iter()
            .map(|r| {
                json!({
                    "stack": r.stack,
                    "logicalId": r.logical_id,
                    "status": r.status.as_str(),
                    "data": r.data,
                    "reason": r.reason,
                    "physicalResourceId": r.physical_resource_id,
                })
            })
            .collect(),
    )
}

/// What a row shows under RESOLVES TO: the values (the version ARN first;
/// the unqualified ARN and code hash are left to --json), or the Reason.
fn details(row: &Row) -> Vec<String> {
    let Some(data) = &row.data else {
        return row.reason.lines().map(str::to_owned).collect();
    };
    let mut lines = Vec::new();
    for key in ["VersionArn", "Version"] {
        if let Some(v) = data.get(key) {
            lines.push(format!("{key} = {v}"));
        }
    }
    let function = data.contains_key("VersionArn");
    for (k, v) in data {
        let shown_above = k == "VersionArn" || k == "Version";
        let left_out = function && (k == "FunctionArn" || k == "CodeSha256");
        if !shown_above && !left_out {
            lines.push(format!("{k} = {v}"));
        }
    }
    if lines.is_empty() {
        lines.push(row.reason.clone());
    }
    lines
}

/// `text` safe for a terminal: control characters (ESC, BEL, CR, ...) and
/// the invisible bidirectional overrides are shown as `\u{..}` escapes, so a
/// value or a name from a template cannot erase a row, move the cursor or
/// write over what the table says.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

fn table(rows: &[Row]) -> String {
    let rows: Vec<Row> = rows
        .iter()
        .map(|r| Row {
            stack: printable(&r.stack),
            logical_id: printable(&r.logical_id),
            status: r.status,
            data: r.data.as_ref().map(|d| {
                d.iter()
                    .map(|(k, v)| (printable(k), printable(v)))
                    .collect()
            }),
            reason: r
                .reason
                .lines()
                .map(printable)
                .collect::<Vec<_>>()
                .join("\n"),
            physical_resource_id: r.physical_resource_id.as_deref().map(printable),
        })
        .collect();
    let rows = rows.as_slice();
    let headers = ["STACK", "LOGICAL ID", "STATUS", "RESOLVES TO"];
    let width =
        |f: &dyn Fn(&Row) -> usize, h: &str| rows.iter().map(f).max().unwrap_or(0).max(h.len());
    let w0 = width(&|r| r.stack.len(), headers[0]);
    let w1 = width(&|r| r.logical_id.len(), headers[1]);
    let w2 = width(&|r| r.status.as_str().len(), headers[2]);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:w0$}  {:w1$}  {:w2$}  {}",
        headers[0], headers[1], headers[2], headers[3]
    );
    for r in rows {
        let lines = details(r);
        let mut lines = lines.iter();
        let _ = writeln!(
            out,
            "{:w0$}  {:w1$}  {:w2$}  {}",
            r.stack,
            r.logical_id,
            r.status.as_str(),
            lines.next().map_or("", String::as_str)
        );
        for more in lines {
            let _ = writeln!(out, "{:w$}  {more}", "", w = w0 + w1 + w2 + 4);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::StackEnv;

    fn stack(template: Value) -> Stack {
        Stack {
            label: "App".into(),
            template,
            env: StackEnv {
                stack_name: Some("App".into()),
                region: Some("ap-northeast-1".into()),
                account: Some("123456789012".into()),
            },
        }
    }

    #[test]
    fn only_cross_region_params_whose_condition_may_hold_are_planned() {
        let s = stack(json!({
            "Conditions": {"Never": {"Fn::Equals": ["a", "b"]}},
            "Resources": {
                "Bucket": {"Type": "AWS::S3::Bucket"},
                "A": {"Type": "Custom::CrossRegionParam", "Properties": {"Region": "us-east-1", "ParameterName": "/a"}},
                "B": {"Type": "Custom::CrossRegionParam", "Condition": "Never", "Properties": {"Region": "us-east-1", "ParameterName": "/b"}}
            }
        }));
        let found = resources(&s, &BTreeMap::new());
        let ids: Vec<&str> = found.iter().map(|(_, id, _)| id.as_str()).collect();
        assert_eq!(ids, ["A"]);
    }

    #[test]
    fn deploy_only_service_token_and_refresh_are_dropped_but_other_properties_name_themselves() {
        let s = stack(json!({"Resources": {}}));
        let scope = Scope::new(&s.template, &BTreeMap::new(), s.env.clone());
        let props = properties(
            &scope,
            &json!({
                "ServiceToken": {"Fn::ImportValue": "CrossRegionParam-ServiceToken"},
                "Refresh": {"Fn::GetAtt": ["X", "Y"]},
                "ServiceTimeout": 300,
                "Region": "us-east-1",
                "WithDecryption": true,
                "Parameters": {"A": {"Fn::Sub": "/${AWS::AccountId}/a"}}
            }),
        )
        .unwrap();
        assert_eq!(
            props,
            json!({
                "ServiceTimeout": "300",
                "Region": "us-east-1",
                "WithDecryption": "true",
                "Parameters": {"A": "/123456789012/a"}
            })
        );
        let why = properties(
            &scope,
            &json!({"Region": "us-east-1", "Parameters": {"B": {"Fn::GetAtt": ["Bucket", "Arn"]}}}),
        )
        .unwrap_err()
        .0;
        assert!(
            why.starts_with("property Parameters.B: !GetAtt Bucket.Arn"),
            "{why}"
        );
    }

    #[test]
    fn the_table_shows_the_version_first_and_reasons_line_by_line() {
        let rows = vec![
            Row {
                stack: "App".into(),
                logical_id: "EdgeAuth".into(),
                status: Outcome::Ok,
                data: Some(BTreeMap::from([
                    ("CodeSha256".into(), "abc".into()),
                    ("FunctionArn".into(), "arn:f".into()),
                    ("Version".into(), "3".into()),
                    ("VersionArn".into(), "arn:f:3".into()),
                ])),
                reason: "resolved".into(),
                physical_resource_id: Some("crp-x".into()),
            },
            Row {
                stack: "App".into(),
                logical_id: "Missing".into(),
                status: Outcome::Failed,
                data: None,
                reason: "first\nsecond".into(),
                physical_resource_id: Some("crp-create-failed".into()),
            },
        ];
        let text = table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "STACK  LOGICAL ID  STATUS  RESOLVES TO");
        assert_eq!(lines[1], "App    EdgeAuth    ok      VersionArn = arn:f:3");
        assert_eq!(lines[2], "                           Version = 3");
        assert_eq!(lines[3], "App    Missing     FAILED  first");
        assert_eq!(lines[4], "                           second");
        assert_eq!(lines.len(), 5);
    }
}
