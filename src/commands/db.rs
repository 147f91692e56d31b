//! `fipsgate db list|show|check`.
use super::{covers, load_policies, CommandResult};
use crate::cli::{DbCommand, Format};
use crate::exit;
use crate::output::{print_json, print_text, Table};
use fipsgate_cipher_db::policy::{self, Policy, Reason};
use fipsgate_cipher_db::{Item, Kind, Verdict};
use serde::Serialize;
use std::collections::BTreeMap;

/// One algorithm with its verdicts, as `db list` and `db show` print it.
#[derive(Serialize)]
struct ItemView<'a> {
    kind: Kind,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    aliases: &'a [String],
    components: BTreeMap<&'static str, &'a str>,
    verdicts: Vec<PolicyVerdict>,
}

/// A policy's verdict on one item; `verdict` is absent when the policy does not cover the kind.
#[derive(Serialize)]
struct PolicyVerdict {
    policy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict: Option<Verdict>,
    reasons: Vec<Reason>,
}

fn view<'a>(item: &'a Item, policies: &[Policy]) -> ItemView<'a> {
    let verdicts = policies
        .iter()
        .map(|p| {
            if covers(p, item.kind) {
                let j = p.judge(item);
                PolicyVerdict {
                    policy: p.name.clone(),
                    verdict: Some(j.verdict),
                    reasons: j.reasons,
                }
            } else {
                PolicyVerdict {
                    policy: p.name.clone(),
                    verdict: None,
                    reasons: Vec::new(),
                }
            }
        })
        .collect();
    ItemView {
        kind: item.kind,
        name: &item.name,
        code: item.code_hex(),
        aliases: &item.aliases,
        components: item
            .components
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect(),
        verdicts,
    }
}

fn verdict_cell(v: &PolicyVerdict) -> String {
    v.verdict.map_or("-".to_owned(), |v| v.to_string())
}

/// Runs a `db` subcommand.
pub fn run(cmd: DbCommand) -> CommandResult {
    match cmd {
        DbCommand::List {
            kind,
            policies,
            format,
        } => list(kind.map(Into::into), &policies.names, format.format),
        DbCommand::Show { name, kind, format } => show(&name, kind.map(Into::into), format.format),
        DbCommand::Check {
            policy,
            kind,
            names,
            citizen_facing,
            format,
        } => {
            let mut policy = Policy::load(&policy)?;
            if citizen_facing {
                policy = policy.for_citizen_facing_servers();
            }
            check(&policy, kind.map(Into::into), &names, format.format)
        }
    }
}

fn list(kind: Option<Kind>, policy_names: &[String], format: Format) -> CommandResult {
    let policies = load_policies(policy_names)?;
    let kinds: Vec<Kind> = match kind {
        Some(k) => vec![k],
        None => Kind::ALL.into_iter().filter(|k| *k != Kind::Key).collect(),
    };
    let items: Vec<Item> = kinds.into_iter().flat_map(Item::all_of).collect();
    let views: Vec<ItemView<'_>> = items.iter().map(|i| view(i, &policies)).collect();
    match format {
        Format::Json => print_json(&views)?,
        Format::Text => {
            let mut header = vec!["KIND", "CODE", "NAME", "OTHER NAMES"];
            header.extend(policies.iter().map(|p| p.name.as_str()));
            let mut table = Table::new(&header);
            for v in &views {
                let mut row = vec![
                    v.kind.to_string(),
                    v.code.clone().unwrap_or_default(),
                    v.name.to_owned(),
                    v.aliases.join(" "),
                ];
                row.extend(v.verdicts.iter().map(verdict_cell));
                table.row(row);
            }
            print_text(&table.render())?;
        }
    }
    Ok(exit::OK)
}

fn show(name: &str, kind: Option<Kind>, format: Format) -> CommandResult {
    let items = Item::lookup(name, kind);
    if items.is_empty() {
        return Err(format!(
            "cipher-db knows no algorithm named {name:?} (try `fipsgate db list`)"
        )
        .into());
    }
    let policies = Policy::builtins()?;
    let views: Vec<ItemView<'_>> = items.iter().map(|i| view(i, &policies)).collect();
    match format {
        Format::Json => print_json(&views)?,
        Format::Text => {
            let mut out = String::new();
            for v in &views {
                let code = v
                    .code
                    .as_deref()
                    .map(|c| format!(" {c}"))
                    .unwrap_or_default();
                out.push_str(&format!("{}  ({}{code})\n", v.name, v.kind));
                if !v.aliases.is_empty() {
                    out.push_str(&format!("  also known as: {}\n", v.aliases.join(", ")));
                }
                let comps: Vec<String> = v
                    .components
                    .iter()
                    .map(|(k, val)| format!("{k}={val}"))
                    .collect();
                if !comps.is_empty() {
                    out.push_str(&format!("  components:    {}\n", comps.join(" ")));
                }
                let mut table = Table::new(&["  POLICY", "VERDICT", "REASON [SOURCE]"]);
                for pv in &v.verdicts {
                    if pv.verdict.is_none() {
                        table.row(vec![
                            format!("  {}", pv.policy),
                            "-".into(),
                            "does not judge this protocol".into(),
                        ]);
                        continue;
                    }
                    for (i, r) in pv.reasons.iter().enumerate() {
                        let (p, verdict) = if i == 0 {
                            (format!("  {}", pv.policy), verdict_cell(pv))
                        } else {
                            (String::new(), String::new())
                        };
                        table.row(vec![p, verdict, describe(r)]);
                    }
                }
                out.push_str(&table.render());
                out.push('\n');
            }
            print_text(&out)?;
        }
    }
    Ok(exit::OK)
}

/// `reason [SOURCE] (note) (unverified)` on one line.
fn describe(r: &Reason) -> String {
    let mut s = format!("{}: {} [{}]", r.verdict, r.reason, r.source);
    if let Some(n) = &r.note {
        s.push_str(&format!(" (note: {n})"));
    }
    if r.confidence == policy::Confidence::Unverified {
        s.push_str(" (unverified)");
    }
    s
}

/// One row of `db check`.
#[derive(Serialize)]
struct CheckRow {
    input: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<Kind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    verdict: Verdict,
    allowed: bool,
    reason: String,
    source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

#[derive(Serialize)]
struct CheckReport {
    policy: String,
    allowed: bool,
    items: Vec<CheckRow>,
}

/// sshd_config directives whose value is an algorithm list, and the list's kind.
fn sshd_directive_kind(word: &str) -> Option<Kind> {
    match word.to_ascii_lowercase().as_str() {
        "ciphers" => Some(Kind::SshCipher),
        "macs" => Some(Kind::SshMac),
        "kexalgorithms" => Some(Kind::SshKex),
        "hostkeyalgorithms"
        | "pubkeyacceptedalgorithms"
        | "pubkeyacceptedkeytypes"
        | "casignaturealgorithms"
        | "hostbasedacceptedalgorithms"
        | "hostbasedacceptedkeytypes" => Some(Kind::SshHostkey),
        _ => None,
    }
}

/// Splits pasted input on commas, colons and white space; a leading sshd directive sets the kind.
fn tokens(names: &[String], mut kind: Option<Kind>) -> (Vec<String>, Option<Kind>) {
    let mut words: Vec<String> = names
        .iter()
        .flat_map(|n| n.split(|c: char| c == ',' || c == ':' || c.is_whitespace()))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(k) = words.first().and_then(|w| sshd_directive_kind(w)) {
        kind = kind.or(Some(k));
        words.remove(0);
        if let Some(first) = words.first_mut() {
            if let Some(rest) = first.strip_prefix(['+', '^']) {
                *first = rest.to_owned();
            }
        }
    }
    (words, kind)
}

fn check(policy: &Policy, kind: Option<Kind>, names: &[String], format: Format) -> CommandResult {
    let (words, kind) = tokens(names, kind);
    if words.is_empty() {
        return Err("nothing to check: give algorithm names".into());
    }
    let mut rows = Vec::new();
    for word in &words {
        let found = Item::lookup(word, kind);
        if found.is_empty() {
            let hint = if word.starts_with(['!', '+', '-', '@'])
                || word.chars().all(|c| c.is_ascii_uppercase())
            {
                " (an OpenSSL cipher-string keyword? expand it first with `openssl ciphers -V`)"
            } else {
                ""
            };
            rows.push(CheckRow {
                input: word.clone(),
                kind,
                name: None,
                code: None,
                verdict: Verdict::Unknown,
                allowed: false,
                reason: format!("cipher-db does not know this name{hint}"),
                source: "POLICY".to_owned(),
                note: None,
            });
            continue;
        }
        for item in found {
            if !covers(policy, item.kind) {
                rows.push(CheckRow {
                    input: word.clone(),
                    kind: Some(item.kind),
                    name: Some(item.name.clone()),
                    code: item.code_hex(),
                    verdict: Verdict::Unknown,
                    allowed: false,
                    reason: format!("policy {} does not judge {}", policy.name, item.kind),
                    source: "POLICY".to_owned(),
                    note: None,
                });
                continue;
            }
            let j = policy.judge(&item);
            let primary = j
                .primary()
                .cloned()
                .unwrap_or_else(|| policy.default.clone());
            rows.push(CheckRow {
                input: word.clone(),
                kind: Some(item.kind),
                name: Some(item.name.clone()),
                code: item.code_hex(),
                verdict: j.verdict,
                allowed: j.verdict.is_allowed(),
                reason: primary.reason,
                source: primary.source,
                note: j.notes().next().map(str::to_owned),
            });
        }
    }
    let allowed = rows.iter().all(|r| r.allowed);
    let report = CheckReport {
        policy: policy.name.clone(),
        allowed,
        items: rows,
    };
    match format {
        Format::Json => print_json(&report)?,
        Format::Text => {
            let mut table = Table::new(&["INPUT", "KIND", "VERDICT", "REASON [SOURCE]"]);
            for r in &report.items {
                let mut reason = format!("{} [{}]", r.reason, r.source);
                if let Some(n) = &r.note {
                    reason.push_str(&format!(" (note: {n})"));
                }
                let kind = r.kind.map(|k| k.to_string()).unwrap_or_else(|| "?".into());
                table.row(vec![r.input.clone(), kind, r.verdict.to_string(), reason]);
            }
            let failing = report.items.iter().filter(|r| !r.allowed).count();
            let summary = if allowed {
                format!(
                    "\nall {} allowed under {}\n",
                    report.items.len(),
                    report.policy
                )
            } else {
                format!(
                    "\n{failing} of {} not allowed under {}\n",
                    report.items.len(),
                    report.policy
                )
            };
            print_text(&(table.render() + &summary))?;
        }
    }
    Ok(if allowed { exit::OK } else { exit::FINDINGS })
}
