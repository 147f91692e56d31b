//! `fipsgate proxy`: checks that FIPS mode is really active and that every listener's rustls
//! configuration reports FIPS, then runs (or, with `--check`, prints what would run).
use super::CommandResult;
use crate::cli::{Format, ProxyArgs};
use crate::exit;
use crate::output::{print_json, print_text, Table};
use fipsgate_proxy::config::{Config, Starttls};
use fipsgate_proxy::fips::FipsStatus;
use fipsgate_proxy::server::{self, event};
use fipsgate_proxy::tls::{group_name, suite_name};
use std::path::{Path, PathBuf};

/// What `--check` and the `starting` event say of a key kept in a token.
const TOKEN_NOTE: &str = "its signatures are made in the PKCS#11 token, whose own FIPS 140 \
    validation applies to them; everything else runs in the AWS-LC FIPS module";

/// The configuration of the command line.
fn config(args: &ProxyArgs) -> Result<(Config, Option<PathBuf>), String> {
    if let Some(path) = args.config.as_deref().or(args.check.as_deref()) {
        let cfg = Config::load(Path::new(path)).map_err(|e| e.to_string())?;
        return Ok((cfg, Some(PathBuf::from(path))));
    }
    match (&args.listen, &args.backend, &args.cert, &args.key) {
        (Some(listen), Some(backend), Some(cert), Some(key)) => {
            let module = args.pkcs11_module.as_ref().map(PathBuf::from);
            let starttls = match args.starttls.as_deref() {
                Some(name) => Some(Starttls::parse(name).ok_or_else(|| {
                    format!("--starttls {name:?}: smtp, imap, pop3, ldap, postgres or ftp")
                })?),
                None => None,
            };
            let cfg = Config::simple(*listen, backend, cert.into(), key, module, starttls)
                .map_err(|e| e.to_string())?;
            Ok((cfg, None))
        }
        _ => {
            Err("give --config FILE, --check FILE, or --listen, --backend, --cert and --key".into())
        }
    }
}

/// Runs or checks the proxy.
pub fn run(args: &ProxyArgs) -> CommandResult {
    let fips = FipsStatus::probe();
    if let Err(e) = fips.check() {
        eprintln!("fipsgate proxy: refusing to start: {e}");
        return Ok(exit::NOT_FIPS);
    }
    let (cfg, path) = config(args)?;
    let runtimes = server::build(&cfg)?;
    // Signatures by a token key are the token's: say so wherever FIPS is claimed.
    let token_keys: Vec<serde_json::Value> = cfg
        .listener
        .iter()
        .filter_map(|l| Some((l, runtimes.get(&l.name)?)))
        .flat_map(|(l, rt)| {
            rt.tls.token_keys.iter().map(|k| {
                let mut v = serde_json::json!(k);
                v["listener"] = serde_json::json!(l.name);
                v["note"] = serde_json::json!(TOKEN_NOTE);
                v
            })
        })
        .collect();
    if args.check.is_some() {
        let listeners: Vec<serde_json::Value> = cfg
            .listener
            .iter()
            .filter_map(|l| {
                let rt = runtimes.get(&l.name)?;
                let c = &rt.tls.config;
                Some(serde_json::json!({
                    "name": l.name,
                    "listen": l.listen,
                    "backend": l.backend.to_string(),
                    "fips": c.fips(),
                    "suites": c.crypto_provider().cipher_suites.iter().map(|s| suite_name(*s)).collect::<Vec<_>>(),
                    "groups": c.crypto_provider().kx_groups.iter().map(|g| group_name(*g)).collect::<Vec<_>>(),
                }))
            })
            .collect();
        match args.format.format {
            Format::Json => print_json(
                &serde_json::json!({"fips": fips, "listeners": listeners, "token_keys": token_keys}),
            )?,
            Format::Text => {
                let mut t =
                    Table::new(&["listener", "listen", "backend", "fips", "suites", "groups"]);
                for l in &listeners {
                    let join = |k: &str| {
                        l[k].as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|v| v.as_str().map(str::to_owned))
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            })
                            .unwrap_or_default()
                    };
                    t.row(vec![
                        l["name"].as_str().unwrap_or_default().to_owned(),
                        join("listen"),
                        l["backend"].as_str().unwrap_or_default().to_owned(),
                        l["fips"].to_string(),
                        join("suites"),
                        join("groups"),
                    ]);
                }
                let mut text = format!(
                    "configuration OK; AWS-LC {} FIPS module {} in FIPS mode; every listener reports fips()\n{}",
                    fips.awslc_version,
                    fips.fips_module.map_or("?".into(), |v| v.to_string()),
                    t.render()
                );
                for k in &token_keys {
                    let field = |name: &str| k[name].as_str().unwrap_or_default().to_owned();
                    text.push_str(&format!(
                        "\nlistener {:?}: {} key {} in token {:?} ({} {}, serial {}) via {}: {}",
                        field("listener"),
                        field("key"),
                        field("uri"),
                        field("token"),
                        field("manufacturer"),
                        field("model"),
                        field("serial"),
                        field("module"),
                        TOKEN_NOTE
                    ));
                }
                print_text(&text)?;
            }
        }
        return Ok(exit::OK);
    }
    event(
        "starting",
        serde_json::json!({"version": env!("CARGO_PKG_VERSION"), "fips": fips, "token_keys": token_keys}),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(server::run(cfg, runtimes, path))?;
    Ok(exit::OK)
}
