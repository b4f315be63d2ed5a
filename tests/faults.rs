//! The fault matrix, through the real handler: for each way CloudFormation's
//! response endpoint or AWS can fail, and for short and long deadlines,
//! repeats and load, the promised outcome and exactly one accepted response.
//! docs/reliability.md lists the same rows with what was observed.

#[path = "support/faults.rs"]
mod faults;
mod support;

use std::sync::Arc;
use std::time::Duration;

use cross_region_param::error::{ProviderError, SendError};
use cross_region_param::{
    AwsClients, Deadline, Handled, Provider, Request, Resolver, ResponseSender, RetryPolicy, Status,
};
use faults::{FakeSsm, Scripted, SsmMode, Step};
use serde_json::{Value, json};
use support::http::{Silent, closed_port};
use support::*;
use tokio::time::Instant;

fn props(name: &str) -> Value {
    json!({"Region": "us-east-1", "ParameterName": name})
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(20))
}

/// A provider whose PUT attempts give up after `attempt_timeout`.
async fn provider_with_attempt_timeout(
    endpoint: &str,
    attempt_timeout: Duration,
) -> Provider<Resolver> {
    let config = Arc::new(test_config(&[]));
    let clients = Arc::new(AwsClients::from_config(sdk_config_for(endpoint).await));
    let policy = RetryPolicy {
        attempt_timeout,
        ..fast_retries()
    };
    Provider::new(
        Arc::new(Resolver::new(clients, Arc::clone(&config))),
        ResponseSender::new(policy).unwrap(),
        config,
    )
}

/// Runs one Create against a receiver following `script`, with AWS answering.
async fn create_against(script: Vec<Step>) -> (Scripted, Result<Handled, ProviderError>) {
    let ssm = FakeSsm::start(SsmMode::Answer).await;
    let provider = provider_for(&ssm.url(), test_config(&[])).await;
    let receiver = Scripted::start(script).await;
    let result = provider
        .handle_json(create_event(&receiver.url(), props("/myapp/a")), deadline())
        .await;
    (receiver, result)
}

fn same_bodies(receiver: &Scripted) {
    let puts = receiver.requests();
    assert!(
        puts.iter().all(|p| p.body == puts[0].body),
        "every attempt carries the same answer"
    );
}

#[tokio::test]
async fn response_endpoint_403_is_not_retried_and_the_invocation_errors() {
    let (receiver, result) = create_against(vec![Step::Status(403)]).await;
    let err = result.unwrap_err();
    assert!(
        matches!(err, ProviderError::NotDelivered(SendError::Rejected { .. })),
        "{err}"
    );
    assert_eq!(receiver.requests().len(), 1);
    assert_eq!(receiver.accepted(), 0);
}

#[tokio::test]
async fn response_endpoint_500_then_ok_is_retried_and_accepted_once() {
    let (receiver, result) = create_against(vec![Step::Status(500)]).await;
    let handled = result.unwrap();
    assert_eq!(handled.attempts, 2);
    assert_eq!(handled.answer.status, Status::Success);
    assert_eq!(receiver.accepted(), 1);
    same_bodies(&receiver);
}

#[tokio::test]
async fn response_endpoint_503_twice_is_retried_and_accepted_once() {
    let (receiver, result) = create_against(vec![Step::Status(503), Step::Status(503)]).await;
    assert_eq!(result.unwrap().attempts, 3);
    assert_eq!(receiver.requests().len(), 3);
    assert_eq!(receiver.accepted(), 1);
    same_bodies(&receiver);
}

#[tokio::test]
async fn response_endpoint_503_for_ever_gives_up_after_the_policy_and_errors() {
    let (receiver, result) = create_against(vec![Step::Status(503); 10]).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            ProviderError::NotDelivered(SendError::GaveUp { attempts: 5, .. })
        ),
        "{err}"
    );
    assert_eq!(receiver.requests().len(), 5);
    assert_eq!(receiver.accepted(), 0);
}

#[tokio::test]
async fn response_endpoint_closing_the_connection_is_retried_and_accepted_once() {
    let (receiver, result) = create_against(vec![Step::Close]).await;
    assert_eq!(result.unwrap().attempts, 2);
    assert_eq!(receiver.accepted(), 1);
    same_bodies(&receiver);
}

#[tokio::test]
async fn response_endpoint_answering_slowly_within_the_attempt_timeout_is_waited_for() {
    let (receiver, result) =
        create_against(vec![Step::Slow(Duration::from_millis(1500), 200)]).await;
    assert_eq!(result.unwrap().attempts, 1);
    assert_eq!(receiver.requests().len(), 1);
    assert_eq!(receiver.accepted(), 1);
}

#[tokio::test]
async fn response_endpoint_slower_than_the_attempt_timeout_gets_the_same_answer_again() {
    let ssm = FakeSsm::start(SsmMode::Answer).await;
    let provider = provider_with_attempt_timeout(&ssm.url(), Duration::from_millis(300)).await;
    let receiver = Scripted::start(vec![Step::Slow(Duration::from_secs(3), 200)]).await;
    let handled = provider
        .handle_json(create_event(&receiver.url(), props("/myapp/a")), deadline())
        .await
        .unwrap();
    assert_eq!(handled.attempts, 2);
    // The abandoned attempt is still being held; the retry was accepted.
    assert_eq!(receiver.accepted(), 1);
    same_bodies(&receiver);
}

#[tokio::test]
async fn response_endpoint_refusing_connections_gives_up_and_errors() {
    let ssm = FakeSsm::start(SsmMode::Answer).await;
    let provider = provider_for(&ssm.url(), test_config(&[])).await;
    let port = closed_port().await;
    let url = format!("http://127.0.0.1:{port}/cloudformation-response/x?X-Amz-Signature=s");
    let err = provider
        .handle_json(create_event(&url, props("/myapp/a")), deadline())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ProviderError::NotDelivered(SendError::GaveUp { attempts: 5, .. })
        ),
        "{err}"
    );
}

#[tokio::test]
async fn response_endpoint_redirecting_is_a_failed_delivery() {
    let elsewhere = Scripted::start(vec![]).await;
    let (receiver, result) = create_against(vec![Step::Redirect(307, elsewhere.url())]).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            ProviderError::NotDelivered(SendError::Redirected { .. })
        ),
        "{err}"
    );
    assert_eq!(receiver.requests().len(), 1);
    assert!(elsewhere.requests().is_empty());
}

/// Runs one Create against SSM misbehaving as `mode`; returns the one answer.
async fn answer_with_ssm(mode: SsmMode) -> (Value, usize) {
    let ssm = FakeSsm::start(mode).await;
    let provider = provider_for(&ssm.url(), test_config(&[])).await;
    let receiver = Scripted::start(vec![]).await;
    provider
        .handle_json(create_event(&receiver.url(), props("/myapp/a")), deadline())
        .await
        .unwrap();
    let puts = receiver.requests();
    assert_eq!(puts.len(), 1, "exactly one PUT");
    assert_eq!(receiver.accepted(), 1);
    (puts[0].json(), ssm.calls())
}

#[tokio::test]
async fn aws_throttling_every_call_fails_naming_the_throttle_after_the_sdk_retries() {
    let (body, calls) = answer_with_ssm(SsmMode::ThrottleAll).await;
    assert_eq!(body["Status"], "FAILED");
    let reason = body["Reason"].as_str().unwrap();
    assert!(
        reason.starts_with("throttled: ssm:GetParameters"),
        "{reason}"
    );
    assert_eq!(calls, 4, "the SDK's four attempts");
}

#[tokio::test]
async fn aws_throttling_once_is_absorbed_by_the_sdk_retry() {
    let (body, calls) = answer_with_ssm(SsmMode::ThrottleHalf).await;
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    assert_eq!(body["Data"]["Value"], "value-of-/myapp/a");
    assert_eq!(calls, 2);
}

#[tokio::test]
async fn aws_access_denied_fails_naming_the_action() {
    let (body, _) = answer_with_ssm(SsmMode::AccessDenied).await;
    assert_eq!(body["Status"], "FAILED");
    let reason = body["Reason"].as_str().unwrap();
    assert!(
        reason.starts_with("access denied: ssm:GetParameters"),
        "{reason}"
    );
}

#[tokio::test]
async fn aws_answering_nonsense_fails() {
    let (body, _) = answer_with_ssm(SsmMode::Malformed).await;
    assert_eq!(body["Status"], "FAILED", "{body}");
    assert!(
        body["Reason"]
            .as_str()
            .unwrap()
            .contains("ssm:GetParameters"),
        "{body}"
    );
}

/// AWS never answering, under a deadline of `total`: FAILED, naming the
/// wait, delivered before the deadline.
async fn hung_aws_under(total: Duration) {
    let silent = Silent::start().await;
    let provider = provider_for(&silent.url(), test_config(&[])).await;
    let receiver = Scripted::start(vec![]).await;
    let deadline = Deadline::after(total);
    provider
        .handle_json(create_event(&receiver.url(), props("/myapp/a")), deadline)
        .await
        .unwrap();
    assert!(
        Instant::now() < deadline.respond_by,
        "answered after the deadline"
    );
    let puts = receiver.requests();
    assert_eq!(puts.len(), 1);
    assert_eq!(receiver.accepted(), 1);
    let body = puts[0].json();
    assert_eq!(body["Status"], "FAILED");
    let reason = body["Reason"].as_str().unwrap();
    assert!(reason.starts_with("timed out after"), "{reason}");
    assert!(
        reason.contains("ssm:GetParameters in us-east-1 for /myapp/a"),
        "{reason}"
    );
}

#[tokio::test]
async fn aws_never_answering_under_a_1s_deadline_is_answered_failed_in_time() {
    hung_aws_under(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn aws_never_answering_under_a_3s_deadline_is_answered_failed_in_time() {
    hung_aws_under(Duration::from_secs(3)).await;
}

// A 60 s deadline in paused time: the clock jumps whenever nothing is ready,
// so the minute passes at once. Only the decision is run (the PUT's own
// timing is shown above with real time).
#[tokio::test(start_paused = true)]
async fn aws_never_answering_under_a_60s_deadline_is_decided_failed_before_it() {
    let silent = Silent::start().await;
    let provider = provider_for(&silent.url(), test_config(&[])).await;
    let receiver_url = "http://127.0.0.1:9/never-called?X-Amz-Signature=s";
    let event = create_event(receiver_url, props("/myapp/a"));
    let request = Request::from_bytes(event.to_string().as_bytes()).unwrap();
    let started = Instant::now();
    let deadline = Deadline::after(Duration::from_secs(60));
    let answer = provider.answer(&request, deadline).await;
    let decided_after = started.elapsed();
    assert_eq!(answer.status, Status::Failed);
    assert!(
        decided_after <= Duration::from_secs(55),
        "decided {decided_after:?} after the start, past the 5 s reserve"
    );
    assert!(
        answer.reason.contains("ssm:GetParameters"),
        "{}",
        answer.reason
    );
    assert!(
        answer.reason.contains("timed out") || answer.reason.contains("timeout"),
        "{}",
        answer.reason
    );
}

#[tokio::test]
async fn the_same_request_twice_gets_the_same_answer_each_time_once() {
    let ssm = FakeSsm::start(SsmMode::Answer).await;
    let provider = provider_for(&ssm.url(), test_config(&[])).await;
    let receiver = Scripted::start(vec![]).await;
    let event = create_event(&receiver.url(), props("/myapp/a"));
    let first = provider
        .handle_json(event.clone(), deadline())
        .await
        .unwrap();
    let second = provider.handle_json(event, deadline()).await.unwrap();
    assert_eq!(first.answer, second.answer);
    let puts = receiver.requests();
    assert_eq!(puts.len(), 2, "one PUT per delivery of the request");
    assert_eq!(receiver.accepted(), 2);
    assert_eq!(puts[0].json(), puts[1].json());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_requests_against_a_throttling_ssm_are_all_answered_in_time() {
    let ssm = FakeSsm::start(SsmMode::ThrottleHalf).await;
    let provider = Arc::new(provider_for(&ssm.url(), test_config(&[])).await);
    let receiver = Arc::new(Scripted::start(vec![]).await);
    let deadline = Deadline::after(Duration::from_secs(30));
    let events: Vec<Value> = (0..50)
        .map(|i| create_event(&receiver.url(), props(&format!("/myapp/load/{i}"))))
        .collect();
    let tasks: Vec<_> = events
        .iter()
        .cloned()
        .map(|event| {
            let provider = Arc::clone(&provider);
            tokio::spawn(async move {
                let result = provider.handle_json(event, deadline).await;
                (result, Instant::now())
            })
        })
        .collect();
    for (task, event) in tasks.into_iter().zip(&events) {
        let (result, finished) = task.await.unwrap();
        let handled = result.unwrap();
        assert_eq!(
            handled.answer.status,
            Status::Success,
            "{}",
            handled.answer.reason
        );
        assert!(
            finished < deadline.respond_by,
            "answered after the deadline"
        );
        let name = event["ResourceProperties"]["ParameterName"]
            .as_str()
            .unwrap();
        assert_eq!(handled.answer.data["Value"], format!("value-of-{name}"));
    }
    assert_eq!(ssm.calls(), 100, "half of SSM's calls were throttled");
    let puts = receiver.requests();
    assert_eq!(puts.len(), 50);
    assert_eq!(receiver.accepted(), 50);
    for event in &events {
        let answers = puts
            .iter()
            .filter(|p| p.json()["RequestId"] == event["RequestId"])
            .count();
        assert_eq!(answers, 1, "exactly one answer per request");
    }
}
