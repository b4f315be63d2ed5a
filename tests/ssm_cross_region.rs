//! Reading SSM parameters from another region, against moto.

mod support;

use std::time::Duration;

use aws_sdk_ssm::types::ParameterType;
use cross_region_param::Deadline;
use serde_json::{Value, json};
use support::http::Receiver;
use support::*;

async fn create(props: Value) -> Value {
    let provider = moto_provider(test_config(&[])).await;
    let receiver = Receiver::start().await;
    provider
        .handle_json(
            create_event(&receiver.url(), props),
            Deadline::after(Duration::from_secs(30)),
        )
        .await
        .unwrap();
    receiver.only().json()
}

#[tokio::test]
async fn create_in_tokyo_reads_the_us_east_1_value_not_the_local_one() {
    let name = "/myapp/edge-arn";
    let edge = "arn:aws:lambda:us-east-1:123456789012:function:AuthFunction:42";
    put_param("us-east-1", name, edge, ParameterType::String).await;
    put_param(
        "ap-northeast-1",
        name,
        "arn:aws:lambda:ap-northeast-1:123456789012:function:Wrong:1",
        ParameterType::String,
    )
    .await;

    let body = create(json!({"Region": "us-east-1", "ParameterName": name})).await;
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    assert_eq!(body["Data"]["Value"], edge);
    assert!(
        body["Data"]["ParameterVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert!(
        body["PhysicalResourceId"]
            .as_str()
            .unwrap()
            .starts_with("crp-us-east-1-")
    );
    assert_eq!(body["NoEcho"], false);

    let tokyo = create(json!({"Region": "ap-northeast-1", "ParameterName": name})).await;
    assert_eq!(
        tokyo["Data"]["Value"],
        "arn:aws:lambda:ap-northeast-1:123456789012:function:Wrong:1"
    );
}

#[tokio::test]
async fn parameters_are_read_in_batches_and_every_missing_name_is_reported() {
    let prefix = unique("/crp-test/batch");
    let mut map = serde_json::Map::new();
    for i in 0..23 {
        let name = format!("{prefix}/p{i}");
        put_param(
            "us-east-1",
            &name,
            &format!("value-{i}"),
            ParameterType::String,
        )
        .await;
        map.insert(format!("Key{i}"), json!(name));
    }
    let body = create(json!({"Region": "us-east-1", "Parameters": map.clone()})).await;
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    let data = body["Data"].as_object().unwrap();
    assert_eq!(data.len(), 23);
    assert_eq!(data["Key17"], "value-17");

    map.insert("Gone1".into(), json!(format!("{prefix}/missing-1")));
    map.insert("Gone2".into(), json!(format!("{prefix}/missing-2")));
    let body = create(json!({"Region": "us-east-1", "Parameters": map})).await;
    assert_eq!(body["Status"], "FAILED");
    let reason = body["Reason"].as_str().unwrap();
    assert!(
        reason.starts_with(&format!("SSM parameters {prefix}/missing-1, {prefix}/missing-2 not found in us-east-1 (account 123456789012)")),
        "{reason}"
    );
}

#[tokio::test]
async fn a_path_is_read_across_every_page_recursively_or_not() {
    let prefix = unique("/crp-test/path");
    for i in 0..14 {
        put_param(
            "us-east-1",
            &format!("{prefix}/flat{i:02}"),
            &format!("f{i}"),
            ParameterType::String,
        )
        .await;
    }
    put_param(
        "us-east-1",
        &format!("{prefix}/deep/er"),
        "deep",
        ParameterType::String,
    )
    .await;

    let body = create(json!({"Region": "us-east-1", "ParametersPath": prefix})).await;
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    let data = body["Data"].as_object().unwrap();
    assert_eq!(
        data.len(),
        15,
        "14 flat + 1 nested, over more than one page of 10"
    );
    assert_eq!(data[&format!("{prefix}/deep/er")], "deep");

    let body =
        create(json!({"Region": "us-east-1", "ParametersPath": prefix, "Recursive": "false"}))
            .await;
    assert_eq!(body["Data"].as_object().unwrap().len(), 14);

    let body =
        create(json!({"Region": "us-east-1", "ParametersPath": format!("{prefix}/nothing")})).await;
    assert!(
        body["Reason"]
            .as_str()
            .unwrap()
            .starts_with("no SSM parameters under path")
    );
}

#[tokio::test]
async fn versions_and_labels_select_what_is_read_and_the_id_follows_the_version() {
    let name = unique("/crp-test/versioned");
    put_param("us-east-1", &name, "one", ParameterType::String).await;
    put_param("us-east-1", &name, "two", ParameterType::String).await;
    moto_ssm("us-east-1")
        .await
        .label_parameter_version()
        .name(&name)
        .parameter_version(1)
        .labels("stable")
        .send()
        .await
        .unwrap();

    let v1 = create(json!({"Region": "us-east-1", "ParameterName": format!("{name}:1")})).await;
    assert_eq!(v1["Data"]["Value"], "one");
    let label = create(json!({"Region": "us-east-1", "Parameters": {"Stable": format!("{name}:stable"), "Latest": name}})).await;
    assert_eq!(label["Data"]["Stable"], "one", "{label}");
    assert_eq!(label["Data"]["Latest"], "two");

    let before = create(json!({"Region": "us-east-1", "ParameterName": name})).await;
    let again =
        create(json!({"Region": "us-east-1", "ParameterName": name, "Refresh": "next deploy"}))
            .await;
    assert_eq!(
        before["PhysicalResourceId"], again["PhysicalResourceId"],
        "same value, same id"
    );
    put_param("us-east-1", &name, "three", ParameterType::String).await;
    let after = create(json!({"Region": "us-east-1", "ParameterName": name})).await;
    assert_eq!(after["Data"]["Value"], "three");
    assert_ne!(
        before["PhysicalResourceId"], after["PhysicalResourceId"],
        "a new version replaces"
    );

    let missing =
        create(json!({"Region": "us-east-1", "ParameterName": format!("{name}:nolabel")})).await;
    assert!(
        missing["Reason"]
            .as_str()
            .unwrap()
            .contains(&format!("{name}:nolabel not found")),
        "{missing}"
    );
}

#[tokio::test]
async fn a_parameter_deleted_and_re_created_at_the_same_version_gets_a_new_id() {
    let name = unique("/crp-test/recreated");
    put_param("us-east-1", &name, "first", ParameterType::String).await;
    let props = json!({"Region": "us-east-1", "Parameters": {"V": name}});
    let before = create(props.clone()).await;
    let again = create(props.clone()).await;
    assert_eq!(before["PhysicalResourceId"], again["PhysicalResourceId"]);

    moto_ssm("us-east-1")
        .await
        .delete_parameter()
        .name(&name)
        .send()
        .await
        .unwrap();
    put_param("us-east-1", &name, "second", ParameterType::String).await;
    let after = create(props).await;
    assert_eq!(after["Data"]["V"], "second", "{after}");
    // Both sides are name@1: only the last-modified time in the identity
    // tells them apart, and CloudFormation needs a new id to see a replacement.
    assert_ne!(
        before["PhysicalResourceId"], after["PhysicalResourceId"],
        "a re-created parameter is a new value: the id must change"
    );
}

#[tokio::test]
async fn a_parameter_rewritten_by_cloudformation_keeps_its_version_but_not_its_id() {
    let config = moto_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let stack = unique("crp-param-");
    let name = format!("/{stack}/value");
    let template = |value: &str| {
        json!({"Resources": {"P": {"Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Name": name, "Value": value}}}})
        .to_string()
    };
    cfn.create_stack()
        .stack_name(&stack)
        .template_body(template("blue"))
        .send()
        .await
        .unwrap();
    let props = json!({"Region": "us-east-1", "ParameterName": name});
    let before = create(props.clone()).await;
    assert_eq!(before["Data"]["Value"], "blue", "{before}");

    cfn.update_stack()
        .stack_name(&stack)
        .template_body(template("green"))
        .send()
        .await
        .unwrap();
    let after = create(props).await;
    assert_eq!(after["Data"]["Value"], "green", "{after}");
    assert_eq!(
        before["Data"]["ParameterVersion"], after["Data"]["ParameterVersion"],
        "moto rewrites the parameter at the same version: the case this test is about"
    );
    assert_ne!(
        before["PhysicalResourceId"], after["PhysicalResourceId"],
        "a new value under the same version must change the id"
    );
}

#[tokio::test]
async fn string_lists_keep_their_commas_and_secure_strings_are_no_echo() {
    let list = unique("/crp-test/list");
    let secret = unique("/crp-test/secret");
    put_param("us-east-1", &list, "a,b,c", ParameterType::StringList).await;
    put_param("us-east-1", &secret, "hunter2", ParameterType::SecureString).await;

    let body = create(json!({"Region": "us-east-1", "Parameters": {"List": list, "Secret": secret}, "WithDecryption": "true"})).await;
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    assert_eq!(body["Data"]["List"], "a,b,c");
    assert_eq!(body["Data"]["Secret"], "hunter2");
    assert_eq!(body["NoEcho"], true);

    let plain =
        create(json!({"Region": "us-east-1", "ParameterName": list, "NoEcho": "true"})).await;
    assert_eq!(plain["NoEcho"], true, "NoEcho can be forced");
}

#[tokio::test]
async fn a_region_outside_the_allow_list_fails_before_any_call() {
    // Point at a closed port: any call would fail with a different reason.
    let port = support::http::closed_port().await;
    let provider = provider_for(
        &format!("http://127.0.0.1:{port}"),
        test_config(&[("CRP_ALLOWED_REGIONS", "us-east-1")]),
    )
    .await;
    let receiver = Receiver::start().await;
    let event = create_event(
        &receiver.url(),
        json!({"Region": "eu-west-1", "ParameterName": "/myapp/a"}),
    );
    provider
        .handle_json(event, Deadline::after(Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(
        receiver.only().json()["Reason"],
        "not allowed by the provider's configuration: region eu-west-1 is not in CRP_ALLOWED_REGIONS (us-east-1)"
    );
}
