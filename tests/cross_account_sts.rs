//! `RoleArn` against a fake STS on loopback, where moto cannot show the case:
//! counting AssumeRole calls (the allow-list is checked before any, assumed
//! credentials are cached) and an STS that refuses.

mod support;

use std::sync::Arc;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use cross_region_param::error::{FailureKind, Refusal, ResolveError};
use cross_region_param::{
    AwsClients, Config, Progress, Requester, Resolve, Resolver, ResourceProperties, RoleToAssume,
};
use serde_json::json;
use support::http::{Endpoint, Recorded};

const ROLE: &str = "arn:aws:iam::222222222222:role/reader";
const ASSUMED_KEY: &str = "ASIAFAKEASSUMEDKEY01";

/// A minimal STS speaking the query protocol, on the shared loopback
/// endpoint of the test support.
struct FakeSts {
    endpoint: Endpoint,
}

impl FakeSts {
    async fn start(refuse_assume_role: bool) -> Self {
        let endpoint = Endpoint::start(move |r| {
            let (status, xml) = answer(&action_of(r), refuse_assume_role);
            (
                status,
                vec![("content-type", "text/xml".to_owned())],
                xml.into_bytes(),
            )
        })
        .await;
        Self { endpoint }
    }

    fn calls(&self, action: &str) -> Vec<Recorded> {
        self.endpoint
            .requests()
            .into_iter()
            .filter(|r| action_of(r) == action)
            .collect()
    }

    fn total(&self) -> usize {
        self.endpoint.requests().len()
    }

    async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(self.endpoint.url())
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

fn action_of(r: &Recorded) -> String {
    String::from_utf8_lossy(&r.body)
        .split('&')
        .find_map(|p| p.strip_prefix("Action="))
        .unwrap_or_default()
        .to_owned()
}

fn body_of(r: &Recorded) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

fn authorization_of(r: &Recorded) -> String {
    r.headers.get("authorization").cloned().unwrap_or_default()
}

fn answer(action: &str, refuse: bool) -> (u16, String) {
    const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
    match action {
        "AssumeRole" if refuse => (
            403,
            format!(
                "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>AccessDenied</Code>\
                 <Message>User: arn:aws:iam::123456789012:user/provider is not authorized to perform: sts:AssumeRole on resource: {ROLE}</Message>\
                 </Error><RequestId>r1</RequestId></ErrorResponse>"
            ),
        ),
        "AssumeRole" => (
            200,
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
            200,
            format!(
                "<GetCallerIdentityResponse xmlns=\"{NS}\"><GetCallerIdentityResult>\
                 <Arn>arn:aws:sts::222222222222:assumed-role/reader/s</Arn><UserId>AROAFAKE:s</UserId>\
                 <Account>222222222222</Account></GetCallerIdentityResult>\
                 <ResponseMetadata><RequestId>r3</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
            ),
        ),
        _ => (
            400,
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
        .resolve(&role_props(ROLE), &requester(), &Progress::default())
        .await
        .unwrap_err();

    let ResolveError::NotAllowed(refusals) = &err else {
        panic!("{err}");
    };
    assert!(
        matches!(&refusals[..], [Refusal::Role { arn, .. }] if arn == ROLE),
        "{refusals:?}"
    );
    assert_eq!(sts.total(), 0, "no request may reach AWS");
}

#[tokio::test]
async fn a_role_sts_refuses_fails_with_access_denied_on_assume_role() {
    let sts = FakeSts::start(true).await;
    let clients = Arc::new(AwsClients::from_config(sts.sdk_config().await));
    let resolver = Resolver::new(clients, config_allowing("arn:aws:iam::222222222222:role/*"));

    let failure = resolver
        .resolve(&role_props(ROLE), &requester(), &Progress::default())
        .await
        .unwrap_err();
    let ResolveError::AssumeRole(refused) = &failure else {
        panic!("{failure}");
    };
    assert_eq!(refused.role_arn, ROLE);
    assert_eq!(refused.source.kind, FailureKind::AccessDenied);
    assert_eq!(
        (refused.source.action, refused.source.target.as_str()),
        ("sts:AssumeRole", ROLE)
    );
    assert_eq!(refused.source.region, "us-east-1");
    // The remedy is advice in words: it names the trust policy and the
    // role that needs the permission.
    let err = failure.to_string();
    assert!(err.contains("trust policy of"), "{err}");
    assert!(
        err.contains(&format!(
            "allow the provider's execution role to call sts:AssumeRole on {ROLE}"
        )),
        "the fix names the role that needs the permission: {err}"
    );
    assert_eq!(sts.calls("AssumeRole").len(), 1);
    assert_eq!(sts.total(), 1);

    // The refusal is not cached: a second request asks STS again (and is
    // refused again), so fixing the trust policy takes effect at once.
    let again = resolver
        .resolve(&role_props(ROLE), &requester(), &Progress::default())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(again, err);
    assert_eq!(sts.calls("AssumeRole").len(), 2);
    assert_eq!(sts.total(), 2);
}

#[tokio::test]
async fn assumed_role_clients_and_credentials_are_reused_across_requests() {
    let sts = FakeSts::start(false).await;
    let clients = AwsClients::from_config(sts.sdk_config().await);
    let role = RoleToAssume {
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
        body_of(&assume[0]).contains("ExternalId=tenant-42"),
        "{assume:?}"
    );
    assert!(
        body_of(&assume[0]).contains("RoleSessionName=crp-app-EdgeAuth"),
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
        reads
            .iter()
            .all(|r| authorization_of(r).contains(&format!("Credential={ASSUMED_KEY}/"))),
        "{reads:?}"
    );
    // The eager AssumeRole itself used the provider's own credentials.
    assert!(
        authorization_of(&sts.calls("AssumeRole")[0]).contains("Credential=AKIAPROVIDERKEY00001/")
    );

    // A different ExternalId is a different session: it must be validated by
    // STS itself, never ride on the cached one.
    let other = RoleToAssume {
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
