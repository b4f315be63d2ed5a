//! SSM parameter references, parsed once into canonical values.
//!
//! A reference is `name`, `name:VERSION` or `name:LABEL`, where the name may
//! be a parameter ARN. An ARN is split into its fields (partition, service,
//! region, account, `parameter/<name>`) and each is checked, so the name the
//! allow-list checks is exactly the name read and the name a Reason shows:
//! there is one parsed value, and every use goes through it.

use std::fmt;

use crate::input::{partition_of, too_long};
use crate::reason::quote;

/// The longest parameter name SSM accepts, the full ARN form included.
pub(crate) const NAME_MAX: usize = 1011;
/// The deepest hierarchy SSM accepts.
pub(crate) const DEPTH_MAX: usize = 15;
/// The longest label SSM accepts.
const LABEL_MAX: usize = 100;
/// The longest path GetParametersByPath accepts.
pub(crate) const PATH_MAX: usize = 2048;

/// Which version of an SSM parameter to read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Selector {
    /// `name:3`
    Version(u64),
    /// `name:prod`
    Label(String),
}

/// The fields of a parameter ARN, each checked.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ParameterArn {
    partition: String,
    region: String,
    account: String,
}

/// A parameter's name: the name SSM stores (`/myapp/x` or `flat`), and the
/// ARN fields when the template gave an ARN.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ParameterName {
    name: String,
    arn: Option<ParameterArn>,
}

impl ParameterName {
    /// The name as SSM stores it; what the allow-list checks.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name as sent to SSM and shown in Reasons: the ARN rebuilt from
    /// its checked fields when one was given, the plain name otherwise.
    pub fn canonical(&self) -> String {
        match &self.arn {
            None => self.name.clone(),
            Some(arn) => arn_of(&arn.partition, &arn.region, &arn.account, &self.name),
        }
    }

    /// The ARN IAM uses for this parameter, given the account read from.
    pub fn arn_in(&self, region: &str, account: &str) -> String {
        match &self.arn {
            Some(_) => self.canonical(),
            None => arn_of(partition_of(region), region, account, &self.name),
        }
    }
}

fn arn_of(partition: &str, region: &str, account: &str, name: &str) -> String {
    let slash = if name.starts_with('/') { "" } else { "/" };
    format!("arn:{partition}:ssm:{region}:{account}:parameter{slash}{name}")
}

/// An SSM parameter reference: a name and, optionally, a version or label.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ParameterRef {
    /// The parameter.
    pub name: ParameterName,
    /// The version or label, if one was given.
    pub selector: Option<Selector>,
}

impl ParameterRef {
    /// The string SSM receives, and Reasons and identities use: the canonical
    /// name with its selector.
    pub fn request_name(&self) -> String {
        let name = self.name.canonical();
        match &self.selector {
            None => name,
            Some(Selector::Version(v)) => format!("{name}:{v}"),
            Some(Selector::Label(l)) => format!("{name}:{l}"),
        }
    }

    /// Parses `name[:VERSION|:LABEL]`, ARNs included. `region` is the
    /// resource's `Region` (when valid): an ARN must name that region.
    pub fn parse(raw: &str, region: Option<&str>) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("the parameter name is empty".to_owned());
        }
        if too_long(raw, NAME_MAX + 1 + LABEL_MAX) {
            return Err(format!(
                "'{}' is longer than SSM's {NAME_MAX} characters for a parameter name",
                quote(raw)
            ));
        }
        let (name, selector) = if raw.starts_with("arn:") {
            parse_arn(raw, region)?
        } else {
            let (name, selector) = match raw.rsplit_once(':') {
                Some((n, s)) => (n, Some(s)),
                None => (raw, None),
            };
            validate_name(name)?;
            let name = ParameterName {
                name: name.to_owned(),
                arn: None,
            };
            (name, selector)
        };
        let selector = match selector {
            None => None,
            Some(s) => Some(parse_selector(&name.canonical(), s)?),
        };
        Ok(Self { name, selector })
    }
}

impl fmt::Display for ParameterRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.request_name())
    }
}

/// `arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME[:SELECTOR]`, every field
/// checked; the problem names the field that is wrong.
fn parse_arn<'a>(
    raw: &'a str,
    region: Option<&str>,
) -> Result<(ParameterName, Option<&'a str>), String> {
    let shape = "arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME";
    let fields: Vec<&str> = raw.split(':').collect();
    let [
        _,
        partition,
        service,
        arn_region,
        account,
        resource,
        rest @ ..,
    ] = fields.as_slice()
    else {
        return Err(format!(
            "'{}' is not an SSM parameter ARN (expected {shape})",
            quote(raw)
        ));
    };
    let field = |what: &str, problem: String| {
        Err(format!(
            "ARN '{}': its {what} {problem} (expected {shape})",
            quote(raw)
        ))
    };
    if rest.len() > 1 {
        return field("parameter name", "contains ':'".to_owned());
    }
    let partition_shape = *partition == "aws"
        || partition.strip_prefix("aws-").is_some_and(|p| {
            !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        });
    if !partition_shape {
        return field(
            "partition",
            format!("is '{}', not an AWS partition", quote(partition)),
        );
    }
    if *service != "ssm" {
        return field("service", format!("is '{}', not 'ssm'", quote(service)));
    }
    if let Some(region) = region {
        if *arn_region != region {
            return field(
                "region",
                format!(
                    "is '{}', but Region is {region}; set Region to the parameter's region or fix the ARN",
                    quote(arn_region)
                ),
            );
        }
        let expected = partition_of(region);
        if *partition != expected {
            return field(
                "partition",
                format!("is '{}', but {region} is in {expected}", quote(partition)),
            );
        }
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return field(
            "account",
            format!("'{}' is not a 12-digit account id", quote(account)),
        );
    }
    let Some(short) = resource
        .strip_prefix("parameter/")
        .filter(|n| !n.is_empty())
    else {
        return field(
            "resource",
            format!("'{}' is not parameter/NAME", quote(resource)),
        );
    };
    // `parameter/a/b` is the hierarchical name `/a/b`; `parameter/flat` is `flat`.
    let name = if short.contains('/') {
        format!("/{short}")
    } else {
        short.to_owned()
    };
    validate_name(&name)?;
    let name = ParameterName {
        name,
        arn: Some(ParameterArn {
            partition: (*partition).to_owned(),
            region: (*arn_region).to_owned(),
            account: (*account).to_owned(),
        }),
    };
    if too_long(&name.canonical(), NAME_MAX) {
        return Err(format!(
            "ARN '{}' is longer than SSM's {NAME_MAX} characters for a parameter name (the ARN counts)",
            quote(raw)
        ));
    }
    Ok((name, rest.first().copied()))
}

/// SSM's naming rules: letters, digits, `_ . - /`; a hierarchy starts with
/// `/`, has no empty level and at most fifteen levels.
pub(crate) fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the parameter name before ':' is empty".to_owned());
    }
    if too_long(name, NAME_MAX) {
        return Err(format!(
            "parameter name '{}' is longer than SSM's {NAME_MAX} characters",
            quote(name)
        ));
    }
    let ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'));
    if !ok {
        return Err(format!(
            "parameter name '{}' may only contain letters, digits and _ . - /",
            quote(name)
        ));
    }
    if name.contains("//") || (name.contains('/') && !name.starts_with('/')) {
        return Err(format!(
            "parameter name '{}' is not a valid hierarchy (it must start with '/' and have no empty segment)",
            quote(name)
        ));
    }
    let depth = name.trim_end_matches('/').matches('/').count();
    if depth > DEPTH_MAX {
        return Err(format!(
            "parameter name '{}' is {depth} levels deep; SSM allows at most {DEPTH_MAX}",
            quote(name)
        ));
    }
    Ok(())
}

fn parse_selector(name: &str, s: &str) -> Result<Selector, String> {
    let name = quote(name);
    if s.is_empty() {
        return Err(format!(
            "'{name}:' has an empty selector; write '{name}', '{name}:VERSION' or '{name}:LABEL'"
        ));
    }
    let s_shown = quote(s);
    if s.chars().all(|c| c.is_ascii_digit()) {
        return match s.parse::<u64>() {
            Ok(v) if v > 0 => Ok(Selector::Version(v)),
            _ => Err(format!("'{name}:{s_shown}': parameter versions start at 1")),
        };
    }
    let valid_chars = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    let lower = s.to_ascii_lowercase();
    if !valid_chars
        || s.len() > LABEL_MAX
        || s.starts_with(|c: char| c.is_ascii_digit())
        || lower.starts_with("aws")
        || lower.starts_with("ssm")
    {
        return Err(format!(
            "'{name}:{s_shown}': '{s_shown}' is neither a version number nor a valid label (labels: up to {LABEL_MAX} letters, digits, . - _, not starting with a digit, 'aws' or 'ssm')"
        ));
    }
    Ok(Selector::Label(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<ParameterRef, String> {
        ParameterRef::parse(raw, Some("us-east-1"))
    }

    #[test]
    fn selectors_are_versions_or_labels() {
        assert_eq!(
            parse("/a/b:12").unwrap().selector,
            Some(Selector::Version(12))
        );
        assert_eq!(
            parse("/a/b:prod").unwrap().selector,
            Some(Selector::Label("prod".into()))
        );
        assert!(parse("/a/b:").unwrap_err().contains("empty selector"));
        assert!(parse("/a/b:0").unwrap_err().contains("start at 1"));
        assert!(parse("/a/b:awsdefault").unwrap_err().contains("neither"));
        assert!(parse("/a/b:pr od").unwrap_err().contains("neither"));
    }

    #[test]
    fn arn_names_are_parsed_into_their_fields() {
        let r = parse("arn:aws:ssm:us-east-1:123456789012:parameter/shared/x:3").unwrap();
        assert_eq!(r.name.name(), "/shared/x");
        assert_eq!(
            r.name.canonical(),
            "arn:aws:ssm:us-east-1:123456789012:parameter/shared/x"
        );
        assert_eq!(r.selector, Some(Selector::Version(3)));
        let flat = parse("arn:aws:ssm:us-east-1:123456789012:parameter/flat").unwrap();
        assert_eq!(flat.name.name(), "flat");
        assert!(parse("arn:aws:s3:::bucket").is_err());
    }

    #[test]
    fn a_smuggled_name_is_refused_naming_the_field() {
        // Accepted, it would be checked as /myapp/z and sent to SSM as another name.
        let e =
            parse("arn:parameter/myapp/z:ssm:us-east-1:123456789012:parameter/secret").unwrap_err();
        assert!(e.contains("its partition is 'parameter/myapp/z'"), "{e}");
        let e = parse("arn:aws:sqs:us-east-1:123456789012:parameter/myapp/x").unwrap_err();
        assert!(e.contains("its service is 'sqs', not 'ssm'"), "{e}");
        let e = parse("arn:aws:ssm:eu-west-1:123456789012:parameter/myapp/x").unwrap_err();
        assert!(
            e.contains("its region is 'eu-west-1', but Region is us-east-1"),
            "{e}"
        );
        let e = parse("arn:aws:ssm:us-east-1:12345:parameter/myapp/x").unwrap_err();
        assert!(
            e.contains("its account '12345' is not a 12-digit account id"),
            "{e}"
        );
        let e = parse("arn:aws-cn:ssm:us-east-1:123456789012:parameter/myapp/x").unwrap_err();
        assert!(e.contains("its partition is 'aws-cn'"), "{e}");
        let e = parse("arn:aws:ssm:us-east-1:123456789012:document/x").unwrap_err();
        assert!(
            e.contains("its resource 'document/x' is not parameter/NAME"),
            "{e}"
        );
    }

    #[test]
    fn names_and_arns_are_held_to_ssms_lengths() {
        let long = format!("/{}", "a".repeat(NAME_MAX));
        assert!(parse(&long).unwrap_err().contains("1011"));
        let arn = format!(
            "arn:aws:ssm:us-east-1:123456789012:parameter/{}",
            "a".repeat(NAME_MAX - 40)
        );
        assert!(parse(&arn).unwrap_err().contains("1011"), "the ARN counts");
        let deep = "/a".repeat(16);
        assert!(parse(&deep).unwrap_err().contains("at most 15"));
        assert!(parse(&"/a".repeat(15)).is_ok());
    }
}
