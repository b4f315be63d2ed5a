//! Parsing CloudFormation's request, tolerantly.
//!
//! A request that is malformed but carries a usable `ResponseURL` must still be
//! answered, or the stack hangs for an hour. So parsing first tries the typed
//! form from `aws_lambda_events`, and failing that salvages whatever fields are
//! there and records what was wrong, for a FAILED answer.

use aws_lambda_events::event::cloudformation::CloudFormationCustomResourceRequest;
use serde_json::Value;
use thiserror::Error;

/// The three request types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestType {
    /// A new resource.
    Create,
    /// Properties changed, or a rollback restores old ones.
    Update,
    /// The resource leaves the stack.
    Delete,
}

impl RequestType {
    /// The name CloudFormation uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "Create",
            Self::Update => "Update",
            Self::Delete => "Delete",
        }
    }
}

/// A request, as far as it could be read.
#[derive(Debug, Clone)]
pub struct Request {
    /// The request type, if it was one of the three.
    pub request_type: Option<RequestType>,
    /// Echoed back in the response.
    pub request_id: String,
    /// Echoed back in the response.
    pub stack_id: String,
    /// Echoed back in the response.
    pub logical_resource_id: String,
    /// Where the response goes (presigned; never logged whole).
    pub response_url: String,
    /// Given on Update and Delete.
    pub physical_resource_id: Option<String>,
    /// `ResourceProperties` (an empty object when absent).
    pub properties: Value,
    /// `OldResourceProperties` on Update.
    pub old_properties: Option<Value>,
    /// What was wrong with the request itself, if anything; such a request is
    /// answered FAILED (or SUCCESS for a Delete) without being acted on.
    pub malformed: Option<String>,
}

/// A request that cannot be answered at all.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum UnanswerableRequest {
    /// No ResponseURL, so there is nowhere to send an answer.
    #[error("the event has no ResponseURL, so no response can be sent ({0})")]
    NoResponseUrl(String),
}

/// Reads a request from the raw event.
pub fn parse(event: &Value) -> Result<Request, UnanswerableRequest> {
    match serde_json::from_value::<CloudFormationCustomResourceRequest>(event.clone()) {
        Ok(typed) => from_typed(typed).map_or_else(|| salvage(event), Ok),
        Err(_) => salvage(event),
    }
}

/// `None` for a request type this build does not know; the caller salvages it.
fn from_typed(req: CloudFormationCustomResourceRequest) -> Option<Request> {
    let request = match req {
        CloudFormationCustomResourceRequest::Create(r) => Request {
            request_type: Some(RequestType::Create),
            request_id: r.request_id,
            stack_id: r.stack_id,
            logical_resource_id: r.logical_resource_id,
            response_url: r.response_url,
            physical_resource_id: None,
            properties: r.resource_properties,
            old_properties: None,
            malformed: None,
        },
        CloudFormationCustomResourceRequest::Update(r) => Request {
            request_type: Some(RequestType::Update),
            request_id: r.request_id,
            stack_id: r.stack_id,
            logical_resource_id: r.logical_resource_id,
            response_url: r.response_url,
            physical_resource_id: Some(r.physical_resource_id),
            properties: r.resource_properties,
            old_properties: Some(r.old_resource_properties),
            malformed: None,
        },
        CloudFormationCustomResourceRequest::Delete(r) => Request {
            request_type: Some(RequestType::Delete),
            request_id: r.request_id,
            stack_id: r.stack_id,
            logical_resource_id: r.logical_resource_id,
            response_url: r.response_url,
            physical_resource_id: Some(r.physical_resource_id),
            properties: r.resource_properties,
            old_properties: None,
            malformed: None,
        },
        // The enum is non-exhaustive: a request type added later is salvaged.
        #[allow(unreachable_patterns)]
        _ => return None,
    };
    Some(request)
}

fn salvage(event: &Value) -> Result<Request, UnanswerableRequest> {
    let text = |key: &str| event.get(key).and_then(Value::as_str).map(str::to_owned);
    let Some(response_url) = text("ResponseURL").filter(|u| !u.is_empty()) else {
        let what = if event.is_object() {
            "ResponseURL is missing or not a string"
        } else {
            "the event is not a JSON object"
        };
        return Err(UnanswerableRequest::NoResponseUrl(what.to_owned()));
    };

    let mut problems = Vec::new();
    let request_type = match text("RequestType").as_deref() {
        Some("Create") => Some(RequestType::Create),
        Some("Update") => Some(RequestType::Update),
        Some("Delete") => Some(RequestType::Delete),
        Some(other) => {
            problems.push(format!(
                "RequestType '{other}' is not Create, Update or Delete"
            ));
            None
        }
        None => {
            problems.push("RequestType is missing".to_owned());
            None
        }
    };
    let mut required = |key: &str| {
        text(key).unwrap_or_else(|| {
            problems.push(format!("{key} is missing"));
            String::new()
        })
    };
    let request_id = required("RequestId");
    let stack_id = required("StackId");
    let logical_resource_id = required("LogicalResourceId");
    let physical_resource_id = text("PhysicalResourceId");
    if matches!(
        request_type,
        Some(RequestType::Update | RequestType::Delete)
    ) && physical_resource_id.is_none()
    {
        problems.push("PhysicalResourceId is missing".to_owned());
    }
    let properties = event
        .get("ResourceProperties")
        .cloned()
        .unwrap_or(Value::Null);
    if problems.is_empty() {
        // Every field is there, so the typed parse failed on a type: say so.
        problems.push(
            "a field has the wrong type (every field but the properties must be a string)"
                .to_owned(),
        );
    }
    Ok(Request {
        request_type,
        request_id,
        stack_id,
        logical_resource_id,
        response_url,
        physical_resource_id,
        properties,
        old_properties: event.get("OldResourceProperties").cloned(),
        malformed: Some(format!("malformed request: {}", problems.join(", "))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn create() -> Value {
        json!({
            "RequestType": "Create",
            "RequestId": "r1",
            "ResponseURL": "https://example.s3.amazonaws.com/x?sig=1",
            "StackId": "arn:aws:cloudformation:ap-northeast-1:123456789012:stack/app/1",
            "ResourceType": "Custom::CrossRegionParam",
            "LogicalResourceId": "EdgeAuth",
            "ResourceProperties": {"Region": "us-east-1", "ParameterName": "/a"}
        })
    }

    #[test]
    fn a_well_formed_create_parses() {
        let r = parse(&create()).unwrap();
        assert_eq!(r.request_type, Some(RequestType::Create));
        assert_eq!(r.logical_resource_id, "EdgeAuth");
        assert!(r.malformed.is_none());
    }

    #[test]
    fn missing_fields_are_salvaged_and_named() {
        let mut e = create();
        e.as_object_mut().unwrap().remove("RequestId");
        e.as_object_mut().unwrap().remove("StackId");
        let r = parse(&e).unwrap();
        assert_eq!(r.request_type, Some(RequestType::Create));
        assert_eq!(
            r.malformed.unwrap(),
            "malformed request: RequestId is missing, StackId is missing"
        );
    }

    #[test]
    fn unknown_request_type_is_salvaged() {
        let mut e = create();
        e["RequestType"] = json!("Import");
        let r = parse(&e).unwrap();
        assert_eq!(r.request_type, None);
        assert!(r.malformed.unwrap().contains("RequestType 'Import'"));
    }

    #[test]
    fn no_response_url_cannot_be_answered() {
        let mut e = create();
        e.as_object_mut().unwrap().remove("ResponseURL");
        assert!(matches!(
            parse(&e),
            Err(UnanswerableRequest::NoResponseUrl(_))
        ));
        assert!(parse(&json!("hello")).is_err());
    }
}
