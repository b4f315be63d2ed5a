//! SSM cases moto cannot show: access denied (moto enforces no IAM policy).

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ssm::operation::get_parameters::GetParametersError;
use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use cross_region_param::error::{FailureKind, ResolveError, SourceError, SsmError};
use cross_region_param::testing::{RegionClients, read_with};
use cross_region_param::{Progress, ResourceProperties};
use serde_json::json;

#[tokio::test]
async fn access_denied_names_the_action_and_the_parameter_arn() {
    let denied = mock!(aws_sdk_ssm::Client::get_parameters).then_error(|| {
        GetParametersError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("User: arn:aws:sts::123456789012:assumed-role/crp/x is not authorized to perform: ssm:GetParameters")
                .build(),
        )
    });
    let who = mock!(aws_sdk_sts::Client::get_caller_identity).then_output(|| {
        GetCallerIdentityOutput::builder()
            .account("123456789012")
            .build()
    });
    let ssm_client = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, [&denied]);
    let sts_client = mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&who]);

    let props = ResourceProperties::parse(
        &json!({"Region": "us-east-1", "ParameterName": "/myapp/edge-arn:prod"}),
    )
    .unwrap();
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .build();
    let mut clients = RegionClients::new(&config, "us-east-1");
    clients.ssm = ssm_client.into();
    clients.sts = sts_client.into();
    let failure = read_with(&clients, &props, &Progress::default())
        .await
        .unwrap_err();
    let ResolveError::Source(source) = &failure else {
        panic!("{failure}");
    };
    let SourceError::Ssm(SsmError::Aws(call)) = &**source else {
        panic!("{failure}");
    };
    assert_eq!(call.kind, FailureKind::AccessDenied);
    assert_eq!(call.action, "ssm:GetParameters");
    assert_eq!(
        call.target,
        "arn:aws:ssm:us-east-1:123456789012:parameter/myapp/edge-arn"
    );
    assert_eq!(call.region, "us-east-1");
    // The remedy is advice in words.
    let err = failure.to_string();
    assert!(
        err.contains("grant ssm:GetParameters to the provider's role"),
        "{err}"
    );
    assert_eq!(denied.num_calls(), 1);
}
