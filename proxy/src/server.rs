//! The running proxy: one accept loop per listen address, global and per-listener connection
//! limits, the admin listener, SIGHUP and file-change reloads that keep the old configuration
//! when the new one is bad, and SIGTERM draining.
use crate::balance::Pool;
use crate::config::{Backends, Config, ConfigError, Global};
use crate::forward::{self, ListenerRuntime};
use crate::metrics::Metrics;
use crate::tls::{backend_tls, listener_tls, TlsError};
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

/// Every listener's runtime by name, as [`build`] makes them from a configuration.
pub type Runtimes = BTreeMap<String, Arc<ListenerRuntime>>;

/// Every listener's runtime, built from a configuration (TLS loaded and FIPS-checked).
pub fn build(cfg: &Config) -> Result<Runtimes, ProxyError> {
    let mut out = BTreeMap::new();
    for l in &cfg.listener {
        let tls = listener_tls(l).map_err(ProxyError::Tls)?;
        let pool = |b: &Backends| {
            Pool::new(
                &l.name,
                &b.0,
                l.balance,
                l.health_check_interval.map(Duration::from_secs_f64),
                Duration::from_secs_f64(l.backend_retry),
            )
        };
        let routes = l
            .route
            .iter()
            .filter_map(|r| r.backend.as_ref().map(|b| (r.names.clone(), pool(b))))
            .collect();
        out.insert(
            l.name.clone(),
            Arc::new(ListenerRuntime {
                name: l.name.clone(),
                tls,
                backend: pool(&l.backend),
                routes,
                proxy_protocol: l.proxy_protocol,
                backend_tls: backend_tls(l).map_err(ProxyError::Tls)?,
                global: cfg.proxy.clone(),
                starttls: l.starttls,
            }),
        );
    }
    Ok(out)
}

/// Starts the active backend checks of these runtimes (in the Tokio runtime, so not in
/// [`build`], which `proxy --check` also calls).
fn start_checks(runtimes: &Runtimes) {
    for rt in runtimes.values() {
        rt.pools().for_each(Pool::start_checks);
    }
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

/// A connection limit and the number it was made for, so a reload keeps it when unchanged.
#[derive(Clone)]
struct Limit {
    max: usize,
    permits: Arc<Semaphore>,
}

impl Limit {
    /// `old` when it is for the same number (its open connections keep counting), else a new one.
    fn keep_or_new(old: Option<&Limit>, max: usize) -> Limit {
        match old {
            Some(l) if l.max == max => l.clone(),
            _ => Limit {
                max,
                permits: Arc::new(Semaphore::new(max)),
            },
        }
    }
}

/// The listener a bound address serves, and that listener's connection limit.
#[derive(Clone)]
struct Owner {
    listener: String,
    limit: Limit,
}

/// State every accept loop shares; a reload swaps its parts.
struct Shared {
    runtimes: RwLock<Runtimes>,
    owners: RwLock<BTreeMap<SocketAddr, Owner>>,
    metrics: Metrics,
    total: RwLock<Limit>,
    log_connections: RwLock<bool>,
}

impl Shared {
    fn runtime(&self, name: &str) -> Option<Arc<ListenerRuntime>> {
        self.runtimes.read().ok()?.get(name).cloned()
    }

    /// The counters, then the state of every backend.
    fn render_metrics(&self) -> String {
        let mut out = self.metrics.render();
        out.push_str(
            "# HELP fipsgate_proxy_backend_up Whether the backend is in turn (1) or out after failures (0).\n\
             # TYPE fipsgate_proxy_backend_up gauge\n\
             # HELP fipsgate_proxy_backend_connections Connections open to the backend.\n\
             # TYPE fipsgate_proxy_backend_connections gauge\n",
        );
        if let Ok(runtimes) = self.runtimes.read() {
            for rt in runtimes.values() {
                rt.pools().for_each(|p| p.render(&mut out));
            }
        }
        out
    }

    fn owner(&self, addr: SocketAddr) -> Option<Owner> {
        self.owners.read().ok()?.get(&addr).cloned()
    }

    fn total(&self) -> Option<Arc<Semaphore>> {
        Some(self.total.read().ok()?.permits.clone())
    }
}

/// The owner of every address of `cfg`, keeping the limits of `old` whose numbers did not change.
fn owners_for(old: &BTreeMap<SocketAddr, Owner>, cfg: &Config) -> BTreeMap<SocketAddr, Owner> {
    let old_limit = |name: &str| {
        old.values()
            .find(|o| o.listener == name)
            .map(|o| o.limit.clone())
    };
    let mut owners = BTreeMap::new();
    for l in &cfg.listener {
        let max = l.max_connections.unwrap_or(cfg.proxy.max_connections);
        let limit = Limit::keep_or_new(old_limit(&l.name).as_ref(), max);
        for addr in &l.listen {
            owners.insert(
                *addr,
                Owner {
                    listener: l.name.clone(),
                    limit: limit.clone(),
                },
            );
        }
    }
    owners
}

/// The accept loops running, by address; each stops when its sender says so (or is dropped).
type Accepting = BTreeMap<SocketAddr, watch::Sender<bool>>;

/// The socket for a listen address: the one systemd `passed` (already non-blocking), or one
/// bound here, synchronously, so a reload can bind all before it commits.
fn listen_on(
    addr: SocketAddr,
    listener: &str,
    passed: Option<std::net::TcpListener>,
) -> Result<TcpListener, ProxyError> {
    let at = |e: std::io::Error| ProxyError::Bind(format!("listener {listener:?}: {addr}: {e}"));
    let socket = match passed {
        Some(socket) => socket,
        None => {
            let socket = std::net::TcpListener::bind(addr).map_err(at)?;
            socket.set_nonblocking(true).map_err(at)?;
            socket
        }
    };
    TcpListener::from_std(socket).map_err(at)
}

/// Starts accepting on a bound address (`activated`: a socket systemd passed).
fn start_accepting(
    socket: TcpListener,
    addr: SocketAddr,
    shared: &Arc<Shared>,
    activated: bool,
) -> watch::Sender<bool> {
    let (tx, rx) = watch::channel(false);
    event(
        "listening",
        serde_json::json!({"listener": shared.owner(addr).map(|o| o.listener), "address": addr.to_string(), "socket_activation": activated}),
    );
    tokio::spawn(accept_loop(socket, addr, shared.clone(), rx));
    tx
}

/// Loads, builds and swaps in a new configuration: TLS, backends, routes, limits, and the
/// listen addresses (new ones bound, dropped ones closed, moved ones served by their new
/// listener). On any error, including an address that cannot be bound, nothing changes.
fn reload(path: &Path, running: &mut Config, shared: &Arc<Shared>, accepting: &mut Accepting) {
    let attempt = Config::load(path)
        .map_err(ProxyError::Config)
        .and_then(|cfg| {
            if cfg.proxy.admin != running.proxy.admin {
                return Err(ProxyError::Config(ConfigError(
                    "the admin address changed: restart to apply that".into(),
                )));
            }
            let runtimes = build(&cfg)?;
            let mut fresh = Vec::new();
            for l in &cfg.listener {
                for addr in l.listen.iter().filter(|a| !accepting.contains_key(a)) {
                    fresh.push((*addr, listen_on(*addr, &l.name, None)?));
                }
            }
            Ok((cfg, runtimes, fresh))
        });
    match attempt {
        Ok((cfg, runtimes, fresh)) => {
            let owners = shared
                .owners
                .read()
                .map(|old| owners_for(&old, &cfg))
                .unwrap_or_default();
            start_checks(&runtimes);
            if let Ok(mut r) = shared.runtimes.write() {
                *r = runtimes;
            }
            if let Ok(mut o) = shared.owners.write() {
                *o = owners;
            }
            if let Ok(mut t) = shared.total.write() {
                *t = Limit::keep_or_new(Some(&t), cfg.proxy.max_connections);
            }
            if let Ok(mut l) = shared.log_connections.write() {
                *l = cfg.proxy.log_connections;
            }
            EVENTS.store(cfg.proxy.log_events, std::sync::atomic::Ordering::Relaxed);
            let wanted: Vec<SocketAddr> =
                cfg.listener.iter().flat_map(|l| l.listen.clone()).collect();
            accepting.retain(|addr, stop| {
                let keep = wanted.contains(addr);
                if !keep {
                    let _ = stop.send(true);
                    event(
                        "stopped_listening",
                        serde_json::json!({"address": addr.to_string()}),
                    );
                }
                keep
            });
            for (addr, socket) in fresh {
                accepting.insert(addr, start_accepting(socket, addr, shared, false));
            }
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

/// Accepts on one address for whichever listener owns it, until told to stop.
async fn accept_loop(
    listener: TcpListener,
    addr: SocketAddr,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        // Wait for room before accepting: clients beyond the limits wait in the kernel's
        // backlog instead of being accepted and dropped.
        let Some(total) = shared.total() else { return };
        let total = tokio::select! {
            p = total.acquire_owned() => p,
            _ = stop.changed() => return,
        };
        let Ok(total) = total else { return };
        let Some(owner) = shared.owner(addr) else {
            return;
        };
        let own = tokio::select! {
            p = owner.limit.permits.clone().acquire_owned() => p,
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
                    serde_json::json!({"listener": owner.listener, "error": e.to_string()}),
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // A reload while this loop waited may have given the address to another listener.
        let name = shared.owner(addr).map_or(owner.listener, |o| o.listener);
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
                (true, "/metrics") => ("200 OK", shared.render_metrics()),
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

/// Runs the proxy until SIGTERM or SIGINT, then drains. `runtimes` are [`build`]'s for `cfg`
/// (built once, before the caller reports on them); `path` is the configuration file to reload
/// on SIGHUP and when it changes (none for the one-line form).
pub async fn run(cfg: Config, runtimes: Runtimes, path: Option<PathBuf>) -> Result<(), ProxyError> {
    run_until(cfg, runtimes, path, std::future::pending()).await
}

/// [`run`], also stopping (and draining) when `stop` completes, for callers that embed the
/// proxy (`fipsgate demo`).
pub async fn run_until(
    cfg: Config,
    runtimes: Runtimes,
    path: Option<PathBuf>,
    stop_when: impl std::future::Future<Output = ()>,
) -> Result<(), ProxyError> {
    tokio::pin!(stop_when);
    // Before any socket is bound: a SIGHUP sent as soon as the port answers must find its
    // handler, not the default action, which ends the process.
    let mut hup = signal(tokio::signal::unix::SignalKind::hangup())?;
    let mut term = signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut int = signal(tokio::signal::unix::SignalKind::interrupt())?;
    EVENTS.store(cfg.proxy.log_events, std::sync::atomic::Ordering::Relaxed);
    start_checks(&runtimes);
    let shared = Arc::new(Shared {
        runtimes: RwLock::new(runtimes),
        owners: RwLock::new(owners_for(&BTreeMap::new(), &cfg)),
        metrics: Metrics::default(),
        total: RwLock::new(Limit::keep_or_new(None, cfg.proxy.max_connections)),
        log_connections: RwLock::new(cfg.proxy.log_connections),
    });
    let (stop_tx, stop) = watch::channel(false);
    // Sockets from systemd are used for the addresses they are bound to; the rest are bound here.
    let mut inherited = crate::activation::inherited().map_err(ProxyError::Bind)?;
    let mut bound = Vec::new();
    for l in &cfg.listener {
        for addr in &l.listen {
            let passed = inherited.remove(addr);
            let activated = passed.is_some();
            bound.push((*addr, listen_on(*addr, &l.name, passed)?, activated));
        }
    }
    if let Some(addr) = cfg.proxy.admin {
        let admin = match inherited.remove(&addr) {
            Some(socket) => TcpListener::from_std(socket),
            None => TcpListener::bind(addr).await,
        }
        .map_err(|e| ProxyError::Bind(format!("admin {addr}: {e}")))?;
        tokio::spawn(admin_loop(admin, shared.clone(), stop.clone()));
    }
    if let Some(addr) = inherited.keys().next() {
        return Err(ProxyError::Bind(format!(
            "socket activation passed {addr}, which neither a listener nor admin lists"
        )));
    }
    let mut accepting = Accepting::new();
    for (addr, socket, activated) in bound {
        accepting.insert(addr, start_accepting(socket, addr, &shared, activated));
    }
    let mut running = cfg;
    let mut stamp = path.as_ref().and_then(|p| modified(p));
    loop {
        tokio::select! {
            _ = hup.recv() => {
                if let Some(p) = &path {
                    reload(p, &mut running, &shared, &mut accepting);
                    stamp = modified(p);
                }
            }
            () = tokio::time::sleep(WATCH_EVERY), if path.is_some() => {
                if let Some(p) = &path {
                    let now = modified(p);
                    if now.is_some() && now != stamp {
                        stamp = now;
                        reload(p, &mut running, &shared, &mut accepting);
                    }
                }
            }
            () = &mut stop_when => break,
            _ = term.recv() => break,

            _ = int.recv() => break,
        }
    }
    for stop in accepting.values() {
        let _ = stop.send(true);
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
