//! Lambda@Edge restrictions, checked against a resolved version.
//!
//! CloudFront only finds out that a version cannot serve as Lambda@Edge when
//! the distribution is deployed, minutes later and in another stack. Checking
//! here turns that late, distant failure into one Reason on this resource that
//! lists every problem at once, so they can all be fixed in one go.
//!
//! [`violations`] is pure: the Lambda resolver gathers an [`EdgeFacts`] from
//! GetFunctionConfiguration and iam:GetRole, and this module only judges it.
//! The limits follow the CloudFront Developer Guide ("Restrictions on
//! Lambda@Edge", "Quotas on Lambda@Edge").

use percent_encoding::percent_decode_str;
use serde_json::Value;

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

    /// The trigger named `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, e)| *e)
    }
}

/// The only region CloudFront replicates Lambda@Edge functions from.
pub const EDGE_REGION: &str = "us-east-1";
/// The service principal the execution role must trust.
pub const EDGE_PRINCIPAL: &str = "edgelambda.amazonaws.com";

/// Memory a viewer trigger must have, in MB.
const VIEWER_MEMORY_MB: i32 = 128;
/// Longest timeout of a viewer trigger, in seconds.
const VIEWER_TIMEOUT_S: i32 = 5;
/// Largest compressed package of a viewer trigger, in bytes.
const VIEWER_PACKAGE_BYTES: i64 = 1024 * 1024;
/// Most memory an origin trigger may have, in MB.
const ORIGIN_MEMORY_MB: i32 = 10_240;
/// Longest timeout of an origin trigger, in seconds.
const ORIGIN_TIMEOUT_S: i32 = 30;
/// Largest compressed package of an origin trigger, in bytes.
const ORIGIN_PACKAGE_BYTES: i64 = 50 * 1024 * 1024;

/// Whether the execution role lets CloudFront's replicas assume it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleTrust {
    /// The trust policy allows `edgelambda.amazonaws.com`.
    Trusted,
    /// The trust policy was read and does not allow it.
    NotTrusted {
        /// The role's ARN, to name it in the Reason.
        role_arn: String,
    },
    /// The role could not be read (access denied, another account). Not a
    /// violation: the provider must not fail a deploy on what it cannot see.
    Unreadable,
}

/// What the check needs to know about one function version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeFacts {
    /// The region the function lives in.
    pub region: String,
    /// The version as resolved (`7`, or whatever a caller passed through).
    pub version: String,
    /// Instruction set architectures (`x86_64`, `arm64`); empty means x86_64.
    pub architectures: Vec<String>,
    /// Runtime identifier (`nodejs22.x`, `provided.al2023`); none for images.
    pub runtime: Option<String>,
    /// `Zip` or `Image`; none is taken as `Zip`.
    pub package_type: Option<String>,
    /// Number of environment variables.
    pub env_var_count: usize,
    /// Number of VPC subnets the function is attached to.
    pub vpc_subnet_count: usize,
    /// Number of layers.
    pub layer_count: usize,
    /// Configured memory, MB.
    pub memory_mb: Option<i32>,
    /// Configured timeout, seconds.
    pub timeout_s: Option<i32>,
    /// Size of the deployment package (compressed), bytes.
    pub code_size_bytes: i64,
    /// Whether the execution role trusts Lambda@Edge.
    pub role: RoleTrust,
}

/// Every way `facts` breaks the Lambda@Edge rules for `event`, one sentence
/// each with its fix, in a stable order; empty when the version can be used.
pub fn violations(event: EdgeEventType, facts: &EdgeFacts) -> Vec<String> {
    let mut out = Vec::new();
    placement(facts, &mut out);
    package(facts, &mut out);
    features(facts, &mut out);
    limits(event, facts, &mut out);
    if let RoleTrust::NotTrusted { role_arn } = &facts.role {
        out.push(format!(
            "its execution role {role_arn} does not trust {EDGE_PRINCIPAL}; add it as a Service principal allowed sts:AssumeRole in the role's trust policy"
        ));
    }
    out
}

/// Where the function lives and which version was resolved.
fn placement(facts: &EdgeFacts, out: &mut Vec<String>) {
    if facts.region != EDGE_REGION {
        out.push(format!(
            "the function is in {}, but Lambda@Edge functions must live in {EDGE_REGION}; create it there and set Region: {EDGE_REGION}",
            facts.region
        ));
    }
    if !is_version_number(&facts.version) {
        out.push(format!(
            "'{}' is not a numbered version; CloudFront needs a published version number, not $LATEST or an alias",
            facts.version
        ));
    }
}

/// Architecture, packaging and runtime.
fn package(facts: &EdgeFacts, out: &mut Vec<String>) {
    let other_arch: Vec<&str> = facts
        .architectures
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "x86_64")
        .collect();
    if !other_arch.is_empty() {
        out.push(format!(
            "its architecture is {}, but Lambda@Edge runs x86_64 only; set Architectures to [x86_64]",
            other_arch.join(", ")
        ));
    }
    if facts.package_type.as_deref() == Some("Image") {
        out.push(
            "it is a container image, but Lambda@Edge needs a .zip package on a managed runtime; deploy the code as a .zip with a nodejs* or python* runtime"
                .to_owned(),
        );
    } else if !facts.runtime.as_deref().is_some_and(is_edge_runtime) {
        out.push(format!(
            "its runtime is {}, but Lambda@Edge supports only the managed Node.js and Python runtimes (nodejs*, python*); switch Runtime to one of them",
            facts.runtime.as_deref().unwrap_or("not set")
        ));
    }
}

/// Features Lambda@Edge does not have: environment variables, VPC, layers.
fn features(facts: &EdgeFacts, out: &mut Vec<String>) {
    if facts.env_var_count > 0 {
        out.push(format!(
            "it has {} environment variable{}, but Lambda@Edge allows none; build the values into the code or read them at run time",
            facts.env_var_count,
            plural(facts.env_var_count)
        ));
    }
    if facts.vpc_subnet_count > 0 {
        out.push(format!(
            "it is attached to a VPC ({} subnet{}), which Lambda@Edge does not support; remove the VpcConfig",
            facts.vpc_subnet_count,
            plural(facts.vpc_subnet_count)
        ));
    }
    if facts.layer_count > 0 {
        out.push(format!(
            "it uses {} layer{}, which Lambda@Edge does not support; bundle the dependencies into the package",
            facts.layer_count,
            plural(facts.layer_count)
        ));
    }
}

/// Memory, timeout and package size, which differ by trigger.
fn limits(event: EdgeEventType, facts: &EdgeFacts, out: &mut Vec<String>) {
    let viewer = event.is_viewer();
    let kind = if viewer { "viewer" } else { "origin" };
    if let Some(memory) = facts.memory_mb {
        if viewer && memory != VIEWER_MEMORY_MB {
            out.push(format!(
                "its memory is {memory} MB, but viewer triggers must have exactly {VIEWER_MEMORY_MB} MB; set MemorySize: {VIEWER_MEMORY_MB}"
            ));
        } else if !viewer && memory > ORIGIN_MEMORY_MB {
            out.push(format!(
                "its memory is {memory} MB, but origin triggers allow at most {ORIGIN_MEMORY_MB} MB; lower MemorySize"
            ));
        }
    }
    let (max_timeout, max_package) = if viewer {
        (VIEWER_TIMEOUT_S, VIEWER_PACKAGE_BYTES)
    } else {
        (ORIGIN_TIMEOUT_S, ORIGIN_PACKAGE_BYTES)
    };
    if let Some(timeout) = facts.timeout_s
        && timeout > max_timeout
    {
        out.push(format!(
            "its timeout is {timeout} s, but {kind} triggers allow at most {max_timeout} s; set Timeout to {max_timeout} or less"
        ));
    }
    if facts.code_size_bytes > max_package {
        out.push(format!(
            "its package is {} bytes, but {kind} triggers allow at most {} MB compressed; shrink the package (bundle and minify, drop unused dependencies)",
            facts.code_size_bytes,
            max_package / (1024 * 1024)
        ));
    }
}

/// Node.js and Python are the only managed runtimes Lambda@Edge runs;
/// `provided*` (custom), Java, .NET and Ruby are refused by CloudFront.
fn is_edge_runtime(runtime: &str) -> bool {
    runtime.starts_with("nodejs") || runtime.starts_with("python")
}

/// A published version is a positive decimal number.
pub fn is_version_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<u64>().is_ok()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Whether a role's trust policy, as iam:GetRole returns it (URL-encoded
/// JSON), lets `edgelambda.amazonaws.com` assume the role. `None` when the
/// document cannot be understood, which callers treat as unreadable rather
/// than as a violation.
pub fn trust_policy_allows_edge(document: &str) -> Option<bool> {
    let parsed: Value = percent_decode_str(document)
        .decode_utf8()
        .ok()
        .and_then(|d| serde_json::from_str(&d).ok())
        .or_else(|| serde_json::from_str(document).ok())?;
    let statements = match parsed.get("Statement")? {
        Value::Array(items) => items.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => return None,
    };
    Some(statements.iter().any(statement_allows_edge))
}

fn statement_allows_edge(statement: &Value) -> bool {
    let allows = statement.get("Effect").and_then(Value::as_str) == Some("Allow");
    let assumes = strings(statement.get("Action"))
        .iter()
        .any(|a| matches!(a.as_str(), "sts:AssumeRole" | "sts:*" | "*"));
    let edge = statement
        .get("Principal")
        .and_then(|p| p.get("Service"))
        .is_some_and(|s| strings(Some(s)).iter().any(|s| s == EDGE_PRINCIPAL));
    allows && assumes && edge
}

/// A policy element that may be one string or a list of strings.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compliant() -> EdgeFacts {
        EdgeFacts {
            region: "us-east-1".into(),
            version: "7".into(),
            architectures: vec!["x86_64".into()],
            runtime: Some("nodejs22.x".into()),
            package_type: Some("Zip".into()),
            env_var_count: 0,
            vpc_subnet_count: 0,
            layer_count: 0,
            memory_mb: Some(128),
            timeout_s: Some(5),
            code_size_bytes: 4096,
            role: RoleTrust::Trusted,
        }
    }

    #[test]
    fn a_compliant_nodejs_version_passes_every_trigger() {
        for event in [
            EdgeEventType::ViewerRequest,
            EdgeEventType::ViewerResponse,
            EdgeEventType::OriginRequest,
            EdgeEventType::OriginResponse,
        ] {
            assert_eq!(violations(event, &compliant()), Vec::<String>::new());
        }
        let python = EdgeFacts {
            runtime: Some("python3.13".into()),
            architectures: Vec::new(),
            package_type: None,
            ..compliant()
        };
        assert!(violations(EdgeEventType::ViewerRequest, &python).is_empty());
    }

    #[test]
    fn viewer_request_lists_all_five_problems_of_a_bad_version() {
        let facts = EdgeFacts {
            architectures: vec!["arm64".into()],
            runtime: Some("provided.al2023".into()),
            env_var_count: 2,
            memory_mb: Some(256),
            timeout_s: Some(10),
            ..compliant()
        };
        let problems = violations(EdgeEventType::ViewerRequest, &facts);
        assert_eq!(problems.len(), 5, "{problems:#?}");
        assert!(problems[0].contains("arm64") && problems[0].contains("x86_64"));
        assert!(problems[1].contains("provided.al2023"));
        assert!(problems[2].contains("2 environment variables"));
        assert!(problems[3].contains("256 MB") && problems[3].contains("exactly 128 MB"));
        assert!(problems[4].contains("10 s") && problems[4].contains("at most 5 s"));
    }

    #[test]
    fn origin_triggers_have_looser_limits_than_viewer_triggers() {
        let facts = EdgeFacts {
            memory_mb: Some(2048),
            timeout_s: Some(30),
            code_size_bytes: 20 * 1024 * 1024,
            ..compliant()
        };
        assert!(violations(EdgeEventType::OriginRequest, &facts).is_empty());
        let viewer = violations(EdgeEventType::ViewerResponse, &facts);
        assert_eq!(viewer.len(), 3, "{viewer:#?}");
        assert!(viewer[2].contains("at most 1 MB"));

        let too_big = EdgeFacts {
            memory_mb: Some(10_241),
            timeout_s: Some(31),
            code_size_bytes: 50 * 1024 * 1024 + 1,
            ..compliant()
        };
        let origin = violations(EdgeEventType::OriginResponse, &too_big);
        assert_eq!(origin.len(), 3, "{origin:#?}");
        assert!(origin[0].contains("at most 10240 MB"));
        assert!(origin[1].contains("at most 30 s"));
        assert!(origin[2].contains("at most 50 MB"));
    }

    #[test]
    fn features_lambda_at_edge_lacks_are_each_named() {
        let facts = EdgeFacts {
            region: "eu-west-1".into(),
            version: "$LATEST".into(),
            package_type: Some("Image".into()),
            runtime: None,
            vpc_subnet_count: 2,
            layer_count: 1,
            role: RoleTrust::NotTrusted {
                role_arn: "arn:aws:iam::123456789012:role/app".into(),
            },
            ..compliant()
        };
        let problems = violations(EdgeEventType::OriginRequest, &facts);
        assert_eq!(problems.len(), 6, "{problems:#?}");
        assert!(problems[0].contains("eu-west-1") && problems[0].contains("us-east-1"));
        assert!(problems[1].contains("$LATEST"));
        assert!(problems[2].contains("container image"));
        assert!(problems[3].contains("VPC (2 subnets)"));
        assert!(problems[4].contains("1 layer,"));
        assert!(problems[5].contains("role/app") && problems[5].contains(EDGE_PRINCIPAL));
    }

    #[test]
    fn an_unreadable_role_is_not_a_violation() {
        let facts = EdgeFacts {
            role: RoleTrust::Unreadable,
            ..compliant()
        };
        assert!(violations(EdgeEventType::ViewerRequest, &facts).is_empty());
    }

    #[test]
    fn trust_policies_are_read_encoded_or_plain() {
        let encoded = "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%7B%22Effect%22%3A%20%22Allow%22%2C%20%22Principal%22%3A%20%7B%22Service%22%3A%20%5B%22lambda.amazonaws.com%22%2C%20%22edgelambda.amazonaws.com%22%5D%7D%2C%20%22Action%22%3A%20%22sts%3AAssumeRole%22%7D%5D%7D";
        assert_eq!(trust_policy_allows_edge(encoded), Some(true));
        let lambda_only = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":["sts:AssumeRole"]}}"#;
        assert_eq!(trust_policy_allows_edge(lambda_only), Some(false));
        let denied = r#"{"Statement":[{"Effect":"Deny","Principal":{"Service":"edgelambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        assert_eq!(trust_policy_allows_edge(denied), Some(false));
        assert_eq!(trust_policy_allows_edge("%7Bnot json"), None);
        assert_eq!(trust_policy_allows_edge("%ZZ"), None);
    }

    #[test]
    fn version_numbers_are_plain_digits() {
        assert!(is_version_number("1"));
        assert!(is_version_number("120"));
        assert!(!is_version_number("$LATEST"));
        assert!(!is_version_number("live"));
        assert!(!is_version_number(""));
        assert!(!is_version_number("-1"));
    }
}
