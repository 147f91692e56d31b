//! `fipsgate scan`.
use super::{load_policies, CommandResult};
use crate::cli::{FailOn, JudgeArgs, ScanArgs, ScanFormat};
use crate::exit;
use crate::output::print_text;
use fipsgate_cipher_db::policy::Policy;
use fipsgate_cipher_db::EndpointVerdict;
use fipsgate_scanner::probe::starttls::Starttls;
use fipsgate_scanner::probe::ProbeConfig;
use fipsgate_scanner::report::{text, EndpointReport, ScanBegin, ScanEnd, Status};
use fipsgate_scanner::scan::{scan, ScanConfig, StarttlsChoice};
use fipsgate_scanner::target::{
    parse_ports, TargetList, TargetPattern, CONFIRM_ABOVE, DEFAULT_TLS_PORT,
};
use std::sync::Arc;
use std::time::Duration;

/// The targets of the command line and of `--input-list`, checked before any connection.
fn target_list(args: &ScanArgs) -> Result<TargetList, Box<dyn std::error::Error>> {
    let mut words: Vec<String> = args.targets.clone();
    if let Some(file) = &args.input_list {
        let text = if file == "-" {
            std::io::read_to_string(std::io::stdin())
        } else {
            std::fs::read_to_string(file)
        };
        let text = text.map_err(|e| format!("--input-list {file}: {e}"))?;
        for line in text
            .lines()
            .map(|l| l.split('#').next().unwrap_or_default())
        {
            words.extend(line.split_whitespace().map(str::to_owned));
        }
    }
    if words.is_empty() {
        return Err("no targets: give TARGET… or --input-list FILE".into());
    }
    let patterns = words
        .iter()
        .map(|w| TargetPattern::parse(w))
        .collect::<Result<Vec<_>, _>>()?;
    let exclude = args
        .exclude
        .iter()
        .map(|w| TargetPattern::parse(w))
        .collect::<Result<Vec<_>, _>>()?;
    let ports = match &args.ports {
        Some(list) => parse_ports(list)?,
        None => vec![DEFAULT_TLS_PORT],
    };
    let list = TargetList::new(patterns, ports, exclude);
    let count = list.count();
    if count > CONFIRM_ABOVE {
        if !args.yes {
            return Err(format!(
                "the targets expand to {count} endpoints: add --yes to scan that many"
            )
            .into());
        }
        eprintln!("fipsgate: scanning up to {count} endpoints");
    }
    Ok(list)
}

/// Scans the targets and prints the report. Everything the user gave is checked before any
/// connection is made.
pub fn run(args: ScanArgs) -> CommandResult {
    let targets = target_list(&args)?;
    let policies = Arc::new(load_policies(&args.judge.policies.names)?);
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 600.0) {
        return Err("--timeout must be a number of seconds above 0 and at most 600".into());
    }
    let starttls = match args.starttls.as_deref() {
        None => StarttlsChoice::ByPort,
        Some("none") => StarttlsChoice::Never,
        Some(p) => StarttlsChoice::Always(Starttls::parse(p).ok_or_else(|| {
            let known: Vec<&str> = Starttls::ALL.iter().map(|p| p.as_str()).collect();
            format!(
                "--starttls {p:?}: expected one of {}, or none",
                known.join(", ")
            )
        })?),
    };
    let resolve = args
        .resolve
        .iter()
        .map(|r| {
            let (host, addr) = r
                .split_once(':')
                .ok_or_else(|| format!("--resolve {r:?}: expected HOST:ADDR"))?;
            let ip = addr
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse()
                .map_err(|_| format!("--resolve {r:?}: {addr:?} is not an IP address"))?;
            Ok::<_, String>((host.to_owned(), ip))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let confirm = if args.confirm {
        let p = policies
            .iter()
            .find(|p| p.covers(fipsgate_cipher_db::policy::Protocol::Ssh))
            .cloned();
        Some(p.ok_or("--confirm needs a policy that judges SSH")?)
    } else {
        None
    };
    let cfg = ScanConfig {
        starttls,
        resolve,

        probe: ProbeConfig {
            confirm,
            delay: Duration::from_millis(args.delay.min(60_000)),
            timeout: Duration::from_secs_f64(args.timeout),
            sni: args.sni.clone(),
            ..ProbeConfig::default()
        },
        concurrency: args.concurrency.clamp(1, 4096),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let begin = ScanBegin::now(&policies, std::env::args().collect());
    let started = std::time::Instant::now();
    let reports = runtime.block_on(scan(&targets, &cfg, policies.clone()));
    let end = ScanEnd::summarize(&reports, &policies, started.elapsed().as_millis() as u64);
    emit(&begin, &reports, &end, &policies, &args.judge)
}

/// Prints a scan (or a re-judged one) as `judge` says, to its `-o` file or standard output, and
/// returns the exit code: 3 if an endpoint could not be scanned, 1 if a verdict is at or above
/// `--fail-on`, else 0.
pub fn emit(
    begin: &ScanBegin,
    reports: &[EndpointReport],
    end: &ScanEnd,
    policies: &[Policy],
    judge: &JudgeArgs,
) -> CommandResult {
    let mut out = String::new();
    match judge.format {
        ScanFormat::Ndjson => {
            for line in std::iter::once(serde_json::to_string(begin)?)
                .chain(
                    reports
                        .iter()
                        .map(serde_json::to_string)
                        .collect::<Result<Vec<_>, _>>()?,
                )
                .chain(std::iter::once(serde_json::to_string(end)?))
            {
                out.push_str(&line);
                out.push('\n');
            }
        }
        ScanFormat::Text => {
            for r in reports {
                out.push_str(&text::render(r, policies));
                out.push('\n');
            }
            let counts: Vec<String> = end
                .verdicts
                .iter()
                .map(|c| {
                    format!(
                        "{}: {} fips-only, {} fips-capable, {} not-fips-capable",
                        c.policy, c.fips_only, c.fips_capable, c.not_fips_capable
                    )
                })
                .collect();
            out.push_str(&format!(
                "{} endpoints, {} not scanned; {}; {} connections, {} ms\n",
                end.endpoints,
                end.errors,
                counts.join("; "),
                end.connections,
                end.duration_ms
            ));
        }
    }
    match &judge.output {
        Some(path) => std::fs::write(path, &out).map_err(|e| format!("-o {path}: {e}"))?,
        None => print_text(&out)?,
    }
    let threshold = match judge.fail_on {
        FailOn::FipsCapable => EndpointVerdict::FipsCapable,
        FailOn::NotFipsCapable => EndpointVerdict::NotFipsCapable,
    };
    if reports.iter().any(|r| r.status == Status::Error) {
        return Ok(exit::UNSCANNED);
    }
    let failing = reports
        .iter()
        .flat_map(|r| &r.verdicts)
        .any(|v| v.verdict >= threshold);
    Ok(if failing { exit::FINDINGS } else { exit::OK })
}
