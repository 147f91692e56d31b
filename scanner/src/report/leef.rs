//! IBM QRadar Log Event Extended Format 1.0: `LEEF:1.0|vendor|product|version|EventID|` and
//! tab-separated `key=value` attributes, one line per endpoint verdict, error and finding that is
//! not approved.
use super::format::{epoch_ms, FlatEvent};
use super::EndpointReport;

/// Escapes a header field: the pipe that separates fields, and the backslash.
pub fn escape_header(s: &str) -> String {
    super::cef::escape_header(s)
}

/// An attribute value: the tab separator and line breaks become spaces (LEEF has no escape for
/// them, and one event is one line).
pub fn escape_value(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '\t' | '\r' | '\n') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// The LEEF attribute name of each field fipsgate sends (predefined keys where LEEF has one).
fn key(field: &str) -> &'static str {
    match field {
        "policy" => "policy",
        "item" => "item",
        "verdict" => "verdict",
        "source" => "source",
        "error" => "errorKind",
        "reason" => "reason",
        "kind" => "cat",
        _ => "msg",
    }
}

/// The LEEF line of one event of `report`.
pub(crate) fn line(e: &FlatEvent, report: &EndpointReport) -> String {
    let t = &report.target;
    let mut attrs = vec![
        format!("devTime={}", crate::time::rfc3339(epoch_ms(report) / 1000)),
        "devTimeFormat=yyyy-MM-dd'T'HH:mm:ssX".to_owned(),
        format!("sev={}", e.severity.max(1)),
        format!("dstPort={}", t.port),
        format!("identHostName={}", escape_value(&t.host)),
        format!("proto={}", escape_value(&report.service)),
        format!("name={}", escape_value(&e.name)),
    ];
    if let Some(ip) = &t.ip {
        attrs.push(format!("dst={ip}"));
    }
    for (field, value) in &e.fields {
        attrs.push(format!("{}={}", key(field), escape_value(value)));
    }
    format!(
        "LEEF:1.0|fipsgate|fipsgate|{}|{}|{}\n",
        escape_header(env!("CARGO_PKG_VERSION")),
        escape_header(&e.class),
        attrs.join("\t")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_never_break_the_line_or_the_separator() {
        assert_eq!(escape_value("a\tb\nc\rd"), "a b c d");
        assert_eq!(escape_value("x=y|z"), "x=y|z");
        assert_eq!(escape_header("Exchange|2013"), "Exchange\\|2013");
    }
}
