//! ArcSight Common Event Format: `CEF:0|vendor|product|version|class|name|severity|extension`,
//! one line per endpoint verdict, error and finding that is not approved.
use super::format::{address, epoch_ms, FlatEvent};
use super::EndpointReport;

/// Escapes a header field: backslash and pipe.
pub fn escape_header(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Escapes an extension value: backslash, equals sign, and line breaks as `\n` and `\r`.
pub fn escape_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '=' => out.push_str("\\="),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// The CEF dictionary key of each field fipsgate sends; custom strings carry their label.
fn key(field: &str) -> (&'static str, Option<&'static str>) {
    match field {
        "policy" => ("cs1", Some("policy")),
        "item" => ("cs2", Some("item")),
        "verdict" => ("cs3", Some("verdict")),
        "source" => ("cs4", Some("source")),
        "error" => ("cs5", Some("errorKind")),
        "reason" => ("reason", None),
        "kind" => ("cat", None),
        _ => ("msg", None),
    }
}

/// The CEF line of one event of `report`.
pub(crate) fn line(e: &FlatEvent, report: &EndpointReport) -> String {
    let t = &report.target;
    let mut ext = vec![
        format!("rt={}", epoch_ms(report)),
        format!("dhost={}", escape_value(&t.host)),
        format!("dpt={}", t.port),
        format!("app={}", escape_value(&report.service)),
    ];
    match t.ip.as_deref() {
        Some(ip) if ip.contains(':') => {
            ext.push("c6a3Label=Destination IPv6 Address".into());
            ext.push(format!("c6a3={ip}"));
        }
        Some(ip) => ext.push(format!("dst={ip}")),
        None => {}
    }
    for (field, value) in &e.fields {
        let (k, label) = key(field);
        if let Some(label) = label {
            ext.push(format!("{k}Label={label}"));
        }
        ext.push(format!("{k}={}", escape_value(value)));
    }
    if !e.fields.iter().any(|(f, _)| *f == "msg") {
        ext.push(format!("msg={}", escape_value(&address(t))));
    }
    format!(
        "CEF:0|fipsgate|fipsgate|{}|{}|{}|{}|{}\n",
        escape_header(env!("CARGO_PKG_VERSION")),
        escape_header(&e.class),
        escape_header(&e.name),
        e.severity,
        ext.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_spec_says() {
        // The CEF guide's examples: a pipe in the header, an equals sign and a backslash in an
        // extension value, and a multi-line value.
        assert_eq!(
            escape_header("detected a | in message"),
            "detected a \\| in message"
        );
        assert_eq!(
            escape_header("detected a \\ in packet"),
            "detected a \\\\ in packet"
        );
        assert_eq!(escape_value("a=b"), "a\\=b");
        assert_eq!(escape_value("c:\\windows"), "c:\\\\windows");
        assert_eq!(escape_value("line1\nline2\r"), "line1\\nline2\\r");
        assert_eq!(escape_value("pipes | stay"), "pipes | stay");
    }
}
