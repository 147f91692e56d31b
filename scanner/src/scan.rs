//! Orchestration: resolve targets, probe every address with bounded concurrency and deadlines,
//! judge, and return one report per endpoint in the order the targets were given.
use crate::probe::{self, ErrorKind, ProbeConfig, ProbeError};
use crate::report::{EndpointReport, Target};
use crate::target::TargetSpec;
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
}

/// Resolves a target to its addresses (an IP literal resolves to itself).
async fn resolve(spec: &TargetSpec, cfg: &ProbeConfig) -> Result<Vec<SocketAddr>, ProbeError> {
    if let Ok(ip) = spec.host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, spec.port)]);
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

/// Scans every target: each address a name resolves to is its own endpoint.
pub async fn scan(
    specs: &[TargetSpec],
    cfg: &ScanConfig,
    policies: Arc<Vec<Policy>>,
) -> Vec<EndpointReport> {
    let limit = Arc::new(Semaphore::new(cfg.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let mut order = 0usize;
    let mut reports: Vec<(usize, EndpointReport)> = Vec::new();
    for spec in specs {
        let mut probe_cfg = cfg.probe.clone();
        if probe_cfg.sni.is_none() && !spec.is_ip() {
            probe_cfg.sni = Some(spec.host.clone());
        }
        let addrs = match resolve(spec, &probe_cfg).await {
            Ok(a) => a,
            Err(e) => {
                let target = Target {
                    host: spec.host.clone(),
                    ip: None,
                    port: spec.port,
                };
                reports.push((order, EndpointReport::failed(target, "tls", e, 0, 0)));
                order += 1;
                continue;
            }
        };
        for addr in addrs {
            let (limit, policies, probe_cfg, host) = (
                limit.clone(),
                policies.clone(),
                probe_cfg.clone(),
                spec.host.clone(),
            );
            let index = order;
            order += 1;
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await;
                let target = Target {
                    host,
                    ip: Some(addr.ip().to_string()),
                    port: addr.port(),
                };
                let started = Instant::now();
                let report = match probe::tls::probe(addr, probe_cfg).await {
                    Ok((obs, connections)) => EndpointReport::tls(
                        target,
                        "tls",
                        obs,
                        &policies,
                        connections,
                        started.elapsed().as_millis() as u64,
                    ),
                    Err(e) => EndpointReport::failed(
                        target,
                        "tls",
                        e,
                        0,
                        started.elapsed().as_millis() as u64,
                    ),
                };
                (index, report)
            });
        }
    }
    while let Some(joined) = tasks.join_next().await {
        if let Ok(r) = joined {
            reports.push(r);
        }
    }
    reports.sort_by_key(|(i, _)| *i);
    reports.into_iter().map(|(_, r)| r).collect()
}
