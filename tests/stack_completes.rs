//! A real (moto) CloudFormation stack with a `Custom::CrossRegionParam`
//! resource: it completes only when the provider answers through
//! CloudFormation's response endpoint, and its outputs read the resolved value
//! with `!GetAtt`.
//!
//! moto's response endpoint only finds stacks in its default region, so here
//! the consuming stack lives in us-east-1 and reads from ap-northeast-1, with a
//! decoy under the same name in its own region; the mechanics are the same as
//! the story's direction.

mod support;

use std::time::Duration;

use aws_sdk_cloudformation::types::StackStatus;
use aws_sdk_ssm::types::ParameterType;
use cross_region_param::Deadline;
use serde_json::json;
use support::*;

/// The smallest valid zip archive (no entries): enough for moto to accept a
/// function whose code is never run.
const EMPTY_ZIP: [u8; 22] = [
    0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

#[tokio::test]
async fn a_stack_completes_with_the_other_regions_value_in_its_outputs() {
    let config = moto_config().await;
    let lambda = aws_sdk_lambda::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let cfn = aws_sdk_cloudformation::Client::new(&config);

    let name = unique("/crp-test/stack/shared-value");
    let remote = "value-from-ap-northeast-1";
    put_param("ap-northeast-1", &name, remote, ParameterType::String).await;
    put_param(
        "us-east-1",
        &name,
        "decoy-in-us-east-1",
        ParameterType::String,
    )
    .await;

    // The provider's function only has to exist: moto tries to invoke it (and
    // cannot, without Docker); the test plays the Lambda service instead.
    let role_name = unique("crp-role");
    let role = iam
        .create_role()
        .role_name(&role_name)
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();
    let function = lambda
        .create_function()
        .function_name(unique("crp-provider"))
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .role(role.role().unwrap().arn())
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_smithy_types::Blob::new(EMPTY_ZIP.to_vec()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let service_token = function.function_arn().unwrap().to_owned();

    let template = json!({
        "Resources": {"EdgeAuth": {"Type": "Custom::CrossRegionParam", "Properties": {
            "ServiceToken": service_token, "Region": "ap-northeast-1", "ParameterName": name, "Refresh": "1"}}},
        "Outputs": {
            "SharedValue": {"Value": {"Fn::GetAtt": ["EdgeAuth", "Value"]}},
            "SharedParameterVersion": {"Value": {"Fn::GetAtt": ["EdgeAuth", "ParameterVersion"]}}
        }
    });
    let stack_name = unique("ConsumerStack");
    let stack_id = cfn
        .create_stack()
        .stack_name(&stack_name)
        .template_body(template.to_string())
        .send()
        .await
        .unwrap()
        .stack_id
        .unwrap();
    let status = |cfn: aws_sdk_cloudformation::Client, id: String| async move {
        let out = cfn.describe_stacks().stack_name(id).send().await.unwrap();
        out.stacks.unwrap().remove(0)
    };
    assert_eq!(
        status(cfn.clone(), stack_id.clone()).await.stack_status,
        Some(StackStatus::CreateInProgress),
        "the stack waits for the custom resource"
    );

    // CloudFormation's request, as it would reach the provider.
    let response_url = format!(
        "{}/cloudformation_us-east-1/cfnresponse?stack={stack_id}",
        moto_url()
    );
    let mut event = create_event(
        &response_url,
        template["Resources"]["EdgeAuth"]["Properties"].clone(),
    );
    event["StackId"] = json!(stack_id);
    let provider = moto_provider(test_config(&[])).await;
    let handled = provider
        .handle_json(event, Deadline::after(Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(handled.answer.data["Value"], remote);

    let stack = status(cfn.clone(), stack_id.clone()).await;
    assert_eq!(stack.stack_status, Some(StackStatus::CreateComplete));
    let outputs: std::collections::HashMap<String, String> = stack
        .outputs
        .unwrap_or_default()
        .into_iter()
        .map(|o| (o.output_key.unwrap(), o.output_value.unwrap_or_default()))
        .collect();
    assert_eq!(outputs.get("SharedValue").map(String::as_str), Some(remote));
    assert_eq!(
        outputs.get("SharedParameterVersion").map(String::as_str),
        Some("1")
    );
}
