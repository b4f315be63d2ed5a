//! `RoleArn` against a fake STS on loopback, where moto cannot show the case:
//! counting AssumeRole calls (the allow-list is checked before any, assumed
//! credentials are cached) and an STS that refuses.

use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use cross_region_param::aws::AwsClients;
use cross_region_param::properties::RoleSpec;
use cross_region_param::resolve::{Progress, Requester};
use cross_region_param::{Config, Resolver, ResourceProperties};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ROLE: &str = "arn:aws:iam::222222222222:role/reader";
const ASSUMED_KEY: &str = "ASIAFAKEASSUMEDKEY01";

/// One request the fake STS received.
#[derive(Debug, Clone)]
struct Seen {
    action: String,
    body: String,
    authorization: String,
}

/// A minimal STS speaking the query protocol over HTTP/1.1 on loopback.
struct FakeSts {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeSts {
    async fn start(refuse_assume_role: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let log = Arc::clone(&log);
                tokio::spawn(serve(socket, log, refuse_assume_role));
            }
        });
        Self { url, seen }
    }

    fn calls(&self, action: &str) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.action == action)
            .cloned()
            .collect()
    }

    fn total(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&self.url)
            .region(Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                "AKIAPROVIDERKEY00001",
                "test",
                None,
                None,
                "test",
            ))
            .load()
            .await
    }
}

async fn serve(mut socket: TcpStream, log: Arc<Mutex<Vec<Seen>>>, refuse: bool) {
    let mut buf = Vec::new();
    loop {
        let Some(head_end) = read_until_head(&mut socket, &mut buf).await else {
            return;
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let header = |name: &str| {
            head.lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.trim()
                        .eq_ignore_ascii_case(name)
                        .then(|| v.trim().to_owned())
                })
                .unwrap_or_default()
        };
        let length: usize = header("content-length").parse().unwrap_or(0);
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).to_string();
        buf.drain(..head_end + length);
        let action = body
            .split('&')
            .find_map(|p| p.strip_prefix("Action="))
            .unwrap_or_default()
            .to_owned();
        log.lock().unwrap().push(Seen {
            action: action.clone(),
            body: body.clone(),
            authorization: header("authorization"),
        });
        let (status, xml) = answer(&action, refuse);
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{xml}",
            xml.len()
        );
        if socket.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Reads into `buf` until it holds a full request head; returns where the body starts.
async fn read_until_head(socket: &mut TcpStream, buf: &mut Vec<u8>) -> Option<usize> {
    loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Some(i + 4);
        }
        let mut chunk = [0u8; 4096];
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn answer(action: &str, refuse: bool) -> (&'static str, String) {
    const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
    match action {
        "AssumeRole" if refuse => (
            "403 Forbidden",
            format!(
                "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>AccessDenied</Code>\
                 <Message>User: arn:aws:iam::123456789012:user/provider is not authorized to perform: sts:AssumeRole on resource: {ROLE}</Message>\
                 </Error><RequestId>r1</RequestId></ErrorResponse>"
            ),
        ),
        "AssumeRole" => (
            "200 OK",
            format!(
                "<AssumeRoleResponse xmlns=\"{NS}\"><AssumeRoleResult><Credentials>\
                 <AccessKeyId>{ASSUMED_KEY}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey>\
                 <SessionToken>token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration>\
                 </Credentials><AssumedRoleUser><AssumedRoleId>AROAFAKE:s</AssumedRoleId>\
                 <Arn>arn:aws:sts::222222222222:assumed-role/reader/s</Arn></AssumedRoleUser>\
                 </AssumeRoleResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata>\
                 </AssumeRoleResponse>"
            ),
        ),
        "GetCallerIdentity" => (
            "200 OK",
            format!(
                "<GetCallerIdentityResponse xmlns=\"{NS}\"><GetCallerIdentityResult>\
                 <Arn>arn:aws:sts::222222222222:assumed-role/reader/s</Arn><UserId>AROAFAKE:s</UserId>\
                 <Account>222222222222</Account></GetCallerIdentityResult>\
                 <ResponseMetadata><RequestId>r3</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
            ),
        ),
        _ => (
            "400 Bad Request",
            format!(
                "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>InvalidAction</Code>\
                 <Message>not faked: {action}</Message></Error><RequestId>r4</RequestId></ErrorResponse>"
            ),
        ),
    }
}

fn config_allowing(pattern: &str) -> Arc<Config> {
    let pattern = pattern.to_owned();
    Arc::new(
        Config::from_lookup(move |k| (k == "CRP_ALLOWED_ROLE_ARNS").then(|| pattern.clone()))
            .unwrap(),
    )
}

fn requester() -> Requester {
    Requester {
        stack_id: "arn:aws:cloudformation:ap-northeast-1:123456789012:stack/app/5f1e".into(),
        logical_resource_id: "EdgeAuth".into(),
    }
}

fn role_props(role: &str) -> ResourceProperties {
    ResourceProperties::parse(&json!({
        "Region": "us-east-1",
        "ParameterName": "/myapp/edge-arn",
        "RoleArn": role,
    }))
    .unwrap()
}

#[tokio::test]
async fn a_role_outside_the_allow_list_fails_before_any_sts_call() {
    let sts = FakeSts::start(true).await;
    let clients = Arc::new(AwsClients::from_config(sts.sdk_config().await));
    let resolver = Resolver::new(clients, config_allowing("arn:aws:iam::333333333333:role/*"));

    let err = resolver
        .resolve_sources(&role_props(ROLE), &requester(), &Progress::default())
        .await
        .unwrap_err()
        .to_string();

    assert!(
        err.starts_with("not allowed by the provider's configuration"),
        "{err}"
    );
    assert!(err.contains(ROLE), "{err}");
    assert_eq!(sts.total(), 0, "no request may reach AWS");
}

#[tokio::test]
async fn a_role_sts_refuses_fails_with_access_denied_on_assume_role() {
    let sts = FakeSts::start(true).await;
    let clients = Arc::new(AwsClients::from_config(sts.sdk_config().await));
    let resolver = Resolver::new(clients, config_allowing("arn:aws:iam::222222222222:role/*"));

    let err = resolver
        .resolve_sources(&role_props(ROLE), &requester(), &Progress::default())
        .await
        .unwrap_err()
        .to_string();

    assert!(
        err.starts_with(&format!(
            "access denied: sts:AssumeRole on {ROLE} in us-east-1"
        )),
        "{err}"
    );
    assert!(err.contains("trust policy of"), "{err}");
    // The refusal is not cached: nothing but the one AssumeRole was sent.
    assert_eq!(sts.calls("AssumeRole").len(), 1);
    assert_eq!(sts.total(), 1);
}

#[tokio::test]
async fn assumed_role_clients_and_credentials_are_reused_across_requests() {
    let sts = FakeSts::start(false).await;
    let clients = AwsClients::from_config(sts.sdk_config().await);
    let role = RoleSpec {
        arn: ROLE.into(),
        external_id: Some("tenant-42".into()),
    };
    let progress = Progress::default();

    let first = clients
        .assumed("us-east-1", &role, "crp-app-EdgeAuth", &progress)
        .await
        .unwrap();
    let assume = sts.calls("AssumeRole");
    assert_eq!(assume.len(), 1);
    assert!(
        assume[0].body.contains("ExternalId=tenant-42"),
        "{assume:?}"
    );
    assert!(
        assume[0].body.contains("RoleSessionName=crp-app-EdgeAuth"),
        "{assume:?}"
    );

    // Two reads through the role's clients, then a second request for the
    // same role: all signed with the assumed key, no further AssumeRole.
    for _ in 0..2 {
        first.sts.get_caller_identity().send().await.unwrap();
    }
    let again = clients
        .assumed("us-east-1", &role, "crp-app-EdgeAuth", &progress)
        .await
        .unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    let out = again.sts.get_caller_identity().send().await.unwrap();
    assert_eq!(out.account(), Some("222222222222"));

    assert_eq!(sts.calls("AssumeRole").len(), 1);
    let reads = sts.calls("GetCallerIdentity");
    assert_eq!(reads.len(), 3);
    assert!(
        reads.iter().all(|r| r
            .authorization
            .contains(&format!("Credential={ASSUMED_KEY}/"))),
        "{reads:?}"
    );
    // The eager AssumeRole itself used the provider's own credentials.
    assert!(
        sts.calls("AssumeRole")[0]
            .authorization
            .contains("Credential=AKIAPROVIDERKEY00001/")
    );

    // A different ExternalId is a different session: it must be validated by
    // STS itself, never ride on the cached one.
    let other = RoleSpec {
        arn: ROLE.into(),
        external_id: Some("tenant-43".into()),
    };
    let third = clients
        .assumed("us-east-1", &other, "crp-app-EdgeAuth", &progress)
        .await
        .unwrap();
    assert!(!Arc::ptr_eq(&first, &third));
    assert_eq!(sts.calls("AssumeRole").len(), 2);
}
