//! `crp`: resolve a `Custom::CrossRegionParam` resource locally and print what
//! a stack would receive, before spending twenty minutes on a CloudFront
//! deploy. Uses the same code path, and so gives the same Reasons, as the Lambda.
//!
//! `crp plan PATH...` does the same for every such resource of templates or
//! CDK cloud assemblies at once. The modules keep the YAML parser and the
//! template evaluator in this binary: the Lambda never links them.

mod assembly;
mod evaluate;
mod plan;
mod provider;
mod template;
mod yaml_scan;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use cross_region_param::protocol::Status;
use cross_region_param::{AwsClients, Config, Deadline};
use serde_json::{Map, Value, json};

/// Resolve a Custom::CrossRegionParam resource with your own AWS credentials
/// (or AWS_ENDPOINT_URL) and print its Data and physical id.
///
/// Properties come from a file (a properties object, a template resource with
/// `Properties`, or a whole CloudFormation event) and/or from flags; flags win.
///
/// `crp plan PATH...` checks every Custom::CrossRegionParam of templates or
/// CDK cloud assemblies at once (see `crp plan --help`).
///
/// Exit codes: 0 resolved, 1 the resource would FAIL (the Reason is printed),
/// 2 bad usage or unreadable input.
#[derive(Debug, Parser)]
#[command(
    name = "crp",
    version,
    about,
    long_about,
    args_conflicts_with_subcommands = true
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// JSON file with the properties ('-' for standard input).
    #[arg(long, value_name = "FILE")]
    properties: Option<PathBuf>,
    /// Source region (Region).
    #[arg(long)]
    region: Option<String>,
    /// One SSM parameter, name[:VERSION|:LABEL] (ParameterName).
    #[arg(long, value_name = "NAME")]
    parameter_name: Option<String>,
    /// A Parameters entry, DataKey=name[:VERSION|:LABEL]; repeat for more.
    #[arg(long = "parameter", value_name = "KEY=NAME")]
    parameters: Vec<String>,
    /// Every parameter under this path (ParametersPath).
    #[arg(long, value_name = "PATH")]
    parameters_path: Option<String>,
    /// "true" or "false" (Recursive).
    #[arg(long, value_name = "BOOL")]
    recursive: Option<String>,
    /// Decrypt SecureString values (WithDecryption).
    #[arg(long)]
    with_decryption: bool,
    /// Lambda function name or ARN (FunctionName).
    #[arg(long, value_name = "NAME")]
    function_name: Option<String>,
    /// Alias or version (Qualifier).
    #[arg(long)]
    qualifier: Option<String>,
    /// viewer-request, viewer-response, origin-request or origin-response (EdgeEventType).
    #[arg(long, value_name = "TYPE")]
    edge_event_type: Option<String>,
    /// Stack whose outputs to read (StackName).
    #[arg(long, value_name = "NAME")]
    stack_name: Option<String>,
    /// Role to assume first (RoleArn).
    #[arg(long, value_name = "ARN")]
    role_arn: Option<String>,
    /// External id for the role (ExternalId).
    #[arg(long, value_name = "ID")]
    external_id: Option<String>,
    /// Print NoEcho values instead of masking them.
    #[arg(long)]
    show_secrets: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    timeout: u64,
}

#[derive(Debug, Subcommand)]
enum Command {
    Plan(plan::PlanArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Some(Command::Plan(plan_args)) => plan::run(plan_args).await,
        None => resolve_one(&args).await,
    }
}

/// The single-resource form: properties from a file and/or flags.
async fn resolve_one(args: &Args) -> ExitCode {
    let properties = match collect_properties(args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("crp: {e}");
            return ExitCode::from(2);
        }
    };
    // The same reading as the Lambda's: an invalid value answers FAILED with
    // the Lambda's Reason (exit 1), rather than a usage error.
    let config = Arc::new(Config::from_env_or_refusing());
    let clients = Arc::new(AwsClients::load().await);
    let local = match provider::build(clients, config) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("crp: {e}");
            return ExitCode::from(2);
        }
    };
    let request = provider::create_request("dry-run", "DryRun", Value::Object(properties));
    let deadline = Deadline::after(Duration::from_secs(args.timeout.max(1)));
    let answer = provider::answer(&local, &request, deadline).await;

    let shown: BTreeMap<&str, &str> = answer
        .data
        .iter()
        .map(|(k, v)| {
            let v = if answer.no_echo && !args.show_secrets {
                "****"
            } else {
                v.as_str()
            };
            (k.as_str(), v)
        })
        .collect();
    if args.json {
        let out = json!({
            "Status": answer.status.as_str(),
            "Reason": answer.reason,
            "PhysicalResourceId": answer.physical_resource_id,
            "NoEcho": answer.no_echo,
            "Data": shown,
        });
        println!("{out:#}");
    } else if answer.status == Status::Success {
        println!("Status: SUCCESS ({})", answer.reason);
        println!("PhysicalResourceId: {}", answer.physical_resource_id);
        if answer.no_echo {
            println!("NoEcho: true");
        }
        println!("Data:");
        for (k, v) in &shown {
            println!("  {k} = {v}");
        }
    }
    if answer.status == Status::Success {
        ExitCode::SUCCESS
    } else {
        if !args.json {
            eprintln!("Status: FAILED\nReason: {}", answer.reason);
        }
        ExitCode::from(1)
    }
}

/// Properties from the file (if any), then the flags on top.
fn collect_properties(args: &Args) -> Result<Map<String, Value>, String> {
    let mut props = match &args.properties {
        None => Map::new(),
        Some(path) => read_properties(path)?,
    };
    let mut set = |key: &str, value: Option<&String>| {
        if let Some(v) = value {
            props.insert(key.to_owned(), Value::String(v.clone()));
        }
    };
    set("Region", args.region.as_ref());
    set("ParameterName", args.parameter_name.as_ref());
    set("ParametersPath", args.parameters_path.as_ref());
    set("Recursive", args.recursive.as_ref());
    set("FunctionName", args.function_name.as_ref());
    set("Qualifier", args.qualifier.as_ref());
    set("EdgeEventType", args.edge_event_type.as_ref());
    set("StackName", args.stack_name.as_ref());
    set("RoleArn", args.role_arn.as_ref());
    set("ExternalId", args.external_id.as_ref());
    if args.with_decryption {
        props.insert(
            "WithDecryption".to_owned(),
            Value::String("true".to_owned()),
        );
    }
    if !args.parameters.is_empty() {
        let mut map = match props.remove("Parameters") {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        for entry in &args.parameters {
            let (key, name) = entry
                .split_once('=')
                .ok_or_else(|| format!("--parameter '{entry}' must be DataKey=name"))?;
            map.insert(key.to_owned(), Value::String(name.to_owned()));
        }
        props.insert("Parameters".to_owned(), Value::Object(map));
    }
    if props.is_empty() {
        return Err("no properties: pass --properties FILE or flags such as --region and --parameter-name (see --help)".to_owned());
    }
    Ok(props)
}

fn read_properties(path: &PathBuf) -> Result<Map<String, Value>, String> {
    let text = if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        s
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?
    };
    let value: Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    // Accept a whole event, a template resource, or bare properties.
    let inner = value
        .get("ResourceProperties")
        .or_else(|| value.get("Properties"))
        .cloned()
        .unwrap_or(value);
    match inner {
        Value::Object(map) => Ok(map),
        _ => Err(format!(
            "{} must hold a JSON object of properties",
            path.display()
        )),
    }
}
