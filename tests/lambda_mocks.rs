//! The Lambda resolver against mocked Lambda answers, for what moto cannot
//! show: real pagination (moto answers in one page), unsorted pages, versions
//! that are still Pending or have Failed, and weighted aliases.

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_lambda::Client;
use aws_sdk_lambda::operation::get_alias::GetAliasOutput;
use aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput;
use aws_sdk_lambda::operation::list_versions_by_function::ListVersionsByFunctionOutput;
use aws_sdk_lambda::types::{
    AliasRoutingConfiguration, FunctionConfiguration, State, StateReasonCode,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use cross_region_param::testing::{RegionClients, read_with};
use cross_region_param::{Progress, Resolved, ResourceProperties};
use serde_json::json;

const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:auth";

/// Region clients whose Lambda client is `lambda`; every other client points
/// at a closed port, so a stray call fails loudly instead of reaching AWS.
fn clients_with(lambda: Client) -> RegionClients {
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "test",
        )))
        .build();
    let mut clients = RegionClients::new(&config, "us-east-1");
    clients.lambda = lambda.into();
    clients
}

fn spec(name: &str, qualifier: Option<&str>) -> ResourceProperties {
    let mut props = json!({"Region": "us-east-1", "FunctionName": name});
    if let Some(q) = qualifier {
        props["Qualifier"] = json!(q);
    }
    ResourceProperties::parse(&props).unwrap()
}

fn listed(version: &str) -> FunctionConfiguration {
    let arn = if version == "$LATEST" {
        ARN.to_owned()
    } else {
        format!("{ARN}:{version}")
    };
    FunctionConfiguration::builder()
        .function_name("auth")
        .function_arn(arn)
        .version(version)
        .build()
}

fn configuration(version: &str, state: State) -> GetFunctionConfigurationOutput {
    GetFunctionConfigurationOutput::builder()
        .function_name("auth")
        .function_arn(format!("{ARN}:{version}"))
        .version(version)
        .code_sha256(format!("sha-of-{version}"))
        .state(state)
        .build()
}

fn data(c: &Resolved, key: &str) -> String {
    c.data
        .get(key)
        .cloned()
        .unwrap_or_else(|| panic!("no Data key {key} in {:?}", c.data))
}

/// 1..=260 with 23 deleted leaves 237 versions; shuffled with a fixed seed so
/// no page is sorted and the highest version sits on the second page.
fn scattered_pages() -> Vec<Vec<String>> {
    let deleted: [u64; 23] = [
        3, 4, 17, 40, 41, 42, 77, 99, 100, 128, 150, 151, 180, 199, 201, 222, 230, 245, 255, 256,
        257, 258, 259,
    ];
    let mut versions: Vec<u64> = (1..=260).filter(|v| !deleted.contains(v)).collect();
    assert_eq!(versions.len(), 237);
    let mut seed: u64 = 0x5eed;
    for i in (1..versions.len()).rev() {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let j = usize::try_from(seed >> 33).unwrap() % (i + 1);
        versions.swap(i, j);
    }
    let top = versions.iter().position(|v| *v == 260).unwrap();
    versions.swap(top, 60);
    let mut pages: Vec<Vec<String>> = versions
        .chunks(50)
        .map(|c| c.iter().map(u64::to_string).collect())
        .collect();
    pages[0].insert(2, "$LATEST".to_owned());
    pages
}

#[tokio::test]
async fn highest_version_is_found_across_every_unsorted_page() {
    let pages = Arc::new(scattered_pages());
    assert_eq!(pages.len(), 5);
    assert!(!pages.last().unwrap().contains(&"260".to_owned()));

    let served = Arc::clone(&pages);
    let list = mock!(Client::list_versions_by_function)
        .match_requests(|r| r.function_name() == Some("auth") && r.max_items() == Some(50))
        .then_compute_output(move |r| {
            // Opaque markers, as Lambda's are.
            let index = match r.marker() {
                None => 0,
                Some(m) => m.strip_prefix("opaque-").unwrap().parse::<usize>().unwrap(),
            };
            let next = (index + 1 < served.len()).then(|| format!("opaque-{}", index + 1));
            ListVersionsByFunctionOutput::builder()
                .set_versions(Some(served[index].iter().map(|v| listed(v)).collect()))
                .set_next_marker(next)
                .build()
        });
    let config = mock!(Client::get_function_configuration)
        .match_requests(|r| r.function_name() == Some("auth") && r.qualifier() == Some("260"))
        .then_output(|| configuration("260", State::Active));
    let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&list, &config]);

    let got = read_with(
        &clients_with(client),
        &spec("auth", None),
        &Progress::default(),
    )
    .await
    .unwrap();

    assert_eq!(data(&got, "Version"), "260");
    assert_eq!(data(&got, "VersionArn"), format!("{ARN}:260"));
    assert_eq!(data(&got, "FunctionArn"), ARN);
    assert_eq!(data(&got, "CodeSha256"), "sha-of-260");
    assert_eq!(list.num_calls(), pages.len(), "one call per page");
    assert_eq!(config.num_calls(), 1);
}

#[tokio::test]
async fn a_pending_version_is_polled_until_active_and_the_wait_is_named() {
    let config = mock!(Client::get_function_configuration)
        .match_requests(|r| r.qualifier() == Some("7"))
        .sequence()
        .output(|| {
            let mut c = configuration("7", State::Pending);
            c.state_reason = Some("The function is being created.".into());
            c
        })
        .output(|| configuration("7", State::Active))
        .build();
    let client = mock_client!(aws_sdk_lambda, RuleMode::Sequential, [&config]);
    let clients = clients_with(client);
    let progress = Progress::default();
    let wanted = spec("auth", Some("7"));

    let watcher = async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        progress.describe()
    };
    let (got, during_wait) = tokio::join!(read_with(&clients, &wanted, &progress), watcher);

    let got = got.unwrap();
    assert_eq!(data(&got, "VersionArn"), format!("{ARN}:7"));
    assert_eq!(config.num_calls(), 2);
    assert!(
        during_wait.contains("auth:7 in us-east-1 to become Active (it is Pending"),
        "a deadline during the wait must name it: {during_wait}"
    );
}

#[tokio::test]
async fn a_failed_version_fails_with_its_state_reason() {
    let config = mock!(Client::get_function_configuration).then_output(|| {
        let mut c = configuration("7", State::Failed);
        c.state_reason = Some("Lambda was unable to unzip the deployment package.".into());
        c.state_reason_code = Some(StateReasonCode::InvalidZipFileException);
        c
    });
    let client = mock_client!(aws_sdk_lambda, RuleMode::Sequential, [&config]);

    let err = read_with(
        &clients_with(client),
        &spec("auth", Some("7")),
        &Progress::default(),
    )
    .await
    .unwrap_err();

    assert_eq!(
        err.to_string(),
        format!(
            "Lambda version {ARN}:7 is Failed (InvalidZipFileException: Lambda was unable to unzip the deployment package.); fix what the state reason names, publish a new version and deploy again"
        )
    );
}

#[tokio::test]
async fn a_weighted_alias_resolves_to_its_primary_version_and_says_so() {
    let alias = mock!(Client::get_alias)
        .match_requests(|r| r.function_name() == Some("auth") && r.name() == Some("live"))
        .then_output(|| {
            GetAliasOutput::builder()
                .name("live")
                .function_version("4")
                .routing_config(
                    AliasRoutingConfiguration::builder()
                        .additional_version_weights("5", 0.1)
                        .build(),
                )
                .build()
        });
    let config = mock!(Client::get_function_configuration)
        .match_requests(|r| r.qualifier() == Some("4"))
        .then_output(|| configuration("4", State::Active));
    let client = mock_client!(aws_sdk_lambda, RuleMode::Sequential, [&alias, &config]);

    let got = read_with(
        &clients_with(client),
        &spec("auth", Some("live")),
        &Progress::default(),
    )
    .await
    .unwrap();

    assert_eq!(data(&got, "Version"), "4");
    assert_eq!(
        got.identity,
        vec![
            format!("FunctionName:{ARN}:4"),
            "FunctionName:CodeSha256=sha-of-4".to_owned(),
            "FunctionName:alias live is weighted: primary version only".to_owned()
        ]
    );
}

#[tokio::test]
async fn a_qualified_arn_reads_that_version_without_listing() {
    let config = mock!(Client::get_function_configuration)
        .match_requests(|r| r.function_name() == Some(ARN) && r.qualifier() == Some("12"))
        .then_output(|| configuration("12", State::Active));
    let client = mock_client!(aws_sdk_lambda, RuleMode::Sequential, [&config]);

    let got = read_with(
        &clients_with(client),
        &spec(&format!("{ARN}:12"), None),
        &Progress::default(),
    )
    .await
    .unwrap();

    assert_eq!(data(&got, "VersionArn"), format!("{ARN}:12"));
    assert_eq!(data(&got, "FunctionArn"), ARN);
}
