//! `fipsgate diff`: drift between two saved scans, for alerts. Endpoints are matched by host,
//! address and port; each is compared facet by facet (status, verdict per policy, versions,
//! suites per version, groups, signature schemes, certificates, SSH algorithm lists, host keys).
use super::CommandResult;
use crate::cli::{DiffArgs, Format};
use crate::exit;
use crate::output::{print_text, Table};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// host, address, port.
type Key = (String, String, u64);

/// What one facet of an endpoint was and is.
#[derive(Debug, Serialize)]
struct Change {
    facet: String,
    added: Vec<String>,
    removed: Vec<String>,
}

/// One line of drift.
#[derive(Debug, Serialize)]
struct Drift {
    #[serde(rename = "type")]
    kind: &'static str,
    change: &'static str,
    target: Value,
    service: Value,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    changes: Vec<Change>,
}

/// The endpoint lines of a saved scan, by key.
fn endpoints(path: &str) -> Result<BTreeMap<Key, Value>, String> {
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
        let line: Value =
            serde_json::from_str(raw).map_err(|e| format!("{path}:{}: not JSON: {e}", n + 1))?;
        if line["type"] != "endpoint" {
            continue;
        }
        let t = &line["target"];
        let key = (
            t["host"].as_str().unwrap_or_default().to_owned(),
            t["ip"].as_str().unwrap_or_default().to_owned(),
            t["port"]
                .as_u64()
                .ok_or_else(|| format!("{path}:{}: endpoint without target.port", n + 1))?,
        );
        out.insert(key, line);
    }
    Ok(out)
}

fn strings<'a>(values: impl IntoIterator<Item = &'a Value>, field: &str) -> BTreeSet<String> {
    values
        .into_iter()
        .filter_map(|v| {
            if field.is_empty() {
                v.as_str()
            } else {
                v[field].as_str()
            }
        })
        .map(str::to_owned)
        .collect()
}

fn array(v: &Value) -> &[Value] {
    v.as_array().map_or(&[], Vec::as_slice)
}

/// Every comparable facet of an endpoint line, as a set of strings.
fn facets(e: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut f = BTreeMap::new();
    f.insert("status".to_owned(), strings([&e["status"]], ""));
    for v in array(&e["verdicts"]) {
        let policy = v["policy"].as_str().unwrap_or_default();
        f.insert(format!("verdict {policy}"), strings([&v["verdict"]], ""));
    }
    let tls = &e["tls"];
    if !tls.is_null() {
        f.insert(
            "versions".into(),
            strings(array(&tls["versions"]), "version"),
        );
        for v in array(&tls["versions"]) {
            let name = v["version"].as_str().unwrap_or_default();
            f.insert(
                format!("{name} cipher_suites"),
                strings(array(&v["cipher_suites"]), "iana"),
            );
        }
        f.insert("groups".into(), strings(array(&tls["groups"]), "name"));
        f.insert(
            "signature_schemes".into(),
            strings(array(&tls["signature_schemes"]), "name"),
        );
        let leaves = array(&tls["certificates"])
            .iter()
            .filter_map(|c| array(&c["chain"]).first());
        f.insert("certificates".into(), strings(leaves, "sha256"));
    }
    let ssh = &e["ssh"];
    if !ssh.is_null() {
        for (facet, fields) in [
            ("kex", &["kex"][..]),
            ("host_key_algorithms", &["host_key_algorithms"]),
            (
                "ciphers",
                &["ciphers_client_to_server", "ciphers_server_to_client"],
            ),
            ("macs", &["macs_client_to_server", "macs_server_to_client"]),
            (
                "compression",
                &[
                    "compression_client_to_server",
                    "compression_server_to_client",
                ],
            ),
        ] {
            let set = fields
                .iter()
                .flat_map(|k| strings(array(&ssh[*k]), ""))
                .collect();
            f.insert(facet.to_owned(), set);
        }
        f.insert(
            "host_keys".into(),
            strings(array(&ssh["host_keys"]), "fingerprint_sha256"),
        );
    }
    f
}

/// The facets that differ.
fn compare(old: &Value, new: &Value) -> Vec<Change> {
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

fn target_text(t: &Value) -> String {
    let host = t["host"].as_str().unwrap_or_default();
    let ip = t["ip"].as_str().unwrap_or(host);
    let port = t["port"].as_u64().unwrap_or_default();
    let addr = if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    };
    if host == ip {
        addr
    } else {
        format!("{host} ({addr})")
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
                target: line["target"].clone(),
                service: line["service"].clone(),
                changes: Vec::new(),
            });
        }
    }
    for (key, line) in &new {
        match old.get(key) {
            None => drift.push(Drift {
                kind: "drift",
                change: "appeared",
                target: line["target"].clone(),
                service: line["service"].clone(),
                changes: Vec::new(),
            }),
            Some(before) => {
                let changes = compare(before, line);
                if !changes.is_empty() {
                    drift.push(Drift {
                        kind: "drift",
                        change: "changed",
                        target: line["target"].clone(),
                        service: line["service"].clone(),
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
                let endpoint = target_text(&d.target);
                let service = d.service.as_str().unwrap_or_default().to_owned();
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
