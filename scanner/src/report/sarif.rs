//! SARIF 2.1.0 for code-scanning dashboards and CI: one run, one rule per policy, item and
//! verdict (its reason and NIST source as help), one result per finding other than approved on
//! each endpoint, located at the endpoint as a logical location. Endpoints that could not be
//! scanned are tool execution notifications. The log is written when the scan ends.
use super::format::{address, Render, Settings};
use super::{EndpointReport, ScanBegin, ScanEnd};
use fipsgate_cipher_db::assess::Finding;
use fipsgate_cipher_db::Verdict;
use serde_json::{json, Value};
use std::collections::HashMap;

/// The SARIF version written.
pub const SARIF_VERSION: &str = "2.1.0";
const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// `error` for what a FIPS peer cannot use, `warning` for what it may still use.
pub fn level(v: Verdict) -> &'static str {
    match v {
        Verdict::Disallowed | Verdict::NotApproved => "error",
        Verdict::Deprecated | Verdict::Unknown => "warning",
        Verdict::Approved => "none",
    }
}

/// The rule id of a finding: policy, verdict and item.
fn rule_id(f: &Finding) -> String {
    format!("{}/{}/{}", f.policy, f.verdict.as_str(), f.item)
}

fn rule(f: &Finding) -> Value {
    let document = fipsgate_cipher_db::source::find(&f.source)
        .map(|s| format!("{} ({})", s.id, s.document))
        .unwrap_or_else(|| f.source.clone());
    let kind = f.kind.map(|k| k.as_str()).unwrap_or("feature");
    json!({
        "id": rule_id(f),
        "name": format!("{} {} under {}", f.item, f.verdict.as_str(), f.policy),
        "shortDescription": {"text": format!("{} is {} under {}", f.item, f.verdict.as_str(), f.policy)},
        "fullDescription": {"text": f.reason},
        "help": {
            "text": format!("{} Source: {document}.", f.reason),
            "markdown": format!("{}\n\nSource: **{document}**.", f.reason),
        },
        "defaultConfiguration": {"level": level(f.verdict)},
        "properties": {
            "policy": f.policy,
            "item": f.item,
            "kind": kind,
            "verdict": f.verdict.as_str(),
            "source": f.source,
            "tags": ["fips", "cryptography", kind],
        },
    })
}

/// One logical location: the endpoint.
fn location(r: &EndpointReport) -> Value {
    let addr = address(&r.target);
    json!({"logicalLocations": [{
        "name": addr,
        "fullyQualifiedName": format!("{}://{addr}", r.service),
        "kind": "resource",
    }]})
}

/// Renders one SARIF log.
pub struct SarifRender {
    version: String,
    started: String,
    rules: Vec<Value>,
    rule_index: HashMap<String, usize>,
    results: Vec<Value>,
    notifications: Vec<Value>,
}

impl SarifRender {
    /// A renderer.
    pub fn new(_settings: Settings) -> Self {
        Self {
            version: String::new(),
            started: String::new(),
            rules: Vec::new(),
            rule_index: HashMap::new(),
            results: Vec::new(),
            notifications: Vec::new(),
        }
    }
}

impl Render for SarifRender {
    fn begin(&mut self, begin: &ScanBegin) -> String {
        self.version.clone_from(&begin.tool_version);
        self.started.clone_from(&begin.started_at);
        String::new()
    }

    fn endpoint(&mut self, r: &EndpointReport) -> String {
        let addr = address(&r.target);
        if let Some(e) = &r.error {
            self.notifications.push(json!({
                "level": "error",
                "message": {"text": format!("{} ({}) was not scanned: {}", addr, r.service, e.message)},
                "locations": [location(r)],
                "properties": {"status": r.status, "error_kind": e.kind.as_str()},
            }));
        }
        for f in r.notable_findings() {
            let id = rule_id(f);
            let index = match self.rule_index.get(&id) {
                Some(&n) => n,
                None => {
                    self.rules.push(rule(f));
                    self.rule_index.insert(id.clone(), self.rules.len() - 1);
                    self.rules.len() - 1
                }
            };
            let verdict = r
                .verdicts
                .iter()
                .find(|v| v.policy == f.policy)
                .map(|v| v.verdict.as_str());
            self.results.push(json!({
                "ruleId": id,
                "ruleIndex": index,
                "level": level(f.verdict),
                "message": {"text": format!(
                    "{addr} ({}) {}, {} under {}: {} [{}]",
                    r.service,
                    match f.kind {
                        Some(_) => format!("accepts {}", f.item),
                        None => format!("does not meet {}", f.item),
                    },
                    f.verdict.as_str(),
                    f.policy,
                    f.reason,
                    f.source
                )},
                "locations": [location(r)],
                "partialFingerprints": {
                    "fipsgateEndpointFinding/v1": format!("{}|{}|{}", r.service, addr, id),
                },
                "properties": {
                    "host": r.target.host,
                    "port": r.target.port,
                    "service": r.service,
                    "endpoint_verdict": verdict,
                    "scanned_at": r.scanned_at,
                },
            }));
        }
        String::new()
    }

    fn end(&mut self, end: &ScanEnd) -> String {
        let log = json!({
            "$schema": SCHEMA,
            "version": SARIF_VERSION,
            "runs": [{
                "tool": {"driver": {
                    "name": "fipsgate",
                    "semanticVersion": self.version,
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": std::mem::take(&mut self.rules),
                }},
                "invocations": [{
                    "executionSuccessful": end.errors == 0,
                    "startTimeUtc": self.started,
                    "toolExecutionNotifications": std::mem::take(&mut self.notifications),
                }],
                "results": std::mem::take(&mut self.results),
                "properties": {
                    "endpoints": end.endpoints,
                    "errors": end.errors,
                    "verdicts": end.verdicts,
                },
            }],
        });
        let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
        text.push('\n');
        text
    }
}
