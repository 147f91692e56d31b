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
