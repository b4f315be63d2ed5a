//! The benchmark's emulated endpoint (benches/provider/relay.rs): requests
//! on one kept-alive connection come back in order, whatever the upstream
//! does with its own connections, and every connect, handshake and request is
//! recorded, in order. Counts and order only: its timings are figures
//! `make bench` prints, never asserted here.

#[path = "../benches/provider/relay.rs"]
#[allow(dead_code)]
mod relay;
mod support;

use std::sync::Arc;
use std::time::Duration;

use relay::{Log, Relay, TestCa, What};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How a test upstream ends its answer (the path it was asked for).
#[derive(Clone, Copy)]
enum Ending {
    /// HTTP/1.0 without a length, then the connection closes, as moto's
    /// server does with HTTP/1.0.
    Close,
    /// `content-length` (or chunked, when the path says `chunked`), then the
    /// connection stays open, as a server lingering before it closes does.
    Framed,
}

/// An upstream that answers each request with its path, ended as `ending` says.
async fn upstream(ending: Ending) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let head = String::from_utf8_lossy(&buf).into_owned();
            let path = head.split(' ').nth(1).unwrap_or("?").to_owned();
            let reply = match ending {
                Ending::Close => format!("HTTP/1.0 200 OK\r\nconnection: close\r\n\r\n{path}"),
                Ending::Framed if path.contains("chunked") => {
                    let (a, b) = path.split_at(path.len() / 2);
                    format!(
                        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
                        a.len(),
                        b.len()
                    )
                }
                Ending::Framed => format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{path}",
                    path.len()
                ),
            };
            let _ = s.write_all(reply.as_bytes()).await;
            if let Ending::Framed = ending {
                held.push(s);
            }
        }
    });
    addr
}

/// Sends `paths` one after the other on one connection; returns the bodies.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S, paths: &[&str]) -> Vec<String> {
    let mut bodies = Vec::new();
    for path in paths {
        let req = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\ncontent-length: 0\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        let body = loop {
            let n = s.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the relay closed a kept-alive connection");
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .and_then(|v| v.parse().ok())
                    .expect("a content-length");
                if body.len() >= len {
                    break body.to_owned();
                }
            }
        };
        bodies.push(body);
    }
    bodies
}

fn kinds(log: &Log) -> Vec<What> {
    log.lock().unwrap().iter().map(|e| e.what.clone()).collect()
}

#[tokio::test]
async fn plain_requests_on_one_connection_come_back_in_order_and_are_recorded() {
    let log = Log::default();
    let relay = Relay::start(
        "ssm",
        Duration::from_millis(10),
        None,
        upstream(Ending::Close).await,
        Arc::clone(&log),
    )
    .await
    .unwrap();
    let mut s = TcpStream::connect(relay.addr).await.unwrap();
    let bodies = exchange(&mut s, &["/a", "/b", "/c"]).await;
    assert_eq!(bodies, ["/a", "/b", "/c"]);
    assert_eq!(
        kinds(&log),
        [
            What::Connect,
            What::Request("GET /a".into()),
            What::Answered(200),
            What::Request("GET /b".into()),
            What::Answered(200),
            What::Request("GET /c".into()),
            What::Answered(200),
        ]
    );
    let log = log.lock().unwrap();
    assert!(log.iter().all(|e| e.endpoint == "ssm" && e.conn == 0));
    assert!(log.windows(2).all(|w| w[0].at <= w[1].at));
}

#[tokio::test]
async fn tls_is_terminated_with_the_benchmark_ca_and_each_connection_counted() {
    let ca = TestCa::new().unwrap();
    let log = Log::default();
    let relay = Relay::start(
        "lambda",
        Duration::from_millis(10),
        Some(ca.server().unwrap()),
        upstream(Ending::Close).await,
        Arc::clone(&log),
    )
    .await
    .unwrap();
    let client = ca.client().unwrap();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    for round in 0..2 {
        let tcp = TcpStream::connect(relay.addr).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        let path = format!("/2015-03-31/functions/f/versions?round={round}");
        assert_eq!(
            exchange(&mut tls, &[&path]).await,
            std::slice::from_ref(&path)
        );
    }
    let log = log.lock().unwrap();
    let connects: Vec<usize> = log
        .iter()
        .filter(|e| e.what == What::Connect)
        .map(|e| e.conn)
        .collect();
    assert_eq!(connects, [0, 1]);
    let per_conn: Vec<Vec<&What>> = (0..2)
        .map(|c| {
            log.iter()
                .filter(|e| e.conn == c)
                .map(|e| &e.what)
                .collect()
        })
        .collect();
    for events in per_conn {
        assert_eq!(events.len(), 4, "{events:?}");
        assert_eq!(*events[0], What::Connect);
        assert!(matches!(events[1], What::Tls { .. }), "{events:?}");
        assert_eq!(*events[2], What::Request("ListVersionsByFunction".into()));
        assert_eq!(*events[3], What::Answered(200));
    }
}

#[tokio::test]
async fn an_answer_ends_where_its_framing_says_not_when_upstream_closes() {
    let log = Log::default();
    let relay = Relay::start(
        "cloudformation",
        Duration::ZERO,
        None,
        upstream(Ending::Framed).await,
        Arc::clone(&log),
    )
    .await
    .unwrap();
    let mut s = TcpStream::connect(relay.addr).await.unwrap();
    // The upstream never closes: were the relay to wait for that, this
    // would time out.
    let bodies = tokio::time::timeout(
        Duration::from_secs(10),
        exchange(&mut s, &["/sized", "/chunked-answer", "/sized-again"]),
    )
    .await
    .expect("the relay waited for the upstream to close");
    assert_eq!(bodies, ["/sized", "/chunked-answer", "/sized-again"]);
    assert_eq!(
        kinds(&log)
            .iter()
            .filter(|w| **w == What::Answered(200))
            .count(),
        3
    );
}

#[tokio::test]
async fn delays_end_in_deadline_order_and_never_early() {
    let start = std::time::Instant::now();
    let offsets = [30u64, 5, 20, 0, 10, 25, 15];
    let woke = Arc::new(std::sync::Mutex::new(Vec::new()));
    let waits: Vec<_> = offsets
        .iter()
        .map(|&ms| {
            let woke = Arc::clone(&woke);
            tokio::spawn(async move {
                let due = start + Duration::from_millis(ms);
                relay::sleep_until(due).await;
                assert!(std::time::Instant::now() >= due, "woke before its deadline");
                woke.lock().unwrap().push(ms);
            })
        })
        .collect();
    for wait in waits {
        wait.await.unwrap();
    }
    let mut sorted = offsets.to_vec();
    sorted.sort_unstable();
    assert_eq!(*woke.lock().unwrap(), sorted);
}

#[test]
fn operations_are_named_as_the_timeline_shows_them() {
    use relay::operation_of;
    assert_eq!(
        operation_of("POST", "/", Some("AmazonSSM.GetParameters"), b"{}"),
        "GetParameters"
    );
    assert_eq!(
        operation_of(
            "POST",
            "/",
            None,
            b"Action=GetRole&RoleName=r&Version=2010-05-08"
        ),
        "GetRole"
    );
    assert_eq!(
        operation_of(
            "GET",
            "/2015-03-31/functions/f/configuration?Qualifier=3",
            None,
            b""
        ),
        "GetFunctionConfiguration"
    );
    assert_eq!(
        operation_of("PUT", "/cloudformation-response/0", None, b"{}"),
        "response PUT"
    );
}
