//! `fipsgate report`: re-judge a saved NDJSON scan under other policies, offline.
use super::{load_judging, CommandResult};
use crate::cli::ReportArgs;
use crate::emit::{destinations, Emitter};
use crate::exit;
use fipsgate_scanner::observation::{SshObservation, TlsObservation};
use fipsgate_scanner::probe::ProbeError;
use fipsgate_scanner::report::{EndpointReport, ScanBegin, Target, SCHEMA_VERSION};
use serde::de::DeserializeOwned;
use serde_json::Value;

fn field<T: DeserializeOwned>(line: &Value, key: &str, at: &str) -> Result<T, String> {
    serde_json::from_value(line[key].clone()).map_err(|e| format!("{at}: {key}: {e}"))
}

/// Rebuilds one endpoint from its saved observations, judged by `policies`.
fn rejudge(
    line: &Value,
    policies: &[fipsgate_cipher_db::policy::Policy],
    at: &str,
) -> Result<EndpointReport, String> {
    let target: Target = field(line, "target", at)?;
    let service = line["service"]
        .as_str()
        .ok_or_else(|| format!("{at}: endpoint without service"))?
        .to_owned();
    let connections = u32::try_from(line["connections"].as_u64().unwrap_or(0)).unwrap_or(u32::MAX);
    let duration_ms = line["duration_ms"].as_u64().unwrap_or(0);
    let mut report = rebuild(
        line,
        policies,
        at,
        target,
        &service,
        connections,
        duration_ms,
    )?;
    if let Some(t) = line["scanned_at"].as_str() {
        t.clone_into(&mut report.scanned_at);
    }
    Ok(report)
}

/// The report of a saved endpoint's observations under `policies`.
fn rebuild(
    line: &Value,
    policies: &[fipsgate_cipher_db::policy::Policy],
    at: &str,
    target: Target,
    service: &str,
    connections: u32,
    duration_ms: u64,
) -> Result<EndpointReport, String> {
    if line["status"] == "error" {
        let error: ProbeError = field(line, "error", at)?;
        return Ok(EndpointReport::failed(
            target,
            service,
            error,
            connections,
            duration_ms,
        ));
    }
    if !line["tls"].is_null() {
        let obs: TlsObservation = field(line, "tls", at)?;
        return Ok(EndpointReport::tls(
            target,
            service,
            obs,
            policies,
            connections,
            duration_ms,
        ));
    }
    if !line["ssh"].is_null() {
        let obs: SshObservation = field(line, "ssh", at)?;
        return Ok(EndpointReport::ssh(
            target,
            obs,
            policies,
            connections,
            duration_ms,
        ));
    }
    Err(format!("{at}: endpoint without tls or ssh observations"))
}

/// Reads FILE (or `-` for stdin), judges every endpoint again and prints it like `scan` does.
pub fn run(args: ReportArgs) -> CommandResult {
    let policies = load_judging(&args.judge)?;
    let text = if args.file == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(&args.file)
    };
    let text = text.map_err(|e| format!("{}: {e}", args.file))?;
    let mut reports = Vec::new();
    let mut duration_ms = 0;
    for (n, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let at = format!("{}:{}", args.file, n + 1);
        let line: Value = serde_json::from_str(raw).map_err(|e| format!("{at}: not JSON: {e}"))?;
        if line["schema_version"].as_u64() != Some(u64::from(SCHEMA_VERSION)) {
            return Err(format!(
                "{at}: schema_version {} is not {SCHEMA_VERSION}",
                line["schema_version"]
            )
            .into());
        }
        match line["type"].as_str() {
            Some("endpoint") => reports.push(rejudge(&line, &policies, &at)?),
            Some("scan_end") => duration_ms = line["duration_ms"].as_u64().unwrap_or(0),
            Some("scan_begin") => {}
            other => return Err(format!("{at}: unknown line type {other:?}").into()),
        }
    }
    if reports.is_empty() {
        eprintln!("fipsgate: {}: no endpoint lines", args.file);
        return Ok(exit::USAGE);
    }
    let destinations = destinations(&args.judge)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let code = runtime.block_on(async {
        let mut out = Emitter::new(
            &args.judge,
            &policies,
            destinations,
            std::time::Duration::from_secs(5),
            false,
        )?;
        out.begin(&ScanBegin::now(&policies, std::env::args().collect()));
        for r in &reports {
            out.endpoint(r);
        }
        out.finish(duration_ms).await
    })?;
    Ok(code)
}
