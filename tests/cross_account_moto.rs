//! `RoleArn` against moto: the same names in two accounts resolve to each
//! account's own values. moto maps credentials from
//! `sts:AssumeRole` into `arn:aws:iam::222222222222:role/...` to account
//! 222222222222, and everything else to its default 123456789012.

mod support;

use support::{moto_config as sdk_config, moto_resolver, unique};

use aws_config::SdkConfig;
use cross_region_param::error::{SourceError, SsmError, StackError};
use cross_region_param::{Config, Resolved, Resolver};
use serde_json::{Value, json};

const ROLE: &str = "arn:aws:iam::222222222222:role/x";

/// The same configuration acting in account 222222222222, for seeding it.
async fn other_account_config() -> SdkConfig {
    let base = sdk_config().await;
    let creds = aws_sdk_sts::Client::new(&base)
        .assume_role()
        .role_arn(ROLE)
        .role_session_name("crp-test-seed")
        .send()
        .await
        .unwrap()
        .credentials
        .unwrap();
    base.to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new(
                    creds.access_key_id,
                    creds.secret_access_key,
                    Some(creds.session_token),
                    None,
                    "test-seed",
                ),
            ),
        )
        .build()
}

async fn resolver() -> Resolver {
    let config = Config::from_lookup(|k| {
        (k == "CRP_ALLOWED_ROLE_ARNS").then(|| "arn:aws:iam::222222222222:role/*".to_owned())
    })
    .unwrap();
    moto_resolver(config).await
}

async fn resolve(resolver: &Resolver, props: Value) -> Result<Resolved, support::Unresolved> {
    support::resolve(resolver, props, "Shared").await
}

async fn put(config: &SdkConfig, name: &str, value: &str) {
    aws_sdk_ssm::Client::new(config)
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn the_same_parameter_name_resolves_per_account_through_role_arn() {
    let name = format!("/{}/endpoint", unique("crp-xacct-"));
    put(&sdk_config().await, &name, "home-value").await;
    put(&other_account_config().await, &name, "other-value").await;
    let resolver = resolver().await;

    let home = resolve(
        &resolver,
        json!({"Region": "us-east-1", "ParameterName": name}),
    )
    .await
    .unwrap();
    let other = resolve(
        &resolver,
        json!({"Region": "us-east-1", "ParameterName": name, "RoleArn": ROLE, "ExternalId": "tenant-1"}),
    )
    .await
    .unwrap();

    assert_eq!(home.data["Value"], "home-value");
    assert_eq!(other.data["Value"], "other-value");
    // A second request through the role reuses the cached session.
    let again = resolve(
        &resolver,
        json!({"Region": "us-east-1", "ParameterName": name, "RoleArn": ROLE, "ExternalId": "tenant-1"}),
    )
    .await
    .unwrap();
    assert_eq!(again, other);
}

#[tokio::test]
async fn a_missing_parameter_through_a_role_names_the_roles_account() {
    let name = format!("/{}/absent", unique("crp-xacct-"));
    // Present at home only, so a fallback to the provider's account would pass.
    put(&sdk_config().await, &name, "home-only").await;
    let err = resolve(
        &resolver().await,
        json!({"Region": "us-east-1", "ParameterName": name, "RoleArn": ROLE}),
    )
    .await
    .unwrap_err()
    .resolve_error();
    let Some(SourceError::Ssm(SsmError::NotFound {
        names,
        region,
        account,
    })) = support::source_error(&err)
    else {
        panic!("{err}");
    };
    assert_eq!(names, &[name]);
    assert_eq!(region, "us-east-1");
    assert_eq!(account.as_deref(), Some("222222222222"));
}

#[tokio::test]
async fn stack_outputs_resolve_in_the_roles_account() {
    let stack = unique("crp-xacct-stack-");
    let template = json!({
        "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {"Where": {"Value": "account-222"}}
    });
    aws_sdk_cloudformation::Client::new(&other_account_config().await)
        .create_stack()
        .stack_name(&stack)
        .template_body(template.to_string())
        .send()
        .await
        .unwrap();
    let resolver = resolver().await;

    let through_role = resolve(
        &resolver,
        json!({"Region": "us-east-1", "StackName": stack, "RoleArn": ROLE}),
    )
    .await
    .unwrap();
    assert_eq!(through_role.data["Outputs.Where"], "account-222");

    let home = resolve(
        &resolver,
        json!({"Region": "us-east-1", "StackName": stack}),
    )
    .await
    .unwrap_err()
    .resolve_error();
    let Some(SourceError::Stack(StackError::NotFound {
        stack: missing,
        region,
        account,
    })) = support::source_error(&home)
    else {
        panic!("{home}");
    };
    assert_eq!(missing, &stack);
    assert_eq!(region, "us-east-1");
    assert_eq!(account.as_deref(), Some("123456789012"));
}
