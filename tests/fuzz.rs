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
            r.malformed.as_ref().is_none_or(|m| !m.is_empty()),
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
