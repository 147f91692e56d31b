//! One self-contained HTML dashboard for a fleet: the verdict counts per policy, the findings
//! that affect the most endpoints, a searchable endpoint table with one endpoint's detail, and
//! what changed since a baseline scan. The endpoints are embedded once as compact JSON (parts
//! repeated between endpoints stored once) and drawn by a small inline script a page at a time;
//! the summary and the top findings are plain HTML, so they print and read without the script.
use super::compact::Compactor;
use super::drift;
use super::format::{Render, Settings};
use super::{EndpointReport, ScanBegin, ScanEnd, Status};
use fipsgate_cipher_db::{EndpointVerdict, Verdict};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = include_str!("dashboard/dashboard.css");
const SCRIPT: &str = include_str!("dashboard/dashboard.js");

/// Endpoint verdicts in the order the page numbers them.
const VERDICTS: [EndpointVerdict; 3] = [
    EndpointVerdict::FipsOnly,
    EndpointVerdict::FipsCapable,
    EndpointVerdict::NotFipsCapable,
];

/// One (policy, item, verdict) other than approved, with the endpoints it affects.
struct TopFinding {
    policy: usize,
    item: String,
    verdict: Verdict,
    reason: String,
    source: String,
    endpoints: usize,
}

/// One endpoint as the page's script reads it.
struct Row {
    host: String,
    ip: Option<String>,
    port: u16,
    service: String,
    status: Status,
    error: Option<&'static str>,
    verdicts: Vec<Option<usize>>,
    findings: Vec<usize>,
    /// Packed by [`Compactor`].
    detail: String,
    quantum_safe: bool,
}

/// Renders the dashboard.
pub struct HtmlRender {
    settings: Settings,
    begin: Option<ScanBegin>,
    rows: Vec<Row>,
    compact: Compactor,
    findings: Vec<TopFinding>,
    finding_index: HashMap<(String, String, Verdict), usize>,
    /// Kept only to compare with a baseline.
    reports: Vec<EndpointReport>,
}

impl HtmlRender {
    /// A renderer.
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            begin: None,
            rows: Vec::new(),
            compact: Compactor::default(),
            findings: Vec::new(),
            finding_index: HashMap::new(),
            reports: Vec::new(),
        }
    }

    fn policy_index(&self, name: &str) -> Option<usize> {
        self.settings.policies.iter().position(|p| p.name == name)
    }

    /// The index of a top finding, made on first sight.
    fn finding(&mut self, f: &fipsgate_cipher_db::assess::Finding) -> Option<usize> {
        let policy = self.policy_index(&f.policy)?;
        let key = (f.policy.clone(), f.item.clone(), f.verdict);
        let next = self.findings.len();
        let n = *self.finding_index.entry(key).or_insert(next);
        if n == next {
            self.findings.push(TopFinding {
                policy,
                item: f.item.clone(),
                verdict: f.verdict,
                reason: f.reason.clone(),
                source: f.source.clone(),
                endpoints: 0,
            });
        }
        Some(n)
    }

    /// What the detail view shows of an endpoint, findings aside (the row holds those).
    fn detail(r: &EndpointReport) -> Value {
        let mut detail = json!({
            "error": r.error,
            "tls": r.tls,
            "ssh": r.ssh,
            "verdicts": r.verdicts,
            "negotiations": r.negotiations,
            "quantum_safe_kex": r.quantum_safe_kex,
            "connections": r.connections,
            "duration_ms": r.duration_ms,
            "scanned_at": r.scanned_at,
        });
        if let Value::Object(fields) = &mut detail {
            fields.retain(|_, v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()));
        }
        detail
    }
}

/// JSON for a `<script>` element: `</` cannot end it early.
fn script_json(text: &str) -> String {
    text.replace("</", "<\\/")
}

impl Render for HtmlRender {
    fn begin(&mut self, begin: &ScanBegin) -> String {
        self.begin = Some(begin.clone());
        String::new()
    }

    fn endpoint(&mut self, r: &EndpointReport) -> String {
        let mut verdicts = vec![None; self.settings.policies.len()];
        for v in &r.verdicts {
            if let Some(p) = self.policy_index(&v.policy) {
                verdicts[p] = VERDICTS.iter().position(|x| *x == v.verdict);
            }
        }
        let mut findings = BTreeSet::new();
        for f in r.notable_findings() {
            if let Some(n) = self.finding(f) {
                findings.insert(n);
            }
        }
        for &n in &findings {
            self.findings[n].endpoints += 1;
        }
        let detail = self.compact.pack(&Self::detail(r)).to_string();
        self.rows.push(Row {
            host: r.target.host.clone(),
            ip: r.target.ip.clone(),
            port: r.target.port,
            service: r.service.clone(),
            status: r.status,
            error: r.error.as_ref().map(|e| e.kind.as_str()),
            verdicts,
            findings: findings.into_iter().collect(),
            detail,
            quantum_safe: !r.quantum_safe_kex.is_empty(),
        });
        if self.settings.baseline.is_some() {
            self.reports.push(r.clone());
        }
        String::new()
    }

    fn end(&mut self, end: &ScanEnd) -> String {
        // Top findings by endpoints affected; rows refer to them by their new place.
        let mut order: Vec<usize> = (0..self.findings.len()).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (&self.findings[a], &self.findings[b]);
            y.endpoints
                .cmp(&x.endpoints)
                .then(x.policy.cmp(&y.policy))
                .then(y.verdict.cmp(&x.verdict))
                .then(x.item.cmp(&y.item))
        });
        let mut place = vec![0; order.len()];
        for (to, &from) in order.iter().enumerate() {
            place[from] = to;
        }
        for row in &mut self.rows {
            for n in &mut row.findings {
                *n = place[*n];
            }
            row.findings.sort_unstable();
        }
        let findings: Vec<&TopFinding> = order.iter().map(|&n| &self.findings[n]).collect();
        let mut page = String::with_capacity(1 << 16);
        self.head(&mut page, end);
        self.summary(&mut page, end);
        self.top_findings(&mut page, &findings);
        self.endpoint_section(&mut page);
        let diff = self.diff_section(&mut page);
        self.data(&mut page, &findings, diff);
        page.push_str("</body></html>\n");
        page
    }
}

impl HtmlRender {
    fn head(&self, page: &mut String, end: &ScanEnd) {
        let (version, started, policies) = match &self.begin {
            Some(b) => (
                b.tool_version.as_str(),
                b.started_at.as_str(),
                b.policies.join(", "),
            ),
            None => ("", "", String::new()),
        };
        let _ = write!(
            page,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width\">\
             <title>fipsgate report</title><style>{STYLE}</style></head><body>\
             <h1>fipsgate report</h1><p id=\"meta\">fipsgate {} scan started {}, policies: {}. \
             {} endpoints, {} not scanned, {} connections, {} ms.</p>\
             <noscript><p>The endpoint table and the detail view need JavaScript; the summary \
             and the top findings do not.</p></noscript>\
             <nav><a href=\"#summary\">Summary</a><a href=\"#findings\">Top findings</a>\
             <a href=\"#endpoints\">Endpoints</a>{}</nav>",
            escape(version),
            escape(started),
            escape(&policies),
            end.endpoints,
            end.errors,
            end.connections,
            end.duration_ms,
            if self.settings.baseline.is_some() {
                "<a href=\"#diff\">Changes</a>"
            } else {
                ""
            }
        );
    }

    fn summary(&self, page: &mut String, end: &ScanEnd) {
        page.push_str(
            "<section id=\"summary\"><h2>Summary</h2><table id=\"verdict-counts\"><thead><tr>\
             <th>policy</th><th>fips-only</th><th>fips-capable</th><th>not-fips-capable</th>\
             <th>not judged</th><th></th></tr></thead><tbody>",
        );
        let total = self.rows.len();
        for (p, policy) in self.settings.policies.iter().enumerate() {
            let mut counts = [0usize; 3];
            for row in &self.rows {
                if let Some(Some(v)) = row.verdicts.get(p) {
                    counts[*v] += 1;
                }
            }
            let none = total - counts.iter().sum::<usize>();
            let _ = write!(
                page,
                "<tr data-policy=\"{}\"><td>{}</td>",
                escape(&policy.name),
                escape(&policy.name)
            );
            let mut bar = String::from("<div class=\"bar\">");
            for (v, n) in counts.iter().enumerate() {
                let name = VERDICTS[v].as_str();
                let _ = write!(
                    page,
                    "<td data-verdict=\"{name}\" data-count=\"{n}\"><a href=\"#endpoints\" \
                     data-policy-index=\"{p}\" data-verdict-filter=\"{v}\">{n}</a></td>"
                );
                let _ = write!(
                    bar,
                    "<span class=\"b-{name}\" style=\"width:{:.2}%\" title=\"{name}: {n}\"></span>",
                    100.0 * *n as f64 / total.max(1) as f64
                );
            }
            let _ = write!(
                bar,
                "<span class=\"b-none\" style=\"width:{:.2}%\" title=\"not judged: {none}\"></span></div>",
                100.0 * none as f64 / total.max(1) as f64
            );
            let _ = write!(
                page,
                "<td data-verdict=\"none\" data-count=\"{none}\"><a href=\"#endpoints\" \
                 data-policy-index=\"{p}\" data-verdict-filter=\"none\">{none}</a></td><td>{bar}</td></tr>"
            );
        }
        page.push_str("</tbody></table><div class=\"counts\">");
        let mut services: BTreeMap<&str, usize> = BTreeMap::new();
        let mut errors: BTreeMap<String, usize> = BTreeMap::new();
        for row in &self.rows {
            *services.entry(&row.service).or_default() += 1;
            if row.status != Status::Ok {
                let kind = row.error.unwrap_or("unknown");
                *errors
                    .entry(format!("{} ({kind})", row.status.as_str()))
                    .or_default() += 1;
            }
        }
        let quantum_safe = self.rows.iter().filter(|r| r.quantum_safe).count();
        let scanned = self.rows.iter().filter(|r| r.status == Status::Ok).count();
        let _ = write!(
            page,
            "<table id=\"quantum-safe\"><tbody><tr><th>quantum-safe key exchange</th>\
             <td data-count=\"{quantum_safe}\">{quantum_safe} of {scanned} scanned</td></tr>\
             </tbody></table>"
        );
        count_table(page, "services", "service", &services);
        count_table(page, "errors", "not scanned", &errors);
        let _ = write!(
            page,
            "<p>Ports of ranges and lists: {} closed, {} filtered.</p></div></section>",
            end.closed, end.filtered
        );
    }

    fn top_findings(&self, page: &mut String, findings: &[&TopFinding]) {
        page.push_str(
            "<section id=\"findings\"><h2>Top findings</h2><p>Findings other than approved, \
             by the number of endpoints they affect. Click a row to list its endpoints.</p>\
             <table id=\"top-findings\"><thead><tr><th>endpoints</th><th>policy</th>\
             <th>verdict</th><th>item</th><th>reason</th><th>source</th></tr></thead><tbody>",
        );
        for (n, f) in findings.iter().enumerate() {
            let policy = escape(&self.settings.policies[f.policy].name);
            let item = escape(&f.item);
            let _ = write!(
                page,
                "<tr class=\"pick\" data-index=\"{n}\" data-policy=\"{policy}\" data-item=\"{item}\" \
                 data-verdict=\"{verdict}\" data-count=\"{count}\"><td>{count}</td>{cells}</tr>",
                verdict = f.verdict.as_str(),
                count = f.endpoints,
                cells = finding_cells(&policy, f.verdict, &item, &f.reason, &f.source)
            );
        }
        if findings.is_empty() {
            page.push_str("<tr><td colspan=\"6\">none: everything judged is approved</td></tr>");
        }
        page.push_str("</tbody></table></section>");
    }

    fn endpoint_section(&self, page: &mut String) {
        page.push_str(
            "<section id=\"endpoints\"><h2>Endpoints</h2><div class=\"controls\">\
             <input id=\"search\" type=\"search\" placeholder=\"host or address:port\" \
             aria-label=\"search\"><select id=\"f-service\" aria-label=\"service\"></select>\
             <select id=\"f-policy\" aria-label=\"policy\"></select>\
             <select id=\"f-verdict\" aria-label=\"verdict\"></select>\
             <select id=\"f-finding\" aria-label=\"finding\"></select>\
             <button id=\"f-clear\" type=\"button\">clear</button></div><p id=\"shown\"></p>\
             <table id=\"endpoint-table\"><thead><tr><th data-sort=\"host\">host</th>\
             <th data-sort=\"address\">address</th><th data-sort=\"service\">service</th>\
             <th data-sort=\"status\">status</th>",
        );
        for (p, policy) in self.settings.policies.iter().enumerate() {
            let _ = write!(
                page,
                "<th data-sort=\"verdict{p}\">{}</th>",
                escape(&policy.name)
            );
        }
        page.push_str(
            "<th data-sort=\"findings\">findings</th></tr></thead><tbody id=\"endpoint-rows\">\
             </tbody></table><button id=\"more\" type=\"button\" hidden>more</button>\
             <section id=\"detail\" hidden></section></section>",
        );
    }

    /// The diff view's summary and findings table, and its endpoint list as JSON.
    fn diff_section(&self, page: &mut String) -> Option<Value> {
        let baseline = self.settings.baseline.as_ref()?;
        let lines = drift::drift(baseline, &self.reports);
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for d in &lines {
            *counts.entry(d.category()).or_default() += 1;
        }
        let moved = drift::moved_findings(baseline, &self.reports);
        let _ = write!(
            page,
            "<section id=\"diff\"><h2>Changes since the baseline</h2><p>{} endpoints in the \
             baseline, {} now, judged by the same policies.</p><table id=\"diff-counts\"><tbody>",
            baseline.len(),
            self.reports.len()
        );
        for what in [
            "appeared", "vanished", "better", "worse", "mixed", "changed",
        ] {
            let n = counts.get(what).copied().unwrap_or(0);
            let _ = write!(
                page,
                "<tr data-change=\"{what}\" data-count=\"{n}\"><th>{}</th><td>{n}</td></tr>",
                match what {
                    "appeared" => "new endpoints",
                    "vanished" => "gone",
                    "better" => "verdict better",
                    "worse" => "verdict worse",
                    "mixed" => "better under one policy, worse under another",
                    _ => "verdicts the same, algorithms or certificates changed",
                }
            );
        }
        page.push_str(
            "</tbody></table><h3>Findings that appeared or were fixed</h3>\
             <p>On endpoints in both scans.</p><table id=\"diff-findings\"><thead><tr>\
             <th>appeared on</th><th>fixed on</th><th>policy</th><th>verdict</th><th>item</th>\
             <th>reason</th><th>source</th></tr></thead><tbody>",
        );
        for m in &moved {
            let (policy, item) = (escape(&m.policy), escape(&m.item));
            let _ = write!(
                page,
                "<tr data-policy=\"{policy}\" data-item=\"{item}\" data-verdict=\"{verdict}\" \
                 data-appeared=\"{appeared}\" data-fixed=\"{fixed}\"><td>{appeared}</td>\
                 <td>{fixed}</td>{cells}</tr>",
                verdict = m.verdict.as_str(),
                appeared = m.appeared,
                fixed = m.fixed,
                cells = finding_cells(&policy, m.verdict, &item, &m.reason, &m.source)
            );
        }
        if moved.is_empty() {
            page.push_str("<tr><td colspan=\"7\">none</td></tr>");
        }
        page.push_str(
            "</tbody></table><div class=\"controls\"><select id=\"d-change\" \
             aria-label=\"change\"><option value=\"\">every change</option>\
             <option value=\"appeared\">new</option><option value=\"vanished\">gone</option>\
             <option value=\"better\">better</option><option value=\"worse\">worse</option>\
             <option value=\"mixed\">mixed</option><option value=\"same\">verdicts the same\
             </option></select></div><p id=\"diff-shown\"></p><table id=\"diff-table\"><thead>\
             <tr><th>host</th><th>address</th><th>service</th><th>change</th><th>what changed\
             </th></tr></thead><tbody id=\"diff-rows\"></tbody></table>\
             <button id=\"diff-more\" type=\"button\" hidden>more</button></section>",
        );
        let endpoints: Vec<Value> = lines
            .iter()
            .map(|d| {
                let changes: Vec<Value> = d
                    .changes
                    .iter()
                    .map(|c| json!([c.facet, c.added, c.removed]))
                    .collect();
                json!([
                    d.change,
                    d.direction,
                    d.target.host,
                    d.target.ip,
                    d.target.port,
                    d.service,
                    changes
                ])
            })
            .collect();
        Some(json!({ "baseline": baseline.len(), "endpoints": endpoints }))
    }

    /// The embedded data and the script that draws it.
    fn data(&self, page: &mut String, findings: &[&TopFinding], diff: Option<Value>) {
        let policies: Vec<&str> = self
            .settings
            .policies
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        let verdicts: Vec<&str> = VERDICTS.iter().map(|v| v.as_str()).collect();
        let findings: Vec<Value> = findings
            .iter()
            .map(|f| {
                json!([
                    f.policy,
                    f.item,
                    f.verdict.as_str(),
                    f.reason,
                    f.source,
                    f.endpoints
                ])
            })
            .collect();
        let head = json!({
            "policies": policies,
            "verdicts": verdicts,
            "findings": findings,
            "diff": diff,
        })
        .to_string();
        page.push_str("<script type=\"application/json\" id=\"data\">");
        // The head object without its closing brace, then the parts and rows written directly.
        page.push_str(&script_json(&head[..head.len() - 1]));
        page.push_str(",\"endpoints\":[");
        for (n, row) in self.rows.iter().enumerate() {
            if n > 0 {
                page.push(',');
            }
            let head = json!([
                row.host,
                row.ip,
                row.port,
                row.service,
                row.status.as_str(),
                row.error,
                row.verdicts,
                row.findings,
            ])
            .to_string();
            page.push_str(&script_json(&head[..head.len() - 1]));
            page.push(',');
            page.push_str(&script_json(&row.detail));
            page.push(']');
        }
        page.push_str("],\"parts\":[");
        for (n, part) in self.compact.parts().iter().enumerate() {
            if n > 0 {
                page.push(',');
            }
            page.push_str(&script_json(part));
        }
        let _ = write!(
            page,
            "],\"shapes\":{}",
            script_json(&json!(self.compact.shapes()).to_string())
        );
        let _ = write!(page, "}}</script><script>{SCRIPT}</script>");
    }
}

/// The cells policy, verdict, item, reason and source of a finding's row (policy and item
/// already escaped, as the row's attributes use them too).
fn finding_cells(policy: &str, verdict: Verdict, item: &str, reason: &str, source: &str) -> String {
    let verdict = verdict.as_str();
    format!(
        "<td>{policy}</td><td class=\"{verdict}\">{verdict}</td><td><code>{item}</code></td>\
         <td>{}</td><td>{}</td>",
        escape(reason),
        escape(source)
    )
}

/// A small two-column table of counts.
fn count_table<K: AsRef<str>>(
    page: &mut String,
    id: &str,
    what: &str,
    counts: &BTreeMap<K, usize>,
) {
    let _ = write!(
        page,
        "<table id=\"{id}\"><thead><tr><th>{what}</th><th>endpoints</th></tr></thead><tbody>"
    );
    for (k, n) in counts {
        let k = escape(k.as_ref());
        let _ = write!(
            page,
            "<tr data-key=\"{k}\" data-count=\"{n}\"><td>{k}</td><td>{n}</td></tr>"
        );
    }
    if counts.is_empty() {
        page.push_str("<tr><td colspan=\"2\">none</td></tr>");
    }
    page.push_str("</tbody></table>");
}

#[cfg(test)]
mod tests {
    use super::{escape, script_json};

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(
            script_json("{\"a\":\"</script>\"}"),
            "{\"a\":\"<\\/script>\"}"
        );
    }
}
