//! `StackName` against moto: a stack deployed in us-east-1 is read by a
//! resource whose own stack lives in ap-northeast-1, alone and together with
//! SSM parameters.

mod support;

use support::{moto_config as sdk_config, moto_resolver, source_error, unique};

use aws_config::SdkConfig;
use cross_region_param::error::{ResolveError, SourceError, SsmError, StackError};
use cross_region_param::{Config, Resolved};
use serde_json::{Value, json};

/// Deploys a stack in us-east-1 with outputs A (a literal) and B (the name of
/// the SSM parameter it creates); returns B's value.
async fn deploy_edge_stack(config: &SdkConfig, stack: &str) -> String {
    let parameter = format!("/{stack}/made-by-stack");
    let template = json!({
        "Resources": {
            "Made": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Type": "String", "Name": parameter, "Value": "v1"}
            }
        },
        "Outputs": {
            "A": {"Value": "alpha"},
            "B": {"Value": {"Ref": "Made"}}
        }
    });
    aws_sdk_cloudformation::Client::new(config)
        .create_stack()
        .stack_name(stack)
        .template_body(template.to_string())
        .send()
        .await
        .unwrap();
    parameter
}

async fn resolve(props: Value) -> Result<Resolved, support::Unresolved> {
    let resolver = moto_resolver(Config::default()).await;
    support::resolve(&resolver, props, "EdgeOutputs").await
}

/// Whether `err` is "stack `name` not found in `in_region`".
fn stack_not_found(err: &ResolveError, name: &str, in_region: &str) -> bool {
    matches!(
        source_error(err),
        Some(SourceError::Stack(StackError::NotFound { stack, region, .. }))
            if stack == name && region == in_region
    )
}

#[tokio::test]
async fn outputs_of_a_us_east_1_stack_resolve_for_an_ap_northeast_1_resource() {
    let config = sdk_config().await;
    let stack = unique("crp-edge-");
    let parameter = deploy_edge_stack(&config, &stack).await;

    let resolved = resolve(json!({"Region": "us-east-1", "StackName": stack}))
        .await
        .unwrap();

    assert_eq!(resolved.data.len(), 2, "{:?}", resolved.data);
    assert_eq!(resolved.data["Outputs.A"], "alpha");
    assert_eq!(resolved.data["Outputs.B"], parameter);
    assert!(!resolved.secret);
    assert!(
        resolved
            .identity
            .iter()
            .any(|i| i.starts_with("StackName:arn:aws:cloudformation:us-east-1:")),
        "{:?}",
        resolved.identity
    );
    assert!(resolved.identity.contains(&"StackName:A=alpha".to_owned()));
}

#[tokio::test]
async fn the_stack_is_looked_up_in_the_resource_region_not_elsewhere() {
    let config = sdk_config().await;
    let stack = unique("crp-edge-");
    deploy_edge_stack(&config, &stack).await;

    let err = resolve(json!({"Region": "eu-west-1", "StackName": stack}))
        .await
        .unwrap_err()
        .resolve_error();
    assert!(stack_not_found(&err, &stack, "eu-west-1"), "{err}");
}

#[tokio::test]
async fn a_missing_stack_names_itself_region_and_account() {
    let stack = unique("crp-missing-");
    let err = resolve(json!({"Region": "us-east-1", "StackName": stack}))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "stack {stack} not found in us-east-1 (account 123456789012); check StackName and Region (and RoleArn for a stack in another account)"
        )
    );
}

#[tokio::test]
async fn outputs_and_ssm_parameters_combine_in_one_resource() {
    let config = sdk_config().await;
    let stack = unique("crp-edge-");
    let made = deploy_edge_stack(&config, &stack).await;
    let own = format!("/{stack}/own");
    aws_sdk_ssm::Client::new(&config)
        .put_parameter()
        .name(&own)
        .value("own-value")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();

    let resolved = resolve(json!({
        "Region": "us-east-1",
        "StackName": stack,
        // The stack's own parameter too: the output names it, SSM reads it.
        "Parameters": {"Own": own, "Made": made}
    }))
    .await
    .unwrap();

    assert_eq!(resolved.data["Outputs.A"], "alpha");
    assert_eq!(resolved.data["Outputs.B"], made);
    assert_eq!(resolved.data["Own"], "own-value");
    assert_eq!(resolved.data["Made"], "v1");
    assert_eq!(resolved.data.len(), 4);
}

#[tokio::test]
async fn a_missing_stack_and_a_missing_parameter_are_both_reported() {
    let stack = unique("crp-missing-");
    let err = resolve(json!({
        "Region": "us-east-1",
        "StackName": stack,
        "ParameterName": format!("/{stack}/nothing")
    }))
    .await
    .unwrap_err()
    .resolve_error();
    let ResolveError::Several(failures) = &err else {
        panic!("{err}");
    };
    assert_eq!(failures.len(), 2, "{err}");
    assert!(
        failures
            .iter()
            .any(|f| stack_not_found(f, &stack, "us-east-1")),
        "{err}"
    );
    assert!(
        failures.iter().any(|f| matches!(
            source_error(f),
            Some(SourceError::Ssm(SsmError::NotFound { .. }))
        )),
        "{err}"
    );
}
