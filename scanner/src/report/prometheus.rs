//! One endpoint's report as Prometheus metrics, for `fipsgate exporter`'s `/probe` (the
//! blackbox_exporter pattern): whether the probe succeeded and what it cost, the verdict per
//! policy as one series set to 1, finding counts and (capped) findings, TLS versions, quantum-safe
//! key exchange, certificate expiry and the smallest key. Text exposition format 0.0.4, or
//! OpenMetrics 1.0 when the scraper asks for it.
use super::EndpointReport;
use fipsgate_cipher_db::tls::TlsVersion;
use fipsgate_cipher_db::Verdict;
use std::fmt::Write as _;

/// At most this many `fipsgate_finding` series per policy, so a server offering hundreds of
/// suites cannot blow up the series count; `fipsgate_findings_truncated` says when it bit.
pub const FINDING_SERIES_CAP: usize = 64;

/// Writes metric families in the exposition format or OpenMetrics.
pub struct Exposition {
    text: String,
    open_metrics: bool,
}

/// Escapes a label value (backslash, double quote, line feed).
fn label_value(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Exposition {
    /// An empty exposition; `open_metrics` picks OpenMetrics 1.0.
    pub fn new(open_metrics: bool) -> Self {
        Self {
            text: String::new(),
            open_metrics,
        }
    }

    /// The Content-Type header value of the format.
    pub fn content_type(&self) -> &'static str {
        if self.open_metrics {
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        } else {
            "text/plain; version=0.0.4; charset=utf-8"
        }
    }

    /// Starts a family: its HELP and TYPE lines.
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    /// One sample.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            let inner: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", label_value(v)))
                .collect();
            let _ = write!(self.text, "{{{}}}", inner.join(","));
        }
        let _ = writeln!(self.text, " {value}");
    }

    /// A counter family with one sample per label set: `NAME_total` samples (the family is
    /// `NAME` in OpenMetrics, `NAME_total` in the text format).
    pub fn counter(&mut self, name: &str, help: &str, samples: &[(Vec<(&str, &str)>, f64)]) {
        let total = format!("{name}_total");
        self.family(
            if self.open_metrics { name } else { &total },
            "counter",
            help,
        );
        for (labels, value) in samples {
            self.sample(&total, labels, *value);
        }
    }

    /// A gauge family with one sample per label set.
    pub fn gauge(&mut self, name: &str, help: &str, samples: &[(Vec<(&str, &str)>, f64)]) {
        self.family(name, "gauge", help);
        for (labels, value) in samples {
            self.sample(name, labels, *value);
        }
    }

    /// The finished text.
    pub fn finish(mut self) -> String {
        if self.open_metrics {
            self.text.push_str("# EOF\n");
        }
        self.text
    }
}

/// Everything `/probe` says of one scan.
pub struct Probe<'a> {
    /// The endpoint's report; None when the scan gave none.
    pub report: Option<&'a EndpointReport>,
    /// Why there is no usable report (a probe error kind), when there is none.
    pub error: Option<&'a str>,
    /// Wall time of the scan, in seconds.
    pub duration: f64,
    /// Seconds since the scan, when the answer comes from the cache.
    pub cache_age: Option<f64>,
}

impl Probe<'_> {
    /// Whether the endpoint was scanned.
    pub fn succeeded(&self) -> bool {
        self.report.is_some_and(|r| r.error.is_none())
    }

    /// The error kind of a failed scan: the report's, or why there is none.
    pub fn error_kind(&self) -> Option<&str> {
        match self.report.and_then(|r| r.error.as_ref()) {
            Some(e) => Some(e.kind.as_str()),
            None => self.error,
        }
    }
}

/// The `/probe` metrics of one scan.
pub fn probe_metrics(p: &Probe<'_>, out: &mut Exposition) {
    let ok = p.succeeded();
    out.gauge(
        "fipsgate_probe_success",
        "Whether the endpoint was scanned (1) or not (0).",
        &[(vec![], f64::from(u8::from(ok)))],
    );
    out.gauge(
        "fipsgate_probe_duration_seconds",
        "Wall time of the scan.",
        &[(vec![], p.duration)],
    );
    out.gauge(
        "fipsgate_probe_cache_age_seconds",
        "Age of the cached scan this answer comes from (0 for a fresh scan).",
        &[(vec![], p.cache_age.unwrap_or(0.0))],
    );
    let connections = p.report.map_or(0.0, |r| f64::from(r.connections));
    out.gauge(
        "fipsgate_probe_connections",
        "TCP connections the scan opened.",
        &[(vec![], connections)],
    );
    if let Some(kind) = p.error_kind() {
        out.gauge(
            "fipsgate_probe_error",
            "Why the scan failed: 1 for its error kind.",
            &[(vec![("kind", kind)], 1.0)],
        );
    }
    let Some(r) = p.report.filter(|_| ok) else {
        return;
    };
    verdict_metrics(r, out);
    observation_metrics(r, out);
}

fn verdict_metrics(r: &EndpointReport, out: &mut Exposition) {
    let verdicts: Vec<(Vec<(&str, &str)>, f64)> = r
        .verdicts
        .iter()
        .map(|v| {
            (
                vec![
                    ("policy", v.policy.as_str()),
                    ("verdict", v.verdict.as_str()),
                ],
                1.0,
            )
        })
        .collect();
    out.gauge(
        "fipsgate_endpoint_verdict",
        "The endpoint's verdict under each policy: one series, set to 1.",
        &verdicts,
    );
    let mut counts = Vec::new();
    let mut each = Vec::new();
    let mut truncated = Vec::new();
    for v in &r.verdicts {
        let policy = v.policy.as_str();
        let mine: Vec<_> = r.notable_findings_of(policy).collect();
        for verdict in Verdict::ALL.into_iter().filter(|v| *v != Verdict::Approved) {
            let n = mine.iter().filter(|f| f.verdict == verdict).count();
            counts.push((
                vec![("policy", policy), ("verdict", verdict.as_str())],
                n as f64,
            ));
        }
        for f in mine.iter().take(FINDING_SERIES_CAP) {
            each.push((
                vec![
                    ("policy", policy),
                    ("item", f.item.as_str()),
                    ("verdict", f.verdict.as_str()),
                ],
                1.0,
            ));
        }
        truncated.push((
            vec![("policy", policy)],
            f64::from(u8::from(mine.len() > FINDING_SERIES_CAP)),
        ));
    }
    out.gauge(
        "fipsgate_findings",
        "Findings per policy and verdict (approved items are not findings).",
        &counts,
    );
    out.gauge(
        "fipsgate_finding",
        "One series per finding other than approved, set to 1 (capped per policy).",
        &each,
    );
    out.gauge(
        "fipsgate_findings_truncated",
        "1 when a policy had more findings than fipsgate_finding lists.",
        &truncated,
    );
}

fn observation_metrics(r: &EndpointReport, out: &mut Exposition) {
    out.gauge(
        "fipsgate_quantum_safe_kex",
        "1 when the server accepts an ML-KEM group or hybrid (TLS) or a KEM hybrid kex (SSH).",
        &[(vec![], f64::from(u8::from(!r.quantum_safe_kex.is_empty())))],
    );
    let mut smallest: Option<u32> = None;
    let mut keep = |bits: u32| smallest = Some(smallest.map_or(bits, |s| s.min(bits)));
    if let Some(t) = &r.tls {
        let versions: Vec<(Vec<(&str, &str)>, f64)> = [
            TlsVersion::Ssl2,
            TlsVersion::Ssl3,
            TlsVersion::Tls10,
            TlsVersion::Tls11,
            TlsVersion::Tls12,
            TlsVersion::Tls13,
        ]
        .iter()
        .map(|v| {
            let on = t.versions.iter().any(|x| x.version == *v);
            (vec![("version", v.as_str())], f64::from(u8::from(on)))
        })
        .collect();
        out.gauge(
            "fipsgate_tls_version_supported",
            "1 for each TLS or SSL version the server accepts, 0 for the others.",
            &versions,
        );
        let mut expiry = Vec::new();
        for c in &t.certificates {
            if let Some(leaf) = c.chain.first() {
                keep(leaf.key_bits);
                let at = fipsgate_cipher_db::time::parse_rfc3339(&leaf.not_after).unwrap_or(0);
                expiry.push((vec![("fingerprint", leaf.sha256.as_str())], at as f64));
            }
        }
        out.gauge(
            "fipsgate_certificate_not_after_seconds",
            "Expiry of each leaf certificate the server presents, in Unix seconds.",
            &expiry,
        );
    }
    if let Some(s) = &r.ssh {
        for k in &s.host_keys {
            keep(k.bits);
        }
    }
    if let Some(bits) = smallest {
        out.gauge(
            "fipsgate_key_min_size",
            "The size in bits of the smallest certificate or host key.",
            &[(vec![], f64::from(bits))],
        );
    }
    let undetermined = r.tls.as_ref().map_or(0, |t| t.undetermined.len());
    out.gauge(
        "fipsgate_undetermined_items",
        "Items the probe could not decide (a verdict never rests on them).",
        &[(vec![], undetermined as f64)],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_open_metrics_ends_with_eof() {
        let mut e = Exposition::new(true);
        e.gauge("x", "help", &[(vec![("item", "a\"b\\c\nd")], 1.0)]);
        let text = e.finish();
        assert!(text.contains("x{item=\"a\\\"b\\\\c\\nd\"} 1\n"), "{text}");
        assert!(text.ends_with("# EOF\n"));
        let mut e = Exposition::new(false);
        e.counter("fipsgate_exporter_probes", "h", &[(vec![], 3.0)]);
        let text = e.finish();
        assert!(text.contains(
            "# TYPE fipsgate_exporter_probes_total counter\nfipsgate_exporter_probes_total 3\n"
        ));
        assert!(!text.contains("# EOF"));
    }
}
