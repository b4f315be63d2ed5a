//! The `crp` dry-run CLI against moto: prints Data, and for a bad property the
//! same Reason the Lambda gives, with a non-zero exit code.

mod support;

use std::process::Output;

use aws_sdk_ssm::types::ParameterType;
use support::http::Endpoint;
use support::*;

async fn crp(args: &[&str]) -> Output {
    crp_against(&moto_url(), args, &[]).await
}

/// `crp` with AWS at `endpoint` and extra environment.
async fn crp_against(endpoint: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_crp"))
        .args(args)
        .envs(env.iter().copied())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "ap-northeast-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .output()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_cli_prints_the_data_a_stack_would_receive() {
    let name = unique("/crp-test/cli");
    put_param("us-east-1", &name, "edge-value", ParameterType::String).await;
    let out = crp(&["--region", "us-east-1", "--parameter-name", &name]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Status: SUCCESS"));
    assert!(stdout.contains("PhysicalResourceId: crp-us-east-1-"));
    assert!(stdout.contains("  Value = edge-value"));

    let json = crp(&[
        "--region",
        "us-east-1",
        "--parameter",
        &format!("Edge={name}"),
        "--json",
    ])
    .await;
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["Data"]["Edge"], "edge-value");
}

#[tokio::test]
async fn a_bad_property_prints_the_lambdas_reason_and_exits_non_zero() {
    let dir = std::env::temp_dir().join(unique("crp-cli"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("props.json");
    std::fs::write(
        &file,
        r#"{"Properties": {"Region": "us-east-1", "ParameterName": "/a", "WithDecrypt": "true"}}"#,
    )
    .unwrap();
    let out = crp(&["--properties", file.to_str().unwrap()]).await;
    std::fs::remove_dir_all(&dir).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("Reason: invalid properties (1 problem): unknown property 'WithDecrypt' (did you mean 'WithDecryption'?)"),
        "{stderr}"
    );
}

#[tokio::test]
async fn no_properties_is_a_usage_error() {
    // Needs no AWS at all: an endpoint that counts shows nothing was called.
    let aws = Endpoint::counting().await;
    let out = crp_against(&aws.url(), &[], &[]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no properties"));
    let help = crp_against(&aws.url(), &["--help"], &[]).await;
    assert!(String::from_utf8_lossy(&help.stdout).contains("Exit codes"));
    assert!(aws.requests().is_empty());
}

#[tokio::test]
async fn a_bad_allowed_regions_value_gets_the_lambdas_answer() {
    // crp answers as the Lambda does, FAILED with "the provider is
    // misconfigured", not with a usage error (exit 2).
    let aws = Endpoint::counting().await;
    let out = crp_against(
        &aws.url(),
        &["--region", "us-east-1", "--parameter-name", "/a"],
        &[("CRP_ALLOWED_REGIONS", "useast1")],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Reason: the provider is misconfigured: CRP_ALLOWED_REGIONS: 'useast1' is not an AWS region code"),
        "{stderr}"
    );
    assert!(aws.requests().is_empty());
}
