//! Parsing CloudFormation's request, tolerantly.
//!
//! A request that is malformed but carries a usable `ResponseURL` must still be
//! answered, or the stack hangs for an hour. So parsing starts from the raw
//! invocation bytes: JSON that serde_json refuses is walked member by member
//! (see `tolerant`); then the typed form from `aws_lambda_events` is tried, and
//! failing that whatever fields are there are salvaged, and each field that is
//! missing, mistyped or unreadable is named, for a FAILED answer. Echoed
//! fields are bounded, so the answer always fits CloudFormation's limit.

use aws_lambda_events::event::cloudformation::CloudFormationCustomResourceRequest;
use serde_json::Value;
use thiserror::Error;

use super::tolerant;

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

/// A request, as far as it could be read. Its `Debug` form leaves out the
/// ResponseURL's query (the presigned signature).
#[derive(Clone)]
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
    pub malformed: Option<Malformed>,
}

/// Why a request cannot be acted on: how it went wrong, and every field
/// found missing, mistyped, unreadable or too long. Its `Display` is the
/// Reason, written once, here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// What went wrong as a whole.
    pub cause: Cause,
    /// Each field's problem, in the order found.
    pub problems: Vec<Problem>,
}

/// What went wrong with a malformed request as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// Some fields are not what CloudFormation sends (see the problems).
    Fields,
    /// Every field looks right, yet the typed parse failed.
    WrongType,
    /// Reading the request panicked (a bug); the message is the panic's.
    Panicked(String),
}

/// One field of a request that is not what CloudFormation sends, shaped
/// `{ field, kind }` so that code compares problems, never their wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The event's field, as CloudFormation names it (`ResponseURL`, ...).
    pub field: String,
    /// What is wrong with it.
    pub kind: ProblemKind,
}

/// What is wrong with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// Missing, or of another JSON type than expected.
    Is(Found),
    /// Its JSON could not be read; the parser's message.
    Unreadable(String),
    /// A `RequestType` other than the three (cut short to quote it).
    UnknownRequestType(String),
    /// Longer than CloudFormation ever sends; echoed cut to `limit` bytes.
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The most CloudFormation sends.
        limit: usize,
    },
    /// The event as a whole is not valid JSON; the parser's message.
    NotJson(String),
}

/// What was found where a field was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Nothing.
    Missing,
    /// `null`.
    Null,
    /// A value of another JSON type, named as every Reason names JSON
    /// types ("a list", "a map", ...).
    Other(&'static str),
}

impl Found {
    /// What `value` is.
    fn of(value: Option<&Value>) -> Self {
        match value {
            None => Self::Missing,
            Some(Value::Null) => Self::Null,
            Some(other) => Self::Other(crate::input::kind(other)),
        }
    }
}

impl Problem {
    fn new(field: &str, kind: ProblemKind) -> Self {
        Self {
            field: field.to_owned(),
            kind,
        }
    }

    /// `field` is missing, or of another type than expected.
    fn is(field: &str, value: Option<&Value>) -> Self {
        Self::new(field, ProblemKind::Is(Found::of(value)))
    }
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing => f.write_str("missing"),
            Self::Null => f.write_str("null"),
            Self::Other(kind) => write!(f, "{kind}, not the expected type"),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let field = &self.field;
        match &self.kind {
            ProblemKind::Is(found) => write!(f, "{field} is {found}"),
            ProblemKind::Unreadable(e) => write!(
                f,
                "{field} could not be read ({e}); CloudFormation never sends such an event, so check what invoked the provider"
            ),
            ProblemKind::UnknownRequestType(t) => {
                write!(f, "{field} '{t}' is not Create, Update or Delete")
            }
            ProblemKind::TooLong { len, limit } => write!(
                f,
                "{field} is {len} bytes, longer than CloudFormation sends (at most {limit}); it is echoed cut short"
            ),
            ProblemKind::NotJson(e) => write!(f, "the event is not valid JSON ({e})"),
        }
    }
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.cause {
            Cause::Fields => f.write_str("malformed request: ")?,
            Cause::WrongType => f.write_str(
                "malformed request: a field has the wrong type (every field but the properties must be a string)",
            )?,
            Cause::Panicked(panic) => write!(
                f,
                "internal error: the provider panicked while reading the request ({panic}); this is a bug, please report it"
            )?,
        }
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 || self.cause != Cause::Fields {
                f.write_str(", ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = self
            .response_url
            .split_once('?')
            .map_or(self.response_url.as_str(), |(before, _)| before);
        f.debug_struct("Request")
            .field("request_type", &self.request_type)
            .field("request_id", &self.request_id)
            .field("stack_id", &self.stack_id)
            .field("logical_resource_id", &self.logical_resource_id)
            .field("response_url", &format_args!("{url}?<redacted>"))
            .field("physical_resource_id", &self.physical_resource_id)
            .field("properties", &self.properties)
            .field("old_properties", &self.old_properties)
            .field("malformed", &self.malformed)
            .finish()
    }
}

impl Request {
    /// Reads a request from the raw invocation bytes, however malformed:
    /// what serde_json refuses is walked tolerantly, so an intact
    /// `ResponseURL` is always found. Only a request with no ResponseURL to
    /// answer at is an error; any other problem is kept in
    /// [`Request::malformed`] and answered FAILED.
    pub fn from_bytes(raw: &[u8]) -> Result<Self, UnanswerableRequest> {
        match serde_json::from_slice::<Value>(raw) {
            Ok(event) => parse(&event),
            Err(whole) => salvage_bytes(raw, &whole),
        }
    }
}

/// A request that cannot be answered at all.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum UnanswerableRequest {
    /// No ResponseURL, so there is nowhere to send an answer.
    #[error("the event has no ResponseURL, so no response can be sent ({0})")]
    NoResponseUrl(String),
}

/// The longest echoed fields CloudFormation sends, with room to spare: a
/// stack ARN is under 300 bytes, a RequestId is a UUID, a logical id is at
/// most 255 characters and a physical id at most 1 KB. A longer field cannot
/// come from CloudFormation; it is cut (and the request answered FAILED), so
/// the response body always fits.
pub const ECHO_LIMITS: [(&str, usize); 4] = [
    ("StackId", 1024),
    ("RequestId", 256),
    ("LogicalResourceId", 255),
    ("PhysicalResourceId", 1024),
];

/// Reads a request from the parsed event.
fn parse(event: &Value) -> Result<Request, UnanswerableRequest> {
    let typed = serde_json::from_value::<CloudFormationCustomResourceRequest>(event.clone());
    // The typed form takes any JSON as properties; salvaging names the field.
    let typed = typed
        .ok()
        .and_then(from_typed)
        .filter(|r| r.properties.is_object());
    let mut request = match typed {
        Some(r) => r,
        None => salvage(event, Vec::new())?,
    };
    bound_echo(&mut request);
    Ok(request)
}

/// Cuts echoed fields longer than CloudFormation ever sends, naming them.
fn bound_echo(request: &mut Request) {
    let mut problems = Vec::new();
    for (name, limit) in ECHO_LIMITS {
        let field = match name {
            "StackId" => Some(&mut request.stack_id),
            "RequestId" => Some(&mut request.request_id),
            "LogicalResourceId" => Some(&mut request.logical_resource_id),
            _ => request.physical_resource_id.as_mut(),
        };
        if let Some(value) = field
            && value.len() > limit
        {
            let len = value.len();
            problems.push(Problem::new(name, ProblemKind::TooLong { len, limit }));
            let mut end = limit;
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            value.truncate(end);
        }
    }
    if !problems.is_empty() {
        match &mut request.malformed {
            Some(malformed) => malformed.problems.extend(problems),
            None => {
                request.malformed = Some(Malformed {
                    cause: Cause::Fields,
                    problems,
                });
            }
        }
    }
}

/// The event is not JSON serde_json accepts: read each top-level member on
/// its own, keep those that read, and name those that did not.
fn salvage_bytes(raw: &[u8], whole: &serde_json::Error) -> Result<Request, UnanswerableRequest> {
    let Some(members) = tolerant::members(raw) else {
        return Err(UnanswerableRequest::NoResponseUrl(format!(
            "the event is not a JSON object ({whole})"
        )));
    };
    let mut event = serde_json::Map::new();
    let mut problems = Vec::new();
    for member in members {
        match serde_json::from_slice::<Value>(member.value) {
            Ok(value) => {
                event.insert(member.key, value);
            }
            Err(e) => {
                problems.push(Problem::new(
                    &member.key,
                    ProblemKind::Unreadable(e.to_string()),
                ));
                // Echoed fields are kept as well as they can be read; the
                // ResponseURL is not, since a mangled URL is not the one given.
                if member.key != "ResponseURL"
                    && let Some(text) = tolerant::lossy_string(member.value)
                {
                    event.insert(member.key, Value::String(text));
                }
            }
        }
    }
    if problems.is_empty() {
        problems.push(Problem::new("", ProblemKind::NotJson(whole.to_string())));
    }
    let mut request = salvage(&Value::Object(event), problems)?;
    bound_echo(&mut request);
    Ok(request)
}

/// The fields needed to answer FAILED, read the plainest way: used only when
/// reading the request properly panicked (a bug), so the stack still hears.
pub(crate) fn essentials(raw: &[u8], panic: &str) -> Option<Request> {
    let members = tolerant::members(raw)?;
    let find = |key: &str| members.iter().rev().find(|m| m.key == key).map(|m| m.value);
    let strict = |key: &str| find(key).and_then(|v| serde_json::from_slice::<String>(v).ok());
    let lossy = |key: &str| find(key).and_then(tolerant::lossy_string);
    let response_url = strict("ResponseURL").filter(|u| !u.is_empty())?;
    let request_type = match strict("RequestType").as_deref() {
        Some("Create") => Some(RequestType::Create),
        Some("Update") => Some(RequestType::Update),
        Some("Delete") => Some(RequestType::Delete),
        _ => None,
    };
    let mut request = Request {
        request_type,
        request_id: lossy("RequestId").unwrap_or_default(),
        stack_id: lossy("StackId").unwrap_or_default(),
        logical_resource_id: lossy("LogicalResourceId").unwrap_or_default(),
        response_url,
        physical_resource_id: lossy("PhysicalResourceId"),
        properties: Value::Null,
        old_properties: None,
        malformed: Some(Malformed {
            cause: Cause::Panicked(panic.to_owned()),
            problems: Vec::new(),
        }),
    };
    bound_echo(&mut request);
    Some(request)
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

fn salvage(event: &Value, mut problems: Vec<Problem>) -> Result<Request, UnanswerableRequest> {
    let response_url = salvage_response_url(event, &problems)?;
    let request_type = salvage_request_type(event, &mut problems);
    let mut required = |key: &str| match event.get(key) {
        Some(Value::String(s)) => s.clone(),
        other => {
            problems.push(Problem::is(key, other));
            String::new()
        }
    };
    let request_id = required("RequestId");
    let stack_id = required("StackId");
    let logical_resource_id = required("LogicalResourceId");
    required("ResourceType");
    let physical_resource_id = event
        .get("PhysicalResourceId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    // An Update must name the resource it changes. A Delete without one (a
    // Create whose answer never arrived) is still a Delete: it succeeds, and
    // is answered with the failed-Create marker.
    if request_type == Some(RequestType::Update) && physical_resource_id.is_none() {
        problems.push(Problem::is(
            "PhysicalResourceId",
            event.get("PhysicalResourceId"),
        ));
    }
    let properties = match event.get("ResourceProperties") {
        Some(p @ Value::Object(_)) => p.clone(),
        other => {
            problems.push(Problem::is("ResourceProperties", other));
            other.cloned().unwrap_or(Value::Null)
        }
    };
    let old_properties = event.get("OldResourceProperties").cloned();
    if request_type == Some(RequestType::Update)
        && !old_properties.as_ref().is_some_and(Value::is_object)
    {
        problems.push(Problem::is(
            "OldResourceProperties",
            old_properties.as_ref(),
        ));
    }
    if let Some(token) = event.get("ServiceToken")
        && !token.is_string()
    {
        problems.push(Problem::is("ServiceToken", Some(token)));
    }
    drop_missing_where_unreadable(&mut problems);
    // The typed parse wants a PhysicalResourceId on every Delete; a Delete
    // that follows a Create whose answer never arrived has none, and is
    // well-formed all the same.
    let id_less_delete =
        request_type == Some(RequestType::Delete) && physical_resource_id.is_none();
    let malformed = match (problems.is_empty(), id_less_delete) {
        (true, true) => None,
        // Every field looks right, yet the typed parse failed: say so plainly.
        (true, false) => Some(Malformed {
            cause: Cause::WrongType,
            problems,
        }),
        (false, _) => Some(Malformed {
            cause: Cause::Fields,
            problems,
        }),
    };
    Ok(Request {
        request_type,
        request_id,
        stack_id,
        logical_resource_id,
        response_url,
        physical_resource_id,
        properties,
        old_properties,
        malformed,
    })
}

/// The ResponseURL, or why there is none to answer at.
fn salvage_response_url(
    event: &Value,
    problems: &[Problem],
) -> Result<String, UnanswerableRequest> {
    if let Some(url) = event
        .get("ResponseURL")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
    {
        return Ok(url.to_owned());
    }
    let what = if !event.is_object() {
        "the event is not a JSON object".to_owned()
    } else if let Some(unreadable) = problems.iter().find(|p| p.field == "ResponseURL") {
        unreadable.to_string()
    } else {
        Problem::is("ResponseURL", event.get("ResponseURL")).to_string()
    };
    Err(UnanswerableRequest::NoResponseUrl(what))
}

/// The request type, or `None` with the problem noted.
fn salvage_request_type(event: &Value, problems: &mut Vec<Problem>) -> Option<RequestType> {
    match event.get("RequestType") {
        Some(Value::String(t)) => match t.as_str() {
            "Create" => Some(RequestType::Create),
            "Update" => Some(RequestType::Update),
            "Delete" => Some(RequestType::Delete),
            other => {
                problems.push(Problem::new(
                    "RequestType",
                    ProblemKind::UnknownRequestType(super::response::truncate(other, 64)),
                ));
                None
            }
        },
        other => {
            problems.push(Problem::is("RequestType", other));
            None
        }
    }
}

/// A field already named as unreadable is not also "missing".
fn drop_missing_where_unreadable(problems: &mut Vec<Problem>) {
    let unreadable: Vec<String> = problems
        .iter()
        .filter(|p| matches!(p.kind, ProblemKind::Unreadable(_)))
        .map(|p| p.field.clone())
        .collect();
    problems.retain(|p| !(matches!(p.kind, ProblemKind::Is(_)) && unreadable.contains(&p.field)));
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
        let malformed = r.malformed.unwrap();
        assert_eq!(
            malformed.problems,
            [
                Problem::new("RequestId", ProblemKind::Is(Found::Missing)),
                Problem::new("StackId", ProblemKind::Is(Found::Missing)),
            ]
        );
        assert_eq!(
            malformed.to_string(),
            "malformed request: RequestId is missing, StackId is missing"
        );
    }

    #[test]
    fn unknown_request_type_is_salvaged() {
        let mut e = create();
        e["RequestType"] = json!("Import");
        let r = parse(&e).unwrap();
        assert_eq!(r.request_type, None);
        let malformed = r.malformed.unwrap();
        assert_eq!(
            malformed.problems,
            [Problem::new(
                "RequestType",
                ProblemKind::UnknownRequestType("Import".into())
            )]
        );
        assert!(malformed.to_string().contains("RequestType 'Import'"));
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
    #[test]
    fn the_essentials_are_read_even_when_the_rest_is_not() {
        let raw = br#"{"RequestType": "Update", "ResponseURL": "https://x.s3.amazonaws.com/r?sig=1", "RequestId": "r\ud800", "StackId": "s", "LogicalResourceId": "L", "PhysicalResourceId": "p", "ResourceProperties": 1e400}"#;
        let r = essentials(raw, "boom").unwrap();
        assert_eq!(r.response_url, "https://x.s3.amazonaws.com/r?sig=1");
        assert_eq!(r.request_type, Some(RequestType::Update));
        assert_eq!(r.request_id, "r\u{fffd}");
        assert_eq!(r.physical_resource_id.as_deref(), Some("p"));
        let malformed = r.malformed.unwrap();
        assert_eq!(malformed.cause, Cause::Panicked("boom".into()));
        assert!(
            malformed
                .to_string()
                .contains("panicked while reading the request (boom)")
        );
        assert!(essentials(br#"{"RequestId": "r"}"#, "boom").is_none());
    }

    #[test]
    fn refused_json_is_salvaged_naming_the_unreadable_field() {
        let raw = br#"{"RequestType": "Create", "ResponseURL": "https://x.s3.amazonaws.com/r?sig=1", "RequestId": "r", "StackId": "s", "LogicalResourceId": "L", "ResourceType": "Custom::X", "ResourceProperties": {"Region": 1e400}}"#;
        let r = Request::from_bytes(raw).unwrap();
        assert_eq!(r.request_id, "r");
        let malformed = r.malformed.unwrap();
        assert!(
            matches!(&malformed.problems[..], [Problem { field, kind: ProblemKind::Unreadable(_) }] if field == "ResourceProperties"),
            "{malformed:?}"
        );
        let why = malformed.to_string();
        assert!(
            why.starts_with(
                "malformed request: ResourceProperties could not be read (number out of range"
            ),
            "{why}"
        );
        assert!(!why.contains("ResourceProperties is missing"), "{why}");
    }

    #[test]
    fn a_debug_print_never_shows_the_signature() {
        let r = parse(&create()).unwrap();
        let shown = format!("{r:?}");
        assert!(!shown.contains("sig=1"), "{shown}");
        assert!(shown.contains("https://example.s3.amazonaws.com/x?<redacted>"));
    }
}
