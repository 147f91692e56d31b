//! One self-contained HTML page (no scripts, no external files): the scan's summary counts per
//! verdict, a bar chart per policy, and a table per endpoint. The page is written at the end, so
//! endpoints are kept as rendered sections until then.
use super::format::{address, Render, Settings};
use super::{EndpointReport, ScanBegin, ScanEnd, Status};
use fipsgate_cipher_db::{EndpointVerdict, Verdict};
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

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.2em .6em;\
text-align:left;vertical-align:top}th{background:#f3f3f3}.fips-only{color:#176b24}\
.fips-capable{color:#8a6100}.not-fips-capable,.error{color:#a4161a}.bar{display:flex;height:1.2em;\
width:30em;border:1px solid #999}.bar span{display:block;height:100%}.b-fips-only{background:#2e9e44}\
.b-fips-capable{background:#e0a526}.b-not-fips-capable{background:#c9302c}section{margin-top:2em}\
code{font-size:.95em}";

/// Renders the HTML page.
pub struct HtmlRender {
    title: String,
    sections: String,
}

impl HtmlRender {
    /// A renderer.
    pub fn new(_settings: Settings) -> Self {
        Self {
            title: String::new(),
            sections: String::new(),
        }
    }
}

fn verdict_cell(v: EndpointVerdict) -> String {
    format!("<span class=\"{0}\">{0}</span>", v.as_str())
}

fn list_rows(out: &mut String, rows: &[(&str, String)]) {
    for (name, value) in rows {
        let _ = write!(out, "<tr><th>{}</th><td>{value}</td></tr>", escape(name));
    }
}

impl Render for HtmlRender {
    fn begin(&mut self, begin: &ScanBegin) -> String {
        self.title = format!(
            "fipsgate {} scan started {}, policies: {}",
            begin.tool_version,
            begin.started_at,
            begin.policies.join(", ")
        );
        String::new()
    }

    fn endpoint(&mut self, r: &EndpointReport) -> String {
        let out = &mut self.sections;
        let _ = write!(
            out,
            "<section><h3>{} <small>{} ({})</small></h3><table>",
            escape(&address(&r.target)),
            escape(&r.target.host),
            escape(&r.service)
        );
        let mut rows: Vec<(&str, String)> = Vec::new();
        if let (Status::Error | Status::Closed | Status::Filtered, Some(e)) = (r.status, &r.error) {
            rows.push((
                "error",
                format!("<span class=\"error\">{}</span>", escape(&e.message)),
            ));
        }
        for v in &r.verdicts {
            rows.push((v.policy.as_str(), verdict_cell(v.verdict)));
        }
        if let Some(tls) = &r.tls {
            for v in &tls.versions {
                let suites: Vec<String> = v
                    .cipher_suites
                    .iter()
                    .map(|s| format!("<code>{}</code>", escape(&s.iana)))
                    .collect();
                rows.push((v.version.display_name(), suites.join("<br>")));
            }
            let groups: Vec<String> = tls.groups.iter().map(|g| escape(&g.name)).collect();
            rows.push(("groups", groups.join(", ")));
            for c in &tls.certificates {
                if let Some(leaf) = c.chain.first() {
                    rows.push((
                        "certificate",
                        format!(
                            "{} {} bits, {}, expires {}",
                            escape(&leaf.key_type),
                            leaf.key_bits,
                            escape(&leaf.subject),
                            escape(&leaf.not_after)
                        ),
                    ));
                }
            }
        }
        if let Some(ssh) = &r.ssh {
            rows.push(("banner", escape(&ssh.banner)));
            rows.push(("kex", escape(&ssh.kex.join(", "))));
            rows.push(("host keys", escape(&ssh.host_key_algorithms.join(", "))));
            rows.push(("ciphers", escape(&ssh.ciphers_server_to_client.join(", "))));
            rows.push(("MACs", escape(&ssh.macs_server_to_client.join(", "))));
        }
        list_rows(out, &rows);
        out.push_str("</table>");
        let notable: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.verdict != Verdict::Approved)
            .collect();
        if !notable.is_empty() {
            out.push_str(
                "<table><tr><th>policy</th><th>verdict</th><th>item</th><th>reason</th>\
                 <th>source</th></tr>",
            );
            for f in notable {
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                    escape(&f.policy),
                    escape(f.verdict.as_str()),
                    escape(&f.item),
                    escape(&f.reason),
                    escape(&f.source)
                );
            }
            out.push_str("</table>");
        }
        out.push_str("</section>\n");
        String::new()
    }

    fn end(&mut self, end: &ScanEnd) -> String {
        let mut page = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>fipsgate report</title><style>{STYLE}</style></head><body>\
             <h1>fipsgate report</h1><p>{}</p><p>{} endpoints, {} not scanned, {} connections, \
             {} ms.</p><h2>Summary</h2><table><tr><th>policy</th><th>fips-only</th>\
             <th>fips-capable</th><th>not-fips-capable</th><th></th></tr>",
            escape(&self.title),
            end.endpoints,
            end.errors,
            end.connections,
            end.duration_ms
        );
        for c in &end.verdicts {
            let total = (c.fips_only + c.fips_capable + c.not_fips_capable).max(1) as f64;
            let mut bar = String::from("<div class=\"bar\">");
            for (class, n) in [
                ("fips-only", c.fips_only),
                ("fips-capable", c.fips_capable),
                ("not-fips-capable", c.not_fips_capable),
            ] {
                let _ = write!(
                    bar,
                    "<span class=\"b-{class}\" style=\"width:{:.1}%\" title=\"{class}: {n}\"></span>",
                    100.0 * n as f64 / total
                );
            }
            bar.push_str("</div>");
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{bar}</td></tr>",
                escape(&c.policy),
                c.fips_only,
                c.fips_capable,
                c.not_fips_capable
            );
        }
        page.push_str("</table><h2>Endpoints</h2>\n");
        page.push_str(&std::mem::take(&mut self.sections));
        page.push_str("</body></html>\n");
        page
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
