//! `make bench`: the release binary beside aws-cdk-lib's own
//! `Custom::CrossRegionStringParameterReader` handler (under node), both
//! started the way Lambda starts a function, on the same event against the
//! same moto, alternating, pair by pair; then scale figures (AWS calls made
//! beside the API minimum). Prints tables, writes them to
//! target/bench/results.md and the chart to docs/benchmarks.svg. Asserts
//! nothing about time.
//!
//! Run with `make bench` (scripts/bench.sh starts moto, installs CDK's handler
//! into .tools/bench-cdk and sets the variables read here).

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "provider/chart.rs"]
mod chart;
#[path = "provider/cross.rs"]
mod cross;
#[path = "provider/floor.rs"]
mod floor;
#[path = "provider/lambda_api.rs"]
mod lambda_api;
#[path = "provider/relay.rs"]
mod relay;
#[path = "provider/scale.rs"]
mod scale;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_ssm::types::ParameterType;
use lambda_api::{Program, Run};
use serde_json::{Value, json};
use support::{moto_url, put_param};

/// Warm invocations after the cold one, in the warm run of each sample.
const WARM: usize = 5;
const PARAMETER: &str = "/bench/edge-function-arn";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn event() -> Value {
    // Only properties both handlers accept: CDK's reader takes Region and
    // ParameterName (and returns the value as FunctionArn).
    event_with(json!({
        "Region": "us-east-1",
        "ParameterName": PARAMETER,
    }))
}

/// A Create of a resource with these properties (a ServiceToken is added).
fn event_with(mut properties: Value) -> Value {
    let token = "arn:aws:lambda:ap-northeast-1:123456789012:function:bench";
    properties["ServiceToken"] = json!(token);
    json!({
        "RequestType": "Create",
        "ServiceToken": token,
        "ResponseURL": "set per run",
        "StackId": "arn:aws:cloudformation:ap-northeast-1:123456789012:stack/BenchStack/4f1d2e00-0000-4000-8000-000000000001",
        "RequestId": "bench-request",
        "LogicalResourceId": "EdgeArn",
        "ResourceType": "Custom::CrossRegionStringParameterReader",
        "ResourceProperties": properties,
    })
}

/// What Lambda gives every function process, pointed at moto.
fn lambda_env(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        ("AWS_LAMBDA_FUNCTION_NAME", "bench".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench".into()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "local".into()),
        ("AWS_ENDPOINT_URL", moto_url()),
        ("AWS_REGION", "ap-northeast-1".into()),
        ("AWS_DEFAULT_REGION", "ap-northeast-1".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    env
}

/// Medians of one side over every sample.
#[derive(Default)]
struct Side {
    cold: Vec<f64>,
    cpu: Vec<f64>,
    cpu_to_exit: Vec<f64>,
    warm: Vec<f64>,
    rss_cold_mb: Vec<f64>,
    rss_mb: Vec<f64>,
}

impl Side {
    fn add(&mut self, cold: &Run, warm: &Run) {
        self.cold.push(ms(cold.cold));
        self.cpu.push(ms(cold.cpu));
        self.cpu_to_exit.push(ms(cold.cpu_to_exit));
        self.warm
            .push(median(warm.warm.iter().copied().map(ms).collect()));
        self.rss_cold_mb.push(cold.max_rss_kb as f64 / 1024.0);
        self.rss_mb.push(warm.max_rss_kb as f64 / 1024.0);
    }
}

async fn sample(program: &Program) -> (Run, Run) {
    let cold = lambda_api::run(program, vec![event()])
        .await
        .unwrap_or_else(|e| panic!("cold run failed: {e}"));
    let warm = lambda_api::run(program, vec![event(); WARM + 1])
        .await
        .unwrap_or_else(|e| panic!("warm run failed: {e}"));
    (cold, warm)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores available, {}", std::env::consts::ARCH)
}

fn command_output(program: &str, arg: &str) -> String {
    std::process::Command::new(program)
        .arg(arg)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "?".into())
}

#[tokio::main]
async fn main() {
    let pairs: usize = std::env::var("BENCH_PAIRS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12)
        .max(1);
    let node = std::env::var("BENCH_NODE").unwrap_or_else(|_| "node".into());
    let cdk_dir = std::env::var("BENCH_CDK_HANDLER").ok();
    let out_dir = PathBuf::from("target/bench");
    let chart_path = PathBuf::from(
        std::env::var("BENCH_CHART").unwrap_or_else(|_| "docs/benchmarks.svg".into()),
    );
    put_param(
        "us-east-1",
        PARAMETER,
        "arn:aws:lambda:us-east-1:123456789012:function:edge:7",
        ParameterType::String,
    )
    .await;

    let binary = std::env::var("BENCH_OURS_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_cross-region-param").to_owned());
    let binary = binary.as_str();
    let ours = Program {
        label: "ours",
        program: binary.to_owned(),
        args: vec![],
        env: lambda_env(&[("CRP_RESPONSE_URL_HOSTS", "127.0.0.1")]),
    };
    // Profiling: `BENCH_WRAP="strace -f -c -o FILE"` runs one cold invocation
    // of our binary (or BENCH_OURS_BIN) under that command, and stops.
    if let Ok(wrap) = std::env::var("BENCH_WRAP") {
        let mut words = wrap.split_whitespace().map(str::to_owned);
        let program = Program {
            program: words.next().unwrap_or_default(),
            args: words.chain([binary.to_owned()]).collect(),
            ..ours
        };
        let run = lambda_api::run(&program, vec![event()]).await;
        println!("{run:?}");
        return;
    }
    let cdk = cdk_dir.as_ref().map(|dir| Program {
        label: "CDK",
        program: node.clone(),
        args: vec!["benches/cdk/driver.js".into(), dir.clone()],
        env: lambda_env(&[]),
    });

    let mut report = String::new();
    let node_version = command_output(&node, "--version");
    let _ = writeln!(report, "machine: {}", machine());
    let _ = writeln!(
        report,
        "ours: {binary} ({:.2} MB); CDK: aws-cdk-lib 2.276.0 reader on node {node_version}; moto at {}",
        std::fs::metadata(binary).map_or(0.0, |m| m.len() as f64 / 1_048_576.0),
        moto_url()
    );
    let _ = writeln!(
        report,
        "{pairs} pairs, alternating which side goes first; each sample is a cold process (1 invocation) and a warm one (1 + {WARM})\n"
    );
    print!("{report}");

    let env_ms = |name: &str, default: u64| {
        Duration::from_millis(
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default),
        )
    };
    let cross_pairs: usize = std::env::var("BENCH_XR_PAIRS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(9);
    if cross_pairs > 0 {
        let net = cross::Network::start(
            &out_dir,
            env_ms("BENCH_RTT_MS", 145),
            env_ms("BENCH_APP_RTT_MS", 2),
        )
        .await;
        let cases = cross::cases(PARAMETER).await;
        let cross = cross::run(&net, &cases, &ours, cdk.as_ref(), cross_pairs).await;
        let section = format!("\n## Cross-region\n\n{cross}");
        print!("{section}");
        report.push_str(&section);
    }
    if std::env::var("BENCH_LOOPBACK").is_ok_and(|v| v == "0") {
        write_results(&out_dir, &report);
        return;
    }
    let _ = writeln!(report, "\n## Loopback (moto, plain HTTP)\n");

    let mut a = Side::default();
    let mut b = Side::default();
    let mut ratios = Vec::new();
    for i in 0..pairs {
        let (ours_run, cdk_run) = match &cdk {
            Some(cdk) if i % 2 == 1 => {
                let c = sample(cdk).await;
                (sample(&ours).await, Some(c))
            }
            Some(cdk) => {
                let o = sample(&ours).await;
                (o, Some(sample(cdk).await))
            }
            None => (sample(&ours).await, None),
        };
        a.add(&ours_run.0, &ours_run.1);
        if let Some((cold, warm)) = &cdk_run {
            b.add(cold, warm);
            ratios.push(ms(cold.cold) / ms(ours_run.0.cold));
        }
        eprint!(".");
    }
    eprintln!();

    let cdk_cell = |v: &Vec<f64>, digits: usize| {
        if v.is_empty() {
            "n/a".to_owned()
        } else {
            format!("{:.*}", digits, median(v.clone()))
        }
    };
    let ratio = |x: &Vec<f64>, y: &Vec<f64>| {
        if y.is_empty() {
            "n/a".to_owned()
        } else {
            format!("{:.1}x", median(y.clone()) / median(x.clone()))
        }
    };
    let mut table = String::new();
    let _ = writeln!(
        table,
        "| median of {pairs} | ours | CDK's reader | CDK / ours |"
    );
    let _ = writeln!(table, "|---|---:|---:|---:|");
    let _ = writeln!(
        table,
        "| cold: process start to response PUT received (ms) | {:.1} | {} | **{}** (pairwise) |",
        median(a.cold.clone()),
        cdk_cell(&b.cold, 1),
        if ratios.is_empty() {
            "n/a".to_owned()
        } else {
            format!("{:.1}x", median(ratios.clone()))
        }
    );
    let rows: [(&str, &Vec<f64>, &Vec<f64>, usize); 5] = [
        (
            "CPU per cold invocation: process start to its next-event request (ms)",
            &a.cpu,
            &b.cpu,
            1,
        ),
        (
            "CPU of the cold process to its exit after SIGKILL, `wait4` (ms)",
            &a.cpu_to_exit,
            &b.cpu_to_exit,
            1,
        ),
        (
            "warm invocation: event handed out to PUT received (ms)",
            &a.warm,
            &b.warm,
            2,
        ),
        (
            "peak RSS, cold process (MB)",
            &a.rss_cold_mb,
            &b.rss_cold_mb,
            1,
        ),
        (
            &format!("peak RSS after 1 + {WARM} invocations (MB)"),
            &a.rss_mb,
            &b.rss_mb,
            1,
        ),
    ];
    for (label, ours, cdk, digits) in rows {
        let _ = writeln!(
            table,
            "| {label} | {:.digits$} | {} | {} |",
            median(ours.clone()),
            cdk_cell(cdk, digits),
            ratio(ours, cdk)
        );
    }
    let _ = writeln!(
        table,
        "\ncold wall, ours: min {:.1} / max {:.1} ms; CPU, ours: min {:.1} / max {:.1} ms",
        a.cold.iter().copied().fold(f64::INFINITY, f64::min),
        a.cold.iter().copied().fold(0.0, f64::max),
        a.cpu.iter().copied().fold(f64::INFINITY, f64::min),
        a.cpu.iter().copied().fold(0.0, f64::max),
    );
    print!("{table}");
    report.push_str(&table);

    let cases = scale::all().await;
    let mut scale_table = String::new();
    let _ = writeln!(
        scale_table,
        "\n| scale case | AWS calls made | API minimum | result | wall (ms) |"
    );
    let _ = writeln!(scale_table, "|---|---|---:|---|---:|");
    for case in &cases {
        let calls: Vec<String> = case
            .calls
            .iter()
            .map(|(op, n)| format!("{n} {op}"))
            .collect();
        let _ = writeln!(
            scale_table,
            "| {} | {} = **{}** | {} | {} | {:.0} |",
            case.label,
            calls.join(" + "),
            case.total(),
            case.minimum,
            case.status,
            ms(case.wall)
        );
    }
    print!("{scale_table}");
    report.push_str(&scale_table);

    write_results(&out_dir, &report);
    if !b.cold.is_empty() {
        let panels = [
            chart::Panel {
                title: "cold invocation, wall",
                unit: "ms",
                ours: median(a.cold.clone()),
                cdk: median(b.cold.clone()),
            },
            chart::Panel {
                title: "CPU per cold invocation",
                unit: "ms",
                ours: median(a.cpu.clone()),
                cdk: median(b.cpu.clone()),
            },
            chart::Panel {
                title: "peak RSS, cold process",
                unit: "MB",
                ours: median(a.rss_cold_mb.clone()),
                cdk: median(b.rss_cold_mb.clone()),
            },
        ];
        let subtitle = format!("{pairs} pairs, moto on loopback");
        match chart::write(&chart_path, &subtitle, &panels) {
            Ok(()) => println!("\nchart: {}", chart_path.display()),
            Err(e) => eprintln!("could not write {}: {e}", chart_path.display()),
        }
    }
}

fn write_results(dir: &std::path::Path, report: &str) {
    let _ = std::fs::create_dir_all(dir);
    let results = dir.join("results.md");
    match std::fs::write(&results, report) {
        Ok(()) => println!("tables: {}", results.display()),
        Err(e) => eprintln!("could not write {}: {e}", results.display()),
    }
}
