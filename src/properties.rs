//! The resource's properties, parsed and validated before anything is called.
//!
//! CloudFormation hands every property over as a string (`"true"`, `"42"`), so
//! this module owns turning that loose JSON into typed values. It collects every
//! problem it finds rather than stopping at the first, so one failed deploy
//! tells the user everything to fix.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};
use thiserror::Error;

/// Properties the provider understands, in the order they are documented.
pub const KNOWN_PROPERTIES: &[&str] = &[
    "Region",
    "ParameterName",
    "Parameters",
    "ParametersPath",
    "Recursive",
    "WithDecryption",
    "FunctionName",
    "Qualifier",
    "EdgeEventType",
    "StackName",
    "RoleArn",
    "ExternalId",
    "NoEcho",
    "Refresh",
];

/// Properties that belong to CloudFormation itself; accepted and ignored.
const CLOUDFORMATION_PROPERTIES: &[&str] = &["ServiceToken", "ServiceTimeout"];

/// Properties that never take part in resolution or in the physical id.
pub(crate) const IGNORED_FOR_IDENTITY: &[&str] = &["ServiceToken", "ServiceTimeout", "Refresh"];

/// Data keys the `ParameterName` source fills.
pub const PARAMETER_NAME_KEYS: &[&str] = &["Value", "ParameterVersion"];
/// Data keys the `FunctionName` source fills.
pub const FUNCTION_KEYS: &[&str] = &["VersionArn", "Version", "FunctionArn", "CodeSha256"];

/// Every problem found in a resource's properties.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub struct PropertiesError {
    /// One sentence per problem, each naming the property.
    pub problems: Vec<String>,
}

impl fmt::Display for PropertiesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = if self.problems.len() == 1 {
            "problem"
        } else {
            "problems"
        };
        write!(
            f,
            "invalid properties ({} {noun}): {}",
            self.problems.len(),
            self.problems.join("; ")
        )
    }
}

/// Which version of an SSM parameter to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `name:3`
    Version(u64),
    /// `name:prod`
    Label(String),
}

/// An SSM parameter reference: `name`, `name:VERSION` or `name:LABEL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterRef {
    /// The parameter's name (or ARN), without selector.
    pub name: String,
    /// The version or label, if one was given.
    pub selector: Option<Selector>,
}

impl ParameterRef {
    /// The string SSM expects: the name with its selector, as the user wrote it.
    pub fn request_name(&self) -> String {
        match &self.selector {
            None => self.name.clone(),
            Some(Selector::Version(v)) => format!("{}:{v}", self.name),
            Some(Selector::Label(l)) => format!("{}:{l}", self.name),
        }
    }

    /// Parses `name[:VERSION|:LABEL]`, ARN names included.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("the parameter name is empty".to_owned());
        }
        // An ARN carries five colons of its own before the resource part.
        let (name, selector) = if raw.starts_with("arn:") {
            let parts: Vec<&str> = raw.splitn(7, ':').collect();
            if parts.len() < 6 || !parts[5].starts_with("parameter/") {
                return Err(format!(
                    "'{raw}' is not an SSM parameter ARN (expected arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME)"
                ));
            }
            let name = parts[..6].join(":");
            (name, parts.get(6).copied())
        } else {
            match raw.rsplit_once(':') {
                Some((n, s)) => (n.to_owned(), Some(s)),
                None => (raw.to_owned(), None),
            }
        };
        validate_parameter_name(&name)?;
        let selector = match selector {
            None => None,
            Some(s) => Some(parse_selector(&name, s)?),
        };
        Ok(Self { name, selector })
    }
}

impl fmt::Display for ParameterRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.request_name())
    }
}

fn validate_parameter_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the parameter name before ':' is empty".to_owned());
    }
    if name.starts_with("arn:") {
        return Ok(());
    }
    if name.len() > 1011 {
        return Err(format!(
            "parameter name '{name}' is longer than SSM's 1011 characters"
        ));
    }
    let ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'));
    if !ok {
        return Err(format!(
            "parameter name '{name}' may only contain letters, digits and _ . - /"
        ));
    }
    if name.contains("//") || (name.contains('/') && !name.starts_with('/')) {
        return Err(format!(
            "parameter name '{name}' is not a valid hierarchy (it must start with '/' and have no empty segment)"
        ));
    }
    Ok(())
}

fn parse_selector(name: &str, s: &str) -> Result<Selector, String> {
    if s.is_empty() {
        return Err(format!(
            "'{name}:' has an empty selector; write '{name}', '{name}:VERSION' or '{name}:LABEL'"
        ));
    }
    if s.chars().all(|c| c.is_ascii_digit()) {
        return match s.parse::<u64>() {
            Ok(v) if v > 0 => Ok(Selector::Version(v)),
            _ => Err(format!("'{name}:{s}': parameter versions start at 1")),
        };
    }
    let valid_chars = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    let lower = s.to_ascii_lowercase();
    if !valid_chars
        || s.len() > 100
        || s.starts_with(|c: char| c.is_ascii_digit())
        || lower.starts_with("aws")
        || lower.starts_with("ssm")
    {
        return Err(format!(
            "'{name}:{s}': '{s}' is neither a version number nor a valid label (labels: up to 100 letters, digits, . - _, not starting with a digit, 'aws' or 'ssm')"
        ));
    }
    Ok(Selector::Label(s.to_owned()))
}

/// A Lambda@Edge trigger, as named in CloudFront.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeEventType {
    /// `viewer-request`
    ViewerRequest,
    /// `viewer-response`
    ViewerResponse,
    /// `origin-request`
    OriginRequest,
    /// `origin-response`
    OriginResponse,
}

impl EdgeEventType {
    const ALL: [(&'static str, EdgeEventType); 4] = [
        ("viewer-request", Self::ViewerRequest),
        ("viewer-response", Self::ViewerResponse),
        ("origin-request", Self::OriginRequest),
        ("origin-response", Self::OriginResponse),
    ];

    /// The name CloudFront uses.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, e)| *e == self)
            .map_or("viewer-request", |(n, _)| n)
    }

    /// Viewer triggers have tighter limits than origin triggers.
    pub fn is_viewer(self) -> bool {
        matches!(self, Self::ViewerRequest | Self::ViewerResponse)
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, e)| *e)
    }
}

/// `FunctionName` with its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    /// Name, partial ARN or full ARN.
    pub name: String,
    /// Alias name or version number.
    pub qualifier: Option<String>,
    /// Check the version can serve as Lambda@Edge for this trigger.
    pub edge_event_type: Option<EdgeEventType>,
}

/// `RoleArn` with its options.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleSpec {
    /// The role to assume before reading.
    pub arn: String,
    /// The external id the role's trust policy expects.
    pub external_id: Option<String>,
}

/// A resource's validated properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceProperties {
    /// Where the values live.
    pub region: String,
    /// `ParameterName`.
    pub parameter_name: Option<ParameterRef>,
    /// `Parameters`: Data key → parameter.
    pub parameters: BTreeMap<String, ParameterRef>,
    /// `ParametersPath`.
    pub parameters_path: Option<String>,
    /// `Recursive` (default true).
    pub recursive: bool,
    /// `WithDecryption` (default false).
    pub with_decryption: bool,
    /// `FunctionName` and friends.
    pub function: Option<FunctionSpec>,
    /// `StackName`.
    pub stack_name: Option<String>,
    /// `RoleArn` and `ExternalId`.
    pub role: Option<RoleSpec>,
    /// `NoEcho` (default false).
    pub no_echo: bool,
}

impl ResourceProperties {
    /// Parses and validates `ResourceProperties` from a request.
    pub fn parse(value: &Value) -> Result<Self, PropertiesError> {
        let empty = Map::new();
        let (map, mut problems) = match value {
            Value::Object(map) => (map, Vec::new()),
            Value::Null => (&empty, Vec::new()),
            other => (
                &empty,
                vec![format!(
                    "ResourceProperties must be an object, got {}",
                    kind(other)
                )],
            ),
        };
        let mut p = Parser {
            map,
            problems: &mut problems,
        };

        let unknown: Vec<&String> = map
            .keys()
            .filter(|k| {
                !KNOWN_PROPERTIES.contains(&k.as_str())
                    && !CLOUDFORMATION_PROPERTIES.contains(&k.as_str())
            })
            .collect();
        for key in unknown {
            let hint = closest(key)
                .map(|c| format!(" (did you mean '{c}'?)"))
                .unwrap_or_default();
            p.problem(format!(
                "unknown property '{key}'{hint}; known properties: {}",
                KNOWN_PROPERTIES.join(", ")
            ));
        }

        let region = match p.string("Region") {
            None if map.contains_key("Region") => None,
            None => {
                p.problem(
                    "Region is required: the AWS region the values live in, e.g. us-east-1"
                        .to_owned(),
                );
                None
            }
            Some(r) if is_region_code(&r) => Some(r),
            Some(r) => {
                p.problem(format!(
                    "Region '{r}' is not an AWS region code (e.g. us-east-1, ap-northeast-1)"
                ));
                None
            }
        };

        let parameter_name =
            p.string("ParameterName")
                .and_then(|raw| match ParameterRef::parse(&raw) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        p.problem(format!("ParameterName: {e}"));
                        None
                    }
                });

        let parameters = p.parameter_map();

        let parameters_path = p.string("ParametersPath").and_then(|path| {
            let ok = path.starts_with('/')
                && !path.contains("//")
                && path
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'));
            if ok {
                Some(path)
            } else {
                p.problem(format!(
                    "ParametersPath '{path}' must be a hierarchy starting with '/', e.g. /myapp/"
                ));
                None
            }
        });
        let recursive = p.boolean("Recursive").unwrap_or(true);
        if map.contains_key("Recursive") && !map.contains_key("ParametersPath") {
            p.problem("Recursive only applies to ParametersPath, which is not set".to_owned());
        }
        let with_decryption = p.boolean("WithDecryption").unwrap_or(false);

        let function_name = p.string("FunctionName");
        let qualifier = p.string("Qualifier");
        if let Some(q) = &qualifier {
            let ok = q == "$LATEST"
                || (!q.is_empty()
                    && q.len() <= 128
                    && q.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')));
            if !ok {
                p.problem(format!(
                    "Qualifier '{q}' must be a version number or an alias name"
                ));
            }
        }
        let edge_event_type = p.string("EdgeEventType").and_then(|e| match EdgeEventType::parse(&e) {
            Some(t) => Some(t),
            None => {
                p.problem(format!(
                    "EdgeEventType '{e}' must be one of viewer-request, viewer-response, origin-request, origin-response"
                ));
                None
            }
        });
        for dependent in ["Qualifier", "EdgeEventType"] {
            if map.contains_key(dependent) && !map.contains_key("FunctionName") {
                p.problem(format!(
                    "{dependent} only applies to FunctionName, which is not set"
                ));
            }
        }
        let function = function_name.map(|name| FunctionSpec {
            name,
            qualifier,
            edge_event_type,
        });

        let stack_name = p.string("StackName").and_then(|s| {
            let ok = s.starts_with("arn:")
                || (s.len() <= 128
                    && s.starts_with(|c: char| c.is_ascii_alphabetic())
                    && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
            if ok {
                Some(s)
            } else {
                p.problem(format!(
                    "StackName '{s}' is not a stack name (letters, digits and '-', starting with a letter) or stack ARN"
                ));
                None
            }
        });

        let role_arn = p.string("RoleArn");
        let external_id = p.string("ExternalId");
        if let Some(arn) = &role_arn
            && !(arn.starts_with("arn:") && arn.contains(":iam::") && arn.contains(":role/"))
        {
            p.problem(format!(
                "RoleArn '{arn}' is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
            ));
        }
        if let Some(id) = &external_id {
            if id.len() < 2 || id.len() > 1224 {
                p.problem("ExternalId must be 2 to 1224 characters long".to_owned());
            }
            if role_arn.is_none() {
                p.problem("ExternalId only applies to RoleArn, which is not set".to_owned());
            }
        }
        let role = role_arn.map(|arn| RoleSpec { arn, external_id });

        let no_echo = p.boolean("NoEcho").unwrap_or(false);
        // Refresh: any value at all; it only exists to change the properties.

        let has_source = parameter_name.is_some()
            || !parameters.is_empty()
            || parameters_path.is_some()
            || function.is_some()
            || stack_name.is_some();
        let source_given = [
            "ParameterName",
            "Parameters",
            "ParametersPath",
            "FunctionName",
            "StackName",
        ]
        .iter()
        .any(|k| map.contains_key(*k));
        if !has_source && !source_given {
            p.problem(
                "no source: set at least one of ParameterName, Parameters, ParametersPath, FunctionName, StackName"
                    .to_owned(),
            );
        }

        // Keys known before any call must not collide.
        let mut owners: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        if parameter_name.is_some() {
            for k in PARAMETER_NAME_KEYS {
                owners.entry(k).or_default().push("ParameterName");
            }
        }
        if function.is_some() {
            for k in FUNCTION_KEYS {
                owners.entry(k).or_default().push("FunctionName");
            }
        }
        for key in parameters.keys() {
            owners.entry(key).or_default().push("Parameters");
        }
        for (key, sources) in owners {
            if sources.len() > 1 {
                p.problem(format!(
                    "Data key '{key}' would be set by both {}; rename the key in Parameters",
                    sources.join(" and ")
                ));
            }
        }

        if !problems.is_empty() {
            return Err(PropertiesError { problems });
        }
        Ok(Self {
            region: region.unwrap_or_default(),
            parameter_name,
            parameters,
            parameters_path,
            recursive,
            with_decryption,
            function,
            stack_name,
            role,
            no_echo,
        })
    }

    /// Whether any SSM source is set.
    pub fn reads_ssm(&self) -> bool {
        self.parameter_name.is_some()
            || !self.parameters.is_empty()
            || self.parameters_path.is_some()
    }
}

struct Parser<'a> {
    map: &'a Map<String, Value>,
    problems: &'a mut Vec<String>,
}

impl Parser<'_> {
    fn problem(&mut self, p: String) {
        self.problems.push(p);
    }

    /// A string property. Numbers are accepted as their digits, as
    /// CloudFormation would have sent them.
    fn string(&mut self, key: &str) -> Option<String> {
        match self.map.get(key)? {
            Value::String(s) if s.trim().is_empty() => {
                self.problem(format!("{key} is empty"));
                None
            }
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            other => {
                self.problem(format!("{key} must be a string, got {}", kind(other)));
                None
            }
        }
    }

    /// `"true"` / `"false"` (any case), or a JSON boolean from a direct invoke.
    fn boolean(&mut self, key: &str) -> Option<bool> {
        match self.map.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            other => {
                self.problem(format!("{key} must be \"true\" or \"false\", got {other}"));
                None
            }
        }
    }

    fn parameter_map(&mut self) -> BTreeMap<String, ParameterRef> {
        let mut out = BTreeMap::new();
        let Some(value) = self.map.get("Parameters") else {
            return out;
        };
        let Value::Object(entries) = value else {
            self.problem(format!(
                "Parameters must be a map of DataKey: parameter-name, got {}",
                kind(value)
            ));
            return out;
        };
        if entries.is_empty() {
            self.problem("Parameters is an empty map".to_owned());
        }
        for (key, raw) in entries {
            if !is_data_key(key) {
                self.problem(format!(
                    "Parameters key '{key}' cannot be a Data key (use letters, digits, '_', '-' and '.')"
                ));
                continue;
            }
            match raw {
                Value::String(s) => match ParameterRef::parse(s) {
                    Ok(r) => {
                        out.insert(key.clone(), r);
                    }
                    Err(e) => self.problem(format!("Parameters.{key}: {e}")),
                },
                other => self.problem(format!(
                    "Parameters.{key} must be a parameter name string, got {}",
                    kind(other)
                )),
            }
        }
        out
    }
}

/// Data keys are read with `!GetAtt Resource.Key`; keep them to characters
/// that survive that syntax.
fn is_data_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 255
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Whether `s` has the shape of an AWS region code (`us-east-1`,
/// `us-gov-west-1`, `cn-north-1`, `ap-southeast-5`).
pub fn is_region_code(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() < 3 || parts.len() > 4 {
        return false;
    }
    let (last, rest) = match parts.split_last() {
        Some(x) => x,
        None => return false,
    };
    !last.is_empty()
        && last.chars().all(|c| c.is_ascii_digit())
        && parts[0].len() == 2
        && rest
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// The known property nearest to a misspelt one, when it is close enough to
/// be the likely intent.
fn closest(key: &str) -> Option<&'static str> {
    let lower = key.to_ascii_lowercase();
    KNOWN_PROPERTIES
        .iter()
        .map(|k| (edit_distance(&lower, &k.to_ascii_lowercase()), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(v: Value) -> Vec<String> {
        ResourceProperties::parse(&v).unwrap_err().problems
    }

    #[test]
    fn minimal_parameter_name_parses() {
        let p = ResourceProperties::parse(&json!({
            "ServiceToken": "arn:aws:lambda:ap-northeast-1:123456789012:function:crp",
            "Region": "us-east-1",
            "ParameterName": "/myapp/edge-arn",
            "Refresh": "2026-11-23"
        }))
        .unwrap();
        assert_eq!(p.region, "us-east-1");
        assert_eq!(p.parameter_name.unwrap().request_name(), "/myapp/edge-arn");
        assert!(p.recursive);
        assert!(!p.with_decryption);
    }

    #[test]
    fn string_booleans_are_read_case_insensitively() {
        let p = ResourceProperties::parse(&json!({
            "Region": "us-east-1", "ParametersPath": "/a/", "Recursive": "False",
            "WithDecryption": "TRUE", "NoEcho": true
        }))
        .unwrap();
        assert!(!p.recursive && p.with_decryption && p.no_echo);
        assert!(
            problems(json!({"Region": "us-east-1", "ParameterName": "/a", "NoEcho": "yes"}))[0]
                .contains("NoEcho must be \"true\" or \"false\"")
        );
    }

    #[test]
    fn selectors_are_versions_or_labels() {
        assert_eq!(
            ParameterRef::parse("/a/b:12").unwrap().selector,
            Some(Selector::Version(12))
        );
        assert_eq!(
            ParameterRef::parse("/a/b:prod").unwrap().selector,
            Some(Selector::Label("prod".into()))
        );
        assert!(
            ParameterRef::parse("/a/b:")
                .unwrap_err()
                .contains("empty selector")
        );
        assert!(
            ParameterRef::parse("/a/b:0")
                .unwrap_err()
                .contains("start at 1")
        );
        assert!(
            ParameterRef::parse("/a/b:awsdefault")
                .unwrap_err()
                .contains("neither")
        );
        assert!(
            ParameterRef::parse("/a/b:pr od")
                .unwrap_err()
                .contains("neither")
        );
    }

    #[test]
    fn arn_names_keep_their_colons() {
        let r =
            ParameterRef::parse("arn:aws:ssm:us-east-1:123456789012:parameter/shared/x:3").unwrap();
        assert_eq!(
            r.name,
            "arn:aws:ssm:us-east-1:123456789012:parameter/shared/x"
        );
        assert_eq!(r.selector, Some(Selector::Version(3)));
        assert!(ParameterRef::parse("arn:aws:s3:::bucket").is_err());
    }

    #[test]
    fn misspelt_property_is_named_with_a_suggestion_and_the_known_list() {
        let p =
            problems(json!({"Region": "us-east-1", "ParameterName": "/a", "WithDecrypt": "true"}));
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("unknown property 'WithDecrypt'"));
        assert!(p[0].contains("did you mean 'WithDecryption'"));
        assert!(p[0].contains("known properties: Region, ParameterName"));
    }

    #[test]
    fn several_problems_are_reported_at_once() {
        let p = problems(json!({"Region": "mars-1", "Parameters": "x", "Bogus": "1"}));
        assert!(p.len() >= 3, "{p:?}");
        let all = p.join("|");
        assert!(all.contains("Region 'mars-1'"));
        assert!(all.contains("Parameters must be a map"));
        assert!(all.contains("unknown property 'Bogus'"));
    }

    #[test]
    fn missing_region_and_no_source_are_both_reported() {
        let p = problems(json!({}));
        assert!(p.iter().any(|x| x.starts_with("Region is required")));
        assert!(p.iter().any(|x| x.starts_with("no source")));
    }

    #[test]
    fn static_data_key_collisions_are_named() {
        let p = problems(json!({
            "Region": "us-east-1", "ParameterName": "/a",
            "FunctionName": "f", "Parameters": {"Value": "/b", "Version": "/c"}
        }));
        let all = p.join("|");
        assert!(all.contains("Data key 'Value' would be set by both ParameterName and Parameters"));
        assert!(
            all.contains("Data key 'Version' would be set by both FunctionName and Parameters")
        );
    }

    #[test]
    fn dependent_properties_need_their_owner() {
        let all = problems(json!({"Region": "us-east-1", "ParameterName": "/a", "Qualifier": "1", "ExternalId": "xyz"}))
            .join("|");
        assert!(all.contains("Qualifier only applies to FunctionName"));
        assert!(all.contains("ExternalId only applies to RoleArn"));
    }

    #[test]
    fn region_codes() {
        for ok in [
            "us-east-1",
            "ap-northeast-1",
            "us-gov-west-1",
            "cn-north-1",
            "eu-central-2",
        ] {
            assert!(is_region_code(ok), "{ok}");
        }
        for bad in ["us-east", "US-EAST-1", "useast1", "us-east-1a", "", "x-y-1"] {
            assert!(!is_region_code(bad), "{bad}");
        }
    }
}
