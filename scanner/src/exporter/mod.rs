//! `fipsgate exporter`: a Prometheus probe endpoint in the blackbox_exporter style. `/probe`
//! scans one target and answers with its metrics (report/prometheus.rs); `/metrics` has the
//! exporter's own. It is not an open scanner: targets outside the allowed networks get 403
//! before any connection (names are checked after resolution, and the scan is pinned to the
//! checked address), probes run under a concurrency limit and a deadline, and a target's result
//! is reused for a minimum interval, whatever the scrape rate.
pub mod http;

use crate::probe::starttls::Starttls;
use crate::probe::ProbeConfig;
use crate::report::prometheus::{probe_metrics, Exposition, Probe};
use crate::report::EndpointReport;
use crate::scan::{scan, ScanConfig, ScanEvent, StarttlsChoice};
use crate::target::{TargetList, TargetPattern, TargetSpec};
use fipsgate_cipher_db::policy::Policy;
use http::{head_complete, response, Request, MAX_HEAD};
use ipnet::IpNet;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// What the exporter is allowed to do.
#[derive(Debug, Clone)]
pub struct ExporterConfig {
    /// The networks targets must be in (`--allow`).
    pub allow: Vec<IpNet>,
    /// Longest time one probe may take.
    pub timeout: Duration,
    /// A target's result is reused this long.
    pub min_interval: Duration,
    /// Probes at once.
    pub max_probes: usize,
    /// When set, requests must carry `Authorization: Bearer TOKEN`.
    pub bearer_token: Option<String>,
    /// The policies `policy=` may name: built-ins and the configured files.
    pub policies: Vec<Policy>,
    /// The policies of a probe that names none.
    pub default_policies: Vec<String>,
}

/// A probe's identity in the cache: address, port, service, policies.
type Key = (IpAddr, u16, String, Vec<String>);

/// One scan's outcome, kept for `min_interval`.
struct Outcome {
    at: Instant,
    report: Option<EndpointReport>,
    error: Option<String>,
    duration: f64,
}

type Slot = Arc<tokio::sync::Mutex<Option<Outcome>>>;

/// The exporter's own counters.
#[derive(Default)]
struct Counters {
    success: AtomicU64,
    failure: AtomicU64,
    forbidden: AtomicU64,
    rejected: AtomicU64,
    cache_hits: AtomicU64,
    in_flight: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
}

struct State {
    cfg: ExporterConfig,
    probes: Semaphore,
    cache: Mutex<HashMap<Key, Slot>>,
    counters: Counters,
}

/// Serves until the listener fails; each connection on its own task.
pub async fn serve(listener: TcpListener, cfg: ExporterConfig) -> std::io::Result<()> {
    let state = Arc::new(State {
        probes: Semaphore::new(cfg.max_probes.max(1)),
        cfg,
        cache: Mutex::new(HashMap::new()),
        counters: Counters::default(),
    });
    loop {
        let (stream, _) = listener.accept().await?;
        let state = state.clone();
        tokio::spawn(async move { connection(stream, state).await });
    }
}

async fn connection(mut stream: TcpStream, state: Arc<State>) {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let read = async {
        while !head_complete(&buf) && buf.len() < MAX_HEAD {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        head_complete(&buf)
    };
    let complete = tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .unwrap_or(false);
    let answer = match Request::parse(&buf).filter(|_| complete) {
        Some(request) => route(&request, &state).await,
        None => response("400 Bad Request", "text/plain", &[], "bad request\n"),
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.write_all(&answer)).await;
    let _ = stream.shutdown().await;
}

fn text(status: &str, body: &str) -> Vec<u8> {
    response(status, "text/plain; charset=utf-8", &[], body)
}

async fn route(request: &Request, state: &State) -> Vec<u8> {
    if request.method != "GET" {
        return response(
            "405 Method Not Allowed",
            "text/plain",
            &[("Allow", "GET")],
            "GET only\n",
        );
    }
    if let Some(token) = &state.cfg.bearer_token {
        let given = request
            .header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(token.as_str()) {
            return response(
                "401 Unauthorized",
                "text/plain",
                &[("WWW-Authenticate", "Bearer")],
                "a bearer token is required\n",
            );
        }
    }
    let open_metrics = request
        .header("accept")
        .is_some_and(|a| a.contains("application/openmetrics-text"));
    match request.path.as_str() {
        "/probe" => probe(request, state, open_metrics).await,
        "/metrics" => own_metrics(state, open_metrics),
        "/" => text(
            "200 OK",
            "fipsgate exporter: /probe?target=HOST:PORT&policy=NAME[&service=tls|ssh|smtp|…] and /metrics\n",
        ),
        _ => text("404 Not Found", "not found\n"),
    }
}

/// The probe's service choice: (STARTTLS, ports probed as SSH).
fn service(name: Option<&str>, port: u16) -> Result<(StarttlsChoice, Vec<u16>), String> {
    Ok(match name {
        None => (StarttlsChoice::ByPort, vec![22]),
        Some("tls") => (StarttlsChoice::Never, Vec::new()),
        Some("ssh") => (StarttlsChoice::Never, vec![port]),
        Some(other) => match Starttls::parse(other) {
            Some(s) => (StarttlsChoice::Always(s), Vec::new()),
            None => return Err(format!("unknown service {other:?}: tls, ssh, smtp, imap, pop3, ftp, ldap, xmpp or postgres")),
        },
    })
}

async fn probe(request: &Request, state: &State, open_metrics: bool) -> Vec<u8> {
    let bad = |why: String| text("400 Bad Request", &format!("{why}\n"));
    let Some(target) = request.params("target").next() else {
        return bad("target=HOST:PORT is required".into());
    };
    let spec = match TargetSpec::parse(target, 443) {
        Ok(s) if s.host.contains(['/', '*']) => return bad(format!("{target:?} is not one host")),
        Ok(s) => s,
        Err(e) => return bad(e.to_string()),
    };
    let mut names: Vec<String> = request.params("policy").map(str::to_owned).collect();
    if names.is_empty() {
        names.clone_from(&state.cfg.default_policies);
    }
    let mut policies = Vec::new();
    for n in &names {
        match state.cfg.policies.iter().find(|p| &p.name == n) {
            Some(p) => policies.push(p.clone()),
            None => return bad(format!("unknown policy {n:?}")),
        }
    }
    let service_name = request.params("service").next();
    let (starttls, ssh_ports) = match service(service_name, spec.port) {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    let started = Instant::now();
    // Resolve first: every address of the name must be allowed, and the scan is pinned to the
    // one checked, so a second resolution cannot send it elsewhere.
    let addresses = match spec.host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => {
            let lookup = tokio::net::lookup_host((spec.host.as_str(), spec.port));
            match tokio::time::timeout(Duration::from_secs(5), lookup).await {
                Ok(Ok(found)) => found.map(|a| a.ip()).collect(),
                _ => Vec::new(),
            }
        }
    };
    if addresses.is_empty() {
        return failed(state, "dns", started, open_metrics);
    }
    if let Some(denied) = addresses
        .iter()
        .find(|ip| !state.cfg.allow.iter().any(|net| net.contains(*ip)))
    {
        state.counters.forbidden.fetch_add(1, Ordering::Relaxed);
        return text(
            "403 Forbidden",
            &format!("{target} ({denied}) is outside the networks this exporter may scan\n"),
        );
    }
    let ip = addresses[0];
    let key: Key = (
        ip,
        spec.port,
        service_name.unwrap_or("").to_owned(),
        names.clone(),
    );
    let slot = {
        let Ok(mut cache) = state.cache.lock() else {
            return text("500 Internal Server Error", "cache unavailable\n");
        };
        cache.retain(|_, s| {
            Arc::strong_count(s) > 1
                || s.try_lock().map_or(true, |o| {
                    o.as_ref()
                        .is_some_and(|o| o.at.elapsed() < state.cfg.min_interval)
                })
        });
        cache.entry(key).or_default().clone()
    };
    // One scan per key at a time: concurrent scrapes of a target wait for it and share it.
    let mut held = slot.lock().await;
    let fresh = held
        .as_ref()
        .is_some_and(|o| o.at.elapsed() < state.cfg.min_interval);
    if fresh {
        state.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
    } else {
        let Ok(Ok(_permit)) = tokio::time::timeout(state.cfg.timeout, state.probes.acquire()).await
        else {
            state.counters.rejected.fetch_add(1, Ordering::Relaxed);
            return text("503 Service Unavailable", "too many probes at once\n");
        };
        state.counters.in_flight.fetch_add(1, Ordering::Relaxed);
        let outcome = run_scan(&spec, ip, starttls, ssh_ports, policies, state.cfg.timeout).await;
        state.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
        count(state, &outcome);
        *held = Some(outcome);
    }
    let Some(o) = held.as_ref() else {
        return text("500 Internal Server Error", "no outcome\n");
    };
    answer(
        &o.probe(fresh.then(|| o.at.elapsed().as_secs_f64())),
        open_metrics,
    )
}

impl Outcome {
    /// What `/probe` reports of it; `cache_age` when it is reused.
    fn probe(&self, cache_age: Option<f64>) -> Probe<'_> {
        Probe {
            report: self.report.as_ref(),
            error: self.error.as_deref(),
            duration: self.duration,
            cache_age,
        }
    }
}

/// The `/probe` answer: the metrics of one scan.
fn answer(probe: &Probe<'_>, open_metrics: bool) -> Vec<u8> {
    let mut out = Exposition::new(open_metrics);
    probe_metrics(probe, &mut out);
    let content_type = out.content_type();
    response("200 OK", content_type, &[], &out.finish())
}

fn count(state: &State, o: &Outcome) {
    let probe = o.probe(None);
    if probe.succeeded() {
        state.counters.success.fetch_add(1, Ordering::Relaxed);
        return;
    }
    if let Ok(mut errors) = state.counters.errors.lock() {
        let kind = probe.error_kind().unwrap_or("none");
        *errors.entry(kind.to_owned()).or_default() += 1;
    }
    state.counters.failure.fetch_add(1, Ordering::Relaxed);
}

/// A probe that ended before scanning: success 0 with its error kind.
fn failed(state: &State, kind: &str, started: Instant, open_metrics: bool) -> Vec<u8> {
    let outcome = Outcome {
        at: Instant::now(),
        report: None,
        error: Some(kind.to_owned()),
        duration: started.elapsed().as_secs_f64(),
    };
    count(state, &outcome);
    answer(&outcome.probe(None), open_metrics)
}

async fn run_scan(
    spec: &TargetSpec,
    ip: IpAddr,
    starttls: StarttlsChoice,
    ssh_ports: Vec<u16>,
    policies: Vec<Policy>,
    timeout: Duration,
) -> Outcome {
    let started = Instant::now();
    let at = SocketAddr::new(ip, spec.port).to_string();
    let pattern = if spec.host.parse::<IpAddr>().is_ok() {
        at
    } else if spec.host.contains(':') {
        format!("[{}]:{}", spec.host, spec.port)
    } else {
        format!("{}:{}", spec.host, spec.port)
    };
    let targets = match TargetPattern::parse(&pattern) {
        Ok(p) => TargetList::new(vec![p], vec![spec.port], Vec::new()),
        Err(e) => {
            return Outcome {
                at: Instant::now(),
                report: None,
                error: Some(format!("target: {e}")),
                duration: 0.0,
            }
        }
    };
    let cfg = ScanConfig {
        probe: ProbeConfig {
            timeout: timeout.min(Duration::from_secs(5)),
            ..ProbeConfig::default()
        },
        concurrency: 1,
        per_host: 6,
        endpoint_deadline: timeout,
        shard: None,
        skip: Default::default(),
        starttls,
        resolve: vec![(spec.host.clone(), ip)],
        ssh_ports,
        all_ports: false,
    };
    let mut reports = Vec::new();
    let mut keep = |event| {
        if let ScanEvent::Report(r) = event {
            reports.push(*r);
        }
    };
    let scanning = scan(&targets, &cfg, Arc::new(policies), &mut keep);
    // The scan keeps its own endpoint deadline; this one only guards against a bug there.
    let finished = tokio::time::timeout(timeout + Duration::from_secs(2), scanning).await;
    let report = reports.into_iter().next();
    Outcome {
        at: Instant::now(),
        error: match (&finished, &report) {
            (Err(_), _) => Some("timeout".into()),
            (Ok(()), None) => Some("no_report".into()),
            _ => None,
        },
        report: report.filter(|_| finished.is_ok()),
        duration: started.elapsed().as_secs_f64(),
    }
}

fn own_metrics(state: &State, open_metrics: bool) -> Vec<u8> {
    let c = &state.counters;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
    let mut out = Exposition::new(open_metrics);
    out.counter(
        "fipsgate_exporter_probes",
        "Probes answered, by result (cache hits count again under cache_hits).",
        &[
            (vec![("result", "success")], load(&c.success)),
            (vec![("result", "failure")], load(&c.failure)),
            (vec![("result", "forbidden")], load(&c.forbidden)),
            (vec![("result", "rejected")], load(&c.rejected)),
        ],
    );
    let errors: Vec<(String, u64)> = c
        .errors
        .lock()
        .map(|e| e.iter().map(|(k, v)| (k.clone(), *v)).collect())
        .unwrap_or_default();
    let samples: Vec<(Vec<(&str, &str)>, f64)> = errors
        .iter()
        .map(|(k, v)| (vec![("kind", k.as_str())], *v as f64))
        .collect();
    out.counter(
        "fipsgate_exporter_probe_errors",
        "Failed probes by error kind.",
        &samples,
    );
    out.counter(
        "fipsgate_exporter_cache_hits",
        "Probes answered from a scan less than --min-interval old.",
        &[(vec![], load(&c.cache_hits))],
    );
    out.gauge(
        "fipsgate_exporter_probes_in_flight",
        "Scans running now.",
        &[(vec![], load(&c.in_flight))],
    );
    out.gauge(
        "fipsgate_exporter_fips_mode",
        "1 when the AWS-LC FIPS module is in FIPS mode (the scanner is a probe and claims no FIPS for its own connections).",
        &[(vec![], f64::from(u8::from(aws_lc_rs::try_fips_mode().is_ok())))],
    );
    out.gauge(
        "fipsgate_exporter_build_info",
        "The exporter's version.",
        &[(vec![("version", env!("CARGO_PKG_VERSION"))], 1.0)],
    );
    let content_type = out.content_type();
    response("200 OK", content_type, &[], &out.finish())
}
