//! JUnit XML for CI servers: one testsuite per policy, one testcase per endpoint. A testcase
//! fails when the endpoint's verdict is at or above `--fail-on` (its `<failure>` lists the
//! findings other than approved, with reasons and sources), and is an `<error>` when the
//! endpoint could not be scanned. Written when the scan ends.
use super::format::{address, Render, Settings};
use super::html::escape;
use super::{EndpointReport, ScanBegin, ScanEnd};
use std::fmt::Write as _;

/// One policy's testsuite, built as endpoints arrive.
#[derive(Default)]
struct Suite {
    cases: String,
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    millis: u64,
}

/// Renders the JUnit XML document.
pub struct JunitRender {
    settings: Settings,
    started: String,
    suites: Vec<Suite>,
}

impl JunitRender {
    /// A renderer.
    pub fn new(settings: Settings) -> Self {
        let suites = settings.policies.iter().map(|_| Suite::default()).collect();
        Self {
            settings,
            started: String::new(),
            suites,
        }
    }
}

/// Text for XML 1.0 content and attributes: markup escaped, characters XML cannot carry dropped.
fn xml(s: &str) -> String {
    let kept: String = s
        .chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r') || !c.is_control())
        .collect();
    escape(&kept)
}

fn seconds(millis: u64) -> String {
    format!("{}.{:03}", millis / 1000, millis % 1000)
}

impl Render for JunitRender {
    fn begin(&mut self, begin: &ScanBegin) -> String {
        self.started.clone_from(&begin.started_at);
        String::new()
    }

    fn endpoint(&mut self, r: &EndpointReport) -> String {
        let name = xml(&format!("{} ({})", address(&r.target), r.service));
        for (policy, suite) in self.settings.policies.iter().zip(&mut self.suites) {
            suite.tests += 1;
            suite.millis += r.duration_ms;
            let _ = writeln!(
                suite.cases,
                "    <testcase name=\"{name}\" classname=\"fipsgate.{}\" time=\"{}\">",
                xml(&policy.name),
                seconds(r.duration_ms)
            );
            let verdict = r.verdicts.iter().find(|v| v.policy == policy.name);
            match (&r.error, verdict) {
                (Some(e), _) => {
                    suite.errors += 1;
                    let _ = writeln!(
                        suite.cases,
                        "      <error message=\"not scanned: {}\" type=\"{}\"/>",
                        xml(&e.message),
                        e.kind.as_str()
                    );
                }
                (None, Some(v)) if v.verdict >= self.settings.fail_on => {
                    suite.failures += 1;
                    let findings: Vec<String> = r
                        .notable_findings_of(&policy.name)
                        .map(|f| {
                            format!(
                                "{} {}: {} [{}]",
                                f.verdict.as_str(),
                                f.item,
                                f.reason,
                                f.source
                            )
                        })
                        .collect();
                    let _ = writeln!(
                        suite.cases,
                        "      <failure message=\"{} under {}\" type=\"{}\">{}</failure>",
                        v.verdict.as_str(),
                        xml(&policy.name),
                        v.verdict.as_str(),
                        xml(&findings.join("\n"))
                    );
                }
                (None, Some(v)) => {
                    let notes: Vec<String> = r
                        .notable_findings_of(&policy.name)
                        .map(|f| format!("{} {}: {}", f.verdict.as_str(), f.item, f.reason))
                        .collect();
                    let _ = writeln!(
                        suite.cases,
                        "      <system-out>{} under {}{}{}</system-out>",
                        v.verdict.as_str(),
                        xml(&policy.name),
                        if notes.is_empty() { "" } else { "\n" },
                        xml(&notes.join("\n"))
                    );
                }
                (None, None) => {
                    suite.skipped += 1;
                    let _ = writeln!(
                        suite.cases,
                        "      <skipped message=\"{} does not judge {} endpoints\"/>",
                        xml(&policy.name),
                        xml(&r.service)
                    );
                }
            }
            suite.cases.push_str("    </testcase>\n");
        }
        String::new()
    }

    fn end(&mut self, end: &ScanEnd) -> String {
        let total = |f: fn(&Suite) -> usize| self.suites.iter().map(f).sum::<usize>();
        let mut out = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"fipsgate\" \
             tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{}\">\n",
            total(|s| s.tests),
            total(|s| s.failures),
            total(|s| s.errors),
            seconds(end.duration_ms)
        );
        for (policy, suite) in self.settings.policies.iter().zip(&self.suites) {
            let _ = write!(
                out,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" \
                 skipped=\"{}\" time=\"{}\" timestamp=\"{}\">\n{}  </testsuite>\n",
                xml(&policy.name),
                suite.tests,
                suite.failures,
                suite.errors,
                suite.skipped,
                seconds(suite.millis),
                xml(self.started.trim_end_matches('Z')),
                suite.cases
            );
        }
        out.push_str("</testsuites>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::xml;

    #[test]
    fn text_is_escaped_and_stripped_of_what_xml_cannot_carry() {
        assert_eq!(
            xml("a<b & \"c\"\u{1}\u{7}d\n"),
            "a&lt;b &amp; &quot;c&quot;d\n"
        );
    }
}
