//! `fipsgate policy list|show|validate`.
use super::CommandResult;
use crate::cli::{Format, PolicyCommand};
use crate::exit;
use crate::output::{print_json, print_text, Table};
use fipsgate_cipher_db::policy::{Policy, PolicySummary};
use serde::Serialize;
use std::path::Path;

/// Runs a `policy` subcommand.
pub fn run(cmd: PolicyCommand) -> CommandResult {
    match cmd {
        PolicyCommand::List(f) => list(f.format),
        PolicyCommand::Show {
            policy,
            as_of,
            format,
        } => show(&policy, as_of.as_deref(), format.format),
        PolicyCommand::Validate { file, format } => validate(&file, format.format),
    }
}

#[derive(Serialize)]
struct ListEntry<'a> {
    name: &'a str,
    title: &'a str,
    extends: Option<&'a str>,
    protocols: Vec<&'static str>,
    unverified_rules: usize,
}

fn protocols(p: &Policy) -> Vec<&'static str> {
    p.protocols
        .iter()
        .map(|pr| match pr {
            fipsgate_cipher_db::policy::Protocol::Tls => "tls",
            fipsgate_cipher_db::policy::Protocol::Ssh => "ssh",
        })
        .collect()
}

fn list(format: Format) -> CommandResult {
    let policies = Policy::builtins()?;
    let entries: Vec<ListEntry<'_>> = policies
        .iter()
        .map(|p| ListEntry {
            name: &p.name,
            title: &p.title,
            extends: p.extends.first().map(String::as_str),
            protocols: protocols(p),
            unverified_rules: p.unverified_rules(),
        })
        .collect();
    match format {
        Format::Json => print_json(&entries)?,
        Format::Text => {
            let mut table = Table::new(&["NAME", "EXTENDS", "PROTOCOLS", "TITLE"]);
            for e in &entries {
                table.row(vec![
                    e.name.into(),
                    e.extends.unwrap_or("-").into(),
                    e.protocols.join(","),
                    e.title.into(),
                ]);
            }
            print_text(&table.render())?;
        }
    }
    Ok(exit::OK)
}

fn show(name: &str, as_of: Option<&str>, format: Format) -> CommandResult {
    let policy = match as_of {
        Some(day) => Policy::load(name)?.at(day)?,
        None => Policy::load(name)?,
    };
    let summary: PolicySummary<'_> = policy.summary();
    match format {
        Format::Json => print_json(&summary)?,
        Format::Text => print_text(&render(&policy, &summary))?,
    }
    Ok(exit::OK)
}

fn render(policy: &Policy, s: &PolicySummary<'_>) -> String {
    let mut out = format!("{}  ({})\n{}\n", s.name, s.origin, s.title);
    if !s.description.is_empty() {
        out.push_str(&format!("{}\n", s.description));
    }
    if !s.extends.is_empty() {
        out.push_str(&format!("extends: {}\n", s.extends.join(" -> ")));
    }
    out.push_str(&format!("protocols: {}\n", protocols(policy).join(", ")));
    out.push_str(&format!(
        "keys: RSA >= {} bits, DH >= {} bits{}  [{}]\n",
        s.keys.rsa_min_bits,
        s.keys.dh_min_bits,
        if s.keys.dh_safe_prime_only {
            ", named safe primes only"
        } else {
            ""
        },
        s.keys.source
    ));
    out.push_str(&format!(
        "unlisted: {}: {} [{}]\n",
        s.default.verdict, s.default.reason, s.default.source
    ));
    if let Some(profile) = s.profile {
        out.push_str(&format!(
            "\nprofile ({:?}, source {}), in order:\n",
            profile.role, profile.source
        ));
        for (kind, list) in &profile.lists {
            let names: Vec<&str> = list.iter().map(|i| i.name.as_str()).collect();
            out.push_str(&format!("  {kind}: {}\n", names.join(",")));
        }
    }
    out.push_str("\nrules (later rules win):\n");
    let mut table = Table::new(&["  KIND", "MATCH", "VERDICT", "REASON [SOURCE]"]);
    for r in &s.rules {
        let matcher = match r.component {
            Some(c) => format!("{c} in {}", r.values.join("|")),
            None => format!("{} {}", r.selector, r.values.join(",")),
        };
        let mut reason = format!("{} [{}]", r.reason.reason, r.reason.source);
        if let Some(n) = &r.reason.note {
            reason.push_str(&format!(" (note: {n})"));
        }
        let kind = r.kind.map_or("any".to_owned(), |k| k.to_string());
        let verdict = match r.disallowed_after {
            Some(last) if s.as_of > last => format!("disallowed (after {last})"),
            Some(last) => format!("{} until {last}", r.reason.verdict),
            None => r.reason.verdict.to_string(),
        };
        table.row(vec![format!("  {kind}"), matcher, verdict, reason]);
    }
    out.push_str(&table.render());
    if !s.requirements.is_empty() {
        out.push_str("\nrequirements:\n");
        let mut table = Table::new(&["  FEATURE", "IF MISSING", "REASON [SOURCE]"]);
        for r in s.requirements {
            table.row(vec![
                format!("  {}", r.feature.as_str()),
                r.reason.verdict.to_string(),
                format!("{} [{}]", r.reason.reason, r.reason.source),
            ]);
        }
        out.push_str(&table.render());
    }
    out
}

#[derive(Serialize)]
struct Validation<'a> {
    file: &'a str,
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extends: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn validate(file: &str, format: Format) -> CommandResult {
    let result = Policy::from_file(Path::new(file));
    let report = match &result {
        Ok(p) => Validation {
            file,
            valid: true,
            name: Some(p.name.clone()),
            extends: p.extends.first().cloned(),
            error: None,
        },
        Err(e) => Validation {
            file,
            valid: false,
            name: None,
            extends: None,
            error: Some(e.to_string()),
        },
    };
    match (format, &result) {
        (Format::Json, _) => print_json(&report)?,
        (Format::Text, Ok(p)) => {
            let ext = p
                .extends
                .first()
                .map(|e| format!(", extends {e}"))
                .unwrap_or_default();
            print_text(&format!("{file}: valid policy {}{ext}\n", p.name))?;
        }
        (Format::Text, Err(e)) => eprintln!("fipsgate: {e}"),
    }
    Ok(if result.is_ok() {
        exit::OK
    } else {
        exit::USAGE
    })
}
