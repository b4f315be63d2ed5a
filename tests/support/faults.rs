//! Misbehaving counterparts for the fault matrix and the hardening tests: a
//! ResponseURL receiver that follows a script (statuses, redirects, dropped
//! connections, slow answers), an SSM endpoint that throttles, denies or talks
//! nonsense, a Runtime API that serves raw bytes, and tracing subscribers that
//! capture logs or panic on cue. All bound to 127.0.0.1, stopped on drop.
//!
//! Included with `#[path = "support/faults.rs"] mod faults;` next to `mod support;`.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::support::http::{Recorded, read_request, write_response};

/// What the receiver does with one PUT.
#[derive(Debug, Clone)]
pub enum Step {
    /// Answer with this status.
    Status(u16),
    /// Answer with this status and a `Location` header.
    Redirect(u16, String),
    /// Read the request, then close the connection without answering.
    Close,
    /// Wait, then answer with this status.
    Slow(Duration, u16),
}

/// CloudFormation's side of the ResponseURL, following a script (then 200).
pub struct Scripted {
    pub port: u16,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    accepted: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Scripted {
    pub async fn start(script: Vec<Step>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(AtomicUsize::new(0));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let (rec, acc) = (Arc::clone(&recorded), Arc::clone(&accepted));
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (rec, acc, script) = (Arc::clone(&rec), Arc::clone(&acc), Arc::clone(&script));
                tokio::spawn(async move {
                    let Some(r) = read_request(&mut stream).await else {
                        return;
                    };
                    rec.lock().unwrap().push(r);
                    let step = script
                        .lock()
                        .unwrap()
                        .pop_front()
                        .unwrap_or(Step::Status(200));
                    // Counted before the answer is written: once the provider
                    // has read a 2xx, a test may check the count at once.
                    let count = |s: u16| {
                        if (200..300).contains(&s) {
                            acc.fetch_add(1, Ordering::SeqCst);
                        }
                    };
                    match step {
                        Step::Status(s) => {
                            count(s);
                            write_response(&mut stream, s, &[], b"").await;
                        }
                        Step::Redirect(s, location) => {
                            count(s);
                            write_response(&mut stream, s, &[("location", location)], b"").await;
                        }
                        Step::Close => {}
                        Step::Slow(wait, s) => {
                            tokio::time::sleep(wait).await;
                            count(s);
                            write_response(&mut stream, s, &[], b"").await;
                        }
                    }
                });
            }
        });
        Self {
            port,
            recorded,
            accepted,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!(
            "http://127.0.0.1:{}/cloudformation-response/EdgeAuth?X-Amz-Signature=scripted-signature",
            self.port
        )
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().unwrap().clone()
    }

    /// PUTs answered 2xx.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// The count behind [`Self::accepted`], for a thread that cannot borrow
    /// the receiver.
    pub fn accepted_counter(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.accepted)
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How the fake SSM endpoint misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsmMode {
    /// Every call answers.
    Answer,
    /// The first call for each set of names is throttled, its retry answers:
    /// half of all calls are throttled.
    ThrottleHalf,
    /// Every call is throttled.
    ThrottleAll,
    /// Every call is denied.
    AccessDenied,
    /// Every call gets a 200 whose body is not JSON.
    Malformed,
    /// Every name asked for is missing.
    Missing,
}

/// An SSM endpoint (JSON 1.1 protocol) that answers `GetParameters` with
/// `value-of-<name>`, or misbehaves as told.
pub struct FakeSsm {
    pub port: u16,
    calls: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl FakeSsm {
    pub async fn start(mode: SsmMode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let seen = Arc::new(Mutex::new(std::collections::HashSet::new()));
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let counter = Arc::clone(&counter);
                let seen = Arc::clone(&seen);
                tokio::spawn(async move {
                    // One request per connection (the answer closes it).
                    let Some(req) = read_request(&mut stream).await else {
                        return;
                    };
                    counter.fetch_add(1, Ordering::SeqCst);
                    let first_time = seen.lock().unwrap().insert(req.body.clone());
                    let error = |kind: &str, message: &str| {
                        (400, json!({"__type": kind, "message": message}).to_string())
                    };
                    let (status, body) = match mode {
                        SsmMode::ThrottleHalf if first_time => {
                            error("ThrottlingException", "Rate exceeded")
                        }
                        SsmMode::ThrottleAll => error("ThrottlingException", "Rate exceeded"),
                        SsmMode::AccessDenied => error(
                            "AccessDeniedException",
                            "User: arn:aws:sts::123456789012:assumed-role/crp/x is not authorized to perform: ssm:GetParameters",
                        ),
                        SsmMode::Malformed => (200, "<html>not json".to_owned()),
                        SsmMode::Missing => (200, missing_parameters(&req)),
                        _ => (200, get_parameters(&req)),
                    };
                    write_response(
                        &mut stream,
                        status,
                        &[("content-type", "application/x-amz-json-1.1".to_owned())],
                        body.as_bytes(),
                    )
                    .await;
                });
            }
        });
        Self { port, calls, task }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Drop for FakeSsm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn asked_names(req: &Recorded) -> Vec<String> {
    let asked: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    asked["Names"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn missing_parameters(req: &Recorded) -> String {
    json!({"Parameters": [], "InvalidParameters": asked_names(req)}).to_string()
}

fn get_parameters(req: &Recorded) -> String {
    let asked: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let names: Vec<String> = asked["Names"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let parameters: Vec<Value> = names
        .iter()
        .map(|name| {
            json!({
                "Name": name,
                "Type": "String",
                "Value": format!("value-of-{name}"),
                "Version": 1,
                "ARN": format!("arn:aws:ssm:us-east-1:123456789012:parameter{name}"),
                "DataType": "text",
            })
        })
        .collect();
    json!({"Parameters": parameters, "InvalidParameters": []}).to_string()
}

/// Logs written by a test-local subscriber, as text.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures the current thread's log lines as the Lambda writes them: JSON,
/// one object per line, the request's span flattened in, at info level.
pub fn capture_json_logs() -> (CapturedLogs, tracing::subscriber::DefaultGuard) {
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .without_time()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    (logs, guard)
}

/// Captures the current thread's log lines at trace level, under the same
/// dependency ceiling as the binary (tests run on a current-thread runtime,
/// so spawned tasks log here too).
pub fn capture_logs() -> (CapturedLogs, tracing::subscriber::DefaultGuard) {
    use tracing_subscriber::layer::SubscriberExt;
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .with(tracing_subscriber::filter::filter_fn(
            cross_region_param::telemetry::within_ceiling,
        ));
    let guard = tracing::subscriber::set_default(subscriber);
    (logs, guard)
}
