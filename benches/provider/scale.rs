//! Scale figures: how many AWS calls the provider makes for large inputs,
//! beside the fewest the APIs allow. Calls are counted on the wire (every
//! HTTP request the SDK sends, retries included) by wrapping the provider's
//! own HTTP client. SSM cases run on moto. Where moto does not page as the
//! service does, a small local endpoint that does plays the service too:
//! ListVersionsByFunction 50 at a time (moto answers every version in one
//! page), GetParametersByPath 10 at a time with no `NextToken` on the last
//! page (moto announces one more, empty, page after a full last one).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_ssm::types::ParameterType;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use cross_region_param::{AwsClients, Deadline, Provider, Resolver, ResponseSender};
use serde_json::{Map, Value, json};

use crate::support::http::{Endpoint, Receiver, Recorded, Reply};
use crate::support::{
    HandleJson, create_event, fast_retries, moto_ssm, moto_url, sdk_config_for, test_config,
};

/// One scale case's outcome.
#[derive(Debug)]
pub struct Case {
    pub label: String,
    pub calls: BTreeMap<String, usize>,
    pub minimum: usize,
    pub status: String,
    pub wall: Duration,
}

impl Case {
    pub fn total(&self) -> usize {
        self.calls.values().sum()
    }
}

/// Counts every request the SDK sends, by operation.
#[derive(Debug, Clone)]
struct Counting {
    inner: SharedHttpClient,
    calls: Arc<Mutex<Vec<String>>>,
}

impl HttpClient for Counting {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(CountingConnector {
            inner: self.inner.http_connector(settings, components),
            calls: Arc::clone(&self.calls),
        })
    }
}

#[derive(Debug)]
struct CountingConnector {
    inner: SharedHttpConnector,
    calls: Arc<Mutex<Vec<String>>>,
}

impl HttpConnector for CountingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        self.calls.lock().unwrap().push(operation(&request));
        self.inner.call(request)
    }
}

/// `ssm:GetParameters` from the JSON protocol's target header; Lambda's REST
/// operations from method and path.
fn operation(request: &HttpRequest) -> String {
    if let Some(target) = request.headers().get("x-amz-target") {
        let (service, op) = target.split_once('.').unwrap_or(("?", target));
        let service = if service.contains("SSM") {
            "ssm"
        } else {
            service
        };
        return format!("{service}:{op}");
    }
    let path = request.uri().split('?').next().unwrap_or_default();
    if path.ends_with("/versions") {
        "lambda:ListVersionsByFunction".to_owned()
    } else if path.ends_with("/configuration") {
        "lambda:GetFunctionConfiguration".to_owned()
    } else {
        format!("{} {path}", request.method())
    }
}

async fn counted_provider(endpoint: &str) -> (Provider<Resolver>, Arc<Mutex<Vec<String>>>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let base = sdk_config_for(endpoint).await;
    let counting = Counting {
        inner: base.http_client().expect("the provider's HTTP client"),
        calls: Arc::clone(&calls),
    };
    let base = base
        .to_builder()
        .http_client(SharedHttpClient::new(counting))
        .build();
    let config = Arc::new(test_config(&[]));
    let resolver = Arc::new(Resolver::new(
        Arc::new(AwsClients::from_config(base)),
        Arc::clone(&config),
    ));
    let provider = Provider::new(
        resolver,
        ResponseSender::new(fast_retries()).unwrap(),
        config,
    );
    (provider, calls)
}

async fn measure(label: String, endpoint: &str, props: Value, minimum: usize) -> Case {
    let (provider, calls) = counted_provider(endpoint).await;
    let receiver = Receiver::start().await;
    let start = Instant::now();
    let _ = provider
        .handle_json(
            create_event(&receiver.url(), props),
            Deadline::after(Duration::from_secs(120)),
        )
        .await;
    let wall = start.elapsed();
    let answer = receiver.only().json();
    let status = match answer["Status"].as_str() {
        Some("SUCCESS") => format!(
            "SUCCESS, {} Data keys",
            answer["Data"].as_object().map_or(0, |d| d.len())
        ),
        _ => format!("FAILED: {}", answer["Reason"].as_str().unwrap_or("?")),
    };
    let mut counted = BTreeMap::new();
    for op in calls.lock().unwrap().iter() {
        *counted.entry(op.clone()).or_insert(0) += 1;
    }
    Case {
        label,
        calls: counted,
        minimum,
        status,
        wall,
    }
}

/// Puts `count` short parameters under `prefix` (names `prefix/000`...).
async fn put_many(prefix: &str, count: usize) {
    let ssm = moto_ssm("us-east-1").await;
    for i in 0..count {
        ssm.put_parameter()
            .name(format!("{prefix}/{i:03}"))
            .value(format!("{i}"))
            .r#type(ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .unwrap();
    }
}

pub async fn all() -> Vec<Case> {
    let mut cases = Vec::new();
    put_many("/n", 100).await;
    for n in [10usize, 50, 100] {
        let names: Map<String, Value> = (0..n)
            .map(|i| (format!("K{i:03}"), json!(format!("/n/{i:03}"))))
            .collect();
        cases.push(
            measure(
                format!("Parameters, {n} names"),
                &moto_url(),
                json!({"Region": "us-east-1", "Parameters": names}),
                n.div_ceil(10),
            )
            .await,
        );
    }
    put_many("/p", 200).await;
    let ssm = Endpoint::start(ssm_path_pages("/p", 200)).await;
    cases.push(
        measure(
            "ParametersPath, 200 parameters, paged as SSM pages".to_owned(),
            &ssm.url(),
            json!({"Region": "us-east-1", "ParametersPath": "/p"}),
            20,
        )
        .await,
    );
    cases.push(
        measure(
            "ParametersPath, 200 parameters, on moto".to_owned(),
            &moto_url(),
            json!({"Region": "us-east-1", "ParametersPath": "/p"}),
            // A client must follow every NextToken (a page may be short or
            // empty while more follow), so the fewest calls moto allows is
            // the number of pages it announces, counted here on its own.
            moto_pages("/p").await,
        )
        .await,
    );
    let lambda = Endpoint::start(lambda_pages(1000)).await;
    cases.push(
        measure(
            "FunctionName, 1,000 versions".to_owned(),
            &lambda.url(),
            json!({"Region": "us-east-1", "FunctionName": "bench-fn"}),
            // 1,000 versions and $LATEST, which the list includes: 21 pages
            // of 50; then the chosen version's configuration (the list leaves
            // out State, which must be Active).
            22,
        )
        .await,
    );
    cases
}

/// How many GetParametersByPath pages moto hands out for `path`, 10 a page.
async fn moto_pages(path: &str) -> usize {
    let ssm = moto_ssm("us-east-1").await;
    let mut pages = 0;
    let mut token = None;
    loop {
        let page = ssm
            .get_parameters_by_path()
            .path(path)
            .max_results(10)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        pages += 1;
        token = page.next_token;
        if token.is_none() {
            return pages;
        }
    }
}

fn json_reply(content_type: &str, body: &Value) -> Reply {
    (
        200,
        vec![("content-type", content_type.to_owned())],
        body.to_string().into_bytes(),
    )
}

/// GetParametersByPath over `count` parameters `path/000`..., at most 10 a
/// page, with a `NextToken` only while more remain.
fn ssm_path_pages(path: &'static str, count: usize) -> impl Fn(&Recorded) -> Reply {
    move |req| {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let from: usize = body["NextToken"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let max = body["MaxResults"]
            .as_u64()
            .map_or(10, |m| m.min(10) as usize);
        let page: Vec<Value> = (from..count.min(from + max))
            .map(|i| {
                json!({
                    "Name": format!("{path}/{i:03}"),
                    "Type": "String",
                    "Value": i.to_string(),
                    "Version": 1,
                    "DataType": "text",
                    "LastModifiedDate": 1.7e9,
                    "ARN": format!("arn:aws:ssm:us-east-1:123456789012:parameter{path}/{i:03}"),
                })
            })
            .collect();
        let mut out = json!({ "Parameters": page });
        if from + max < count {
            out["NextToken"] = json!((from + max).to_string());
        }
        json_reply("application/x-amz-json-1.1", &out)
    }
}

const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:bench-fn";

/// One function of `versions` published versions, ListVersionsByFunction
/// paged like Lambda: at most 50 a page.
fn lambda_pages(versions: u64) -> impl Fn(&Recorded) -> Reply {
    move |req| {
        let query: BTreeMap<&str, &str> = req
            .query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .collect();
        let body = if req.path.ends_with("/versions") {
            // "$LATEST" first, then 1..=versions.
            let all: Vec<String> = std::iter::once("$LATEST".to_owned())
                .chain((1..=versions).map(|v| v.to_string()))
                .collect();
            let from: usize = query
                .get("Marker")
                .and_then(|m| m.parse().ok())
                .unwrap_or(0);
            let max: usize = query
                .get("MaxItems")
                .and_then(|m| m.parse().ok())
                .unwrap_or(50)
                .min(50);
            let page: Vec<Value> = all
                .iter()
                .skip(from)
                .take(max)
                .map(|v| json!({"FunctionName": "bench-fn", "FunctionArn": format!("{ARN}:{v}"), "Version": v}))
                .collect();
            let mut out = json!({ "Versions": page });
            if from + max < all.len() {
                out["NextMarker"] = json!((from + max).to_string());
            }
            out
        } else {
            let version = query.get("Qualifier").copied().unwrap_or("$LATEST");
            json!({
                "FunctionName": "bench-fn",
                "FunctionArn": format!("{ARN}:{version}"),
                "Version": version,
                "CodeSha256": "YmVuY2g=",
                "State": "Active",
                "LastUpdateStatus": "Successful",
                "Runtime": "nodejs20.x",
            })
        };
        json_reply("application/json", &body)
    }
}
