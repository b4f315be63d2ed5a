//! The sample requests in `events/` are ones the provider accepts as they are:
//! well-formed, with valid properties, pointing at a loopback ResponseURL.

use cross_region_param::ResourceProperties;
use cross_region_param::protocol::{RequestType, request};

#[test]
fn every_sample_event_is_a_valid_request() {
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/events")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let event: serde_json::Value = serde_json::from_str(&text).unwrap();
        let req = request::parse(&event).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            req.malformed.is_none(),
            "{}: {:?}",
            path.display(),
            req.malformed
        );
        assert!(
            req.response_url.starts_with("http://127.0.0.1"),
            "{}: samples must never answer a real endpoint",
            path.display()
        );
        if req.request_type != Some(RequestType::Delete)
            && let Err(e) = ResourceProperties::parse(&req.properties)
        {
            panic!("{}: {e}", path.display());
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
