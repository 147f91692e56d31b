//! Elastic Common Schema: one document per endpoint, `event.kind: state`, the standard `server`,
//! `network`, `tls` and `x509` fields where ECS has them, and everything else under `fipsgate`.
use super::format::Settings;
use super::{EndpointReport, Status};
use crate::observation::CertificateInfo;
use fipsgate_cipher_db::tls::TlsVersion;
use serde_json::{json, Map, Value};

/// The ECS version the documents follow.
pub const ECS_VERSION: &str = "8.11.0";

/// ECS `tls.version_protocol` and `tls.version` of a protocol version.
fn version_fields(v: TlsVersion) -> (&'static str, &'static str) {
    match v {
        TlsVersion::Ssl2 => ("ssl", "2.0"),
        TlsVersion::Ssl3 => ("ssl", "3.0"),
        TlsVersion::Tls10 => ("tls", "1.0"),
        TlsVersion::Tls11 => ("tls", "1.1"),
        TlsVersion::Tls12 => ("tls", "1.2"),
        TlsVersion::Tls13 => ("tls", "1.3"),
    }
}

/// The `x509` object of a certificate.
fn x509(c: &CertificateInfo) -> Value {
    let mut x = json!({
        "subject": {"distinguished_name": c.subject},
        "issuer": {"distinguished_name": c.issuer},
        "not_before": c.not_before,
        "not_after": c.not_after,
        "public_key_algorithm": c.key_type,
        "public_key_size": c.key_bits,
        "signature_algorithm": c.signature_algorithm,
        "alternative_names": c.sans,
    });
    if let (Some(curve), Some(obj)) = (&c.curve, x.as_object_mut()) {
        obj.insert("public_key_curve".into(), json!(curve));
    }
    x
}

/// The ECS document of one endpoint (a list of one, like every JSON projection).
pub fn documents(r: &EndpointReport, settings: &Settings) -> Vec<Value> {
    let t = &r.target;
    let is_ip = t.ip.as_deref() == Some(t.host.as_str());
    let mut server = json!({"address": t.host, "port": t.port});
    if let Some(ip) = &t.ip {
        server["ip"] = json!(ip);
    }
    if !is_ip && t.host.parse::<std::net::IpAddr>().is_err() {
        server["domain"] = json!(t.host);
    }
    let protocol = r.service.split('+').next().unwrap_or("tls");
    let verdicts: Vec<String> = r
        .verdicts
        .iter()
        .map(|v| format!("{}: {}", v.policy, v.verdict.as_str()))
        .collect();
    let message = match &r.error {
        Some(e) => format!(
            "{} {}: not scanned: {}",
            super::format::address(t),
            r.service,
            e.message
        ),
        None => format!(
            "{} {}: {}",
            super::format::address(t),
            r.service,
            verdicts.join(", ")
        ),
    };
    let mut doc = json!({
        "@timestamp": r.scanned_at,
        "ecs": {"version": ECS_VERSION},
        "message": message,
        "event": {
            "kind": "state",
            "category": ["network", "configuration"],
            "type": ["info"],
            "module": "fipsgate",
            "dataset": "fipsgate.endpoint",
            "outcome": if r.status == Status::Ok { "success" } else { "failure" },
            "duration": r.duration_ms.saturating_mul(1_000_000),
        },
        "observer": {
            "vendor": "fipsgate",
            "product": "fipsgate",
            "type": "scanner",
            "version": env!("CARGO_PKG_VERSION"),
            "hostname": settings.scanner_host,
        },
        "server": server,
        "network": {"transport": "tcp", "protocol": protocol},
        "tags": r.verdicts.iter().map(|v| format!("{}:{}", v.policy, v.verdict.as_str())).collect::<Vec<_>>(),
    });
    if let Some(e) = &r.error {
        doc["error"] = json!({
            "type": e.kind.as_str(),
            "message": e.message,
        });
    }
    if let Some(tls) = &r.tls {
        let mut t = Map::new();
        if let Some(best) = tls.versions.iter().max_by_key(|v| v.version) {
            let (proto, version) = version_fields(best.version);
            t.insert("version_protocol".into(), json!(proto));
            t.insert("version".into(), json!(version));
            if let Some(first) = best.cipher_suites.first() {
                t.insert("cipher".into(), json!(first.iana));
            }
        }
        if let Some(leaf) = tls.certificates.first().and_then(|c| c.chain.first()) {
            t.insert(
                "server".into(),
                json!({
                    "subject": leaf.subject,
                    "issuer": leaf.issuer,
                    "not_before": leaf.not_before,
                    "not_after": leaf.not_after,
                    "hash": {"sha256": leaf.sha256.to_uppercase()},
                    "x509": x509(leaf),
                }),
            );
        }
        doc["tls"] = Value::Object(t);
    }
    let mut own = json!({
        "schema_version": r.schema_version,
        "service": r.service,
        "status": r.status,
        "verdicts": r.verdicts,
        "findings": r.notable_findings().collect::<Vec<_>>(),
        "connections": r.connections,
        "duration_ms": r.duration_ms,
    });
    if !r.negotiations.is_empty() {
        own["negotiations"] = json!(r.negotiations);
    }
    if let Some(tls) = &r.tls {
        own["tls"] = json!(tls);
    }
    if let Some(ssh) = &r.ssh {
        own["ssh"] = json!(ssh);
    }
    doc["fipsgate"] = own;
    vec![doc]
}
