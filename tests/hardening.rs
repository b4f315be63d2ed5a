//! The protocol's hardening findings, each shown the way it was found: answers
//! cannot be diverted by redirects, nothing secret reaches the logs at trace,
//! events serde_json refuses are still answered, huge echoed fields still give
//! a body that fits, a panic anywhere still gives one answer, and a malformed
//! request names the field that is wrong.

#[path = "support/faults.rs"]
mod faults;
mod support;

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_ssm::types::ParameterType;
use cross_region_param::error::{ProviderError, ResolveError, SendError};
use cross_region_param::{
    Deadline, Progress, Provider, Requester, Resolve, Resolved, ResourceProperties, ResponseSender,
    Status,
};
use faults::{FakeSsm, Scripted, SsmMode, Step, capture_logs};
use serde_json::{Value, json};
use support::http::{closed_port, eventually, runtime_api_raw};
use support::*;
use tracing_subscriber::layer::{Context, SubscriberExt};

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(20))
}

async fn no_aws() -> String {
    format!("http://127.0.0.1:{}", closed_port().await)
}

/// `event` as JSON text with the placeholder string `"@@"` replaced by `raw`,
/// which need not be valid JSON (or UTF-8).
fn splice(event: &Value, raw: &[u8]) -> Vec<u8> {
    let text = event.to_string();
    let (before, after) = text.split_once("\"@@\"").unwrap();
    [before.as_bytes(), raw, after.as_bytes()].concat()
}

/// The events serde_json refuses, each with its ResponseURL intact: a
/// property nested 200 deep, a lone surrogate, a number out of range, bytes
/// that are not UTF-8.
fn refused_payloads() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "nested 200 deep",
            format!("{}1{}", "[".repeat(200), "]".repeat(200)).into_bytes(),
        ),
        ("lone surrogate", br#""\ud800""#.to_vec()),
        ("number out of range", b"1e400".to_vec()),
        ("invalid UTF-8", b"\"\xff\xfe\"".to_vec()),
    ]
}

fn refused_event(url: &str, payload: &[u8]) -> (Value, Vec<u8>) {
    let event = create_event(
        url,
        json!({"Region": "us-east-1", "ParameterName": "/myapp/a", "Refresh": "@@"}),
    );
    let raw = splice(&event, payload);
    (event, raw)
}

// Finding 1.
#[tokio::test]
async fn a_redirect_from_the_response_url_is_a_failed_delivery_and_never_followed() {
    let provider = provider_for(&no_aws().await, test_config(&[])).await;
    for status in [301, 302, 303, 307, 308] {
        let elsewhere = Scripted::start(vec![]).await;
        let target = format!("{}&stolen-query=1", elsewhere.url());
        let allowed = Scripted::start(vec![Step::Redirect(status, target)]).await;
        let (logs, _guard) = capture_logs();
        let event = delete_event(&allowed.url(), "crp-us-east-1-abc", json!({}));
        let result = provider.handle_json(event, deadline()).await;
        let err = result.expect_err("a redirect is not a delivery");
        assert!(
            matches!(
                err,
                ProviderError::NotDelivered(SendError::Redirected { .. })
            ),
            "{status}: {err}"
        );
        assert_eq!(
            allowed.requests().len(),
            1,
            "{status}: one PUT, not retried"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            elsewhere.requests().is_empty(),
            "{status}: the redirect target received the answer"
        );
        let logs = logs.text();
        assert!(logs.contains("redirect"), "{logs}");
        assert!(
            !logs.contains("signature") && !logs.contains("stolen-query"),
            "{status}: a query string reached the logs:\n{logs}"
        );
    }
}

// Findings 3 and 4, with the real binary: at RUST_LOG=trace nothing of the
// presigned query or a decrypted value is logged, and every event serde_json
// refuses (invalid UTF-8 included) is answered, the process staying up.
#[tokio::test]
async fn at_trace_level_the_binary_logs_no_secret_and_answers_every_refused_event() {
    let secret_name = unique("/crp-test/trace-secret");
    let secret_value = format!("s3cr3t-{}", unique("v"));
    put_param(
        "us-east-1",
        &secret_name,
        &secret_value,
        ParameterType::SecureString,
    )
    .await;
    let receiver = Scripted::start(vec![]).await;

    let secure = create_event(
        &receiver.url(),
        json!({"Region": "us-east-1", "ParameterName": secret_name, "WithDecryption": "true"}),
    );
    let refused: Vec<(&str, Value, Vec<u8>)> = refused_payloads()
        .into_iter()
        .map(|(what, payload)| {
            let (event, raw) = refused_event(&receiver.url(), &payload);
            (what, event, raw)
        })
        .collect();
    let deadline_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        + 60_000;
    // The refused events come first: the secure read after them shows the
    // process survived them.
    let mut invocations: Vec<(Vec<u8>, u64)> = refused
        .iter()
        .map(|(_, _, raw)| (raw.clone(), deadline_ms))
        .collect();
    invocations.push((secure.to_string().into_bytes(), deadline_ms));
    let total = invocations.len();
    let (port, reports) = runtime_api_raw(invocations).await;

    // CRP_TEST_BINARY runs the same test against another build (a release
    // build, or an older one to show the findings).
    let binary = std::env::var("CRP_TEST_BINARY")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_cross-region-param").to_owned());
    let mut child = lambda_process(&binary, port)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let done = eventually(Duration::from_secs(90), || {
        reports.lock().unwrap().len() >= total
    })
    .await;
    let logs = kill_and_collect(&mut child).await;
    assert!(done, "not every invocation was finished; logs:\n{logs}");
    assert!(
        reports
            .lock()
            .unwrap()
            .iter()
            .all(|(_, kind)| kind == "response"),
        "every invocation ends in success once answered: {:?}",
        reports.lock().unwrap()
    );

    let puts = receiver.requests();
    assert_eq!(puts.len(), total, "one PUT per event");
    for (what, event, _) in &refused {
        let answers: Vec<Value> = puts
            .iter()
            .map(|p| p.json())
            .filter(|b| b["RequestId"] == event["RequestId"])
            .collect();
        assert_eq!(answers.len(), 1, "{what}: exactly one answer");
        let body = &answers[0];
        assert_eq!(body["Status"], "FAILED", "{what}: {body}");
        assert_eq!(body["StackId"], event["StackId"], "{what}");
        assert_eq!(body["LogicalResourceId"], "EdgeAuth", "{what}");
        assert!(
            body["Reason"]
                .as_str()
                .unwrap()
                .contains("ResourceProperties could not be read"),
            "{what}: {body}"
        );
    }
    let ok = puts
        .iter()
        .map(|p| p.json())
        .find(|b| b["RequestId"] == secure["RequestId"])
        .unwrap();
    assert_eq!(ok["Status"], "SUCCESS", "{ok}");
    assert_eq!(ok["Data"]["Value"], secret_value.as_str());

    assert!(logs.contains("request answered"), "logs:\n{logs}");
    assert!(
        !logs.contains("scripted-signature") && !logs.contains("X-Amz-Signature"),
        "the presigned query reached the logs at trace:\n{logs}"
    );
    assert!(
        !logs.contains(&secret_value),
        "a decrypted value reached the logs at trace"
    );
}

// Finding 4, through the handler: each refused event gets one FAILED answer
// echoing its ids, with a Reason naming the field that could not be read.
#[tokio::test]
async fn events_serde_json_refuses_get_one_failed_answer_naming_the_field() {
    let provider = provider_for(&no_aws().await, test_config(&[])).await;
    for (what, payload) in refused_payloads() {
        let receiver = Scripted::start(vec![]).await;
        let (event, raw) = refused_event(&receiver.url(), &payload);
        assert!(
            serde_json::from_slice::<Value>(&raw).is_err(),
            "{what}: serde_json takes it"
        );
        let handled = provider.handle(&raw, deadline()).await.unwrap();
        assert_eq!(handled.attempts, 1);
        let puts = receiver.requests();
        assert_eq!(puts.len(), 1, "{what}");
        let body = puts[0].json();
        assert_eq!(body["Status"], "FAILED", "{what}");
        assert_eq!(body["RequestId"], event["RequestId"], "{what}");
        assert_eq!(body["StackId"], event["StackId"], "{what}");
        assert_eq!(body["PhysicalResourceId"], "crp-create-failed");
        let reason = body["Reason"].as_str().unwrap();
        assert!(
            reason.starts_with("malformed request: ResourceProperties could not be read ("),
            "{what}: {reason}"
        );
    }

    // An echoed field that is itself unreadable is echoed as well as it reads.
    let receiver = Scripted::start(vec![]).await;
    let mut event = create_event(&receiver.url(), json!({"Region": "us-east-1"}));
    event["LogicalResourceId"] = json!("@@");
    let raw = splice(&event, br#""Edge\ud800Auth""#);
    provider.handle(&raw, deadline()).await.unwrap();
    let body = receiver.requests()[0].json();
    assert_eq!(body["LogicalResourceId"], "Edge\u{fffd}Auth");
    assert!(
        body["Reason"]
            .as_str()
            .unwrap()
            .contains("LogicalResourceId could not be read")
    );
}

// Finding 5, the protocol side: echoed fields of megabytes still give one
// non-empty answer that fits, naming the fields.
#[tokio::test]
async fn megabyte_echoed_fields_still_get_a_non_empty_answer_that_fits() {
    let provider = provider_for(&no_aws().await, test_config(&[])).await;
    let receiver = Scripted::start(vec![]).await;
    let mut create = create_event(
        &receiver.url(),
        json!({"Region": "us-east-1", "ParameterName": "/myapp/a"}),
    );
    create["StackId"] = json!("S".repeat(2 << 20));
    create["LogicalResourceId"] = json!("L".repeat(1 << 20));
    create["RequestId"] = json!("R".repeat(6 << 20));
    let mut update = update_event(
        &receiver.url(),
        &"P".repeat(3 << 20),
        json!({"Region": "us-east-1", "ParameterName": "/myapp/a"}),
        json!({"Region": "us-east-1", "ParameterName": "/myapp/b"}),
    );
    // Characters JSON must escape grow sixfold in the body.
    update["LogicalResourceId"] = json!("\u{1}".repeat(255));
    for event in [create, update] {
        provider.handle_json(event, deadline()).await.unwrap();
    }
    let puts = receiver.requests();
    assert_eq!(puts.len(), 2);
    for put in puts {
        assert!(!put.body.is_empty(), "an empty body was sent");
        assert!(put.body.len() <= 4096, "{} bytes", put.body.len());
        let body = put.json();
        assert_eq!(body["Status"], "FAILED", "{body}");
        let reason = body["Reason"].as_str().unwrap();
        assert!(reason.starts_with("malformed request: "), "{reason}");
        assert!(
            reason.contains("longer than CloudFormation sends"),
            "{reason}"
        );
    }
}

/// Panics at the `fire_at`-th span or event this crate emits on the current
/// thread, counting them all: fault injection at every logging point.
struct PanicAt {
    fire_at: usize,
    seen: Arc<AtomicUsize>,
    only_warnings: bool,
}

impl PanicAt {
    fn hit(&self, metadata: &tracing::Metadata<'_>) {
        if !metadata.target().starts_with("cross_region_param") {
            return;
        }
        if self.only_warnings && *metadata.level() != tracing::Level::WARN {
            return;
        }
        if self.seen.fetch_add(1, Ordering::SeqCst) + 1 == self.fire_at {
            panic!("injected panic at {}", metadata.name());
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for PanicAt {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: Context<'_, S>,
    ) {
        self.hit(attrs.metadata());
    }
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        self.hit(event.metadata());
    }
}

fn panic_at(
    fire_at: usize,
    only_warnings: bool,
) -> (Arc<AtomicUsize>, tracing::subscriber::DefaultGuard) {
    let seen = Arc::new(AtomicUsize::new(0));
    let subscriber = tracing_subscriber::registry().with(PanicAt {
        fire_at,
        seen: Arc::clone(&seen),
        only_warnings,
    });
    (seen, tracing::subscriber::set_default(subscriber))
}

// Finding 6: wherever the handling panics — reading the request, its span,
// deciding the answer (properties, resolution, physical id, body), the
// outcome line — the request gets exactly one PUT, FAILED when the panic
// came before it.
#[tokio::test]
async fn a_panic_at_any_point_of_the_handling_still_gives_exactly_one_answer() {
    let ssm = FakeSsm::start(SsmMode::Answer).await;
    let provider = provider_for(&ssm.url(), test_config(&[])).await;
    let mut fired = 0;
    let mut failed_by_panic = 0;
    for fire_at in 1..=50 {
        let receiver = Scripted::start(vec![]).await;
        let event = create_event(
            &receiver.url(),
            json!({"Region": "us-east-1", "ParameterName": "/myapp/a"}),
        );
        let (seen, guard) = panic_at(fire_at, false);
        let result = provider.handle_json(event, deadline()).await;
        drop(guard);
        if seen.load(Ordering::SeqCst) < fire_at {
            break; // every point has had its panic
        }
        fired += 1;
        let handled = result.unwrap_or_else(|e| panic!("panic at point {fire_at}: {e}"));
        let puts = receiver.requests();
        assert_eq!(puts.len(), 1, "panic at point {fire_at}: one PUT");
        assert_eq!(puts[0].json()["Status"], handled.answer.status.as_str());
        if handled.answer.reason.contains("panicked") {
            failed_by_panic += 1;
            assert_eq!(puts[0].json()["Status"], "FAILED");
        }
    }
    assert!(fired >= 3, "only {fired} panic points were reached");
    assert!(
        failed_by_panic >= 1,
        "no panic came before the answer was decided"
    );
}

// Finding 6, the send: a panic while sending is contained, and no second PUT
// follows (the first may have arrived); the invocation ends in error so
// Lambda's retry can deliver the same answer.
#[tokio::test]
async fn a_panic_while_sending_is_contained_and_not_followed_by_another_put() {
    let provider = provider_for(&no_aws().await, test_config(&[])).await;
    let receiver = Scripted::start(vec![Step::Status(503)]).await;
    let event = delete_event(&receiver.url(), "crp-us-east-1-abc", json!({}));
    // The first warning of the handling is the failed PUT's, inside the send.
    let (seen, guard) = panic_at(1, true);
    let result = provider.handle_json(event, deadline()).await;
    drop(guard);
    assert_eq!(seen.load(Ordering::SeqCst), 1, "the panic was injected");
    let err = result.expect_err("the panic ends the invocation in error");
    assert!(
        matches!(err, ProviderError::NotDelivered(SendError::Panicked(_))),
        "{err}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.requests().len(), 1, "no PUT after the panic");
}

// Finding 8: a request missing a field is answered FAILED naming it.
#[tokio::test]
async fn a_missing_resource_type_or_properties_is_named_in_the_reason() {
    let provider = provider_for(&no_aws().await, test_config(&[])).await;
    type Breaks = fn(&mut Value);
    let cases: Vec<(&str, Breaks, &str)> = vec![
        (
            "ResourceType",
            |e| {
                e.as_object_mut().unwrap().remove("ResourceType");
            },
            "malformed request: ResourceType is missing",
        ),
        (
            "ResourceProperties",
            |e| {
                e.as_object_mut().unwrap().remove("ResourceProperties");
            },
            "malformed request: ResourceProperties is missing",
        ),
        (
            "RequestId as a number",
            |e| e["RequestId"] = json!(7),
            "malformed request: RequestId is a number, not the expected type",
        ),
        (
            "ResourceProperties as a string",
            |e| e["ResourceProperties"] = json!("Region=us-east-1"),
            "malformed request: ResourceProperties is a string, not the expected type",
        ),
    ];
    for (what, break_it, expected) in cases {
        let receiver = Scripted::start(vec![]).await;
        let mut event = create_event(
            &receiver.url(),
            json!({"Region": "us-east-1", "ParameterName": "/myapp/a"}),
        );
        break_it(&mut event);
        provider.handle_json(event, deadline()).await.unwrap();
        let body = receiver.requests()[0].json();
        assert_eq!(body["Status"], "FAILED", "{what}");
        assert_eq!(body["Reason"], expected, "{what}");
    }
}

/// A resolver whose work is one CPU-bound step that never yields: it spins
/// until the answer has arrived (or a cap passes) and notes when it saw it.
struct Spinning {
    answered: Arc<AtomicUsize>,
    cap: std::time::Instant,
    saw_answer_at: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
}

impl Resolve for Spinning {
    async fn resolve(
        &self,
        _: &ResourceProperties,
        _: &Requester,
        progress: &Progress,
    ) -> Result<Resolved, ResolveError> {
        let _step = progress.step("a CPU-bound step (test)");
        while std::time::Instant::now() < self.cap {
            if self.answered.load(Ordering::SeqCst) > 0 {
                *self.saw_answer_at.lock().unwrap() = Some(std::time::Instant::now());
                break;
            }
            std::hint::spin_loop();
        }
        Ok(Resolved::default())
    }
}

#[test]
fn a_cpu_bound_step_that_never_yields_still_gets_one_failed_answer_before_the_deadline() {
    // CloudFormation's side runs on a runtime of its own, as it would.
    let outside = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let receiver = outside.block_on(Scripted::start(vec![]));
    let deadline = Deadline::after(Duration::from_secs(6));
    let saw_answer_at = Arc::new(std::sync::Mutex::new(None));
    let spinning = Spinning {
        answered: receiver.accepted_counter(),
        cap: deadline.respond_by.into_std() + Duration::from_secs(2),
        saw_answer_at: Arc::clone(&saw_answer_at),
    };
    let provider = Provider::new(
        Arc::new(spinning),
        ResponseSender::new(fast_retries()).unwrap(),
        Arc::new(test_config(&[])),
    );
    let event = create_event(
        &receiver.url(),
        json!({"Region": "us-east-1", "ParameterName": "/myapp/a"}),
    );
    // The provider runs on one thread, as in the Lambda: while the step
    // spins, no timer of that runtime can fire.
    let lambda = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let handled = lambda
        .block_on(provider.handle_json(event, deadline))
        .unwrap();

    assert_eq!(handled.answer.status, Status::Failed);
    assert!(
        handled.answer.reason.starts_with("timed out after")
            && handled.answer.reason.contains("a CPU-bound step (test)"),
        "{}",
        handled.answer.reason
    );
    let puts = receiver.requests();
    assert_eq!(puts.len(), 1, "exactly one answer");
    let body = puts[0].json();
    assert_eq!(body["Status"], "FAILED", "{body}");
    assert_eq!(body["PhysicalResourceId"], "crp-create-failed");
    let seen = saw_answer_at
        .lock()
        .unwrap()
        .expect("the answer arrived while the step was still running");
    assert!(
        seen < deadline.respond_by.into_std(),
        "the answer arrived after the deadline"
    );
}

/// `Parameters` naming one parameter at `count` versions.
fn selectors_of_one_parameter(count: usize) -> Value {
    let map: serde_json::Map<String, Value> = (1..=count)
        .map(|v| (format!("K{v}"), json!(format!("/myapp/one:{v}"))))
        .collect();
    json!({"Region": "us-east-1", "Parameters": map})
}

#[tokio::test]
async fn sixty_thousand_selectors_of_one_parameter_are_refused_before_any_call() {
    let ssm = FakeSsm::start(SsmMode::Answer).await;
    let provider = provider_for(&ssm.url(), test_config(&[])).await;
    let receiver = Scripted::start(vec![]).await;
    let event = create_event(&receiver.url(), selectors_of_one_parameter(60_000));
    let handled = provider.handle_json(event, deadline()).await.unwrap();

    assert_eq!(handled.answer.status, Status::Failed);
    let reason = &handled.answer.reason;
    assert!(reason.contains("asks for 60000 Data keys"), "{reason}");
    assert!(reason.contains("4096-byte limit"), "{reason}");
    assert_eq!(ssm.calls(), 0, "refused before any call");
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test]
async fn many_selectors_of_one_parameter_that_could_fit_are_read_in_few_batches() {
    let ssm = FakeSsm::start(SsmMode::Missing).await;
    let provider = provider_for(&ssm.url(), test_config(&[])).await;
    let receiver = Scripted::start(vec![]).await;
    let event = create_event(&receiver.url(), selectors_of_one_parameter(40));
    provider.handle_json(event, deadline()).await.unwrap();
    // Each selector of one name needs a call of its own, and no more (plus
    // one sts:GetCallerIdentity for the Reason's account).
    assert_eq!(ssm.calls(), 40 + 1);
}

#[tokio::test]
async fn a_long_list_of_missing_names_is_cut_and_the_advice_still_arrives() {
    let ssm = FakeSsm::start(SsmMode::Missing).await;
    let provider = provider_for(&ssm.url(), test_config(&[])).await;
    let receiver = Scripted::start(vec![]).await;
    // As many names as an answer's Data could hold: far more than its Reason.
    let map: serde_json::Map<String, Value> = (0..300)
        .map(|i| (format!("N{i}"), json!(format!("/nope/name-{i:04}"))))
        .collect();
    let event = create_event(
        &receiver.url(),
        json!({"Region": "us-east-1", "Parameters": map}),
    );
    provider.handle_json(event, deadline()).await.unwrap();

    let body = receiver.requests()[0].json();
    let reason = body["Reason"].as_str().unwrap();
    assert!(
        reason.starts_with("SSM parameters /nope/name-0000, /nope/name-0001"),
        "{reason}"
    );
    assert!(!reason.contains("[truncated]"), "{reason}");
    assert!(
        reason.ends_with("check the name (and version or label) and the region"),
        "{reason}"
    );
    let more: usize = reason
        .split(" more not found")
        .next()
        .and_then(|head| head.rsplit(" and ").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of the names left out: {reason}"));
    assert_eq!(
        reason.matches("/nope/name-").count() + more,
        300,
        "{reason}"
    );
}

#[tokio::test]
async fn sixty_thousand_unknown_keys_log_one_bounded_json_line() {
    let receiver = Scripted::start(vec![]).await;
    let provider = provider_for(&no_aws().await, test_config(&[])).await;
    let mut props = serde_json::Map::new();
    props.insert("Region".into(), json!("us-east-1"));
    props.insert("ParameterName".into(), json!("/myapp/a"));
    for i in 0..60_000 {
        props.insert(format!("Unknown{i:05}"), json!("x"));
    }
    let event = create_event(&receiver.url(), Value::Object(props));
    let (logs, guard) = faults::capture_json_logs();
    provider.handle_json(event, deadline()).await.unwrap();
    drop(guard);

    let text = logs.text();
    let lines: Vec<&str> = text.lines().collect();
    assert!(!lines.is_empty());
    for line in &lines {
        assert!(line.len() < 16 * 1024, "a {}-byte log line", line.len());
        let parsed: Value = serde_json::from_str(line).expect("each line is one JSON object");
        assert!(parsed.is_object());
    }
    let outcome: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["message"] == "request answered")
        .collect();
    assert_eq!(outcome.len(), 1, "one outcome line per request");
    let reason = outcome[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("invalid properties (60000 problems)"),
        "{reason}"
    );
    assert!(reason.contains("known properties: Region"), "{reason}");
}
