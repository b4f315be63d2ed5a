//! An emulated network on loopback, with no root and no `tc netem`: a relay
//! that stands for one distant endpoint. It accepts TCP on 127.0.0.1, holds
//! every chunk for half a round trip in each direction (in order), makes the
//! client's first bytes wait one round trip more as a TCP handshake would,
//! optionally terminates TLS with a certificate from the benchmark's own CA,
//! and forwards each HTTP/1.1 request to a local upstream (moto, or the
//! response receiver), keeping the client's connection alive whatever the
//! upstream does.
//!
//! It records what it sees, per connection and with timestamps: the TCP
//! connect, the TLS handshake (full or resumed), each request (named by its
//! operation) and each response, so the benchmark can print what a provider
//! waited for, in what order, and what overlapped. Timestamps are taken at
//! the endpoint: a request is seen half a round trip after the client sent
//! it, and its answer reaches the client half a round trip after the
//! `answered` event.
//!
//! Two things keep the emulated network from adding time of its own. Delays
//! are timed by a thread of the relay's ([`sleep_until`]) rather than by
//! tokio's timer, which wakes on whole milliseconds and so would add up to
//! one to every chunk held. And an answer from upstream is read to the end of
//! its framing (`content-length` or the last chunk), not to the end of the
//! connection: moto closes a `connection: close` socket about 10 ms after it
//! has answered, which is no part of any service's time.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::support::http::{Recorded, read_request};

/// What a relay saw on one of its connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// A client opened a TCP connection.
    Connect,
    /// The TLS handshake finished; `resumed` when the client resumed a session.
    Tls { resumed: bool },
    /// A request arrived, named by its operation (`GetParameters`, `PUT /r`).
    Request(String),
    /// The answer to the connection's last request left, with its status.
    Answered(u16),
}

/// One thing seen, when, on which connection of which endpoint.
#[derive(Debug, Clone)]
pub struct Event {
    pub at: Instant,
    pub endpoint: &'static str,
    pub conn: usize,
    pub what: What,
}

/// Where events of every relay of a run are collected.
pub type Log = Arc<Mutex<Vec<Event>>>;

/// A CA the benchmark makes and a certificate for `localhost` and
/// `127.0.0.1` signed by it. The CA's PEM is what clients are told to trust.
pub struct TestCa {
    pub pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl TestCa {
    pub fn new() -> Result<Self, Box<dyn std::error::Error>> {
        let ca_key = rcgen::KeyPair::generate()?;
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new())?;
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "cross-region-param bench CA");
        let ca_cert = ca.self_signed(&ca_key)?;
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let leaf_key = rcgen::KeyPair::generate()?;
        let leaf = rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])?
            .signed_by(&leaf_key, &issuer)?;
        Ok(Self {
            pem: ca_cert.pem(),
            chain: vec![leaf.der().clone()],
            key: PrivateKeyDer::try_from(leaf_key.serialize_der())?,
        })
    }

    /// A client configuration trusting this CA alone, read from its PEM as
    /// the clients under test read it (ring, TLS 1.2/1.3).
    pub fn client(&self) -> Result<rustls::ClientConfig, Box<dyn std::error::Error>> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(self.pem.as_bytes()) {
            roots.add(cert?)?;
        }
        Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
    }

    /// A server configuration of its own (its own session cache), so that,
    /// as between distinct AWS hosts, a session from one endpoint does not
    /// resume on another although every relay is named `localhost`.
    pub fn server(&self) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
        let mut server = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(self.chain.clone(), self.key.clone_key())?;
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(server))
    }
}

/// One emulated endpoint; stops when dropped.
pub struct Relay {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Relay {
    /// Starts an endpoint named `endpoint`, `rtt` away, in front of
    /// `upstream`; TLS when `tls` is given.
    pub async fn start(
        endpoint: &'static str,
        rtt: Duration,
        tls: Option<Arc<rustls::ServerConfig>>,
        upstream: SocketAddr,
        log: Log,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let conns = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let at = Instant::now();
                let _ = client.set_nodelay(true);
                let conn = conns.fetch_add(1, Ordering::Relaxed);
                let seen = Seen {
                    endpoint,
                    conn,
                    log: Arc::clone(&log),
                };
                seen.record(at, What::Connect);
                tokio::spawn(serve_connection(
                    client,
                    at,
                    rtt,
                    tls.clone(),
                    upstream,
                    seen,
                ));
            }
        });
        Ok(Self { addr, task })
    }

    /// `https://localhost:PORT` (or `http://`).
    pub fn url(&self, tls: bool) -> String {
        let scheme = if tls { "https" } else { "http" };
        format!("{scheme}://localhost:{}", self.addr.port())
    }
}

struct Seen {
    endpoint: &'static str,
    conn: usize,
    log: Log,
}

impl Seen {
    fn record(&self, at: Instant, what: What) {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Event {
                at,
                endpoint: self.endpoint,
                conn: self.conn,
                what,
            });
    }
}

/// Largest chunk read at once; what is delayed is each read as it came.
const CHUNK: usize = 16 * 1024;

async fn serve_connection(
    client: TcpStream,
    accepted: Instant,
    rtt: Duration,
    tls: Option<Arc<rustls::ServerConfig>>,
    upstream: SocketAddr,
    seen: Seen,
) {
    // The far end of the emulated path: everything the client sends reaches
    // it through `delayed` and vice versa.
    let (near, far) = tokio::io::duplex(1 << 20);
    let (client_read, client_write) = client.into_split();
    let (near_read, near_write) = tokio::io::split(near);
    let half = rtt / 2;
    // The client could send nothing before its SYN was answered: its bytes
    // leave no earlier than one round trip after it connected.
    tokio::spawn(delayed(client_read, near_write, half, accepted + rtt));
    tokio::spawn(delayed(near_read, client_write, half, accepted));
    match tls {
        Some(config) => {
            let Ok(stream) = tokio_rustls::TlsAcceptor::from(config).accept(far).await else {
                return;
            };
            let resumed =
                stream.get_ref().1.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
            seen.record(Instant::now(), What::Tls { resumed });
            serve_http(stream, upstream, &seen).await;
        }
        None => serve_http(far, upstream, &seen).await,
    }
}

/// Copies `from` to `to`, each chunk held until `delay` after it was read
/// (and never before `not_before + delay`), in the order read.
async fn delayed<R, W>(mut from: R, mut to: W, delay: Duration, not_before: Instant)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        while let Some((due, bytes)) = rx.recv().await {
            sleep_until(due).await;
            if to.write_all(&bytes).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut buf = vec![0u8; CHUNK];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let due = Instant::now().max(not_before) + delay;
        if tx.send((due, buf[..n].to_vec())).is_err() {
            break;
        }
    }
    drop(tx);
    let _ = writer.await;
}

/// One wake-up asked of the timer thread.
type Wake = (Instant, oneshot::Sender<()>);

/// Waits until `due`, to within the timer slack of a thread's sleep (tens of
/// microseconds), where tokio's timer would round `due` up to its next
/// millisecond. One thread of the relay's keeps every pending wake-up in
/// deadline order and sleeps until the earliest. (What is left, on this
/// machine about 0.5 ms per delay, is the time a parked thread takes to run
/// again; the minimal client of `floor.rs` pays it too.)
pub async fn sleep_until(due: Instant) {
    if due <= Instant::now() {
        return;
    }
    static TIMER: OnceLock<Mutex<std::sync::mpsc::Sender<Wake>>> = OnceLock::new();
    let timer = TIMER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Wake>();
        std::thread::Builder::new()
            .name("relay-timer".into())
            .spawn(move || wake_in_order(&rx))
            .map(|_| ())
            .unwrap_or_else(|e| panic!("the relay's timer thread: {e}"));
        Mutex::new(tx)
    });
    let (tx, rx) = oneshot::channel();
    let sent = timer
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((due, tx));
    match sent {
        Ok(()) => {
            let _ = rx.await;
        }
        // No timer thread: tokio's, rounded up, is better than none.
        Err(_) => tokio::time::sleep_until(due.into()).await,
    }
}

/// The timer thread: wakes each waiter at its deadline, earliest first.
fn wake_in_order(rx: &std::sync::mpsc::Receiver<Wake>) {
    let mut order: BinaryHeap<Reverse<(Instant, u64)>> = BinaryHeap::new();
    let mut waiting: HashMap<u64, oneshot::Sender<()>> = HashMap::new();
    let mut next_id = 0u64;
    loop {
        let now = Instant::now();
        while let Some(Reverse((due, id))) = order.peek().copied() {
            if due > now {
                break;
            }
            order.pop();
            if let Some(waiter) = waiting.remove(&id) {
                let _ = waiter.send(());
            }
        }
        let asked = match order.peek() {
            Some(Reverse((due, _))) => match rx.recv_timeout(due.saturating_duration_since(now)) {
                Ok(wake) => Some(wake),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => None,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
            },
            None => match rx.recv() {
                Ok(wake) => Some(wake),
                Err(_) => return,
            },
        };
        if let Some((due, waiter)) = asked {
            order.push(Reverse((due, next_id)));
            waiting.insert(next_id, waiter);
            next_id += 1;
        }
    }
}

/// A response's head and body, as bytes.
pub struct Message {
    pub head: String,
    pub body: Vec<u8>,
}

impl Message {
    /// The status code (0 when the head has none).
    pub fn status(&self) -> u16 {
        self.head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.head.split("\r\n").skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

async fn serve_http<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    upstream: SocketAddr,
    seen: &Seen,
) {
    while let Some(request) = read_request(&mut stream).await {
        seen.record(Instant::now(), What::Request(operation(&request)));
        let (status, response) = match forward(upstream, &request).await {
            Ok(answer) => answer,
            Err(e) => {
                let body = format!("relay: upstream failed: {e}");
                (
                    502,
                    format!(
                        "HTTP/1.1 502 Bad Gateway\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .into_bytes(),
                )
            }
        };
        if stream.write_all(&response).await.is_err() || stream.flush().await.is_err() {
            return;
        }
        seen.record(Instant::now(), What::Answered(status));
    }
}

/// Sends `request` to `upstream` on a connection of its own and returns the
/// answer rewritten for a kept-alive client connection. The answer ends
/// where its framing says it does (`content-length`, the last chunk), or at
/// the end of the connection when it has neither.
async fn forward(upstream: SocketAddr, request: &Recorded) -> std::io::Result<(u16, Vec<u8>)> {
    let mut out = TcpStream::connect(upstream).await?;
    out.set_nodelay(true)?;
    let target = if request.query.is_empty() {
        request.path.clone()
    } else {
        format!("{}?{}", request.path, request.query)
    };
    let mut sent = format!("{} {target} HTTP/1.1\r\n", request.method);
    for (name, value) in request.headers.iter().filter(|(k, _)| *k != "connection") {
        sent.push_str(&format!("{name}: {value}\r\n"));
    }
    sent.push_str("connection: close\r\n\r\n");
    let mut bytes = sent.into_bytes();
    bytes.extend_from_slice(&request.body);
    out.write_all(&bytes).await?;
    let answer = read_answer(&mut out, &request.method).await?;
    let mut lines = answer.head.split("\r\n");
    let status_line = lines.next().unwrap_or("HTTP/1.1 502 Bad Gateway");
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(502);
    let reason = status_line.splitn(3, ' ').nth(2).unwrap_or("");
    let mut rebuilt = format!("HTTP/1.1 {status} {reason}\r\n");
    for line in lines.filter(|l| {
        ![
            "connection",
            "content-length",
            "transfer-encoding",
            "keep-alive",
        ]
        .iter()
        .any(|h| header_is(l, h))
    }) {
        rebuilt.push_str(line);
        rebuilt.push_str("\r\n");
    }
    rebuilt.push_str(&format!("content-length: {}\r\n\r\n", answer.body.len()));
    let mut bytes = rebuilt.into_bytes();
    bytes.extend_from_slice(&answer.body);
    Ok((status, bytes))
}

/// Reads one answer from `upstream`: its head, then its body (de-chunked)
/// as far as its framing goes.
pub async fn read_answer<S: AsyncRead + Unpin>(
    upstream: &mut S,
    method: &str,
) -> std::io::Result<Message> {
    let mut raw = Vec::new();
    let mut buf = vec![0u8; CHUNK];
    let end = loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let n = upstream.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::Error::other("upstream answered no HTTP head"));
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let mut answer = Message {
        head: String::from_utf8_lossy(&raw[..end]).into_owned(),
        body: raw[end + 4..].to_vec(),
    };
    let status = answer.status();
    let chunked = answer
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let length: Option<usize> = answer.header("content-length").and_then(|v| v.parse().ok());
    if method == "HEAD" || status == 204 || status == 304 || (100..200).contains(&status) {
        answer.body.clear();
        return Ok(answer);
    }
    loop {
        let complete = if chunked {
            chunked_complete(&answer.body)
        } else {
            length.is_some_and(|len| answer.body.len() >= len)
        };
        if complete {
            break;
        }
        let n = upstream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        answer.body.extend_from_slice(&buf[..n]);
    }
    if chunked {
        answer.body = dechunk(&answer.body);
    } else if let Some(len) = length {
        answer.body.truncate(len);
    }
    Ok(answer)
}

/// Whether a chunked body has reached its last (zero-size) chunk and the
/// blank line after it.
fn chunked_complete(mut raw: &[u8]) -> bool {
    while let Some(i) = raw.windows(2).position(|w| w == b"\r\n") {
        let Some(size) = std::str::from_utf8(&raw[..i])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
        else {
            return false;
        };
        raw = &raw[i + 2..];
        if size == 0 {
            // No trailers: an empty line; trailers end with one.
            return raw.starts_with(b"\r\n") || raw.windows(4).any(|w| w == b"\r\n\r\n");
        }
        match raw.get(size + 2..) {
            Some(rest) => raw = rest,
            None => return false,
        }
    }
    false
}

fn header_is(line: &str, name: &str) -> bool {
    line.split_once(':')
        .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case(name))
}

/// The body of a chunked transfer coding.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&raw[..i])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        raw = &raw[i + 2..];
        if size == 0 || raw.len() < size {
            break;
        }
        out.extend_from_slice(&raw[..size]);
        raw = raw.get(size + 2..).unwrap_or_default();
    }
    out
}

/// A request named as the timeline shows it: the JSON protocols' target
/// (`GetParameters`), the query protocols' `Action` (`GetRole`,
/// `AssumeRole`, `DescribeStacks`), Lambda's REST paths by operation, and
/// anything else as method and path.
pub fn operation_of(method: &str, path: &str, target: Option<&str>, body: &[u8]) -> String {
    if let Some(target) = target {
        return target.rsplit('.').next().unwrap_or(target).to_owned();
    }
    let body = String::from_utf8_lossy(body);
    if let Some(action) = body.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
        return action.to_owned();
    }
    let path = path.split('?').next().unwrap_or(path);
    if path.ends_with("/versions") {
        "ListVersionsByFunction".to_owned()
    } else if path.ends_with("/configuration") {
        "GetFunctionConfiguration".to_owned()
    } else if path.contains("/aliases/") {
        "GetAlias".to_owned()
    } else if method == "PUT" {
        "response PUT".to_owned()
    } else {
        format!("{method} {path}")
    }
}

fn operation(request: &Recorded) -> String {
    operation_of(
        &request.method,
        &request.path,
        request.headers.get("x-amz-target").map(String::as_str),
        &request.body,
    )
}
