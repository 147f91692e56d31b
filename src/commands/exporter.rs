//! `fipsgate exporter`: checks its settings (flags over the TOML file), loads the policies a
//! probe may name, and serves until killed.
use super::CommandResult;
use crate::cli::ExporterArgs;
use fipsgate_cipher_db::policy::Policy;
use fipsgate_scanner::exporter::{serve, ExporterConfig};
use ipnet::IpNet;
use serde::Deserialize;
use std::time::Duration;

/// The configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    #[serde(default)]
    allow: Vec<String>,
    timeout: Option<u64>,
    min_interval: Option<u64>,
    max_probes: Option<usize>,
    bearer_token_file: Option<String>,
    #[serde(default)]
    default_policies: Vec<String>,
    #[serde(default)]
    policy_files: Vec<String>,
}

/// A CIDR block, or one address as its own /32 or /128.
fn network(text: &str) -> Result<IpNet, String> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("--allow {text:?}: not a CIDR block or address"))
}

/// Starts the exporter.
pub fn run(args: &ExporterArgs) -> CommandResult {
    let file: FileConfig = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            toml::from_str(&text).map_err(|e| format!("{path}: {e}"))?
        }
        None => FileConfig::default(),
    };
    let listen = args
        .listen
        .clone()
        .or(file.listen)
        .ok_or("exporter: --listen ADDR (or listen in --config) is required")?;
    let allow = args
        .allow
        .iter()
        .chain(&file.allow)
        .map(|a| network(a))
        .collect::<Result<Vec<_>, _>>()?;
    if allow.is_empty() {
        return Err(
            "exporter: give --allow CIDR (the networks it may scan); it scans nothing else".into(),
        );
    }
    let bearer_token = match args.bearer_token_file.clone().or(file.bearer_token_file) {
        Some(path) => {
            let token = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
            let token = token.trim().to_owned();
            if token.is_empty() {
                return Err(format!("{path}: the bearer token is empty").into());
            }
            Some(token)
        }
        None => None,
    };
    let mut policies = Policy::builtins()?;
    for path in &file.policy_files {
        policies.push(Policy::load(path)?);
    }
    let default_policies = match (&args.policies, &file.default_policies) {
        (given, _) if !given.is_empty() => given.clone(),
        (_, from_file) if !from_file.is_empty() => from_file.clone(),
        _ => vec![fipsgate_cipher_db::policy::DEFAULT_POLICY.to_owned()],
    };
    if let Some(unknown) = default_policies
        .iter()
        .find(|n| !policies.iter().any(|p| &&p.name == n))
    {
        return Err(format!("exporter: unknown policy {unknown:?}").into());
    }
    let cfg = ExporterConfig {
        allow,
        timeout: Duration::from_secs(args.timeout.or(file.timeout).unwrap_or(30).clamp(1, 600)),
        min_interval: Duration::from_secs(args.min_interval.or(file.min_interval).unwrap_or(60)),
        max_probes: args
            .max_probes
            .or(file.max_probes)
            .unwrap_or(8)
            .clamp(1, 256),
        bearer_token,
        policies,
        default_policies,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .map_err(|e| format!("exporter: --listen {listen}: {e}"))?;
        let nets: Vec<String> = cfg.allow.iter().map(ToString::to_string).collect();
        eprintln!(
            "fipsgate exporter: serving http://{} (/probe, /metrics); may scan {}; probes at most {}s, results reused {}s",
            listener.local_addr().map_or(listen.clone(), |a| a.to_string()),
            nets.join(", "),
            cfg.timeout.as_secs(),
            cfg.min_interval.as_secs()
        );
        serve(listener, cfg)
            .await
            .map_err(|e| format!("exporter: {e}"))
    })?;
    Ok(crate::exit::OK)
}
