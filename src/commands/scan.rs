//! `fipsgate scan`.
use super::{load_judging, CommandResult};
use crate::cli::ScanArgs;
use crate::emit::{destinations, Emitter};
use fipsgate_scanner::probe::pace::Pacer;
use fipsgate_scanner::probe::starttls::Starttls;
use fipsgate_scanner::probe::ProbeConfig;
use fipsgate_scanner::report::line::{Line, LineError};
use fipsgate_scanner::report::ScanBegin;
use fipsgate_scanner::scan::{scan, ScanConfig, ScanEvent, StarttlsChoice};
use fipsgate_scanner::target::{
    parse_ports, Shard, TargetList, TargetPattern, CONFIRM_ABOVE, DEFAULT_TLS_PORT,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::collections::HashSet;
use std::io::IsTerminal;
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

/// The endpoints (host as named, port) of an earlier NDJSON output; a last line cut short by
/// a killed scan is ignored.
fn already_scanned(path: &str) -> Result<HashSet<(String, u16)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("--resume {path}: {e}"))?;
    let mut done = HashSet::new();
    let lines: Vec<&str> = text.lines().collect();
    for (n, raw) in lines.iter().enumerate() {
        match Line::parse(raw) {
            Ok(Line::Endpoint(e)) => {
                done.insert((e.target.host, e.target.port));
            }
            Ok(_) => {}
            // An interrupted scan may end in half a line.
            Err(LineError::NotJson(_)) if n + 1 == lines.len() => break,
            Err(e) => return Err(format!("--resume {path}:{}: {e}", n + 1)),
        }
    }
    Ok(done)
}

/// A progress bar on standard error when it is a terminal.
fn progress_bar(args: &ScanArgs, total: u128) -> Option<ProgressBar> {
    if args.no_progress || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(
        Some(u64::try_from(total).unwrap_or(u64::MAX)),
        ProgressDrawTarget::stderr(),
    );
    // indicatif's own {per_sec} prints four decimals ("1,497.1813/s").
    let style =
        ProgressStyle::with_template("{bar:30} {pos}/{len} endpoints  {msg}  {rate}  ETA {eta}")
            .map(|s| {
                s.progress_chars("=> ").with_key(
                    "rate",
                    |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let rate = state.per_sec();
                        if rate.is_finite() {
                            let _ = write!(w, "{rate:.0}/s");
                        }
                    },
                )
            });
    if let Ok(style) = style {
        bar.set_style(style);
    }
    Some(bar)
}

/// Scans the targets and prints the report. Everything the user gave is checked before any
/// connection is made.
pub fn run(args: ScanArgs) -> CommandResult {
    let targets = target_list(&args)?;
    let policies = Arc::new(load_judging(&args.judge)?);
    let seconds = |flag: &str, v: f64| {
        if v.is_finite() && v > 0.0 && v <= 86_400.0 {
            Ok(Duration::from_secs_f64(v))
        } else {
            Err(format!("{flag} must be a number of seconds above 0"))
        }
    };
    let timeout = seconds("--timeout", args.timeout.min(600.0))?;
    let endpoint_deadline = seconds("--endpoint-timeout", args.endpoint_timeout)?;
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
    let shard = args
        .shard
        .as_deref()
        .map(|s| Shard::parse(s).map_err(|e| format!("--shard {s:?}: {}", e.reason)))
        .transpose()?;
    if args.rate == Some(0) {
        return Err("--rate must be at least 1 connection a second".into());
    }
    let skip = match &args.resume {
        Some(path) => already_scanned(path)?,
        None => HashSet::new(),
    };
    let append = args.resume.is_some() && args.resume == args.judge.output;
    let destinations = destinations(&args.judge)?;
    let ssh_ports = parse_ports(&args.ssh_ports)
        .map_err(|e| format!("--ssh-ports {:?}: {}", args.ssh_ports, e.reason))?;
    let cfg = ScanConfig {
        starttls,
        resolve,
        ssh_ports,
        all_ports: args.all_ports,

        probe: ProbeConfig {
            confirm,
            delay: Duration::from_millis(args.delay.min(60_000)),
            timeout,
            sni: args.sni.clone(),
            pacer: args.rate.map(|r| Arc::new(Pacer::new(r))),
            retries: args.retries.min(10),
            ..ProbeConfig::default()
        },
        concurrency: args.concurrency.clamp(1, 4096),
        per_host: args.per_host.clamp(1, 4096),
        endpoint_deadline,
        shard,
        skip,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let total = targets.count() / u128::from(shard.map_or(1, |s| s.count));
    let bar = progress_bar(&args, total);
    let started = std::time::Instant::now();
    let code = runtime.block_on(async {
        let mut out = Emitter::new(&args.judge, &policies, destinations, timeout, append)?;
        out.begin(&ScanBegin::now(&policies, std::env::args().collect()));
        let (mut open, mut errors) = (0usize, 0usize);
        let mut on_event = |event: ScanEvent| match event {
            ScanEvent::Finished {
                reports,
                errors: e,
                closed,
                filtered,
                unlisted_connections,
            } => {
                out.unlisted(closed, filtered, unlisted_connections);
                open += reports - e;
                errors += e;
                if let Some(bar) = &bar {
                    bar.inc(1);
                    bar.set_message(format!("{open} open, {errors} errors"));
                }
            }
            ScanEvent::Report(r) => out.endpoint(&r),
        };
        scan(&targets, &cfg, policies.clone(), &mut on_event).await;
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        out.finish(started.elapsed().as_millis() as u64).await
    })?;
    Ok(code)
}
