//! Reading the loose JSON CloudFormation sends as a resource's properties.
//!
//! CloudFormation hands every property over as a string (`"true"`, `"42"`).
//! [`Reader`] turns one property at a time into a typed value and records a
//! [`PropertyProblem`] (which property, what is wrong, how to fix it) instead
//! of stopping, so one failed deploy lists everything to fix. The common
//! properties and every source's parser use it; it is a leaf and knows nothing
//! of sources or AWS.

use std::fmt;

use serde_json::{Map, Value};

use crate::reason::quote;

/// One problem with one property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyProblem {
    /// The property (`Region`, `Parameters.Domain`, ...).
    pub property: String,
    /// A complete sentence: what is wrong and how to fix it. It names the
    /// property itself, so it reads on its own.
    pub problem: String,
}

impl fmt::Display for PropertyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problem)
    }
}

/// Reads properties out of one `ResourceProperties` object, collecting problems.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    map: &'a Map<String, Value>,
    problems: Vec<PropertyProblem>,
    region: Option<String>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(map: &'a Map<String, Value>) -> Self {
        Self {
            map,
            problems: Vec::new(),
            region: None,
        }
    }

    /// The validated `Region`, once the common properties have been read.
    pub(crate) fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    pub(crate) fn set_region(&mut self, region: Option<String>) {
        self.region = region;
    }

    /// Whether `key` is present at all (even with an unusable value).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// The property names present, in the order given.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &'a String> + use<'a> {
        self.map.keys()
    }

    /// Records a problem with `property`.
    pub(crate) fn problem(&mut self, property: &str, problem: String) {
        self.problems.push(PropertyProblem {
            property: property.to_owned(),
            problem,
        });
    }

    pub(crate) fn into_problems(self) -> Vec<PropertyProblem> {
        self.problems
    }

    pub(crate) fn has_problems(&self) -> bool {
        !self.problems.is_empty()
    }

    /// A string property, trimmed, at most `max` characters (AWS's own limit
    /// for what it names). Numbers are accepted as their digits, as
    /// CloudFormation would have sent them.
    pub(crate) fn string(&mut self, key: &str, max: usize) -> Option<String> {
        let value = match self.map.get(key)? {
            Value::String(s) if s.trim().is_empty() => {
                self.problem(key, format!("{key} is empty"));
                return None;
            }
            Value::String(s) => s.trim(),
            Value::Number(n) => return Some(n.to_string()),
            other => {
                self.problem(key, format!("{key} must be a string, got {}", kind(other)));
                return None;
            }
        };
        if too_long(value, max) {
            self.problem(key, length_problem(key, value, max));
            return None;
        }
        Some(value.to_owned())
    }

    /// `"true"` / `"false"` (any case), or a JSON boolean from a direct invoke.
    pub(crate) fn boolean(&mut self, key: &str) -> Option<bool> {
        match self.map.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            Value::String(s) => {
                let shown = quote(s);
                self.problem(
                    key,
                    format!("{key} must be \"true\" or \"false\", got \"{shown}\""),
                );
                None
            }
            other => {
                self.problem(
                    key,
                    format!("{key} must be \"true\" or \"false\", got {}", kind(other)),
                );
                None
            }
        }
    }

    /// The raw value of `key`, for properties with their own shape (maps).
    pub(crate) fn raw(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    /// `dependent` only means something with `owner`; says so when it is
    /// given alone.
    pub(crate) fn needs(&mut self, dependent: &str, owner: &str) {
        if self.has(dependent) && !self.has(owner) {
            self.problem(
                dependent,
                format!("{dependent} only applies to {owner}, which is not set"),
            );
        }
    }
}

/// Whether `value` is longer than `max` characters (checked on bytes first,
/// so a multi-megabyte value costs nothing to refuse).
pub(crate) fn too_long(value: &str, max: usize) -> bool {
    value.len() > max && value.chars().count() > max
}

/// The sentence for a value over its limit: the property, its length and the limit.
pub(crate) fn length_problem(property: &str, value: &str, max: usize) -> String {
    format!(
        "{property} is {} characters long; AWS allows at most {max} (value starts '{}')",
        value.chars().count(),
        value.chars().take(40).collect::<String>()
    )
}

/// How a JSON value is named in a Reason.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// Whether `s` has the shape of an AWS region code (`us-east-1`,
/// `us-gov-west-1`, `cn-north-1`, `ap-southeast-5`).
pub fn is_region_code(s: &str) -> bool {
    if s.len() > REGION_MAX {
        return false;
    }
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() < 3 || parts.len() > 4 {
        return false;
    }
    let Some((last, rest)) = parts.split_last() else {
        return false;
    };
    !last.is_empty()
        && last.chars().all(|c| c.is_ascii_digit())
        && parts[0].len() == 2
        && rest
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
}

/// Longer than any region code AWS uses (`ap-southeast-5`, `us-gov-west-1`).
const REGION_MAX: usize = 32;

/// One AWS partition: its name, the prefix of its regions' codes, and its
/// DNS suffix (what `AWS::URLSuffix` gives, and where its S3 endpoints live).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Partition {
    pub name: &'static str,
    pub region_prefix: &'static str,
    pub dns_suffix: &'static str,
}

/// The one table of partitions: the provider's ARNs, its ResponseURL host
/// check and `crp plan`'s pseudo parameters all read it. Checked against the
/// SDKs' endpoint data (`partitions.json`: each partition's `regionRegex` and
/// `dnsSuffix`). A longer prefix comes before one it extends (`us-isob-`
/// before `us-iso-`); `aws`, which owns every other region, comes last.
pub(crate) const PARTITIONS: &[Partition] = &[
    Partition::new("aws-cn", "cn-", "amazonaws.com.cn"),
    Partition::new("aws-us-gov", "us-gov-", "amazonaws.com"),
    Partition::new("aws-iso-b", "us-isob-", "sc2s.sgov.gov"),
    Partition::new("aws-iso-f", "us-isof-", "csp.hci.ic.gov"),
    Partition::new("aws-iso-e", "eu-isoe-", "cloud.adc-e.uk"),
    Partition::new("aws-iso", "us-iso-", "c2s.ic.gov"),
    Partition::new("aws-eusc", "eusc-", "amazonaws.eu"),
    Partition::new("aws", "", "amazonaws.com"),
];

impl Partition {
    const fn new(
        name: &'static str,
        region_prefix: &'static str,
        dns_suffix: &'static str,
    ) -> Self {
        Self {
            name,
            region_prefix,
            dns_suffix,
        }
    }

    /// The partition `region` belongs to: the first whose prefix starts it.
    pub(crate) fn of(region: &str) -> &'static Partition {
        PARTITIONS
            .iter()
            .find(|p| region.starts_with(p.region_prefix))
            .unwrap_or(COMMERCIAL)
    }
}

/// `aws`: the table's last entry, whose empty prefix matches any region.
const COMMERCIAL: &Partition = &PARTITIONS[PARTITIONS.len() - 1];

/// The AWS partition a region belongs to (`aws`, `aws-cn`, `aws-us-gov`, ...).
pub fn partition_of(region: &str) -> &'static str {
    Partition::of(region).name
}

/// The DNS suffix of the partition `region` belongs to (`amazonaws.com`,
/// `amazonaws.com.cn`, ...), as `AWS::URLSuffix` gives it.
#[cfg(any(feature = "cli", test))]
pub fn url_suffix_of(region: &str) -> &'static str {
    Partition::of(region).dns_suffix
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        let huge = format!("us-{}-1", "e".repeat(1_000_000));
        for bad in ["us-east", "US-EAST-1", "useast1", "us-east-1a", "", "x-y-1"] {
            assert!(!is_region_code(bad), "{bad}");
        }
        assert!(!is_region_code(&huge));
    }

    #[test]
    fn a_string_over_its_limit_names_length_and_limit() {
        let map = json!({"StackName": "s".repeat(3_000_000)});
        let mut r = Reader::new(map.as_object().unwrap());
        assert_eq!(r.string("StackName", 128), None);
        let problems = r.into_problems();
        assert_eq!(problems[0].property, "StackName");
        assert!(
            problems[0]
                .problem
                .starts_with("StackName is 3000000 characters long; AWS allows at most 128"),
            "{}",
            problems[0]
        );
        assert!(problems[0].problem.len() < 200);
    }

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(partition_of("us-east-1"), "aws");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of("us-isob-east-1"), "aws-iso-b");
        assert_eq!(url_suffix_of("us-east-1"), "amazonaws.com");
        assert_eq!(url_suffix_of("cn-north-1"), "amazonaws.com.cn");
        assert_eq!(url_suffix_of("us-iso-east-1"), "c2s.ic.gov");
    }

    #[test]
    fn every_partition_has_the_sdks_suffix_for_one_of_its_regions() {
        // One region per partition, with the partition and DNS suffix the
        // SDKs' endpoint data gives it.
        let known = [
            ("us-east-1", "aws", "amazonaws.com"),
            ("cn-northwest-1", "aws-cn", "amazonaws.com.cn"),
            ("us-gov-east-1", "aws-us-gov", "amazonaws.com"),
            ("us-iso-west-1", "aws-iso", "c2s.ic.gov"),
            ("us-isob-east-1", "aws-iso-b", "sc2s.sgov.gov"),
            ("eu-isoe-west-1", "aws-iso-e", "cloud.adc-e.uk"),
            ("us-isof-south-1", "aws-iso-f", "csp.hci.ic.gov"),
            ("eusc-de-east-1", "aws-eusc", "amazonaws.eu"),
        ];
        for (region, partition, suffix) in known {
            assert_eq!(
                (partition_of(region), url_suffix_of(region)),
                (partition, suffix)
            );
        }
        assert_eq!(known.len(), PARTITIONS.len());
    }
}
