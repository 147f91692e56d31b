//! `fipsgate diff`: drift between two saved scans, for alerts. Endpoints are matched by host,
//! address and port; each is compared facet by facet (status, verdict per policy, versions,
//! suites per version, groups, signature schemes, certificates, SSH algorithm lists, host keys).
use super::CommandResult;
use crate::cli::{DiffArgs, Format};
use crate::exit;
use crate::output::{print_text, Table};
use fipsgate_scanner::report::line::Line;
use fipsgate_scanner::report::{EndpointReport, Target};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// host, address, port.
type Key = (String, String, u16);

/// What one facet of an endpoint was and is.
#[derive(Debug, Serialize)]
struct Change {
    facet: String,
    added: Vec<String>,
    removed: Vec<String>,
}

/// One line of drift.
#[derive(Debug, Serialize)]
struct Drift<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    change: &'static str,
    target: &'a Target,
    service: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    changes: Vec<Change>,
}

/// The endpoint lines of a saved scan, by key.
fn endpoints(path: &str) -> Result<BTreeMap<Key, EndpointReport>, String> {
    let text = if path == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| format!("{path}: {e}"))?;
    let mut out = BTreeMap::new();
    for (n, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        if let Line::Endpoint(e) = Line::parse(raw).map_err(|e| format!("{path}:{}: {e}", n + 1))? {
            let t = &e.target;
            let key = (t.host.clone(), t.ip.clone().unwrap_or_default(), t.port);
            out.insert(key, *e);
        }
    }
    Ok(out)
}

/// A set of strings.
fn set<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> BTreeSet<String> {
    items.into_iter().map(Into::into).collect()
}

/// A lower-case word as serde writes it (verdicts, statuses, versions).
fn word<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Every comparable facet of an endpoint, as a set of strings.
fn facets(e: &EndpointReport) -> BTreeMap<String, BTreeSet<String>> {
    let mut f = BTreeMap::new();
    f.insert("status".to_owned(), set([word(&e.status)]));
    for v in &e.verdicts {
        f.insert(format!("verdict {}", v.policy), set([word(&v.verdict)]));
    }
    if let Some(tls) = &e.tls {
        f.insert(
            "versions".into(),
            set(tls.versions.iter().map(|v| word(&v.version))),
        );
        for v in &tls.versions {
            f.insert(
                format!("{} cipher_suites", word(&v.version)),
                set(v.cipher_suites.iter().map(|s| s.iana.as_str())),
            );
        }
        f.insert(
            "groups".into(),
            set(tls.groups.iter().map(|g| g.name.as_str())),
        );
        f.insert(
            "signature_schemes".into(),
            set(tls.signature_schemes.iter().map(|s| s.name.as_str())),
        );
        let leaves = tls.certificates.iter().filter_map(|c| c.chain.first());
        f.insert(
            "certificates".into(),
            set(leaves.map(|c| c.sha256.as_str())),
        );
    }
    if let Some(ssh) = &e.ssh {
        for (facet, lists) in [
            ("kex", vec![&ssh.kex]),
            ("host_key_algorithms", vec![&ssh.host_key_algorithms]),
            (
                "ciphers",
                vec![&ssh.ciphers_client_to_server, &ssh.ciphers_server_to_client],
            ),
            (
                "macs",
                vec![&ssh.macs_client_to_server, &ssh.macs_server_to_client],
            ),
            (
                "compression",
                vec![
                    &ssh.compression_client_to_server,
                    &ssh.compression_server_to_client,
                ],
            ),
        ] {
            f.insert(
                facet.to_owned(),
                set(lists.into_iter().flatten().map(String::as_str)),
            );
        }
        f.insert(
            "host_keys".into(),
            set(ssh.host_keys.iter().map(|k| k.fingerprint_sha256.as_str())),
        );
    }
    f
}

/// The facets that differ.
fn compare(old: &EndpointReport, new: &EndpointReport) -> Vec<Change> {
    let (a, b) = (facets(old), facets(new));
    let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let empty = BTreeSet::new();
    names
        .into_iter()
        .filter_map(|name| {
            let (was, is) = (a.get(name).unwrap_or(&empty), b.get(name).unwrap_or(&empty));
            let added: Vec<String> = is.difference(was).cloned().collect();
            let removed: Vec<String> = was.difference(is).cloned().collect();
            (!added.is_empty() || !removed.is_empty()).then(|| Change {
                facet: name.clone(),
                added,
                removed,
            })
        })
        .collect()
}

fn target_text(t: &Target) -> String {
    let ip = t.ip.as_deref().unwrap_or(&t.host);
    let addr = if ip.contains(':') {
        format!("[{ip}]:{}", t.port)
    } else {
        format!("{ip}:{}", t.port)
    };
    if t.host == ip {
        addr
    } else {
        format!("{} ({addr})", t.host)
    }
}

/// Compares the two scans and prints the drift; exit 1 when there is any.
pub fn run(args: &DiffArgs) -> CommandResult {
    let old = endpoints(&args.old)?;
    let new = endpoints(&args.new)?;
    let mut drift = Vec::new();
    for (key, line) in &old {
        if !new.contains_key(key) {
            drift.push(Drift {
                kind: "drift",
                change: "vanished",
                target: &line.target,
                service: &line.service,
                changes: Vec::new(),
            });
        }
    }
    for (key, line) in &new {
        match old.get(key) {
            None => drift.push(Drift {
                kind: "drift",
                change: "appeared",
                target: &line.target,
                service: &line.service,
                changes: Vec::new(),
            }),
            Some(before) => {
                let changes = compare(before, line);
                if !changes.is_empty() {
                    drift.push(Drift {
                        kind: "drift",
                        change: "changed",
                        target: &line.target,
                        service: &line.service,
                        changes,
                    });
                }
            }
        }
    }
    let mut out = String::new();
    match args.format.format {
        Format::Json => {
            for d in &drift {
                out.push_str(&serde_json::to_string(d)?);
                out.push('\n');
            }
        }
        Format::Text => {
            let mut table =
                Table::new(&["endpoint", "service", "change", "facet", "added", "removed"]);
            for d in &drift {
                let endpoint = target_text(d.target);
                let service = d.service.to_owned();
                if d.changes.is_empty() {
                    table.row(vec![endpoint.clone(), service.clone(), d.change.into()]);
                }
                for c in &d.changes {
                    table.row(vec![
                        endpoint.clone(),
                        service.clone(),
                        d.change.into(),
                        c.facet.clone(),
                        c.added.join(" "),
                        c.removed.join(" "),
                    ]);
                }
            }
            if drift.is_empty() {
                out.push_str("no drift\n");
            } else {
                out.push_str(&table.render());
            }
        }
    }
    print_text(&out)?;
    Ok(if drift.is_empty() {
        exit::OK
    } else {
        exit::FINDINGS
    })
}
