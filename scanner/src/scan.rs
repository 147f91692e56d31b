//! Orchestration: resolve targets, probe every address with bounded concurrency (globally and
//! per host) and deadlines, judge, and stream one report per endpoint in the order the targets
//! were given.
use crate::probe::starttls::Starttls;
use crate::probe::{self, ErrorKind, Failure, Heard, Places, ProbeConfig, ProbeError};
use crate::report::{EndpointReport, Status, Target};
use crate::target::{Endpoint, Shard, TargetList, TargetSpec};
use fipsgate_cipher_db::policy::Policy;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

/// Scan settings.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// Per-connection settings.
    pub probe: ProbeConfig,
    /// Endpoints probed at once.
    pub concurrency: usize,
    /// Endpoints of one address probed at once.
    pub per_host: usize,
    /// Longest time one endpoint may take, all connections included.
    pub endpoint_deadline: Duration,
    /// Only this part of the target list.
    pub shard: Option<Shard>,
    /// Endpoints (host as named, port) already scanned, left out (`--resume`).
    pub skip: HashSet<(String, u16)>,
    /// STARTTLS for every target; None picks by well-known port.
    pub starttls: StarttlsChoice,
    /// Addresses given for host names (like curl's --resolve), used instead of DNS.
    pub resolve: Vec<(String, IpAddr)>,
    /// Ports probed as SSH straight away (`--ssh-ports`, default 22); elsewhere an SSH server
    /// is recognised by the identification it sends in answer to a TLS hello.
    pub ssh_ports: Vec<u16>,
    /// Report closed and filtered ports of ranges, blocks and port lists too (`--all-ports`);
    /// otherwise they are only counted.
    pub all_ports: bool,
}

/// How the STARTTLS protocol of a target is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StarttlsChoice {
    /// By well-known port (25/587 smtp, 143 imap, 110 pop3, 21 ftp, 389 ldap, 5222 xmpp,
    /// 5432 postgres); implicit TLS elsewhere.
    ByPort,
    /// This protocol on every target.
    Always(Starttls),
    /// Implicit TLS on every target.
    Never,
}

/// Resolves a target to its addresses (an IP literal resolves to itself; `--resolve` entries
/// replace DNS for their name).
async fn resolve(
    spec: &TargetSpec,
    cfg: &ProbeConfig,
    given: &[(String, IpAddr)],
) -> Result<Vec<SocketAddr>, ProbeError> {
    if let Ok(ip) = spec.host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, spec.port)]);
    }
    let overridden: Vec<SocketAddr> = given
        .iter()
        .filter(|(h, _)| h.eq_ignore_ascii_case(&spec.host))
        .map(|(_, ip)| SocketAddr::new(*ip, spec.port))
        .collect();
    if !overridden.is_empty() {
        return Ok(overridden);
    }

    let lookup = tokio::net::lookup_host((spec.host.as_str(), spec.port));
    match tokio::time::timeout(cfg.timeout, lookup).await {
        Err(_) => Err(ProbeError::new(
            ErrorKind::Dns,
            format!("resolving {} timed out", spec.host),
        )),
        Ok(Err(e)) => Err(ProbeError::new(
            ErrorKind::Dns,
            format!("resolving {}: {e}", spec.host),
        )),
        Ok(Ok(addrs)) => {
            let mut v: Vec<SocketAddr> = addrs.collect();
            v.dedup();
            if v.is_empty() {
                Err(ProbeError::new(
                    ErrorKind::Dns,
                    format!("{} has no address", spec.host),
                ))
            } else {
                Ok(v)
            }
        }
    }
}

/// The report of a probe that failed. A port that never accepted a connection is `closed` or
/// `filtered` unless the user named it (then it is an error like any other); an open port that
/// said nothing the probe recognised is reported as service `unknown`.
fn failure_report(
    target: Target,
    service: &str,
    failure: Failure,
    named: bool,
    duration_ms: u64,
) -> EndpointReport {
    let Failure {
        error,
        connections,
        heard,
    } = failure;
    let (service, status) = match heard {
        Heard::Refused if !named => (service, Status::Closed),
        Heard::NoAnswer if !named => (service, Status::Filtered),
        Heard::Nothing => ("unknown", Status::Error),
        _ => (service, Status::Error),
    };
    let mut report = EndpointReport::failed(target, service, error, connections, duration_ms);
    report.status = status;
    report
}

/// Probes one address with the right protocol and judges it: SSH at once when `ssh_first`,
/// otherwise TLS first, switching to SSH when an SSH identification answers the hello.
async fn probe_endpoint(
    addr: SocketAddr,
    target: Target,
    service: &str,
    cfg: ProbeConfig,
    policies: &[Policy],
    ssh_first: bool,
    named: bool,
) -> EndpointReport {
    let started = Instant::now();
    let elapsed = |s: Instant| s.elapsed().as_millis() as u64;
    // Connections of the TLS attempt that met an SSH server count too.
    let mut before_ssh = 0;
    if !ssh_first || cfg.starttls.is_some() {
        match probe::tls::probe(addr, cfg.clone()).await {
            Ok((obs, connections)) => {
                return EndpointReport::tls(
                    target,
                    service,
                    obs,
                    policies,
                    connections,
                    elapsed(started),
                )
            }
            Err(Failure {
                heard: Heard::SshIdentification(_),
                connections,
                ..
            }) => before_ssh = connections,
            Err(failure) => {
                return failure_report(target, service, failure, named, elapsed(started))
            }
        }
    }
    match probe::ssh::probe(addr, &cfg).await {
        Ok((obs, connections)) => EndpointReport::ssh(
            target,
            obs,
            policies,
            before_ssh + connections,
            elapsed(started),
        ),
        Err(mut failure) => {
            // An SSH server that answered the TLS hello is named SSH whatever happens next.
            if before_ssh > 0 && failure.heard == Heard::Nothing {
                failure.heard = Heard::Protocol;
            }
            failure.connections += before_ssh;
            failure_report(target, "ssh", failure, named, elapsed(started))
        }
    }
}

/// One address's limits (`--per-host`): endpoints probed at once, and connections open at once
/// across all of them.
struct HostSlots {
    endpoints: Arc<Semaphore>,
    connections: Arc<Places>,
}

/// Per-address limits; an address's entry lives as long as one of its endpoints is being probed.
struct HostLimits {
    per_host: usize,
    hosts: Mutex<HashMap<IpAddr, HostSlots>>,
}

impl HostLimits {
    /// Waits for a free place at this address; returns it and the address's connection slots.
    async fn enter(&self, ip: IpAddr) -> (Option<OwnedSemaphorePermit>, Option<Arc<Places>>) {
        let Some((endpoints, connections)) = self.hosts.lock().ok().map(|mut hosts| {
            let slots = hosts.entry(ip).or_insert_with(|| HostSlots {
                endpoints: Arc::new(Semaphore::new(self.per_host.max(1))),
                connections: Arc::new(Places::new(self.per_host)),
            });
            (slots.endpoints.clone(), slots.connections.clone())
        }) else {
            return (None, None);
        };
        (endpoints.acquire_owned().await.ok(), Some(connections))
    }

    /// Drops the entries of addresses nobody is probing.
    fn tidy(&self) {
        if let Ok(mut hosts) = self.hosts.lock() {
            hosts.retain(|_, s| Arc::strong_count(&s.endpoints) > 1);
        }
    }
}

/// Probes one endpoint as the user named it: each address its name resolves to is a report.
async fn probe_named(
    ep: Endpoint,
    cfg: Arc<ScanConfig>,
    policies: Arc<Vec<Policy>>,
    limits: Arc<HostLimits>,
) -> Vec<EndpointReport> {
    let spec = TargetSpec {
        host: ep.host.clone(),
        port: ep.port,
    };
    let mut probe_cfg = cfg.probe.clone();
    if probe_cfg.sni.is_none() && !spec.is_ip() {
        probe_cfg.sni = Some(spec.host.clone());
    }
    probe_cfg.starttls = match cfg.starttls {
        StarttlsChoice::ByPort => Starttls::for_port(spec.port),
        StarttlsChoice::Always(p) => Some(p),
        StarttlsChoice::Never => None,
    };
    let service = probe_cfg
        .starttls
        .map_or_else(|| "tls".to_owned(), Starttls::service);
    let addrs = match resolve(&spec, &probe_cfg, &cfg.resolve).await {
        Ok(a) => a,
        Err(e) => {
            return vec![EndpointReport::failed(
                Target {
                    host: spec.host,
                    ip: None,
                    port: spec.port,
                },
                &service,
                e,
                0,
                0,
            )]
        }
    };
    let mut reports = Vec::new();
    for addr in addrs {
        let target = Target {
            host: spec.host.clone(),
            ip: Some(addr.ip().to_string()),
            port: addr.port(),
        };
        let (place, connections) = limits.enter(addr.ip()).await;
        let started = Instant::now();
        let mut endpoint_cfg = probe_cfg.clone();
        endpoint_cfg.host_slots = connections;
        if !endpoint_cfg.delay.is_zero() {
            endpoint_cfg.spacing = Some(Arc::new(probe::pace::Pacer::spaced(endpoint_cfg.delay)));
        }
        let probe = probe_endpoint(
            addr,
            target.clone(),
            &service,
            endpoint_cfg,
            &policies,
            cfg.ssh_ports.contains(&addr.port()),
            ep.explicit,
        );
        let report = match tokio::time::timeout(cfg.endpoint_deadline, probe).await {
            Ok(r) => r,
            Err(_) => EndpointReport::failed(
                target,
                &service,
                ProbeError::new(
                    ErrorKind::Timeout,
                    format!(
                        "the endpoint took longer than its deadline of {:?}",
                        cfg.endpoint_deadline
                    ),
                ),
                0,
                started.elapsed().as_millis() as u64,
            ),
        };
        drop(place);
        limits.tidy();
        reports.push(report);
    }
    reports
}

/// What a scan tells its caller as it goes.
#[derive(Debug)]
pub enum ScanEvent {
    /// An endpoint of the list is finished (in completion order, for progress): how many
    /// reports it gave and how many of them are errors, and how many of its addresses were
    /// closed or filtered ports left out of the reports (see [`ScanConfig::all_ports`]).
    Finished {
        /// Reports of the endpoint.
        reports: usize,
        /// Reports with status error.
        errors: usize,
        /// Closed ports not reported.
        closed: usize,
        /// Filtered ports not reported.
        filtered: usize,
        /// Connections spent on the ports not reported.
        unlisted_connections: u32,
    },
    /// A report, in the order of the target list.
    Report(Box<EndpointReport>),
}

/// Scans every endpoint of the list (or of its shard, less those to skip), at most
/// `concurrency` at once, and hands each report to `on_event` as soon as every endpoint before
/// it in the list is done. Endpoints are generated lazily and reports leave at once, so memory
/// stays bounded by the endpoints in flight whatever the list's size.
pub async fn scan(
    targets: &TargetList,
    cfg: &ScanConfig,
    policies: Arc<Vec<Policy>>,
    on_event: &mut (dyn FnMut(ScanEvent) + Send),
) {
    let limit = Arc::new(Semaphore::new(cfg.concurrency.max(1)));
    let limits = Arc::new(HostLimits {
        per_host: cfg.per_host,
        hosts: Mutex::new(HashMap::new()),
    });
    let all_ports = cfg.all_ports;
    let cfg = Arc::new(cfg.clone());
    let mut tasks = JoinSet::new();
    let mut order = InOrder::default();
    let chosen = targets
        .endpoints()
        .enumerate()
        .filter(|(position, _)| cfg.shard.is_none_or(|s| s.holds(*position as u64)))
        .filter(|(_, ep)| !cfg.skip.contains(&(ep.host.clone(), ep.port)))
        .map(|(_, ep)| ep);
    for (index, ep) in chosen.enumerate() {
        let Ok(permit) = limit.clone().acquire_owned().await else {
            break;
        };
        let (cfg, policies, limits) = (cfg.clone(), policies.clone(), limits.clone());
        tasks.spawn(async move {
            let r = probe_named(ep, cfg, policies, limits).await;
            drop(permit);
            (index, r)
        });
        while let Some(done) = tasks.try_join_next() {
            if let Ok((index, r)) = done {
                order.finished(index, r, all_ports, on_event);
            }
        }
    }
    while let Some(joined) = tasks.join_next().await {
        if let Ok((index, r)) = joined {
            order.finished(index, r, all_ports, on_event);
        }
    }
}

/// Holds reports that finished before an earlier endpoint of the list, and lets them out in
/// list order.
#[derive(Default)]
struct InOrder {
    next: usize,
    waiting: BTreeMap<usize, Vec<EndpointReport>>,
}

impl InOrder {
    fn finished(
        &mut self,
        index: usize,
        mut reports: Vec<EndpointReport>,
        all_ports: bool,
        on_event: &mut (dyn FnMut(ScanEvent) + Send),
    ) {
        let count = |reports: &[EndpointReport], status: Status| {
            reports.iter().filter(|r| r.status == status).count()
        };
        let (mut closed, mut filtered, mut unlisted_connections) = (0, 0, 0);
        if !all_ports {
            closed = count(&reports, Status::Closed);
            filtered = count(&reports, Status::Filtered);
            let unlisted =
                |r: &EndpointReport| matches!(r.status, Status::Closed | Status::Filtered);
            unlisted_connections = reports
                .iter()
                .filter(|r| unlisted(r))
                .map(|r| r.connections)
                .sum();
            reports.retain(|r| !unlisted(r));
        }
        on_event(ScanEvent::Finished {
            reports: reports.len(),
            errors: count(&reports, Status::Error),
            closed,
            filtered,
            unlisted_connections,
        });
        self.waiting.insert(index, reports);
        while let Some(ready) = self.waiting.remove(&self.next) {
            self.next += 1;
            for r in ready {
                on_event(ScanEvent::Report(Box::new(r)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(heard: Heard, named: bool) -> EndpointReport {
        let target = Target {
            host: "127.0.0.1".into(),
            ip: Some("127.0.0.1".into()),
            port: 4433,
        };
        let failure = Failure {
            error: ProbeError::new(ErrorKind::Timeout, "no answer"),
            connections: 1,
            heard,
        };
        failure_report(target, "tls", failure, named, 0)
    }

    #[test]
    fn ports_of_ranges_that_never_connected_are_closed_or_filtered_and_named_ones_errors() {
        let r = report(Heard::Refused, false);
        assert_eq!((r.status, r.service.as_str()), (Status::Closed, "tls"));
        let r = report(Heard::NoAnswer, false);
        assert_eq!(r.status, Status::Filtered);
        for heard in [Heard::Refused, Heard::NoAnswer] {
            assert_eq!(report(heard, true).status, Status::Error);
        }
    }

    #[test]
    fn open_ports_are_errors_and_unknown_until_something_names_the_service() {
        for named in [false, true] {
            let r = report(Heard::Nothing, named);
            assert_eq!((r.status, r.service.as_str()), (Status::Error, "unknown"));
            let r = report(Heard::Protocol, named);
            assert_eq!((r.status, r.service.as_str()), (Status::Error, "tls"));
        }
    }
}
