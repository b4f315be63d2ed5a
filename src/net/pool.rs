//! The AWS calls' connections: kept per endpoint, opened ahead of need, never
//! one too many.
//!
//! Across regions every new connection costs two round trips (TCP, then TLS)
//! before its first request, so what matters is when connections are opened
//! and how many. Three rules:
//!
//! - a request takes an idle connection to its endpoint when there is one;
//! - failing that, it takes a connection being opened that no other request
//!   has claimed ([`Pool::preconnect`] opens one as soon as a caller knows it
//!   will need that endpoint, so the handshakes overlap earlier calls);
//! - only then does it open its own. A second connection to an endpoint is
//!   opened only for requests genuinely in flight at once (HTTP/1.1 carries
//!   one at a time).
//!
//! Connections stay open between the invocations of a warm Lambda and are
//! dropped once idle for [`IDLE_LIMIT`]; TLS sessions resume through rustls'
//! own cache.
//!
//! A connection's host is resolved, and its SYN sent, on a blocking thread
//! the moment the connection is asked for ([`dial`]). The Lambda runs one
//! runtime thread, and whatever it does next (building an SDK client,
//! signing a request) would otherwise come before the SYN; this way it
//! overlaps the TCP handshake instead.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// How long a connection may sit idle before it is not reused (AWS endpoints
/// close idle connections after about a minute; a dead one costs a retry).
const IDLE_LIMIT: Duration = Duration::from_secs(50);

/// Where a connection goes: scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Endpoint {
    tls: bool,
    host: String,
    port: u16,
}

impl Endpoint {
    fn of(uri: &http::Uri) -> Option<Self> {
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return None,
        };
        let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        Some(Self {
            tls,
            host: host.to_owned(),
            port,
        })
    }
}

/// One endpoint's connections.
#[derive(Default)]
struct Slot {
    idle: Vec<(SendRequest<Full<Bytes>>, Instant)>,
    /// Connections [`Pool::preconnect`] is opening.
    opening: usize,
    /// How many of those a request is already waiting for.
    claimed: usize,
    /// Woken when an opening connection is ready (or failed).
    ready: Arc<Notify>,
}

/// Connections per endpoint over one TLS configuration.
pub(super) struct Pool {
    tls: tokio_rustls::TlsConnector,
    slots: Mutex<HashMap<Endpoint, Slot>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("slots", &self.slots).finish()
    }
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("idle", &self.idle.len())
            .field("opening", &self.opening)
            .finish()
    }
}

/// A failed call, told apart the way the SDK's retry policy needs it.
#[derive(Debug)]
pub(super) enum CallError {
    /// Connecting or waiting for the answer took too long.
    Timeout(Box<dyn std::error::Error + Send + Sync>),
    /// The connection failed or broke: worth another attempt.
    Io(Box<dyn std::error::Error + Send + Sync>),
    /// The request itself cannot be sent.
    User(Box<dyn std::error::Error + Send + Sync>),
}

trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

impl Pool {
    /// A pool whose TLS connections use `tls` (HTTP/1.1 is offered by ALPN).
    pub(super) fn new(tls: &rustls::ClientConfig) -> Self {
        let mut tls = tls.clone();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        Self {
            tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<Endpoint, Slot>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts opening a connection to `url`'s endpoint unless one is idle or
    /// already being opened; a request to it later takes that connection.
    pub(super) fn preconnect(self: &Arc<Self>, url: &str, timeout: Duration) {
        let Some(endpoint) = url
            .parse::<http::Uri>()
            .ok()
            .as_ref()
            .and_then(Endpoint::of)
        else {
            return;
        };
        {
            let mut slots = self.slots();
            let slot = slots.entry(endpoint.clone()).or_default();
            slot.idle
                .retain(|(c, at)| !c.is_closed() && at.elapsed() < IDLE_LIMIT);
            if !slot.idle.is_empty() || slot.opening > slot.claimed {
                return;
            }
            slot.opening += 1;
        }
        let pool = Arc::clone(self);
        let dialing = dial(&endpoint, timeout);
        tokio::spawn(async move {
            let opened = tokio::time::timeout(timeout, pool.open_dialed(&endpoint, dialing)).await;
            let mut slots = pool.slots();
            let slot = slots.entry(endpoint).or_default();
            slot.opening -= 1;
            slot.claimed = slot.claimed.saturating_sub(1);
            if let Ok(Ok(conn)) = opened {
                slot.idle.push((conn, Instant::now()));
            }
            slot.ready.notify_waiters();
        });
    }

    /// Sends `request` on a connection to its endpoint and reads the whole
    /// answer, within `connect` to have a connection and `read` for the answer.
    pub(super) async fn send(
        &self,
        request: http::Request<Full<Bytes>>,
        connect: Option<Duration>,
        read: Option<Duration>,
    ) -> Result<http::Response<Bytes>, CallError> {
        let endpoint = Endpoint::of(request.uri())
            .ok_or_else(|| CallError::User("the request has no http(s) endpoint".into()))?;
        let request = origin_form(request)?;
        let mut conn = within(connect, self.checkout(&endpoint)).await?;
        if conn.ready().await.is_err() {
            // Closed while idle: one fresh connection, no more.
            conn = within(connect, self.open(&endpoint)).await?;
        }
        let exchange = async {
            let response = conn
                .send_request(request)
                .await
                .map_err(|e| CallError::Io(e.into()))?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| CallError::Io(e.into()))?
                .to_bytes();
            Ok(http::Response::from_parts(parts, body))
        };
        let response = within(read, exchange).await?;
        if !conn.is_closed() {
            self.slots()
                .entry(endpoint)
                .or_default()
                .idle
                .push((conn, Instant::now()));
        }
        Ok(response)
    }

    /// An idle connection, else one being opened that nobody claimed, else a
    /// new one.
    async fn checkout(&self, endpoint: &Endpoint) -> Result<SendRequest<Full<Bytes>>, CallError> {
        let waiting = {
            let mut slots = self.slots();
            let slot = slots.entry(endpoint.clone()).or_default();
            slot.idle
                .retain(|(c, at)| !c.is_closed() && at.elapsed() < IDLE_LIMIT);
            // The most recently used first: the likeliest to be alive.
            if let Some((conn, _)) = slot.idle.pop() {
                return Ok(conn);
            }
            if slot.opening > slot.claimed {
                slot.claimed += 1;
                let ready = Arc::clone(&slot.ready);
                Some(ready)
            } else {
                None
            }
        };
        if let Some(ready) = waiting {
            loop {
                let notified = ready.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                {
                    let mut slots = self.slots();
                    let slot = slots.entry(endpoint.clone()).or_default();
                    if let Some((conn, _)) = slot.idle.pop() {
                        return Ok(conn);
                    }
                    if slot.opening == 0 {
                        break;
                    }
                }
                notified.await;
            }
        }
        self.open(endpoint).await
    }

    /// Opens a connection: TCP, TLS when the endpoint is https, HTTP/1.1.
    async fn open(&self, endpoint: &Endpoint) -> Result<SendRequest<Full<Bytes>>, CallError> {
        self.open_dialed(endpoint, dial(endpoint, DIAL_LIMIT)).await
    }

    /// [`Self::open`] over a TCP connection [`dial`] started.
    async fn open_dialed(
        &self,
        endpoint: &Endpoint,
        dialing: Dialing,
    ) -> Result<SendRequest<Full<Bytes>>, CallError> {
        let tcp = connected(dialing)
            .await
            .map_err(|e| CallError::Io(e.into()))?;
        // Requests are written in one go and answered before the next one.
        let _ = tcp.set_nodelay(true);
        let io: Box<dyn Io> = if endpoint.tls {
            let name = ServerName::try_from(endpoint.host.clone())
                .map_err(|e| CallError::User(e.into()))?;
            Box::new(
                self.tls
                    .connect(name, tcp)
                    .await
                    .map_err(|e| CallError::Io(e.into()))?,
            )
        } else {
            Box::new(tcp)
        };
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| CallError::Io(e.into()))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection to an AWS endpoint ended");
            }
        });
        Ok(sender)
    }
}

/// How long [`dial`] waits for each address when the caller set no limit of
/// its own (the SDK's calls are bounded by their connect timeout anyway).
const DIAL_LIMIT: Duration = Duration::from_secs(10);

/// A TCP connection [`dial`] started.
type Dialing = tokio::task::JoinHandle<std::io::Result<std::net::TcpStream>>;

/// Resolves `endpoint`'s host and connects to it on a blocking thread
/// started now: the SYN leaves at once, whatever the runtime's thread does
/// next, and the thread waits out the handshake (each address in turn, each
/// for at most `timeout`), as the runtime's own connect would.
fn dial(endpoint: &Endpoint, timeout: Duration) -> Dialing {
    let (host, port) = (endpoint.host.clone(), endpoint.port);
    tokio::task::spawn_blocking(move || {
        use std::net::ToSocketAddrs;
        let mut failed = None;
        for addr in (host.as_str(), port).to_socket_addrs()? {
            match std::net::TcpStream::connect_timeout(&addr, timeout) {
                Ok(tcp) => return Ok(tcp),
                Err(e) => failed = Some(e),
            }
        }
        Err(failed.unwrap_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "the host has no address")
        }))
    })
}

/// The dialed connection, for the runtime.
async fn connected(dialing: Dialing) -> std::io::Result<TcpStream> {
    let tcp = dialing.await.map_err(std::io::Error::other)??;
    tcp.set_nonblocking(true)?;
    TcpStream::from_std(tcp)
}

/// `future` within `limit`, if there is one.
async fn within<T>(
    limit: Option<Duration>,
    future: impl std::future::Future<Output = Result<T, CallError>>,
) -> Result<T, CallError> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, future)
            .await
            .map_err(|e| CallError::Timeout(e.into()))?,
        None => future.await,
    }
}

/// HTTP/1.1 sends the path and query, with the authority as `Host` (the one
/// SigV4 signed).
fn origin_form(
    request: http::Request<Full<Bytes>>,
) -> Result<http::Request<Full<Bytes>>, CallError> {
    let (mut parts, body) = request.into_parts();
    if !parts.headers.contains_key(http::header::HOST)
        && let Some(authority) = parts.uri.authority()
    {
        let host = http::HeaderValue::from_str(authority.as_str())
            .map_err(|e| CallError::User(e.into()))?;
        parts.headers.insert(http::header::HOST, host);
    }
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    parts.uri = path
        .parse()
        .map_err(|e: http::uri::InvalidUri| CallError::User(e.into()))?;
    Ok(http::Request::from_parts(parts, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A keep-alive HTTP/1.1 server on loopback answering `ok` to every
    /// request after `delay`; counts the connections it accepted.
    async fn server(delay: Duration) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    loop {
                        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                            match s.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        buf.clear();
                        tokio::time::sleep(delay).await;
                        let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                        if s.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (url, accepted)
    }

    fn pool() -> Arc<Pool> {
        Arc::new(Pool::new(&crate::net::client_config(None).expect("tls")))
    }

    async fn get(pool: &Pool, url: &str) -> Bytes {
        let request = http::Request::builder()
            .uri(format!("{url}/x"))
            .body(Full::new(Bytes::new()))
            .expect("request");
        let timeout = Some(Duration::from_secs(5));
        match pool.send(request, timeout, timeout).await {
            Ok(response) => response.into_body(),
            Err(e) => panic!("{e:?}"),
        }
    }

    #[tokio::test]
    async fn requests_one_after_another_share_one_connection() {
        let (url, accepted) = server(Duration::ZERO).await;
        let pool = pool();
        for _ in 0..3 {
            assert_eq!(get(&pool, &url).await, "ok");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_request_takes_the_connection_opened_ahead_for_it() {
        let (url, accepted) = server(Duration::ZERO).await;
        let pool = pool();
        pool.preconnect(&url, Duration::from_secs(5));
        // Asked again while the first is still being opened: no second one.
        pool.preconnect(&url, Duration::from_secs(5));
        assert_eq!(get(&pool, &url).await, "ok");
        pool.preconnect(&url, Duration::from_secs(5));
        assert_eq!(get(&pool, &url).await, "ok");
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn requests_in_flight_at_once_each_get_a_connection() {
        let (url, accepted) = server(Duration::from_millis(50)).await;
        let pool = pool();
        let (a, b) = tokio::join!(get(&pool, &url), get(&pool, &url));
        assert_eq!((a, b), (Bytes::from("ok"), Bytes::from("ok")));
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        // Both are kept: two more at once open nothing new.
        let _ = tokio::join!(get(&pool, &url), get(&pool, &url));
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    /// The runtime's one thread, busy right after asking for a connection
    /// (building a client, signing), does not hold back its TCP handshake.
    #[test]
    fn the_handshake_starts_while_the_runtime_thread_is_busy() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (accepted_tx, accepted_rx) = std::sync::mpsc::channel();
        let server = std::thread::spawn(move || {
            if let Ok((conn, _)) = listener.accept() {
                let _ = accepted_tx.send(std::time::Instant::now());
                drop(conn);
            }
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let busy_until = runtime.block_on(async {
            let pool = pool();
            pool.preconnect(&url, Duration::from_secs(5));
            // Work that never yields, as a cold client build does.
            std::thread::sleep(Duration::from_millis(300));
            std::time::Instant::now()
        });
        let accepted = accepted_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("the connection reached the server");
        assert!(
            accepted < busy_until,
            "the connection was only opened once the runtime's thread was free"
        );
        drop(runtime);
        server.join().expect("server thread");
    }

    #[tokio::test]
    async fn a_refused_dial_is_reported_and_nothing_is_kept() {
        // A port nothing listens on (bound, then released).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let pool = pool();
        let request = http::Request::builder()
            .uri(format!("http://127.0.0.1:{port}/x"))
            .body(Full::new(Bytes::new()))
            .expect("request");
        let timeout = Some(Duration::from_secs(5));
        let failed = pool.send(request, timeout, timeout).await;
        assert!(matches!(failed, Err(CallError::Io(_))), "{failed:?}");
        assert!(pool.slots().values().all(|slot| slot.idle.is_empty()));
    }

    #[test]
    fn endpoints_are_told_apart_by_scheme_host_and_port() {
        let of = |u: &str| Endpoint::of(&u.parse().expect("uri")).expect("endpoint");
        assert_eq!(
            of("https://ssm.us-east-1.amazonaws.com/"),
            of("https://ssm.us-east-1.amazonaws.com:443/x")
        );
        assert_ne!(of("https://localhost:1/"), of("https://localhost:2/"));
        assert_ne!(of("http://localhost/"), of("https://localhost/"));
        assert!(Endpoint::of(&"/relative".parse().expect("uri")).is_none());
    }

    #[test]
    fn a_request_goes_out_in_origin_form_with_the_signed_host() {
        let request = http::Request::builder()
            .uri("https://localhost:8443/2015-03-31/functions/f/versions?MaxItems=50")
            .body(Full::new(Bytes::new()))
            .expect("request");
        let sent = origin_form(request).expect("origin form");
        assert_eq!(sent.uri(), "/2015-03-31/functions/f/versions?MaxItems=50");
        assert_eq!(sent.headers()[http::header::HOST], "localhost:8443");
    }
}
