//! Speed and memory figures against a local moto: warm request latency through
//! the provider (in process), and the real binary's cold start and peak RSS
//! under a Lambda Runtime API emulator. Prints figures; asserts nothing.
//!
//! Run with `make bench`, which starts moto and sets `CRP_TEST_MOTO_URL`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_ssm::types::ParameterType;
use cross_region_param::Deadline;
use serde_json::{Map, Value, json};
use support::http::{Receiver, eventually, runtime_api};
use support::*;

const ROUNDS: usize = 40;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn warm_latency(label: &str, props: Value) {
    let provider = moto_provider(test_config(&[])).await;
    let receiver = Receiver::start().await;
    let mut samples = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS + 3 {
        let event = create_event(&receiver.url(), props.clone());
        let start = Instant::now();
        let handled = provider
            .handle(event, Deadline::after(Duration::from_secs(30)))
            .await;
        samples.push(start.elapsed().as_secs_f64() * 1000.0);
        assert!(handled.is_ok());
    }
    // The first calls build clients and connections; report warm figures.
    let mut warm: Vec<f64> = samples.split_off(3);
    warm.sort_by(f64::total_cmp);
    let mean = warm.iter().sum::<f64>() / warm.len() as f64;
    println!(
        "warm  {label:<38} first {:>6.1} ms | p50 {:>6.1} ms | p95 {:>6.1} ms | mean {:>6.1} ms (n={ROUNDS})",
        samples[0],
        percentile(&warm, 0.5),
        percentile(&warm, 0.95),
        mean
    );
}

async fn binary_figures(props: Value) {
    let receiver = Receiver::start().await;
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        + 600_000;
    let events: Vec<(Value, u64)> = (0..=ROUNDS)
        .map(|_| (create_event(&receiver.url(), props.clone()), deadline))
        .collect();
    let (port, reports) = runtime_api(events).await;
    let start = Instant::now();
    let mut child = lambda_process(env!("CARGO_BIN_EXE_cross-region-param"), port)
        .env("AWS_LAMBDA_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    eventually(Duration::from_secs(30), || {
        !reports.lock().unwrap().is_empty()
    })
    .await;
    let first = start.elapsed();
    let rest_start = Instant::now();
    eventually(Duration::from_secs(120), || {
        reports.lock().unwrap().len() > ROUNDS
    })
    .await;
    let rest = rest_start.elapsed();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_owned())
            .unwrap_or_else(|| "?".into())
    };
    child.kill().await.unwrap();
    let size = std::fs::metadata(env!("CARGO_BIN_EXE_cross-region-param"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "binary start to first answer {:>6.1} ms | {ROUNDS} warm invocations {:>6.1} ms each | peak RSS {} kB | binary {:.1} MB",
        first.as_secs_f64() * 1000.0,
        rest.as_secs_f64() * 1000.0 / ROUNDS as f64,
        field("VmHWM:"),
        size as f64 / 1_048_576.0
    );
    assert_eq!(receiver.requests().len(), ROUNDS + 1);
}

#[tokio::main]
async fn main() {
    let prefix = unique("/crp-bench");
    let mut thirty = Map::new();
    for i in 0..30 {
        let name = format!("{prefix}/p{i:02}");
        put_param(
            "us-east-1",
            &name,
            &format!("value-{i}"),
            ParameterType::String,
        )
        .await;
        thirty.insert(format!("K{i:02}"), json!(name));
    }
    let ten: Map<String, Value> = thirty
        .iter()
        .take(10)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let one = json!({"Region": "us-east-1", "ParameterName": format!("{prefix}/p00")});

    println!(
        "moto at {} (latency is dominated by moto, a single-threaded Python server)",
        moto_url()
    );
    warm_latency("ParameterName (1 call)", one.clone()).await;
    warm_latency(
        "Parameters x10 (1 call)",
        json!({"Region": "us-east-1", "Parameters": ten}),
    )
    .await;
    warm_latency(
        "Parameters x30 (3 concurrent calls)",
        json!({"Region": "us-east-1", "Parameters": thirty}),
    )
    .await;
    warm_latency(
        "ParametersPath x30 (3 pages)",
        json!({"Region": "us-east-1", "ParametersPath": prefix}),
    )
    .await;
    warm_latency("Delete (no AWS call)", json!({"Region": "us-east-1"})).await;
    binary_figures(one).await;
}
