//! `crp plan` against moto: every `Custom::CrossRegionParam` of a YAML
//! template or a CDK cloud assembly is listed with what it resolves to, or the
//! Reason the Lambda would give, and the exit status says whether a deploy
//! would get past them.
//!
//! `tests/fixtures/cdk-assembly` is the CDK example's `cdk synth` output cut
//! down to the parts the plan reads; `scripts/check-templates.sh` checks that
//! a fresh synth still plans the same resources.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};
use aws_sdk_ssm::types::ParameterType;
use cross_region_param::{Answer, Deadline, Request, RequestType};
use serde_json::{Value, json};
use support::*;

/// The region `crp plan` runs from (the app stack's), unlike the sources.
const CALLER_REGION: &str = "ap-northeast-1";

async fn crp_plan(args: &[&str]) -> Output {
    crp_plan_env(args, &[]).await
}

async fn crp_plan_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_crp"));
    cmd.arg("plan")
        .args(args)
        .env("AWS_ENDPOINT_URL", moto_url())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", CALLER_REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE");
    for var in [
        "CRP_ALLOWED_PARAMETER_PATHS",
        "CRP_ALLOWED_REGIONS",
        "CRP_ALLOWED_ROLE_ARNS",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().await.unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn rows(out: &Output) -> Vec<Value> {
    match serde_json::from_slice(&out.stdout) {
        Ok(Value::Array(rows)) => rows,
        _ => panic!("not a JSON array:\n{}", text(out)),
    }
}

fn row<'a>(rows: &'a [Value], logical_id: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["logicalId"] == logical_id)
        .unwrap_or_else(|| panic!("no row {logical_id} in {rows:#?}"))
}

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(unique("crp-plan"));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, content: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, content).unwrap();
        path.to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A Lambda name no other test uses (64 characters at most).
fn function_name(label: &str) -> String {
    let name = unique(&format!("crp-plan-{label}")).replace('/', "-");
    name.chars().take(64).collect()
}

async fn lambda(region: &str) -> aws_sdk_lambda::Client {
    let config = moto_config().await;
    let config = aws_sdk_lambda::config::Builder::from(&config)
        .region(aws_config::Region::new(region.to_owned()))
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

/// The must-show template: an edge function, a parameter named with `!Sub`
/// from a parameter default, optionally one that does not exist, and an
/// unrelated bucket.
fn must_show_template(prefix: &str, function: &str, with_missing: bool) -> String {
    let missing = if with_missing {
        "  Missing:\n    Type: Custom::CrossRegionParam\n    Properties:\n      ServiceToken: !ImportValue CrossRegionParam-ServiceToken\n      Region: us-east-1\n      ParameterName: !Sub /${Env}/does-not-exist\n"
    } else {
        ""
    };
    format!(
        r#"AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env:
    Type: String
    Default: {prefix}
  DeployId:
    Type: String
    Default: one
Resources:
  EdgeAuth:
    Type: Custom::CrossRegionParam
    Properties:
      ServiceToken: !ImportValue CrossRegionParam-ServiceToken
      Region: us-east-1
      FunctionName: {function}
      EdgeEventType: viewer-request
      Refresh: !Ref DeployId
  Domain:
    Type: Custom::CrossRegionParam
    Properties:
      ServiceToken: !ImportValue CrossRegionParam-ServiceToken
      ServiceTimeout: 300
      Region: us-east-1
      ParameterName: !Sub "/${{Env}}/domain"
{missing}  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${{Env}}-${{AWS::Region}}"
"#
    )
}

/// What `must_show_template` reads, put on moto: an edge function named after
/// `label` with `versions` versions and the `/PREFIX/domain` parameter set to
/// `domain`. Returns the prefix, the function's name and its newest version.
async fn must_show_fixture(label: &str, versions: u32, domain: &str) -> (String, String, String) {
    let prefix = unique(&format!("crp-plan/{label}")).replace('/', "-");
    let function = function_name(label);
    let newest = moto_edge_function(&function, versions).await;
    put_param(
        "us-east-1",
        &format!("/{prefix}/domain"),
        domain,
        ParameterType::String,
    )
    .await;
    (prefix, function, newest)
}

#[tokio::test]
async fn a_yaml_template_lists_exactly_its_cross_region_params_with_what_they_resolve_to() {
    let (prefix, function, newest) = must_show_fixture("must-show", 2, "app.example.com").await;
    let dir = Scratch::new();
    let template = dir.write("app.yaml", &must_show_template(&prefix, &function, true));

    let out = crp_plan(&["--json", &template]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let rows = rows(&out);
    let mut ids: Vec<&str> = rows
        .iter()
        .map(|r| r["logicalId"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["Domain", "EdgeAuth", "Missing"], "{rows:#?}");
    assert!(rows.iter().all(|r| r["stack"] == "app"), "{rows:#?}");

    let edge = row(&rows, "EdgeAuth");
    assert_eq!(edge["status"], "ok", "{edge:#}");
    assert_eq!(edge["data"]["VersionArn"], newest.as_str());
    assert!(newest.ends_with(":2"), "{newest}");
    assert_eq!(edge["data"]["Version"], "2");

    let domain = row(&rows, "Domain");
    assert_eq!(domain["status"], "ok", "{domain:#}");
    assert_eq!(domain["data"]["Value"], "app.example.com");
    assert_eq!(domain["data"]["ParameterVersion"], "1");

    // The same answer, Reason and physical id as the provider itself gives.
    let missing = row(&rows, "Missing");
    assert_eq!(missing["status"], "FAILED");
    assert_eq!(missing["data"], Value::Null);
    let lambda = lambda_with(
        &[],
        json!({
            "Region": "us-east-1",
            "ParameterName": format!("/{prefix}/does-not-exist"),
        }),
    )
    .await;
    assert_eq!(missing["reason"], lambda.reason.as_str());
    assert!(
        lambda.reason.contains(&format!(
            "SSM parameter /{prefix}/does-not-exist not found in us-east-1"
        )),
        "{}",
        lambda.reason
    );
    let lambda = lambda_with(
        &[],
        json!({
            "Region": "us-east-1",
            "ParameterName": format!("/{prefix}/domain"),
        }),
    )
    .await;
    assert_eq!(
        domain["physicalResourceId"],
        lambda.physical_resource_id.as_str()
    );

    let without_missing = dir.write("app.yaml", &must_show_template(&prefix, &function, false));
    let out = crp_plan(&["--json", &without_missing]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(self::rows(&out).len(), 2);
}

#[tokio::test]
async fn the_table_names_stack_resource_status_and_values() {
    let (prefix, function, newest) = must_show_fixture("table", 1, "table.example.com").await;
    let dir = Scratch::new();
    let template = dir.write("web.yml", &must_show_template(&prefix, &function, true));

    let out = crp_plan(&["--stack-name", "WebStack", &template]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("STACK     LOGICAL ID  STATUS  RESOLVES TO"),
        "{stdout}"
    );
    assert!(
        lines.iter().any(
            |l| l.starts_with("WebStack  EdgeAuth    ok      VersionArn = ")
                && l.ends_with(&newest)
        ),
        "{stdout}"
    );
    assert!(lines.iter().any(|l| l.trim() == "Version = 1"), "{stdout}");
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("Value = table.example.com")),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("WebStack  Missing     FAILED  SSM parameter /")),
        "{stdout}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("3 resource(s): 2 ok, 1 FAILED, 0 unknown")
    );
}

#[tokio::test]
async fn secure_strings_are_masked_unless_asked_for() {
    let name = unique("/crp-plan/secret");
    put_param("us-east-1", &name, "hunter2", ParameterType::SecureString).await;
    let dir = Scratch::new();
    let template = dir.write(
        "secret.yaml",
        &format!(
            "Resources:\n  Secret:\n    Type: Custom::CrossRegionParam\n    Properties:\n      Region: us-east-1\n      ParameterName: {name}\n      WithDecryption: true\n"
        ),
    );
    let out = crp_plan(&[&template]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Value = ****"), "{stdout}");
    assert!(!stdout.contains("hunter2"), "{stdout}");

    let json = crp_plan(&["--json", &template]).await;
    assert_eq!(rows(&json)[0]["data"]["Value"], "****");
    let shown = crp_plan(&["--json", "--show-secrets", &template]).await;
    assert_eq!(rows(&shown)[0]["data"]["Value"], "hunter2");
}

#[tokio::test]
async fn a_value_known_only_at_deploy_is_unknown_and_fails_only_with_strict() {
    let dir = Scratch::new();
    let template = dir.write(
        "later.yaml",
        "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n  Later:\n    Type: Custom::CrossRegionParam\n    Properties:\n      Region: us-east-1\n      Parameters:\n        Arn: !Sub '/buckets/${Bucket.Arn}'\n",
    );
    let out = crp_plan(&["--json", &template]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let rows = rows(&out);
    assert_eq!(rows[0]["status"], "unknown");
    assert_eq!(rows[0]["physicalResourceId"], Value::Null);
    let reason = rows[0]["reason"].as_str().unwrap();
    assert!(
        reason
            .starts_with("unknown until deploy: property Parameters.Arn: !Sub uses ${Bucket.Arn}"),
        "{reason}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--strict"));

    let strict = crp_plan(&["--strict", &template]).await;
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict));
}

#[tokio::test]
async fn a_json_template_takes_parameter_values_from_the_command_line() {
    let name = unique("/crp-plan/json");
    put_param("us-east-1", &name, "from-json", ParameterType::String).await;
    let dir = Scratch::new();
    let template = dir.write(
        "t.json",
        &json!({
            "Parameters": {"Name": {"Type": "String"}, "Source": {"Type": "String", "Default": "eu-west-1"}},
            "Resources": {"FromJson": {"Type": "Custom::CrossRegionParam", "Properties": {
                "Region": {"Ref": "Source"},
                "Parameters": {"It": {"Ref": "Name"}}
            }}}
        })
        .to_string(),
    );
    let unset = crp_plan(&["--json", &template]).await;
    assert_eq!(unset.status.code(), Some(0), "{}", text(&unset));
    assert!(
        rows(&unset)[0]["reason"]
            .as_str()
            .unwrap()
            .contains("--parameter Name=VALUE"),
        "{}",
        text(&unset)
    );

    let out = crp_plan(&[
        "--json",
        "--parameter",
        &format!("Name={name}"),
        "--parameter",
        "Source=us-east-1",
        &template,
    ])
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(rows(&out)[0]["data"]["It"], "from-json");
}

#[tokio::test]
async fn an_unreadable_path_or_a_bad_parameter_is_a_usage_error_that_names_it() {
    let out = crp_plan(&["/no/such/template.yaml"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("/no/such/template.yaml: cannot read it"),
        "{}",
        text(&out)
    );

    let dir = Scratch::new();
    let bad = dir.write("bad.yaml", "Resources:\n  X: !Reff Y\n");
    let out = crp_plan(&[&bad]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown tag !Reff"),
        "{}",
        text(&out)
    );

    let out = crp_plan(&["--parameter", "NoEquals", &bad]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be KEY=VALUE"));

    let ok = dir.write(
        "ok.yaml",
        "Parameters:\n  Env:\n    Type: String\n    Default: prod\nResources:\n  B:\n    Type: AWS::S3::Bucket\n",
    );
    let out = crp_plan(&["--parameter", "Evn=dev", &ok]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--parameter Evn: no template planned declares it (declared: Env)"),
        "{}",
        text(&out)
    );

    let out = crp_plan(&[dir.0.to_str().unwrap()]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a CDK cloud assembly"));
}

#[tokio::test]
async fn with_provider_the_deployed_functions_allow_lists_apply() {
    let name = unique("/crp-plan/elsewhere");
    put_param("us-east-1", &name, "v", ParameterType::String).await;
    let provider = function_name("provider");
    let role = moto_role(&provider, false).await;
    lambda(CALLER_REGION)
        .await
        .create_function()
        .function_name(&provider)
        .role(&role)
        .handler("bootstrap")
        .runtime(Runtime::Providedal2023)
        .code(FunctionCode::builder().zip_file(Blob::new("x")).build())
        .environment(
            Environment::builder()
                .variables("CRP_ALLOWED_PARAMETER_PATHS", "/only-this/")
                .variables("RUST_LOG", "info")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let dir = Scratch::new();
    let template = dir.write(
        "t.yaml",
        &format!("Resources:\n  P:\n    Type: Custom::CrossRegionParam\n    Properties:\n      Region: us-east-1\n      ParameterName: {name}\n"),
    );

    let local = crp_plan(&["--json", &template]).await;
    assert_eq!(local.status.code(), Some(0), "{}", text(&local));

    let deployed = crp_plan(&["--json", "--provider", &provider, &template]).await;
    assert_eq!(deployed.status.code(), Some(1), "{}", text(&deployed));
    let reason = rows(&deployed)[0]["reason"].as_str().unwrap().to_owned();
    let expected = lambda_with(
        &[("CRP_ALLOWED_PARAMETER_PATHS", "/only-this/")],
        json!({"Region": "us-east-1", "ParameterName": name}),
    )
    .await;
    assert_eq!(reason, expected.reason);
    assert!(reason.contains("/only-this/"), "{reason}");

    let missing = crp_plan(&["--provider", "no-such-provider", &template]).await;
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains("cannot read the configuration of provider no-such-provider"),
        "{}",
        text(&missing)
    );
}

/// The answer the provider itself gives for `properties`, in process, under
/// the allow-lists `config` sets.
async fn lambda_with(config: &[(&str, &str)], properties: Value) -> Answer {
    let provider = moto_provider(test_config(config)).await;
    let request = Request {
        request_type: Some(RequestType::Create),
        request_id: "00000000-0000-4000-8000-000000000000".into(),
        stack_id: "arn:aws:cloudformation:ap-northeast-1:123456789012:stack/App/1".into(),
        logical_resource_id: "X".into(),
        response_url: String::new(),
        physical_resource_id: None,
        properties,
        old_properties: None,
        malformed: None,
    };
    provider
        .answer(
            &request,
            Deadline::after(std::time::Duration::from_secs(30)),
        )
        .await
}

/// The fixture assembly, copied with its function and domain stack renamed
/// to names only this test uses.
fn assembly_copy(dir: &Scratch, function: &str, domain_stack: &str) -> String {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cdk-assembly");
    let out = dir.0.join("cdk.out");
    std::fs::create_dir_all(&out).unwrap();
    for entry in std::fs::read_dir(&fixture).unwrap() {
        let path = entry.unwrap().path();
        let content = std::fs::read_to_string(&path)
            .unwrap()
            .replace(
                "\"FunctionName\": \"AuthFunction\"",
                &format!("\"FunctionName\": \"{function}\""),
            )
            .replace(
                "\"StackName\": \"DomainStack\"",
                &format!("\"StackName\": \"{domain_stack}\""),
            );
        std::fs::write(out.join(path.file_name().unwrap()), content).unwrap();
    }
    out.to_string_lossy().into_owned()
}

async fn domain_stack(name: &str) {
    let config = moto_config().await;
    let template = json!({
        "Resources": {"Marker": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Name": format!("/{name}/marker"), "Value": "x"}}},
        "Outputs": {
            "CertificateArn": {"Value": "arn:aws:acm:us-east-1:123456789012:certificate/plan"},
            "HostedZoneId": {"Value": "Z0PLAN"}
        }
    });
    aws_sdk_cloudformation::Client::new(&config)
        .create_stack()
        .stack_name(name)
        .template_body(template.to_string())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_cdk_cloud_assembly_is_planned_stack_by_stack() {
    let function = function_name("cdk");
    let newest = moto_edge_function(&function, 3).await;
    let stack = function_name("domain");
    domain_stack(&stack).await;
    let dir = Scratch::new();
    let assembly = assembly_copy(&dir, &function, &stack);

    let out = crp_plan(&["--json", &assembly]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let rows = rows(&out);
    let ids: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["stack"].as_str().unwrap(),
                r["logicalId"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("ClientAppStack", "DomainOutputsDA6F737B"),
            ("ClientAppStack", "EdgeAuthE047601E")
        ]
    );
    let edge = row(&rows, "EdgeAuthE047601E");
    assert_eq!(edge["status"], "ok", "{edge:#}");
    assert_eq!(edge["data"]["VersionArn"], newest.as_str());
    assert_eq!(edge["data"]["Version"], "3");
    let outputs = row(&rows, "DomainOutputsDA6F737B");
    assert_eq!(outputs["status"], "ok", "{outputs:#}");
    assert_eq!(
        outputs["data"]["Outputs.CertificateArn"],
        "arn:aws:acm:us-east-1:123456789012:certificate/plan"
    );
    assert_eq!(outputs["data"]["Outputs.HostedZoneId"], "Z0PLAN");

    // The domain stack not deployed yet: the plan says so, as the deploy would.
    let dir = Scratch::new();
    let assembly = assembly_copy(&dir, &function, &format!("{stack}-absent"));
    let out = crp_plan(&["--json", &assembly]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let rows = self::rows(&out);
    let outputs = row(&rows, "DomainOutputsDA6F737B");
    assert_eq!(outputs["status"], "FAILED");
    assert!(
        outputs["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("stack {stack}-absent not found in us-east-1")),
        "{outputs:#}"
    );
    assert_eq!(row(&rows, "EdgeAuthE047601E")["status"], "ok");
}

/// Fifty resources in one template are planned in one run, each with its own
/// row and value (the time it takes is `make bench`'s to measure).
#[tokio::test]
async fn fifty_resources_are_planned_together() {
    let prefix = unique("/crp-plan/fifty");
    let function = function_name("fifty");
    moto_edge_function(&function, 2).await;
    let mut template = String::from("Resources:\n");
    for i in 0..50 {
        put_param(
            "us-east-1",
            &format!("{prefix}/{i}"),
            &format!("value-{i}"),
            ParameterType::String,
        )
        .await;
        template.push_str(&format!(
            "  R{i}:\n    Type: Custom::CrossRegionParam\n    Properties:\n      Region: us-east-1\n      ParameterName: {prefix}/{i}\n"
        ));
        if i % 5 == 0 {
            template.push_str(&format!(
                "      FunctionName: {function}\n      EdgeEventType: origin-request\n"
            ));
        }
    }
    let dir = Scratch::new();
    let fifty = dir.write("fifty.yaml", &template);
    let one = dir.write(
        "one.yaml",
        &format!("Resources:\n  R0:\n    Type: Custom::CrossRegionParam\n    Properties:\n      Region: us-east-1\n      ParameterName: {prefix}/0\n      FunctionName: {function}\n      EdgeEventType: origin-request\n"),
    );

    let single = crp_plan(&["--json", &one]).await;
    assert_eq!(single.status.code(), Some(0), "{}", text(&single));

    let out = crp_plan(&["--json", &fifty]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let rows = rows(&out);
    assert_eq!(rows.len(), 50);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["status"], "ok", "{r:#}");
        let n: usize = r["logicalId"].as_str().unwrap()[1..].parse().unwrap();
        assert_eq!(r["data"]["Value"], format!("value-{n}"), "row {i}");
    }
}

/// An SSM endpoint that takes `delay` to answer every call with
/// ParameterNotFound, and counts the calls.
async fn slow_ssm(
    delay: std::time::Duration,
) -> (
    String,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    tokio::task::JoinHandle<()>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&calls);
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let counted = std::sync::Arc::clone(&counted);
            tokio::spawn(async move {
                if support::http::read_request(&mut stream).await.is_some() {
                    counted.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(delay).await;
                    let body = br#"{"__type":"ParameterNotFound","message":"slow stub"}"#;
                    support::http::write_response(
                        &mut stream,
                        400,
                        &[("content-type", "application/x-amz-json-1.1".to_owned())],
                        body,
                    )
                    .await;
                }
            });
        }
    });
    (url, calls, task)
}

/// Every resource's reads are made against an endpoint that takes a second
/// per call: each of the 50 resources gets its own FAILED row naming the
/// endpoint's answer, and at least one call is made per resource.
#[tokio::test]
async fn fifty_resources_wait_for_a_slow_endpoint_once_not_fifty_times() {
    let (url, calls, server) = slow_ssm(std::time::Duration::from_secs(1)).await;
    let mut template = String::from("Resources:\n");
    for i in 0..50 {
        template.push_str(&format!(
            "  R{i}:\n    Type: Custom::CrossRegionParam\n    Properties:\n      Region: us-east-1\n      ParameterName: /slow/{i}\n"
        ));
    }
    let dir = Scratch::new();
    let fifty = dir.write("fifty.yaml", &template);
    let one = dir.write(
        "one.yaml",
        "Resources:\n  R0:\n    Type: Custom::CrossRegionParam\n    Properties:\n      Region: us-east-1\n      ParameterName: /slow/0\n",
    );

    let env = [("AWS_ENDPOINT_URL", url.as_str())];
    let single = crp_plan_env(&["--json", &one], &env).await;
    assert_eq!(single.status.code(), Some(1), "{}", text(&single));
    let before = calls.load(std::sync::atomic::Ordering::Relaxed);

    let out = crp_plan_env(&["--json", &fifty], &env).await;
    server.abort();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let rows = rows(&out);
    assert_eq!(rows.len(), 50);
    assert!(
        rows.iter()
            .all(|r| r["status"] == "FAILED" && r["reason"].as_str().unwrap().contains("slow stub")),
        "{rows:#?}"
    );
    let made = calls.load(std::sync::atomic::Ordering::Relaxed) - before;
    assert!(made >= 50, "{made} calls for 50 resources");
}

// Hostile templates and cloud assemblies: `crp plan` runs in CI on every pull
// request, so no template may hang it, exhaust it or make it read outside
// what it was given. Each bound is CloudFormation's own, or a margin above it.

/// Runs `crp plan` with a guard against a hang: a run that does not end is
/// a failure of its own.
async fn crp_plan_bounded(args: &[&str]) -> Output {
    tokio::time::timeout(std::time::Duration::from_secs(120), crp_plan(args))
        .await
        .expect("crp plan did not finish")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn nested_sub_doubling_gives_up_with_a_failed_row_naming_the_resource() {
    // 40 levels of Fn::Sub ["${V}${V}", {V: <the level below>}]: 2^40 bytes.
    let mut value = json!("ab");
    for _ in 0..40 {
        value = json!({"Fn::Sub": ["${V}${V}", {"V": value}]});
    }
    let template = json!({"Resources": {"Doubling": {
        "Type": "Custom::CrossRegionParam",
        "Properties": {"Region": "us-east-1", "ParameterName": value}
    }}});
    let dir = Scratch::new();
    let path = dir.write("doubling.json", &template.to_string());
    let out = crp_plan_bounded(&["--json", &path]).await;

    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let rows = rows(&out);
    let r = row(&rows, "Doubling");
    assert_eq!(r["status"], "FAILED");
    let reason = r["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("crp plan gave up evaluating Doubling"),
        "{reason}"
    );
    assert!(reason.contains("more than 1048576 bytes"), "{reason}");
}

#[tokio::test]
async fn a_condition_dag_is_evaluated_once_per_condition() {
    // C0 = And(C1, C1), C1 = And(C2, C2), ... 28 levels: 2^28 evaluations
    // when conditions are not remembered.
    let mut conditions = serde_json::Map::new();
    for i in 0..28 {
        let next = format!("C{}", i + 1);
        conditions.insert(
            format!("C{i}"),
            json!({"Fn::And": [{"Condition": next}, {"Condition": next}]}),
        );
    }
    conditions.insert("C28".into(), json!({"Fn::Equals": ["a", "a"]}));
    let template = json!({
        "Conditions": conditions,
        "Resources": {"Guarded": {
            "Type": "Custom::CrossRegionParam",
            "Condition": "C0",
            "Properties": {
                "Region": "us-east-1",
                "ParameterName": {"Fn::If": ["C0", {"Fn::GetAtt": ["X", "Name"]}, "/never"]}
            }
        }}
    });
    let dir = Scratch::new();
    let path = dir.write("dag.json", &template.to_string());
    let out = crp_plan_bounded(&["--json", &path]).await;

    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let rows = rows(&out);
    assert_eq!(row(&rows, "Guarded")["status"], "unknown", "{rows:#?}");
}

#[tokio::test]
async fn alias_amplification_and_oversized_templates_are_refused_naming_the_file() {
    let dir = Scratch::new();
    // 5,000 scalars, each aliased 100 times through one shared list.
    let mut yaml = String::from("Anchors:\n");
    for i in 0..5000 {
        yaml.push_str(&format!("  - &s{i} value-{i}-{}\n", "x".repeat(40)));
    }
    yaml.push_str("All: &all [");
    yaml.push_str(
        &(0..5000)
            .map(|i| format!("*s{i}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    yaml.push_str("]\nResources:\n");
    for i in 0..100 {
        yaml.push_str(&format!(
            "  R{i}:\n    Type: AWS::S3::Bucket\n    Metadata: *all\n"
        ));
    }
    let bomb = dir.write("bomb.yaml", &yaml);
    let out = crp_plan_bounded(&[&bomb]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        stderr(&out).contains(&format!("{bomb}: line ")),
        "{}",
        text(&out)
    );
    assert!(
        stderr(&out).contains("aliases expand to more than"),
        "{}",
        text(&out)
    );

    let huge = dir.write(
        "huge.json",
        &format!(
            "{{\"Resources\": {{}}, \"Pad\": \"{}\"}}",
            "x".repeat(2 * 1024 * 1024)
        ),
    );
    let out = crp_plan_bounded(&[&huge]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        stderr(&out).contains("larger than the 1048576 bytes CloudFormation accepts"),
        "{}",
        text(&out)
    );
}

#[tokio::test]
async fn an_unknown_secondary_tag_is_a_usage_error_naming_the_file() {
    let dir = Scratch::new();
    let path = dir.write(
        "tagged.yaml",
        "Resources:\n  P:\n    Type: Custom::CrossRegionParam\n    Properties:\n      Region: !!python/object/apply:os.system [\"touch /tmp/crp-pwned\"]\n      ParameterName: /a\n",
    );
    let out = crp_plan_bounded(&[&path]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        stderr(&out).contains(&format!(
            "{path}: line 5: unknown tag !!python/object/apply:os.system"
        )),
        "{}",
        text(&out)
    );
}

/// A cloud assembly in `dir` whose one stack artifact names `template_file`.
fn hostile_assembly(dir: &Scratch, template_file: &str, nested: &[&str]) -> String {
    let root = dir.0.join("cdk.out");
    std::fs::create_dir_all(&root).unwrap();
    let mut artifacts = serde_json::Map::new();
    artifacts.insert(
        "App".into(),
        json!({"type": "aws:cloudformation:stack", "environment": "aws://123456789012/ap-northeast-1",
               "properties": {"templateFile": template_file}}),
    );
    for (i, directory) in nested.iter().enumerate() {
        artifacts.insert(
            format!("Stage{i}"),
            json!({"type": "cdk:cloud-assembly", "properties": {"directoryName": directory}}),
        );
    }
    let manifest = json!({"version": "36.0.0", "artifacts": artifacts});
    std::fs::write(root.join("manifest.json"), manifest.to_string()).unwrap();
    root.to_string_lossy().into_owned()
}

#[tokio::test]
async fn a_cloud_assembly_reads_only_regular_files_inside_itself_and_each_once() {
    let template = json!({"Resources": {"P": {"Type": "Custom::CrossRegionParam",
        "Properties": {"Region": "us-east-1", "ParameterName": {"Fn::GetAtt": ["X", "Y"]}}}}});
    let outside = Scratch::new();
    outside.write("x.json", &template.to_string());
    let outside_file = outside.0.join("x.json");

    let cases: Vec<(String, &str)> = vec![
        (
            format!(
                "../../{}/x.json",
                outside.0.file_name().unwrap().to_string_lossy()
            ),
            "leads outside the cloud assembly",
        ),
        (
            outside_file.to_string_lossy().into_owned(),
            "is an absolute path",
        ),
        ("link-out.json".into(), "leads outside the cloud assembly"),
        ("zero.json".into(), "leads outside the cloud assembly"),
    ];
    for (template_file, expected) in cases {
        let dir = Scratch::new();
        let root = hostile_assembly(&dir, &template_file, &[]);
        std::os::unix::fs::symlink(&outside_file, Path::new(&root).join("link-out.json")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", Path::new(&root).join("zero.json")).unwrap();
        let out = crp_plan_bounded(&[&root]).await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{template_file}: {}",
            text(&out)
        );
        assert!(
            stderr(&out).contains(expected),
            "{template_file}: {}",
            text(&out)
        );
    }

    // A template inside the assembly that is not a regular file.
    let dir = Scratch::new();
    let root = hostile_assembly(&dir, "fifo.json", &[]);
    let fifo = std::ffi::CString::new(format!("{root}/fifo.json")).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    let out = crp_plan_bounded(&[&root]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        text(&out)
    );

    // Nested assemblies that lead back to themselves: read once, then refused.
    let dir = Scratch::new();
    let root = hostile_assembly(&dir, "App.template.json", &[".", ".", "."]);
    std::fs::write(
        Path::new(&root).join("App.template.json"),
        template.to_string(),
    )
    .unwrap();
    let out = crp_plan_bounded(&["--json", &root]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("(a cycle)"), "{}", text(&out));
    assert!(out.stdout.is_empty(), "{}", text(&out));
}

#[tokio::test]
async fn control_characters_from_values_and_names_are_escaped_in_the_table() {
    let name = unique("/crp-test/escape");
    put_param(
        "us-east-1",
        &name,
        "/nope\u{1b}[2K\rfake ok row\u{7}",
        ParameterType::String,
    )
    .await;
    let template = json!({"Resources": {
        "Value": {"Type": "Custom::CrossRegionParam",
            "Properties": {"Region": "us-east-1", "ParameterName": name}},
        "Evil\u{1b}[2K\rName": {"Type": "Custom::CrossRegionParam",
            "Properties": {"Region": "us-east-1", "ParameterName": {"Fn::GetAtt": ["X", "Y"]}}}
    }});
    let dir = Scratch::new();
    let path = dir.write("escape.json", &template.to_string());
    let out = crp_plan_bounded(&[&path]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    for raw in ['\u{1b}', '\r', '\u{7}'] {
        assert!(
            !table.contains(raw),
            "{raw:?} reached the table:\n{table:?}"
        );
    }
    assert!(
        table.contains("Value = /nope\\u{1b}[2K\\u{d}fake ok row\\u{7}"),
        "{table}"
    );
    assert!(table.contains("Evil\\u{1b}[2K\\u{d}Name"), "{table}");

    // JSON output keeps the values exact (JSON escapes them itself).
    let out = crp_plan_bounded(&["--json", &path]).await;
    let rows = rows(&out);
    assert_eq!(
        row(&rows, "Value")["data"]["Value"],
        "/nope\u{1b}[2K\rfake ok row\u{7}"
    );
}
