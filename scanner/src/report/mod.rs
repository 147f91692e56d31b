//! The report model: one `endpoint` object per scanned address (the NDJSON contract of
//! docs/report.md), with observations and each policy's judgement.
use crate::observation::{SshObservation, TlsObservation};
use crate::probe::ProbeError;
use fipsgate_cipher_db::assess::Finding;
use fipsgate_cipher_db::negotiate::{self, SshNegotiation, TlsNegotiation};
use fipsgate_cipher_db::policy::Policy;
use fipsgate_cipher_db::{EndpointVerdict, Kind};
use line::{EndpointTag, ScanBeginTag, ScanEndTag};
use serde::{Deserialize, Serialize};

pub mod cbom;
pub mod cef;
pub mod compact;
pub mod drift;
pub mod ecs;
pub mod format;
pub mod hec;
pub mod html;
pub mod junit;
pub mod leef;
pub mod line;
pub mod ocsf;
pub mod prometheus;
pub mod sarif;
pub mod text;

/// Version of the report format; every NDJSON line carries it.
pub const SCHEMA_VERSION: u32 = 1;

/// Where an endpoint is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Target {
    /// The host as given.
    pub host: String,
    /// The address scanned (absent when the name did not resolve).
    pub ip: Option<String>,
    /// TCP port.
    pub port: u16,
}

/// Whether the endpoint could be scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Scanned.
    Ok,
    /// Not scanned; see `error`.
    Error,
    /// A port of a range, block or port list that refused the connection (`--all-ports`).
    Closed,
    /// A port of a range, block or port list that never answered the connection
    /// (`--all-ports`).
    Filtered,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 4] = [Self::Ok, Self::Error, Self::Closed, Self::Filtered];

    /// The report spelling, as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Closed => "closed",
            Self::Filtered => "filtered",
        }
    }
}

/// One policy's endpoint verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PolicyVerdict {
    /// Policy name.
    pub policy: String,
    /// fips-only, fips-capable or not-fips-capable.
    pub verdict: EndpointVerdict,
    /// Why the verdict may be incomplete: the items the probe could not decide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What a vendor profile would negotiate with this endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointReport {
    /// Always `endpoint`.
    #[serde(rename = "type")]
    pub kind: EndpointTag,
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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub negotiations: Vec<Negotiation>,
    /// The quantum-safe key exchanges the server accepts: ML-KEM groups and hybrids (TLS),
    /// ML-KEM and sntrup761 hybrid kex methods (SSH); empty when none, or when not scanned.
    #[serde(default)]
    pub quantum_safe_kex: Vec<String>,
    /// Connections opened.
    pub connections: u32,
    /// Wall time of the probe.
    pub duration_ms: u64,
    /// When the probe ended, RFC 3339 UTC.
    pub scanned_at: String,
}

impl EndpointReport {
    /// The findings other than approved (what reports list and count).
    pub fn notable_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.verdict != fipsgate_cipher_db::Verdict::Approved)
    }

    /// The findings other than approved under one policy.
    pub fn notable_findings_of<'a>(&'a self, policy: &'a str) -> impl Iterator<Item = &'a Finding> {
        self.notable_findings().filter(move |f| f.policy == policy)
    }

    /// A report with no observations or judgements yet.
    fn base(
        target: Target,
        service: &str,
        status: Status,
        connections: u32,
        duration_ms: u64,
    ) -> Self {
        Self {
            kind: EndpointTag,
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
            quantum_safe_kex: Vec::new(),
            connections,
            duration_ms,
            scanned_at: crate::time::now(),
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
        r.quantum_safe_kex = obs
            .groups
            .iter()
            .filter(|g| {
                fipsgate_cipher_db::tls::group_by_name(&g.name).is_some_and(|g| g.is_quantum_safe())
            })
            .map(|g| g.name.clone())
            .collect();
        for p in policies {
            if let Some(a) = p.assess_tls(&offer) {
                r.verdicts.push(PolicyVerdict {
                    policy: p.name.clone(),
                    verdict: a.verdict,
                    note: a.note,
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
        r.quantum_safe_kex = obs
            .kex
            .iter()
            .filter(|k| fipsgate_cipher_db::ssh::is_quantum_safe_kex(k))
            .cloned()
            .collect();
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
                    note: a.note,
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
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanBegin {
    /// Always `scan_begin`.
    #[serde(rename = "type")]
    pub kind: ScanBeginTag,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// fipsgate's version.
    pub tool_version: String,
    /// Policies judging the scan.
    pub policies: Vec<String>,
    /// Whether TLS servers were judged as citizen-facing (SP 800-52r2 3.1: TLS 1.0 and 1.1
    /// deprecated).
    #[serde(default)]
    pub citizen_facing: bool,
    /// The command line.
    pub arguments: Vec<String>,
    /// Start time, RFC 3339 UTC.
    pub started_at: String,
}

impl ScanBegin {
    /// A begin line for a scan starting now.
    pub fn now(policies: &[Policy], arguments: Vec<String>) -> Self {
        Self {
            kind: ScanBeginTag,
            schema_version: SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            policies: policies.iter().map(|p| p.name.clone()).collect(),
            citizen_facing: policies.iter().any(|p| p.citizen_facing),
            arguments,
            started_at: crate::time::now(),
        }
    }
}

/// Endpoint counts of one policy in [`ScanEnd`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanEnd {
    /// Always `scan_end`.
    #[serde(rename = "type")]
    pub kind: ScanEndTag,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Endpoints reported.
    pub endpoints: usize,
    /// Endpoints that could not be scanned.
    pub errors: usize,
    /// Ports of ranges, blocks and port lists that refused the connection, reported or not.
    #[serde(default)]
    pub closed: usize,
    /// Ports of ranges, blocks and port lists that never answered the connection, reported or
    /// not.
    #[serde(default)]
    pub filtered: usize,
    /// Endpoint verdicts per policy.
    pub verdicts: Vec<VerdictCounts>,
    /// Connections opened in all.
    pub connections: u64,
    /// Wall time of the whole scan.
    pub duration_ms: u64,
}

impl ScanEnd {
    /// An end line with nothing counted yet, for these policies.
    pub fn new(policies: &[Policy]) -> Self {
        Self {
            kind: ScanEndTag,
            schema_version: SCHEMA_VERSION,
            endpoints: 0,
            errors: 0,
            closed: 0,
            filtered: 0,
            verdicts: policies
                .iter()
                .map(|p| VerdictCounts {
                    policy: p.name.clone(),
                    ..Default::default()
                })
                .collect(),
            connections: 0,
            duration_ms: 0,
        }
    }

    /// Counts closed and filtered ports that were left out of the report, and the
    /// connections they cost.
    pub fn count_unlisted(&mut self, closed: usize, filtered: usize, connections: u32) {
        self.closed += closed;
        self.filtered += filtered;
        self.connections += u64::from(connections);
    }

    /// Counts one report.
    pub fn count(&mut self, report: &EndpointReport) {
        self.endpoints += 1;
        match report.status {
            Status::Ok => {}
            Status::Error => self.errors += 1,
            Status::Closed => self.closed += 1,
            Status::Filtered => self.filtered += 1,
        }
        self.connections += u64::from(report.connections);
        for v in &report.verdicts {
            if let Some(c) = self.verdicts.iter_mut().find(|c| c.policy == v.policy) {
                match v.verdict {
                    EndpointVerdict::FipsOnly => c.fips_only += 1,
                    EndpointVerdict::FipsCapable => c.fips_capable += 1,
                    EndpointVerdict::NotFipsCapable => c.not_fips_capable += 1,
                }
            }
        }
    }
}

/// Where the published schema of an NDJSON line lives.
pub const SCHEMA_ID: &str =
    "https://github.com/fipsgate/fipsgate/blob/main/docs/schema/report.schema.json";

/// The JSON Schema (draft 2020-12) of one NDJSON line: a `scan_begin`, an `endpoint` or a
/// `scan_end` object, generated from the types that write them.
pub fn json_schema() -> serde_json::Value {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let lines = [
        ("scan_begin", generator.subschema_for::<ScanBegin>()),
        ("endpoint", generator.subschema_for::<EndpointReport>()),
        ("scan_end", generator.subschema_for::<ScanEnd>()),
    ];
    let mut defs = generator.take_definitions(true);
    for (kind, schema) in &lines {
        let name = schema
            .get("$ref")
            .and_then(serde_json::Value::as_str)
            .and_then(|r| r.rsplit('/').next())
            .unwrap_or_default();
        // The line kind and the schema version are constants, which Rust's types do not say.
        if let Some(props) = defs
            .get_mut(name)
            .and_then(|d| d.get_mut("properties"))
            .and_then(serde_json::Value::as_object_mut)
        {
            props.insert("type".into(), serde_json::json!({"const": kind}));
            props.insert(
                "schema_version".into(),
                serde_json::json!({"const": SCHEMA_VERSION}),
            );
        }
    }
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "fipsgate NDJSON report line",
        "description": "One line of `fipsgate scan --format ndjson`: scan_begin, then one endpoint per scanned address, then scan_end.",
        "oneOf": lines.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>(),
        "$defs": defs,
    })
}

#[cfg(test)]
mod tests {
    use super::Status;
    use crate::probe::ErrorKind;

    #[test]
    fn status_and_error_kind_spellings_are_serdes() {
        for s in Status::ALL {
            assert_eq!(serde_json::to_value(s).ok(), Some(s.as_str().into()));
        }
        for k in ErrorKind::ALL {
            assert_eq!(serde_json::to_value(k).ok(), Some(k.as_str().into()));
        }
    }
}
