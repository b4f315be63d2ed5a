//! `crp` signs in as the AWS CLI does, offline: a `credential_process`
//! profile, an IAM Identity Center (SSO) profile with the token `aws sso login`
//! caches (both forms), an expired token, a `source_profile` role chain, web
//! identity, and a CA bundle for a TLS-inspecting proxy. Each run ends in a
//! request a loopback stand-in for SSM receives, and the test reads which
//! access key signed it. The AWS config files live in a temporary HOME, and
//! the SSO portal and STS are loopback stand-ins (`AWS_ENDPOINT_URL_SSO`,
//! `AWS_ENDPOINT_URL_STS`).

mod support;

use std::io::{Read, Write};
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use sha1::{Digest, Sha1};
use support::http::{Endpoint, Recorded, Reply};
use support::unique;

const PARAMETER: &str = "/crp-test/signed";

/// A temporary HOME with `~/.aws/config`, removed on drop.
struct Home {
    dir: PathBuf,
}

impl Home {
    fn new(config: &str) -> Self {
        let dir = std::env::temp_dir().join(unique("crp-home"));
        std::fs::create_dir_all(dir.join(".aws/sso/cache")).unwrap();
        std::fs::write(dir.join(".aws/config"), config).unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes the token `aws sso login` would cache for `key` (the session
    /// name, or the start URL in the legacy form).
    fn cache_sso_token(&self, key: &str, token: &str, expires_at: &str) {
        let name: String = Sha1::digest(key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let body = serde_json::json!({
            "accessToken": token,
            "expiresAt": expires_at,
            "region": "us-east-1",
            "startUrl": "https://corp.awsapps.com/start",
        });
        std::fs::write(
            self.dir.join(format!(".aws/sso/cache/{name}.json")),
            body.to_string(),
        )
        .unwrap();
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `crp` for one SSM parameter with `home`'s AWS config and nothing
/// from the caller's environment but `env`.
async fn crp(home: &Home, args: &[&str], env: &[(&str, &str)]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_crp"))
        .args(["--region", "us-east-1", "--parameter-name", PARAMETER])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home.dir)
        .env("AWS_CONFIG_FILE", home.path(".aws/config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.path(".aws/credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The access key id a SigV4 `Authorization` header names.
fn signed_by(request: &Recorded) -> Option<String> {
    let auth = request.headers.get("authorization")?;
    let credential = auth.split("Credential=").nth(1)?;
    credential.split('/').next().map(str::to_owned)
}

fn target(request: &Recorded) -> &str {
    request
        .headers
        .get("x-amz-target")
        .map_or("", String::as_str)
}

/// SSM's answer to GetParameters for [`PARAMETER`].
fn ssm_parameter() -> Reply {
    let body = serde_json::json!({
        "Parameters": [{
            "Name": PARAMETER,
            "Type": "String",
            "Value": "signed-value",
            "Version": 3,
            "LastModifiedDate": 1_700_000_000.0,
            "ARN": format!("arn:aws:ssm:us-east-1:111122223333:parameter{PARAMETER}"),
            "DataType": "text",
        }],
        "InvalidParameters": [],
    });
    (
        200,
        vec![("content-type", "application/x-amz-json-1.1".to_owned())],
        body.to_string().into_bytes(),
    )
}

fn sts_credentials(operation: &str, access_key: &str) -> Reply {
    let body = format!(
        "<{operation}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{operation}Result>\
         <Credentials><AccessKeyId>{access_key}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey>\
         <SessionToken>session</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>\
         <AssumedRoleUser><AssumedRoleId>AROA:crp</AssumedRoleId><Arn>arn:aws:sts::111122223333:assumed-role/Reader/crp</Arn></AssumedRoleUser>\
         </{operation}Result></{operation}Response>"
    );
    (
        200,
        vec![("content-type", "text/xml".to_owned())],
        body.into_bytes(),
    )
}

/// One loopback stand-in for SSM, STS and the SSO portal.
async fn aws_stand_in() -> Endpoint {
    Endpoint::start(|r| {
        let body = String::from_utf8_lossy(&r.body);
        if target(r) == "AmazonSSM.GetParameters" {
            ssm_parameter()
        } else if r.path == "/federation/credentials" {
            let token = r
                .headers
                .get("x-amz-sso_bearer_token")
                .map_or("", String::as_str);
            if token == "valid-token" {
                let body = serde_json::json!({"roleCredentials": {
                    "accessKeyId": "AKIDFROMSSO",
                    "secretAccessKey": "secret",
                    "sessionToken": "session",
                    "expiration": 4_070_908_800_000_u64,
                }});
                (200, Vec::new(), body.to_string().into_bytes())
            } else {
                (
                    401,
                    vec![("x-amzn-errortype", "UnauthorizedException".to_owned())],
                    br#"{"message":"Session token not found or invalid"}"#.to_vec(),
                )
            }
        } else if body.contains("Action=AssumeRoleWithWebIdentity") {
            sts_credentials("AssumeRoleWithWebIdentity", "AKIDFROMWEBIDENTITY")
        } else if body.contains("Action=AssumeRole") {
            sts_credentials("AssumeRole", "AKIDFROMROLE")
        } else {
            (400, Vec::new(), b"unexpected".to_vec())
        }
    })
    .await
}

fn endpoints(stand_in: &Endpoint) -> [(&'static str, String); 3] {
    [
        ("AWS_ENDPOINT_URL_SSM", stand_in.url()),
        ("AWS_ENDPOINT_URL_STS", stand_in.url()),
        ("AWS_ENDPOINT_URL_SSO", stand_in.url()),
    ]
}

fn env_of<'a>(pairs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The SSM reads the stand-in received, by the access key that signed each.
fn ssm_signers(stand_in: &Endpoint) -> Vec<Option<String>> {
    stand_in
        .requests()
        .iter()
        .filter(|r| target(r) == "AmazonSSM.GetParameters")
        .map(signed_by)
        .collect()
}

#[tokio::test]
async fn a_credential_process_profile_signs_with_what_the_process_prints() {
    let home = Home::new("");
    let script = home.path("creds.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDFROMPROCESS\", \"SecretAccessKey\": \"secret\", \"SessionToken\": \"session\"}'\n",
    )
    .unwrap();
    std::fs::write(
        home.path(".aws/config"),
        format!(
            "[profile broker]\ncredential_process = /bin/sh {}\n",
            script.display()
        ),
    )
    .unwrap();
    let stand_in = aws_stand_in().await;
    let env = endpoints(&stand_in);

    let out = crp(&home, &["--profile", "broker"], &env_of(&env)).await;

    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("Value = signed-value"),
        "{}",
        text(&out)
    );
    assert_eq!(
        ssm_signers(&stand_in),
        vec![Some("AKIDFROMPROCESS".to_owned())]
    );
}

#[tokio::test]
async fn an_sso_profile_uses_the_token_aws_sso_login_cached() {
    let home = Home::new(
        "[profile sso]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Reader\n\
         [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n\
         [profile legacy]\nsso_start_url = https://legacy.awsapps.com/start\nsso_region = us-east-1\n\
         sso_account_id = 111122223333\nsso_role_name = Reader\n",
    );
    home.cache_sso_token("corp", "valid-token", "2099-01-01T00:00:00Z");
    home.cache_sso_token(
        "https://legacy.awsapps.com/start",
        "valid-token",
        "2099-01-01T00:00:00Z",
    );
    let stand_in = aws_stand_in().await;
    let env = endpoints(&stand_in);

    // `AWS_PROFILE` selects the sso_session form, `--profile` the legacy one.
    let mut with_profile = env_of(&env);
    with_profile.push(("AWS_PROFILE", "sso"));
    let session = crp(&home, &[], &with_profile).await;
    let legacy = crp(&home, &["--profile", "legacy"], &env_of(&env)).await;

    assert_eq!(session.status.code(), Some(0), "{}", text(&session));
    assert_eq!(legacy.status.code(), Some(0), "{}", text(&legacy));
    let portal: Vec<Recorded> = stand_in
        .requests()
        .into_iter()
        .filter(|r| r.path == "/federation/credentials")
        .collect();
    assert_eq!(portal.len(), 2, "one GetRoleCredentials per run");
    for call in &portal {
        assert!(call.query.contains("role_name=Reader"), "{}", call.query);
        assert!(
            call.query.contains("account_id=111122223333"),
            "{}",
            call.query
        );
    }
    assert_eq!(
        ssm_signers(&stand_in),
        vec![
            Some("AKIDFROMSSO".to_owned()),
            Some("AKIDFROMSSO".to_owned())
        ]
    );
}

#[tokio::test]
async fn an_expired_sso_token_says_to_run_aws_sso_login_for_that_profile() {
    let home = Home::new(
        "[profile sso]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Reader\n\
         [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n\
         [profile legacy]\nsso_start_url = https://legacy.awsapps.com/start\nsso_region = us-east-1\n\
         sso_account_id = 111122223333\nsso_role_name = Reader\n",
    );
    home.cache_sso_token("corp", "expired-token", "2020-01-01T00:00:00Z");
    home.cache_sso_token(
        "https://legacy.awsapps.com/start",
        "expired-token",
        "2020-01-01T00:00:00Z",
    );
    let stand_in = aws_stand_in().await;
    let env = endpoints(&stand_in);

    let session = crp(&home, &["--profile", "sso"], &env_of(&env)).await;
    let legacy = crp(&home, &["--profile", "legacy"], &env_of(&env)).await;

    for (out, profile) in [(&session, "sso"), (&legacy, "legacy")] {
        let all = text(out);
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(
            all.contains(&format!("run `aws sso login --profile {profile}`")),
            "{all}"
        );
        assert!(
            !all.contains("execution role"),
            "no Lambda advice at a terminal: {all}"
        );
    }
    assert!(ssm_signers(&stand_in).is_empty(), "nothing was read");
}

#[tokio::test]
async fn a_source_profile_chain_assumes_the_role_with_the_source_profiles_keys() {
    let home = Home::new(
        "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = secret\n\
         [profile reader]\nrole_arn = arn:aws:iam::111122223333:role/Reader\nsource_profile = base\n",
    );
    let stand_in = aws_stand_in().await;
    let env = endpoints(&stand_in);
    // `--profile` wins over keys in the environment, as with the AWS CLI.
    let mut with_keys = env_of(&env);
    with_keys.extend([
        ("AWS_ACCESS_KEY_ID", "AKIDENVIRONMENT"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ]);

    let out = crp(&home, &["--profile", "reader"], &with_keys).await;

    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let assume: Vec<Recorded> = stand_in
        .requests()
        .into_iter()
        .filter(|r| String::from_utf8_lossy(&r.body).contains("Action=AssumeRole"))
        .collect();
    assert_eq!(assume.len(), 1);
    assert_eq!(signed_by(&assume[0]).as_deref(), Some("AKIDBASE"));
    assert!(
        String::from_utf8_lossy(&assume[0].body).contains("Reader"),
        "the profile's role_arn is assumed"
    );
    assert_eq!(
        ssm_signers(&stand_in),
        vec![Some("AKIDFROMROLE".to_owned())]
    );
}

#[tokio::test]
async fn web_identity_from_the_environment_signs_with_the_assumed_role() {
    let home = Home::new("");
    let token = home.path("oidc-token");
    std::fs::write(&token, "header.payload.signature").unwrap();
    let stand_in = aws_stand_in().await;
    let mut env = endpoints(&stand_in).to_vec();
    env.push(("AWS_WEB_IDENTITY_TOKEN_FILE", token.display().to_string()));
    env.push((
        "AWS_ROLE_ARN",
        "arn:aws:iam::111122223333:role/Ci".to_owned(),
    ));

    let out = crp(&home, &[], &env_of(&env)).await;

    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        ssm_signers(&stand_in),
        vec![Some("AKIDFROMWEBIDENTITY".to_owned())]
    );
}

#[tokio::test]
async fn a_missing_profile_is_a_usage_error_that_lists_the_profiles() {
    let home = Home::new("[profile dev]\nregion = us-east-1\n[profile prod]\nregion = us-east-1\n");
    let stand_in = aws_stand_in().await;
    let env = endpoints(&stand_in);

    let out = crp(&home, &["--profile", "staging"], &env_of(&env)).await;

    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("profile 'staging' (from --profile)"), "{all}");
    assert!(all.contains("profiles there: dev, prod"), "{all}");
    assert!(stand_in.requests().is_empty());
}

#[tokio::test]
async fn access_denied_at_the_terminal_names_the_profile_not_the_execution_role() {
    let home = Home::new("[profile dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = s\n");
    let denied = Endpoint::start(|r| {
        if target(r) == "AmazonSSM.GetParameters" {
            (
                400,
                vec![("content-type", "application/x-amz-json-1.1".to_owned())],
                br#"{"__type":"AccessDeniedException","message":"not authorized"}"#.to_vec(),
            )
        } else {
            sts_credentials("GetCallerIdentity", "unused")
        }
    })
    .await;
    let url = denied.url();

    let out = crp(&home, &["--profile", "dev"], &[("AWS_ENDPOINT_URL", &url)]).await;

    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("profile 'dev' may not call ssm:GetParameters"),
        "{all}"
    );
    assert!(
        !all.contains("grant ssm:GetParameters to the provider's role"),
        "{all}"
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_at_the_terminal_points_at_the_network_and_proxy() {
    let home = Home::new("");
    let port = support::http::closed_port().await;
    let url = format!("http://127.0.0.1:{port}");

    let out = crp(
        &home,
        &["--timeout", "20"],
        &[
            ("AWS_ENDPOINT_URL", &url),
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ],
    )
    .await;

    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("check your network"), "{all}");
    assert!(all.contains("HTTPS_PROXY"), "{all}");
    assert!(!all.contains("provider's network access"), "{all}");
}

// ---- a TLS-inspecting proxy: a loopback HTTPS endpoint with a private CA ----

/// A CA the test makes, and a certificate it issued for 127.0.0.1.
struct PrivateCa {
    ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

fn private_ca() -> PrivateCa {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "crp test inspecting proxy CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);

    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf_params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

    let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone()], key)
    .unwrap();
    PrivateCa {
        ca_pem: ca_cert.pem(),
        server: Arc::new(server),
    }
}

/// An HTTPS SSM stand-in on 127.0.0.1 (one thread, one connection at a
/// time), recording who signed each request it could read.
struct TlsEndpoint {
    port: u16,
    signers: Arc<Mutex<Vec<Option<String>>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TlsEndpoint {
    fn start(server: Arc<rustls::ServerConfig>) -> Self {
        let listener = StdListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let signers = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, halt) = (Arc::clone(&signers), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
                let Ok(conn) = rustls::ServerConnection::new(Arc::clone(&server)) else {
                    continue;
                };
                let mut tls = rustls::StreamOwned::new(conn, stream);
                if let Some(head) = read_head(&mut tls) {
                    let signer = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("authorization:")
                                .map(str::to_owned)
                        })
                        .and_then(|a| {
                            a.split("credential=")
                                .nth(1)
                                .map(|c| c.split('/').next().unwrap_or("").to_uppercase())
                        });
                    seen.lock().unwrap().push(signer);
                    let (_, _, body) = ssm_parameter();
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = tls.write_all(reply.as_bytes());
                    let _ = tls.write_all(&body);
                    let _ = tls.flush();
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                }
            }
        });
        Self {
            port,
            signers,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    fn signers(&self) -> Vec<Option<String>> {
        self.signers.lock().unwrap().clone()
    }
}

/// The request head and its body (by content-length); `None` when the
/// client gave up during the handshake (an untrusted certificate).
fn read_head(tls: &mut impl Read) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = tls.read(&mut chunk).ok()?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(head);
        }
        let n = tls.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

impl Drop for TlsEndpoint {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[tokio::test]
async fn a_private_ca_is_trusted_only_when_aws_ca_bundle_or_the_profile_names_it() {
    let ca = private_ca();
    let endpoint = TlsEndpoint::start(Arc::clone(&ca.server));
    let home = Home::new("");
    let bundle = home.path("proxy-ca.pem");
    write(&bundle, &ca.ca_pem);
    write(
        &home.path(".aws/config"),
        &format!(
            "[profile corp]\naws_access_key_id = AKIDCORP\naws_secret_access_key = secret\nca_bundle = {}\n",
            bundle.display()
        ),
    );
    let url = endpoint.url();
    let keys = [
        ("AWS_ENDPOINT_URL", url.as_str()),
        ("AWS_ACCESS_KEY_ID", "AKIDTLS"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ];

    let refused = crp(&home, &[], &keys).await;
    let all = text(&refused);
    assert_eq!(refused.status.code(), Some(1), "{all}");
    assert!(
        all.contains("could not make a trusted TLS connection"),
        "{all}"
    );
    assert!(all.contains("point AWS_CA_BUNDLE"), "{all}");
    assert!(
        endpoint.signers().is_empty(),
        "no request went through: {all}"
    );

    let bundle_text = bundle.display().to_string();
    let mut with_bundle = keys.to_vec();
    with_bundle.push(("AWS_CA_BUNDLE", &bundle_text));
    let trusted = crp(&home, &[], &with_bundle).await;
    assert_eq!(trusted.status.code(), Some(0), "{}", text(&trusted));
    assert_eq!(endpoint.signers(), vec![Some("AKIDTLS".to_owned())]);

    let through_profile = crp(&home, &["--profile", "corp"], &[("AWS_ENDPOINT_URL", &url)]).await;
    assert_eq!(
        through_profile.status.code(),
        Some(0),
        "{}",
        text(&through_profile)
    );
    assert_eq!(
        endpoint.signers(),
        vec![Some("AKIDTLS".to_owned()), Some("AKIDCORP".to_owned())]
    );
}

#[tokio::test]
async fn an_unreadable_or_empty_ca_bundle_is_a_usage_error_naming_the_file() {
    let home = Home::new("");
    let missing = home.path("no-such-ca.pem");
    let empty = home.path("empty-ca.pem");
    write(&empty, "not a certificate\n");
    let counting = Endpoint::counting().await;
    let url = counting.url();

    for (file, says) in [
        (&missing, "cannot read the CA bundle"),
        (&empty, "holds no usable PEM certificate"),
    ] {
        let file_text = file.display().to_string();
        let out = crp(
            &home,
            &[],
            &[
                ("AWS_ENDPOINT_URL", &url),
                ("AWS_ACCESS_KEY_ID", "AKIDENV"),
                ("AWS_SECRET_ACCESS_KEY", "secret"),
                ("AWS_CA_BUNDLE", &file_text),
            ],
        )
        .await;
        let all = text(&out);
        assert_eq!(out.status.code(), Some(2), "{all}");
        assert!(all.contains(says), "{all}");
        assert!(all.contains(&file_text), "the file is named: {all}");
        assert!(all.contains("(from AWS_CA_BUNDLE)"), "{all}");
    }
    assert!(counting.requests().is_empty(), "nothing was called");
}
