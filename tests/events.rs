//! The sample requests in `events/` are ones the provider accepts as they are,
//! including the shapes real CloudFormation and its tooling send: no top-level
//! `ServiceToken`, `ServiceTimeout` at the top and in the properties (as CDK
//! emits it), a Delete without `PhysicalResourceId`, and list and map values
//! in `OldResourceProperties`. Each is run through the provider against moto.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use cross_region_param::{
    CREATE_FAILED, Deadline, Request, RequestType, ResourceProperties, Status,
};
use serde_json::Value;
use support::{moto_provider, test_config};

fn samples() -> Vec<(PathBuf, Value)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/events")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        out.push((path, serde_json::from_str(&text).unwrap()));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn parsed(path: &std::path::Path, event: &Value) -> Request {
    let raw = serde_json::to_vec(event).unwrap();
    Request::from_bytes(&raw).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_sample_event_is_a_valid_request() {
    let mut seen = Vec::new();
    for (path, event) in samples() {
        let req = parsed(&path, &event);
        assert!(
            req.response_url.starts_with("http://127.0.0.1"),
            "{}: samples must never answer a real endpoint",
            path.display()
        );
        // A Delete is answered whatever it lacks; everything else is whole.
        if req.request_type != Some(RequestType::Delete) {
            assert!(
                req.malformed.is_none(),
                "{}: {:?}",
                path.display(),
                req.malformed
            );
            if let Err(e) = ResourceProperties::parse(&req.properties) {
                panic!("{}: {e}", path.display());
            }
        }
        seen.push(req.request_type);
    }
    for kind in [
        RequestType::Create,
        RequestType::Update,
        RequestType::Delete,
    ] {
        assert!(seen.contains(&Some(kind)), "no {} sample", kind.as_str());
    }
}

#[test]
fn the_set_holds_the_shapes_cloudformation_and_cdk_send() {
    let events: Vec<Value> = samples().into_iter().map(|(_, e)| e).collect();
    let has = |what: &str, test: &dyn Fn(&Value) -> bool| {
        assert!(events.iter().any(test), "no sample with {what}");
    };
    has("no top-level ServiceToken", &|e| {
        e.get("ServiceToken").is_none()
    });
    has("ServiceTimeout at the top and in the properties", &|e| {
        e.get("ServiceTimeout").is_some() && e["ResourceProperties"].get("ServiceTimeout").is_some()
    });
    has("a Delete without PhysicalResourceId", &|e| {
        e["RequestType"] == "Delete" && e.get("PhysicalResourceId").is_none()
    });
    has("a list value in OldResourceProperties", &|e| {
        e.get("OldResourceProperties")
            .and_then(Value::as_object)
            .is_some_and(|m| m.values().any(Value::is_array))
    });
    has("a map value in OldResourceProperties", &|e| {
        e.get("OldResourceProperties")
            .and_then(Value::as_object)
            .is_some_and(|m| m.values().any(Value::is_object))
    });
}

/// Each sample, answered by the provider against moto: a Delete succeeds
/// without calling anything, a Create or Update gets as far as AWS.
#[tokio::test]
async fn every_sample_event_runs_through_the_provider() {
    let provider = moto_provider(test_config(&[])).await;
    for (path, event) in samples() {
        let req = parsed(&path, &event);
        let answer = provider
            .answer(&req, Deadline::after(Duration::from_secs(30)))
            .await;
        let name = path.display();
        match req.request_type {
            Some(RequestType::Delete) => {
                assert_eq!(answer.status, Status::Success, "{name}: {}", answer.reason);
                let expected = event
                    .get("PhysicalResourceId")
                    .and_then(Value::as_str)
                    .unwrap_or(CREATE_FAILED);
                assert_eq!(answer.physical_resource_id, expected, "{name}");
            }
            _ => {
                // The request was read, validated and sent to AWS, which is
                // all a sample must show. moto is shared by every test, so a
                // name may exist (another test created it) or not.
                if answer.status == Status::Failed {
                    for refusal in ["malformed request", "invalid properties"] {
                        assert!(
                            !answer.reason.contains(refusal),
                            "{name}: {}",
                            answer.reason
                        );
                    }
                    assert!(
                        answer.reason.contains("not found"),
                        "{name}: {}",
                        answer.reason
                    );
                } else {
                    assert_eq!(answer.status, Status::Success, "{name}");
                    assert!(!answer.data.is_empty(), "{name}: no Data");
                }
            }
        }
    }
}
