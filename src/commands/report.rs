//! `fipsgate report`: re-judge a saved NDJSON scan under other policies, offline.
use super::{load_judging, CommandResult};
use crate::cli::ReportArgs;
use crate::emit::{destinations, Emitter};
use crate::exit;
use fipsgate_cipher_db::policy::Policy;
use fipsgate_scanner::report::line::Line;
use fipsgate_scanner::report::{EndpointReport, ScanBegin, Status};

/// The saved endpoint judged again by `policies`: its observations, target, cost and time are
/// kept; verdicts, findings and negotiations are made anew.
fn rejudge(saved: EndpointReport, policies: &[Policy]) -> Result<EndpointReport, String> {
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
        match Line::parse(raw).map_err(|e| format!("{at}: {e}"))? {
            Line::Endpoint(saved) => {
                reports.push(rejudge(*saved, &policies).map_err(|e| format!("{at}: {e}"))?)
            }
            Line::ScanEnd(end) => duration_ms = end.duration_ms,
            Line::ScanBegin(_) => {}
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
