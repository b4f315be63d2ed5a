//! The floor, measured as well as computed: a minimal client, in the
//! benchmark's own process, walks a case's dependency chain over the same
//! relays, to the same moto, and PUTs to the same kind of response endpoint.
//!
//! It opens every connection the chain needs at once (per service, as many
//! as its busiest step sends calls), sends each step's calls together once
//! the step before has been answered, and PUTs on a connection opened at the
//! start. It signs nothing, parses nothing it does not need and starts no
//! process, so what it takes beyond the computed floor is what the emulated
//! network, the relays and moto cost on this machine; what the provider
//! takes beyond it is the provider's own.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::client::TlsStream;

use crate::relay::{Log, Relay, TestCa, read_answer};
use crate::support::http::{read_request, write_response};

/// The account and day the requests' credential scope names; moto reads the
/// region and (for the query protocols, behind a `localhost` relay) the
/// service from it, and checks no signature.
const SCOPE_DAY: &str = "20261207";

/// One call of a chain, as raw HTTP/1.1.
#[derive(Debug, Clone)]
pub struct Call {
    /// The relay it goes to (`ssm`, `lambda`, `iam`, `sts`, `cloudformation`).
    pub service: &'static str,
    method: &'static str,
    path: String,
    target: Option<&'static str>,
    body: String,
}

impl Call {
    /// `ssm:GetParameters` for `names` (at most 10).
    pub fn get_parameters(names: &[String]) -> Self {
        Self {
            service: "ssm",
            method: "POST",
            path: "/".into(),
            target: Some("AmazonSSM.GetParameters"),
            body: serde_json::json!({ "Names": names }).to_string(),
        }
    }

    /// A query-protocol action (IAM, STS, CloudFormation): `form` is the
    /// urlencoded body, `Action` and `Version` included.
    pub fn query(service: &'static str, form: &str) -> Self {
        Self {
            service,
            method: "POST",
            path: "/".into(),
            target: None,
            body: form.to_owned(),
        }
    }

    /// A Lambda REST read (`/2015-03-31/functions/...`).
    pub fn lambda(path: String) -> Self {
        Self {
            service: "lambda",
            method: "GET",
            path,
            target: None,
            body: String::new(),
        }
    }

    fn bytes(&self, host: &str) -> Vec<u8> {
        let content_type = match (self.target, self.method) {
            (Some(_), _) => "application/x-amz-json-1.1",
            (None, "POST") => "application/x-www-form-urlencoded",
            _ => "application/json",
        };
        let mut head = format!(
            "{} {} HTTP/1.1\r\nhost: {host}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
             authorization: AWS4-HMAC-SHA256 Credential=test/{SCOPE_DAY}/us-east-1/{}/aws4_request, SignedHeaders=host, Signature=0\r\n",
            self.method,
            self.path,
            self.body.len(),
            self.service,
        );
        if let Some(target) = self.target {
            head.push_str(&format!("x-amz-target: {target}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(self.body.as_bytes());
        bytes
    }

    /// What the timeline calls it.
    fn name(&self) -> String {
        crate::relay::operation_of(self.method, &self.path, self.target, self.body.as_bytes())
    }
}

/// Where the minimal client goes: each service's relay, and a response
/// endpoint of its own (`rtt` away, like the provider's).
pub struct Walker {
    services: HashMap<&'static str, SocketAddr>,
    tls: tokio_rustls::TlsConnector,
    response: Relay,
    received: Arc<Mutex<Option<Instant>>>,
}

type Conn = TlsStream<TcpStream>;

impl Walker {
    /// A walker trusting `ca`, to `services`, with a response endpoint
    /// `app_rtt` away served over `tls`.
    pub async fn new(
        ca: &TestCa,
        services: HashMap<&'static str, SocketAddr>,
        app_rtt: Duration,
        tls: Arc<rustls::ServerConfig>,
        log: Log,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let mut client = ca.client()?;
        client.alpn_protocols = vec![b"http/1.1".to_vec()];
        // Full handshakes every walk, as a cold process makes them.
        client.resumption = rustls::client::Resumption::disabled();
        let receiver = TcpListener::bind("127.0.0.1:0").await?;
        let received = Arc::new(Mutex::new(None));
        let upstream = receiver.local_addr()?;
        let seen = Arc::clone(&received);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = receiver.accept().await {
                let seen = Arc::clone(&seen);
                tokio::spawn(async move {
                    if read_request(&mut stream).await.is_some() {
                        *seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
                        write_response(&mut stream, 200, &[], b"").await;
                    }
                });
            }
        });
        let response = Relay::start("response", app_rtt, Some(tls), upstream, log).await?;
        Ok(Self {
            services,
            tls: tokio_rustls::TlsConnector::from(Arc::new(client)),
            response,
            received,
        })
    }

    async fn connect(&self, addr: SocketAddr) -> std::io::Result<Conn> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
        self.tls.connect(name, tcp).await
    }

    /// Walks `steps` (each step's calls at once, after the step before),
    /// then PUTs; returns when the walk began and how long it took to the
    /// PUT's arrival at the receiver.
    pub async fn walk(&self, steps: &[Vec<Call>]) -> Result<(Instant, Duration), String> {
        *self.received.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let mut need: BTreeMap<&'static str, usize> = BTreeMap::new();
        for step in steps {
            let mut here: BTreeMap<&'static str, usize> = BTreeMap::new();
            for call in step {
                *here.entry(call.service).or_default() += 1;
            }
            for (service, n) in here {
                let want = need.entry(service).or_default();
                *want = (*want).max(n);
            }
        }
        let started = Instant::now();
        let mut opening = Vec::new();
        for (service, n) in &need {
            let addr = *self
                .services
                .get(service)
                .ok_or_else(|| format!("no relay for {service}"))?;
            for _ in 0..*n {
                opening.push(async move { (*service, self.connect(addr).await) });
            }
        }
        let (opened, response) = tokio::join!(
            futures::future::join_all(opening),
            self.connect(self.response.addr)
        );
        let mut idle: HashMap<&'static str, Vec<Conn>> = HashMap::new();
        for (service, conn) in opened {
            let conn = conn.map_err(|e| format!("connecting to {service}: {e}"))?;
            idle.entry(service).or_default().push(conn);
        }
        let mut response =
            response.map_err(|e| format!("connecting to the response endpoint: {e}"))?;
        for step in steps {
            let mut sends = Vec::new();
            for call in step {
                let conn = idle
                    .get_mut(call.service)
                    .and_then(Vec::pop)
                    .ok_or_else(|| format!("no connection left for {}", call.service))?;
                sends.push(exchange(call, conn));
            }
            for done in futures::future::join_all(sends).await {
                let (service, conn) = done?;
                idle.entry(service).or_default().push(conn);
            }
        }
        let body = br#"{"Status":"SUCCESS"}"#;
        let mut put = format!(
            "PUT /floor HTTP/1.1\r\nhost: localhost\r\ncontent-type: \r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        put.extend_from_slice(body);
        response
            .write_all(&put)
            .await
            .map_err(|e| format!("the PUT: {e}"))?;
        read_answer(&mut response, "PUT")
            .await
            .map_err(|e| format!("the PUT's answer: {e}"))?;
        let at = self
            .received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .ok_or("the receiver saw no PUT")?;
        Ok((started, at.duration_since(started)))
    }
}

/// Sends `call` on `conn` and reads its whole answer, which must be a 200.
async fn exchange(call: &Call, mut conn: Conn) -> Result<(&'static str, Conn), String> {
    conn.write_all(&call.bytes("localhost"))
        .await
        .map_err(|e| format!("{}: {e}", call.name()))?;
    let answer = read_answer(&mut conn, call.method)
        .await
        .map_err(|e| format!("{}: {e}", call.name()))?;
    if answer.status() != 200 {
        return Err(format!(
            "{} answered {}: {}",
            call.name(),
            answer.status(),
            String::from_utf8_lossy(&answer.body)
        ));
    }
    Ok((call.service, conn))
}
