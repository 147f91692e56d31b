//! The running proxy: one accept loop per listen address, global and per-listener connection
//! limits, the admin listener, SIGHUP and file-change reloads that keep the old configuration
//! when the new one is bad, and SIGTERM draining.
use crate::config::{Config, ConfigError, Global};
use crate::forward::{self, ListenerRuntime};
use crate::metrics::Metrics;
use crate::tls::{listener_tls, TlsError};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// How often the configuration file is checked for changes.
const WATCH_EVERY: Duration = Duration::from_secs(2);

/// Why the proxy could not start or apply a configuration.
#[derive(Debug)]
pub enum ProxyError {
    /// The configuration is invalid.
    Config(ConfigError),
    /// A listener's TLS could not be built.
    Tls(TlsError),
    /// A socket could not be bound.
    Bind(String),
}

impl std::fmt::Display for ProxyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Config(e) => e.fmt(f),
            Self::Tls(e) => e.fmt(f),
            Self::Bind(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for ProxyError {}

/// Every listener's runtime, built from a configuration (TLS loaded and FIPS-checked).
pub fn build(cfg: &Config) -> Result<BTreeMap<String, Arc<ListenerRuntime>>, ProxyError> {
    let mut out = BTreeMap::new();
    for l in &cfg.listener {
        let tls = listener_tls(l).map_err(ProxyError::Tls)?;
        let routes = l
            .route
            .iter()
            .filter_map(|r| r.backend.clone().map(|b| (r.names.clone(), b)))
            .collect();
        out.insert(
            l.name.clone(),
            Arc::new(ListenerRuntime {
                name: l.name.clone(),
                tls,
                backend: l.backend.clone(),
                routes,
                proxy_protocol: l.proxy_protocol,
                global: cfg.proxy.clone(),
            }),
        );
    }
    Ok(out)
}

/// Whether operational events are printed (`log_events`).
static EVENTS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// One line on standard error, as JSON, for operational events.
pub fn event(what: &str, fields: serde_json::Value) {
    if !EVENTS.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let mut line = serde_json::json!({"type": "event", "time": crate::time_now(), "event": what});
    if let (Some(obj), Some(extra)) = (line.as_object_mut(), fields.as_object()) {
        obj.extend(extra.clone());
    }
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// State every accept loop shares.
struct Shared {
    runtimes: RwLock<BTreeMap<String, Arc<ListenerRuntime>>>,
    metrics: Metrics,
    total: Arc<Semaphore>,
    log_connections: RwLock<bool>,
}

impl Shared {
    fn runtime(&self, name: &str) -> Option<Arc<ListenerRuntime>> {
        self.runtimes.read().ok()?.get(name).cloned()
    }
}

/// The listen addresses of each listener, which a reload may not change.
fn shape(cfg: &Config) -> BTreeMap<String, Vec<SocketAddr>> {
    cfg.listener
        .iter()
        .map(|l| (l.name.clone(), l.listen.clone()))
        .collect()
}

/// Loads, builds and swaps in a new configuration; on any error the running one stays.
fn reload(path: &Path, running: &mut Config, shared: &Shared) {
    let attempt = Config::load(path)
        .map_err(ProxyError::Config)
        .and_then(|cfg| {
            if shape(&cfg) != shape(running) || cfg.proxy.admin != running.proxy.admin {
                return Err(ProxyError::Config(ConfigError(
                    "listeners or their addresses changed: restart to apply that".into(),
                )));
            }
            let runtimes = build(&cfg)?;
            Ok((cfg, runtimes))
        });
    match attempt {
        Ok((cfg, runtimes)) => {
            if let Ok(mut r) = shared.runtimes.write() {
                *r = runtimes;
            }
            if let Ok(mut l) = shared.log_connections.write() {
                *l = cfg.proxy.log_connections;
            }
            EVENTS.store(cfg.proxy.log_events, std::sync::atomic::Ordering::Relaxed);

            *running = cfg;
            shared.metrics.reload(true);
            event(
                "reloaded",
                serde_json::json!({"config": path.display().to_string()}),
            );
        }
        Err(e) => {
            shared.metrics.reload(false);
            event(
                "reload_refused",
                serde_json::json!({"config": path.display().to_string(), "error": e.to_string(), "kept": "the running configuration"}),
            );
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    name: String,
    per_listener: Arc<Semaphore>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        // Wait for room before accepting: clients beyond the limits wait in the kernel's
        // backlog instead of being accepted and dropped.
        let total = tokio::select! {
            p = shared.total.clone().acquire_owned() => p,
            _ = stop.changed() => return,
        };
        let Ok(total) = total else { return };
        let own = tokio::select! {
            p = per_listener.clone().acquire_owned() => p,
            _ = stop.changed() => return,
        };
        let Ok(own) = own else { return };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return,
        };
        let (tcp, client) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: pause instead of spinning.
                event(
                    "accept_failed",
                    serde_json::json!({"listener": name, "error": e.to_string()}),
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(rt) = shared.runtime(&name) else {
            continue;
        };
        let local = tcp.local_addr().unwrap_or(client);
        let shared = shared.clone();
        tokio::spawn(async move {
            let log = forward::serve(tcp, client, local, rt, &shared.metrics).await;

            if shared.log_connections.read().map(|l| *l).unwrap_or(true) {
                if let Ok(line) = serde_json::to_string(&log) {
                    // A full disk must not stop the proxy: the line is lost and counted.
                    if writeln!(std::io::stdout().lock(), "{line}").is_err() {
                        shared.metrics.log_write_failed();
                    }
                }
            }
            drop((own, total));
        });
    }
}

/// Answers `/healthz` and `/metrics`.
async fn admin_loop(listener: TcpListener, shared: Arc<Shared>, draining: watch::Receiver<bool>) {
    loop {
        let Ok((mut s, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        let draining = *draining.borrow();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let mut used = 0;
            let read = async {
                while used < buf.len() && !buf[..used].windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf[used..]).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => used += n,
                    }
                }
            };
            if tokio::time::timeout(Duration::from_secs(5), read)
                .await
                .is_err()
            {
                return;
            }
            let request = String::from_utf8_lossy(&buf[..used]);
            let path = request.split_whitespace().nth(1).unwrap_or("");
            let (status, body) = match (request.starts_with("GET "), path) {
                (true, "/healthz") if draining => {
                    ("503 Service Unavailable", "draining\n".to_owned())
                }
                (true, "/healthz") => ("200 OK", "ok\n".to_owned()),
                (true, "/metrics") => ("200 OK", shared.metrics.render()),
                _ => ("404 Not Found", "not found\n".to_owned()),
            };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(response.as_bytes()).await;
            let _ = s.shutdown().await;
        });
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Runs the proxy until SIGTERM or SIGINT, then drains. `path` is the configuration file to
/// reload on SIGHUP and when it changes (none for the one-line form).
pub async fn run(cfg: Config, path: Option<PathBuf>) -> Result<(), ProxyError> {
    run_until(cfg, path, std::future::pending()).await
}

/// [`run`], also stopping (and draining) when `stop` completes, for callers that embed the
/// proxy (`fipsgate demo`).
pub async fn run_until(
    cfg: Config,
    path: Option<PathBuf>,
    stop_when: impl std::future::Future<Output = ()>,
) -> Result<(), ProxyError> {
    tokio::pin!(stop_when);
    EVENTS.store(cfg.proxy.log_events, std::sync::atomic::Ordering::Relaxed);
    let runtimes = build(&cfg)?;
    let shared = Arc::new(Shared {
        runtimes: RwLock::new(runtimes),
        metrics: Metrics::default(),
        total: Arc::new(Semaphore::new(cfg.proxy.max_connections)),
        log_connections: RwLock::new(cfg.proxy.log_connections),
    });
    let (stop_tx, stop) = watch::channel(false);
    let mut bound = Vec::new();
    for l in &cfg.listener {
        let limit = Arc::new(Semaphore::new(
            l.max_connections.unwrap_or(cfg.proxy.max_connections),
        ));
        for addr in &l.listen {
            let socket = TcpListener::bind(addr)
                .await
                .map_err(|e| ProxyError::Bind(format!("listener {:?}: {addr}: {e}", l.name)))?;
            bound.push((socket, l.name.clone(), limit.clone()));
        }
    }
    if let Some(addr) = cfg.proxy.admin {
        let admin = TcpListener::bind(addr)
            .await
            .map_err(|e| ProxyError::Bind(format!("admin {addr}: {e}")))?;
        tokio::spawn(admin_loop(admin, shared.clone(), stop.clone()));
    }
    for (socket, name, limit) in bound {
        event(
            "listening",
            serde_json::json!({"listener": name, "address": socket.local_addr().map(|a| a.to_string()).unwrap_or_default()}),
        );
        tokio::spawn(accept_loop(
            socket,
            name,
            limit,
            shared.clone(),
            stop.clone(),
        ));
    }
    let mut hup = signal(tokio::signal::unix::SignalKind::hangup())?;
    let mut term = signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut int = signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut running = cfg;
    let mut stamp = path.as_ref().and_then(|p| modified(p));
    loop {
        tokio::select! {
            _ = hup.recv() => {
                if let Some(p) = &path {
                    reload(p, &mut running, &shared);
                    stamp = modified(p);
                }
            }
            () = tokio::time::sleep(WATCH_EVERY), if path.is_some() => {
                if let Some(p) = &path {
                    let now = modified(p);
                    if now.is_some() && now != stamp {
                        stamp = now;
                        reload(p, &mut running, &shared);
                    }
                }
            }
            () = &mut stop_when => break,
            _ = term.recv() => break,

            _ = int.recv() => break,
        }
    }
    drain(&running.proxy, &shared, &stop_tx).await;
    Ok(())
}

fn signal(
    kind: tokio::signal::unix::SignalKind,
) -> Result<tokio::signal::unix::Signal, ProxyError> {
    tokio::signal::unix::signal(kind).map_err(|e| ProxyError::Bind(format!("signal handler: {e}")))
}

/// Stops accepting and waits for open connections, at most the drain deadline.
async fn drain(global: &Global, shared: &Shared, stop: &watch::Sender<bool>) {
    let _ = stop.send(true);
    let deadline = Instant::now() + global.drain();
    event(
        "draining",
        serde_json::json!({"open": shared.metrics.active(), "deadline_s": global.drain_timeout}),
    );
    while shared.metrics.active() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    event(
        "stopped",
        serde_json::json!({"left_open": shared.metrics.active()}),
    );
}
