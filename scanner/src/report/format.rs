//! Report formats: the canonical NDJSON and its projections, each a renderer that turns the
//! scan's begin line, its endpoints (as they stream in) and its end line into text.
use super::{
    cbom, cef, ecs, hec, html, junit, leef, ocsf, sarif, text, EndpointReport, ScanBegin, ScanEnd,
    Target,
};
use fipsgate_cipher_db::policy::Policy;
use fipsgate_cipher_db::{EndpointVerdict, Verdict};
use serde::Serialize;

/// Every report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One block per endpoint for people.
    Text,
    /// The canonical JSON Lines (docs/report.md).
    Ndjson,
    /// Elastic Common Schema documents, one per endpoint.
    Ecs,
    /// OCSF Compliance Finding events, one per endpoint and policy.
    Ocsf,
    /// Splunk HTTP Event Collector envelopes around the canonical lines.
    SplunkHec,
    /// ArcSight CEF, one line per finding and per endpoint verdict.
    Cef,
    /// QRadar LEEF 1.0, one line per finding and per endpoint verdict.
    Leef,
    /// One self-contained HTML dashboard.
    Html,
    /// SARIF 2.1.0: a rule per policy, item and verdict, a result per finding.
    Sarif,
    /// JUnit XML: a testsuite per policy, a testcase per endpoint.
    Junit,
    /// CycloneDX 1.6 Cryptography Bill of Materials.
    Cbom,
}

impl Format {
    /// Whether every line of the output is one event a SIEM can take on its own (what syslog
    /// and HTTP delivery send); text and HTML are for people, SARIF and JUnit whole documents.
    pub fn is_events(self) -> bool {
        !matches!(
            self,
            Self::Text | Self::Html | Self::Sarif | Self::Junit | Self::Cbom
        )
    }
}

/// What renderers need besides the reports.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The policies judging the scan (the text table's verdict column is the first one's).
    pub policies: Vec<Policy>,
    /// ANSI colours in text.
    pub color: bool,
    /// Verdicts at or above this fail (`--fail-on`): OCSF status Fail, CEF/LEEF severity.
    pub fail_on: EndpointVerdict,
    /// Name of the machine that scanned (HEC `host`, ECS `observer.hostname`).
    pub scanner_host: String,
    /// An earlier scan, judged by the same policies, for the HTML report's diff view.
    pub baseline: Option<std::sync::Arc<Vec<super::EndpointReport>>>,
}

/// Turns a scan into text, one piece at a time.
pub trait Render: Send {
    /// Text before the first endpoint.
    fn begin(&mut self, begin: &ScanBegin) -> String;
    /// Text of one endpoint.
    fn endpoint(&mut self, report: &EndpointReport) -> String;
    /// Text after the last endpoint.
    fn end(&mut self, end: &ScanEnd) -> String;
}

/// The renderer of a format.
pub fn renderer(format: Format, settings: Settings) -> Box<dyn Render> {
    match format {
        Format::Text => Box::new(text::TextRender::new(settings)),
        Format::Ndjson => Box::new(Ndjson),
        Format::Ecs => Box::new(JsonEvents(ecs::documents, settings)),
        Format::Ocsf => Box::new(JsonEvents(ocsf::events, settings)),
        Format::SplunkHec => Box::new(hec::HecRender::new(settings)),
        Format::Cef => Box::new(FlatRender(cef::line)),
        Format::Leef => Box::new(FlatRender(leef::line)),
        Format::Html => Box::new(html::HtmlRender::new(settings)),
        Format::Sarif => Box::new(sarif::SarifRender::new(settings)),
        Format::Junit => Box::new(junit::JunitRender::new(settings)),
        Format::Cbom => Box::new(cbom::CbomRender::new(settings)),
    }
}

/// One JSON value and a newline.
pub(crate) fn json_line<T: Serialize>(value: &T) -> String {
    let mut line = serde_json::to_string(value).unwrap_or_else(|e| {
        serde_json::json!({"type": "render_error", "message": e.to_string()}).to_string()
    });
    line.push('\n');
    line
}

/// The canonical NDJSON.
struct Ndjson;

impl Render for Ndjson {
    fn begin(&mut self, begin: &ScanBegin) -> String {
        json_line(begin)
    }
    fn endpoint(&mut self, report: &EndpointReport) -> String {
        json_line(report)
    }
    fn end(&mut self, end: &ScanEnd) -> String {
        json_line(end)
    }
}

/// JSON lines made from each endpoint, nothing before or after (ECS, OCSF).
struct JsonEvents(
    fn(&EndpointReport, &Settings) -> Vec<serde_json::Value>,
    Settings,
);

impl Render for JsonEvents {
    fn begin(&mut self, _: &ScanBegin) -> String {
        String::new()
    }
    fn endpoint(&mut self, report: &EndpointReport) -> String {
        (self.0)(report, &self.1).iter().map(json_line).collect()
    }
    fn end(&mut self, _: &ScanEnd) -> String {
        String::new()
    }
}

/// One line per flat event of each endpoint, nothing before or after (CEF, LEEF).
struct FlatRender(fn(&FlatEvent, &EndpointReport) -> String);

impl Render for FlatRender {
    fn begin(&mut self, _: &ScanBegin) -> String {
        String::new()
    }
    fn endpoint(&mut self, report: &EndpointReport) -> String {
        flat_events(report)
            .iter()
            .map(|e| (self.0)(e, report))
            .collect()
    }
    fn end(&mut self, _: &ScanEnd) -> String {
        String::new()
    }
}

/// `ip:port`, with brackets around IPv6 addresses (the host when the name did not resolve).
pub(crate) fn address(target: &Target) -> String {
    let ip = target.ip.as_deref().unwrap_or(&target.host);
    if ip.contains(':') {
        format!("[{ip}]:{}", target.port)
    } else {
        format!("{ip}:{}", target.port)
    }
}

/// Severity 0–10 of an algorithm verdict (CEF, LEEF).
pub(crate) fn verdict_severity(v: Verdict) -> u8 {
    match v {
        Verdict::Approved => 0,
        Verdict::Deprecated => 3,
        Verdict::Unknown => 5,
        Verdict::NotApproved => 7,
        Verdict::Disallowed => 9,
    }
}

/// Severity 0–10 of an endpoint verdict (CEF, LEEF).
pub(crate) fn endpoint_severity(v: EndpointVerdict) -> u8 {
    match v {
        EndpointVerdict::FipsOnly => 0,
        EndpointVerdict::FipsCapable => 5,
        EndpointVerdict::NotFipsCapable => 8,
    }
}

/// The milliseconds since the epoch of a report's `scanned_at`.
pub(crate) fn epoch_ms(report: &EndpointReport) -> i64 {
    crate::time::parse_rfc3339(&report.scanned_at).map_or_else(crate::time::now_ms, |s| s * 1000)
}

/// One line of CEF or LEEF: what both say about a scan, before their own syntax.
pub(crate) struct FlatEvent {
    /// Stable event class: `finding-not-approved`, `endpoint-fips-capable`, `endpoint-error` …
    pub class: String,
    /// Human title.
    pub name: String,
    /// 0–10.
    pub severity: u8,
    /// Key/value pairs beyond the endpoint's own.
    pub fields: Vec<(&'static str, String)>,
}

/// The CEF/LEEF events of an endpoint: its error, or per policy its verdict and each finding
/// that is not approved.
pub(crate) fn flat_events(report: &EndpointReport) -> Vec<FlatEvent> {
    let mut events = Vec::new();
    if let Some(e) = &report.error {
        let kind = e.kind.as_str().to_owned();
        events.push(FlatEvent {
            class: "endpoint-error".into(),
            name: format!("{} could not be scanned", address(&report.target)),
            severity: 5,
            fields: vec![("error", kind), ("msg", e.message.clone())],
        });
    }
    for v in &report.verdicts {
        events.push(FlatEvent {
            class: format!("endpoint-{}", v.verdict.as_str()),
            name: format!(
                "{} is {} under {}",
                address(&report.target),
                v.verdict.as_str(),
                v.policy
            ),
            severity: endpoint_severity(v.verdict),
            fields: vec![
                ("policy", v.policy.clone()),
                ("verdict", v.verdict.as_str().to_owned()),
            ],
        });
    }
    for f in report.notable_findings() {
        let mut fields = vec![
            ("policy", f.policy.clone()),
            ("item", f.item.clone()),
            ("verdict", f.verdict.as_str().to_owned()),
            ("reason", f.reason.clone()),
            ("source", f.source.clone()),
        ];
        if let Some(k) = f.kind {
            fields.push(("kind", k.as_str().to_owned()));
        }
        events.push(FlatEvent {
            class: format!("finding-{}", f.verdict.as_str()),
            name: format!("{} {}", f.verdict.as_str(), f.item),
            severity: verdict_severity(f.verdict),
            fields,
        });
    }
    events
}
