//! The provider's own configuration, read once from the environment at start.
//!
//! Everything here is an allow-list the deploying team controls through
//! `template.yaml`; it is checked before any AWS call or any HTTP request, so a
//! template cannot talk the provider into reading or calling what the platform
//! team did not allow.

use std::net::IpAddr;

use thiserror::Error;
use wildmatch::WildMatch;

use crate::input::{PARTITIONS, Partition};

/// Environment variable: comma-separated SSM name prefixes that may be read.
pub const ENV_ALLOWED_PARAMETER_PATHS: &str = "CRP_ALLOWED_PARAMETER_PATHS";
/// Environment variable: comma-separated source regions.
pub const ENV_ALLOWED_REGIONS: &str = "CRP_ALLOWED_REGIONS";
/// Environment variable: comma-separated role ARN patterns `RoleArn` may name.
pub const ENV_ALLOWED_ROLE_ARNS: &str = "CRP_ALLOWED_ROLE_ARNS";
/// Environment variable: comma-separated host patterns a `ResponseURL` may use.
pub const ENV_RESPONSE_URL_HOSTS: &str = "CRP_RESPONSE_URL_HOSTS";

/// The prefix of CloudFormation's own response buckets,
/// `cloudformation-custom-resource-response-<region without dashes>`.
const RESPONSE_BUCKET_PREFIX: &str = "cloudformation-custom-resource-response-";

/// A configuration value that cannot be used.
#[derive(Debug, Error)]
#[error("{variable}: {problem} (value {value:?})")]
pub struct ConfigError {
    variable: &'static str,
    value: String,
    problem: String,
}

/// One read the provider's allow-lists refuse: what was asked for and what
/// the allow-list holds, as values. Its `Display` is one clause of the Reason.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    /// `Region` is not in `CRP_ALLOWED_REGIONS`.
    #[error("region {region} is not in CRP_ALLOWED_REGIONS ({allowed})")]
    Region {
        /// The region asked for.
        region: String,
        /// The allowed regions, as configured.
        allowed: String,
    },
    /// `RoleArn` matches no pattern of `CRP_ALLOWED_ROLE_ARNS`.
    #[error("RoleArn {arn} does not match CRP_ALLOWED_ROLE_ARNS ({allowed})")]
    Role {
        /// The role asked for.
        arn: String,
        /// The allowed role patterns, as configured.
        allowed: String,
    },
    /// An SSM parameter or path outside `CRP_ALLOWED_PARAMETER_PATHS`.
    #[error("SSM parameter {name} is outside CRP_ALLOWED_PARAMETER_PATHS ({allowed})")]
    Parameter {
        /// The parameter (its ARN when given as one) or path asked for.
        name: String,
        /// The allowed paths, as configured.
        allowed: String,
    },
}

/// The provider's allow-lists.
#[derive(Debug, Clone)]
pub struct Config {
    parameter_paths: PathAllowList,
    regions: Option<Vec<String>>,
    role_arns: Vec<RolePattern>,
    response_url_hosts: HostAllowList,
    refusal: Option<String>,
}

/// Where a ResponseURL may point.
#[derive(Debug, Clone)]
enum HostAllowList {
    /// The default: CloudFormation's own response buckets, and nothing else
    /// (see [`is_cloudformation_response_host`]).
    CloudFormation,
    /// `CRP_RESPONSE_URL_HOSTS`: wildcard host patterns.
    Patterns(Vec<WildMatch>),
}

impl HostAllowList {
    fn allows(&self, host: &str) -> bool {
        match self {
            Self::CloudFormation => is_cloudformation_response_host(host),
            Self::Patterns(patterns) => patterns.iter().any(|p| p.matches(host)),
        }
    }
}

impl Default for Config {
    /// The defaults the SPEC names: every path, every region, no role,
    /// CloudFormation's response hosts only.
    fn default() -> Self {
        Self {
            parameter_paths: PathAllowList::Any,
            regions: None,
            role_arns: Vec::new(),
            response_url_hosts: HostAllowList::CloudFormation,
            refusal: None,
        }
    }
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let paths = lookup(ENV_ALLOWED_PARAMETER_PATHS).unwrap_or_default();
        let parameter_paths = PathAllowList::parse(&paths);

        let regions_raw = lookup(ENV_ALLOWED_REGIONS).unwrap_or_default();
        let regions: Vec<String> = split(&regions_raw).map(str::to_owned).collect();
        for region in &regions {
            if region != "*" && !crate::input::is_region_code(region) {
                return Err(ConfigError {
                    variable: ENV_ALLOWED_REGIONS,
                    value: regions_raw.clone(),
                    problem: format!("'{region}' is not an AWS region code"),
                });
            }
        }
        let regions = (!regions.is_empty() && !regions.iter().any(|r| r == "*")).then_some(regions);

        let roles_raw = lookup(ENV_ALLOWED_ROLE_ARNS).unwrap_or_default();
        let role_arns = split(&roles_raw).map(RolePattern::new).collect();

        // Unset or empty: CloudFormation's own response hosts.
        let hosts_raw = lookup(ENV_RESPONSE_URL_HOSTS).unwrap_or_default();
        let patterns: Vec<WildMatch> = split(&hosts_raw)
            .map(|h| WildMatch::new(&h.to_ascii_lowercase()))
            .collect();
        let response_url_hosts = if patterns.is_empty() {
            HostAllowList::CloudFormation
        } else {
            HostAllowList::Patterns(patterns)
        };

        Ok(Self {
            parameter_paths,
            regions,
            role_arns,
            response_url_hosts,
            refusal: None,
        })
    }

    /// Reads the environment for a provider that must keep answering even
    /// when its configuration is invalid: a provider that refused to start
    /// would leave every stack waiting an hour for an answer. With an invalid
    /// value, the rest is read as usual and every resolution is refused with
    /// the error, which [`Config::refusal`] returns.
    pub fn from_env_or_refusing() -> Self {
        Self::from_lookup_or_refusing(|name| std::env::var(name).ok())
    }

    /// [`Config::from_env_or_refusing`] through `lookup` (tests pass a map).
    pub fn from_lookup_or_refusing(lookup: impl Fn(&str) -> Option<String>) -> Self {
        match Self::from_lookup(&lookup) {
            Ok(config) => config,
            Err(error) => {
                let rest = Self::from_lookup(|name| {
                    (name != error.variable).then(|| lookup(name)).flatten()
                });
                Self {
                    refusal: Some(error.to_string()),
                    ..rest.unwrap_or_default()
                }
            }
        }
    }

    /// Why every resolution must be refused, when the configuration is invalid.
    pub fn refusal(&self) -> Option<&str> {
        self.refusal.as_deref()
    }

    /// Whether SSM parameter `name` (or path) may be read.
    pub fn parameter_allowed(&self, name: &str) -> bool {
        self.parameter_paths.allows(name)
    }

    /// The configured parameter prefixes, for error messages.
    pub fn parameter_paths_display(&self) -> String {
        self.parameter_paths.to_string()
    }

    /// Whether values may be read from `region`.
    pub fn region_allowed(&self, region: &str) -> bool {
        self.regions
            .as_ref()
            .is_none_or(|list| list.iter().any(|r| r == region))
    }

    /// The configured regions, for error messages.
    pub fn regions_display(&self) -> String {
        match &self.regions {
            None => "all".to_owned(),
            Some(list) => list.join(","),
        }
    }

    /// Whether `RoleArn` may name `arn`.
    pub fn role_allowed(&self, arn: &str) -> bool {
        self.role_arns.iter().any(|p| p.matches(arn))
    }

    /// The configured role patterns, for error messages.
    pub fn role_arns_display(&self) -> String {
        if self.role_arns.is_empty() {
            "none".to_owned()
        } else {
            self.role_arns
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        }
    }

    /// Whether a response may be sent to a URL with this scheme and host.
    ///
    /// `https` only, except loopback hosts, which may also use `http` so local
    /// runs and tests never need a certificate.
    pub fn response_url_allowed(&self, scheme: &str, host: &str) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let scheme_ok = scheme == "https" || (scheme == "http" && is_loopback(&host));
        scheme_ok && self.response_url_hosts.allows(&host)
    }
}

/// Whether `host` is one of CloudFormation's response buckets, addressed
/// virtual-hosted style: `cloudformation-custom-resource-response-<R>.` then
/// `s3.<suffix>`, `s3-<region>.<suffix>` or `s3.<region>.<suffix>`, where
/// `<R>` is a region code without its dashes (`useast1`), `<region>` spelled
/// with dashes must be that same region, and `<suffix>` is the DNS suffix of
/// the region's partition. Nothing else under amazonaws.com (another bucket,
/// an API Gateway, a Lambda URL) passes: whoever could invoke the provider
/// could own one, and have the answer, decrypted values included, sent to it.
pub(crate) fn is_cloudformation_response_host(host: &str) -> bool {
    let Some((bucket_region, endpoint)) = host
        .strip_prefix(RESPONSE_BUCKET_PREFIX)
        .and_then(|rest| rest.split_once('.'))
    else {
        return false;
    };
    if !is_compact_region(bucket_region) {
        return false;
    }
    let regional = |rest: &str| {
        rest.split_once('.').is_some_and(|(region, suffix)| {
            is_dashed_region(region)
                && region.replace('-', "") == bucket_region
                && Partition::of(region).dns_suffix == suffix
        })
    };
    if let Some(rest) = endpoint.strip_prefix("s3-") {
        return regional(rest);
    }
    let Some(rest) = endpoint.strip_prefix("s3.") else {
        return false;
    };
    // `s3.<suffix>`: the partition's global endpoint; the bucket's region
    // must still belong to the partition the suffix names.
    let global = PARTITIONS
        .iter()
        .any(|p| rest == p.dns_suffix && compact_partition_matches(p, bucket_region));
    global || regional(rest)
}

/// `useast1`, `cnnorth1`, `usgovwest1`: lowercase letters, then digits.
fn is_compact_region(s: &str) -> bool {
    let letters = s.bytes().take_while(u8::is_ascii_lowercase).count();
    let digits = &s[letters..];
    letters >= 4 && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `us-east-1`, `eusc-de-east-1`: lowercase words joined by dashes, ending
/// in a number.
fn is_dashed_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    words.len() >= 2
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
}

/// Whether a region written without dashes belongs to `partition`: the
/// first partition whose regions' prefix, dashes dropped, starts it (`aws`,
/// with no prefix, owns the rest).
fn compact_partition_matches(partition: &Partition, compact: &str) -> bool {
    let owner = PARTITIONS
        .iter()
        .find(|p| compact.starts_with(&p.region_prefix.replace('-', "")))
        .map_or("aws", |p| p.name);
    // GovCloud shares the commercial suffix.
    owner == partition.name || (partition.name == "aws" && owner == "aws-us-gov")
}

/// A `CRP_ALLOWED_ROLE_ARNS` entry: `*` matches any run of characters
/// within one `:`-separated field of the ARN (never a `:`), and every other
/// character, `?` included, matches only itself. So
/// `arn:aws:iam::222222222222:role/team-*` allows `role/team-a` and
/// `role/team-a/b`, but not `role/team-:role/admin` nor another account.
#[derive(Debug, Clone)]
struct RolePattern(String);

impl RolePattern {
    fn new(pattern: &str) -> Self {
        Self(pattern.to_owned())
    }

    fn matches(&self, arn: &str) -> bool {
        let pattern: Vec<char> = self.0.chars().collect();
        let text: Vec<char> = arn.chars().collect();
        // matched[j]: the pattern so far matches text[..j].
        let mut matched = vec![false; text.len() + 1];
        matched[0] = true;
        for &p in &pattern {
            let mut next = vec![false; text.len() + 1];
            if p == '*' {
                // Extend a match over any characters except ':'.
                for j in 0..=text.len() {
                    next[j] = matched[j] || (j > 0 && next[j - 1] && text[j - 1] != ':');
                }
            } else {
                for j in 1..=text.len() {
                    next[j] = matched[j - 1] && text[j - 1] == p;
                }
            }
            matched = next;
        }
        matched[text.len()]
    }
}

impl std::fmt::Display for RolePattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn split(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// SSM name prefixes. An entry `/a/b` allows `/a/b` itself and everything below
/// `/a/b/` (never `/a/bc`); an entry ending in `*` is a plain string prefix; `*`
/// alone, or an empty list, allows everything.
#[derive(Debug, Clone)]
enum PathAllowList {
    Any,
    Prefixes(Vec<String>),
}

impl PathAllowList {
    fn parse(raw: &str) -> Self {
        let entries: Vec<String> = split(raw).map(str::to_owned).collect();
        if entries.is_empty() || entries.iter().any(|e| e == "*") {
            Self::Any
        } else {
            Self::Prefixes(entries)
        }
    }

    fn allows(&self, name: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Prefixes(entries) => entries.iter().any(|entry| {
                if let Some(prefix) = entry.strip_suffix('*') {
                    name.starts_with(prefix)
                } else {
                    let base = entry.trim_end_matches('/');
                    name == base
                        || name == entry
                        || name
                            .strip_prefix(base)
                            .is_some_and(|rest| rest.starts_with('/'))
                }
            }),
        }
    }
}

impl std::fmt::Display for PathAllowList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Any => f.write_str("*"),
            Self::Prefixes(p) => f.write_str(&p.join(",")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
        .unwrap()
    }

    #[test]
    fn defaults_allow_every_path_and_region_but_no_role() {
        let c = Config::default();
        assert!(c.parameter_allowed("/anything/at/all"));
        assert!(c.region_allowed("eu-west-3"));
        assert!(!c.role_allowed("arn:aws:iam::123456789012:role/x"));
    }

    #[test]
    fn path_prefix_matches_whole_segments_only() {
        let c = config(&[(ENV_ALLOWED_PARAMETER_PATHS, "/myapp, /shared/")]);
        assert!(c.parameter_allowed("/myapp"));
        assert!(c.parameter_allowed("/myapp/edge-arn"));
        assert!(c.parameter_allowed("/shared/x/y"));
        assert!(!c.parameter_allowed("/myapp-secrets/key"));
        assert!(!c.parameter_allowed("/other/x"));
    }

    #[test]
    fn path_entry_with_star_is_a_plain_prefix() {
        let c = config(&[(ENV_ALLOWED_PARAMETER_PATHS, "/team-*")]);
        assert!(c.parameter_allowed("/team-a/x"));
        assert!(!c.parameter_allowed("/teams"));
    }

    #[test]
    fn region_list_restricts_and_rejects_bad_codes() {
        let c = config(&[(ENV_ALLOWED_REGIONS, "us-east-1,ap-northeast-1")]);
        assert!(c.region_allowed("us-east-1"));
        assert!(!c.region_allowed("eu-west-1"));
        let bad = Config::from_lookup(|n| (n == ENV_ALLOWED_REGIONS).then(|| "useast1".to_owned()));
        assert!(bad.unwrap_err().to_string().contains("useast1"));
    }

    #[test]
    fn an_invalid_value_refuses_resolution_but_keeps_the_rest() {
        let c = Config::from_lookup(|n| match n {
            ENV_ALLOWED_REGIONS => Some("useast1".to_owned()),
            ENV_ALLOWED_ROLE_ARNS => Some("arn:aws:iam::1:role/r".to_owned()),
            _ => None,
        });
        assert!(c.is_err());
        let c = Config::from_lookup_or_refusing(|n| match n {
            ENV_ALLOWED_REGIONS => Some("useast1".to_owned()),
            ENV_ALLOWED_ROLE_ARNS => Some("arn:aws:iam::1:role/r".to_owned()),
            _ => None,
        });
        assert!(
            c.refusal()
                .unwrap()
                .starts_with("CRP_ALLOWED_REGIONS: 'useast1' is not an AWS region code")
        );
        assert!(
            c.role_allowed("arn:aws:iam::1:role/r"),
            "the valid settings still apply"
        );
        assert!(Config::default().refusal().is_none());
    }

    #[test]
    fn role_patterns_use_wildcards() {
        let c = config(&[(
            ENV_ALLOWED_ROLE_ARNS,
            "arn:aws:iam::222222222222:role/crp-*",
        )]);
        assert!(c.role_allowed("arn:aws:iam::222222222222:role/crp-reader"));
        assert!(!c.role_allowed("arn:aws:iam::333333333333:role/crp-reader"));
    }

    #[test]
    fn a_role_star_never_spans_a_colon_and_question_mark_is_literal() {
        // `*` stops at ':' and `?` matches only itself.
        let c = config(&[(
            ENV_ALLOWED_ROLE_ARNS,
            "arn:aws:iam::222222222222:role/team-*,arn:aws:iam::*:role/reader?",
        )]);
        assert!(c.role_allowed("arn:aws:iam::222222222222:role/team-a"));
        assert!(c.role_allowed("arn:aws:iam::222222222222:role/team-a/b"));
        assert!(c.role_allowed("arn:aws:iam::222222222222:role/team-"));
        assert!(!c.role_allowed("arn:aws:iam::222222222222:role/team-:role/admin"));
        assert!(c.role_allowed("arn:aws:iam::333333333333:role/reader?"));
        assert!(!c.role_allowed("arn:aws:iam::333333333333:role/readers"));
        assert!(!c.role_allowed("arn:aws:iam::3333:3333:role/reader?"));
    }

    #[test]
    fn the_default_response_hosts_are_cloudformations_buckets_in_every_partition() {
        let c = Config::default();
        let from_env = config(&[(ENV_RESPONSE_URL_HOSTS, " ")]);
        // The hosts of real ResponseURLs, with and without the region.
        let allowed = [
            "cloudformation-custom-resource-response-useast1.s3.amazonaws.com",
            "cloudformation-custom-resource-response-useast1.s3.us-east-1.amazonaws.com",
            "cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com",
            "cloudformation-custom-resource-response-uswest2.s3-us-west-2.amazonaws.com",
            "cloudformation-custom-resource-response-apnortheast1.s3-ap-northeast-1.amazonaws.com",
            "cloudformation-custom-resource-response-apnortheast1.s3.ap-northeast-1.amazonaws.com",
            "cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn",
            "cloudformation-custom-resource-response-cnnorthwest1.s3.amazonaws.com.cn",
            "cloudformation-custom-resource-response-usgovwest1.s3-us-gov-west-1.amazonaws.com",
            "cloudformation-custom-resource-response-usisoeast1.s3.us-iso-east-1.c2s.ic.gov",
            "cloudformation-custom-resource-response-usisobeast1.s3.us-isob-east-1.sc2s.sgov.gov",
            "cloudformation-custom-resource-response-euscdeeast1.s3.eusc-de-east-1.amazonaws.eu",
            "CLOUDFORMATION-custom-resource-response-useast1.S3.amazonaws.com",
        ];
        for host in allowed {
            assert!(c.response_url_allowed("https", host), "{host}");
            assert!(from_env.response_url_allowed("https", host), "{host}");
        }
        // A pattern such as `*.amazonaws.com` would let all of these through.
        let refused = [
            "attacker-bucket.s3.amazonaws.com",
            "xyz.execute-api.us-east-1.amazonaws.com",
            "abc.lambda-url.us-east-1.on.aws",
            "cloudformation-custom-resource-response-useast1.evil.com",
            "cloudformation-custom-resource-response-useast1.s3.amazonaws.com.evil.com",
            "cloudformation-custom-resource-response-useast1.evil.s3.amazonaws.com",
            "cloudformation-custom-resource-response-useast1-x.s3.amazonaws.com",
            "cloudformation-custom-resource-response-.s3.amazonaws.com",
            "cloudformation-custom-resource-response-useast1.s3.us-west-2.amazonaws.com",
            "cloudformation-custom-resource-response-useast1.s3-us-east-1.amazonaws.com.cn",
            "cloudformation-custom-resource-response-cnnorth1.s3.amazonaws.com",
            "cloudformation-custom-resource-response-useast1.s3.amazonaws.com.cn",
            "cloudformation-custom-resource-response-useast1.s3-website-us-east-1.amazonaws.com",
            "x.cloudformation-custom-resource-response-useast1.s3.amazonaws.com",
            "127.0.0.1",
        ];
        for host in refused {
            assert!(!c.response_url_allowed("https", host), "{host}");
        }
        assert!(!c.response_url_allowed(
            "http",
            "cloudformation-custom-resource-response-useast1.s3.amazonaws.com"
        ));
    }

    #[test]
    fn response_urls_need_https_except_on_loopback() {
        let c = Config::default();
        assert!(c.response_url_allowed(
            "https",
            "cloudformation-custom-resource-response-useast1.s3.amazonaws.com"
        ));
        assert!(!c.response_url_allowed("http", "bucket.s3.amazonaws.com"));
        assert!(!c.response_url_allowed("https", "evil.example.com"));
        let local = config(&[(ENV_RESPONSE_URL_HOSTS, "127.0.0.1,localhost,::1")]);
        assert!(local.response_url_allowed("http", "127.0.0.1"));
        assert!(local.response_url_allowed("http", "[::1]"));
        assert!(!local.response_url_allowed("http", "10.0.0.1"));
    }
}
