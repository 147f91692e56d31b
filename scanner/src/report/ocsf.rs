//! OCSF 1.1 Compliance Finding (class 2003): one event per endpoint and policy, compliance
//! status Pass, Warning (allowed but not FIPS-only) or Fail (at or above `--fail-on`).
use super::format::{address, epoch_ms, Settings};
use super::EndpointReport;
use fipsgate_cipher_db::EndpointVerdict;
use serde_json::{json, Value};

/// The OCSF schema version of the events.
pub const OCSF_VERSION: &str = "1.1.0";
/// Compliance Finding.
pub const CLASS_UID: u32 = 2003;
/// Findings.
pub const CATEGORY_UID: u32 = 2;
/// Create.
const ACTIVITY_ID: u32 = 1;

/// OCSF `severity_id` and its caption.
fn severity(v: Option<EndpointVerdict>) -> (u32, &'static str) {
    match v {
        None => (0, "Unknown"),
        Some(EndpointVerdict::FipsOnly) => (1, "Informational"),
        Some(EndpointVerdict::FipsCapable) => (3, "Medium"),
        Some(EndpointVerdict::NotFipsCapable) => (4, "High"),
    }
}

/// The OCSF events of one endpoint: one per policy verdict, or one Unknown per policy of the
/// scan when the endpoint could not be scanned.
pub fn events(r: &EndpointReport, settings: &Settings) -> Vec<Value> {
    let time = epoch_ms(r);
    let addr = address(&r.target);
    let judged: Vec<(String, Option<EndpointVerdict>)> = if r.verdicts.is_empty() {
        settings
            .policies
            .iter()
            .map(|p| (p.name.clone(), None))
            .collect()
    } else {
        r.verdicts
            .iter()
            .map(|v| (v.policy.clone(), Some(v.verdict)))
            .collect()
    };
    judged
        .into_iter()
        .map(|(policy, verdict)| {
            let (status_id, status) = match verdict {
                None => (0, "Unknown"),
                Some(EndpointVerdict::FipsOnly) => (1, "Pass"),
                Some(v) if v >= settings.fail_on => (3, "Fail"),
                Some(_) => (2, "Warning"),
            };
            let findings: Vec<_> = r.notable_findings_of(&policy).collect();
            let mut requirements: Vec<&str> = findings.iter().map(|f| f.source.as_str()).collect();
            requirements.sort_unstable();
            requirements.dedup();
            let detail = match (verdict, &r.error) {
                (Some(v), _) => v.as_str().to_owned(),
                (None, Some(e)) => format!("not scanned: {}", e.message),
                (None, None) => "not judged".to_owned(),
            };
            let (severity_id, severity) = severity(verdict);
            json!({
                "activity_id": ACTIVITY_ID,
                "activity_name": "Create",
                "category_uid": CATEGORY_UID,
                "category_name": "Findings",
                "class_uid": CLASS_UID,
                "class_name": "Compliance Finding",
                "type_uid": CLASS_UID * 100 + ACTIVITY_ID,
                "type_name": "Compliance Finding: Create",
                "time": time,
                "severity_id": severity_id,
                "severity": severity,
                "message": format!("{addr} {} under {policy}: {detail}", r.service),
                "metadata": {
                    "version": OCSF_VERSION,
                    "product": {
                        "name": "fipsgate",
                        "vendor_name": "fipsgate",
                        "version": env!("CARGO_PKG_VERSION"),
                    },
                },
                "finding_info": {
                    "uid": format!("fipsgate:{policy}:{addr}"),
                    "title": format!("{policy}: {detail} at {addr}"),
                    "desc": findings.iter().map(|f| format!("{} {}: {}", f.verdict.as_str(), f.item, f.reason)).collect::<Vec<_>>().join("; "),
                    "created_time": time,
                    "types": ["FIPS cryptography"],
                },
                "compliance": {
                    "standards": [policy],
                    "control": format!("{policy} {}", r.service),
                    "requirements": requirements,
                    "status_id": status_id,
                    "status": status,
                    "status_detail": detail,
                },
                "resources": [{
                    "type": "Network Endpoint",
                    "uid": addr,
                    "name": r.target.host,
                    "data": {"service": r.service, "ip": r.target.ip, "port": r.target.port},
                }],
                "unmapped": {
                    "fipsgate": {
                        "verdict": verdict.map(EndpointVerdict::as_str),
                        "findings": findings,
                        "error": r.error,
                    },
                },
            })
        })
        .collect()
}
