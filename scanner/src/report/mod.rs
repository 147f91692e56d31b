//! The report model: one `endpoint` object per scanned address (the NDJSON contract of
//! docs/report.md), with observations and each policy's judgement.
use crate::observation::{SshObservation, TlsObservation};
use crate::probe::ProbeError;
use fipsgate_cipher_db::assess::Finding;
use fipsgate_cipher_db::negotiate::{self, SshNegotiation, TlsNegotiation};
use fipsgate_cipher_db::policy::Policy;
use fipsgate_cipher_db::{EndpointVerdict, Kind};
use serde::{Deserialize, Serialize};

pub mod text;

/// Version of the report format; every NDJSON line carries it.
pub const SCHEMA_VERSION: u32 = 1;

/// Where an endpoint is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The host as given.
    pub host: String,
    /// The address scanned (absent when the name did not resolve).
    pub ip: Option<String>,
    /// TCP port.
    pub port: u16,
}

/// Whether the endpoint could be scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Scanned.
    Ok,
    /// Not scanned; see `error`.
    Error,
}

/// One policy's endpoint verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVerdict {
    /// Policy name.
    pub policy: String,
    /// fips-only, fips-capable or not-fips-capable.
    pub verdict: EndpointVerdict,
}

/// What a vendor profile would negotiate with this endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Negotiation {
    /// Policy whose profile was played.
    pub policy: String,
    /// The outcome of a TLS handshake.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsNegotiation>,
    /// The outcome of an SSH key exchange, list by list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh: Option<SshNegotiation>,
}

/// One scanned endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointReport {
    /// Always `endpoint`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Host, address, port.
    pub target: Target,
    /// `tls`, or `smtp+starttls` and the like.
    pub service: String,
    /// ok or error.
    pub status: Status,
    /// Why it could not be scanned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ProbeError>,
    /// TLS observations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsObservation>,
    /// SSH observations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh: Option<SshObservation>,
    /// Endpoint verdict per policy.
    pub verdicts: Vec<PolicyVerdict>,
    /// Findings of every policy.
    pub findings: Vec<Finding>,
    /// Simulated negotiations of vendor profiles.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub negotiations: Vec<Negotiation>,
    /// Connections opened.
    pub connections: u32,
    /// Wall time of the probe.
    pub duration_ms: u64,
}

impl EndpointReport {
    /// A report with no observations or judgements yet.
    fn base(
        target: Target,
        service: &str,
        status: Status,
        connections: u32,
        duration_ms: u64,
    ) -> Self {
        Self {
            kind: "endpoint",
            schema_version: SCHEMA_VERSION,
            target,
            service: service.to_owned(),
            status,
            error: None,
            tls: None,
            ssh: None,
            verdicts: Vec::new(),
            findings: Vec::new(),
            negotiations: Vec::new(),
            connections,
            duration_ms,
        }
    }

    /// A report for an endpoint that could not be scanned.
    pub fn failed(
        target: Target,
        service: &str,
        error: ProbeError,
        connections: u32,
        duration_ms: u64,
    ) -> Self {
        Self {
            error: Some(error),
            ..Self::base(target, service, Status::Error, connections, duration_ms)
        }
    }

    /// A report judging a TLS observation under each policy.
    pub fn tls(
        target: Target,
        service: &str,
        obs: TlsObservation,
        policies: &[Policy],
        connections: u32,
        duration_ms: u64,
    ) -> Self {
        let offer = obs.to_offer();
        let mut r = Self::base(target, service, Status::Ok, connections, duration_ms);
        for p in policies {
            if let Some(a) = p.assess_tls(&offer) {
                r.verdicts.push(PolicyVerdict {
                    policy: p.name.clone(),
                    verdict: a.verdict,
                });
                r.findings.extend(a.findings);
                if let Some(profile) = p
                    .profile
                    .as_ref()
                    .filter(|pr| pr.list(fipsgate_cipher_db::Kind::TlsSuite).is_some())
                {
                    r.negotiations.push(Negotiation {
                        policy: p.name.clone(),
                        tls: Some(negotiate::tls(profile, &offer)),
                        ssh: None,
                    });
                }
            }
        }
        r.tls = Some(obs);
        r
    }

    /// A report judging an SSH observation under each policy.
    pub fn ssh(
        target: Target,
        obs: SshObservation,
        policies: &[Policy],
        connections: u32,
        duration_ms: u64,
    ) -> Self {
        let offer = obs.to_offer();
        let mut r = Self::base(target, "ssh", Status::Ok, connections, duration_ms);
        let lists = [
            Kind::SshKex,
            Kind::SshCipher,
            Kind::SshMac,
            Kind::SshHostkey,
        ];
        for p in policies {
            if let Some(a) = p.assess_ssh(&offer) {
                r.verdicts.push(PolicyVerdict {
                    policy: p.name.clone(),
                    verdict: a.verdict,
                });
                r.findings.extend(a.findings);
                if p.profile
                    .as_ref()
                    .is_some_and(|pr| lists.iter().any(|k| pr.list(*k).is_some()))
                {
                    r.negotiations.push(Negotiation {
                        policy: p.name.clone(),
                        tls: None,
                        ssh: negotiate::ssh(p, &offer),
                    });
                }
            }
        }
        r.ssh = Some(obs);
        r
    }
}

/// The first NDJSON line of a scan.
#[derive(Debug, Clone, Serialize)]
pub struct ScanBegin {
    /// Always `scan_begin`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// fipsgate's version.
    pub tool_version: &'static str,
    /// Policies judging the scan.
    pub policies: Vec<String>,
    /// The command line.
    pub arguments: Vec<String>,
    /// Start time, RFC 3339 UTC.
    pub started_at: String,
}

impl ScanBegin {
    /// A begin line for a scan starting now.
    pub fn now(policies: &[Policy], arguments: Vec<String>) -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            kind: "scan_begin",
            schema_version: SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION"),
            policies: policies.iter().map(|p| p.name.clone()).collect(),
            arguments,
            started_at: crate::probe::certs::rfc3339(i64::try_from(secs).unwrap_or(i64::MAX)),
        }
    }
}

/// Endpoint counts of one policy in [`ScanEnd`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerdictCounts {
    /// Policy name.
    pub policy: String,
    /// Endpoints judged fips-only.
    pub fips_only: usize,
    /// Endpoints judged fips-capable.
    pub fips_capable: usize,
    /// Endpoints judged not-fips-capable.
    pub not_fips_capable: usize,
}

/// The last NDJSON line of a scan.
#[derive(Debug, Clone, Serialize)]
pub struct ScanEnd {
    /// Always `scan_end`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Endpoints reported.
    pub endpoints: usize,
    /// Endpoints that could not be scanned.
    pub errors: usize,
    /// Endpoint verdicts per policy.
    pub verdicts: Vec<VerdictCounts>,
    /// Connections opened in all.
    pub connections: u64,
    /// Wall time of the whole scan.
    pub duration_ms: u64,
}

impl ScanEnd {
    /// The end line summing these reports.
    pub fn summarize(reports: &[EndpointReport], policies: &[Policy], duration_ms: u64) -> Self {
        let verdicts = policies
            .iter()
            .map(|p| {
                let mut c = VerdictCounts {
                    policy: p.name.clone(),
                    ..Default::default()
                };
                for v in reports
                    .iter()
                    .flat_map(|r| &r.verdicts)
                    .filter(|v| v.policy == p.name)
                {
                    match v.verdict {
                        EndpointVerdict::FipsOnly => c.fips_only += 1,
                        EndpointVerdict::FipsCapable => c.fips_capable += 1,
                        EndpointVerdict::NotFipsCapable => c.not_fips_capable += 1,
                    }
                }
                c
            })
            .collect();
        Self {
            kind: "scan_end",
            schema_version: SCHEMA_VERSION,
            endpoints: reports.len(),
            errors: reports.iter().filter(|r| r.status == Status::Error).count(),
            verdicts,
            connections: reports.iter().map(|r| u64::from(r.connections)).sum(),
            duration_ms,
        }
    }
}
