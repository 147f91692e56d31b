//! `fipsgate report`: re-judge a saved NDJSON scan under other policies, offline.
use super::{load_judging, CommandResult};
use crate::cli::ReportArgs;
use crate::emit::{destinations, Emitter};
use crate::saved;
use fipsgate_scanner::report::line::Line;
use fipsgate_scanner::report::ScanBegin;

/// Reads FILE (or `-` for stdin) a line at a time, judges every endpoint again and prints it
/// like `scan` does.
pub fn run(args: ReportArgs) -> CommandResult {
    let policies = load_judging(&args.judge)?;
    let lines = saved::lines(&args.file)?;
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
        let (mut endpoints, mut duration_ms) = (0usize, 0);
        for line in lines {
            let (n, line) = line?;
            match line {
                Line::Endpoint(e) => {
                    let judged = saved::rejudge(*e, &policies)
                        .map_err(|e| format!("{}:{n}: {e}", args.file))?;
                    out.endpoint(&judged);
                    endpoints += 1;
                }
                Line::ScanEnd(end) => duration_ms = end.duration_ms,
                Line::ScanBegin(_) => {}
            }
        }
        if endpoints == 0 {
            return Err(format!("{}: no endpoint lines", args.file));
        }
        out.finish(duration_ms).await
    })?;
    Ok(code)
}
