//! Splunk HTTP Event Collector: every canonical line inside an event envelope with `time`,
//! `host`, `source` and `sourcetype` (`fipsgate:endpoint` or `fipsgate:scan`), ready to POST to
//! `/services/collector/event` as a batch.
use super::format::{epoch_ms, json_line, Render, Settings};
use super::{EndpointReport, ScanBegin, ScanEnd};
use serde::Serialize;
use serde_json::json;

/// Renders HEC envelopes.
pub struct HecRender {
    host: String,
}

impl HecRender {
    /// A renderer.
    pub fn new(settings: Settings) -> Self {
        Self {
            host: settings.scanner_host,
        }
    }

    fn envelope<T: Serialize>(&self, time_ms: i64, sourcetype: &str, event: &T) -> String {
        json_line(&json!({
            "time": time_ms as f64 / 1000.0,
            "host": self.host,
            "source": "fipsgate",
            "sourcetype": sourcetype,
            "event": event,
        }))
    }
}

impl Render for HecRender {
    fn begin(&mut self, begin: &ScanBegin) -> String {
        self.envelope(crate::time::now_ms(), "fipsgate:scan", begin)
    }
    fn endpoint(&mut self, report: &EndpointReport) -> String {
        self.envelope(epoch_ms(report), "fipsgate:endpoint", report)
    }
    fn end(&mut self, end: &ScanEnd) -> String {
        self.envelope(crate::time::now_ms(), "fipsgate:scan", end)
    }
}
