//! `crp`: resolve a `Custom::CrossRegionParam` resource locally and print what
//! a stack would receive, before spending twenty minutes on a CloudFront
//! deploy. Uses the same code path, and so gives the same Reasons, as the Lambda.
//!
//! `crp plan PATH...` does the same for every such resource of templates or
//! CDK cloud assemblies at once. The modules keep the YAML parser, the
//! template evaluator and the AWS CLI's ways of signing in
//! ([`credentials`]) in this binary: the Lambda never links them.

mod assembly;
mod credentials;
mod evaluate;
mod plan;
mod provider;
mod template;
mod yaml_scan;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use cross_region_param::cli::{Audience, address_reasons_to};
use cross_region_param::{AwsClients, Config, Deadline, Status};
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
/// Credentials are found as the AWS CLI finds them: --profile or AWS_PROFILE,
/// IAM Identity Center (after `aws sso login`), credential_process, role_arn
/// with source_profile or credential_source, web identity, or AWS_ACCESS_KEY_ID.
/// AWS_CA_BUNDLE (or the profile's ca_bundle) adds a CA to trust, HTTPS_PROXY
/// names a proxy. NO_COLOR turns colour off.
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
    #[command(flatten)]
    global: GlobalArgs,
}

/// Options every command takes, named as the AWS CLI names them.
#[derive(Debug, clap::Args)]
struct GlobalArgs {
    /// Use this profile of ~/.aws/config and ~/.aws/credentials (wins over AWS_PROFILE and AWS_ACCESS_KEY_ID).
    #[arg(long, global = true, value_name = "NAME")]
    profile: Option<String>,
    /// Output format: `json` is the same as --json; `text` is the default.
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    output: Option<Output>,
}

/// `--output` values (the AWS CLI's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    /// The same as --json.
    Json,
    /// Human-readable (the default).
    Text,
}

#[derive(Debug, Subcommand)]
enum Command {
    Plan(plan::PlanArgs),
    /// Print a completion script for SHELL, e.g. `crp completions bash > ~/.local/share/bash-completion/completions/crp`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = Args::parse();
    let json_output = args.global.output == Some(Output::Json);
    match args.command.take() {
        Some(Command::Completions { shell }) => print_completions(shell),
        Some(Command::Plan(mut plan_args)) => {
            plan_args.json |= json_output;
            match aws_clients(args.global.profile.as_deref()).await {
                Ok(clients) => plan::run(plan_args, clients).await,
                Err(code) => code,
            }
        }
        None => resolve_one(&args, args.json || json_output).await,
    }
}

/// The completion script for `shell`. Written in one piece, so a reader that
/// stops early (`crp completions bash | head`) ends it quietly.
fn print_completions(shell: clap_complete::Shell) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Args::command(), "crp", &mut script);
    match std::io::stdout().lock().write_all(&script) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crp: cannot write the completion script: {e}");
            ExitCode::from(1)
        }
    }
}

/// The AWS clients, as the AWS CLI would sign in; Reasons from here on are
/// addressed to the person at the terminal. A setup that cannot work (a
/// missing profile, an unreadable CA bundle) is a usage error (exit 2).
async fn aws_clients(profile: Option<&str>) -> Result<Arc<AwsClients>, ExitCode> {
    let setup = credentials::load(profile).await.map_err(|e| {
        eprintln!("crp: {e}");
        ExitCode::from(2)
    })?;
    // Only this process's first call counts, and this is it.
    let _ = address_reasons_to(Audience::Terminal(setup.terminal));
    Ok(Arc::new(AwsClients::from_config(setup.config)))
}

/// The single-resource form: properties from a file and/or flags.
async fn resolve_one(args: &Args, json: bool) -> ExitCode {
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
    let clients = match aws_clients(args.global.profile.as_deref()).await {
        Ok(clients) => clients,
        Err(code) => return code,
    };
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
    if json {
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
        if !json {
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
