//! The CloudFormation protocol end to end: one PUT per request, whatever
//! happens — bad properties, oversized Data, unreachable AWS, a flaky
//! receiver, a hung endpoint, a panic.

mod support;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ssm::types::ParameterType;
use cross_region_param::error::{ProviderError, ResolveError};
use cross_region_param::{Deadline, Provider, ResourceProperties, ResponseSender, UPDATE_FAILED};
use cross_region_param::{Progress, Requester, Resolve, Resolved};
use serde_json::{Value, json};
use support::http::{Endpoint, Receiver, Silent, closed_port};
use support::*;

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(30))
}

async fn failed_reason(receiver: &Receiver) -> String {
    let put = receiver.only();
    let body = put.json();
    assert_eq!(body["Status"], "FAILED", "{body}");
    body["Reason"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn each_kind_of_bad_property_gets_one_failed_put_naming_it() {
    let secure = unique("/crp-test/secure");
    put_param("us-east-1", &secure, "s3cr3t", ParameterType::SecureString).await;
    let config = test_config(&[("CRP_ALLOWED_PARAMETER_PATHS", "/myapp,/crp-test")]);
    let provider = moto_provider(config).await;

    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "missing Region",
            json!({"ParameterName": "/myapp/a"}),
            "Region is required",
        ),
        (
            "invalid region",
            json!({"Region": "us-east-9z", "ParameterName": "/myapp/a"}),
            "Region 'us-east-9z' is not an AWS region code",
        ),
        (
            "unknown property",
            json!({"Region": "us-east-1", "ParameterName": "/myapp/a", "Colour": "red"}),
            "unknown property 'Colour'",
        ),
        (
            "misspelt property",
            json!({"Region": "us-east-1", "ParamterName": "/myapp/a"}),
            "did you mean 'ParameterName'",
        ),
        (
            "Parameters not a map",
            json!({"Region": "us-east-1", "Parameters": "/myapp/a"}),
            "Parameters must be a map",
        ),
        (
            "empty name",
            json!({"Region": "us-east-1", "ParameterName": ""}),
            "ParameterName is empty",
        ),
        (
            "bad selector",
            json!({"Region": "us-east-1", "ParameterName": "/myapp/a:"}),
            "empty selector",
        ),
        (
            "SecureString without WithDecryption",
            json!({"Region": "us-east-1", "ParameterName": secure}),
            "is a SecureString; set WithDecryption: \"true\"",
        ),
        (
            "path outside the allow-list",
            json!({"Region": "us-east-1", "ParameterName": "/other/a"}),
            "SSM parameter /other/a is outside CRP_ALLOWED_PARAMETER_PATHS (/myapp,/crp-test)",
        ),
        (
            "Data-key collision",
            json!({"Region": "us-east-1", "ParameterName": "/myapp/a", "Parameters": {"Value": "/myapp/b"}}),
            "Data key 'Value' would be set by both ParameterName and Parameters",
        ),
        (
            "no source",
            json!({"Region": "us-east-1"}),
            "no source: set at least one of",
        ),
        (
            "non-boolean flag",
            json!({"Region": "us-east-1", "ParameterName": "/myapp/a", "WithDecryption": "yes"}),
            "WithDecryption must be \"true\" or \"false\"",
        ),
        (
            "parameter ARN in another region",
            json!({"Region": "us-east-1", "ParameterName": "arn:aws:ssm:eu-west-1:123456789012:parameter/myapp/a"}),
            "its region is 'eu-west-1', but Region is us-east-1",
        ),
    ];
    // Every case must fail for its own reason, not one shared by all.
    let mut reasons = std::collections::BTreeSet::new();
    let count = cases.len();
    for (what, props, expected) in cases {
        let receiver = Receiver::start().await;
        let handled = provider
            .handle_json(create_event(&receiver.url(), props), deadline())
            .await;
        assert!(
            handled.is_ok(),
            "{what}: the invocation itself succeeds once answered"
        );
        let reason = failed_reason(&receiver).await;
        assert!(
            reason.contains(expected),
            "{what}: reason {reason:?} lacks {expected:?}"
        );
        let body = receiver.only().json();
        assert_eq!(body["PhysicalResourceId"], "crp-create-failed", "{what}");
        reasons.insert(reason);
    }
    assert_eq!(reasons.len(), count, "two cases gave the same Reason");
}

#[tokio::test]
async fn a_result_over_4096_bytes_fails_with_its_size_and_largest_keys() {
    let prefix = unique("/crp-test/big");
    for (name, len) in [("a", 2000), ("b", 1500), ("c", 900), ("d", 10)] {
        put_param(
            "us-east-1",
            &format!("{prefix}/{name}"),
            &"v".repeat(len),
            ParameterType::String,
        )
        .await;
    }
    let receiver = Receiver::start().await;
    let provider = moto_provider(test_config(&[])).await;
    let props = json!({"Region": "us-east-1", "Parameters": {
        "Alpha": format!("{prefix}/a"), "Bravo": format!("{prefix}/b"),
        "Charlie": format!("{prefix}/c"), "Delta": format!("{prefix}/d")}});
    provider
        .handle_json(create_event(&receiver.url(), props), deadline())
        .await
        .unwrap();
    let reason = failed_reason(&receiver).await;
    assert!(
        reason.contains("over CloudFormation's 4096-byte limit"),
        "{reason}"
    );
    assert!(
        reason.contains("Alpha (2005 bytes), Bravo (1505 bytes), Charlie (907 bytes)"),
        "{reason}"
    );
    let size: usize = reason
        .split("would be ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        size > 4096 + 400,
        "the size reported is the full body's: {size}"
    );
    assert!(receiver.only().body.len() <= 4096);
}

#[tokio::test]
async fn delete_succeeds_while_aws_is_unreachable() {
    let port = closed_port().await;
    let provider = provider_for(&format!("http://127.0.0.1:{port}"), test_config(&[])).await;
    let receiver = Receiver::start().await;
    let event = delete_event(
        &receiver.url(),
        "crp-us-east-1-abc",
        json!({"Region": "us-east-1", "ParameterName": "/myapp/a"}),
    );
    let handled = provider.handle_json(event, deadline()).await.unwrap();
    let body = receiver.only().json();
    assert_eq!(body["Status"], "SUCCESS");
    assert_eq!(body["PhysicalResourceId"], "crp-us-east-1-abc");
    assert_eq!(handled.attempts, 1);
}

#[tokio::test]
async fn delete_calls_no_aws_api() {
    // An AWS endpoint that records every call: a Delete of a resource with
    // every kind of source, and one with a RoleArn, make none.
    let aws = Endpoint::counting().await;
    let config = test_config(&[("CRP_ALLOWED_ROLE_ARNS", "arn:aws:iam::222222222222:role/*")]);
    let provider = provider_for(&aws.url(), config).await;
    let receiver = Receiver::start().await;
    let event = delete_event(
        &receiver.url(),
        "crp-us-east-1-abc",
        json!({"Region": "us-east-1", "ParameterName": "/myapp/a", "FunctionName": "f",
               "StackName": "edge", "RoleArn": "arn:aws:iam::222222222222:role/r"}),
    );
    provider.handle_json(event, deadline()).await.unwrap();
    assert_eq!(receiver.only().json()["Status"], "SUCCESS");
    assert_eq!(aws.requests().len(), 0, "a Delete must call nothing");
}

#[tokio::test]
async fn delete_succeeds_even_with_broken_properties() {
    let aws = Endpoint::counting().await;
    let provider = provider_for(&aws.url(), test_config(&[])).await;
    let receiver = Receiver::start().await;
    let event = delete_event(
        &receiver.url(),
        "crp-create-failed",
        json!({"Nonsense": true}),
    );
    provider.handle_json(event, deadline()).await.unwrap();
    assert_eq!(receiver.only().json()["Status"], "SUCCESS");
    assert_eq!(aws.requests().len(), 0, "a Delete must call nothing");
}

#[tokio::test]
async fn a_receiver_that_answers_503_twice_gets_the_response_on_the_third_try() {
    let name = unique("/crp-test/retry");
    put_param("us-east-1", &name, "v1", ParameterType::String).await;
    let receiver = Receiver::with_statuses(&[503, 503]).await;
    let provider = moto_provider(test_config(&[])).await;
    let handled = provider
        .handle_json(
            create_event(
                &receiver.url(),
                json!({"Region": "us-east-1", "ParameterName": name}),
            ),
            deadline(),
        )
        .await
        .unwrap();
    assert_eq!(handled.attempts, 3);
    let puts = receiver.requests();
    assert_eq!(puts.len(), 3, "two refused, one accepted");
    assert!(
        puts.iter().all(|p| p.body == puts[0].body),
        "every attempt carries the same answer"
    );
    assert_eq!(puts[2].json()["Status"], "SUCCESS");
}

#[tokio::test]
async fn a_4xx_from_the_receiver_is_not_retried() {
    let receiver = Receiver::with_statuses(&[403]).await;
    let provider = provider_for("http://127.0.0.1:9", test_config(&[])).await;
    let event = delete_event(&receiver.url(), "x", json!({}));
    let err = provider.handle_json(event, deadline()).await.unwrap_err();
    assert!(matches!(err, ProviderError::NotDelivered(_)), "{err}");
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test]
async fn the_put_has_an_empty_content_type_and_cloudformation_fields() {
    let name = unique("/crp-test/headers");
    put_param("us-east-1", &name, "v1", ParameterType::String).await;
    let receiver = Receiver::start().await;
    let provider = moto_provider(test_config(&[])).await;
    let event = create_event(
        &receiver.url(),
        json!({"Region": "us-east-1", "ParameterName": name}),
    );
    provider
        .handle_json(event.clone(), deadline())
        .await
        .unwrap();
    let put = receiver.only();
    assert_eq!(put.method, "PUT");
    assert_eq!(
        put.headers.get("content-type").map(String::as_str),
        Some("")
    );
    assert_eq!(put.query, "X-Amz-Signature=test-signature");
    let body = put.json();
    assert_eq!(body["RequestId"], event["RequestId"]);
    assert_eq!(body["StackId"], event["StackId"]);
    assert_eq!(body["LogicalResourceId"], "EdgeAuth");
    assert_eq!(body["Data"]["Value"], "v1");
}

#[tokio::test]
async fn a_hung_endpoint_is_answered_failed_before_the_deadline_naming_the_wait() {
    let silent = Silent::start().await;
    let provider = provider_for(&silent.url(), test_config(&[])).await;
    let receiver = Receiver::start().await;
    let total = Duration::from_secs(4);
    let started = tokio::time::Instant::now();
    let event = create_event(
        &receiver.url(),
        json!({"Region": "us-east-1", "ParameterName": "/myapp/edge-arn"}),
    );
    provider
        .handle_json(event, Deadline::after(total))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed < total,
        "answered after {elapsed:?}, past the deadline"
    );
    let reason = failed_reason(&receiver).await;
    assert!(reason.starts_with("timed out after"), "{reason}");
    assert!(
        reason.contains("waiting for ssm:GetParameters in us-east-1 for /myapp/edge-arn"),
        "{reason}"
    );
}

/// A resolver that panics, standing in for a bug.
struct Panicking;

impl Resolve for Panicking {
    async fn resolve(
        &self,
        _: &ResourceProperties,
        _: &Requester,
        _: &Progress,
    ) -> Result<Resolved, ResolveError> {
        panic!("index out of bounds in a resolver");
    }
}

#[tokio::test]
async fn a_panic_while_resolving_becomes_a_failed_answer() {
    let config = Arc::new(test_config(&[]));
    let provider = Provider::new(
        Arc::new(Panicking),
        ResponseSender::new(fast_retries()).unwrap(),
        config,
    );
    let receiver = Receiver::start().await;
    let event = create_event(
        &receiver.url(),
        json!({"Region": "us-east-1", "ParameterName": "/myapp/a"}),
    );
    provider.handle_json(event, deadline()).await.unwrap();
    let reason = failed_reason(&receiver).await;
    assert!(
        reason.contains("panicked while resolving (index out of bounds in a resolver)"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_malformed_request_with_a_response_url_is_answered_failed() {
    let provider = provider_for("http://127.0.0.1:9", test_config(&[])).await;
    let receiver = Receiver::start().await;
    let mut event = create_event(
        &receiver.url(),
        json!({"Region": "us-east-1", "ParameterName": "/myapp/a"}),
    );
    event.as_object_mut().unwrap().remove("RequestId");
    provider.handle_json(event, deadline()).await.unwrap();
    assert_eq!(
        failed_reason(&receiver).await,
        "malformed request: RequestId is missing"
    );
}

#[tokio::test]
async fn a_request_without_a_usable_response_url_errors_and_sends_nothing() {
    let provider = provider_for("http://127.0.0.1:9", test_config(&[])).await;
    let receiver = Receiver::start().await;
    let mut event = create_event(
        &receiver.url(),
        json!({"Region": "us-east-1", "ParameterName": "/myapp/a"}),
    );
    event.as_object_mut().unwrap().remove("ResponseURL");
    assert!(matches!(
        provider.handle_json(event, deadline()).await,
        Err(ProviderError::Unanswerable(_))
    ));

    let outside = create_event(
        "https://example.com/x?sig=1",
        json!({"Region": "us-east-1"}),
    );
    assert!(matches!(
        provider.handle_json(outside, deadline()).await,
        Err(ProviderError::ResponseUrl(_))
    ));
    assert!(receiver.requests().is_empty());
}

#[tokio::test]
async fn a_failed_update_answers_the_update_failed_marker_so_the_rollback_keeps_the_previous_resource()
 {
    let provider = moto_provider(test_config(&[])).await;
    let receiver = Receiver::start().await;
    let missing = unique("/crp-test/missing");
    let event = update_event(
        &receiver.url(),
        "crp-us-east-1-previous",
        json!({"Region": "us-east-1", "ParameterName": missing}),
        json!({"Region": "us-east-1", "ParameterName": "/crp-test/old"}),
    );
    provider.handle_json(event, deadline()).await.unwrap();
    let body = receiver.only().json();
    assert_eq!(body["Status"], "FAILED");
    // A different id makes CloudFormation treat the failure as a failed
    // replacement: its rollback keeps crp-us-east-1-previous and its Data and
    // sends the marker a Delete, instead of asking the resource to read again.
    assert_eq!(body["PhysicalResourceId"], UPDATE_FAILED);
    assert_ne!(body["PhysicalResourceId"], "crp-us-east-1-previous");
    assert!(
        body["Reason"]
            .as_str()
            .unwrap()
            .contains(&format!("SSM parameter {missing} not found in us-east-1"))
    );
}

#[tokio::test]
async fn the_same_request_twice_gets_the_same_answer() {
    let name = unique("/crp-test/twice");
    put_param("us-east-1", &name, "v1", ParameterType::String).await;
    let provider = moto_provider(test_config(&[])).await;
    let receiver = Receiver::start().await;
    let event = create_event(
        &receiver.url(),
        json!({"Region": "us-east-1", "ParameterName": name}),
    );
    provider
        .handle_json(event.clone(), deadline())
        .await
        .unwrap();
    provider.handle_json(event, deadline()).await.unwrap();
    let puts = receiver.requests();
    assert_eq!(puts.len(), 2);
    assert_eq!(puts[0].json(), puts[1].json());
}

#[tokio::test]
async fn a_misconfigured_provider_answers_failed_instead_of_leaving_stacks_waiting() {
    let config = cross_region_param::Config::from_lookup_or_refusing(|name| match name {
        "CRP_ALLOWED_REGIONS" => Some("us-east-1,tokyo".to_owned()),
        "CRP_RESPONSE_URL_HOSTS" => Some("127.0.0.1".to_owned()),
        _ => None,
    });
    let port = closed_port().await;
    let provider = provider_for(&format!("http://127.0.0.1:{port}"), config).await;
    let receiver = Receiver::start().await;
    let event = create_event(
        &receiver.url(),
        json!({"Region": "us-east-1", "ParameterName": "/myapp/a"}),
    );
    provider.handle_json(event, deadline()).await.unwrap();
    assert_eq!(
        failed_reason(&receiver).await,
        "the provider is misconfigured: CRP_ALLOWED_REGIONS: 'tokyo' is not an AWS region code (value \"us-east-1,tokyo\"); fix the provider stack's parameters and redeploy it"
    );
}

/// The answer's connection is opened while the sources are read, not after:
/// AWS here holds its answer until the response endpoint has accepted a
/// connection (for at most 10 s), so without the early connection it answers
/// late and says so.
#[tokio::test]
async fn the_response_connection_is_opened_while_the_sources_are_read() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::net::TcpListener;
    use tokio::sync::Notify;

    let accepted = Arc::new(Notify::new());
    let response = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let response_url = format!(
        "http://{}/response?X-Amz-Signature=s",
        response.local_addr().unwrap()
    );
    let put_body = Arc::new(std::sync::Mutex::new(None));
    let receiver = {
        let (accepted, put_body) = (Arc::clone(&accepted), Arc::clone(&put_body));
        tokio::spawn(async move {
            let (mut stream, _) = response.accept().await.unwrap();
            accepted.notify_one();
            let request = support::http::read_request(&mut stream).await;
            *put_body.lock().unwrap() = request.map(|r| r.json());
            support::http::write_response(&mut stream, 200, &[], b"").await;
        })
    };

    let aws = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let aws_url = format!("http://{}", aws.local_addr().unwrap());
    let answered_after_connect = Arc::new(AtomicBool::new(false));
    let aws_task = {
        let flag = Arc::clone(&answered_after_connect);
        tokio::spawn(async move {
            let (mut stream, _) = aws.accept().await.unwrap();
            support::http::read_request(&mut stream).await;
            let waited = tokio::time::timeout(Duration::from_secs(10), accepted.notified()).await;
            flag.store(waited.is_ok(), Ordering::SeqCst);
            let body = json!({
                "Parameters": [{
                    "Name": "/myapp/a", "Type": "String", "Value": "v", "Version": 1,
                    "LastModifiedDate": 1_700_000_000.0, "DataType": "text",
                    "ARN": "arn:aws:ssm:us-east-1:123456789012:parameter/myapp/a"
                }],
                "InvalidParameters": []
            });
            support::http::write_response(&mut stream, 200, &[], body.to_string().as_bytes()).await;
        })
    };

    let provider = provider_for(&aws_url, test_config(&[])).await;
    let event = create_event(
        &response_url,
        json!({"Region": "us-east-1", "ParameterName": "/myapp/a"}),
    );
    provider
        .handle_json(event, Deadline::after(Duration::from_secs(30)))
        .await
        .unwrap();
    aws_task.await.unwrap();
    receiver.await.unwrap();
    assert!(
        answered_after_connect.load(Ordering::SeqCst),
        "the response endpoint saw no connection while AWS was being asked"
    );
    let body = put_body.lock().unwrap().clone().expect("one PUT");
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    assert_eq!(body["Data"]["Value"], "v");
}
