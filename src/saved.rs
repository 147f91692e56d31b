//! Saved scans: the endpoint lines of an NDJSON report read back, and judged again under other
//! policies (`report`, `diff`, and the baseline of the HTML report's diff view).
use fipsgate_cipher_db::policy::Policy;
use fipsgate_scanner::report::line::Line;
use fipsgate_scanner::report::{EndpointReport, Status};
use std::fs::File;
use std::io::{BufRead, BufReader};

/// The lines of the scan at PATH (`-` for stdin), read one at a time, with their line numbers.
pub fn lines(path: &str) -> Result<impl Iterator<Item = Result<(usize, Line), String>>, String> {
    let input: Box<dyn BufRead> = if path == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        Box::new(BufReader::new(
            File::open(path).map_err(|e| format!("{path}: {e}"))?,
        ))
    };
    let path = path.to_owned();
    Ok(input
        .lines()
        .enumerate()
        .filter_map(move |(n, raw)| match raw {
            Err(e) => Some(Err(format!("{path}:{}: {e}", n + 1))),
            Ok(raw) if raw.trim().is_empty() => None,
            Ok(raw) => Some(
                Line::parse(&raw)
                    .map(|line| (n + 1, line))
                    .map_err(|e| format!("{path}:{}: {e}", n + 1)),
            ),
        }))
}

/// The endpoint lines of the scan at PATH.
pub fn read(path: &str) -> Result<Vec<EndpointReport>, String> {
    let mut endpoints = Vec::new();
    for line in lines(path)? {
        if let (_, Line::Endpoint(e)) = line? {
            endpoints.push(*e);
        }
    }
    Ok(endpoints)
}

/// The saved endpoint judged again by `policies`: its observations, target, cost and time are
/// kept; verdicts, findings and negotiations are made anew.
pub fn rejudge(saved: EndpointReport, policies: &[Policy]) -> Result<EndpointReport, String> {
    let EndpointReport {
        target,
        service,
        status,
        error,
        tls,
        ssh,
        connections,
        duration_ms,
        scanned_at,
        ..
    } = saved;
    let mut report = match (status, error, tls, ssh) {
        (Status::Ok, _, Some(obs), _) => {
            EndpointReport::tls(target, &service, obs, policies, connections, duration_ms)
        }
        (Status::Ok, _, None, Some(obs)) => {
            EndpointReport::ssh(target, obs, policies, connections, duration_ms)
        }
        (Status::Ok, _, None, None) => {
            return Err("an ok endpoint without tls or ssh observations".to_owned())
        }
        (_, Some(error), _, _) => {
            let mut r = EndpointReport::failed(target, &service, error, connections, duration_ms);
            r.status = status;
            r
        }
        (_, None, _, _) => return Err(format!("a {status:?} endpoint without its error")),
    };
    report.scanned_at = scanned_at;
    Ok(report)
}

/// Every endpoint of the scan at PATH judged again by `policies`.
pub fn read_judged(path: &str, policies: &[Policy]) -> Result<Vec<EndpointReport>, String> {
    let mut endpoints = Vec::new();
    for line in lines(path)? {
        if let (n, Line::Endpoint(e)) = line? {
            endpoints.push(rejudge(*e, policies).map_err(|e| format!("{path}:{n}: {e}"))?);
        }
    }
    Ok(endpoints)
}
