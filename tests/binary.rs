//! The real Lambda binary under a small Lambda Runtime API emulator: it
//! fetches invocations, answers CloudFormation, reports success to the
//! runtime, and logs one JSON line per request without the presigned query.

mod support;

use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_ssm::types::ParameterType;
use serde_json::{Value, json};
use support::http::{Receiver, eventually, runtime_api};
use support::*;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[tokio::test]
async fn the_binary_answers_cloudformation_under_a_lambda_runtime() {
    let name = unique("/crp-test/binary");
    put_param("us-east-1", &name, "from-us-east-1", ParameterType::String).await;
    let receiver = Receiver::start().await;
    let good = create_event(
        &receiver.url(),
        json!({"Region": "us-east-1", "ParameterName": name}),
    );
    let bad = create_event(
        &receiver.url(),
        json!({"Region": "us-east-1", "ParameterName": name, "Regoin": "x"}),
    );
    // The second invocation carries a deadline in the past, as some local
    // emulators do: the provider must fall back to a sane budget.
    let (port, reports) =
        runtime_api(vec![(good.clone(), now_ms() + 60_000), (bad.clone(), 0)]).await;

    let mut child = lambda_process(env!("CARGO_BIN_EXE_cross-region-param"), port)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let done = eventually(Duration::from_secs(60), || {
        reports.lock().unwrap().len() >= 2
    })
    .await;
    let logs = kill_and_collect(&mut child).await;
    assert!(
        done,
        "the binary did not finish both invocations; logs:\n{logs}"
    );

    let reports = reports.lock().unwrap().clone();
    assert_eq!(
        reports,
        vec![
            ("inv-0".into(), "response".into()),
            ("inv-1".into(), "response".into())
        ]
    );

    let puts = receiver.requests();
    assert_eq!(puts.len(), 2);
    let by_request = |e: &Value| {
        puts.iter()
            .find(|p| p.json()["RequestId"] == e["RequestId"])
            .unwrap()
            .json()
    };
    let ok = by_request(&good);
    assert_eq!(ok["Status"], "SUCCESS", "{ok}");
    assert_eq!(ok["Data"]["Value"], "from-us-east-1");
    let failed = by_request(&bad);
    assert_eq!(failed["Status"], "FAILED");
    assert!(
        failed["Reason"]
            .as_str()
            .unwrap()
            .contains("unknown property 'Regoin' (did you mean 'Region'?)")
    );

    // One JSON line per request with its identity, outcome and duration.
    let answered: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "request answered")
        .collect();
    assert_eq!(answered.len(), 2, "logs:\n{logs}");
    let line = answered.iter().find(|v| v["outcome"] == "SUCCESS").unwrap();
    assert_eq!(line["span"]["request_type"], "Create");
    assert_eq!(line["span"]["logical_resource_id"], "EdgeAuth");
    assert_eq!(line["span"]["request_id"], good["RequestId"]);
    assert!(line["duration_ms"].is_u64());
    assert!(
        logs.contains("fallback budget"),
        "the unusable deadline is logged"
    );
    assert!(
        !logs.contains("X-Amz-Signature"),
        "the presigned query never reaches the logs"
    );
    assert!(!logs.contains("from-us-east-1"), "values are never logged");
}

/// An `AWS_CA_BUNDLE` the Lambda cannot read fails the read with a Reason
/// naming the file, and that Reason is still delivered: the answer's own
/// connection falls back to the compiled-in roots rather than failing too.
#[tokio::test]
async fn an_unreadable_ca_bundle_is_a_reason_that_still_reaches_cloudformation() {
    let receiver = Receiver::start().await;
    let event = create_event(
        &receiver.url(),
        json!({"Region": "us-east-1", "ParameterName": "/crp-test/any"}),
    );
    let (port, reports) = runtime_api(vec![(event, now_ms() + 60_000)]).await;
    let missing = "/nonexistent/crp-test/ca-bundle.pem";
    let mut child = lambda_process(env!("CARGO_BIN_EXE_cross-region-param"), port)
        .env("AWS_CA_BUNDLE", missing)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let done = eventually(Duration::from_secs(60), || {
        !reports.lock().unwrap().is_empty()
    })
    .await;
    let logs = kill_and_collect(&mut child).await;
    assert!(done, "no invocation finished; logs:\n{logs}");
    let body = receiver.only().json();
    assert_eq!(body["Status"], "FAILED", "{body}");
    assert!(
        body["Reason"]
            .as_str()
            .unwrap_or_default()
            .contains(missing),
        "{body}"
    );
}
