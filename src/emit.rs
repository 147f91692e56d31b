//! Where a scan's report goes as it streams: the chosen format to standard output or `-o`, the
//! SIEM deliveries, and the counts that decide the exit code.
use crate::cli::{ColorWhen, FailOn, JudgeArgs, ScanFormat};
use crate::exit;
use fipsgate_cipher_db::policy::Policy;
use fipsgate_cipher_db::EndpointVerdict;
use fipsgate_scanner::deliver::{self, Delivery, Event};
use fipsgate_scanner::report::format::{self, Format, Render, Settings};
use fipsgate_scanner::report::{EndpointReport, ScanBegin, ScanEnd, Status};
use std::fs::{File, OpenOptions};
use std::io::{self, IsTerminal, Write};
use std::time::Duration;

/// How long the end of a scan waits for slow receivers.
const DELIVERY_GRACE: Duration = Duration::from_secs(30);

/// The report format of the command line.
fn format_of(f: ScanFormat) -> Format {
    match f {
        ScanFormat::Text => Format::Text,
        ScanFormat::Ndjson => Format::Ndjson,
        ScanFormat::Ecs => Format::Ecs,
        ScanFormat::Ocsf => Format::Ocsf,
        ScanFormat::SplunkHec => Format::SplunkHec,
        ScanFormat::Cef => Format::Cef,
        ScanFormat::Leef => Format::Leef,
        ScanFormat::Html => Format::Html,
        ScanFormat::Sarif => Format::Sarif,
        ScanFormat::Junit => Format::Junit,
        ScanFormat::Cbom => Format::Cbom,
    }
}

/// Checks the delivery options before any connection: the URLs, headers and CA file.
pub fn destinations(judge: &JudgeArgs) -> Result<Vec<deliver::Destination>, String> {
    let d = &judge.deliver;
    let mut out = Vec::new();
    for url in &d.syslog {
        match deliver::parse_destination(url)? {
            s @ deliver::Destination::Syslog(_) => out.push(s),
            deliver::Destination::Http(_) => {
                return Err(format!("--syslog {url:?}: expected udp:// or tcp://"))
            }
        }
    }
    if d.http_post.is_empty() && (!d.http_header.is_empty() || d.http_ca.is_some()) {
        return Err("--http-header and --http-ca need --http-post".into());
    }
    for url in &d.http_post {
        let deliver::Destination::Http(mut t) = deliver::parse_destination(url)? else {
            return Err(format!("--http-post {url:?}: expected http:// or https://"));
        };
        for h in &d.http_header {
            t.add_header(h)?;
        }
        if judge.format == ScanFormat::SplunkHec {
            t.content_type = "application/json".into();
        }
        if let Some(ca) = &d.http_ca {
            std::fs::metadata(ca).map_err(|e| format!("--http-ca {ca}: {e}"))?;
            t.ca_file = Some(ca.clone());
        }
        out.push(deliver::Destination::Http(t));
    }
    Ok(out)
}

/// Cuts a last line left unfinished by a killed scan, so appended lines start clean.
fn drop_partial_line(file: &File, path: &str) -> Result<(), String> {
    let text = std::fs::read(path).map_err(|e| format!("-o {path}: {e}"))?;
    let complete = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    if complete < text.len() {
        file.set_len(complete as u64)
            .map_err(|e| format!("-o {path}: {e}"))?;
    }
    Ok(())
}

/// Standard output or a file.
enum Sink {
    Stdout(io::Stdout),
    File(io::BufWriter<File>, String),
}

/// Streams one scan's report.
pub struct Emitter {
    render: Box<dyn Render>,
    /// Renders the events for deliveries when the main format is not made of events.
    events: Option<Box<dyn Render>>,
    sink: Sink,
    write_error: Option<String>,
    deliveries: Vec<Delivery>,
    end: ScanEnd,
    threshold: EndpointVerdict,
    failing: bool,
}

impl Emitter {
    /// An emitter for `judge`; `append` opens the `-o` file for appending (`--resume`).
    /// Deliveries start on the current tokio runtime.
    pub fn new(
        judge: &JudgeArgs,
        policies: &[Policy],
        destinations: Vec<deliver::Destination>,
        timeout: Duration,
        append: bool,
    ) -> Result<Self, String> {
        let threshold = match judge.fail_on {
            FailOn::FipsCapable => EndpointVerdict::FipsCapable,
            FailOn::NotFipsCapable => EndpointVerdict::NotFipsCapable,
        };
        let sink = match &judge.output {
            Some(path) => {
                let file = OpenOptions::new()
                    .create(true)
                    .write(true)
                    .append(append)
                    .truncate(!append)
                    .open(path)
                    .map_err(|e| format!("-o {path}: {e}"))?;
                if append {
                    drop_partial_line(&file, path)?;
                }
                Sink::File(io::BufWriter::new(file), path.clone())
            }
            None => Sink::Stdout(io::stdout()),
        };
        let color = match judge.color {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                matches!(sink, Sink::Stdout(_))
                    && io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none()
            }
        };
        let baseline = match (&judge.baseline, judge.format) {
            (None, _) => None,
            (Some(path), ScanFormat::Html) => Some(std::sync::Arc::new(crate::saved::read_judged(
                path, policies,
            )?)),
            (Some(_), _) => return Err("--baseline needs --format html".to_owned()),
        };
        let settings = Settings {
            policies: policies.to_vec(),
            color,
            fail_on: threshold,
            scanner_host: deliver::syslog::hostname(),
            baseline,
        };
        let fmt = format_of(judge.format);
        let events = (!fmt.is_events() && !destinations.is_empty())
            .then(|| format::renderer(Format::Ndjson, settings.clone()));
        Ok(Self {
            render: format::renderer(fmt, settings),
            events,
            sink,
            write_error: None,
            deliveries: destinations
                .into_iter()
                .map(|d| Delivery::start(d, timeout))
                .collect(),
            end: ScanEnd::new(policies),
            threshold,
            failing: false,
        })
    }

    fn write(&mut self, text: &str) {
        if text.is_empty() || self.write_error.is_some() {
            return;
        }
        let result = match &mut self.sink {
            Sink::Stdout(out) => {
                let mut out = out.lock();
                match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                    other => other,
                }
            }
            // Whole lines reach the file as they come, so a scan that is killed leaves a
            // report that --resume can continue.
            Sink::File(out, _) => out.write_all(text.as_bytes()).and_then(|()| out.flush()),
        };
        if let Err(e) = result {
            self.write_error = Some(match &self.sink {
                Sink::File(_, path) => format!("-o {path}: {e}"),
                Sink::Stdout(_) => format!("standard output: {e}"),
            });
        }
    }

    fn deliver(&mut self, text: &str, severity: u8, msgid: &'static str) {
        for line in text.lines().filter(|l| !l.is_empty()) {
            for d in &mut self.deliveries {
                d.send(Event {
                    severity,
                    msgid,
                    line: line.to_owned(),
                });
            }
        }
    }

    /// The scan's first line.
    pub fn begin(&mut self, begin: &ScanBegin) {
        let text = self.render.begin(begin);
        self.write(&text);
        if !self.deliveries.is_empty() {
            let events = match &mut self.events {
                Some(r) => r.begin(begin),
                None => text,
            };
            self.deliver(&events, 6, "scan");
        }
    }

    /// Counts closed and filtered ports that the scan left out of the report.
    pub fn unlisted(&mut self, closed: usize, filtered: usize, connections: u32) {
        self.end.count_unlisted(closed, filtered, connections);
    }

    /// One endpoint.
    pub fn endpoint(&mut self, report: &EndpointReport) {
        self.end.count(report);
        let worst = report.verdicts.iter().map(|v| v.verdict).max();
        self.failing |= worst.is_some_and(|v| v >= self.threshold);
        let text = self.render.endpoint(report);
        self.write(&text);
        if !self.deliveries.is_empty() {
            let severity = match (report.status, worst) {
                (Status::Error, _) => 3,
                (_, Some(EndpointVerdict::NotFipsCapable)) => 4,
                (_, Some(EndpointVerdict::FipsCapable)) => 5,
                _ => 6,
            };
            let events = match &mut self.events {
                Some(r) => r.endpoint(report),
                None => text,
            };
            self.deliver(&events, severity, "endpoint");
        }
    }

    /// The scan's last line; waits for deliveries and returns the exit code: 4 when a
    /// receiver did not get everything, else 3 when an endpoint could not be scanned, 1 when a
    /// verdict is at or above `--fail-on`, 0 otherwise.
    pub async fn finish(mut self, duration_ms: u64) -> Result<u8, String> {
        self.end.duration_ms = duration_ms;
        let end = self.end.clone();
        let text = self.render.end(&end);
        self.write(&text);
        if !self.deliveries.is_empty() {
            let events = match &mut self.events {
                Some(r) => r.end(&end),
                None => text,
            };
            self.deliver(&events, 6, "scan");
        }
        let mut undelivered = false;
        for d in std::mem::take(&mut self.deliveries) {
            let (destination, outcome) = d.finish(DELIVERY_GRACE).await;
            if outcome.lost > 0 {
                undelivered = true;
                eprintln!(
                    "fipsgate: {destination}: {} of {} events not delivered: {}",
                    outcome.lost,
                    outcome.lost + outcome.delivered,
                    outcome.last_error.as_deref().unwrap_or("unknown error")
                );
            }
        }
        if let Some(e) = self.write_error.take() {
            return Err(e);
        }
        Ok(if undelivered {
            exit::UNDELIVERED
        } else if end.errors > 0 {
            exit::UNSCANNED
        } else if self.failing {
            exit::FINDINGS
        } else {
            exit::OK
        })
    }
}
