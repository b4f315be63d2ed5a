//! Fuzzing (property tests) of event parsing and property validation: no
//! input, however broken, makes them panic, and what they promise holds.
//!
//! Inputs are mutations of the sample events in `events/` (bit flips,
//! insertions, deletions, splices of tokens serde_json refuses), arbitrary
//! bytes, and property maps drawn from the real property names and values
//! close to valid ones. `make test` runs a short pass (2,000 inputs per
//! target); the long run, over a million inputs in all, is
//!
//! ```text
//! CRP_FUZZ_CASES=340000 cargo test --test fuzz -- --nocapture
//! ```
//!
//! which prints the inputs executed per target (docs/reliability.md).

use std::sync::atomic::{AtomicU64, Ordering};

use cross_region_param::{Request, ResourceProperties};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value};

fn cases() -> u32 {
    std::env::var("CRP_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

fn seeds() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/events");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 5, "events/ seeds the corpus");
    seeds
}

/// Byte strings serde_json refuses or that stress a tolerant reader.
const TOKENS: &[&[u8]] = &[
    br#""\ud800""#,
    br#""\udc00\ud800""#,
    b"1e400",
    b"-1e99999",
    b"\xff\xfe",
    b"\xc3",
    br#"{""#,
    br#""\"#,
    b"]]]]",
    b"null",
    br#""ResponseURL":"http://127.0.0.1:9/x?sig=1","#,
    br#""RequestType":"Delete","#,
    br#""StackId":7,"#,
];

#[derive(Debug, Clone)]
enum Mutation {
    Flip(Index, u8),
    Insert(Index, u8),
    Delete(Index, usize),
    Token(Index, usize),
    Deep(Index, usize),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<Index>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<Index>(), 0..TOKENS.len()).prop_map(|(i, t)| Mutation::Token(i, t)),
        (any::<Index>(), 100usize..400).prop_map(|(i, d)| Mutation::Deep(i, d)),
        any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let at = |i: &Index| {
            if bytes.is_empty() {
                0
            } else {
                i.index(bytes.len())
            }
        };
        match m {
            Mutation::Flip(i, b) if !bytes.is_empty() => {
                let at = at(i);
                bytes[at] ^= b;
            }
            Mutation::Insert(i, b) => {
                let at = at(i);
                bytes.insert(at, *b);
            }
            Mutation::Delete(i, n) => {
                let at = at(i);
                let end = (at + n).min(bytes.len());
                bytes.drain(at..end);
            }
            Mutation::Token(i, t) => {
                let at = at(i);
                bytes.splice(at..at, TOKENS[*t].iter().copied());
            }
            Mutation::Deep(i, d) => {
                let at = at(i);
                let deep = [vec![b'['; *d], vec![b']'; *d]].concat();
                bytes.splice(at..at, deep);
            }
            Mutation::Truncate(i) => {
                let at = at(i);
                bytes.truncate(at);
            }
            Mutation::Flip(..) => {}
        }
    }
    bytes
}

/// What parsing promises for any input.
fn check_request(bytes: &[u8]) {
    let parsed = Request::from_bytes(bytes);
    // Wherever serde_json reads a non-empty ResponseURL, the request is
    // answerable and carries exactly that URL.
    let strict_url = serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| {
            v.get("ResponseURL")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .filter(|u| !u.is_empty());
    if let Some(url) = strict_url {
        let request = parsed
            .as_ref()
            .expect("a readable ResponseURL is always answerable");
        assert_eq!(request.response_url, url);
    }
    if let Ok(r) = parsed {
        assert!(r.stack_id.len() <= 1024);
        assert!(r.request_id.len() <= 256);
        assert!(r.logical_resource_id.len() <= 255);
        assert!(
            r.physical_resource_id
                .as_ref()
                .is_none_or(|p| p.len() <= 1024)
        );
        assert!(
            r.malformed
                .as_ref()
                .is_none_or(|m| !m.to_string().is_empty()),
            "a malformed request says why"
        );
    }
}

static MUTATED: AtomicU64 = AtomicU64::new(0);
static ARBITRARY: AtomicU64 = AtomicU64::new(0);
static PROPERTIES: AtomicU64 = AtomicU64::new(0);

#[test]
fn mutated_sample_events_never_panic_the_parser() {
    let seeds = seeds();
    let strategy = (0..seeds.len(), prop::collection::vec(mutation(), 0..6));
    runner()
        .run(&strategy, |(seed, mutations)| {
            MUTATED.fetch_add(1, Ordering::Relaxed);
            check_request(&apply(seeds[seed].clone(), &mutations));
            Ok(())
        })
        .unwrap();
    // The seeds themselves read cleanly.
    for seed in &seeds {
        let malformed = Request::from_bytes(seed).unwrap().malformed;
        assert!(
            malformed.is_none(),
            "{malformed:?}: {}",
            String::from_utf8_lossy(seed)
        );
    }
    println!(
        "fuzz: {} mutated events parsed, no panic",
        MUTATED.load(Ordering::Relaxed)
    );
}

#[test]
fn arbitrary_bytes_never_panic_the_parser() {
    let strategy = prop::collection::vec(any::<u8>(), 0..512);
    runner()
        .run(&strategy, |bytes| {
            ARBITRARY.fetch_add(1, Ordering::Relaxed);
            check_request(&bytes);
            Ok(())
        })
        .unwrap();
    println!(
        "fuzz: {} arbitrary byte strings parsed, no panic",
        ARBITRARY.load(Ordering::Relaxed)
    );
}

const PROPERTY_NAMES: &[&str] = &[
    "Region",
    "ParameterName",
    "Parameters",
    "ParametersPath",
    "Recursive",
    "WithDecryption",
    "FunctionName",
    "Qualifier",
    "EdgeEventType",
    "StackName",
    "RoleArn",
    "ExternalId",
    "NoEcho",
    "Refresh",
    "ServiceToken",
    "ServiceTimeout",
];

const NEAR_VALID: &[&str] = &[
    "us-east-1",
    "ap-northeast-1",
    "us-east-9z",
    "/myapp/a",
    "/myapp/a:3",
    "/myapp/a:prod",
    "/myapp/a:",
    "myapp",
    "arn:aws:ssm:us-east-1:123456789012:parameter/myapp/x",
    "arn:aws:ssm:eu-west-1:123456789012:parameter/myapp/x",
    "arn:parameter/myapp/z:ssm:us-east-1:123456789012:parameter/secret",
    "arn:aws:sqs:us-east-1:123456789012:parameter/x",
    "arn:aws:iam::123456789012:role/team-a",
    "arn:aws:iam::123456789012:role/team-:role/admin",
    "AuthFunction",
    "arn:aws:lambda:us-east-1:123456789012:function:Auth:7",
    "viewer-request",
    "true",
    "false",
    "",
    ":",
    "*",
    "?",
];

fn json_value() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        4 => prop::sample::select(NEAR_VALID).prop_map(str::to_owned),
        2 => (prop::sample::select(NEAR_VALID), "[a-z0-9/:*?._-]{0,12}").prop_map(|(a, b)| format!("{a}{b}")),
        1 => any::<String>(),
        1 => (1usize..3000).prop_map(|n| "x".repeat(n)),
    ];
    let leaf = prop_oneof![
        6 => text.prop_map(Value::String),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(Value::from),
        1 => Just(Value::Null),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[A-Za-z]{1,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn property_map() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        6 => prop::sample::select(PROPERTY_NAMES).prop_map(str::to_owned),
        1 => "[A-Za-z]{1,14}",
    ];
    prop::collection::vec((key, json_value()), 0..8).prop_map(|pairs| {
        let mut map = Map::new();
        for (k, v) in pairs {
            map.insert(k, v);
        }
        Value::Object(map)
    })
}

#[test]
fn property_validation_never_panics_and_always_explains_a_refusal() {
    runner()
        .run(&property_map(), |props| {
            PROPERTIES.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = ResourceProperties::parse(&props) {
                prop_assert!(!e.to_string().is_empty());
            }
            Ok(())
        })
        .unwrap();
    println!(
        "fuzz: {} property maps validated, no panic",
        PROPERTIES.load(Ordering::Relaxed)
    );
}

// ---------------------------------------------------------------------------
// The shapes of the third hardening pass: many selectors of one parameter,
// nested Fn::Sub and condition DAGs, YAML aliases and tags, and cloud
// assemblies with hostile paths. `crp`'s own modules are compiled in here so
// the fuzzer drives them directly rather than through a process per input.

#[allow(dead_code, unused_imports)]
#[path = "../src/bin/crp/assembly.rs"]
mod assembly;
#[allow(dead_code, unused_imports)]
#[path = "../src/bin/crp/evaluate.rs"]
mod evaluate;
#[allow(dead_code, unused_imports)]
#[path = "../src/bin/crp/template.rs"]
mod template;
#[allow(dead_code, unused_imports)]
#[path = "../src/bin/crp/yaml_scan.rs"]
mod yaml_scan;

use std::collections::BTreeMap;
use std::sync::Arc;

use cross_region_param::error::ResolveError;
use cross_region_param::testing::{Echo, MAX_BODY_BYTES, body};
use cross_region_param::{
    Config as ProviderConfig, Deadline, Progress, Provider, Requester, Resolve, Resolved,
    ResponseSender, RetryPolicy, Status,
};

static SELECTORS: AtomicU64 = AtomicU64::new(0);
static EVALUATED: AtomicU64 = AtomicU64::new(0);
static YAML: AtomicU64 = AtomicU64::new(0);
static ASSEMBLIES: AtomicU64 = AtomicU64::new(0);

/// A resolver that reads nothing and counts how often it is asked.
struct Counting(Arc<AtomicU64>);

impl Resolve for Counting {
    async fn resolve(
        &self,
        _: &ResourceProperties,
        _: &Requester,
        _: &Progress,
    ) -> Result<Resolved, ResolveError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(Resolved::default())
    }
}

fn selector() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u64..100_000).prop_map(|v| v.to_string()),
        "[a-z][a-z0-9_.-]{0,20}",
        Just(String::new()),
    ]
}

#[test]
fn many_selectors_of_one_name_are_refused_up_front_or_read_and_always_fit() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let asked = Arc::new(AtomicU64::new(0));
    let provider = Provider::new(
        Arc::new(Counting(Arc::clone(&asked))),
        ResponseSender::new(RetryPolicy::default()).unwrap(),
        Arc::new(ProviderConfig::default()),
    );
    let names = prop::sample::select(vec!["/one", "/myapp/x", "flat", "/a/b/c"]);
    let entries = prop::collection::vec((names, selector()), 1..120);
    let extra = prop_oneof![9 => Just(0usize), 1 => Just(1usize)];
    let strategy = (entries, extra);
    runner()
        .run(&strategy, |(entries, extra)| {
            SELECTORS.fetch_add(1, Ordering::Relaxed);
            let mut map = Map::new();
            for (i, (name, sel)) in entries.iter().enumerate() {
                let reference = if sel.is_empty() {
                    (*name).to_owned()
                } else {
                    format!("{name}:{sel}")
                };
                map.insert(format!("K{i}"), Value::String(reference));
            }
            // Sometimes far past what could fit.
            for i in 0..extra * 1_000 {
                map.insert(format!("X{i}"), Value::String(format!("/one:{}", i + 1)));
            }
            let event = serde_json::json!({
                "RequestType": "Create", "ResponseURL": "http://127.0.0.1:9/r",
                "StackId": "s", "RequestId": "r", "LogicalResourceId": "L",
                "ResourceType": "Custom::CrossRegionParam",
                "ResourceProperties": {"Region": "us-east-1", "Parameters": Value::Object(map.clone())}
            });
            let request = Request::from_bytes(&serde_json::to_vec(&event).unwrap()).unwrap();
            let before = asked.load(Ordering::Relaxed);
            let answer = runtime.block_on(provider.answer(&request, Deadline::after(std::time::Duration::from_secs(30))));
            let resolved = asked.load(Ordering::Relaxed) > before;
            if extra > 0 {
                prop_assert_eq!(answer.status, Status::Failed);
                prop_assert!(!resolved, "refused before any read");
                // Refused as too many keys, unless a selector was invalid.
                prop_assert!(
                    answer.reason.contains("Data keys") || answer.reason.starts_with("invalid properties"),
                    "{}",
                    answer.reason
                );
            }
            // The answer is the one that would be sent: it fits the body.
            let sent = body(&Echo::default(), &answer);
            prop_assert!(
                sent.as_ref().is_ok_and(|b| b.len() <= MAX_BODY_BYTES),
                "{:?}",
                sent.map(|b| b.len())
            );
            prop_assert!(!answer.reason.is_empty());
            Ok(())
        })
        .unwrap();
    println!(
        "fuzz: {} Parameters maps of repeated selectors answered, no panic",
        SELECTORS.load(Ordering::Relaxed)
    );
}

/// A value built of nested intrinsic functions over a few leaves.
fn intrinsic(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        "[a-z]{0,6}".prop_map(Value::String),
        Just(serde_json::json!({"Ref": "P"})),
        Just(serde_json::json!({"Ref": "AWS::Region"})),
        Just(serde_json::json!({"Fn::GetAtt": ["X", "Y"]})),
    ];
    leaf.prop_recursive(depth, 64, 3, |inner| {
        prop_oneof![
            inner
                .clone()
                .prop_map(|v| serde_json::json!({"Fn::Sub": ["${V}${V}${V}", {"V": v}]})),
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| serde_json::json!({"Fn::Join": ["-", items]})),
            inner
                .clone()
                .prop_map(|v| serde_json::json!({"Fn::Base64": v})),
            (0usize..30, inner.clone(), inner)
                .prop_map(|(c, a, b)| serde_json::json!({"Fn::If": [format!("C{c}"), a, b]})),
        ]
    })
}

/// Conditions C0..C29, each over the next ones (a DAG), ending in Equals.
fn condition_dag() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((0usize..3, 1usize..4, any::<bool>()), 30).prop_map(|shapes| {
        let mut out = Map::new();
        for (i, (op, step, flip)) in shapes.into_iter().enumerate() {
            let next = |k: usize| serde_json::json!({"Condition": format!("C{}", (i + k).min(30))});
            let c = match op {
                0 => serde_json::json!({"Fn::And": [next(1), next(step)]}),
                1 => serde_json::json!({"Fn::Or": [next(step), next(1)]}),
                _ => serde_json::json!({"Fn::Not": [next(1)]}),
            };
            out.insert(format!("C{i}"), c);
            if flip {
                out.insert("C30".into(), serde_json::json!({"Fn::Equals": ["a", "a"]}));
            }
        }
        out.entry("C30")
            .or_insert(serde_json::json!({"Fn::Equals": [{"Ref": "P"}, "b"]}));
        out
    })
}

#[test]
fn nested_intrinsics_and_condition_dags_evaluate_within_their_bounds() {
    let strategy = (intrinsic(40), condition_dag(), "[a-z]{0,40}");
    runner()
        .run(&strategy, |(value, conditions, parameter)| {
            EVALUATED.fetch_add(1, Ordering::Relaxed);
            let template = serde_json::json!({
                "Parameters": {"P": {"Type": "String", "Default": parameter}},
                "Conditions": conditions,
                "Resources": {"X": {"Type": "AWS::S3::Bucket"}}
            });
            let scope = evaluate::Scope::new(
                &template,
                &BTreeMap::new(),
                evaluate::StackEnv {
                    stack_name: Some("App".into()),
                    region: Some("us-east-1".into()),
                    account: None,
                },
            );
            scope.begin_resource();
            let _ = scope.condition("C0");
            match scope.eval(&value) {
                Ok(Some(Value::String(s))) => prop_assert!(s.len() <= evaluate::STRING_MAX),
                Ok(_) => {}
                Err(evaluate::Unknown(why)) => prop_assert!(!why.is_empty()),
            }
            Ok(())
        })
        .unwrap();
    println!(
        "fuzz: {} nested Fn::Sub / condition DAG templates evaluated, no panic",
        EVALUATED.load(Ordering::Relaxed)
    );
}

/// YAML text made of anchors, aliases to them, and tags of every kind.
fn yaml_text() -> impl Strategy<Value = String> {
    let tag = prop::sample::select(vec![
        "",
        "",
        "",
        "!Ref ",
        "!Sub ",
        "!!str ",
        "!!int ",
        "!!python/object/apply:os.system ",
        "!<tag:yaml.org,2002:str> ",
        "!<tag:example.com,2000:x> ",
        "!!binary ",
        "! ",
        "!Reff ",
    ]);
    let line = (0usize..4, 0usize..40, tag, 1usize..60);
    prop::collection::vec(line, 1..200).prop_map(|lines| {
        let mut out = String::from("Resources:\n  B:\n    Type: AWS::S3::Bucket\nItems:\n");
        for (i, (kind, target, tag, width)) in lines.into_iter().enumerate() {
            let item = match kind {
                0 => format!("  - &a{i} {tag}{}\n", "v".repeat(width)),
                1 => format!("  - *a{target}\n"),
                2 => format!(
                    "  - &a{i} [{}]\n",
                    vec![format!("*a{target}"); width.min(20)].join(", ")
                ),
                _ => format!("  - {tag}[x, {{k: {tag}y}}]\n"),
            };
            out.push_str(&item);
        }
        out
    })
}

#[test]
fn yaml_with_aliases_and_tags_is_read_or_refused_within_bounds() {
    runner()
        .run(&yaml_text(), |text| {
            YAML.fetch_add(1, Ordering::Relaxed);
            match template::parse(&text) {
                Ok(v) => {
                    let size = serde_json::to_vec(&v).unwrap().len();
                    prop_assert!(size <= template::EXPANDED_MAX * 2, "{size}");
                    prop_assert!(!text.contains("!!python"), "a secondary tag was accepted");
                }
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
            Ok(())
        })
        .unwrap();
    println!(
        "fuzz: {} YAML documents with aliases and tags read or refused, no panic",
        YAML.load(Ordering::Relaxed)
    );
}

/// Paths a hostile manifest might name.
const HOSTILE_PATHS: &[&str] = &[
    "App.template.json",
    "./App.template.json",
    "../outside.json",
    "../../outside.json",
    "link-out.json",
    "zero.json",
    "sub/../App.template.json",
    "sub/../../outside.json",
    "/etc/hostname",
    "",
    ".",
    "..",
    "sub",
    "sub/..",
    "link-dir",
    "App.template.json/..",
    "fifo.json",
    "missing.json",
];

#[test]
fn hostile_cloud_assemblies_never_read_outside_and_always_end() {
    let base = std::env::temp_dir().join(format!("crp-fuzz-assembly-{}", std::process::id()));
    let root = base.join("cdk.out");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    let inside = serde_json::json!({"Resources": {"Inside": {"Type": "AWS::S3::Bucket"}}});
    let outside = serde_json::json!({"Resources": {"Outside": {"Type": "AWS::S3::Bucket"}}});
    std::fs::write(root.join("App.template.json"), inside.to_string()).unwrap();
    std::fs::write(base.join("outside.json"), outside.to_string()).unwrap();
    let _ = std::os::unix::fs::symlink(base.join("outside.json"), root.join("link-out.json"));
    let _ = std::os::unix::fs::symlink("/dev/zero", root.join("zero.json"));
    let _ = std::os::unix::fs::symlink(&base, root.join("link-dir"));
    let fifo = std::ffi::CString::new(root.join("fifo.json").to_string_lossy().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; the result is only checked.
    let _ = unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) };

    let artifact = (any::<bool>(), prop::sample::select(HOSTILE_PATHS));
    let manifests = prop::collection::vec(prop::collection::vec(artifact, 0..5), 2);
    runner()
        .run(&manifests, |manifests| {
            ASSEMBLIES.fetch_add(1, Ordering::Relaxed);
            for (dir, artifacts) in [root.clone(), root.join("sub")].iter().zip(&manifests) {
                let mut map = Map::new();
                for (i, (stack, path)) in artifacts.iter().enumerate() {
                    let entry = if *stack {
                        serde_json::json!({"type": "aws:cloudformation:stack", "properties": {"templateFile": path}})
                    } else {
                        serde_json::json!({"type": "cdk:cloud-assembly", "properties": {"directoryName": path}})
                    };
                    map.insert(format!("A{i}"), entry);
                }
                let manifest = serde_json::json!({"artifacts": map});
                std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
            }
            if let Ok(stacks) = assembly::stacks(&root, &assembly::TemplateDefaults::default()) {
                for stack in &stacks {
                    prop_assert!(
                        stack.template["Resources"].get("Outside").is_none(),
                        "read a template outside the assembly: {manifests:?}"
                    );
                }
                prop_assert!(stacks.len() <= 5 * 2);
            }
            Ok(())
        })
        .unwrap();
    let _ = std::fs::remove_dir_all(&base);
    println!(
        "fuzz: {} hostile cloud assemblies planned or refused, none read outside",
        ASSEMBLIES.load(Ordering::Relaxed)
    );
}
