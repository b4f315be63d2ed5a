//! Where `crp` gets its AWS identity and its trust anchors: as the AWS CLI
//! does, so `crp` works wherever `aws` works.
//!
//! The Lambda reads its role's credentials from its environment and nothing
//! else (`AwsClients::from_env`). A person at a terminal signs in many ways: a
//! profile chosen with `--profile` or `AWS_PROFILE`, IAM Identity Center (SSO,
//! `sso_session` or the legacy `sso_start_url`, with the token `aws sso login`
//! caches), a `credential_process`, `role_arn` with `source_profile` or
//! `credential_source`, web identity. The SDK's own chain does all of that
//! (its SSO and process parts are cargo features enabled for `crp` only); this
//! module picks the profile the way the AWS CLI does, adds the CA bundle it
//! names (`AWS_CA_BUNDLE` first, then the profile's `ca_bundle`), and tells
//! the error classifier who is reading, so a Reason says which profile to fix
//! and how.

use std::borrow::Cow;
use std::path::PathBuf;

use aws_config::profile::{ProfileFileCredentialsProvider, ProfileSet};
use aws_config::provider_config::ProviderConfig;
use aws_config::{Region, SdkConfig};
use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::{Env, Fs};
use cross_region_param::cli::{
    CaBundle, SdkHttpClient, Terminal, TlsError, client_config, config_loader,
};
use thiserror::Error;

/// How many `source_profile` hops are followed to find how a profile signs in
/// (the SDK refuses cycles itself; this only bounds the look-ahead).
const MAX_CHAIN: usize = 16;

/// Why `crp` could not set up AWS access (exit 2: nothing was called).
#[derive(Debug, Error)]
pub enum SetupError {
    /// The AWS config or credentials file cannot be read or parsed.
    #[error("cannot read the AWS config files: {0}")]
    ConfigFiles(String),
    /// The profile asked for does not exist.
    #[error(
        "profile '{name}' (from {from}) is in neither ~/.aws/config nor ~/.aws/credentials (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE); {known}"
    )]
    UnknownProfile {
        /// The profile.
        name: String,
        /// `--profile` or `AWS_PROFILE`.
        from: &'static str,
        /// The profiles there are.
        known: String,
    },
    /// The CA bundle cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// What `crp` talks to AWS with.
#[derive(Debug)]
pub struct Setup {
    /// The SDK configuration: credentials, region, HTTP client with the CA bundle.
    pub config: SdkConfig,
    /// Who the Reasons are for.
    pub terminal: Terminal,
}

/// Loads the AWS CLI's configuration for `profile_flag` (`--profile`), or for
/// the profile `AWS_PROFILE` selects, or for environment credentials.
pub async fn load(profile_flag: Option<&str>) -> Result<Setup, SetupError> {
    let env_profile = std::env::var("AWS_PROFILE")
        .ok()
        .filter(|p| !p.trim().is_empty());
    let profiles = aws_config::profile::load(
        &Fs::real(),
        &Env::real(),
        &EnvConfigFiles::default(),
        profile_flag.map(|p| Cow::Owned(p.to_owned())),
    )
    .await
    .map_err(|e| SetupError::ConfigFiles(e.to_string()))?;
    let selected = profiles.selected_profile().to_owned();
    let exists = profiles.get_profile(&selected).is_some();
    let named_by = if profile_flag.is_some() {
        Some("--profile")
    } else if env_profile.is_some() {
        Some("AWS_PROFILE")
    } else {
        None
    };
    if let (Some(from), false) = (named_by, exists) {
        return Err(SetupError::UnknownProfile {
            name: selected,
            from,
            known: known_profiles(&profiles),
        });
    }

    // As the AWS CLI: `--profile` wins over credentials in the environment;
    // `AWS_PROFILE` does not (the SDK's chain reads the environment first).
    let env_keys = profile_flag.is_none() && env_is_set("AWS_ACCESS_KEY_ID");
    let terminal = Terminal {
        profile: (!env_keys && exists).then(|| selected.clone()),
        env_keys,
        sso: exists && signs_in_with_sso(&profiles, &selected),
    };

    let bundle = CaBundle::from_env().or_else(|| profile_ca_bundle(&profiles, &selected));
    let tls = client_config(bundle.as_ref())?;
    let http = SdkHttpClient::shared_with(tls);

    let mut loader = config_loader(http.clone());
    if let Some(profile) = profile_flag {
        // The region the profile's STS and SSO calls start from, in the AWS
        // CLI's order: the environment, then the profile.
        let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|r| !r.trim().is_empty()))
            .or_else(|| {
                profiles
                    .get_profile(profile)
                    .and_then(|p| p.get("region"))
                    .map(str::to_owned)
            })
            .map(Region::new);
        let provider_config = ProviderConfig::without_region()
            .with_http_client(http)
            .with_region(region.clone());
        let credentials = ProfileFileCredentialsProvider::builder()
            .configure(&provider_config)
            .profile_name(profile)
            .build();
        loader = loader
            .profile_name(profile)
            .credentials_provider(credentials);
        if let Some(region) = region {
            loader = loader.region(region);
        }
    }
    Ok(Setup {
        config: loader.load().await,
        terminal,
    })
}

/// "profiles there: a, b" or "there are none (`aws configure` makes one)".
fn known_profiles(profiles: &ProfileSet) -> String {
    let mut names: Vec<&str> = profiles.profiles().collect();
    names.sort_unstable();
    if names.is_empty() {
        "there are no profiles: `aws configure` or `aws configure sso` makes one".to_owned()
    } else {
        format!("profiles there: {}", names.join(", "))
    }
}

/// Whether `name`, or a profile its `source_profile` chain reaches, signs in
/// with IAM Identity Center.
fn signs_in_with_sso(profiles: &ProfileSet, name: &str) -> bool {
    let mut current = Some(name);
    for _ in 0..MAX_CHAIN {
        let Some(profile) = current.and_then(|n| profiles.get_profile(n)) else {
            return false;
        };
        if profile.get("sso_session").is_some() || profile.get("sso_start_url").is_some() {
            return true;
        }
        // A profile that names its own credentials ends the chain.
        if profile.get("aws_access_key_id").is_some() || profile.get("credential_process").is_some()
        {
            return false;
        }
        current = profile
            .get("source_profile")
            .filter(|next| Some(*next) != current);
    }
    false
}

/// The profile's `ca_bundle`, with a leading `~/` read as the home directory.
fn profile_ca_bundle(profiles: &ProfileSet, name: &str) -> Option<CaBundle> {
    let raw = profiles.get_profile(name)?.get("ca_bundle")?.trim();
    if raw.is_empty() {
        return None;
    }
    let path = match (raw.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(raw),
    };
    Some(CaBundle {
        path,
        origin: format!("ca_bundle of profile '{name}'"),
    })
}

fn env_is_set(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_runtime::env_config::file::EnvConfigFileKind;

    async fn profiles(config: &str) -> ProfileSet {
        let files = EnvConfigFiles::builder()
            .include_default_config_file(false)
            .include_default_credentials_file(false)
            .with_contents(EnvConfigFileKind::Config, config)
            .build();
        aws_config::profile::load(&Fs::from_slice(&[]), &Env::from_slice(&[]), &files, None)
            .await
            .unwrap_or_else(|e| panic!("test profiles: {e}"))
    }

    #[tokio::test]
    async fn a_role_chained_from_an_sso_profile_signs_in_with_sso() {
        let set = profiles(
            "[profile base]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n\
             [sso-session corp]\nsso_start_url = https://x\nsso_region = us-east-1\n\
             [profile admin]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = base\n\
             [profile keys]\naws_access_key_id = a\naws_secret_access_key = b\n\
             [profile loop]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = loop\n",
        )
        .await;
        assert!(signs_in_with_sso(&set, "base"));
        assert!(signs_in_with_sso(&set, "admin"));
        assert!(!signs_in_with_sso(&set, "keys"));
        assert!(!signs_in_with_sso(&set, "loop"));
        assert!(!signs_in_with_sso(&set, "missing"));
    }

    #[tokio::test]
    async fn a_profiles_ca_bundle_names_the_profile() {
        let set =
            profiles("[profile corp]\nca_bundle = /etc/corp-ca.pem\n[profile none]\nregion = x\n")
                .await;
        let bundle = profile_ca_bundle(&set, "corp");
        assert_eq!(
            bundle.as_ref().map(|b| b.path.clone()),
            Some(PathBuf::from("/etc/corp-ca.pem"))
        );
        assert_eq!(
            bundle.map(|b| b.origin),
            Some("ca_bundle of profile 'corp'".to_owned())
        );
        assert_eq!(profile_ca_bundle(&set, "none"), None);
    }
}
