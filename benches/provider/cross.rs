//! Cross-region figures: what a deploy waits for when the provider runs in
//! the app's region and reads another one.
//!
//! Two places on an emulated network (`relay.rs`): the source region, where
//! SSM, Lambda, IAM, STS and CloudFormation each sit behind their own TLS
//! relay `BENCH_RTT_MS` away (145 ms by default, about ap-northeast-1 to
//! us-east-1), and the app's region, where the ResponseURL's endpoint sits
//! 2 ms away. Both sides trust the benchmark's CA (`AWS_CA_BUNDLE` for ours,
//! `NODE_EXTRA_CA_CERTS` for node) and reach each service through its own
//! `AWS_ENDPOINT_URL_<SERVICE>`; behind the relays is the same moto.
//!
//! Each case prints its wall time beside a floor computed from its minimal
//! dependency chain, the connections each side opened, and the timeline of
//! its median run, as the relays recorded it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_ssm::types::ParameterType;
use serde_json::{Map, Value, json};

use crate::floor::{Call, Walker};
use crate::lambda_api::{self, Program, ResponsePlace, Run};
use crate::relay::{Event, Log, Relay, TestCa, What};
use crate::support::{moto_config, moto_edge_function, moto_url, put_param, unique};
use crate::{median, ms};

/// The services a provider may call in the source region, with the variable
/// that points an SDK (Rust's and JavaScript's) at each.
const SERVICES: [(&str, &str); 5] = [
    ("ssm", "AWS_ENDPOINT_URL_SSM"),
    ("lambda", "AWS_ENDPOINT_URL_LAMBDA"),
    ("iam", "AWS_ENDPOINT_URL_IAM"),
    ("sts", "AWS_ENDPOINT_URL_STS"),
    ("cloudformation", "AWS_ENDPOINT_URL_CLOUDFORMATION"),
];

/// The role the `RoleArn` case assumes (moto lets any role be assumed).
const ROLE: &str = "arn:aws:iam::123456789012:role/bench-reader";

/// The emulated network of one benchmark run.
pub struct Network {
    pub rtt: Duration,
    pub app_rtt: Duration,
    ca_path: PathBuf,
    log: Log,
    relays: Vec<(&'static str, &'static str, Relay)>,
    response: ResponsePlace,
    walker: Walker,
}

impl Network {
    /// Relays for every service in front of moto, and the CA's PEM written
    /// under `dir`.
    pub async fn start(dir: &Path, rtt: Duration, app_rtt: Duration) -> Self {
        let ca = TestCa::new().unwrap_or_else(|e| panic!("bench CA: {e}"));
        let _ = std::fs::create_dir_all(dir);
        let ca_path = dir.join("bench-ca.pem");
        std::fs::write(&ca_path, &ca.pem).unwrap_or_else(|e| panic!("{}: {e}", ca_path.display()));
        let moto: std::net::SocketAddr = moto_url()
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap_or_else(|e| panic!("moto's address: {e}"));
        let log = Log::default();
        let mut relays = Vec::new();
        for (service, var) in SERVICES {
            let tls = ca
                .server()
                .unwrap_or_else(|e| panic!("TLS for {service}: {e}"));
            let relay = Relay::start(service, rtt, Some(tls), moto, Arc::clone(&log))
                .await
                .unwrap_or_else(|e| panic!("relay for {service}: {e}"));
            relays.push((service, var, relay));
        }
        let response = ResponsePlace {
            rtt: app_rtt,
            tls: ca
                .server()
                .unwrap_or_else(|e| panic!("TLS for the response: {e}")),
            log: Arc::clone(&log),
        };
        let walker = Walker::new(
            &ca,
            relays
                .iter()
                .map(|(service, _, relay)| (*service, relay.addr))
                .collect(),
            app_rtt,
            ca.server()
                .unwrap_or_else(|e| panic!("TLS for the floor's response: {e}")),
            Arc::clone(&log),
        )
        .await
        .unwrap_or_else(|e| panic!("the floor's client: {e}"));
        Self {
            rtt,
            app_rtt,
            ca_path,
            log,
            relays,
            response,
            walker,
        }
    }

    /// `program`'s environment pointed at this network instead of moto.
    fn place(&self, program: &Program) -> Program {
        let mut env: Vec<(String, String)> = program
            .env
            .iter()
            .filter(|(k, _)| k != "AWS_ENDPOINT_URL" && k != "CRP_RESPONSE_URL_HOSTS")
            .cloned()
            .collect();
        for (_, var, relay) in &self.relays {
            env.push(((*var).to_owned(), relay.url(true)));
        }
        let ca = self.ca_path.display().to_string();
        env.extend([
            ("AWS_CA_BUNDLE".to_owned(), ca.clone()),
            ("NODE_EXTRA_CA_CERTS".to_owned(), ca),
            ("CRP_RESPONSE_URL_HOSTS".to_owned(), "localhost".to_owned()),
            ("CRP_ALLOWED_ROLE_ARNS".to_owned(), ROLE.to_owned()),
        ]);
        Program {
            env,
            ..program.clone()
        }
    }

    /// One process, two invocations (cold, then warm), and what the relays saw.
    async fn sample(&self, program: &Program, props: &Value) -> (Run, Vec<Event>) {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
        let event = crate::event_with(props.clone());
        let run = lambda_api::run_at(program, vec![event; 2], Some(&self.response))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", program.label));
        let mut events = std::mem::take(&mut *self.log.lock().unwrap_or_else(|e| e.into_inner()));
        events.sort_by_key(|e| e.at);
        (run, events)
    }

    /// The minimal client's walk of `floor`'s chain, as a run of its own.
    async fn walk(&self, floor: &Floor) -> (Run, Vec<Event>) {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
        let (started, took) = self
            .walker
            .walk(&floor.steps)
            .await
            .unwrap_or_else(|e| panic!("the floor's walk: {e}"));
        let mut events = std::mem::take(&mut *self.log.lock().unwrap_or_else(|e| e.into_inner()));
        events.sort_by_key(|e| e.at);
        let run = Run {
            started,
            cold: took,
            warm: Vec::new(),
            served: Vec::new(),
            cpu: Duration::ZERO,
            cpu_to_exit: Duration::ZERO,
            max_rss_kb: 0,
        };
        (run, events)
    }
}

/// The fewest round trips a case can take: its minimal dependency chain.
pub struct Floor {
    /// Source-region round trips on the critical path.
    pub rtts: u32,
    /// That chain, named.
    pub chain: &'static str,
    /// Connections (each a TCP and a TLS handshake) the floor opens.
    pub connections: &'static str,
    /// The chain's calls, step by step, for the minimal client to walk.
    pub steps: Vec<Vec<Call>>,
}

impl Floor {
    /// The chain in ms, plus the response PUT's one round trip in the app's
    /// region (its connection opened while the reads are under way).
    fn ms(&self, net: &Network) -> f64 {
        f64::from(self.rtts) * ms(net.rtt) + ms(net.app_rtt)
    }
}

/// One case: its properties, its floor, and whether CDK's reader has an
/// equivalent (one `ParameterName` read: `GetParameter`).
pub struct Case {
    pub label: &'static str,
    pub props: Value,
    pub floor: Floor,
    pub cdk: bool,
}

/// Puts what the cases read into moto (directly, not through the relays).
pub async fn cases(parameter: &str) -> Vec<Case> {
    let names: Map<String, Value> = (0..30)
        .map(|i| (format!("K{i:02}"), json!(format!("/xr/{i:02}"))))
        .collect();
    for i in 0..30 {
        put_param(
            "us-east-1",
            &format!("/xr/{i:02}"),
            &i.to_string(),
            ParameterType::String,
        )
        .await;
    }
    let function = unique("bench-edge");
    moto_edge_function(&function, 3).await;
    let stack = unique("bench-xr");
    let template = json!({
        "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {"Url": {"Value": "https://api.example.com"}, "Bucket": {"Value": "assets"}}
    });
    aws_sdk_cloudformation::Client::new(&moto_config().await)
        .create_stack()
        .stack_name(&stack)
        .template_body(template.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("create_stack: {e}"));
    let one = vec![parameter.to_owned()];
    let all: Vec<String> = (0..30).map(|i| format!("/xr/{i:02}")).collect();
    let functions = format!("/2015-03-31/functions/{function}");
    vec![
        Case {
            label: "ParameterName",
            props: json!({"Region": "us-east-1", "ParameterName": parameter}),
            floor: Floor {
                rtts: 3,
                chain: "TCP, TLS, GetParameters",
                connections: "ssm 1",
                steps: vec![vec![Call::get_parameters(&one)]],
            },
            cdk: true,
        },
        Case {
            label: "FunctionName + EdgeEventType",
            props: json!({"Region": "us-east-1", "FunctionName": function, "EdgeEventType": "origin-request"}),
            floor: Floor {
                rtts: 4,
                chain: "TCP, TLS (iam's beside them), ListVersionsByFunction, GetFunctionConfiguration beside GetRole",
                connections: "lambda 1, iam 1",
                steps: vec![
                    vec![Call::lambda(format!("{functions}/versions"))],
                    vec![
                        Call::lambda(format!("{functions}/configuration?Qualifier=3")),
                        Call::query(
                            "iam",
                            &format!("Action=GetRole&RoleName={function}&Version=2010-05-08"),
                        ),
                    ],
                ],
            },
            cdk: false,
        },
        Case {
            label: "Parameters, 30 names",
            props: json!({"Region": "us-east-1", "Parameters": names}),
            floor: Floor {
                rtts: 3,
                chain: "TCP, TLS, 3 GetParameters of 10 at once",
                connections: "ssm 3 (HTTP/1.1: one per call in flight)",
                steps: vec![all.chunks(10).map(Call::get_parameters).collect()],
            },
            cdk: false,
        },
        Case {
            label: "StackName",
            props: json!({"Region": "us-east-1", "StackName": stack}),
            floor: Floor {
                rtts: 3,
                chain: "TCP, TLS, DescribeStacks",
                connections: "cloudformation 1",
                steps: vec![vec![Call::query(
                    "cloudformation",
                    &format!("Action=DescribeStacks&StackName={stack}&Version=2010-05-15"),
                )]],
            },
            cdk: false,
        },
        Case {
            label: "RoleArn + ParameterName",
            props: json!({"Region": "us-east-1", "ParameterName": parameter, "RoleArn": ROLE}),
            floor: Floor {
                rtts: 4,
                chain: "TCP, TLS (ssm's beside them), AssumeRole, GetParameters",
                connections: "sts 1, ssm 1",
                steps: vec![
                    vec![Call::query(
                        "sts",
                        &format!(
                            "Action=AssumeRole&RoleArn={}&RoleSessionName=floor&Version=2011-06-15",
                            ROLE.replace(':', "%3A").replace('/', "%2F")
                        ),
                    )],
                    vec![Call::get_parameters(&one)],
                ],
            },
            cdk: false,
        },
    ]
}

/// What one side did in one case, over every sample.
struct Measured {
    cold: Vec<f64>,
    warm: Vec<f64>,
    /// Moto's time to answer in each sample ([`service_time`]).
    moto: Vec<f64>,
    samples: Vec<(Run, Vec<Event>)>,
}

impl Measured {
    fn new() -> Self {
        Self {
            cold: Vec::new(),
            warm: Vec::new(),
            moto: Vec::new(),
            samples: Vec::new(),
        }
    }

    fn add(&mut self, sample: (Run, Vec<Event>)) {
        self.cold.push(ms(sample.0.cold));
        self.moto.push(service_time(&sample.1, cold_end(&sample.0)));
        self.warm
            .push(sample.0.warm.first().copied().map_or(f64::NAN, ms));
        self.samples.push(sample);
    }

    /// The sample whose cold wall time is the median's (the lower middle one).
    fn median_sample(&self) -> &(Run, Vec<Event>) {
        let mut order: Vec<usize> = (0..self.cold.len()).collect();
        order.sort_by(|a, b| self.cold[*a].total_cmp(&self.cold[*b]));
        &self.samples[order[(order.len() - 1) / 2]]
    }
}

/// From the process's start to its first event being handed out: the
/// start-up (Lambda's init phase), before the request is known.
fn to_event(run: &Run) -> f64 {
    run.served
        .first()
        .map_or(f64::NAN, |at| ms(at.duration_since(run.started)))
}

/// When the cold invocation's PUT was received.
fn cold_end(run: &Run) -> Instant {
    run.started + run.cold
}

/// Connections opened during the cold invocation, per endpoint (`lambda 2,
/// iam 1`), full TLS handshakes and resumed ones counted apart.
fn connections(events: &[Event], from: Instant, to: Instant) -> String {
    let mut per: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for e in events.iter().filter(|e| e.at >= from && e.at <= to) {
        match e.what {
            What::Connect => per.entry(e.endpoint).or_default().0 += 1,
            What::Tls { resumed: true } => per.entry(e.endpoint).or_default().1 += 1,
            _ => {}
        }
    }
    let parts: Vec<String> = per
        .iter()
        .filter(|(_, (opened, _))| *opened > 0)
        .map(|(endpoint, (opened, resumed))| match resumed {
            0 => format!("{endpoint} {opened}"),
            r => format!("{endpoint} {opened} ({r} resumed)"),
        })
        .collect();
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    }
}

/// How long the source region's endpoints (moto behind the relays) took to
/// answer during the cold invocation: the union of the intervals between a
/// request's arrival and its answer, so calls served at once count once.
/// Real services take time too; this is what the floor does not include.
fn service_time(events: &[Event], to: Instant) -> f64 {
    let mut spans: Vec<(Instant, Instant)> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if e.endpoint == "response" || e.at > to || !matches!(e.what, What::Request(_)) {
            continue;
        }
        let answered = events[i + 1..].iter().find(|a| {
            a.endpoint == e.endpoint && a.conn == e.conn && matches!(a.what, What::Answered(_))
        });
        if let Some(a) = answered {
            spans.push((e.at, a.at));
        }
    }
    spans.sort();
    let mut total = Duration::ZERO;
    let mut current: Option<(Instant, Instant)> = None;
    for (from, until) in spans {
        current = match current {
            Some((a, b)) if from <= b => Some((a, b.max(until))),
            Some((a, b)) => {
                total += b - a;
                Some((from, until))
            }
            None => Some((from, until)),
        };
    }
    if let Some((a, b)) = current {
        total += b - a;
    }
    ms(total)
}

/// The cold invocation as the endpoints saw it, relative to process start.
fn timeline(run: &Run, events: &[Event]) -> String {
    let end = cold_end(run);
    let mut out = String::new();
    let mut handed_out = run.served.first().copied();
    for e in events.iter().filter(|e| e.at <= end) {
        if let Some(at) = handed_out.filter(|at| *at <= e.at) {
            let _ = writeln!(
                out,
                "    {:>7.1} ms  {:<16} event handed out (the process asked for it)",
                ms(at.duration_since(run.started)),
                "runtime API"
            );
            handed_out = None;
        }
        let what = match &e.what {
            What::Connect => "TCP connect".to_owned(),
            What::Tls { resumed: false } => "TLS handshake done (full)".to_owned(),
            What::Tls { resumed: true } => "TLS handshake done (resumed)".to_owned(),
            What::Request(op) => format!("{op} arrives"),
            What::Answered(status) => format!("answered {status}"),
        };
        let _ = writeln!(
            out,
            "    {:>7.1} ms  {:<16} {what}",
            ms(e.at.duration_since(run.started)),
            format!("{}#{}", e.endpoint, e.conn)
        );
    }
    let _ = writeln!(
        out,
        "    {:>7.1} ms  {:<16} PUT received: cold invocation done",
        ms(run.cold),
        "receiver"
    );
    out
}

/// Runs every case, `pairs` samples per side, ours and CDK's alternating
/// which goes first; returns the report (table, then timelines).
pub async fn run(
    net: &Network,
    cases: &[Case],
    ours: &Program,
    cdk: Option<&Program>,
    pairs: usize,
) -> String {
    let ours = net.place(ours);
    let cdk = cdk.map(|p| net.place(p));
    let mut table = String::new();
    let mut timelines = String::new();
    let _ = writeln!(
        table,
        "| {} ms RTT to the source region, {} ms to the response endpoint, TLS; median of {pairs} | floor: round trips, computed (ms) | minimal client: wall / moto answering (ms) | ours, cold: wall / moto answering (ms) | ours beyond the computed floor, moto's time taken out | ours beyond the minimal client, moto's time taken out of both (of which the process start, to its event) | connections: floor / ours | ours, warm (ms) | CDK's reader, cold (ms) | CDK / ours |",
        ms(net.rtt),
        ms(net.app_rtt)
    );
    let _ = writeln!(table, "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|");
    for case in cases {
        let mut a = Measured::new();
        let mut b = Measured::new();
        let mut f = Measured::new();
        for i in 0..pairs {
            // The floor's walk first or last, in turn, like the two sides.
            if i % 2 == 0 {
                f.add(net.walk(&case.floor).await);
            }
            match &cdk {
                Some(cdk) if case.cdk && i % 2 == 1 => {
                    b.add(net.sample(cdk, &case.props).await);
                    a.add(net.sample(&ours, &case.props).await);
                }
                Some(cdk) if case.cdk => {
                    a.add(net.sample(&ours, &case.props).await);
                    b.add(net.sample(cdk, &case.props).await);
                }
                _ => a.add(net.sample(&ours, &case.props).await),
            }
            if i % 2 == 1 {
                f.add(net.walk(&case.floor).await);
            }
            eprint!(".");
        }
        let floor = case.floor.ms(net);
        let (run, events) = a.median_sample();
        let ours_cold = median(a.cold.clone());
        let measured_floor = median(f.cold.clone());
        let (cdk_cell, ratio) = if b.cold.is_empty() {
            ("n/a".to_owned(), "n/a".to_owned())
        } else {
            let theirs = median(b.cold.clone());
            (
                format!("{theirs:.0}"),
                format!("**{:.2}x**", theirs / ours_cold),
            )
        };
        // Each sample's wall time less moto's time to answer in it: what the
        // network and the client took, whatever moto did that time.
        let net_of_moto =
            |m: &Measured| median(m.cold.iter().zip(&m.moto).map(|(c, s)| c - s).collect());
        let moto = |m: &Measured| median(m.moto.clone());
        let ours_net = net_of_moto(&a);
        let _ = writeln!(
            table,
            "| {} | {} RTT: {floor:.0} | {measured_floor:.0} / {:.0} | {ours_cold:.0} / {:.0} | {:+.0} | **{:+.0}** ({:.1}) | {} (+ response 1) / {} | {:.0} | {cdk_cell} | {ratio} |",
            case.label,
            case.floor.rtts,
            moto(&f),
            moto(&a),
            ours_net - floor,
            ours_net - net_of_moto(&f),
            median(a.samples.iter().map(|(run, _)| to_event(run)).collect()),
            case.floor.connections,
            connections(events, run.started, cold_end(run)),
            median(a.warm.clone()),
        );
        let _ = writeln!(
            timelines,
            "\n{} — ours, median run: cold {:.0} ms, floor {floor:.0} ms ({} RTT: {}; + {} ms for the PUT); warm invocation {:.0} ms, new connections while warm: {}\n",
            case.label,
            ms(run.cold),
            case.floor.rtts,
            case.floor.chain,
            ms(net.app_rtt),
            run.warm.first().copied().map_or(f64::NAN, ms),
            connections(events, cold_end(run), Instant::now()),
        );
        timelines.push_str(&timeline(run, events));
        let others = [
            (
                &f,
                "the minimal client (measured floor), median walk from its first connect",
            ),
            (&b, "CDK's reader, median run: cold"),
        ];
        for (measured, title) in others.into_iter().filter(|(m, _)| !m.samples.is_empty()) {
            let (run, events) = measured.median_sample();
            let _ = writeln!(
                timelines,
                "\n{} — {title} {:.0} ms\n",
                case.label,
                ms(run.cold)
            );
            timelines.push_str(&timeline(run, events));
        }
    }
    eprintln!();
    format!(
        "{table}\nTimelines (times at the endpoint, from process start; a request left the provider half an RTT before it arrives):\n{timelines}"
    )
}
