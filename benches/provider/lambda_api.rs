//! One Lambda-style run of a function process: a Runtime API that hands out
//! events and a loopback ResponseURL receiver, both timestamping what they
//! see, and the process's CPU read twice: when it asks for the event after its
//! last one (where Lambda freezes it) and from `wait4` once it is killed.

use std::collections::VecDeque;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::relay::{Log, Relay};
use crate::support::http::{read_request, write_response};

/// How to start one side of the comparison.
#[derive(Debug, Clone)]
pub struct Program {
    pub label: &'static str,
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// The ResponseURL's endpoint as a place of its own: a TLS relay `rtt` away
/// in front of the receiver, recording into `log`.
pub struct ResponsePlace {
    pub rtt: Duration,
    pub tls: Arc<rustls::ServerConfig>,
    pub log: Log,
}

/// What one process did.
#[derive(Debug, Clone)]
pub struct Run {
    /// When the process was started (timelines are relative to it).
    pub started: Instant,
    /// Process start to the first response PUT received.
    pub cold: Duration,
    /// For each later invocation: event handed out to its PUT received.
    pub warm: Vec<Duration>,
    /// When each invocation's event was handed out by the Runtime API.
    pub served: Vec<Instant>,
    /// CPU of every live thread (`/proc/PID/task/*/schedstat`, ns) at the
    /// moment the process asked for the event after its last one: the work of
    /// the invocations themselves, as Lambda accounts them before it freezes
    /// the sandbox.
    pub cpu: Duration,
    /// User + system CPU from `wait4` after SIGKILL: the above plus whatever
    /// ran after that request, the kernel's tear-down of the process included.
    pub cpu_to_exit: Duration,
    /// Peak resident set (`VmHWM`), kB.
    pub max_rss_kb: u64,
}

#[derive(Default)]
struct Seen {
    queue: VecDeque<(String, Value)>,
    served: Vec<Instant>,
    posted: usize,
    puts: Vec<(Instant, Value)>,
    parked: Vec<TcpStream>,
    pid: Option<libc::pid_t>,
    asked_after_last: bool,
    cpu_at_next: Option<Duration>,
}

type Shared = Arc<(Mutex<Seen>, Notify)>;

/// Starts `program` against a fresh Runtime API, feeds it `events` (each one's
/// ResponseURL is pointed at this run's receiver), waits until every
/// invocation is posted back, then kills it and reads its accounting.
pub async fn run(program: &Program, events: Vec<Value>) -> Result<Run, String> {
    run_at(program, events, None).await
}

/// [`run`], with the ResponseURL behind `place` (https, `localhost`) when given.
pub async fn run_at(
    program: &Program,
    events: Vec<Value>,
    place: Option<&ResponsePlace>,
) -> Result<Run, String> {
    let runtime = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let receiver = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let runtime_port = runtime.local_addr().map_err(|e| e.to_string())?.port();
    let receiver_port = receiver.local_addr().map_err(|e| e.to_string())?.port();
    let total = events.len();
    let front = match place {
        Some(place) => {
            let upstream = receiver.local_addr().map_err(|e| e.to_string())?;
            let relay = Relay::start(
                "response",
                place.rtt,
                Some(Arc::clone(&place.tls)),
                upstream,
                Arc::clone(&place.log),
            )
            .await
            .map_err(|e| e.to_string())?;
            Some(relay)
        }
        None => None,
    };
    let base = front.as_ref().map_or_else(
        || format!("http://127.0.0.1:{receiver_port}"),
        |relay| relay.url(true),
    );
    let shared: Shared = Arc::default();
    {
        let mut seen = lock(&shared);
        for (i, mut event) in events.into_iter().enumerate() {
            event["ResponseURL"] = Value::String(format!(
                "{base}/cloudformation-response/{i}?X-Amz-Signature=bench"
            ));
            seen.queue.push_back((format!("inv-{i}"), event));
        }
    }
    let tasks = [
        tokio::spawn(serve_runtime(runtime, Arc::clone(&shared))),
        tokio::spawn(serve_receiver(receiver, Arc::clone(&shared))),
    ];

    let start = Instant::now();
    let child = Command::new(&program.program)
        .args(&program.args)
        .env_clear()
        .envs(program.env.iter().map(|(k, v)| (k, v)))
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("127.0.0.1:{runtime_port}"),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", program.program))?;
    let pid = child.id() as libc::pid_t;
    lock(&shared).pid = Some(pid);

    let limit = Instant::now() + Duration::from_secs(60);
    let finished = loop {
        let notified = shared.1.notified();
        {
            let seen = lock(&shared);
            if seen.posted >= total && seen.puts.len() >= total && seen.asked_after_last {
                break true;
            }
        }
        if tokio::time::timeout_at(limit.into(), notified)
            .await
            .is_err()
        {
            break false;
        }
    };
    let (cpu_to_exit, max_rss_kb) = tokio::task::spawn_blocking(move || stop(pid))
        .await
        .map_err(|e| e.to_string())?;
    drop(child);
    for task in tasks {
        task.abort();
    }
    let seen = lock(&shared);
    // Without a readable schedstat (not Linux, or /proc hidden), the
    // kernel's own figure is the closest there is.
    let cpu = seen.cpu_at_next.unwrap_or(cpu_to_exit);
    if !finished {
        return Err(format!(
            "{}: {} of {total} invocations answered within 60 s",
            program.label,
            seen.puts.len()
        ));
    }
    for (_, body) in &seen.puts {
        if body["Status"] != "SUCCESS" {
            return Err(format!("{} answered {body}", program.label));
        }
    }
    let cold = seen.puts[0].0.duration_since(start);
    let warm = (1..total)
        .map(|i| seen.puts[i].0.duration_since(seen.served[i]))
        .collect();
    drop(front);
    Ok(Run {
        started: start,
        cold,
        warm,
        served: seen.served.clone(),
        cpu,
        cpu_to_exit,
        max_rss_kb,
    })
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Seen> {
    shared.0.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads the peak RSS (`VmHWM`), then SIGKILLs and reaps with `wait4`, which
/// reports the process's CPU over all its threads. (`wait4`'s own peak RSS is
/// not used: it counts the forked child before `exec`, i.e. this harness.)
fn stop(pid: libc::pid_t) -> (Duration, u64) {
    let hwm = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .unwrap_or(0);
    let mut status = 0;
    // SAFETY: plain syscalls on our own child; `usage` is written by wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::wait4(pid, &mut status, 0, &mut usage);
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (tv(usage.ru_utime) + tv(usage.ru_stime), hwm)
}

/// CPU time of every thread `pid` has now: the first field of each
/// `/proc/PID/task/TID/schedstat` (nanoseconds on the CPU, not tick-rounded).
fn threads_cpu(pid: libc::pid_t) -> Option<Duration> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut ns = 0u64;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        ns += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(ns))
}

async fn serve_runtime(listener: TcpListener, shared: Shared) {
    while let Ok((mut stream, _)) = listener.accept().await {
        let Some(req) = read_request(&mut stream).await else {
            continue;
        };
        if req.path.ends_with("/invocation/next") {
            let next = {
                let mut seen = lock(&shared);
                let next = seen.queue.pop_front();
                if next.is_some() {
                    seen.served.push(Instant::now());
                }
                next
            };
            match next {
                Some((id, event)) => {
                    let deadline = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .unwrap_or_default()
                        .as_millis()
                        + 60_000;
                    let headers = [
                        ("lambda-runtime-aws-request-id", id),
                        ("lambda-runtime-deadline-ms", deadline.to_string()),
                        (
                            "lambda-runtime-invoked-function-arn",
                            "arn:aws:lambda:ap-northeast-1:123456789012:function:bench".to_owned(),
                        ),
                        ("content-type", "application/json".to_owned()),
                    ];
                    write_response(&mut stream, 200, &headers, event.to_string().as_bytes()).await;
                }
                // Out of work: hold the connection, as Lambda does, and take
                // the CPU reading while the process waits on it.
                None => {
                    let mut seen = lock(&shared);
                    if !seen.asked_after_last {
                        seen.asked_after_last = true;
                        seen.cpu_at_next = seen.pid.and_then(threads_cpu);
                    }
                    seen.parked.push(stream);
                    drop(seen);
                    shared.1.notify_waiters();
                }
            }
        } else {
            write_response(&mut stream, 202, &[], b"{}").await;
            lock(&shared).posted += 1;
            shared.1.notify_waiters();
        }
    }
}

async fn serve_receiver(listener: TcpListener, shared: Shared) {
    while let Ok((mut stream, _)) = listener.accept().await {
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            if let Some(req) = read_request(&mut stream).await {
                let at = Instant::now();
                let body = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                write_response(&mut stream, 200, &[], b"").await;
                lock(&shared).puts.push((at, body));
                shared.1.notify_waiters();
            }
        });
    }
}
