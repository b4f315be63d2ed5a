//! The resource's properties, parsed and validated before anything is called.
//!
//! This module reads the properties every resource shares (`Region`,
//! `RoleArn`, `ExternalId`, `NoEcho`, `Refresh`) and hands the rest to each
//! source's own parser (see [`crate::sources`]), so a source's properties live
//! with the source. It collects every problem rather than stopping at the
//! first, so one failed deploy tells the user everything to fix, and lists the
//! known properties once, after all problems.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};
use thiserror::Error;

use crate::aws::RoleToAssume;
use crate::input::{PropertyProblem, Reader, is_region_code, kind};
use crate::reason::{listed, quote};
use crate::sources::{KINDS, Source};

/// Properties every resource may set, whatever its sources.
const COMMON_LEADING: &[&str] = &["Region"];
const COMMON_TRAILING: &[&str] = &["RoleArn", "ExternalId", "NoEcho", REFRESH];

/// Properties that belong to CloudFormation itself; accepted and ignored.
const CLOUDFORMATION_PROPERTIES: &[&str] = &["ServiceToken", "ServiceTimeout"];

/// The property that only forces an update, never an input.
const REFRESH: &str = "Refresh";

/// How many bytes the list of problems may take in a Reason; the known
/// properties follow it, and must not be cut off.
const PROBLEMS_BUDGET: usize = 2400;

/// Keys longer than this get no "did you mean" (no known name is that long).
const SUGGEST_MAX: usize = 64;

/// The shortest and longest role ARN STS accepts.
const ROLE_ARN_LEN: (usize, usize) = (20, 2048);
/// The shortest and longest ExternalId STS accepts.
const EXTERNAL_ID_LEN: (usize, usize) = (2, 1224);

/// Properties the provider understands, in the order they are documented.
pub fn known_properties() -> Vec<&'static str> {
    COMMON_LEADING
        .iter()
        .chain(KINDS.iter().flat_map(|k| k.properties))
        .chain(COMMON_TRAILING)
        .copied()
        .collect()
}

/// Every problem found in a resource's properties.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub struct PropertiesError {
    /// One problem per entry, each naming its property.
    pub problems: Vec<PropertyProblem>,
    /// Whether a property was not recognised (the known ones are then listed once).
    pub unknown: bool,
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
            listed(&self.problems, "; ", PROBLEMS_BUDGET)
        )?;
        if self.unknown {
            write!(f, "; known properties: {}", known_properties().join(", "))?;
        }
        Ok(())
    }
}

/// A resource's validated properties: the shared ones, and one typed
/// source per source the resource uses.
#[derive(Debug, Clone)]
pub struct ResourceProperties {
    /// Where the values live.
    pub region: String,
    /// `RoleArn` and `ExternalId`.
    pub role: Option<RoleToAssume>,
    /// `NoEcho` (default false).
    pub no_echo: bool,
    /// The sources to read, in [`KINDS`] order.
    pub(crate) sources: Vec<Arc<dyn Source>>,
}

impl ResourceProperties {
    /// Parses and validates `ResourceProperties` from a request.
    pub fn parse(value: &Value) -> Result<Self, PropertiesError> {
        let empty = Map::new();
        let (map, shape_problem) = match value {
            Value::Object(map) => (map, None),
            Value::Null => (&empty, None),
            other => (
                &empty,
                Some(format!(
                    "ResourceProperties must be an object, got {}",
                    kind(other)
                )),
            ),
        };
        let mut r = Reader::new(map);
        if let Some(problem) = shape_problem {
            r.problem("ResourceProperties", problem);
        }
        let unknown = unknown_properties(&mut r);
        let region = region(&mut r);
        r.set_region(region.clone());
        let sources: Vec<Arc<dyn Source>> =
            KINDS.iter().filter_map(|k| (k.parse)(&mut r)).collect();
        let role = role(&mut r);
        let no_echo = r.boolean("NoEcho").unwrap_or(false);
        // Refresh: any value at all; it only exists to change the properties.
        no_source(&mut r);
        collisions(&mut r, &sources);

        if r.has_problems() {
            return Err(PropertiesError {
                problems: r.into_problems(),
                unknown,
            });
        }
        Ok(Self {
            region: region.unwrap_or_default(),
            role,
            no_echo,
            sources,
        })
    }

    /// Every Data key the resource asks for by name (those of a path or a
    /// stack's outputs are known only once read).
    pub fn data_key_names(&self) -> Vec<String> {
        self.sources
            .iter()
            .flat_map(|s| s.data_keys())
            .map(|(key, _)| key)
            .collect()
    }

    /// Whether the property `name` can change what resolves: CloudFormation's
    /// own properties and `Refresh` cannot (changing them re-resolves, but
    /// never replaces the resource by itself).
    pub fn is_input(name: &str) -> bool {
        name != REFRESH && !CLOUDFORMATION_PROPERTIES.contains(&name)
    }

    /// The resource's inputs in canonical form, for the physical id: typed
    /// values in a fixed order, so neither the template's key order nor the
    /// spelling of a boolean changes it. `Refresh`, `ServiceToken` and
    /// `ServiceTimeout` are not inputs.
    pub fn canonical_inputs(&self) -> Vec<String> {
        let mut out = vec![format!("Region={}", self.region)];
        for source in &self.sources {
            out.extend(source.inputs());
        }
        if let Some(role) = &self.role {
            out.push(format!("RoleArn={}", role.arn));
            out.extend(role.external_id.iter().map(|id| format!("ExternalId={id}")));
        }
        out.push(format!("NoEcho={}", self.no_echo));
        out
    }
}

/// Names every property that is not known, with the nearest known one.
fn unknown_properties(r: &mut Reader<'_>) -> bool {
    let known = known_properties();
    let unknown: Vec<&String> = r
        .keys()
        .filter(|k| {
            !known.contains(&k.as_str()) && !CLOUDFORMATION_PROPERTIES.contains(&k.as_str())
        })
        .collect();
    for key in &unknown {
        let hint = closest(key, &known)
            .map(|c| format!(" (did you mean '{c}'?)"))
            .unwrap_or_default();
        r.problem(key, format!("unknown property '{}'{hint}", quote(key)));
    }
    !unknown.is_empty()
}

fn region(r: &mut Reader<'_>) -> Option<String> {
    match r.string("Region", usize::MAX) {
        None if r.has("Region") => None,
        None => {
            r.problem(
                "Region",
                "Region is required: the AWS region the values live in, e.g. us-east-1".to_owned(),
            );
            None
        }
        Some(region) if is_region_code(&region) => Some(region),
        Some(region) => {
            r.problem(
                "Region",
                format!(
                    "Region '{}' is not an AWS region code (e.g. us-east-1, ap-northeast-1)",
                    quote(&region)
                ),
            );
            None
        }
    }
}

fn role(r: &mut Reader<'_>) -> Option<RoleToAssume> {
    let arn = r.string("RoleArn", ROLE_ARN_LEN.1);
    if let Some(arn) = &arn
        && !(arn.len() >= ROLE_ARN_LEN.0
            && arn.starts_with("arn:")
            && arn.contains(":iam::")
            && arn.contains(":role/"))
    {
        r.problem(
            "RoleArn",
            format!(
                "RoleArn '{}' is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
                quote(arn)
            ),
        );
    }
    let external_id = r.string("ExternalId", usize::MAX);
    if let Some(id) = &external_id {
        let (min, max) = EXTERNAL_ID_LEN;
        let length = id.chars().count();
        if length < min || length > max {
            r.problem(
                "ExternalId",
                format!("ExternalId must be {min} to {max} characters long (it is {length})"),
            );
        } else if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c))
        {
            r.problem(
                "ExternalId",
                "ExternalId may only contain letters, digits and _ + = , . @ : / -".to_owned(),
            );
        }
    }
    r.needs("ExternalId", "RoleArn");
    arn.map(|arn| RoleToAssume { arn, external_id })
}

/// At least one source must be given.
fn no_source(r: &mut Reader<'_>) {
    let selectors: Vec<&str> = KINDS.iter().flat_map(|k| k.selected_by).copied().collect();
    if !selectors.iter().any(|k| r.has(k)) {
        r.problem(
            selectors.first().copied().unwrap_or("ParameterName"),
            format!("no source: set at least one of {}", selectors.join(", ")),
        );
    }
}

/// Data keys known before any call must not collide.
fn collisions(r: &mut Reader<'_>, sources: &[Arc<dyn Source>]) {
    let mut owners: std::collections::BTreeMap<String, Vec<&'static str>> = Default::default();
    for (key, property) in sources.iter().flat_map(|s| s.data_keys()) {
        owners.entry(key).or_default().push(property);
    }
    for (key, mut properties) in owners {
        // The fix is to rename the key in Parameters, so it is named last.
        properties.sort_by_key(|p| *p == "Parameters");
        if properties.len() > 1 {
            r.problem(
                properties[1],
                format!(
                    "Data key '{key}' would be set by both {}; rename the key in Parameters",
                    properties.join(" and ")
                ),
            );
        }
    }
}

/// The known property nearest to a misspelt one, when it is close enough to
/// be the likely intent.
fn closest(key: &str, known: &[&'static str]) -> Option<&'static str> {
    // No known name is near a long key, and the distance costs length × length.
    if key.len() > SUGGEST_MAX {
        return None;
    }
    let lower = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (strsim::levenshtein(&lower, &k.to_ascii_lowercase()), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(v: Value) -> Vec<String> {
        ResourceProperties::parse(&v)
            .unwrap_err()
            .problems
            .iter()
            .map(ToString::to_string)
            .collect()
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
        assert_eq!(
            p.canonical_inputs(),
            vec![
                "Region=us-east-1",
                "ParameterName=/myapp/edge-arn",
                "WithDecryption=false",
                "NoEcho=false"
            ]
        );
    }

    #[test]
    fn string_booleans_are_read_case_insensitively() {
        let p = ResourceProperties::parse(&json!({
            "Region": "us-east-1", "ParametersPath": "/a/", "Recursive": "False",
            "WithDecryption": "TRUE", "NoEcho": true
        }))
        .unwrap();
        let inputs = p.canonical_inputs().join(" ");
        assert!(inputs.contains("Recursive=false"), "{inputs}");
        assert!(inputs.contains("WithDecryption=true"), "{inputs}");
        assert!(p.no_echo);
        assert!(
            problems(json!({"Region": "us-east-1", "ParameterName": "/a", "NoEcho": "yes"}))[0]
                .contains("NoEcho must be \"true\" or \"false\"")
        );
    }

    #[test]
    fn misspelt_property_is_named_with_a_suggestion_and_the_known_list_once() {
        let err = ResourceProperties::parse(
            &json!({"Region": "us-east-1", "ParameterName": "/a", "WithDecrypt": "true"}),
        )
        .unwrap_err();
        assert_eq!(err.problems.len(), 1);
        assert_eq!(err.problems[0].property, "WithDecrypt");
        let text = err.to_string();
        assert!(text.contains("unknown property 'WithDecrypt' (did you mean 'WithDecryption'?)"));
        assert!(text.ends_with(&format!(
            "; known properties: {}",
            known_properties().join(", ")
        )));
        assert!(text.contains("known properties: Region, ParameterName"));
    }

    #[test]
    fn many_typos_list_the_known_properties_once_and_keep_later_problems() {
        // The known-property list once, not after every unknown key: 30 typos
        // must not fill the 4096-byte answer and cut "Region is required" off.
        let mut props = serde_json::Map::new();
        for i in 0..30 {
            props.insert(format!("Typo{i}"), json!("x"));
        }
        props.insert("ParameterName".into(), json!("/a"));
        let text = ResourceProperties::parse(&Value::Object(props))
            .unwrap_err()
            .to_string();
        assert_eq!(text.matches("known properties:").count(), 1, "{text}");
        assert!(text.contains("Region is required"), "{text}");
        assert!(text.len() < 2000, "{} bytes", text.len());
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
            all.contains("Data key 'Version' would be set by both FunctionName and Parameters"),
            "{all}"
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
    fn oversized_values_are_refused_with_the_limit() {
        // Multi-megabyte StackName, RoleArn and ParametersPath are refused.
        let big = "a".repeat(3_000_000);
        let err = ResourceProperties::parse(&json!({
            "Region": "us-east-1",
            "StackName": big,
            "RoleArn": format!("arn:aws:iam::123456789012:role/{big}"),
            "ParametersPath": format!("/{big}"),
            "ExternalId": big,
        }))
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("StackName is 3000000 characters long; AWS allows at most 128"),
            "{text}"
        );
        assert!(
            text.contains("RoleArn is 3000031 characters long; AWS allows at most 2048"),
            "{text}"
        );
        assert!(
            text.contains("ParametersPath is 3000001 characters long; AWS allows at most 2048"),
            "{text}"
        );
        assert!(
            text.contains("ExternalId must be 2 to 1224 characters long"),
            "{text}"
        );
        assert!(text.len() < 2000, "{} bytes", text.len());
        let stack_arn = format!(
            "arn:aws:cloudformation:us-east-1:123456789012:stack/{}/x",
            "s".repeat(3000)
        );
        assert!(
            problems(json!({"Region": "us-east-1", "StackName": stack_arn}))[0]
                .contains("at most 2048")
        );
    }

    #[test]
    fn a_huge_region_or_unknown_key_is_quoted_cut() {
        let huge = "u".repeat(1_000_000);
        let mut props = serde_json::Map::new();
        props.insert("Region".into(), json!(huge));
        props.insert(huge.clone(), json!("x"));
        props.insert("ParameterName".into(), json!("/a"));
        let text = ResourceProperties::parse(&Value::Object(props))
            .unwrap_err()
            .to_string();
        assert!(text.contains("is not an AWS region code"), "{text}");
        assert!(text.contains("(1000000 characters)"), "{text}");
        assert!(text.len() < 1500, "{} bytes", text.len());
    }

    #[test]
    fn an_ssm_arn_must_name_the_resources_region() {
        let p = problems(json!({
            "Region": "us-east-1",
            "ParameterName": "arn:aws:ssm:eu-west-1:123456789012:parameter/myapp/x"
        }));
        assert!(p[0].starts_with("ParameterName: ARN"), "{p:?}");
        assert!(
            p[0].contains("its region is 'eu-west-1', but Region is us-east-1"),
            "{p:?}"
        );
        let p = problems(json!({
            "Region": "us-east-1",
            "Parameters": {"K": "arn:aws:sqs:us-east-1:123456789012:parameter/myapp/x"}
        }));
        assert!(p[0].starts_with("Parameters.K: ARN"), "{p:?}");
    }
}
