//! The Lambda resolver against a real (local) Lambda and IAM: moto.
//!
//! Needs `CRP_TEST_MOTO_URL` (e.g. `http://127.0.0.1:5123`); the project's
//! test script starts moto and exports it. moto's state is shared by every
//! test, so each test makes its own uniquely named functions and roles.

mod support;

use support::moto_config as sdk_config;
use support::{moto_role, source_error};

use std::sync::Arc;

use aws_sdk_lambda::operation::create_function::builders::CreateFunctionFluentBuilder;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, Environment, FunctionCode, Runtime};
use cross_region_param::error::{LambdaError, ResolveError, SourceError};
use cross_region_param::testing::{RegionClients, read_with};
use cross_region_param::{
    AwsClients, Config, Progress, Requester, Resolve, Resolved, Resolver, ResourceProperties,
};
use serde_json::json;

const REGION: &str = "us-east-1";

struct Moto {
    aws: Arc<AwsClients>,
    clients: Arc<RegionClients>,
}

impl Moto {
    async fn new() -> Self {
        let aws = Arc::new(AwsClients::from_config(sdk_config().await));
        let clients = aws.region(REGION).await;
        Self { aws, clients }
    }

    fn lambda(&self) -> &aws_sdk_lambda::Client {
        &self.clients.lambda
    }

    async fn resolve(&self, props: &ResourceProperties) -> Result<Resolved, ResolveError> {
        read_with(&self.clients, props, &Progress::default()).await
    }

    /// Creates `name` (Node.js, x86_64, 128 MB, 5 s unless `tweak` says
    /// otherwise) with nothing published.
    async fn function(
        &self,
        name: &str,
        role: &str,
        tweak: impl FnOnce(CreateFunctionFluentBuilder) -> CreateFunctionFluentBuilder,
    ) {
        let create = self
            .lambda()
            .create_function()
            .function_name(name)
            .role(role)
            .handler("index.handler")
            .runtime(Runtime::Nodejs22x)
            .architectures(Architecture::X8664)
            .memory_size(128)
            .timeout(5)
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new(stored_zip("index.js", b"exports.handler=1")))
                    .build(),
            );
        tweak(create).send().await.unwrap();
    }

    /// Changes the code (Lambda publishes nothing new for unchanged code) and
    /// publishes it; returns the new version number.
    async fn publish(&self, name: &str, body: &str) -> String {
        self.lambda()
            .update_function_code()
            .function_name(name)
            .zip_file(Blob::new(stored_zip("index.js", body.as_bytes())))
            .send()
            .await
            .unwrap();
        let out = self
            .lambda()
            .publish_version()
            .function_name(name)
            .send()
            .await
            .unwrap();
        out.version().unwrap().to_owned()
    }
}

/// Unique per test process and call, within Lambda's 64-character names.
fn unique(label: &str) -> String {
    support::unique(&format!("crp-{label}"))
}

fn spec(name: &str, qualifier: Option<&str>) -> ResourceProperties {
    let mut props = json!({"Region": REGION, "FunctionName": name});
    if let Some(q) = qualifier {
        props["Qualifier"] = json!(q);
    }
    ResourceProperties::parse(&props).unwrap()
}

fn data(c: &Resolved, key: &str) -> String {
    c.data
        .get(key)
        .cloned()
        .unwrap_or_else(|| panic!("no Data key {key} in {:?}", c.data))
}

/// A one-file zip archive, stored (uncompressed); enough for Lambda to accept.
fn stored_zip(file: &str, body: &[u8]) -> Vec<u8> {
    let crc = crc32(body);
    let size = u32::try_from(body.len()).unwrap();
    let name_len = u16::try_from(file.len()).unwrap();
    let mut local = Vec::new();
    local.extend(0x0403_4b50_u32.to_le_bytes());
    local.extend(20_u16.to_le_bytes()); // version needed
    local.extend([0, 0, 0, 0, 0, 0]); // flags, method (stored), time
    local.extend(0x0021_u16.to_le_bytes()); // date: 1980-01-01
    local.extend(crc.to_le_bytes());
    local.extend(size.to_le_bytes());
    local.extend(size.to_le_bytes());
    local.extend(name_len.to_le_bytes());
    local.extend(0_u16.to_le_bytes());
    local.extend(file.as_bytes());
    local.extend(body);

    let mut central = Vec::new();
    central.extend(0x0201_4b50_u32.to_le_bytes());
    central.extend(20_u16.to_le_bytes()); // made by
    central.extend(20_u16.to_le_bytes()); // needed
    central.extend([0, 0, 0, 0, 0, 0]);
    central.extend(0x0021_u16.to_le_bytes());
    central.extend(crc.to_le_bytes());
    central.extend(size.to_le_bytes());
    central.extend(size.to_le_bytes());
    central.extend(name_len.to_le_bytes());
    central.extend([0; 12]); // extra, comment, disk, internal and external attributes
    central.extend(0_u32.to_le_bytes()); // offset of the local header
    central.extend(file.as_bytes());

    let mut zip = local;
    let central_offset = u32::try_from(zip.len()).unwrap();
    let central_size = u32::try_from(central.len()).unwrap();
    zip.extend(central);
    zip.extend(0x0605_4b50_u32.to_le_bytes());
    zip.extend([0, 0, 0, 0]); // disk numbers
    zip.extend(1_u16.to_le_bytes());
    zip.extend(1_u16.to_le_bytes());
    zip.extend(central_size.to_le_bytes());
    zip.extend(central_offset.to_le_bytes());
    zip.extend(0_u16.to_le_bytes());
    zip
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0_u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn the_test_zip_has_a_correct_checksum() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
}

#[tokio::test]
async fn latest_of_120_published_versions_is_version_120() {
    let moto = Moto::new().await;
    let name = unique("many");
    let role = moto_role(&name, false).await;
    moto.function(&name, &role, |f| f).await;
    let mut last_sha = String::new();
    for i in 1..=120 {
        let version = moto.publish(&name, &format!("exports.v={i}")).await;
        assert_eq!(version, i.to_string());
        if i == 120 {
            let config = moto
                .lambda()
                .get_function_configuration()
                .function_name(&name)
                .qualifier("120")
                .send()
                .await
                .unwrap();
            last_sha = config.code_sha256().unwrap().to_owned();
        }
    }

    let got = moto.resolve(&spec(&name, None)).await.unwrap();

    let function_arn = format!("arn:aws:lambda:{REGION}:123456789012:function:{name}");
    assert_eq!(data(&got, "Version"), "120");
    assert_eq!(data(&got, "VersionArn"), format!("{function_arn}:120"));
    assert_eq!(data(&got, "FunctionArn"), function_arn);
    assert_eq!(data(&got, "CodeSha256"), last_sha);
    assert!(
        got.identity
            .contains(&format!("FunctionName:{function_arn}:120"))
    );
    assert!(
        got.identity
            .contains(&format!("FunctionName:CodeSha256={last_sha}"))
    );
}

#[tokio::test]
async fn an_alias_or_number_qualifier_picks_that_version() {
    let moto = Moto::new().await;
    let name = unique("alias");
    let role = moto_role(&name, false).await;
    moto.function(&name, &role, |f| f).await;
    for i in 1..=3 {
        moto.publish(&name, &format!("exports.v={i}")).await;
    }
    moto.lambda()
        .create_alias()
        .function_name(&name)
        .name("live")
        .function_version("2")
        .send()
        .await
        .unwrap();

    let by_alias = moto.resolve(&spec(&name, Some("live"))).await.unwrap();
    let by_number = moto.resolve(&spec(&name, Some("1"))).await.unwrap();
    let latest = moto.resolve(&spec(&name, None)).await.unwrap();

    assert_eq!(data(&by_alias, "Version"), "2");
    assert!(data(&by_alias, "VersionArn").ends_with(&format!("{name}:2")));
    assert_eq!(data(&by_number, "Version"), "1");
    assert_eq!(data(&latest, "Version"), "3");
}

#[tokio::test]
async fn missing_function_missing_alias_and_unpublished_function_each_say_what_to_do() {
    let moto = Moto::new().await;
    let missing = unique("ghost");
    let unpublished = unique("draft");
    let role = moto_role(&unpublished, false).await;
    moto.function(&unpublished, &role, |f| f).await;

    let no_function = moto.resolve(&spec(&missing, None)).await.unwrap_err();
    let no_function_via_alias = moto
        .resolve(&spec(&missing, Some("live")))
        .await
        .unwrap_err();
    let no_alias = moto
        .resolve(&spec(&unpublished, Some("live")))
        .await
        .unwrap_err();
    let no_version = moto.resolve(&spec(&unpublished, None)).await.unwrap_err();
    let latest = moto
        .resolve(&spec(&unpublished, Some("$LATEST")))
        .await
        .unwrap_err();

    assert_eq!(
        no_function.to_string(),
        format!(
            "Lambda function {missing} not found in us-east-1; check FunctionName and Region (the function must exist in the Region this resource reads from)"
        )
    );
    assert_eq!(no_function_via_alias.to_string(), no_function.to_string());
    assert_eq!(
        no_alias.to_string(),
        format!(
            "alias live of Lambda function {unpublished} not found in us-east-1; check Qualifier, or create the alias (AWS::Lambda::Alias or `aws lambda create-alias`)"
        )
    );
    assert_eq!(
        no_version.to_string(),
        format!(
            "Lambda function {unpublished} in us-east-1 has no published version, only $LATEST; publish a version (e.g. AWS::Lambda::Version or `aws lambda publish-version --function-name {unpublished}`) and deploy again"
        )
    );
    assert!(
        matches!(
            source_error(&latest),
            Some(SourceError::Lambda(LambdaError::LatestNotAllowed { function }))
                if *function == unpublished
        ),
        "{latest}"
    );
    let reasons = [
        no_function.to_string(),
        no_alias.to_string(),
        no_version.to_string(),
    ];
    for (i, a) in reasons.iter().enumerate() {
        for b in &reasons[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

#[tokio::test]
async fn a_missing_version_number_is_told_apart_from_a_missing_function() {
    let moto = Moto::new().await;
    let name = unique("gap");
    let role = moto_role(&name, false).await;
    moto.function(&name, &role, |f| f).await;
    moto.publish(&name, "exports.v=1").await;

    let err = moto.resolve(&spec(&name, Some("9"))).await.unwrap_err();

    assert!(
        matches!(
            source_error(&err),
            Some(SourceError::Lambda(LambdaError::VersionNotFound {
                where_given: "Qualifier",
                function,
                version,
                region,
            })) if *function == name && version == "9" && region == "us-east-1"
        ),
        "{err}"
    );

    // The version written into FunctionName is fixed there, not in Qualifier.
    let in_name = moto
        .resolve(&spec(&format!("{name}:9"), None))
        .await
        .unwrap_err();
    assert!(
        matches!(
            source_error(&in_name),
            Some(SourceError::Lambda(LambdaError::VersionNotFound {
                where_given: "the qualifier in FunctionName",
                function,
                version,
                region,
            })) if *function == format!("{name}:9") && version == "9" && region == "us-east-1"
        ),
        "{in_name}"
    );
}

fn edge_spec(name: &str, event: &str) -> ResourceProperties {
    ResourceProperties::parse(
        &json!({"Region": REGION, "FunctionName": name, "EdgeEventType": event}),
    )
    .unwrap()
}

#[tokio::test]
async fn viewer_request_check_lists_every_violation_of_the_resolved_version() {
    let moto = Moto::new().await;
    let name = unique("edge-bad");
    let role = moto_role(&name, true).await;
    moto.function(&name, &role, |f| {
        f.runtime(Runtime::Providedal2023)
            .handler("bootstrap")
            .set_architectures(Some(vec![Architecture::Arm64]))
            .memory_size(256)
            .timeout(10)
            .environment(Environment::builder().variables("STAGE", "prod").build())
    })
    .await;
    moto.publish(&name, "exports.v=1").await;

    let err = moto
        .resolve(&edge_spec(&name, "viewer-request"))
        .await
        .unwrap_err();

    let Some(SourceError::Lambda(LambdaError::NotEdgeCompatible {
        version_arn,
        event,
        problems,
    })) = source_error(&err)
    else {
        panic!("{err}");
    };
    assert_eq!(
        version_arn,
        &format!("arn:aws:lambda:us-east-1:123456789012:function:{name}:1")
    );
    assert_eq!(event.as_str(), "viewer-request");
    // One problem per rule broken, in the order the rules are checked.
    let openings = [
        "its architecture is arm64",
        "its runtime is provided.al2023",
        "it has 1 environment variable,",
        "its memory is 256 MB",
        "its timeout is 10 s",
    ];
    assert_eq!(problems.len(), openings.len(), "{problems:#?}");
    for (problem, opening) in problems.iter().zip(openings) {
        assert!(problem.starts_with(opening), "{opening:?}: {problem}");
    }
}

#[tokio::test]
async fn a_compliant_nodejs_version_passes_the_edge_check() {
    let moto = Moto::new().await;
    let name = unique("edge-ok");
    let role = moto_role(&name, true).await;
    moto.function(&name, &role, |f| f).await;
    moto.publish(&name, "exports.v=1").await;

    let got = moto
        .resolve(&edge_spec(&name, "viewer-request"))
        .await
        .unwrap();

    assert_eq!(data(&got, "Version"), "1");
}

#[tokio::test]
async fn an_execution_role_without_edge_trust_is_named() {
    let moto = Moto::new().await;
    let name = unique("edge-role");
    let role = moto_role(&name, false).await;
    moto.function(&name, &role, |f| f).await;
    moto.publish(&name, "exports.v=1").await;

    let err = moto
        .resolve(&edge_spec(&name, "origin-request"))
        .await
        .unwrap_err();

    let Some(SourceError::Lambda(LambdaError::NotEdgeCompatible {
        event, problems, ..
    })) = source_error(&err)
    else {
        panic!("{err}");
    };
    assert_eq!(event.as_str(), "origin-request");
    let [problem] = &problems[..] else {
        panic!("{problems:#?}");
    };
    assert!(problem.starts_with("its execution role"), "{problem}");
    assert!(
        problem.contains(&role) && problem.contains("edgelambda.amazonaws.com"),
        "{problem}"
    );
}

#[tokio::test]
async fn the_physical_id_changes_exactly_when_a_new_version_is_published() {
    let moto = Moto::new().await;
    let name = unique("ids");
    let role = moto_role(&name, false).await;
    moto.function(&name, &role, |f| f).await;
    moto.publish(&name, "exports.v=1").await;

    let resolver = Resolver::new(Arc::clone(&moto.aws), Arc::new(Config::default()));
    let raw = json!({"Region": REGION, "FunctionName": name, "Refresh": "deploy-1"});
    let props = ResourceProperties::parse(&raw).unwrap();
    let id = || async {
        let resolved = resolver
            .resolve(&props, &Requester::default(), &Progress::default())
            .await
            .unwrap();
        (
            props.physical_id(&resolved.identity),
            resolved.data["Version"].clone(),
        )
    };

    let (first, v1) = id().await;
    let (again, v1_again) = id().await;
    moto.publish(&name, "exports.v=2").await;
    let (after_publish, v2) = id().await;

    assert_eq!(
        (v1.as_str(), v1_again.as_str(), v2.as_str()),
        ("1", "1", "2")
    );
    assert_eq!(first, again, "nothing changed, so the id must not");
    assert_ne!(first, after_publish, "a new version must give a new id");
}
