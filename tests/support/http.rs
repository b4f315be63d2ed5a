//! Small loopback HTTP servers for tests: CloudFormation's response receiver
//! and a Lambda Runtime API. Bound to 127.0.0.1 only, stopped on drop.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Header names lower-cased.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Reads one HTTP/1.1 request; `None` when the peer closed first.
pub async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Recorded> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let (path, query) = target
        .split_once('?')
        .map_or((target.clone(), String::new()), |(p, q)| {
            (p.to_owned(), q.to_owned())
        });
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[header_end + 4..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Recorded {
        method,
        path,
        query,
        headers,
        body,
    })
}

/// Writes a response and closes the connection.
pub async fn write_response(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body).await;
    let _ = stream.shutdown().await;
}

/// CloudFormation's side of the ResponseURL: records each PUT and answers
/// with scripted statuses (then 200).
pub struct Receiver {
    pub port: u16,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    task: JoinHandle<()>,
}

impl Receiver {
    pub async fn start() -> Self {
        Self::with_statuses(&[]).await
    }

    /// Answers the first requests with `statuses`, later ones with 200.
    pub async fn with_statuses(statuses: &[u16]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(
            statuses.iter().copied().collect::<VecDeque<u16>>(),
        ));
        let rec = Arc::clone(&recorded);
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let rec = Arc::clone(&rec);
                let script = Arc::clone(&script);
                tokio::spawn(async move {
                    if let Some(r) = read_request(&mut stream).await {
                        rec.lock().unwrap().push(r);
                        let status = script.lock().unwrap().pop_front().unwrap_or(200);
                        write_response(&mut stream, status, &[], b"").await;
                    }
                });
            }
        });
        Self {
            port,
            recorded,
            task,
        }
    }

    /// A presigned-looking URL pointing here.
    pub fn url(&self) -> String {
        format!(
            "http://127.0.0.1:{}/cloudformation-response/EdgeAuth?X-Amz-Signature=test-signature",
            self.port
        )
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().unwrap().clone()
    }

    /// The single request received; fails if there were none or several.
    pub fn only(&self) -> Recorded {
        let all = self.requests();
        assert_eq!(
            all.len(),
            1,
            "expected exactly one response PUT, got {}",
            all.len()
        );
        all.into_iter().next().unwrap()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A TCP endpoint that accepts connections and never answers: an AWS API
/// that hangs.
pub struct Silent {
    pub port: u16,
    task: JoinHandle<()>,
}

impl Silent {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
                if held.len() > 64 {
                    held.remove(0);
                }
            }
        });
        Self { port, task }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A port with nothing listening (bound, then released).
pub async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// Waits until `f` returns true, polling every 20 ms, at most `limit`.
pub async fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = tokio::time::Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    f()
}

/// What the runtime was told about each invocation: (request id, path kind).
pub type Reports = Arc<Mutex<Vec<(String, String)>>>;

/// Serves `events` through the Runtime API; `next` blocks once they run out.
pub async fn runtime_api(events: Vec<(serde_json::Value, u64)>) -> (u16, Reports) {
    runtime_api_raw(
        events
            .into_iter()
            .map(|(e, d)| (e.to_string().into_bytes(), d))
            .collect(),
    )
    .await
}

/// Serves raw invocation bodies (bytes that need not be JSON, or even UTF-8)
/// through the Runtime API; `next` blocks once they run out.
pub async fn runtime_api_raw(events: Vec<(Vec<u8>, u64)>) -> (u16, Reports) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let queue = Arc::new(Mutex::new(
        events
            .into_iter()
            .enumerate()
            .map(|(i, (e, d))| (format!("inv-{i}"), e, d))
            .collect::<VecDeque<_>>(),
    ));
    let reports: Reports = Arc::default();
    let rep = Arc::clone(&reports);
    tokio::spawn(async move {
        let mut parked = Vec::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            let Some(req) = read_request(&mut stream).await else {
                continue;
            };
            if req.path.ends_with("/invocation/next") {
                let next = queue.lock().unwrap().pop_front();
                match next {
                    Some((id, event, deadline)) => {
                        let headers = [
                            ("lambda-runtime-aws-request-id", id),
                            ("lambda-runtime-deadline-ms", deadline.to_string()),
                            (
                                "lambda-runtime-invoked-function-arn",
                                "arn:aws:lambda:ap-northeast-1:123456789012:function:crp"
                                    .to_owned(),
                            ),
                            (
                                "lambda-runtime-trace-id",
                                "Root=1-00000000-000000000000000000000000".to_owned(),
                            ),
                            ("content-type", "application/json".to_owned()),
                        ];
                        write_response(&mut stream, 200, &headers, &event).await;
                    }
                    // Out of work: hold the connection, as Lambda does.
                    None => parked.push(stream),
                }
            } else {
                let parts: Vec<&str> = req.path.split('/').collect();
                let id = parts
                    .iter()
                    .rev()
                    .nth(1)
                    .map(|s| (*s).to_owned())
                    .unwrap_or_default();
                let kind = parts.last().map(|s| (*s).to_owned()).unwrap_or_default();
                rep.lock().unwrap().push((id, kind));
                write_response(&mut stream, 202, &[], b"{}").await;
            }
        }
    });
    (port, reports)
}

/// What a scripted endpoint answers: status, headers, body.
pub type Reply = (u16, Vec<(&'static str, String)>, Vec<u8>);

/// A loopback endpoint that records every request and answers each with
/// `handler`: a stand-in for an AWS API where moto cannot show the case, or
/// a counter proving no call was made at all.
pub struct Endpoint {
    pub port: u16,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    task: JoinHandle<()>,
}

impl Endpoint {
    pub async fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(handler);
        let rec = Arc::clone(&recorded);
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let rec = Arc::clone(&rec);
                let handler = Arc::clone(&handler);
                tokio::spawn(async move {
                    if let Some(r) = read_request(&mut stream).await {
                        let (status, headers, body) = handler(&r);
                        rec.lock().unwrap().push(r);
                        write_response(&mut stream, status, &headers, &body).await;
                    }
                });
            }
        });
        Self {
            port,
            recorded,
            task,
        }
    }

    /// An endpoint that answers every request with 500: for proving that
    /// nothing calls it.
    pub async fn counting() -> Self {
        Self::start(|_| (500, Vec::new(), Vec::new())).await
    }

    /// The base URL, for `AWS_ENDPOINT_URL`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().unwrap().clone()
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}
