//! Orchestration: resolve targets, probe every address with bounded concurrency and deadlines,
//! judge, and return one report per endpoint in the order the targets were given.
use crate::probe::starttls::Starttls;
use crate::probe::{self, ErrorKind, ProbeConfig, ProbeError};
use crate::report::{EndpointReport, Target};
use crate::target::{Endpoint, TargetList, TargetSpec};
use fipsgate_cipher_db::policy::Policy;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Scan settings.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// Per-connection settings.
    pub probe: ProbeConfig,
    /// Endpoints probed at once.
    pub concurrency: usize,
    /// STARTTLS for every target; None picks by well-known port.
    pub starttls: StarttlsChoice,
    /// Addresses given for host names (like curl's --resolve), used instead of DNS.
    pub resolve: Vec<(String, IpAddr)>,
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

/// SSH's well-known port; other ports are probed with TLS first, and an SSH identification in
/// answer switches the endpoint to the SSH probe.
const SSH_PORT: u16 = 22;

/// Probes one address with the right protocol and judges it.
async fn probe_endpoint(
    addr: SocketAddr,
    target: Target,
    service: &str,
    cfg: ProbeConfig,
    policies: &[Policy],
) -> EndpointReport {
    let started = Instant::now();
    let elapsed = |s: Instant| s.elapsed().as_millis() as u64;
    if addr.port() != SSH_PORT || cfg.starttls.is_some() {
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
            Err(e) if !e.speaks_ssh() => {
                return EndpointReport::failed(target, service, e, 0, elapsed(started))
            }
            Err(_) => {}
        }
    }
    match probe::ssh::probe(addr, &cfg).await {
        Ok((obs, connections)) => {
            EndpointReport::ssh(target, obs, policies, connections, elapsed(started))
        }
        Err(e) => EndpointReport::failed(target, "ssh", e, 0, elapsed(started)),
    }
}

/// Probes one endpoint as the user named it: each address its name resolves to is a report.
async fn probe_named(
    ep: Endpoint,
    cfg: Arc<ScanConfig>,
    policies: Arc<Vec<Policy>>,
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
        let report = probe_endpoint(addr, target, &service, probe_cfg.clone(), &policies).await;
        // Endpoints from blocks, ranges and port lists that do not answer are not findings.
        let silent = report.error.as_ref().is_some_and(|e| {
            matches!(
                e.kind,
                ErrorKind::ConnectRefused | ErrorKind::Timeout | ErrorKind::ConnectionReset
            )
        });
        if ep.explicit || !silent {
            reports.push(report);
        }
    }
    reports
}

/// Scans every endpoint of the list, at most `concurrency` at once; endpoints are generated
/// lazily, so a large list costs memory only for the endpoints that answer. Reports come back
/// in the order of the list.
pub async fn scan(
    targets: &TargetList,
    cfg: &ScanConfig,
    policies: Arc<Vec<Policy>>,
) -> Vec<EndpointReport> {
    let limit = Arc::new(Semaphore::new(cfg.concurrency.max(1)));
    let cfg = Arc::new(cfg.clone());
    let mut tasks = JoinSet::new();
    let mut reports: Vec<(usize, Vec<EndpointReport>)> = Vec::new();
    for (index, ep) in targets.endpoints().enumerate() {
        let Ok(permit) = limit.clone().acquire_owned().await else {
            break;
        };
        let (cfg, policies) = (cfg.clone(), policies.clone());
        tasks.spawn(async move {
            let r = probe_named(ep, cfg, policies).await;
            drop(permit);
            (index, r)
        });
        while let Some(done) = tasks.try_join_next() {
            if let Ok(r) = done {
                reports.push(r);
            }
        }
    }
    while let Some(joined) = tasks.join_next().await {
        if let Ok(r) = joined {
            reports.push(r);
        }
    }
    reports.sort_by_key(|(i, _)| *i);
    reports.into_iter().flat_map(|(_, r)| r).collect()
}
